"""Shared pieces of the format readers and writers: the in-memory annotation model, RLE and
box helpers (pycocotools), reading a store into annotations and writing annotations into a store.

Conventions
-----------
Boxes are ``(x0, y0, x1, y1)`` in pixel *edges*: pixel ``(row, col)`` covers
``[col, col + 1) x [row, row + 1)``, so the box of a one-pixel mask at column 4, row 7 is
``(4, 7, 5, 8)`` and ``x1 - x0`` is the width in pixels (as COCO's ``[x, y, w, h]`` and MOT's
``bb_width``). Polygons use the same coordinates; a pixel belongs to a polygon when its centre
``(col + 0.5, row + 0.5)`` is inside. Masks travel as COCO compressed RLE dicts
(``{"size": [h, w], "counts": str}``), encoded and decoded by pycocotools only.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._hashing import update_from_file
from ecoseg._paths import check_overwrite
from ecoseg.errors import FormatError
from ecoseg.provenance import AnnotatedFrames, created

__all__ = [
    "Track",
    "Instance",
    "Annotations",
    "file_annotations",
    "encode_masks",
    "decode_rle",
    "rle_runs",
    "check_rle",
    "rle_boxes",
    "rle_area",
    "mask_box",
    "rasterize",
    "paint_frame",
    "read_store",
    "write_store",
    "align_frames",
    "check_output",
    "file_sha256",
    "created",
    "palette",
    "number",
    "integer",
    "positive_id",
    "read_text",
    "read_table",
]


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Track:
    """One object (track) of an annotation file.

    Attributes
    ----------
    id : int
        Positive object id, the value of the object in the store's label images.
    class_ : str
        Class (species) name.
    """

    id: int
    class_: str = "unknown"


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
        ``(x0, y0, x1, y1)`` in pixel edges.
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
    """

    width: int
    height: int
    n_frames: int
    tracks: tuple[Track, ...] = ()
    instances: tuple[Instance, ...] = ()
    times: np.ndarray | None = field(default=None, repr=False)
    source: str = ""
    annotated: AnnotatedFrames | None = None

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
) -> Annotations:
    """Annotations read from the file ``path``, of ``n_frames`` frames (default: as many as
    reach the last annotated one, for a file that does not state the video's length).

    Examples
    --------
    >>> file_annotations("a.txt", 8, 6, [Track(1)], [Instance(4, 1, box=(0, 0, 2, 2))]).n_frames
    5
    """
    instances = tuple(instances)
    if n_frames is None:
        n_frames = max((i.frame for i in instances), default=-1) + 1
    return Annotations(
        width, height, n_frames, tuple(tracks), instances, source=str(path), annotated=annotated
    )


# --------------------------------------------------------------------------- RLE and boxes
def encode_masks(masks: np.ndarray) -> list[dict]:
    """Compressed COCO RLE of each of (N, H, W) boolean masks (pycocotools).

    Examples
    --------
    >>> m = np.zeros((1, 3, 4), bool); m[0, 1, 2] = True
    >>> encode_masks(m)[0]
    {'size': [3, 4], 'counts': '714'}
    """
    from pycocotools import mask as mask_utils

    masks = np.asarray(masks, dtype=bool)
    if masks.shape[0] == 0:
        return []
    encoded = mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))
    return [
        {"size": [int(s) for s in r["size"]], "counts": r["counts"].decode("ascii")}
        for r in encoded
    ]


