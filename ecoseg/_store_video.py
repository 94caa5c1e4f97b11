"""The video a store was made from, on this machine: where it is now (:func:`find_video`: at
its recorded path, beside the store, or in a folder moved or copied whole with the store) and,
found nowhere, where it was looked for, in the one wording of every such message
(:func:`video_looked_in`).

Public names in a private module: other ecoseg modules import them, users do not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ecoseg._bundled import PREFIX, local_path
from ecoseg.errors import ConfigError

__all__ = ["find_video", "video_looked_in"]


def find_video(recorded: str | os.PathLike | None, store: str | os.PathLike) -> Path | None:
    """The video a store was made from, if it can be found on this machine.

    The path recorded in the store's provenance is tried as it is (absolute, or relative to
    the working folder), then relative to the store's folder, then as a file of that name next
    to the store (a store moved together with its video), then as a folder moved or copied
    whole with its stores and videos (a study or campaign folder on another disk or machine):
    the recorded path's last folders and name (two parts or more: ``a/video.mp4`` of
    ``/old/study/a/video.mp4``) under each folder above the store, the nearest first and the
    most parts first. A video file or an image folder counts; a recorded URL, or a store at a
    URL, is only tried as recorded; the name of a file ecoseg ships
    (``ecoseg:sample/video.mp4``, :mod:`ecoseg._bundled`) is that file here. Whether what is
    found is the store's video (its sha256) is the caller's check.

    Parameters
    ----------
    recorded : str, Path or None
        The video path from the store's provenance.
    store : str or Path
        Where the store is.

    Returns
    -------
    Path or None
        The first candidate that exists (relative to the working folder where ``store`` is
        given so); ``None`` when nothing is recorded or found.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "T1.mp4").write_bytes(b"")
    >>> find_video("elsewhere/T1.mp4", d / "T1.zarr") == d / "T1.mp4"
    True
    >>> find_video("elsewhere/T2.mp4", d / "T2.zarr") is None
    True
    >>> (d / "a").mkdir(); _ = (d / "a" / "video.mp4").write_bytes(b"")  # a moved study
    >>> find_video("/old/study/a/video.mp4", d / "out" / "stores" / "a.zarr") == d / "a/video.mp4"
    True
    """
    if not recorded or "://" in os.fspath(recorded):
        return None
    if os.fspath(recorded).startswith(PREFIX):  # ecoseg's bundled sample, by its name
        try:
            return Path(local_path(os.fspath(recorded)))
        except ConfigError:  # not in this installation
            return None
    for candidate in _candidates(Path(os.fspath(recorded)), store):
        if candidate.exists():
            return candidate
    if "://" in os.fspath(store):
        return None
    return _moved_with(Path(os.fspath(recorded)), Path(store))


def _candidates(video: Path, store: str | os.PathLike) -> list[Path]:
    """:func:`find_video`'s first tries, in order, each once: ``video`` as recorded, then
    relative to the store's folder and by name beside the store (a local store only)."""
    candidates = [video]
    if "://" not in os.fspath(store):
        here = Path(store).parent
        if not video.is_absolute():
            candidates.append(here / video)
        candidates.append(here / video.name)
    return list(dict.fromkeys(candidates))


def video_looked_in(
    recorded: str | os.PathLike,
    store: str | os.PathLike,
    shown: Any = None,
) -> str:
    """Where :func:`find_video` looked for a store's video it finds nowhere, in the one
    wording of every such message (``(PATH) is not found: `` goes before it): the recorded
    path as "that path" (tried from the current folder where it is relative), then each other
    place by its path, absolute or from the current folder as ``store`` is given, then the
    folders above the store.

    Parameters
    ----------
    recorded : str or Path
        The video path from the store's provenance.
    store : str or Path
        Where the store is, as given.
    shown : callable, optional
        How a place is shown (the report shows paths from where its commands run); default
        as found.

    Examples
    --------
    >>> print(video_looked_in("video.mp4", "moved/T1.zarr"))
    not at that path from the current folder, nor at moved/video.mp4, nor in a folder moved
    whole with the store
    >>> print(video_looked_in("/reef/T1.mp4", "T1.zarr"))
    not at that path, nor at T1.mp4, nor in a folder moved whole with the store
    >>> print(video_looked_in("T1.mp4", "s3://bucket/T1.zarr"))
    not at that path from the current folder
    """
    text = os.fspath(recorded)
    if "://" in text:
        return "a URL is not fetched to look for it"
    if text.startswith(PREFIX):
        return "a file ecoseg ships, missing from this installation"
    video = Path(text)
    first = "not at that path" + ("" if video.is_absolute() else " from the current folder")
    show = shown or str
    places = [first] + [f"nor at {show(p)}" for p in _candidates(video, store)[1:]]
    if "://" not in os.fspath(store):
        places.append("nor in a folder moved whole with the store")
    return ", ".join(places)


def _moved_with(video: Path, store: Path) -> Path | None:
    """:func:`find_video`'s last try: the recorded ``video``'s last parts (two or more) under
    each folder above ``store``, shown as ``store`` is (absolute, or from the working folder)."""
    parts = [p for p in video.parts if p not in (video.anchor, ".", "..")]
    tails = [Path(*parts[-n:]) for n in range(len(parts) - (video.is_absolute()), 1, -1)]
    if not tails:
        return None
    for above in Path(os.path.abspath(store)).parents:
        shown = above if store.is_absolute() else Path(os.path.relpath(above))
        for tail in tails:
            if (above / tail).exists():
                return shown / tail
    return None
