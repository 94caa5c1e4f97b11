"""The frames an imported annotation covers (``provenance["annotated_frames"]``), and
those frames in words.

:class:`AnnotatedFrames` is the record (``start + k * step``, ``count`` of them, less the
``deleted`` ones), e.g. a CVAT task of every 5th frame; :func:`describe_frames` says them for
people. Both are named by :mod:`ecoseg.provenance` too, where
:func:`~ecoseg.provenance.annotated_frames` reads them from a store's provenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ecoseg._record_json import (
    as_count,
    as_count_or_none,
    as_frames,
    expect_mapping,
    read_fields,
    write_fields,
)


@dataclass(frozen=True)
class AnnotatedFrames:
    """The frames a truth store's annotation covers (``provenance["annotated_frames"]``).

    Frames ``start + k * step`` for ``k = 0 .. count - 1``: a CVAT task of every ``step``-th
    video frame from ``start`` shows the annotator only those, so the frames between are
    empty because nobody looked, not because no animal was there. ``deleted`` lists frames of
    that grid the annotator deleted in CVAT (corrupt or unusable frames): they are not
    annotated either. A store without the entry annotates every frame.

    Examples
    --------
    >>> a = AnnotatedFrames.from_dict({"start": 10, "step": 5, "count": 4})
    >>> list(a.frames(40)), list(a.frames(22)), a.valid
    ([10, 15, 20, 25], [10, 15, 20], True)
    >>> a.to_dict()
    {'start': 10, 'step': 5, 'count': 4}
    >>> AnnotatedFrames.from_dict({"start": 0, "step": "5", "count": 4}).valid
    False
    >>> AnnotatedFrames(start=3, step=2).to_dict()
    {'start': 3, 'step': 2}
    >>> d = AnnotatedFrames.from_dict({"start": 0, "step": 5, "count": 4, "deleted": [10]})
    >>> d.kept(40), d.to_dict()["deleted"]
    ([0, 5, 15], [10])
    """

    start: int = 0
    step: int = 1
    count: int | None = None
    deleted: tuple[int, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _JSON_KEYS: ClassVar[dict[str, str]] = {k: k for k in ("start", "step", "count", "deleted")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnnotatedFrames:
        """Read the ``annotated_frames`` entry of a provenance record."""
        convert = {
            "start": as_count,
            "step": as_count,
            "count": as_count_or_none,
            "deleted": as_frames,
        }
        return cls(**read_fields(cls, expect_mapping(data, "annotated_frames"), convert))

    def to_dict(self) -> dict[str, Any]:
        """The JSON record (start and step always written; count when known)."""
        return write_fields(
            self,
            {"deleted": list},
            first=tuple(k for k in ("start", "step") if k not in self.extra),
        )

    @property
    def valid(self) -> bool:
        """Whether the entry is usable: integer start >= 0, step >= 1 and count >= 0."""
        return not (set(self._JSON_KEYS) & set(self.extra)) and self.step >= 1

    def frames(self, n_frames: int) -> range:
        """The annotated frames of a store of ``n_frames`` frames, in order."""
        stop = n_frames
        if self.count is not None:
            stop = min(stop, self.start + self.count * self.step)
        return range(self.start, max(stop, self.start), self.step)

    def kept(self, n_frames: int) -> range | list[int]:
        """:meth:`frames` less the ``deleted`` ones (a range when none was deleted)."""
        frames = self.frames(n_frames)
        if not self.deleted:
            return frames
        gone = set(self.deleted)
        return [f for f in frames if f not in gone]


def describe_frames(frames: range, n_frames: int) -> str:
    """The annotated frames of a store of ``n_frames`` frames in words, for people (``ecoseg
    info``, export warnings): the first three, the last, how many and the grid.

    Examples
    --------
    >>> describe_frames(range(0, 41, 5), 41)
    '0, 5, 10 ... 40 (9 of 41, every 5th from 0)'
    >>> describe_frames(range(10, 20), 41)
    '10, 11, 12 ... 19 (10 of 41, every frame from 10)'
    >>> describe_frames(range(3, 8, 2), 10)
    '3, 5, 7 (3 of 10, every 2nd from 3)'
    >>> describe_frames(range(0), 10)
    'none (0 of 10)'
    """
    if not len(frames):
        return f"none (0 of {n_frames})"
    shown = ", ".join(str(f) for f in frames[:3])
    if len(frames) > 4:
        shown += f" ... {frames[-1]}"
    elif len(frames) == 4:
        shown += f", {frames[-1]}"
    step = frames.step
    if step == 1:
        grid = "every frame"
    else:
        tens, last = step % 100 // 10, step % 10
        suffix = "th" if tens == 1 or last not in (1, 2, 3) else ("st", "nd", "rd")[last - 1]
        grid = f"every {step}{suffix}"
    return f"{shown} ({len(frames)} of {n_frames}, {grid} from {frames[0]})"
