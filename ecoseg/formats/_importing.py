"""Import: an annotation file read against a video (:func:`read_annotations`, on the video's
size and frame times, :class:`VideoInfo`) and written as a mask store
(:func:`import_annotations`, with the frames it annotates: :func:`annotated_frames`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._checks import check_path_arg, non_negative_int
from ecoseg._paths import check_file
from ecoseg._warn import held, unsaid, warn
from ecoseg.errors import FormatError
from ecoseg.formats._annotated import UnannotatedFramesWarning, refuse_none_annotated
from ecoseg.formats._annotation_model import Annotations, align_frames
from ecoseg.formats._files import file_sha256
from ecoseg.formats._left_out import leave_out_beyond
from ecoseg.formats._painting import refuse_empty_shapes, warn_cut_boxes
from ecoseg.formats._registry import check_not_swapped, format_module
from ecoseg.formats._sniff import header_row_hint, other_format_hint
from ecoseg.formats._stores import write_store
from ecoseg.formats._values import ANOTHER_SIZE, ANOTHER_VIDEO, SizeMismatch, size_differs
from ecoseg.provenance import created, survey_video

__all__ = ["VideoInfo", "annotated_frames", "import_annotations", "is_survey", "read_annotations"]


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
    images : tuple of str, optional
        The file names of a folder's images (or of a photo survey's photographs), one per
        frame in frame order: a COCO, CVAT for images or YouTube-VIS file's images are
        matched to them by name (:func:`~ecoseg.formats._photo_names.folder_frames`). None
        for a video file.
    """

    width: int
    height: int
    times: np.ndarray
    record: dict
    name: str = ""
    images: tuple[str, ...] | None = None

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
            photos = video.provenance_record.photos
            photos = photos if photos is not None and len(photos) == len(times) else None
            path = str(record.get("path") or "")
            return cls(video.width, video.height, times, record, path, photos)
        from ecoseg.io.video import VideoReader, open_video

        reader = video if isinstance(video, VideoReader) else open_video(video)
        info = reader.record() if record else {}
        times = np.asarray(reader.times, np.float64)
        files = getattr(reader, "files", None)  # an image folder's, in frame order
        images = tuple(os.path.basename(f) for f in files) if files is not None else None
        return cls(reader.width, reader.height, times, info, str(reader.path), images)


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
        class column, every box outside the frame or many: ten or more and a quarter of its
        boxes, a CVAT task whose frames cover none of the video's); the message names the
        line or element.

    Warns
    -----
    BoxesCutWarning
        A few boxes lie wholly outside the frame (the animal out of view there): left out.
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


@held()
def _read(
    path, format: str, video: Any, align: str, first_frame: int | None
) -> tuple[Annotations, tuple]:
    """:func:`read_annotations`, and the boxes it left out as wholly outside the frame (one
    warning of the import counts them with those it cuts). The file's warnings (a CVAT task of
    every N-th frame) are said once it is accepted: a refusal after the read comes alone."""
    module = format_module(format)
    src = _source(path, module)  # the user's file named before the video: it is checked first
    with _file_first(src, module):  # a malformed file named before a video that cannot be read
        info = VideoInfo.of(video)
    if align == "time" and not module.TIMES:
        raise FormatError(
            f"{src}: the {module.NAME} format has no time stamps; align by index "
            "(align='index', --align index)"
        )
    kwargs = {}
    if align == "time" and module.NAME == "viame":
        kwargs["times"] = True  # a malformed stamp named as such, not as 'has no time'
    if getattr(module, "BY_NAME", False) and info.images is not None:
        kwargs["images"] = info.images  # its images matched to the folder's by name
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
        of = f"the video {info.name}" if info.name else "the video"
        error = SizeMismatch(f"{size_differs(*exc.parts, of=of)}: {ANOTHER_SIZE}")
        error.parts = exc.parts  # evaluate names the video its way
        raise error from None
    except FormatError as exc:  # a file of another format: say which it looks like
        raise _hinted(exc, src, module) from None
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
            f"video ({n} frame{'s' if n != 1 else ''}, 0..{n - 1}): {ANOTHER_VIDEO}"
        )
    refuse_none_annotated(aligned, getattr(module, "LISTS", None) or "annotated frames")
    return aligned, beyond


def _hinted(exc: FormatError, src: Path, module: Any) -> FormatError:
    """``exc``, a refusal of the file ``src``, with the format the file looks like where it
    looks like another (a header row, another format's file)."""
    hint = header_row_hint(src, module.NAME) or other_format_hint(src, module.NAME)
    return exc if hint is None else FormatError(f"{exc}; {hint}")


@contextmanager
def _file_first(src: Path, module: Any) -> Iterator[None]:
    """Where the video cannot be opened (a :class:`~ecoseg.errors.VideoError` in the block),
    refuse a malformed annotation file ``src`` first, as the file is checked before the video:
    the format's ``check_syntax``, which needs no video size (JSON, XML, a MOT, MOTS or VIAME
    file's rows; a DAVIS folder's PNGs are read at the video's size, so its video is named).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.errors import VideoError
    >>> from ecoseg.formats._registry import format_module
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = bad.write_text("{")
    >>> with _file_first(bad, format_module("coco")):  # doctest: +ELLIPSIS
    ...     raise VideoError("clip.mp4: cannot be decoded")
    Traceback (most recent call last):
    ...
    ecoseg.errors.FormatError: ...a.json: invalid JSON at line 1 column 2: ...
    """
    from ecoseg.errors import VideoError

    try:
        yield
    except VideoError:
        check = getattr(module, "check_syntax", None)
        if check is None:
            raise
        try:
            with unsaid(Warning):  # only whether it is refused counts here
                check(src)
        except FormatError as exc:
            raise _hinted(exc, src, module) from None
        raise