def decode_rle(rle: Mapping, height: int, width: int, where: str) -> np.ndarray:
    """Boolean (H, W) mask of a COCO RLE (compressed string or uncompressed counts list).

    Raises
    ------
    FormatError
        The RLE is malformed or its size is not ``[height, width]``.

    Examples
    --------
    >>> decode_rle({"size": [3, 4], "counts": "714"}, 3, 4, "x").nonzero()
    (array([1]), array([2]))
    """
    from pycocotools import mask as mask_utils

    if not isinstance(rle, Mapping) or "size" not in rle or "counts" not in rle:
        raise FormatError(f"{where}: a mask must be an RLE object with 'size' and 'counts'")
    size = rle["size"]
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: RLE size {size!r} is not [height, width]") from None
    if (h, w) != (height, width):
        raise FormatError(f"{where}: mask size {w}x{h} differs from the video's {width}x{height}")
    counts = rle["counts"]
    try:
        if isinstance(counts, list):
            if sum(int(c) for c in counts) != h * w or any(int(c) < 0 for c in counts):
                raise ValueError("run lengths do not add up to height x width")
            coded = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
        elif isinstance(counts, str | bytes):
            check_rle(counts, h, w, where)  # pycocotools leaves a short mask's tail unset
            coded = {
                "size": [h, w],
                "counts": counts.encode() if isinstance(counts, str) else counts,
            }
        else:
            raise ValueError(f"counts of type {type(counts).__name__}")
        mask = mask_utils.decode(coded)
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{where}: RLE cannot be decoded ({exc})") from None
    return np.asarray(mask, dtype=bool).reshape(h, w)


def rle_runs(counts: str | bytes) -> np.ndarray:
    """Run lengths (int64) of a compressed COCO RLE string.

    Each run is a signed number written 5 bits per character (character code - 48; bit 0x20:
    more characters follow; bit 0x10 of the last character: negative); from the fourth run on,
    the number is the difference to the run two places before.

    Raises
    ------
    ValueError
        A character outside the RLE alphabet ('0'..'o') or a run left unfinished.

    Examples
    --------
    >>> rle_runs("714").tolist()
    [7, 1, 4]
    """
    raw = counts.encode("latin-1", "replace") if isinstance(counts, str) else bytes(counts)
    codes = np.frombuffer(raw, np.uint8).astype(np.int64) - 48
    if codes.size == 0:
        return np.zeros(0, np.int64)
    bad = np.flatnonzero((codes < 0) | (codes > 63))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"character {raw[k : k + 1].decode('latin-1')!r} at {k} is not RLE")
    last = (codes & 0x20) == 0  # the character that ends a run
    if not last[-1]:
        raise ValueError("the last run is cut off")
    ends = np.flatnonzero(last)
    starts = np.concatenate(([0], ends[:-1] + 1))
    group = np.repeat(np.arange(ends.size), ends - starts + 1)
    place = np.arange(codes.size) - starts[group]
    if place.max() > 11:  # no run of a mask fits 60 bits
        raise ValueError("a run is too long")
    values = np.zeros(ends.size, np.int64)
    np.add.at(values, group, (codes & 0x1F) << (5 * place))
    negative = (codes[ends] & 0x10) != 0
    values[negative] -= np.left_shift(1, 5 * (ends - starts + 1)[negative])
    for first in (1, 2):  # runs 3, 5, ... and 4, 6, ... are differences two places back
        chain = values[first::2]  # a view
        if chain.size > 1:
            chain[1:] = chain[0] + np.cumsum(chain[1:])
    return values


def check_rle(counts: str | bytes, height: int, width: int, where: str) -> None:
    """Refuse a compressed RLE string whose runs are malformed, negative or do not add up to
    ``height x width`` pixels (a truncated line or file), naming ``where``.

    Examples
    --------
    >>> check_rle("714", 3, 4, "x")
    >>> check_rle("71", 3, 4, "gt.txt: line 2")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: gt.txt: line 2: RLE cannot be decoded (its runs add up to 8 ...
    """
    try:
        runs = rle_runs(counts)
    except ValueError as exc:
        raise FormatError(f"{where}: RLE cannot be decoded ({exc})") from None
    if runs.size and runs.min() < 0:
        raise FormatError(f"{where}: RLE cannot be decoded (a run is negative)")
    total = int(runs.sum())
    if total != height * width:
        hint = "; cut short?" if total < height * width else ""
        raise FormatError(
            f"{where}: RLE cannot be decoded (its runs add up to {total} pixels, not "
            f"{height}x{width} = {height * width}{hint})"
        )


def rle_boxes(rles: list[dict]) -> list[tuple[float, float, float, float]]:
    """``(x0, y0, x1, y1)`` boxes (pixel edges) of compressed RLEs (pycocotools ``toBbox``)."""
    from pycocotools import mask as mask_utils

    if not rles:
        return []
    coded = [{"size": r["size"], "counts": r["counts"].encode()} for r in rles]
    boxes = np.atleast_2d(mask_utils.toBbox(coded))
    return [(x, y, x + w, y + h) for x, y, w, h in boxes.tolist()]


