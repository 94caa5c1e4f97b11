"""Streaming video decode with true timestamps, seeking, and image folders.

:func:`open_video` opens a video file (anything FFmpeg reads: mp4, mov, avi, mkv, ...) or a
folder of numbered images behind one interface, :class:`VideoReader`:

* ``len(reader)``, ``reader.fps``, ``reader.size``, ``reader.duration``;
* ``reader.times``: per-frame times in seconds from the stream's presentation timestamps
  (PTS), read by demuxing packets without decoding them, so variable frame rate is real;
* iteration yields :class:`Frame` objects (``index``, ``time``, ``image`` (H, W, 3) uint8
  RGB) from a single streaming decoder, never the whole video in memory;
* ``reader.batches(n)`` groups frames into :class:`FrameBatch` arrays;
* ``reader.read(i)`` / ``reader[i]`` / ``reader.read_at(t)``: random access by seeking to the
  nearest keyframe before the frame and decoding forward to its exact PTS;
* optional ``crop=(x0, y0, x1, y1)`` (source pixels) then ``size=(width, height)`` resize.

Damaged files fail loudly: a frame the decoder rejects, marks corrupt, or silently drops (its
PTS was demuxed but no picture came out) raises :class:`~ecoseg.errors.VideoError` naming the
file, the frame index and its time.

The readers live in their own modules: :mod:`ecoseg.io.reader` (the :class:`VideoReader`
interface, :class:`Frame`, :class:`FrameBatch`), :mod:`ecoseg.io.videofile` (video files and
the decode path), :mod:`ecoseg.io.folder` (image folders) and :mod:`ecoseg.io._pyav` (PyAV
helpers). This module opens either and keeps the names importable from
``ecoseg.io.video``.
"""

from __future__ import annotations

import os

from ecoseg._hashing import cached_digest
from ecoseg.errors import VideoError
from ecoseg.io._common import check_path, not_a_folder
from ecoseg.io.folder import (
    DEFAULT_FPS,
    IMAGE_SUFFIXES,
    ImageFolderReader,
    exif_change,
    legacy_survey,
    legacy_survey_sha256,
    missing_frame,
    natural_key,
)
from ecoseg.io.reader import Frame, FrameBatch, FrameIndexError, VideoReader
from ecoseg.io.videofile import VideoFileReader, probe_file
from ecoseg.provenance import VideoSource

__all__ = [
    "DEFAULT_FPS",
    "IMAGE_SUFFIXES",
    "Frame",
    "FrameBatch",
    "FrameIndexError",
    "ImageFolderReader",
    "VideoFileReader",
    "VideoReader",
    "as_reader",
    "check_same_video",
    "missing_frame",
    "natural_key",
    "open_video",
    "probe_video",
    "video_mismatch",
]


def open_video(
    path: str | os.PathLike,
    *,
    size: tuple[int | None, int | None] | None = None,
    crop: tuple[int, int, int, int] | None = None,
    fps: float | None = None,
) -> VideoReader:
    """Open a video file or a folder of numbered images for streaming frame access.

    Parameters
    ----------
    path : str or os.PathLike
        A video file (anything FFmpeg reads: mp4, mov, avi, mkv, ...) or a folder of numbered
        JPEG/PNG/TIFF images (ordered by the numbers in their names).
    size : (width, height), optional
        Resize frames to this size (antialiased). One side may be None to keep the aspect
        ratio. Applied after ``crop``.
    crop : (x0, y0, x1, y1), optional
        Keep only this box, in source pixels (x1, y1 exclusive).
    fps : float, optional
        Frame rate of an image folder: frame ``i`` is at ``i / fps`` s (default
        :data:`DEFAULT_FPS`, 30: images carry no time, so give the real rate of a time-lapse
        or of frames extracted at another rate). Video files take their timing from their
        timestamps, so it is refused for them.

    Returns
    -------
    VideoReader
        :class:`VideoFileReader` or :class:`ImageFolderReader`.

    Raises
    ------
    ecoseg.errors.VideoError
        Missing, unreadable, empty or non-video input, no video stream, zero frames, a folder
        without images or with images of different sizes, a crop outside the frame, a bad size,
        ``fps`` that is not a number above 0, or ``fps`` for a video file or a single image.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp()
    >>> for i in range(4):
    ...     Image.fromarray(np.full((48, 64, 3), 60 * i, np.uint8)).save(f"{d}/{i}.jpg")
    >>> video = open_video(d, crop=(0, 0, 32, 48), size=(16, None), fps=25)
    >>> video.size, len(video), video[-1].time
    ((16, 24), 4, 0.12)
    """
    p = check_path(path)
    if p.is_dir():
        return ImageFolderReader(p, size=size, crop=crop, fps=fps)
    if fps is not None:
        raise VideoError(f"{p}: fps (--fps) applies to image folders only; it is {not_a_folder(p)}")
    return VideoFileReader(p, size=size, crop=crop)


