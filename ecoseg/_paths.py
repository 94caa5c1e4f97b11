"""Path helpers shared by the shells (``report``, ``napari``).

Public names in a private module: other ecoseg modules import them, users do not.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["find_video", "relpath"]


def find_video(recorded: str | os.PathLike | None, store: str | os.PathLike) -> Path | None:
    """The video a store was made from, if it can be found on this machine.

    The path recorded in the store's provenance is tried as it is (absolute, or relative to
    the working folder), then relative to the store's folder, then as a file of that name next
    to the store (a store moved together with its video). A video file or an image folder
    counts; a recorded URL, or a store at a URL, is only tried as recorded.

    Parameters
    ----------
    recorded : str, Path or None
        The video path from the store's provenance.
    store : str or Path
        Where the store is.

    Returns
    -------
    Path or None
        The first candidate that exists; ``None`` when nothing is recorded or found.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "T1.mp4").write_bytes(b"")
    >>> find_video("elsewhere/T1.mp4", d / "T1.zarr") == d / "T1.mp4"
    True
    >>> find_video("elsewhere/T2.mp4", d / "T2.zarr") is None
    True
    """
    if not recorded:
        return None
    text = os.fspath(recorded)
    if "://" in text:
        return None
    video = Path(text)
    candidates = [video]
    if "://" not in os.fspath(store):
        here = Path(store).parent
        if not video.is_absolute():
            candidates.append(here / video)
        candidates.append(here / video.name)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


def relpath(path: str | os.PathLike, start: str | os.PathLike) -> str:
    """``path`` relative to ``start`` with ``/`` separators, for display and manifests.

    A relative ``path`` is returned as it is; one on another drive stays absolute.

    Examples
    --------
    >>> relpath("/data/study/out/stores/a.zarr", "/data/study")
    'out/stores/a.zarr'
    >>> relpath("videos/a.mp4", "/data/study")
    'videos/a.mp4'
    """
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return Path(os.path.relpath(p, start)).as_posix()
    except ValueError:  # another drive on Windows
        return p.as_posix()
