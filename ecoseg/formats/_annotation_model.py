"""The in-memory annotation model of the format readers and writers: objects (:class:`Track`),
an object on a frame (:class:`Instance`), the annotations of one video (:class:`Annotations`),
and mapping a file's frames onto the video's (:func:`align_frames`).

Boxes and polygons are in pixel edges (see :mod:`ecoseg.formats._common`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ecoseg._checks import few_items
from ecoseg.errors import FormatError
from ecoseg.formats._rle import rle_boxes
from ecoseg.formats._values import ANOTHER_VIDEO
from ecoseg.provenance import AnnotatedFrames

__all__ = ["Track", "Instance", "Annotations", "file_annotations", "align_frames"]


@dataclass(frozen=True)
class Track:
    """One object (track) of an annotation file.

    Attributes
    ----------
    id : int
        Positive object id, the value of the object in the store's label images.
    class_ : str
        Class (species) name.
    class_probability : float, optional
        The probability of that class (0..1), where the file gives one for the object (VIAME's
        species confidence, YouTube-VIS's track ``score`` of a results file, ecoseg's
        ``class_probability`` in COCO and YouTube-VIS); a store's object table keeps it.
    class_source : str, optional
        Where the class came from (one of :data:`ecoseg.provenance.CLASS_SOURCES`), where the
        file gives it (ecoseg's ``class_source`` in CVAT XML, COCO and YouTube-VIS); a store's
        object table keeps it (``reviewed``: with the reviewed flag set, as a review sets it,
        unless ``reviewed`` says otherwise).
    reviewed : bool, optional
        Whether a person reviewed the object, where that is not what its class source says
        (ecoseg's ``reviewed`` field, written only then): ``False`` for a ``reviewed`` class
        source that no review of this object gave (the new part of a split made before
        ecoseg's splits gave a person's name only as a suggestion: it kept the name and its
        source, not the reviewed flag); ``True`` for a reviewed object of another source (a
        store written before ``class_source`` existed). None: as the class source says
        (:attr:`is_reviewed`).
    """

    id: int
    class_: str = "unknown"
    class_probability: float | None = None
    class_source: str | None = None
    reviewed: bool | None = None

    @property
    def is_reviewed(self) -> bool:
        """Whether a store writes the object with the reviewed flag: :attr:`reviewed` where
        given, else whether its class source is ``reviewed`` (a person's word, which a review
        records with the flag).

        Examples
        --------
        >>> Track(3, "cod", 1.0, "reviewed").is_reviewed
        True
        >>> Track(4, "cod", 1.0, "reviewed", reviewed=False).is_reviewed
        False
        """
        if self.reviewed is not None:
            return self.reviewed
        return self.class_source == "reviewed"


@dataclass(frozen=True, eq=False)
class Instance:
    """One object on one frame.

    Attributes
    ----------
    frame : int
        0-based frame index as the file states it (before :func:`align_frames`).
    track : int
        Object id.
    rle : dict, optional
        Compressed COCO RLE of the mask at frame resolution.
    box : tuple of 4 float, optional
        ``(x0, y0, x1, y1)`` in pixel edges; with ``polygons``, the box they lie in (VIAME's
        box of a ``(poly)``, the box of a CVAT turned box's corners).
    polygons : tuple of (K, 2) float arrays
        Outlines ``(x, y)`` in pixel edges (rasterized when there is no ``rle``).
    score : float, optional
        Detection confidence / presence score on this frame.
    time : float, optional
        Seconds, where the file gives the frame's time.
    where : str
        Where the instance came from in its file (line or element), for error messages.
    """

    frame: int
    track: int
    rle: dict | None = None
    box: tuple[float, float, float, float] | None = None
    polygons: tuple[np.ndarray, ...] = ()
    score: float | None = None
    time: float | None = None
    where: str = ""

    def bounds(self) -> tuple[float, float, float, float] | None:
        """The box, else the box of the mask, else of the polygons (pixel edges)."""
        if self.box is not None:
            return self.box
        if self.rle is not None:
            return rle_boxes([self.rle])[0]
        if self.polygons:
            pts = np.concatenate(self.polygons)
            return (*pts.min(axis=0).tolist(), *pts.max(axis=0).tolist())
        return None


@dataclass(frozen=True, eq=False)
class Annotations:
    """The annotations of one video, as a format file holds them.

    Attributes
    ----------
    width, height : int
        Frame size in pixels.
    n_frames : int
        Number of frames of the video.
    tracks : tuple of Track
        Object table in id order.
    instances : tuple of Instance
        Sorted by frame, then by track.
    times : ndarray of float64, optional
        Frame times (s) of the video, when known.
    source : str
        The file (or store) it came from.
    annotated : AnnotatedFrames, optional
        The frames the file's annotator was shown (a CVAT task of every N-th frame or of part
        of the video); None: every frame.
    first_frame : int
        The number the file gives the video's first frame (MOT: 1, MOTS: 1 or ``first_frame``;
        0 for the others): messages name a frame as the file does. ``frame`` of the instances
        counts from 0 all the same.
    image_names : tuple of str, optional
        The file name of each frame where the frames are photographs (a photo survey:
        ``--concepts`` on images, whose provenance lists its ``images``; a COCO file whose
        images are a folder's photographs, matched to them by name); None: frames of a video.
    """

    width: int
    height: int
    n_frames: int
    tracks: tuple[Track, ...] = ()
    instances: tuple[Instance, ...] = ()
    times: np.ndarray | None = field(default=None, repr=False)
    source: str = ""
    annotated: AnnotatedFrames | None = None
    first_frame: int = 0
    image_names: tuple[str, ...] | None = None

    def __repr__(self) -> str:  # not every instance's RLE: megabytes of text in a notebook
        counts: dict[str, int] = {}
        for t in self.tracks:
            counts[t.class_] = counts.get(t.class_, 0) + 1
        frames = len({i.frame for i in self.instances})
        return (
            f"<Annotations {self.source!r}: {len(self.tracks)} tracks {few_items(counts)}, "
            f"{len(self.instances)} instances on {frames} of {self.n_frames} frames, "
            f"{self.width}x{self.height}>"
        )

    def __post_init__(self):
        tracks = tuple(sorted(self.tracks, key=lambda t: t.id))
        ids = [t.id for t in tracks]
        if len(set(ids)) != len(ids):
            raise FormatError(f"{self.source}: duplicate object id in the object table")
        known = set(ids)
        for inst in self.instances:
            if inst.track not in known:
                raise FormatError(
                    f"{self.source}: {inst.where}: object {inst.track} has no entry in the "
                    "object table"
                )
        instances = tuple(sorted(self.instances, key=lambda i: (i.frame, i.track)))
        object.__setattr__(self, "tracks", tracks)
        object.__setattr__(self, "instances", instances)

    @property
    def classes(self) -> list[str]:
        """Sorted distinct class names."""
        return sorted({t.class_ for t in self.tracks})

    def class_of(self) -> dict[int, str]:
        """Mapping object id -> class."""
        return {t.id: t.class_ for t in self.tracks}

    def by_frame(self) -> dict[int, list[Instance]]:
        """Instances grouped by frame index."""
        out: dict[int, list[Instance]] = {}
        for inst in self.instances:
            out.setdefault(inst.frame, []).append(inst)
        return out

    def frames(self) -> Iterator[tuple[int, list[Instance]]]:
        """Every frame ``0 .. n_frames - 1`` (and any later one an instance lies on) with its
        instances, in frame order: what a streaming writer takes (as from
        :func:`~ecoseg.formats._stores.store_frames`).

        Examples
        --------
        >>> ann = Annotations(width=8, height=8, n_frames=3,
        ...                   instances=(Instance(1, 4, box=(0, 0, 2, 2)),), tracks=(Track(4),))
        >>> [(t, [i.track for i in items]) for t, items in ann.frames()]
        [(0, []), (1, [4]), (2, [])]
        """
        grouped = self.by_frame()
        for t in sorted(set(range(self.n_frames)).union(grouped)):
            yield t, grouped.get(t, [])

    def by_track(self) -> dict[int, list[Instance]]:
        """Instances grouped by object id, each list in frame order."""
        out: dict[int, list[Instance]] = {t.id: [] for t in self.tracks}
        for inst in self.instances:
            out[inst.track].append(inst)
        return out

    def time_of(self, frame: int) -> float | None:
        """Time (s) of a frame, when the video's times are known."""
        if self.times is None or not 0 <= frame < len(self.times):
            return None
        return float(self.times[frame])


def file_annotations(
    path: Any,
    width: int,
    height: int,
    tracks: Iterable[Track],
    instances: Iterable[Instance],
    *,
    n_frames: int | None = None,
    annotated: AnnotatedFrames | None = None,
    first_frame: int = 0,
    image_names: tuple[str, ...] | None = None,
) -> Annotations:
    """Annotations read from the file ``path``, of ``n_frames`` frames (default: as many as
    reach the last annotated one, for a file that does not state the video's length), the
    frames photographs of those ``image_names`` where it names them.

    Examples
    --------
    >>> file_annotations("a.txt", 8, 6, [Track(1)], [Instance(4, 1, box=(0, 0, 2, 2))]).n_frames
    5
    """
    instances = tuple(instances)
    if n_frames is None:
        n_frames = max((i.frame for i in instances), default=-1) + 1
    return Annotations(
        width,
        height,
        n_frames,
        tuple(tracks),
        instances,
        source=str(path),
        annotated=annotated,
        first_frame=first_frame,
        image_names=image_names,
    )


def align_frames(ann: Annotations, times: np.ndarray, align: str = "index") -> Annotations:
    """Map the file's frames onto the video's frames, by index or by time.

    Parameters
    ----------
    ann : Annotations
        As read from a file (instance frames as the file states them).
    times : ndarray of float
        The video's frame times (s); its length is the number of frames.
    align : {"index", "time"}
        ``"time"`` puts each instance on the video frame nearest to its time (within half a
        frame interval); it needs a time on every instance.

    Raises
    ------
    FormatError
        An instance falls past the end of the video, before its start, or (by time) between
        frames; the message names the line or element.
    """
    times = np.asarray(times, np.float64)
    n = len(times)
    if align not in ("index", "time"):
        raise FormatError(f"align must be 'index' or 'time', got {align!r}")
    out = []
    if align == "time":
        if n == 0:
            raise FormatError(f"{ann.source}: the video has no frames")
        step = float(np.median(np.diff(times))) if n > 1 else 1.0
        for inst in ann.instances:
            if inst.time is None:
                raise FormatError(
                    f"{ann.source}: {inst.where}: has no time; align by index instead "
                    "(align='index', --align index)"
                )
            k = int(np.clip(np.searchsorted(times, inst.time), 1, max(n - 1, 1)))
            k = k - 1 if n == 1 or abs(times[k - 1] - inst.time) <= abs(times[k] - inst.time) else k
            if abs(times[k] - inst.time) > step / 2 + 1e-6:
                raise FormatError(
                    f"{ann.source}: {inst.where}: time {inst.time:.6f} s matches no video frame "
                    f"(video runs {times[0]:.3f}..{times[-1]:.3f} s)"
                )
            out.append(replace(inst, frame=k))
    else:
        first = ann.first_frame  # a frame is named as the file numbers it (MOT from 1)
        counted = f"; the file counts them from {first}: {first}..{n - 1 + first}" if first else ""
        for inst in ann.instances:
            if not 0 <= inst.frame < n:
                raise FormatError(
                    f"{ann.source}: {inst.where}: frame {inst.frame + first} is past the end of "
                    f"the video ({n} frame{'s' if n != 1 else ''}, 0..{n - 1}{counted}): "
                    f"{ANOTHER_VIDEO}"
                    if inst.frame >= n
                    else f"{ann.source}: {inst.where}: frame {inst.frame + first} is negative"
                )
            out.append(inst)
    offset = ann.first_frame if align == "index" else 0
    seen: set[tuple[int, int]] = set()
    for inst in out:
        key = (inst.frame, inst.track)
        if key in seen:
            raise FormatError(
                f"{ann.source}: {inst.where}: object {inst.track} appears twice on frame "
                f"{inst.frame + offset}"
            )
        seen.add(key)
    return Annotations(
        width=ann.width,
        height=ann.height,
        n_frames=n,
        tracks=ann.tracks,
        instances=tuple(out),
        times=times,
        source=ann.source,
        annotated=ann.annotated,
        first_frame=ann.first_frame,
        image_names=ann.image_names,
    )