def rle_area(rle: dict) -> int:
    """Pixel count of a compressed RLE (pycocotools ``area``)."""
    from pycocotools import mask as mask_utils

    return int(mask_utils.area({"size": rle["size"], "counts": rle["counts"].encode()}))


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Box (pixel edges) of a boolean mask, None if it is empty.

    Examples
    --------
    >>> m = np.zeros((5, 6), bool); m[1:3, 2] = True
    >>> mask_box(m)
    (2, 1, 3, 3)
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def rasterize(inst: Instance, height: int, width: int) -> np.ndarray:
    """The instance's mask: its RLE, else its polygons (pixel centres inside), else its box."""
    if inst.rle is not None:
        return decode_rle(inst.rle, height, width, inst.where)
    mask = np.zeros((height, width), bool)
    if inst.polygons:
        from skimage.draw import polygon as draw_polygon

        for poly in inst.polygons:
            # pixel centres sit at integer + 0.5 in edge coordinates; skimage tests integers
            rr, cc = draw_polygon(poly[:, 1] - 0.5, poly[:, 0] - 0.5, shape=(height, width))
            mask[rr, cc] = True
        return mask
    if inst.box is not None:
        x0, y0, x1, y1 = inst.box
        c0, r0 = max(0, round(x0)), max(0, round(y0))
        c1, r1 = min(width, round(x1)), min(height, round(y1))
        mask[r0:r1, c0:c1] = True
    return mask


def paint_frame(instances: Iterable[Instance], height: int, width: int) -> np.ndarray:
    """Label image (uint32) of one frame's instances.

    Larger objects are painted first, so where masks or boxes overlap the smaller object stays
    visible (a box-only format then gives the covered object a smaller box).
    """
    labels = np.zeros((height, width), np.uint32)
    items = []
    for inst in instances:
        mask = rasterize(inst, height, width)
        items.append((int(mask.sum()), inst.track, mask))
    for _, track, mask in sorted(items, key=lambda item: (-item[0], item[1])):
        labels[mask] = track
    return labels


# --------------------------------------------------------------------------- stores
def read_store(store: Any, *, progress: bool = False) -> Annotations:
    """All masks, boxes, scores and classes of a mask store as :class:`Annotations`, with
    the frames it annotates (``annotated``) when its provenance names some frames only.

    Parameters
    ----------
    store : MaskStore, str or Path
    progress : bool
        Show a progress bar.

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-read-store", height=4, width=5, overwrite=True,
    ...                      objects=[(2, "crab", "truth")])
    >>> lab = np.zeros((2, 4, 5), np.uint32); lab[1, 1:3, 2:4] = 2
    >>> s.append(lab, [0.0, 0.5]); s.close()
    >>> ann = read_store("memory://doc-read-store")
    >>> [(i.frame, i.track, i.box, i.score) for i in ann.instances]
    [(1, 2, (2.0, 1.0, 4.0, 3.0), 1.0)]
    """
    from tqdm.auto import tqdm

    from ecoseg.store import check_finished, opened_store, present_ids

    with opened_store(store) as st:  # one opened from a path is closed again
        check_finished(st)
        n, h, w = st.n_frames, st.height, st.width
        times = st.read_time()
        scores = st.read_scores()
        column = {int(oid): k for k, oid in enumerate(st.object_ids)}
        tracks = tuple(Track(int(o["id"]), str(o.get("class") or "unknown")) for o in st.objects)
        instances: list[Instance] = []
        step = max(1, st.chunk_frames)
        with tqdm(total=n, desc="reading masks", unit="frame", disable=not progress) as bar:
            for start in range(0, n, step):
                block = st.read_labels(start, start + step)
                for k, lab in enumerate(block):
                    t = start + k
                    ids = present_ids(lab)
                    if ids.size == 0:
                        continue
                    rles = encode_masks(lab[None] == ids[:, None, None].astype(lab.dtype))
                    for oid, rle, box in zip(ids.tolist(), rles, rle_boxes(rles)):
                        instances.append(
                            Instance(
                                frame=t,
                                track=oid,
                                rle=rle,
                                box=box,
                                score=float(scores[t, column[oid]]),
                                time=float(times[t]),
                                where=f"frame {t} object {oid}",
                            )
                        )
                bar.update(len(block))
        return Annotations(
            width=w,
            height=h,
            n_frames=n,
            tracks=tracks,
            instances=tuple(instances),
            times=times,
            source=st.path,
            annotated=_annotated(st),
        )