def probe_video(path: str | os.PathLike) -> tuple[int, int]:
    """Check cheaply that :func:`open_video` opens ``path``, without indexing a whole file, and
    say the shape of its frames.

    A video file: its container, header and first frame (:func:`ecoseg.io.videofile.probe_file`:
    milliseconds however long the file, where :func:`open_video` demuxes every packet). An
    image folder: opened as :func:`open_video` opens it (its images' headers).

    Returns
    -------
    (height, width) : tuple of int
        The shape of the frames :func:`open_video` decodes without a crop or size
        (``frame.image.shape[:2]``): upright, footage with a display matrix and photos with
        an EXIF orientation turned as they are decoded.

    Raises
    ------
    ecoseg.errors.VideoError
        What :func:`open_video` refuses when it opens the file or folder (a cut-off MP4
        without its index, no video stream, a folder without images), or a first frame that
        does not decode; one line naming it.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> probe_video(clip.video)
    (48, 64)
    >>> probe_video(clip.truth)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.VideoError: ...truth.zarr: ...
    """
    p = check_path(path)
    if not p.is_dir():
        return probe_file(p)
    with ImageFolderReader(p) as reader:
        return reader.height, reader.width


def as_reader(video: str | os.PathLike | VideoReader, *, fps: float | None = None) -> VideoReader:
    """``video`` as a reader: a path opened by :func:`open_video` (at ``fps``), a reader as it is.

    The one opening of a video a run reads as frames (``segment``, ``import``): an image folder
    whose names carry no frame numbers is said to be read in name order, once, with a
    :class:`~ecoseg.io.VideoWarning` (:func:`ecoseg.io.folder.unnumbered_note`).

    Raises
    ------
    ecoseg.errors.VideoError
        What :func:`open_video` refuses, and ``fps`` with a reader (it keeps its own rate).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> reader = as_reader(clip.video)
    >>> as_reader(reader) is reader
    True
    >>> as_reader(reader, fps=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.VideoError: ...video.mp4: fps applies to a video given by its path; this reader \
keeps its own rate (open a folder with open_video(folder, fps=...))
    """
    if not isinstance(video, VideoReader):
        reader = open_video(video, fps=fps)
        note = getattr(reader, "order_note", None)
        if note is not None:  # an image folder with unnumbered names: said once, by its run
            from ecoseg._warn import warn
            from ecoseg.io._pyav import VideoWarning

            warn(note, VideoWarning)
        return reader
    if fps is not None:
        raise VideoError(
            f"{video.path}: fps applies to a video given by its path; this reader keeps its own "
            "rate (open a folder with open_video(folder, fps=...))"
        )
    return video


