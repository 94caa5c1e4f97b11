"""Content hashes for provenance and weight verification, and the cache of large files' hashes.

:func:`sha256_file` reads a file. :func:`cached_digest` (and :func:`cached_sha256_file`) remember
the digest of large files (:data:`CACHE_MIN_BYTES` and up: videos, image folders, checkpoints)
by each file's :func:`file_stamp`, in this process and in a small JSON file in the user cache
dir (:func:`hash_cache_path`), so checking a video against a store's provenance (``ecoseg
report``, ``info --video``, ``classify --video``, napari) or a ``--checkpoint`` against a
store's model record (``segment --resume``, ``batch``) reads it once, not on every run.
``ecoseg weights verify`` always reads the file.

What the cache trusts: a file whose bytes change also changes its stamp (size, mtime, ctime or
inode). Every write and every ``touch``/``os.utime`` sets the ctime to now, and no ordinary tool
sets it back, so the one way to get a stale hash is a same-size rewrite that keeps mtime *and*
ctime: the clock set back, or a filesystem that does not keep ctime. Files touched less than
:data:`SETTLE_NS` before they are hashed are not cached (a rewrite within the same timestamp
tick would keep the stamp), nor files that changed while being read (:func:`may_cache`, the
rule the study manifest's cache follows too). A cache file that cannot be read, parsed or
written is ignored: at worst a file is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from ecoseg.errors import ConfigError

__all__ = [
    "CACHE_MIN_BYTES",
    "ENV_HASH_CACHE",
    "SETTLE_NS",
    "absolute_env_path",
    "cached_digest",
    "cached_sha256_file",
    "file_stamp",
    "forget_hashes",
    "hash_cache_path",
    "may_cache",
    "sha256_file",
    "update_from_file",
]

#: Smaller inputs are hashed every time (cheaper than trusting a stamp; prompt files and the
#: like are edited by hand, often within one mtime tick).
CACHE_MIN_BYTES = 8 << 20
#: A file touched more recently than this (ns) before it is hashed is not cached.
SETTLE_NS = 2_000_000_000
#: Environment variable naming the cache file; set but empty: nothing is kept on disk.
ENV_HASH_CACHE = "ECOSEG_HASH_CACHE"
#: Entries kept in the cache file (the oldest go first).
MAX_ENTRIES = 4096
_VERSION = 1

_lock = threading.Lock()
_memo: dict[str, str] = {}


def update_from_file(h, path: str | os.PathLike | BinaryIO, *, block: int = 1 << 20) -> None:
    """Feed the bytes of a file to the hash ``h`` in blocks (constant memory): the one loop of
    every file hash (a file's sha256, an image folder's fingerprint). ``path`` may also be a
    binary file already open (a remote file streamed as it is read: ``ecoseg batch``'s check
    of a URL video against its store), read from where it stands to its end, not closed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"reef")
    >>> h = hashlib.sha256()
    >>> update_from_file(h, f.name)
    >>> h.hexdigest() == hashlib.sha256(b"reef").hexdigest()
    True
    >>> import io
    >>> h = hashlib.sha256()
    >>> update_from_file(h, io.BytesIO(b"reef"))  # (an open file: read to its end)
    >>> h.hexdigest() == hashlib.sha256(b"reef").hexdigest()
    True
    """
    if hasattr(path, "read"):
        while chunk := path.read(block):
            h.update(chunk)
        return
    with open(path, "rb") as f:
        update_from_file(h, f, block=block)


def sha256_file(path: str | os.PathLike | BinaryIO, *, block: int = 1 << 20) -> str:
    """Hex sha256 of a file (a path, or a binary file open for reading:
    :func:`update_from_file`), read in blocks (constant memory).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"reef")
    >>> sha256_file(f.name)[:12]
    '3297cb78604b'
    """
    h = hashlib.sha256()
    update_from_file(h, path, block=block)
    return h.hexdigest()


def file_stamp(path: str | os.PathLike) -> list[int]:
    """What says a file is unchanged: ``[size, mtime_ns, ctime_ns, inode]``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"reef")
    >>> file_stamp(f.name)[0]
    4
    """
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def may_cache(files: Sequence[str | os.PathLike], stamps: Sequence[Sequence[int]]) -> bool:
    """Whether a digest read from ``files`` may be remembered by their stamps: every file was
    last touched :data:`SETTLE_NS` or more before now (a rewrite within the same timestamp tick
    would keep its stamp) and still has the stamp it had before it was read (it did not change
    while being read).

    Parameters
    ----------
    files : sequence of path
        The files the digest was read from.
    stamps : sequence of list of int
        Their :func:`file_stamp` taken before reading, in the same order.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"reef")
    >>> may_cache([f.name], [file_stamp(f.name)])  # just written
    False
    """
    settled = time.time_ns() - SETTLE_NS
    if any(max(s[1], s[2]) > settled for s in stamps):
        return False
    try:
        return [file_stamp(f) for f in files] == [list(s) for s in stamps]
    except OSError:  # gone since
        return False


def absolute_env_path(variable: str, value: str, names: str, other: str = "") -> Path:
    """The path an environment variable's ``value`` names, ``~/`` expanded, refused when
    relative: it named a different ``names`` in every working folder. The one wording of
    ``$ECOSEG_HASH_CACHE`` (:func:`hash_cache_path`) and ``$ECOSEG_WEIGHTS_DIR``
    (:func:`ecoseg.sam2.weights.cache_dir`). Here, not in :mod:`ecoseg._paths`, because the
    helpers of the lowest layer import ``errors`` only (docs/architecture.md), and the
    weights code imports this module already.

    Parameters
    ----------
    variable : str
        The variable's name, as the message shows it.
    value : str
        Its value (set, not blank: the caller decides what those mean).
    names : str
        What the path names (``weights cache``), for the message.
    other : str
        Another choice, added to the message (``, or empty to keep none``).

    Raises
    ------
    ConfigError
        ``value`` is a relative path: one line naming the variable and value and asking for
        an absolute path (the path it named from here shown).

    Examples
    --------
    >>> absolute_env_path("ECOSEG_HASH_CACHE", "/tmp/h.json", "hash cache file").name
    'h.json'
    >>> absolute_env_path("ECOSEG_WEIGHTS_DIR", "weights", "weights cache")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: ECOSEG_WEIGHTS_DIR=weights: a relative path, which names a ...
    """
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise ConfigError(
            f"{variable}={value}: a relative path, which names a different {names} in each "
            f"working folder; set it to an absolute path (from here: {path.absolute()}){other}"
        )
    return path


def hash_cache_path() -> Path | None:
    """The cache file: ``$ECOSEG_HASH_CACHE``, else ``sha256.json`` in the user cache dir.

    ``None`` (nothing kept on disk) when the variable is set but empty (or blank).

    Raises
    ------
    ConfigError
        ``$ECOSEG_HASH_CACHE`` is a relative path (``sha256.json``), which named a different
        cache file in every working folder: one line asking for an absolute one (``~/`` is
        expanded). The command line checks it before any work.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"ECOSEG_HASH_CACHE": "/tmp/h.json"}):
    ...     hash_cache_path().name
    'h.json'
    >>> with mock.patch.dict(os.environ, {"ECOSEG_HASH_CACHE": ""}):
    ...     hash_cache_path() is None
    True
    """
    env = os.environ.get(ENV_HASH_CACHE)
    if env is not None:
        if not env.strip():
            return None
        return absolute_env_path(ENV_HASH_CACHE, env, "hash cache file", ", or empty to keep none")
    import platformdirs

    return Path(platformdirs.user_cache_dir("ecoseg")) / "sha256.json"


def cached_digest(kind: str, files: Sequence[str | os.PathLike], compute: Callable[[], str]) -> str:
    """``compute()``, or the digest it gave before for the same files with the same stamps.

    Parameters
    ----------
    kind : str
        What ``compute`` makes of ``files`` (``"file"``, ``"images"``, ...): one cache
        entry per kind.
    files : sequence of path
        Every file ``compute`` reads (a video file, or an image folder's images).
    compute : callable
        Reads the files and returns their digest.

    Returns
    -------
    str
        The digest; cached when the files total :data:`CACHE_MIN_BYTES` or more, had settled
        (:data:`SETTLE_NS`) and did not change while being read (:func:`may_cache`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"reef")
    >>> cached_digest("file", [f.name], lambda: sha256_file(f.name))[:12]
    '3297cb78604b'
    """
    stamps = [[os.path.realpath(f), *file_stamp(f)] for f in files]
    if sum(s[1] for s in stamps) < CACHE_MIN_BYTES:
        return compute()
    key = hashlib.sha256(json.dumps([kind, stamps]).encode()).hexdigest()
    with _lock:
        hit = _memo.get(key)
        if hit is None:
            hit = _read_entries().get(key)
            if hit is not None:
                _memo[key] = hit
    if hit is not None:
        return hit
    digest = compute()
    unchanged = [os.path.realpath(f) for f in files] == [s[0] for s in stamps]  # no new links
    if unchanged and may_cache(files, [s[1:] for s in stamps]):
        with _lock:
            _memo[key] = digest
            _write_entry(key, digest)
    return digest


def cached_sha256_file(path: str | os.PathLike) -> str:
    """:func:`sha256_file` through :func:`cached_digest`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"reef")
    >>> cached_sha256_file(f.name) == sha256_file(f.name)
    True
    """
    return cached_digest("file", [path], lambda: sha256_file(path))


def forget_hashes() -> None:
    """Forget the digests remembered in this process (the cache file is left as it is).

    Examples
    --------
    >>> forget_hashes()
    """
    with _lock:
        _memo.clear()


def _read_entries() -> dict[str, str]:
    """The cache file's entries; empty when there is none or it cannot be read or parsed."""
    path = hash_cache_path()
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return {}
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {
        k: v
        for k, v in entries.items()
        if isinstance(k, str) and isinstance(v, str) and len(v) == 64
    }


def _write_entry(key: str, digest: str) -> None:
    """Add an entry to the cache file (written whole, then renamed); failures are ignored."""
    path = hash_cache_path()
    if path is None:
        return
    entries = _read_entries()
    entries.pop(key, None)
    entries[key] = digest
    keep = dict(list(entries.items())[-MAX_ENTRIES:])
    text = json.dumps({"version": _VERSION, "entries": keep}, separators=(",", ":"))
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
