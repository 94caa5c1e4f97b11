"""Annotation formats: export a mask store to, and import one from, the files other tools use.

======== ===================================== ======= ================================
name     what                                  kind    file
======== ===================================== ======= ================================
coco     COCO instance segmentation JSON       masks   one ``.json`` (image = frame)
ytvis    YouTube-VIS / OVIS video JSON         masks   one ``.json`` (annotation = track)
mot      MOTChallenge 2D boxes                 boxes   one ``.txt``
mots     MOTS (MOTSChallenge / KITTI MOTS)     masks   one ``.txt`` (RLE per line)
cvat     CVAT for video 1.1 XML                masks   one ``.xml`` (track per mask)
viame    VIAME / DIVE CSV                      boxes   one ``.csv`` (optional polygons)
davis    DAVIS folder of indexed PNGs          masks   a folder, one PNG per frame
======== ===================================== ======= ================================

``cvat`` also reads CVAT for images 1.1 files (each shape an object of its own: identity is
not known).

:func:`export` writes a store in a format; :func:`read_annotations` reads a file against a
video (checking size and frames); :func:`import_annotations` turns it into a store (a truth
store for :func:`ecoseg.evaluate`); :func:`to_prompts` turns it into SAM 2 prompts with the
annotation's classes. See ``docs/formats.md`` for what each format keeps and loses.
This package reads and writes stores and files only (no torch, no engine).

Examples
--------
>>> import ecoseg, tempfile, os
>>> d = tempfile.mkdtemp()
>>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=3, size=(64, 48))
>>> path = export(clip.truth, "mot", os.path.join(d, "boxes.txt"))
>>> ann = read_annotations(path, "mot", clip.video)
>>> ann.n_frames, len(ann.tracks) > 0
(3, True)
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ecoseg._checks import check_path_arg, non_negative_int, short_repr, whole_number
from ecoseg._paths import check_file, check_outside_store, check_text_replaceable
from ecoseg._warn import warn
from ecoseg.errors import ConfigError, EmptyExportWarning, FormatError, PromptError
from ecoseg.formats._annotated import (
    UnannotatedFramesWarning,
    annotated_range,
    check_annotated,
    off_grid,
)
from ecoseg.formats._annotation_model import Annotations, Instance, Track, align_frames
from ecoseg.formats._files import check_output, file_sha256
from ecoseg.formats._left_out import ShapesLeftOutWarning, leave_out_beyond
from ecoseg.formats._painting import BoxesCutWarning, refuse_empty_shapes, warn_cut_boxes
from ecoseg.formats._stores import (  # noqa: F401
    mask_where,
    read_store,
    store_frames,
    store_head,
    store_labels,
    write_store,
)
from ecoseg.formats._values import SizeMismatch, size_differs
from ecoseg.provenance import created

__all__ = [
    "FORMATS",
    "Annotations",
    "BoxesCutWarning",
    "EmptyExportWarning",
    "Instance",
    "ShapesLeftOutWarning",
    "Track",
    "UnannotatedFramesWarning",
    "VideoInfo",
    "export",
    "read_annotations",
    "import_annotations",
    "annotated_frames",
    "to_prompts",
    "prompts_from_file",
    "format_module",
]

FORMATS = ("coco", "ytvis", "mot", "mots", "cvat", "viame", "davis")


def format_module(name: str) -> ModuleType:
    """The reader/writer module of a format name (case-insensitive).

    Raises
    ------
    FormatError
        Unknown format.
    """
    key = str(name).lower()
    if key not in FORMATS:
        raise FormatError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}")
    return import_module(f"ecoseg.formats.{key}")


@dataclass(frozen=True)
class VideoInfo:
    """What a reader needs to know about the video: size, frame times, provenance.

    Attributes
    ----------
    width, height : int
    times : ndarray of float64
        Frame times (s); ``len(times)`` is the number of frames.
    record : dict
        Provenance of the video (path, sha256, fps, size, frames).
    name : str
        The video's path, named where a file's size is not the video's ("" when unknown).
    """

    width: int
    height: int
    times: np.ndarray
    record: dict
    name: str = ""

    @classmethod
    def of(cls, video: Any, *, record: bool = False) -> VideoInfo:
        """From a video path, a VideoReader, a MaskStore or another VideoInfo.

        ``record=True`` also fills :attr:`record` (hashing the video file).
        """
        if isinstance(video, VideoInfo):
            return video
        from ecoseg.store import MaskStore

        if isinstance(video, MaskStore):
            times = video.read_time()
            record = dict(video.provenance.get("video") or {})
            return cls(video.width, video.height, times, record, str(record.get("path") or ""))
        from ecoseg.io.video import VideoReader, open_video

        reader = video if isinstance(video, VideoReader) else open_video(video)
        info = reader.record() if record else {}
        times = np.asarray(reader.times, np.float64)
        return cls(reader.width, reader.height, times, info, str(reader.path))


def export(
    store: Any,
    format: str,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: bool = False,
    polygons: bool = False,
) -> str:
    """Write a mask store in an annotation format.

    Parameters
    ----------
    store : MaskStore, str or Path
        The mask store.
    format : {"coco", "ytvis", "mot", "mots", "cvat", "viame", "davis"}
    path : str or Path
        Output file (a folder for ``davis``).
    overwrite : bool
        Replace an existing file or folder (once the new one is written: an export that
        fails leaves it as it was).
    progress : bool
        Show a progress bar over the frames, each read and written in turn ("reading masks";
        ``davis``: "writing PNGs"; ``cvat``: "writing CVAT", whose writing takes longer than
        the reading).
    polygons : bool
        ``viame`` only: add each object's outline as a ``(poly)`` field.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    FormatError
        Unknown format, an existing output without ``overwrite``, or a store the format cannot
        hold (DAVIS: object ids above 254; a mask on a frame the store says nobody annotated).
    StoreError
        The store is missing or malformed, or an interrupted ``ecoseg edit`` left it half
        written (:func:`ecoseg.store.check_finished`); nothing is written.
    TypeError
        ``path`` is not a path (``None``, a list).

    Warns
    -----
    UnannotatedFramesWarning
        The store annotates some frames only (``provenance["annotated_frames"]``, e.g. a CVAT
        task of every 5th frame) and the format cannot list them (``mot``, ``mots``,
        ``viame``): a reader will take the other frames as frames with no animals. ``cvat``
        writes them as its task frames (``start_frame``, ``stop_frame``, ``frame_filter``),
        ``coco`` and ``ytvis`` list only them, ``davis`` writes a PNG for them only.
    EmptyExportWarning
        The store has no objects (or no masks): the output is written and holds no
        annotations.
    IncompleteStoreWarning
        The store's run did not finish (an interrupted ``ecoseg segment``): the output holds
        the frames written so far (:func:`ecoseg.measure.incomplete_note`, as ``measure`` says).

    Examples
    --------
    >>> import ecoseg, tempfile, os, json
    >>> d = tempfile.mkdtemp()
    >>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=2, size=(64, 48))
    >>> out = ecoseg.export(clip.truth, "coco", os.path.join(d, "masks.json"))
    >>> len(json.load(open(out))["images"])
    2
    """
    from ecoseg.measure import IncompleteStoreWarning, incomplete_note
    from ecoseg.store import opened_store

    module = format_module(format)
    check_path_arg(path, "export: path", "a path to the output file (a folder for davis)")
    if polygons and module.NAME != "viame":
        raise FormatError(f"polygons=True (--polygons) applies to the viame format, not {format}")
    out = check_output(path, overwrite)
    _check_replaceable(out, folder=module.NAME == "davis")
    check_outside_store(path, store, error=FormatError)  # its zarr.json, a zip store
    with opened_store(store) as st:  # one opened from a path is closed again
        head = store_head(st)  # no masks yet: read frame by frame while they are written
        options = _viame_options(st, polygons) if module.NAME == "viame" else {}
        note = incomplete_note(st, "the annotations")
        # written beside the output and swapped in at the end: an export that fails (DAVIS
        # ids above 254, a full disk, a mask off the annotated frames) leaves an earlier
        # output as it was
        full = out.resolve()  # a name to put the partial output beside, also for "-o ."
        remove_stale_partials(full)
        part = full.with_name(partial_name(full.name))
        if part.exists():
            _remove(part)
        desc = _WRITING.get(module.NAME, "reading masks")
        if hasattr(module, "write_labels"):  # label images: the store's frames as they are
            frames = _CheckedLabels(head, store_labels(st, head, progress=progress, desc=desc))
            write = module.write_labels
        else:
            frames = _Checked(head, store_frames(st, head, progress=progress, desc=desc))
            write = module.write_frames
        try:  # frame by frame: memory flat in the frames
            write(head, frames, part, **options)
            check_annotated(head, module.NAME)  # warn: a format that cannot list the frames
            if full.is_dir():
                _remove(full)  # a folder cannot be replaced in one step
            os.replace(part, full)
        finally:
            if part.exists():
                _remove(part)
    if not frames.instances:  # a valid file, but likely not what was meant: say so
        what = "objects" if not head.tracks else "masks"
        warn(
            f"{head.source}: the store has no {what}; {out} holds no annotations",
            EmptyExportWarning,
        )
    if note is not None:  # annotations of part of a video: written, and said so
        warn(note, IncompleteStoreWarning)
    return str(out)


class _Checked:
    """A store's frames as an export writes them: refused at the first mask on a frame the
    store says nobody annotated (:func:`~ecoseg.formats._annotated.off_grid`), counted."""

    def __init__(self, head: Annotations, frames: Iterator[tuple[int, Any]]):
        self.head, self.frames, self.instances = head, frames, 0
        kept = annotated_range(head)
        self.kept = kept if kept is None or isinstance(kept, range) else set(kept)

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        for t, frame in self.frames:
            n = self._count(frame)
            if n and self.kept is not None and t not in self.kept:
                raise off_grid(self.head, self._first(t, frame), annotated_range(self.head))
            self.instances += n
            yield t, frame

    def _count(self, items: list[Instance]) -> int:
        return len(items)

    def _first(self, t: int, items: list[Instance]) -> Instance:
        return items[0]


class _CheckedLabels(_Checked):
    """:class:`_Checked` over label frames (:func:`store_labels`): each object id present is
    an instance (store masks never overlap)."""

    def _count(self, lab: np.ndarray) -> int:
        from ecoseg.store import present_ids

        return int(present_ids(lab).size)

    def _first(self, t: int, lab: np.ndarray) -> Instance:
        from ecoseg.store import present_ids

        oid = int(present_ids(lab)[0])
        return Instance(frame=t, track=oid, where=mask_where(t, oid))


#: the bar of formats whose writing takes longer than reading the store (each frame read and
#: written in turn)
_WRITING = {"davis": "writing PNGs", "cvat": "writing CVAT"}


def _viame_options(store: Any, polygons: bool) -> dict[str, Any]:
    """The keywords of the viame writer beyond the masks: outlines or not, each object's class
    probability (classified objects only) and the video's frame rate."""
    probs = {
        oid: float(r.class_probability)
        for oid, r in store.object_records().items()
        if r.class_probability is not None
    }
    fps = (store.provenance.get("video") or {}).get("fps")
    return {"polygons": polygons, "probabilities": probs, "fps": fps}