def video_mismatch(reader: VideoReader, recorded: VideoSource | None) -> str | None:
    """How ``reader`` differs from the video a store records, or ``None`` when it is that video.

    Compared in order of cost: the frame size, the frame count, the image names (a photo
    survey records them), then the sha256 when one is recorded (the whole source is read once,
    about 0.7 s of CPU per GB). An image folder is fingerprinted one way everywhere
    (:func:`ecoseg.io.folder.images_sha256`); a photo survey stored before that (``images``
    recorded without ``sha256_of``) hashed names and bytes only, and is compared with that
    scheme (:func:`ecoseg.io.folder.legacy_survey_sha256`), so a correct folder still matches.

    Parameters
    ----------
    reader : VideoReader
        The video at hand.
    recorded : VideoSource or None
        ``store.provenance_record.video``; ``None`` (nothing recorded) matches any video.

    Returns
    -------
    str or None
        What differs, in words (``"the sha256 differs"``), or ``None``.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> d = tempfile.mkdtemp()
    >>> a = ecoseg.synth(d + "/a", frames=3, size=(64, 48), seed=1)
    >>> made = VideoSource(path="a.mp4", size=(64, 48), frames=4)
    >>> video_mismatch(open_video(a.video), made)
    "it has 3 frames, the store's video 4"
    """
    if recorded is None:
        return None
    turned = exif_change(recorded, getattr(reader, "exif_upright", None), reader.size)
    if turned is not None:
        return turned
    size = recorded.frame_size
    if size is not None and (reader.width, reader.height) != size:
        return f"it is {reader.width}x{reader.height} px, the store's video {size[0]}x{size[1]}"
    if isinstance(recorded.frames, int) and len(reader) != recorded.frames:
        n = len(reader)
        return f"it has {n} frame{'s' if n != 1 else ''}, the store's video {recorded.frames}"
    extra = recorded.extra or {}
    names = extra.get("images")
    files = list(getattr(reader, "files", None) or [str(reader.path)])
    here = [os.path.basename(f) for f in files]
    if isinstance(names, list) and here != names:
        # name the first that differs (a renamed photograph), counted from 1 as a user would
        k = next((k for k, (a, b) in enumerate(zip(here, names)) if a != b), None)
        which = f" (image {k + 1}: {here[k]}, the store's {names[k]})" if k is not None else ""
        return f"its image names differ from those the store records{which}"
    if not recorded.sha256:
        return None
    if legacy_survey(recorded):  # a photo survey stored before one fingerprint
        digest = cached_digest("legacy-survey", files, lambda: legacy_survey_sha256(files))
    else:
        digest = reader.sha256()
    return None if digest == recorded.sha256 else "the sha256 differs"


def check_same_video(reader: VideoReader, recorded: VideoSource | None, store: object) -> None:
    """Refuse a video that is not the one ``store`` was made from.

    Compared with the store's provenance (``recorded``) by :func:`video_mismatch`: the frame
    size and frame count, then the sha256 when one is recorded (the whole file is read once,
    as ``segment`` did).

    Parameters
    ----------
    reader : VideoReader
        The video given for the store.
    recorded : VideoSource or None
        ``store.provenance_record.video``; ``None`` (nothing recorded) accepts any video.
    store : object
        The store, for the message.

    Raises
    ------
    ecoseg.errors.VideoError
        One line naming the video given, the store and the video it was made from.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> d = tempfile.mkdtemp()
    >>> a = ecoseg.synth(d + "/a", frames=3, size=(64, 48), seed=1)
    >>> b = ecoseg.synth(d + "/b", frames=3, size=(64, 48), seed=2)
    >>> made = VideoSource(path=str(a.video), sha256=open_video(a.video).sha256(), size=(64, 48))
    >>> check_same_video(open_video(a.video), made, "a.zarr")
    >>> check_same_video(open_video(b.video), made, "a.zarr")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.VideoError: .../b/video.mp4: not the video a.zarr was made from \
(.../a/video.mp4): the sha256 differs
    """
    why = video_mismatch(reader, recorded)
    if why is not None:
        made = f"not the video {store} was made from ({recorded.path or 'path not recorded'})"
        raise VideoError(f"{reader.path}: {made}: {why}")
