"""Helpers shared by the readers: path checks and one-line error reasons."""

from __future__ import annotations

import os
from pathlib import Path

from ecoseg.errors import VideoError

__all__ = ["check_path", "describe_error"]


def describe_error(e: BaseException) -> str:
    """An exception as one line: its OS reason, message or type name."""
    msg = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return " ".join(str(msg).split())


def check_path(path) -> Path:
    """``path`` as a Path that exists and, for a file, is readable and not empty.

    An empty path is refused (``Path("")`` is the working folder, which then opened as an
    image folder or was named ``.`` in the error).

    Examples
    --------
    >>> check_path("")
    Traceback (most recent call last):
    ecoseg.errors.VideoError: '': an empty path is not a video or image folder
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise VideoError(f"{text!r}: an empty path is not a video or image folder")
    p = Path(text).expanduser()
    if not p.exists():
        raise VideoError(f"{p}: no such file or directory")
    if p.is_file():
        if not os.access(p, os.R_OK):
            raise VideoError(f"{p}: cannot read file (permission denied)")
        if p.stat().st_size == 0:
            raise VideoError(f"{p}: file is empty (0 bytes), not a video")
    return p