def partial_name(name: str, pid: int | None = None) -> str:
    """The hidden name an export writes ``name`` under before renaming it: this machine's name
    and the process id, so a later export can tell a killed one's leftover from a running one.

    Examples
    --------
    >>> partial_name("masks.json", 42) == f".masks.json.partial-{host_tag()}-42"
    True
    """
    return f".{name}.partial-{host_tag()}-{os.getpid() if pid is None else pid}"


def host_tag() -> str:
    """This machine's name as it goes into a file name (``[A-Za-z0-9._-]`` only)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"


def remove_stale_partials(full: Path) -> list[Path]:
    """Remove what exports of ``full`` killed on this machine left beside it
    (``.NAME.partial-HOST-PID`` of a process that is gone, and its ``.spill`` file, where
    YouTube-VIS and CVAT keep each object's pieces; ``.NAME.partial-PID`` as older versions
    named it, taken as this machine's). Leftovers of a running process or of another
    machine (a shared disk: its processes cannot be checked) are left alone.

    Returns
    -------
    list of Path
        What was removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / ".a.json.partial-999999999").write_text("{")
    1
    >>> [p.name for p in remove_stale_partials(d / "a.json")]
    ['.a.json.partial-999999999']
    """
    from ecoseg.store.lock import pid_alive

    pattern = re.compile(rf"\.{re.escape(full.name)}\.partial-(?:(.+)-)?(\d+)(?:\.spill)?")
    host = host_tag()
    removed = []
    try:
        siblings = list(full.parent.iterdir())
    except OSError:
        return removed
    for p in siblings:
        match = pattern.fullmatch(p.name)
        if not match or match[1] not in (None, host):
            continue
        pid = int(match[2])
        if pid == os.getpid() or pid_alive(pid):
            continue
        try:
            _remove(p)
        except FileNotFoundError:
            continue  # another export removed it first
        removed.append(p)
    return removed


def _check_replaceable(path: Path, folder: bool) -> None:
    """Refuse, even with ``overwrite``, to replace what an export cannot have written: a folder
    or a binary file (a video, a zipped store) by a file format; a file, or a folder holding
    anything but PNGs (a mask store, a video folder), by ``davis``."""
    if not path.exists():
        return
    if not folder and path.is_dir():
        raise FormatError(
            f"{path}: is a folder; refusing to replace it even with overwrite "
            "(choose another output path)"
        )
    if not folder:  # every file format is text: not over a video, a zip store
        check_text_replaceable(path, error=FormatError)
    if folder and (
        not path.is_dir()
        or any(
            p.is_dir() or p.suffix.lower() != ".png"
            for p in path.iterdir()
            if not p.name.startswith(".")
        )
    ):
        raise FormatError(
            f"{path}: exists and is not a folder of PNG masks; refusing to replace it even "
            "with overwrite (choose another output path)"
        )


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def read_annotations(
    path: str | os.PathLike,
    format: str,
    video: Any,
    *,
    align: str = "index",
    first_frame: int | None = None,
) -> Annotations:
    """Read an annotation file and place it on the frames of a video.

    Parameters
    ----------
    path : str or Path
        The file (a folder for ``davis``).
    format : str
        One of :data:`FORMATS`.
    video : str, Path, VideoReader, MaskStore or VideoInfo
        The video the annotations belong to (its size, frame count and frame times).
    align : {"index", "time"}
        Frames by the file's frame numbers, or by its time stamps (``coco`` and ``ytvis`` as
        written by ecoseg, ``viame`` with ``HH:MM:SS.f`` stamps).
    first_frame : int, optional
        ``mots`` only: the number of the first frame (1 for MOTSChallenge, 0 for KITTI MOTS).

    Returns
    -------
    Annotations
        Frames are video frame indices; ``times`` are the video's.

    Raises
    ------
    FormatError
        The file is malformed or does not fit the video (size, frames past the end, a bad
        class column, every box outside the frame); the message names the line or element.

    Warns
    -----
    BoxesCutWarning
        Boxes lie wholly outside the frame (the animal out of view there): left out.
    ShapesLeftOutWarning
        Objects that no frame shows (every box outside the frame; a YouTube-VIS track whose
        every segmentation is null; CVAT tracks of points or with no visible shape): left out.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> f = os.path.join(tempfile.mkdtemp(), "gt.txt")
    >>> with open(f, "w") as fh:
    ...     print("1,7,10,20,30,40,0.9,-1,-1,-1", file=fh)
    >>> video = VideoInfo(width=640, height=360, times=np.arange(5) / 30, record={})
    >>> [(i.frame, i.track, i.box, i.score) for i in read_annotations(f, "mot", video).instances]
    [(0, 7, (10.0, 20.0, 40.0, 60.0), 0.9)]
    """
    ann, beyond = _read(path, format, video, align, first_frame)
    warn_cut_boxes(ann, beyond, stored=False)  # left out: they refused the whole file
    return ann


def _read(
    path, format: str, video: Any, align: str, first_frame: int | None
) -> tuple[Annotations, tuple]:
    """:func:`read_annotations`, and the boxes it left out as wholly outside the frame (one
    warning of the import counts them with those it cuts)."""
    module = format_module(format)
    info = VideoInfo.of(video)
    src = Path(path)
    if module.NAME == "davis":
        if not src.is_dir():
            raise FormatError(f"{src}: the davis format is a folder of PNG masks")
    else:  # an unzipped export (CVAT's annotations.xml) is a folder, not 'not found'
        check_file(src, f"{module.NAME} annotation file", kind=module.SUFFIX, error=FormatError)
    if align == "time" and not module.TIMES:
        raise FormatError(
            f"{src}: the {module.NAME} format has no time stamps; align by index "
            "(align='index', --align index)"
        )
    kwargs = {}
    if first_frame is not None:
        if module.NAME != "mots":
            raise FormatError(
                f"{src}: first_frame applies to the mots format only, not {module.NAME}"
            )
        kwargs["first_frame"] = non_negative_int(
            first_frame, "first_frame", where=src, error=FormatError
        )
    try:
        ann = module.read(src, width=info.width, height=info.height, **kwargs)
    except SizeMismatch as exc:  # which video: the file may be another's
        if not info.name:
            raise
        raise size_differs(*exc.parts, of=f"the video {info.name}") from None
    refuse_empty_shapes(ann)  # they were imported as nothing, without a word
    ann, beyond = leave_out_beyond(ann)  # out of view there: one row refused the whole file
    listed = ann.n_frames  # the frames the file lists, with no animals on some
    if align == "time" and ann.annotated is not None:
        ann = _listed_by_time(ann)
    aligned = align_frames(ann, info.times, align)  # an animal past the end: named
    n = aligned.n_frames
    if align == "index" and getattr(module, "LISTS", None) and listed > n:
        raise FormatError(  # frames with no animals there were dropped without a word
            f"{src}: its {module.LISTS} go on to frame {listed - 1}, past the end of the "
            f"video ({n} frames, 0..{n - 1}): is it the annotation of another video?"
        )
    return aligned, beyond


def _listed_by_time(ann: Annotations) -> Annotations:
    """Annotations aligned by time do not keep the frames the file lists (they are the file's
    frame numbers, not the video's): say so when those are not every frame of the file."""
    from dataclasses import replace

    if ann.annotated.frames(ann.n_frames) != range(ann.n_frames):
        warn(
            f"{ann.source}: lists some frames only, but aligned by time those are not recorded "
            "as the annotated frames: frames it does not list are imported as frames with no "
            "animals (align by index to keep them: align='index', --align index)",
            UnannotatedFramesWarning,
        )
    return replace(ann, annotated=None)


def import_annotations(
    path: str | os.PathLike,
    format: str,
    video: Any,
    out: Any,
    *,
    align: str = "index",
    overwrite: bool = False,
    progress: bool = False,
    chunk_frames: int = 4,
    first_frame: int | None = None,
) -> str:
    """Turn an annotation file into a mask store for ``video`` (e.g. a truth store).

    Masks are decoded as given; polygons are filled (pixel centres inside); box-only
    annotations become filled boxes, larger objects under smaller ones. Objects keep their ids
    and classes (source ``"imported"``); scores are the file's confidences (1.0 where it has
    none). The store's provenance names the file, its sha256 and format, and the video, and
    (``annotated_frames``) the frames the file annotates when that is not every frame (a CVAT
    task of every N-th frame): :func:`ecoseg.evaluate` scores on those frames only.

    Examples
    --------
    >>> import ecoseg, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=3, size=(64, 48))
    >>> f = ecoseg.export(clip.truth, "davis", os.path.join(d, "pngs"))
    >>> s = import_annotations(f, "davis", clip.video, os.path.join(d, "back.zarr"))
    >>> back = ecoseg.MaskStore.open(s).read_labels()
    >>> bool((back == ecoseg.MaskStore.open(clip.truth).read_labels()).all())
    True
    """
    from ecoseg._paths import check_overwrite
    from ecoseg.errors import StoreError
    from ecoseg.store import Location
    from ecoseg.store.identify import not_replaceable

    loc = Location(out)  # an existing store is refused before the file is parsed (as create)
    if (kept := not_replaceable(loc)) is not None:  # a file, a folder: even with overwrite
        raise StoreError(kept)
    check_overwrite(str(loc), overwrite, error=StoreError, exists=loc.exists())
    info = VideoInfo.of(video, record=True)
    ann, beyond = _read(path, format, info, align, first_frame)
    warn_cut_boxes(ann, beyond)  # they were cut (or left out) without a word
    provenance = {
        "engine": "import",
        "import": {
            "format": format_module(format).NAME,
            "file": Path(path).name,
            "sha256": file_sha256(path),
            "align": align,
            **({"first_frame": int(first_frame)} if first_frame is not None else {}),
        },
        "video": info.record,
        "created": created(),
    }
    annotated = annotated_frames(ann)
    if annotated is not None:
        provenance["annotated_frames"] = annotated
    return write_store(
        ann,
        out,
        provenance=provenance,
        overwrite=overwrite,
        chunk_frames=chunk_frames,
        progress=progress,
    )


def annotated_frames(ann: Annotations) -> dict | None:
    """The ``annotated_frames`` provenance entry of aligned annotations: the frames of the
    video the annotation covers (``start``, ``step``, ``count``), or None when it covers
    every frame.

    Examples
    --------
    >>> from ecoseg.provenance import AnnotatedFrames
    >>> ann = Annotations(width=8, height=8, n_frames=60,
    ...                   annotated=AnnotatedFrames(start=10, step=5, count=None))
    >>> annotated_frames(ann)
    {'start': 10, 'step': 5, 'count': 10}
    >>> annotated_frames(Annotations(width=8, height=8, n_frames=60)) is None
    True
    """
    if ann.annotated is None:
        return None
    frames = ann.annotated.frames(ann.n_frames)
    deleted = [f for f in ann.annotated.deleted if f in frames]
    if len(frames) == ann.n_frames and not deleted:
        return None  # every frame
    start = frames.start if len(frames) else min(ann.annotated.start, ann.n_frames)
    entry = {"start": start, "step": frames.step, "count": len(frames)}
    return {**entry, "deleted": deleted} if deleted else entry


def to_prompts(ann: Annotations, *, frames: Any = None) -> Any:
    """SAM 2 prompts from annotations: a mask prompt where there is a mask or polygon, else
    a box prompt, on every annotated frame (or only ``frames``); each object's class is the
    annotation's class (species).

    Returns
    -------
    ecoseg.prompts.Prompts

    Raises
    ------
    FormatError
        No annotation on the chosen frames.
    ConfigError
        ``frames`` is no list of whole frame numbers.
    TypeError
        ``ann`` is not :class:`Annotations` (a file: read it with :func:`read_annotations`).

    Examples
    --------
    >>> import numpy as np
    >>> ann = Annotations(width=64, height=48, n_frames=3, tracks=(Track(4, "grouper"),),
    ...                   instances=(Instance(frame=1, track=4, box=(5, 6, 20, 30)),))
    >>> p = to_prompts(ann)
    >>> p.classes(), p.frames(), p.at(1)[0][1].box.tolist()
    ({4: 'grouper'}, [1], [5.0, 6.0, 20.0, 30.0])
    """
    from ecoseg.formats._painting import rasterize
    from ecoseg.prompts import Prompts

    if not isinstance(ann, Annotations):  # the file itself: an AttributeError on .instances
        raise TypeError(
            "to_prompts: ann must be annotations read with read_annotations(path, format, "
            f"video), got {short_repr(ann)}"
        )
    try:
        if isinstance(frames, str | bytes):  # "12" is no list of frames 1 and 2
            raise TypeError(frames)
        wanted = None if frames is None else {whole_number(f) for f in frames}
    except (TypeError, ValueError):  # no list (5); a fraction (0.5 was frame 0)
        raise ConfigError(
            f"to_prompts: frames must be a list of frame numbers, got {short_repr(frames)}"
        ) from None
    shapes = []
    for inst in ann.instances:
        if wanted is not None and inst.frame not in wanted:
            continue
        if inst.rle is not None or inst.polygons:
            mask = rasterize(inst, ann.height, ann.width)
            if mask.any():
                shapes.append((inst.track, inst.frame, None, mask))
                continue
        box = inst.bounds()
        if box is not None:
            shapes.append((inst.track, inst.frame, box, None))
    if not shapes:
        raise FormatError(f"{ann.source}: no boxes or masks to prompt with")
    try:
        return Prompts.from_shapes(shapes, ann.class_of())
    except PromptError as exc:  # e.g. classes "Fish" and "fish": name the file
        raise PromptError(f"{ann.source}: {exc}") from None


def prompts_from_file(
    path: str | os.PathLike,
    format: str,
    video: Any,
    *,
    frames: Any = None,
    align: str = "index",
) -> Any:
    """SAM 2 prompts from another tool's annotation file (see :func:`to_prompts`).

    Examples
    --------
    >>> import ecoseg, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=3, size=(64, 48))
    >>> f = ecoseg.export(clip.truth, "viame", os.path.join(d, "boxes.csv"))
    >>> p = prompts_from_file(f, "viame", clip.video, frames=[0])
    >>> p.frames()
    [0]
    """
    ann = read_annotations(path, format, video, align=align)
    return to_prompts(ann, frames=frames)
