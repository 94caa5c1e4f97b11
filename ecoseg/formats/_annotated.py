"""Annotations of some frames only: which frames a store or a file annotates, and what each
format can say about it.

A truth store imported from a CVAT task of every N-th frame (or of part of a video) records the
frames its annotator was shown (``provenance["annotated_frames"]``: ``start + k * step``,
``count`` of them, less any ``deleted`` in CVAT); the frames between are empty because nobody
looked, which is not "no animals". An export must keep that apart: CVAT writes those frames as
its task frames, COCO lists only them as images, YouTube-VIS only them as the video's frames,
DAVIS writes a PNG for them only; MOT, MOTS and VIAME have no way to list the frames a file
covers, so an export to them warns (:class:`UnannotatedFramesWarning`) that a reader will take
the other frames as empty. Readers of the formats that list their frames (COCO images, DAVIS
files, YouTube-VIS ``frame_indices``) give back those frames as :attr:`Annotations.annotated`
(:func:`listed_frames`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ecoseg._warn import warn
from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Annotations, Instance
from ecoseg.formats._values import ANOTHER_VIDEO
from ecoseg.provenance import AnnotatedFrames, describe_frames

__all__ = [
    "UnannotatedFramesWarning",
    "annotated_range",
    "check_annotated",
    "listed_frames",
    "off_grid",
    "refuse_none_annotated",
    "warn_unlisted",
]


class UnannotatedFramesWarning(UserWarning):
    """Frames nobody annotated will read as frames with no animals (a format that cannot
    list the frames it covers, or a file whose frames are not a regular grid)."""


def annotated_range(ann: Annotations) -> range | list[int] | None:
    """The frames ``ann`` annotates, or None when it annotates every frame: a range, or a
    sorted list when some frames of the range were deleted in CVAT.

    Examples
    --------
    >>> ann = Annotations(width=8, height=8, n_frames=12,
    ...                   annotated=AnnotatedFrames(start=1, step=5, count=3))
    >>> annotated_range(ann)
    range(1, 12, 5)
    >>> annotated_range(Annotations(width=8, height=8, n_frames=12)) is None
    True
    >>> annotated_range(Annotations(width=8, height=8, n_frames=4,
    ...                             annotated=AnnotatedFrames(count=4, deleted=(2,))))
    [0, 1, 3]
    """
    if ann.annotated is None:
        return None
    frames = ann.annotated.kept(ann.n_frames)
    return None if frames == range(ann.n_frames) else frames


def describe(ann: Annotations, frames) -> str:
    """:func:`describe_frames` of the annotated frames, naming the deleted ones.

    Examples
    --------
    >>> ann = Annotations(width=8, height=8, n_frames=12,
    ...                   annotated=AnnotatedFrames(start=0, step=5, count=3, deleted=(5,)))
    >>> describe(ann, annotated_range(ann))
    '0, 5, 10 (3 of 12, every 5th from 0) less 1 deleted in CVAT (5)'
    """
    if isinstance(frames, range):
        return describe_frames(frames, ann.n_frames)
    grid = ann.annotated.frames(ann.n_frames)
    gone = [f for f in ann.annotated.deleted if f in grid]
    shown = ", ".join(str(f) for f in gone[:3]) + (" ..." if len(gone) > 3 else "")
    return f"{describe_frames(grid, ann.n_frames)} less {len(gone)} deleted in CVAT ({shown})"


def check_annotated(ann: Annotations, format: str) -> range | None:
    """Before an export: the frames ``ann`` annotates (None: every frame); refuse a store
    with a mask on a frame it says was not annotated, and warn when ``format`` cannot list
    the annotated frames.

    Raises
    ------
    FormatError
        A mask lies on a frame outside the annotated frames (a store changed after import):
        no format could say both.

    Examples
    --------
    >>> import warnings
    >>> ann = Annotations(width=8, height=8, n_frames=11,
    ...                   annotated=AnnotatedFrames(start=0, step=5, count=3))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_annotated(ann, "mot")
    range(0, 11, 5)
    >>> print(caught[0].message)
    annotates frames 0, 5, 10 (3 of 11, every 5th from 0) only, but the mot format cannot say \