def _annotated(st: Any) -> AnnotatedFrames | None:
    """The frames a store annotates, from its provenance (None: every frame)."""
    from ecoseg.provenance import annotated_frames

    n = st.n_frames
    kept = annotated_frames(st.provenance_record, n, st.path)  # refuses a malformed entry
    if kept == range(n):
        return None
    grid = st.provenance_record.annotated_frames.frames(n)
    gone = tuple(f for f in st.provenance_record.annotated_frames.deleted if f in grid)
    return AnnotatedFrames(start=grid.start, step=grid.step, count=len(grid), deleted=gone)


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
                    f"{ann.source}: {inst.where}: has no time; align by index instead"
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
        for inst in ann.instances:
            if not 0 <= inst.frame < n:
                raise FormatError(
                    f"{ann.source}: {inst.where}: frame {inst.frame} is past the end of the "
                    f"video ({n} frames, 0..{n - 1})"
                    if inst.frame >= n
                    else f"{ann.source}: {inst.where}: frame {inst.frame} is negative"
                )
            out.append(inst)
    seen: set[tuple[int, int]] = set()
    for inst in out:
        key = (inst.frame, inst.track)
        if key in seen:
            raise FormatError(
                f"{ann.source}: {inst.where}: object {inst.track} appears twice on frame "
                f"{inst.frame}"
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
    )


def write_store(
    ann: Annotations,
    out: Any,
    *,
    provenance: Mapping | None = None,
    overwrite: bool = False,
    chunk_frames: int = 4,
    progress: bool = False,
) -> str:
    """Write aligned annotations (frames = video frames, ``times`` set) into a new mask store.

    Scores: each instance's score on its frame (1.0 when the file has none), 0.0 elsewhere.
    """
    from tqdm.auto import tqdm

    from ecoseg.store import MaskStore, discard_on_failure

    if ann.times is None or len(ann.times) != ann.n_frames:
        raise FormatError(f"{ann.source}: frame times of the video are needed to write a store")
    objects = [{"id": t.id, "class": t.class_, "source": "imported"} for t in ann.tracks]
    column = {t.id: k for k, t in enumerate(ann.tracks)}
    frames = ann.by_frame()
    h, w = ann.height, ann.width
    store = MaskStore.create(
        out,
        height=h,
        width=w,
        chunk_frames=chunk_frames,
        objects=objects,
        provenance=dict(provenance or {}),
        overwrite=overwrite,
    )
    try:  # an import has no resume: a failed one leaves no half store to block the next
        with (
            discard_on_failure(store),
            tqdm(
                total=ann.n_frames, desc="writing store", unit="frame", disable=not progress
            ) as bar,
        ):
            for start in range(0, ann.n_frames, chunk_frames):
                stop = min(ann.n_frames, start + chunk_frames)
                labels = np.zeros((stop - start, h, w), np.uint32)
                scores = np.zeros((stop - start, len(column)), np.float32)
                for t in range(start, stop):
                    items = frames.get(t, [])
                    labels[t - start] = paint_frame(items, h, w)
                    for inst in items:
                        if (labels[t - start] == inst.track).any():
                            scores[t - start, column[inst.track]] = (
                                1.0 if inst.score is None else inst.score
                            )
                store.append(labels, ann.times[start:stop], scores)
                bar.update(stop - start)
            store.mark_complete()
    except FormatError as exc:
        if str(ann.source) not in str(exc):
            raise FormatError(f"{ann.source}: {exc}") from None  # name the file
        raise
    return str(out)


