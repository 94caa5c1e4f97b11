"""Store names of a campaign: one per video, unique, and the same on every run.

A video's store is named after its file (``site-a/T1.mp4`` -> ``T1``). Videos that share a file
name in different folders (a GoPro campaign has ``GX010001.MP4`` in every site folder) are named
after their path from the folder they all share, the folders joined by ``__``
(``site-a/GX010001.MP4`` and ``site-b/GX010001.MP4`` -> ``site-a__GX010001`` and
``site-b__GX010001``). A store already in ``OUT`` that was made from the very video (the same
file name and, for a local file, the same bytes; for a URL the same URL) keeps its name
whatever else the run holds, so adding a site to a campaign, or re-running one video of it,
never renames or repeats a store that is there (:func:`store_names`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ecoseg._paths import folder_key, plain_name
from ecoseg.batch.urls import file_name, is_url, local_path, redact_url, video_name
from ecoseg.errors import ConfigError, EcosegError

__all__ = [
    "FOLDER_SEPARATOR",
    "PROBE_THREADS",
    "STATUS_THREADS",
    "check_names",
    "other_stores",
    "status_threads",
    "store_names",
    "url_check",
    "url_checks",
    "video_check",
    "video_replaced",
]

#: What joins the folders and the file name of a video named after its path.
FOLDER_SEPARATOR = "__"


def check_names(videos: Sequence[str]) -> list[str]:
    """The store name of each video from the videos alone: its file name, or for videos sharing
    a file name, its path from the folder they share (:data:`FOLDER_SEPARATOR` between parts).

    Parameters
    ----------
    videos : sequence of str
        Local paths or URLs.

    Returns
    -------
    list of str
        One name per video, in order.

    Raises
    ------
    ConfigError
        A name that is not a plain store name, a video given twice, or two names that are one
        folder on macOS and Windows (equal but for case).

    Examples
    --------
    >>> check_names(["field/site-a/GX010001.MP4", "field/site-b/GX010001.MP4", "x/T1.mp4"])
    ['site-a__GX010001', 'site-b__GX010001', 'T1']
    """
    if isinstance(videos, str | bytes | os.PathLike):  # "T1.mp4" was the videos 'T', '1', ...
        given = repr(os.fspath(videos))
        raise ConfigError(f"videos must be a list of videos, got {given} (videos=[{given}])")
    stems = []
    for video in videos:
        name = plain_name(video_name(video))
        if name is None:
            raise ConfigError(
                f"{redact_url(video)}: cannot name a store after it ({video_name(video)!r}); "
                "use letters, digits, spaces, '.', '_' and '-' in video file names"
            )
        stems.append(name)
    groups: dict[str, list[int]] = {}
    for i, stem in enumerate(stems):
        groups.setdefault(folder_key(stem), []).append(i)
    names = list(stems)
    for members in groups.values():
        if len(members) > 1:
            for i, name in zip(members, _path_names([videos[i] for i in members])):
                names[i] = name
    _check_unique(videos, names)
    return names


def _folders(video: str) -> list[str]:
    """The folders a video lies in, from the root (a URL's scheme and host first)."""
    if is_url(video):
        parts = urlsplit(redact_url(video))
        return [f"{parts.scheme}://{parts.netloc}"] + [
            p for p in posixpath.dirname(parts.path.rstrip("/")).split("/") if p
        ]
    path = os.path.abspath(local_path(video).rstrip("/\\") or "/")
    head, parts = os.path.dirname(path), []
    while True:
        head, part = os.path.split(head)
        if not part:
            return [head, *reversed(parts)]
        parts.append(part)


def _path_names(videos: Sequence[str]) -> list[str]:
    """Names of videos sharing a file name: their folders below the deepest one they share,
    then the file name."""
    folders = [_folders(v) for v in videos]
    shared = 0
    while all(len(f) > shared and f[shared] == folders[0][shared] for f in folders):
        shared += 1
    names = []
    for video, parts in zip(videos, folders):
        if len(parts) == shared:  # the same path given twice (or case twins in one folder)
            names.append(plain_name(video_name(video)) or "")
            continue
        bad = [p for p in parts[shared:] if plain_name(p) is None]
        if bad:
            raise ConfigError(
                f"{redact_url(video)}: its file name is used in other folders too, so its store "
                f"is named after its folders, but {bad[0]!r} cannot be part of a store name; "
                "use letters, digits, spaces, '.', '_' and '-' in folder names, or rename the "
                "video"
            )
        named = [plain_name(p) or p for p in parts[shared:]] + [plain_name(video_name(video))]
        names.append(FOLDER_SEPARATOR.join(named))
    return names


def _check_unique(videos: Sequence[str], names: Sequence[str]) -> None:
    seen: dict[str, tuple[str, str]] = {}
    for video, name in zip(videos, names):
        if (key := folder_key(name)) in seen:
            other, first = seen[key]
            if _same_video(first, video):
                raise ConfigError(
                    f"{redact_url(video)} is given twice; give each video once (its animals "
                    "would be counted twice)"
                )
            same = (
                f"the same store {name}.zarr"
                if other == name
                else f"stores {other}.zarr and {name}.zarr, one folder on macOS and Windows"
            )
            raise ConfigError(
                f"two videos would write {same}: {redact_url(first)} and {redact_url(video)}; "
                "rename one of them"
            )
        seen[key] = (name, video)


def _same_video(a: str, b: str) -> bool:
    if is_url(a) or is_url(b):
        return redact_url(a) == redact_url(b)
    return os.path.abspath(local_path(a)) == os.path.abspath(local_path(b))


def store_names(videos: Sequence[str], out: str | os.PathLike) -> list[str]:
    """The store name of each video of a run writing to ``out``: :func:`check_names`, except
    that a video whose store is already in ``out`` under another name (made in a run that held
    other videos) keeps that store's name.

    A store in ``out`` counts as this video's when its name is the video's file name or ends in
    ``__`` and the file name, and it records the video's file name and (local file) its bytes,
    or (URL) its URL. Nothing is renamed, moved or written.

    Parameters
    ----------
    videos : sequence of str
        Local paths or URLs.
    out : str or Path
        The run's output folder or URL.

    Returns
    -------
    list of str

    Raises
    ------
    ConfigError
        As :func:`check_names`, or two videos that would then share a store.

    Notes
    -----
    Only the videos with another store in ``out`` that could be theirs have stores read
    (their own name's first); where ``out`` is a URL, up to :data:`STATUS_THREADS` such
    videos at once (:func:`status_threads`), each video's stores one after another.

    Examples
    --------
    >>> import tempfile
    >>> store_names(["site-a/GX010001.MP4", "site-b/GX010001.MP4"], tempfile.mkdtemp())
    ['site-a__GX010001', 'site-b__GX010001']
    """
    from ecoseg.batch._threads import in_threads

    names = check_names(videos)
    out = os.fspath(out)
    others = other_stores(videos, names, out)
    maybe = [(i, videos[i], names[i], others[i]) for i in sorted(others)]
    kept = in_threads(lambda m: _kept_name(out, *m[1:]), maybe, status_threads(out))
    for (i, *_), name in zip(maybe, kept):
        names[i] = name
    _check_unique(videos, names)
    return names


def other_stores(
    videos: Sequence[str], names: Sequence[str], out: str | os.PathLike
) -> dict[int, list[str]]:
    """The stores in ``out`` that could be a video's under another name than its own in
    ``names`` (:func:`check_names`), by the video's index; a video none could be is left out:
    its name is final (:func:`store_names` keeps it). Only ``out`` is listed: no store is
    read and no video opened.

    Parameters
    ----------
    videos : sequence of str
        Local paths or URLs.
    names : sequence of str
        Their :func:`check_names`.
    out : str or Path
        The run's output folder or URL.

    Returns
    -------
    dict of int to list of str
        Names of the stores (sorted), for each video that has some.

    Examples
    --------
    >>> import tempfile, os
    >>> out = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(out, "site-a__GX010001.zarr"))
    >>> other_stores(["GX010001.MP4", "T1.mp4"], ["GX010001", "T1"], out)
    {0: ['site-a__GX010001']}
    """
    listed = _stores_in(os.fspath(out))
    taken = {folder_key(n) for n in names}  # (a store another video of the run is named for)
    found = {}
    for i, video in enumerate(videos):
        stem = folder_key(plain_name(video_name(video)) or "")
        others = [
            o
            for o in listed
            if folder_key(o) not in taken
            and (folder_key(o) == stem or folder_key(o).endswith(FOLDER_SEPARATOR + stem))
        ]
        if others:  # (else no other store could be this video's)
            found[i] = others
    return found


def _kept_name(out: str, video: str, name: str, others: Sequence[str]) -> str:
    """``name``, unless its store in ``out`` was not made from ``video`` and one of ``others``
    was (the first): that one's."""
    if _made_from(_store_status(out, name), video):
        return name
    return next((o for o in others if _made_from(_store_status(out, o), video)), name)


#: Stores of an ``out`` on remote storage (object storage, HTTP) read at once while a run is
#: planned, each a few small requests mostly waiting on the storage: the stores that could be
#: a video's (:func:`store_names`) and each video's store (``ecoseg.batch.batch``).
STATUS_THREADS = 16


def status_threads(out: str | os.PathLike) -> int:
    """How many stores of ``out`` are read at once: :data:`STATUS_THREADS` where ``out`` is a
    URL (zarr's reads go through its one event loop, which any thread may call), one on a
    local disk (a read there does not wait on a network).

    Examples
    --------
    >>> status_threads("s3://bucket/campaign"), status_threads("campaign/out")
    (16, 1)
    """
    return STATUS_THREADS if is_url(os.fspath(out)) else 1


def _stores_in(out: str) -> list[str]:
    """Names of the ``*.zarr`` entries in ``out`` (sorted), ``[]`` if it cannot be listed."""
    try:
        if "://" in out:
            import fsspec

            fs, path = fsspec.core.url_to_fs(out)
            entries = [posixpath.basename(p.rstrip("/")) for p in fs.ls(path, detail=False)]
        else:
            entries = os.listdir(out)
    except (OSError, ValueError, ImportError):
        return []
    return sorted(e[: -len(".zarr")] for e in entries if e.endswith(".zarr") and len(e) > 5)


def _store_status(out: str, name: str) -> Any:
    from ecoseg.batch.jobs import store_status
    from ecoseg.batch.urls import store_location

    try:
        return store_status(store_location(out, name))
    except (EcosegError, OSError):
        return None


def _made_from(status: Any, video: str) -> bool:
    """Whether a store (its :class:`~ecoseg.batch.jobs.StoreStatus`) was made from ``video``."""
    if status is None or status.state == "missing" or status.record is None:
        return False
    recorded = status.record.video
    if recorded is None or status.video != file_name(video):
        return False
    if is_url(video):
        return recorded.path == redact_url(video)
    if not getattr(recorded, "sha256", None):
        return False
    from ecoseg.io.video import open_video, video_mismatch

    try:  # (a video that cannot be read is no store's: video_replaced would pass it)
        with open_video(local_path(video)) as reader:
            return video_mismatch(reader, recorded) is None
    except (EcosegError, OSError):
        return False


def video_replaced(video: str | os.PathLike, recorded: Any) -> str | None:
    """How a local ``video`` differs from the one a store was made from (its file replaced by
    another of the same name), or ``None``: frame size and count, then the sha256 (read once,
    then remembered by :func:`ecoseg._hashing.cached_digest`). A URL, or a file that cannot be
    read, is not checked (``None``; :func:`video_check` tells that apart).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> from ecoseg.batch.jobs import store_status
    >>> video_replaced(clip.video, store_status(clip.truth).record.video) is None
    True
    """
    if recorded is None or not getattr(recorded, "sha256", None):
        return None
    return video_check(video, recorded)[0]


def video_check(video: str | os.PathLike, recorded: Any) -> tuple[str | None, str | None]:
    """A local ``video`` opened once: how it differs from the one a store was made from (as
    :func:`video_replaced`; ``None`` where ``recorded`` holds no sha256), and why it cannot be
    opened or read (its one-line error), each ``None`` where all is well. A URL is probed
    (:func:`~ecoseg.batch.jobs.probe_url`: its first bytes fetched, not the whole video): how
    it differs, when the storage gives a size in bytes or an ETag other than the one the store
    records (:meth:`~ecoseg.batch.jobs.UrlVersion.changed`, by what ``ecoseg batch`` records:
    the video at that URL was replaced; the same size without an ETag on either side is not
    taken for the same bytes, nor checked further), and why it cannot be fetched.

    Examples
    --------
    >>> import ecoseg, tempfile, os
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> from ecoseg.batch.jobs import store_status
    >>> video_check(clip.video, store_status(clip.truth).record.video)
    (None, None)
    >>> with open(clip.video, "r+b") as f:  # a copy cut off
    ...     _ = f.truncate(200)
    >>> video_check(clip.video, None)[1].endswith("video.mp4: not a readable video (its MP4/MOV "
    ...     "index, the moov box, is missing: the recording or copy was cut off before the file "
    ...     "was finished, and no frame can be found without it; recovery tools rebuild it "
    ...     "from a good clip of the same camera)")
    True
    """
    video = os.fspath(video)
    if is_url(video):
        return url_check(video, recorded)[:2]
    from ecoseg.io.video import open_video, video_mismatch

    try:
        with open_video(local_path(video)) as reader:
            if recorded is None or not getattr(recorded, "sha256", None):
                return None, None
            return video_mismatch(reader, recorded), None
    except (EcosegError, OSError) as exc:
        return None, " ".join(str(exc).split()) or type(exc).__name__


def url_check(url: str, recorded: Any) -> tuple[str | None, str | None, bool]:
    """:func:`video_check` of a URL video (how it differs, why it cannot be fetched), and
    whether only its ETag tells it from the one the store was made from, its size the same
    (:meth:`~ecoseg.batch.jobs.UrlVersion.retagged`: ``ecoseg batch`` then compares its bytes
    with the store's SHA-256 in a task, as the probe does not fetch them).

    Examples
    --------
    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe("/url-check-doc/T1.mp4", b"ftyp....")
    >>> url_check("memory://url-check-doc/T1.mp4", None)
    (None, None, False)
    """
    from ecoseg.batch.jobs import probe_url

    try:
        now = probe_url(url)
    except EcosegError as exc:
        return None, " ".join(str(exc).split()), False
    made = getattr(recorded, "extra", None) or {}
    return now.changed(made), None, now.retagged(made)


#: URL videos :func:`url_checks` probes at once (each probe is two or three requests, mostly
#: waiting on the storage).
PROBE_THREADS = 16


def url_checks(checks: Sequence[tuple[str, Any]]) -> list[tuple[str | None, str | None, bool]]:
    """:func:`url_check` of each ``(url, recorded)`` pair, in order, up to
    :data:`PROBE_THREADS` at once (hundreds of videos on object storage are planned in the
    time of a few requests, not of hundreds one after another). A Ctrl-C while probes wait on
    the storage is raised at once (the probes under way are not waited for:
    :func:`~ecoseg.batch._threads.in_threads`).

    Examples
    --------
    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe("/checks-doc/T1.mp4", b"\\x00\\x00\\x00\\x18ftyp")
    >>> url_checks([("memory://checks-doc/T1.mp4", None), ("memory://checks-doc/T2.mp4", None)])
    [(None, None, False), (None, 'memory://checks-doc/T2.mp4: no such file or directory', False)]
    """
    from ecoseg.batch._threads import in_threads

    return in_threads(lambda check: url_check(*check), list(checks), PROBE_THREADS)