which frames were annotated: a reader will take the other 8 frames as frames with no animals \
(export to cvat, coco, ytvis or davis to keep them apart)
    """
    frames = annotated_range(ann)
    if frames is None:
        return None
    which = describe(ann, frames)
    for inst in ann.instances:
        if inst.frame not in frames:
            raise off_grid(ann, inst, frames)
    if format == "cvat" and not isinstance(frames, range):
        warn(
            f"{ann.source}{': ' if ann.source else ''}annotates frames {which} only, but a "
            "CVAT XML file cannot say which frames were deleted: they are written as task "
            "frames with no shapes (a track that was there ends on them), which a reader takes "
            "as frames with no animals",
            UnannotatedFramesWarning,
        )
    if format in ("mot", "mots", "viame"):
        warn(
            f"{ann.source}{': ' if ann.source else ''}annotates frames {which} only, but the "
            f"{format} format cannot say which frames were annotated: a reader will take the "
            f"other {ann.n_frames - len(frames)} frames as frames with no animals (export to "
            "cvat, coco, ytvis or davis to keep them apart)",
            UnannotatedFramesWarning,
        )
    return frames


def off_grid(ann: Annotations, inst: Instance, frames: range | list[int]) -> FormatError:
    """The refusal of a mask on a frame outside the annotated ``frames``
    (:func:`annotated_range`): no format could say both (see :func:`check_annotated`).

    Examples
    --------
    >>> ann = Annotations(width=8, height=8, n_frames=6, source="s.zarr",
    ...                   annotated=AnnotatedFrames(start=0, step=5, count=2))
    >>> print(off_grid(ann, Instance(2, 1, where="frame 2 object 1"), annotated_range(ann)))
    s.zarr: frame 2 object 1: has a mask, but the store's provenance says only frames 0, 5 \
(2 of 6, every 5th from 0) were annotated; fix its annotated_frames entry or the masks
    """
    return FormatError(
        f"{ann.source}: {inst.where}: has a mask, but the store's provenance says only "
        f"frames {describe(ann, frames)} were annotated; fix its annotated_frames entry or the "
        "masks"
    )


def refuse_none_annotated(ann: Annotations, what: str) -> None:
    """Refuse aligned annotations whose annotated frames cover none of the video's frames (a
    CVAT task that starts past the video's end, lists no frame, or whose every frame was
    deleted): a store of them would hold no frame anybody looked at, which ``ecoseg measure``
    refuses (:func:`ecoseg.measure.check_has_frames`); the import made it without a word.

    ``what`` names the file's frames (``"task frames"``).

    Raises
    ------
    FormatError
        Naming the file, its first frames and the video's frame count.

    Examples
    --------
    >>> ann = Annotations(width=8, height=8, n_frames=6, source="t.xml",
    ...                   annotated=AnnotatedFrames(start=100, step=5))
    >>> refuse_none_annotated(ann, "task frames")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.FormatError: t.xml: its task frames (100, 105, 110, ...) cover none of ...
    >>> refuse_none_annotated(Annotations(width=8, height=8, n_frames=6), "task frames")
    """
    a, n = ann.annotated, ann.n_frames
    if a is None or n == 0 or len(a.kept(n)):
        return
    covers = f"none of the video's {n} frames (0..{n - 1})"
    if a.count == 0:
        said = f"lists no {what} (a count of 0): it covers {covers}"
    else:
        first = [a.start + k * a.step for k in range(3 if a.count is None else min(a.count, 3))]
        shown = ", ".join(str(f) for f in first) + (", ..." if a.count != len(first) else "")
        if len(a.frames(n)):  # on the video, but deleted
            said = f"its {what} ({shown}) were all deleted in CVAT: it covers {covers}"
        else:
            said = f"its {what} ({shown}) cover {covers}"
    tail = f": {ANOTHER_VIDEO}" if a.count != 0 and a.start >= n else ""
    raise FormatError(
        f"{ann.source}: {said}, so nobody looked at any and there are no counts, MaxN or cover "
        f"to give{tail}"
    )


def listed_frames(frames: Iterable[int]) -> AnnotatedFrames | None:
    """The :class:`AnnotatedFrames` of the frames a file lists (COCO images, DAVIS PNGs),
    or None when they are no regular grid ``start + k * step`` (:func:`warn_unlisted` says so).

    Examples
    --------
    >>> listed_frames([10, 0, 5])
    AnnotatedFrames(start=0, step=5, count=3, deleted=(), extra={})
    >>> listed_frames([0, 1, 3]) is None
    True
    >>> listed_frames([4])
    AnnotatedFrames(start=4, step=1, count=1, deleted=(), extra={})
    """
    ordered = sorted(set(frames))
    if not ordered:
        return None
    step = ordered[1] - ordered[0] if len(ordered) > 1 else 1
    if ordered != list(range(ordered[0], ordered[-1] + 1, step)):
        return None
    return AnnotatedFrames(start=ordered[0], step=step, count=len(ordered))


def warn_unlisted(source: str, frames: Iterable[int], what: str) -> None:
    """Warn that a file lists an irregular set of frames (not ``start + k * step``): a store
    can record only a regular grid, so the frames it does not list are imported as empty.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_unlisted("a.json", [0, 1, 3], "images")
    >>> print(caught[0].message)
    a.json: lists images for frames 0, 1, 3 only, not every frame nor every N-th frame: a \
store records only a regular grid of annotated frames, so the frames the file does not list \
are imported as frames with no animals
    """
    listed = sorted(set(frames))
    shown = ", ".join(str(f) for f in listed[:5]) + (
        f" ... {listed[-1]}" if len(listed) > 5 else ""
    )
    warn(
        f"{source}: lists {what} for frames {shown} only, not every frame nor every N-th "
        "frame: a store records only a regular grid of annotated frames, so the frames the "
        "file does not list are imported as frames with no animals",
        UnannotatedFramesWarning,
    )
