"""Helpers shared by the readers: path checks, one-line error reasons, freed memory."""

from __future__ import annotations

import ctypes
import functools
import math
import os
import sys
from pathlib import Path

from ecoseg._bundled import local_path
from ecoseg._checks import check_path_arg, number_text, short_repr
from ecoseg.errors import ConfigError, VideoError

__all__ = [
    "DEFAULT_FPS",
    "IMAGE_SUFFIXES",
    "check_fps",
    "check_path",
    "describe_error",
    "missing_video",
    "not_a_folder",
    "release_freed_memory",
]

#: Frames per second assumed where the source gives no time: an image folder opened without
#: ``fps`` (frame ``i`` at ``i / DEFAULT_FPS`` s), and a video stream with neither
#: timestamps nor a declared rate. The one place this number lives.
DEFAULT_FPS = 30.0

#: File name endings read as images when a folder is opened (compared case-insensitively).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})


def missing_video(path: object) -> str:
    """The one wording of a video file or image folder that is not there, for ``segment``,
    ``batch``, a study file and a photo survey alike (they said "video file not found",
    "no such image or folder" and "no such file or directory").

    Examples
    --------
    >>> missing_video("dive.mp4")
    'dive.mp4: no such file or directory'
    """
    return f"{path}: no such file or directory"


def not_a_folder(path: object) -> str:
    """What a file given a frame rate is, in the one wording of ``segment``, ``batch``,
    ``import`` and a study's ``fps:``: a rate times an image folder only, not a single image
    (``photo.jpg --fps 5`` was called a video file) nor a video file.

    Examples
    --------
    >>> not_a_folder("reef/photo.JPG")
    'a single image (a photograph), which has no time axis'
    >>> not_a_folder("dive.mp4")
    'a video file, timed by its own timestamps'
    """
    if os.path.splitext(os.fspath(path))[1].lower() in IMAGE_SUFFIXES:  # type: ignore[arg-type]
        return "a single image (a photograph), which has no time axis"
    return "a video file, timed by its own timestamps"


def check_fps(fps: object, where: object = "", *, text: bool = False) -> float:
    """``fps`` as a frame rate: a finite number of frames per second above 0.

    Parameters
    ----------
    fps : object
        The rate given.
    where : object
        What the message names first (the folder), if anything.
    text : bool
        Read text (``"2.5"``, as typed after ``--fps`` or in a form); from Python a number is
        a number, and text (``fps="10"``) is refused as every number given as text is.

    Raises
    ------
    ecoseg.errors.VideoError
        One line: not a number, not finite, or not above 0 (``True`` is not a rate either).

    Examples
    --------
    >>> check_fps(10), check_fps("2.5", text=True)
    (10.0, 2.5)
    >>> check_fps("10", "timelapse")
    Traceback (most recent call last):
    ecoseg.errors.VideoError: timelapse: bad fps '10' for an image folder; expected a number > 0, \
not text (fps=10)
    >>> check_fps(float("inf"), "timelapse")
    Traceback (most recent call last):
    ecoseg.errors.VideoError: timelapse: bad fps inf for an image folder; expected a number > 0
    """
    prefix = f"{where}: " if where != "" else ""
    if isinstance(fps, str | bytes) and not text:  # fps="10" from a notebook
        try:
            hint = f" (fps={number_text(float(fps))})"
        except (TypeError, ValueError):
            hint = ""
        raise VideoError(
            f"{prefix}bad fps {short_repr(fps)} for an image folder; expected a number > 0, not "
            f"text{hint}"
        )
    try:
        rate = float("nan") if isinstance(fps, bool) else float(fps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        rate = float("nan")
    if not (math.isfinite(rate) and rate > 0):
        raise VideoError(f"{prefix}bad fps {fps!r} for an image folder; expected a number > 0")
    return rate


def describe_error(e: BaseException) -> str:
    """An exception as one line: its OS reason, message or type name."""
    msg = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return " ".join(str(msg).split())


def check_path(path) -> Path:
    """``path`` as a Path that exists and, for a file, is readable and not empty.

    An empty path is refused (``Path("")`` is the working folder, which then opened as an
    image folder or was named ``.`` in the error). The name of the bundled sample clip,
    ``ecoseg:sample/video.mp4``, is its file here (:func:`ecoseg._bundled.local_path`).

    Examples
    --------
    >>> check_path("")
    Traceback (most recent call last):
    ecoseg.errors.VideoError: '': an empty path is not a video or image folder
    """
    many = " (one video per call; ecoseg.batch.batch runs many)" * isinstance(path, list | tuple)
    check_path_arg(path, "video", "a path to a video or image folder", hint=many)
    text = os.fspath(path)
    if not str(text).strip():
        raise VideoError(f"{text!r}: an empty path is not a video or image folder")
    try:
        p = Path(local_path(text)).expanduser()
    except ConfigError as exc:  # an ecoseg: name of no shipped file, or one missing here
        raise VideoError(str(exc)) from None
    if not p.exists():
        raise VideoError(missing_video(p))
    if p.is_file():
        if not os.access(p, os.R_OK):
            raise VideoError(f"{p}: cannot read file (permission denied)")
        if p.stat().st_size == 0:
            raise VideoError(f"{p}: file is empty (0 bytes), not a video")
    return p


def release_freed_memory() -> bool:
    """Hand the memory the process has freed back to the system, where the C library can.

    A video decoder frees its pictures and contexts when it closes, but glibc's allocator
    keeps much of what was freed (in the arenas of the decoder's threads and under its raised
    mmap threshold): the process stayed about 100 MB larger after a 4K reader closed.
    ``malloc_trim(0)`` returns it (a fraction of a millisecond). A no-op, returning False,
    where there is none (macOS, Windows, C libraries other than glibc).

    Examples
    --------
    >>> release_freed_memory() in (True, False)
    True
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the process already has
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim
