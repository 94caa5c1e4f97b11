"""The videos of a campaign, checked before any work: two local files of the same bytes
(:func:`check_same_bytes`), a folder of videos given for its videos (:func:`check_folders`), a
frame rate for what is not an image folder (:func:`check_folder_rate`). Each would otherwise
fail, or be counted twice, video by video after the cluster started. And the tables a run
rewrites in ``OUT`` (:func:`check_own_tables`): a user's own file of such a name is refused,
not replaced; so is a user's own folder or file where a video's store goes
(:func:`check_store_places`), which each of the video's attempts failed on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecoseg.batch.urls import is_url, local_path, redact_url
from ecoseg.errors import ConfigError, VideoError
from ecoseg.measure._own_files import check_own_table

__all__ = [
    "check_folder_rate",
    "check_folders",
    "check_own_tables",
    "check_same_bytes",
    "check_store_places",
]


def check_own_tables(out: str, files: Sequence[str]) -> None:
    """Refuse a run that would replace a file of ``out`` (local) named as one of the tables
    ``files`` it writes (``batch-summary.csv``, ``campaign-counts.csv``, ...) that ecoseg did
    not write: every ecoseg campaign table starts with its ``video`` column (an empty file
    holds nothing to lose). One line naming the file, before any work, by the rule of every
    table writer (:func:`~ecoseg.measure._own_files.check_own_table`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "batch-summary.csv").write_text("video,store,status\\n")
    >>> check_own_tables(str(out), ["batch-summary.csv"])  # an earlier run's: rewritten
    >>> _ = (out / "batch-summary.csv").write_text("site,diver,notes\\nA,Kim,calm\\n")
    >>> check_own_tables(str(out), ["batch-summary.csv"])
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...batch-summary.csv: exists and is not a table ecoseg batch \
wrote (its first line is 'site,diver,notes', not 'video,...'); refusing to replace it (move it \
away or choose another output folder)
    """
    if "://" in out:
        return
    for name in files:
        check_own_table(Path(out) / name, ("video",), "ecoseg batch", with_overwrite=False)


def check_store_places(stores: Sequence[tuple[str, str, Any]]) -> None:
    """Refuse, before any work, a run whose store of a video (``(video, store, status)``,
    the status as the campaign read it: a ``StoreStatus``, or the error that reading the
    store raised) would go where something is that no ecoseg store is (a user's folder or
    file, another tool's zarr store: :func:`~ecoseg.store.identify.not_replaceable`), as
    ``ecoseg segment -o`` refuses it. One line naming it; it was submitted 1 + ``retries``
    times, each attempt failing on it. A store that reads as damaged but is ecoseg's (its
    arrays) is left to its task (resumed or reported).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.errors import StoreError
    >>> store = pathlib.Path(tempfile.mkdtemp()) / "T1.zarr"
    >>> _ = store.mkdir(), (store / "notes.txt").write_text("site A")
    >>> check_store_places([("T1.mp4", str(store), StoreError("not a mask store"))])
    Traceback (most recent call last):
    ecoseg.errors.StoreError: ...T1.zarr: exists and is not a zarr store (a folder); ecoseg \
batch writes the store of T1.mp4 there and will not replace it: move it away or choose another \
output folder
    """
    from ecoseg.errors import EcosegError, StoreError
    from ecoseg.store import Location
    from ecoseg.store.identify import not_replaceable

    for video, store, status in stores:
        if not isinstance(status, EcosegError):  # a store, none, or unreadable (OSError)
            continue
        kept = not_replaceable(Location(store))
        if kept is None:
            continue
        # "<store>: <what it is>; refusing ..." said as a batch's: no --overwrite to pass
        what = kept[len(str(Location(store))) :].split("; ", 1)[0]
        raise StoreError(
            f"{redact_url(store)}{what}; ecoseg batch writes the store of {redact_url(video)} "
            "there and will not replace it: move it away or choose another output folder"
        )


def check_folder_rate(fps: Any, videos: Sequence[str]) -> float:
    """``fps`` as a rate, for videos that are all local image folders (one-line errors)."""
    from ecoseg.io._common import not_a_folder
    from ecoseg.io.folder import check_fps

    try:
        rate = check_fps(fps)
    except VideoError as exc:
        raise ConfigError(f"fps (--fps): {exc}") from None
    for video in videos:
        if is_url(video) or not Path(local_path(video)).is_dir():
            raise ConfigError(
                f"{redact_url(video)}: fps (--fps) applies to image folders only; it is "
                f"{not_a_folder(local_path(video))} (give the image folders a batch of their own)"
            )
    return rate


def check_folders(videos: Sequence[str]) -> None:
    """Refuse, before any work, a local folder given as a video that holds no images (each
    task would fail on it, after its retries), naming the videos it holds at any depth: a
    campaign folder given where its video files go."""
    from ecoseg.io.folder import VIDEO_SUFFIXES, folder_images

    for video in videos:
        path = local_path(video)
        if is_url(video) or not os.path.isdir(path):
            continue
        try:
            folder_images(path)
        except VideoError:
            found = sorted(
                os.path.join(top, f)
                for top, _, files in os.walk(path)
                for f in files
                if os.path.splitext(f)[1].lower() in VIDEO_SUFFIXES
            )
            if not found:
                raise
            first = os.path.relpath(found[0], path) + (", ..." if len(found) > 1 else "")
            glob = os.path.join(video, "**", "*" + os.path.splitext(found[0])[1])
            raise VideoError(
                f"{redact_url(video)}: folder has no images, but {len(found)} video file(s) "
                f"in it or its sub-folders ({first}): give the video files, not their "
                f"folder (e.g. {redact_url(glob)} with bash's globstar)"
            ) from None


def check_same_bytes(videos: Sequence[str]) -> None:
    """Refuse, before any work, two local video files with the same bytes under two names
    (a copy): both would be segmented and measured, and their animals counted twice. Only
    files of equal size are hashed (:func:`ecoseg._hashing.cached_sha256_file`); empty files,
    image folders and URLs are not compared."""
    from ecoseg._hashing import cached_sha256_file

    by_size: dict[int, list[str]] = {}
    for video in videos:
        path = local_path(video)
        if not is_url(video) and os.path.isfile(path) and os.path.getsize(path) > 0:
            by_size.setdefault(os.path.getsize(path), []).append(video)
    for group in by_size.values():
        seen: dict[str, str] = {}
        for video in group if len(group) > 1 else ():
            digest = cached_sha256_file(local_path(video))
            if digest in seen:
                raise ConfigError(
                    f"{redact_url(seen[digest])} and {redact_url(video)} are the same video "
                    "(the same bytes): its animals would be counted twice; remove one of them "
                    "from the campaign"
                )
            seen[digest] = video