def _source(path, module) -> Path:
    """The annotation file (a folder for davis) as a Path, refused when it is not there or is
    of the other kind, or (davis) when the folder holds no PNG masks
    (:func:`~ecoseg.formats.davis.frame_files`: a folder of JPEG frames): checks that read no
    file, so :func:`import_annotations` makes them before it opens the video (also at
    ``--fps``) and before it refuses an existing output."""
    src = Path(path)
    if module.NAME == "davis":
        if not src.is_dir():
            raise FormatError(f"{src}: the davis format is a folder of PNG masks")
        module.frame_files(src)
    else:  # an unzipped export (CVAT's annotations.xml) is a folder, not 'not found'
        check_file(src, f"{module.NAME} annotation file", kind=module.SUFFIX, error=FormatError)
    return src


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
    photos: bool = True,
    fps: float | None = None,
) -> str:
    """Turn an annotation file into a mask store for ``video`` (e.g. a truth store).

    Masks are decoded as given; polygons are filled (pixel centres inside); box-only
    annotations become filled boxes, larger objects under smaller ones. Objects keep their ids
    and classes (source ``"imported"``); scores are the file's confidences (1.0 where it has
    none). The store's provenance names the file, its sha256 and format, and the video, and
    (``annotated_frames``) the frames the file annotates when that is not every frame (a CVAT
    task of every N-th frame): :func:`ecoseg.evaluate` scores on those frames only.

    A COCO, CVAT for images or YouTube-VIS file of a folder's photographs (:func:`is_survey`)
    makes a photo survey store, as
    ``ecoseg segment FOLDER --concepts`` does, unless ``photos=False`` (``ecoseg import
    --fps``: the folder is footage timed at that rate).

    ``fps``: the frame rate of a ``video`` that is a folder of images (``ecoseg import
    --fps``; refused for a video file, as :func:`~ecoseg.io.video.open_video` refuses it).
    The annotation file is checked first: a missing file (or a DAVIS folder without PNG
    masks) is named before a missing or bad video, and either before an existing output.

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
    from ecoseg._paths import check_overwrite, check_store_suffix
    from ecoseg.errors import StoreError
    from ecoseg.io._common import check_path
    from ecoseg.store import Location
    from ecoseg.store.identify import not_replaceable

    # a table read into pandas is no file: named, not "expected str, bytes or os.PathLike"
    check_not_swapped(format, path, "import_annotations(path, format, video, out)")
    check_path_arg(path, "import_annotations: path", "the annotation file (a folder for davis)")
    module = format_module(format)
    src = _source(path, module)  # a missing file or video is the real mistake: named before
    with _file_first(src, module):  # an existing output, as nothing is read (the file before
        if isinstance(video, str | os.PathLike):  # the video, as every command names its
            check_path(video)  # inputs: a malformed file too, _file_first)
        if fps is not None:  # an image folder timed at fps, opened after the file is checked
            from ecoseg.io.video import as_reader  # (the command opened it first, naming a

            video = as_reader(video, fps=fps)  # bad video before a missing file); a video
            # file refuses it
    loc = Location(out)  # an existing store is refused before the file is parsed (as create)
    if (kept := not_replaceable(loc)) is not None:  # a file, a folder: even with overwrite
        raise StoreError(kept)
    check_store_suffix(out, error=StoreError)  # -o x.json: a store so named, as segment's
    check_overwrite(str(loc), overwrite, error=StoreError, exists=loc.exists())
    with _file_first(src, module):
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
    if photos and align == "index" and is_survey(ann, info):  # made as segment makes a survey's
        provenance["video"] = survey_video(info.record, info.images)
        ann = replace(ann, times=np.arange(ann.n_frames, dtype=np.float64))
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


def is_survey(ann: Annotations, info: VideoInfo) -> bool:
    """Whether aligned annotations of an image folder are a photo survey's: their images were
    matched to the folder's photographs by name (a COCO file of still images, from ecoseg's
    survey export, CVAT, Roboflow ...) and no object is on two of them (a track through
    frames is footage). A store imported from them is then a survey, as ``ecoseg segment
    --concepts`` on the folder makes it: frames are photographs, not times.

    Examples
    --------
    >>> from ecoseg.formats._annotation_model import Instance, Track
    >>> info = VideoInfo(8, 6, np.arange(2) / 30, {}, images=("a.jpg", "b.jpg"))
    >>> box, tracks = (0.0, 0.0, 2.0, 2.0), (Track(1), Track(2))
    >>> ann = Annotations(8, 6, 2, tracks, (Instance(0, 1, box=box), Instance(1, 2, box=box)),
    ...                   image_names=("a.jpg", "b.jpg"))
    >>> is_survey(ann, info)
    True
    >>> is_survey(replace(ann, instances=(Instance(0, 1, box=box), Instance(1, 1, box=box))), info)
    False
    """
    if info.images is None or ann.image_names != info.images:
        return False
    frames: dict[int, int] = {}
    return all(frames.setdefault(i.track, i.frame) == i.frame for i in ann.instances)


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