# --------------------------------------------------------------------------- small helpers
def check_output(path: str | os.PathLike, overwrite: bool) -> Path:
    """The output path; refuses to replace an existing file or folder without ``overwrite``."""
    path = Path(path)
    check_overwrite(path, overwrite, error=FormatError)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, or of a folder's files in name order."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        digest.update(p.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        update_from_file(digest, p)
    return digest.hexdigest()


def palette() -> np.ndarray:
    """The 256-colour palette of DAVIS / PASCAL VOC indexed PNGs, (256, 3) uint8.

    Colour ``i`` spreads the bits of ``i`` over the high bits of red, green and blue.

    Examples
    --------
    >>> palette()[:4].tolist()
    [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
    """
    idx = np.arange(256)
    pal = np.zeros((256, 3), np.uint8)
    for bit in range(8):
        for channel in range(3):
            pal[:, channel] |= (((idx >> (3 * bit + channel)) & 1) << (7 - bit)).astype(np.uint8)
    return pal


def number(value: Any, where: str, what: str) -> float:
    """A finite float, or FormatError naming ``where`` and ``what``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: {what} {value!r} is not a number") from None
    if not math.isfinite(out):
        raise FormatError(f"{where}: {what} {value!r} is not a finite number")
    return out


def integer(value: Any, where: str, what: str) -> int:
    """An integer (also from '12' or 12.0), or FormatError."""
    out = number(value, where, what)
    if out != int(out):
        raise FormatError(f"{where}: {what} {value!r} is not an integer")
    return int(out)


def positive_id(value: Any, where: str) -> int:
    """An object id in 1..2**32-1, or FormatError."""
    oid = integer(value, where, "object id")
    if not 0 < oid < 2**32:
        raise FormatError(f"{where}: object id {oid} is outside 1..4294967295")
    return oid


def read_text(path: Path) -> str:
    """A text file's content, read as UTF-8 (a byte order mark is dropped) whatever the
    computer's locale; FormatError naming the line of a byte that is not UTF-8.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "gt.csv"
    >>> _ = f.write_bytes("\\ufeffid,species\\n1,Ōtaki\\n".encode())
    >>> read_text(f).splitlines()
    ['id,species', '1,Ōtaki']
    >>> _ = f.write_bytes("id,species\\n1,Fran\\xe7ais\\n".encode("latin-1"))
    >>> read_text(f)
    Traceback (most recent call last):
    ecoseg.errors.FormatError: ...gt.csv: line 2: not UTF-8 text (byte 0xe7); save it as UTF-8
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FormatError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        ) from None


def read_table(path: Path, sep: str = ",") -> Any:
    """Data rows of a delimited text file as a DataFrame of strings (pandas).

    Rows may have different numbers of fields (missing ones are ``""``); blank lines and lines
    starting with ``#`` are dropped; the ``line`` column holds each row's 1-based line number.
    ``sep`` is ``","`` or ``" "`` (any run of spaces or tabs).
    """
    import csv
    import io

    import pandas as pd

    lines = read_text(path).splitlines()
    opened = None  # the line where a quoted field starts that no later line closes
    for k, line in enumerate(lines, 1):
        if line.count('"') % 2:
            opened = k if opened is None else None
    if opened is not None:
        raise FormatError(f'{path}: line {opened}: a quoted field (") is not closed (cut short?)')
    if sep == ",":
        width = max((len(row) for row in csv.reader(lines)), default=0)
        kwargs = {"sep": ",", "quotechar": '"'}
    else:
        width = max((len(line.split()) for line in lines), default=0)
        kwargs = {"sep": r"\s+", "engine": "python"}
    if width == 0:
        return pd.DataFrame({"line": pd.Series([], dtype=int)})
    try:
        table = pd.read_csv(
            io.StringIO("\n".join(lines)),
            header=None,
            names=list(range(width)),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            **kwargs,
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        reason = " ".join(str(exc).split())
        raise FormatError(f"{path}: not a readable table ({reason})") from None
    table = table.fillna("")
    table["line"] = np.arange(1, len(table) + 1)
    first = table[0].astype(str).str.strip()
    keep = (first != "") & ~first.str.startswith("#")
    return table[keep].reset_index(drop=True)
