"""The mask store: one zarr v3 group per video, written while the video is processed.

Layout
------
``labels``
    (t, y, x) uint32 instance ids at video resolution, 0 = background. Chunks hold
    ``chunk_frames`` whole frames; Blosc/zstd (level 2, no shuffle, 2 MiB blocks). Measured on
    1080p label images with 12-20 ellipses: ~450-1000x smaller at ~1 ms per frame per core,
    about twice as fast as byte-shuffle (which compresses 25 % better); bit-shuffle is slower
    and compresses worse, lz4 is 1.5x faster but compresses 3-7x less.
    ``dimension_names=("t", "y", "x")``, attribute ``units="instance id"``.
``time``
    (t,) float64 seconds from the stream's PTS (variable frame rate is real), ``units="s"``.
``scores``
    (t, object) float32 presence score of each object on each frame, columns in object-table
    order, ``units="1"``. Objects registered after frame k score 0.0 on frames before k.

Group attributes
----------------
Everything lives under one JSON attribute, ``"ecoseg"``::

    {"format": "ecoseg-masks", "version": 1, "ecoseg_version": "0.1.0",
     "frames_written": 120,          # the progress marker: committed frames
     "complete": false,              # true once the producing run called mark_complete()
     "objects": [{"id": 1, "class": "parrotfish", "source": "prompt"}, ...],
     "provenance": {...},            # JSON only: video, engine, model, parameters, created...
     "calibration": {"mm_per_px": 0.5, "method": "scale_bar"} or null}

Commit protocol
---------------
:meth:`MaskStore.append` validates frames and copies them into a chunk buffer; full chunks are
compressed and written by background threads (compression overlaps the caller's work and uses
up to four cores). Every :data:`COMMIT_FRAMES` frames, and on :meth:`~MaskStore.flush`, a
commit writes the ``time`` and ``scores`` rows of frames whose ``labels`` chunks are written
and only then advances ``frames_written``. Zarr writes each key atomically on local disks
(temporary file + rename) and on object stores, so a killed process leaves a store whose
marker covers only frames that are fully written. The attributes are the commit record: arrays
may run ahead of them (rows past the marker while writing, as the arrays grow in steps; score
columns past the object table after a crash); readers ignore that tail,
:meth:`~MaskStore.flush` and :meth:`~MaskStore.close` cut the arrays to length, and
``MaskStore.open(path, mode="a")`` trims them, so a resumed run continues exactly at the marker.

Writers
-------
One writer per store: :meth:`MaskStore.create` and ``MaskStore.open(path, mode="a")`` take a
lock file beside a local store (``.NAME.lock`` holding pid, host and process start time) and
:meth:`~MaskStore.close` removes it; a second writer gets a :class:`~ecoseg.errors.StoreError`
naming the holder. A lock left by a killed process is stale and is taken over (same host: its
pid is gone or belongs to a newer process; same process: its store object was closed or
dropped). A lock from another host is respected: delete the file by hand if that writer is
gone. Readers take no lock (they see committed frames). URLs (``s3://``, ``memory://``) and
zarr ``Store`` objects are not locked: object stores offer no portable create-if-absent, so
run one writer per store there (the batch runner gives each video its own store).

Locations
---------
A local directory, any URL zarr understands (``memory://``, ``s3://``, ``file://`` through
fsspec), a zarr ``Store`` object, or a ``.zip`` file. Zip archives cannot rewrite entries, so a
zip store is written in a hidden staging folder next to it and packed into the archive
(atomically) by :meth:`MaskStore.close`; an interrupted zip write leaves the old archive, if any,
untouched.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import socket
import tempfile
import weakref
import zipfile
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ecoseg._version import __version__
from ecoseg.errors import CalibrationError, StoreError

__all__ = [
    "STORE_FORMAT",
    "STORE_VERSION",
    "MaskStore",
    "check_no_writer",
    "lock_path",
    "open_masks",
    "present_ids",
]

STORE_FORMAT = "ecoseg-masks"
STORE_VERSION = 1
ATTRS_KEY = "ecoseg"

#: Blosc settings of the ``labels`` array (see the module docstring for the measurement).
LABELS_CODEC = {"cname": "zstd", "clevel": 2, "shuffle": "noshuffle", "blocksize": 2**21}
_TIME_CHUNK = 4096
#: Frames written between progress-marker commits (a flush commits at once).
COMMIT_FRAMES = 16
_SCORE_CHUNKS = (256, 64)
_MAX_ID = 2**32 - 1
_ARRAYS = {  # name: (dtype, dimension names, units)
    "labels": (np.dtype(np.uint32), ("t", "y", "x"), "instance id"),
    "time": (np.dtype(np.float64), ("t",), "s"),
    "scores": (np.dtype(np.float32), ("t", "object"), "1"),
}


# ---------------------------------------------------------------------------- pure helpers
def present_ids(labels: np.ndarray) -> np.ndarray:
    """Sorted non-zero values present in a label array.

    Runs in O(n) for label images (it only sorts the values found where neighbouring pixels
    differ), several times faster than ``np.unique`` on large frames.

    Parameters
    ----------
    labels : ndarray of int
        Any shape.

    Returns
    -------
    ndarray of int64
        The distinct non-zero values, ascending.

    Examples
    --------
    >>> present_ids(np.array([[0, 5, 5], [5, 2, 0]], np.uint32))
    array([2, 5])
    """
    flat = np.asarray(labels).ravel()
    if flat.size == 0:
        return np.zeros(0, np.int64)
    change = np.flatnonzero(flat[1:] != flat[:-1])
    values = np.unique(np.concatenate((flat[:1], flat[change + 1])))
    return values[values != 0].astype(np.int64)


def _json_data(value: Any, where: str) -> Any:
    """``value`` as plain JSON data (numpy scalars become Python numbers), or StoreError."""
    if isinstance(value, np.generic) and not isinstance(value, np.void):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StoreError(f"{where}: {value} is not JSON data (use null for missing values)")
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StoreError(
                    f"{where}: key {key!r} is not a string (JSON objects need str keys)"
                )
            out[key] = _json_data(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, list | tuple):
        return [_json_data(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise StoreError(
        f"{where}: a {type(value).__name__} is not JSON data "
        "(store strings, numbers, booleans, lists and dicts only)"
    )


def _calibration(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CalibrationError(f"{where}: calibration must be a dict such as {{'mm_per_px': 0.5}}")
    try:
        cal = _json_data(value, f"{where}: calibration")
    except StoreError as exc:
        raise CalibrationError(str(exc)) from None
    mm = cal.get("mm_per_px")
    if mm is not None and (
        isinstance(mm, bool) or not isinstance(mm, int | float) or not 0 < mm < math.inf
    ):
        raise CalibrationError(
            f"{where}: calibration mm_per_px must be a positive number, got {mm!r}"
        )
    return cal


def _parse_objects(objects: Iterable, known: set[int], where: str) -> list[dict[str, Any]]:
    """Validate object-table entries (dicts or (id, class, source) tuples)."""
    if isinstance(objects, Mapping) or isinstance(objects, str | bytes):
        raise StoreError(f"{where}: objects must be a list of dicts or (id, class, source) tuples")
    known = set(known)
    out = []
    for entry in objects:
        if isinstance(entry, Mapping):
            obj = dict(entry)
        elif isinstance(entry, list | tuple) and 1 <= len(entry) <= 3:
            obj = dict(zip(("id", "class", "source"), entry))
        else:
            raise StoreError(
                f"{where}: object entry {entry!r} is not a dict or (id, class, source)"
            )
        oid = obj.get("id")
        if isinstance(oid, bool) or not isinstance(oid, int | np.integer):
            raise StoreError(f"{where}: object id must be an integer, got {oid!r}")
        oid = int(oid)
        if not 0 < oid <= _MAX_ID:
            raise StoreError(f"{where}: object id {oid} is outside 1..{_MAX_ID}")
        if oid in known:
            raise StoreError(f"{where}: duplicate object id {oid}")
        known.add(oid)
        extra = {k: v for k, v in obj.items() if k not in ("id", "class", "source")}
        item = {
            "id": oid,
            "class": str(obj.get("class") or "unknown"),
            "source": str(obj.get("source") or "unknown"),
        }
        item.update(_json_data(extra, f"{where} object {oid}"))
        out.append(item)
    return out


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:160] + "...") if len(text) > 160 else (text or type(exc).__name__)


# ---------------------------------------------------------------------------- locations
class _Location:
    """Where a store lives: local folder, URL, zarr Store object, or zip archive."""

    def __init__(self, path: Any):
        self.obj = None
        if isinstance(path, os.PathLike | str):
            self.text = os.fspath(path)
        else:
            from zarr.abc.store import Store

            if not isinstance(path, Store):
                raise StoreError(f"{path!r}: not a path, URL or zarr store")
            self.obj, self.text = path, repr(path)
        local_text = self.text
        if self.obj is None and self.text.startswith("file://"):  # local: atomic LocalStore
            from urllib.parse import urlparse
            from urllib.request import url2pathname

            local_text = url2pathname(urlparse(self.text).path)
        self.is_url = self.obj is None and "://" in local_text
        self.is_zip = self.obj is None and not self.is_url and local_text.lower().endswith(".zip")
        self.local = None if (self.obj is not None or self.is_url) else Path(local_text)

    def __str__(self) -> str:
        return self.text

    def exists(self) -> bool:
        """Whether anything is stored at this location."""
        if self.local is not None:
            return self.local.exists()
        if self.obj is not None:
            from zarr.core.sync import sync

            return not sync(self.obj.is_empty(""))
        fs, root = self._fs()
        try:
            return bool(fs.exists(root) and (fs.isfile(root) or fs.ls(root)))
        except (FileNotFoundError, NotADirectoryError):
            return False

    def is_zarr(self) -> bool:
        """Whether the existing thing here looks like a zarr store (so replacing it is safe)."""
        if self.is_zip:
            return zipfile.is_zipfile(self.local)
        if self.local is not None:
            return self.local.is_dir() and (
                (self.local / "zarr.json").is_file() or (self.local / ".zgroup").is_file()
            )
        if self.obj is not None:
            return True
        fs, root = self._fs()
        return fs.exists(f"{root.rstrip('/')}/zarr.json")

    def _fs(self):
        import fsspec

        return fsspec.core.url_to_fs(self.text)

    def zarr_store(self, read_only: bool, root: Path | None = None):
        """The zarr store to open (``root`` overrides: a zip's staging folder)."""
        from zarr.storage import LocalStore, ZipStore

        if root is not None:
            return LocalStore(root, read_only=read_only)
        if self.obj is not None:
            return self.obj
        if self.is_zip:
            return ZipStore(self.local, mode="r")
        if self.is_url:
            return self.text
        return LocalStore(self.local, read_only=read_only)

    def clear(self) -> None:
        """Remove an existing store (checked with :meth:`is_zarr` first) before re-creating."""
        if self.local is not None and not self.is_zip and self.local.exists():
            shutil.rmtree(self.local)

    def new_staging(self) -> Path:
        parent = self.local.parent
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{self.local.name}.", suffix=".staging", dir=parent))

    def pack(self, staging: Path) -> None:
        """Write the staging folder into the zip archive atomically, then remove it."""
        tmp = self.local.with_name(self.local.name + ".partial")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for file in sorted(staging.rglob("*")):
                if file.is_file() and not file.name.endswith(".partial"):
                    zf.write(file, file.relative_to(staging).as_posix())
        os.replace(tmp, self.local)
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------------------- writer lock
#: Stores open for writing in this process: lock file -> the MaskStore holding it.
_HELD: weakref.WeakValueDictionary[str, MaskStore] = weakref.WeakValueDictionary()


def lock_path(path: Any) -> Path | None:
    """The writer-lock file of a local store (``.NAME.lock`` beside it), or None for URLs.

    Examples
    --------
    >>> lock_path("surveys/reef.zarr").as_posix()
    'surveys/.reef.zarr.lock'
    >>> lock_path("s3://bucket/reef.zarr") is None
    True
    """
    loc = path if isinstance(path, _Location) else _Location(path)
    if loc.local is None:
        return None
    return loc.local.with_name(f".{loc.local.name}.lock")


def _proc_stat(pid: int) -> list[str] | None:
    """Linux: the fields of ``/proc/PID/stat`` after the command name (state first), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _process_start(pid: int) -> str | None:
    """A token that differs between two processes that had the same pid (Linux: start time)."""
    fields = _proc_stat(pid)
    if fields is not None and len(fields) > 19:
        return fields[19]
    try:
        import psutil

        return repr(psutil.Process(pid).create_time())
    except Exception:  # psutil missing, or no such process
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    fields = _proc_stat(pid)  # a killed child its parent has not reaped yet is a zombie: dead
    return not fields or fields[0] != "Z"


def check_no_writer(path: Any) -> None:
    """Raise StoreError if a live writer holds the lock of the store at ``path``.

    A cheap early check (e.g. before loading a model); :meth:`MaskStore.create` and
    ``MaskStore.open(mode="a")`` take the lock itself.

    Examples
    --------
    >>> check_no_writer("memory://nothing-here")  # URLs are never locked
    """
    loc = path if isinstance(path, _Location) else _Location(path)
    lock_file = lock_path(loc)
    if lock_file is None or not lock_file.exists():
        return
    probe = _WriterLock(lock_file, loc.text)
    holder = probe._read()
    if not probe._stale(holder):
        raise StoreError(probe._refusal(holder))


class _WriterLock:
    """One writer per local store: an exclusively created lock file holding pid and host.

    A lock left by a process that died (``kill -9``, power cut) is stale and is taken over:
    on the same host when its pid is gone or now belongs to another process (start time
    differs), in this process when the store object that held it is closed or gone. A lock from
    another host cannot be checked and is respected; the error says which file to delete.
    """

    def __init__(self, path: Path, store_text: str):
        self.path = path
        self.store_text = store_text
        self.record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "start": _process_start(os.getpid()),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "ecoseg_version": __version__,
        }

    @classmethod
    def acquire(cls, loc: _Location) -> _WriterLock | None:
        path = lock_path(loc)
        if path is None:
            return None  # URLs and Store objects: no portable atomic create-if-absent
        lock = cls(path, loc.text)
        for _ in range(3):
            if lock._create():
                return lock
            holder = lock._read()
            if not lock._stale(holder):
                raise StoreError(lock._refusal(holder))
            try:  # take over a stale lock
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StoreError(
                    f"{loc}: cannot remove the stale writer lock {path} ({_short(exc)})"
                ) from None
        raise StoreError(f"{loc}: could not take the writer lock {path} (another writer races)")

    def _create(self) -> bool:
        """Create the lock file with our record, atomically; False if one exists."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self.record).encode()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:
            raise StoreError(
                f"{self.store_text}: cannot create the writer lock {self.path} ({_short(exc)})"
            ) from None
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return True

    def _read(self) -> dict | None:
        try:
            holder = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}  # released meanwhile: try again
        except (OSError, ValueError):
            holder = None
        if holder is not None and not isinstance(holder, dict):
            holder = None
        if holder is None:  # garbled: a writer killed while creating it, unless it is new
            try:
                age = datetime.now().timestamp() - self.path.stat().st_mtime
            except OSError:
                return {}
            return None if age > 10 else {"pid": None, "host": None, "young": True}
        return holder

    def _stale(self, holder: dict | None) -> bool:
        if holder is None or holder == {}:
            return True
        pid, host = holder.get("pid"), holder.get("host")
        if host != self.record["host"] or not isinstance(pid, int):
            return False
        if pid == os.getpid():
            owner = _HELD.get(str(self.path))
            if owner is not None and not owner._closed:
                import gc

                gc.collect()  # a store dropped without close() may wait in a reference cycle
                owner = _HELD.get(str(self.path))
            return owner is None or owner._closed
        if not _pid_alive(pid):
            return True
        start = holder.get("start")
        return start is not None and start != _process_start(pid)

    def _refusal(self, holder: dict | None) -> str:
        holder = holder or {}
        who = f"process {holder.get('pid', '?')} on host {holder.get('host', '?')}"
        if holder.get("pid") == os.getpid() and holder.get("host") == self.record["host"]:
            who = "another MaskStore in this process (close it first)"
        since = f" since {holder['created']}" if holder.get("created") else ""
        return (
            f"{self.store_text}: another writer has this store open ({who}{since}); two "
            f"writers would corrupt it. Wait for it to finish; if that process is no longer "
            f"running, delete {self.path}"
        )

    def release(self) -> None:
        """Remove the lock file if it is still ours."""
        _HELD.pop(str(self.path), None)
        try:
            holder = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if isinstance(holder, dict) and all(
            holder.get(k) == self.record[k] for k in ("pid", "host", "start", "created")
        ):
            try:
                self.path.unlink()
            except OSError:
                pass


# ---------------------------------------------------------------------------- the store
class MaskStore:
    """Read and write an ecoseg mask store (zarr v3).

    Use :meth:`create` for a new store and :meth:`open` for an existing one; do not call the
    constructor directly. Writing: :meth:`add_objects`, :meth:`append` (buffered, chunk-atomic),
    :meth:`flush`, :meth:`mark_complete`, :meth:`close` (or use it as a context manager).
    Reading: :meth:`read_labels`, :meth:`read_time`, :meth:`read_scores`, or
    :func:`open_masks` for an :class:`xarray.Dataset`. Reads see committed frames only.

    Examples
    --------
    >>> import numpy as np
    >>> store = MaskStore.create("memory://doc-maskstore", height=4, width=5, overwrite=True)
    >>> store.add_objects([{"id": 3, "class": "sea_star", "source": "truth"}])
    >>> labels = np.zeros((2, 4, 5), np.uint32)
    >>> labels[:, 1:3, 1:3] = 3
    >>> store.append(labels, [0.0, 0.04])
    >>> store.close()
    >>> store = MaskStore.open("memory://doc-maskstore")
    >>> store.n_frames, store.read_scores().tolist()
    (2, [[1.0], [1.0]])
    """

    def __init__(self, group, location: _Location, mode: str, meta: dict, staging=None):
        self._group = group
        self._loc = location
        self._mode = mode
        self._staging = staging
        self._closed = False
        self._lock: _WriterLock | None = None
        # skip zarr's all-fill-value test of every chunk (a full compare, ~6x slower writes)
        self._labels = group["labels"].with_config({"write_empty_chunks": True})
        self._time = group["time"]
        self._scores = group["scores"]
        self._committed = int(meta.pop("frames_written"))
        self._meta = meta
        self._index_objects()
        # writer state (mode "a")
        self._accepted = self._committed
        self._last_time = float(self._time[self._committed - 1]) if self._committed else None
        self._buf: np.ndarray | None = None
        self._buf_start = self._committed
        self._buf_n = 0
        self._buf_time: list[float] = []
        self._buf_scores: list[np.ndarray] = []
        self._pool: list[np.ndarray] = []
        self._inflight: deque[tuple[Future, np.ndarray, int]] = deque()  # label chunk writes
        self._written = self._committed  # label chunks of all frames before this are written
        self._rows: deque[tuple[np.ndarray, np.ndarray]] = deque()  # time/scores to commit
        self._commit: tuple[Future, int] | None = None  # the commit in flight
        self._commit_target = self._committed  # frames covered by the last commit submitted
        self._commit_requested = self._committed  # every COMMIT_FRAMES submitted, and flushes
        self._capacity = int(self._labels.shape[0])
        self._buffer_frames = self.chunk_frames
        # chunks compress in parallel on up to 4 cores, with at most ~128 MiB of chunk buffers
        # in flight (plus the one being filled)
        chunk_bytes = 4 * self.chunk_frames * self.height * self.width
        self._writer_threads = max(1, min(4, os.cpu_count() or 1))
        self._max_inflight = max(1, min(self._writer_threads, 2**27 // chunk_bytes))
        self._executor: ThreadPoolExecutor | None = None
        self._error: str | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        path: Any,
        *,
        height: int,
        width: int,
        chunk_frames: int = 4,
        objects: Iterable | None = None,
        provenance: Mapping | None = None,
        calibration: Mapping | None = None,
        overwrite: bool = False,
    ) -> MaskStore:
        """Create an empty store for frames of ``height`` x ``width`` pixels.

        Parameters
        ----------
        path : str, Path, URL or zarr Store
            Local folder (``masks.zarr``), ``.zip`` file, ``memory://name``, any fsspec URL.
        height, width : int
            Frame size in pixels.
        chunk_frames : int
            Frames per ``labels`` chunk (the unit of atomic writes).
        objects : list, optional
            Initial object table: dicts ``{"id", "class", "source"}`` or tuples.
        provenance : dict, optional
            JSON data describing how the masks were made.
        calibration : dict, optional
            For example ``{"mm_per_px": 0.5, "method": "scale_bar"}``.
        overwrite : bool
            Replace an existing store at ``path``. Things that are not zarr stores (an
            ordinary folder, a video file) are never replaced.

        Returns
        -------
        MaskStore
            Open for writing.

        Raises
        ------
        StoreError
            Something exists at ``path`` and ``overwrite`` is false, another live writer holds
            the store's lock, or bad arguments.

        Examples
        --------
        >>> store = MaskStore.create("memory://doc-create", height=48, width=64,
        ...                          objects=[(1, "fish", "prompt")], overwrite=True)
        >>> store.object_ids.tolist(), store.n_frames
        ([1], 0)
        """
        import zarr

        loc = _Location(path)
        h = _positive_int(height, "height", loc)
        w = _positive_int(width, "width", loc)
        cf = _positive_int(chunk_frames, "chunk_frames", loc)
        if provenance is not None and not isinstance(provenance, Mapping):
            raise StoreError(f"{loc}: provenance must be a dict")
        prov = _json_data(dict(provenance or {}), f"{loc}: provenance")
        cal = _calibration(calibration, str(loc))
        objs = _parse_objects(objects or [], set(), str(loc))
        if loc.exists() and not overwrite:
            raise StoreError(
                f"{loc}: already exists; pass overwrite=True (--overwrite) to replace it"
            )
        lock = _WriterLock.acquire(loc)  # before anything is touched
        staging, started = None, False
        try:
            if loc.exists():
                if not loc.is_zarr():
                    raise StoreError(
                        f"{loc}: exists and is not a zarr store; refusing to replace it even "
                        "with overwrite (choose another output path)"
                    )
                loc.clear()
            staging = loc.new_staging() if loc.is_zip else None
            started = True
            group = zarr.open_group(loc.zarr_store(False, staging), mode="w", zarr_format=3)
            for name, shape, chunks, extra in (
                ("labels", (0, h, w), (cf, h, w), {"compressors": _labels_codec()}),
                ("time", (0,), (_TIME_CHUNK,), {}),
                ("scores", (0, len(objs)), _SCORE_CHUNKS, {}),
            ):
                dtype, dims, units = _ARRAYS[name]
                group.create_array(
                    name,
                    shape=shape,
                    chunks=chunks,
                    dtype=dtype,
                    fill_value=0,
                    dimension_names=dims,
                    attributes={"units": units},
                    **extra,
                )
            meta = {
                "format": STORE_FORMAT,
                "version": STORE_VERSION,
                "ecoseg_version": __version__,
                "frames_written": 0,
                "complete": False,
                "objects": objs,
                "provenance": prov,
                "calibration": cal,
            }
            group.attrs[ATTRS_KEY] = meta  # written last: the group becomes an ecoseg store
        except BaseException as exc:
            if started and loc.local is not None and not loc.is_zip:
                # half a store (disk full, killed backend) is not a store: leave nothing
                shutil.rmtree(loc.local, ignore_errors=True)
            if lock is not None:
                lock.release()
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            # any backend failure is a store problem
            raise StoreError(f"{loc}: cannot create the store: {_short(exc)}") from exc
        return cls(group, loc, "a", dict(meta), staging)._holding(lock)

    @classmethod
    def open(cls, path: Any, mode: str = "r") -> MaskStore:
        """Open and validate an existing store.

        Parameters
        ----------
        path : str, Path, URL or zarr Store
            Where the store lives.
        mode : {"r", "a"}
            ``"r"`` read-only; ``"a"`` to continue writing (resume): frames past the committed
            progress marker (left by an interrupted run) are discarded.

        Returns
        -------
        MaskStore

        Raises
        ------
        StoreError
            Naming the path and what is wrong: missing, not a zarr v3 group, not an ecoseg store,
            unsupported version, missing or malformed arrays, inconsistent lengths; or (mode
            ``"a"``) another live writer holds the store's lock.

        Examples
        --------
        >>> import numpy as np
        >>> with MaskStore.create("memory://doc-open", height=2, width=2, overwrite=True) as s:
        ...     s.append(np.zeros((3, 2, 2), np.uint32), [0.0, 0.5, 1.0])
        >>> MaskStore.open("memory://doc-open").read_time().tolist()
        [0.0, 0.5, 1.0]
        """
        if mode not in ("r", "a"):
            raise ValueError(f"mode must be 'r' or 'a', got {mode!r}")
        loc = _Location(path)
        if not loc.exists():
            raise StoreError(f"{loc}: no such store")
        lock = _WriterLock.acquire(loc) if mode == "a" else None
        try:
            return cls._open_locked(loc, mode, lock)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    @classmethod
    def _open_locked(cls, loc: _Location, mode: str, lock: _WriterLock | None) -> MaskStore:
        import zarr

        staging = None
        if loc.is_zip:
            if not zipfile.is_zipfile(loc.local):
                raise StoreError(f"{loc}: not a zarr store (not a zip archive)")
            if mode == "a":
                staging = loc.new_staging()
                with zipfile.ZipFile(loc.local) as zf:
                    zf.extractall(staging)
        try:
            group = zarr.open_group(
                loc.zarr_store(mode == "r", staging), mode="r" if mode == "r" else "r+"
            )
        except Exception as exc:  # zarr raises many kinds for "not a group"
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(f"{loc}: not a zarr store ({_short(exc)})") from None
        try:
            meta = _validate(group, loc)
        except StoreError:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        self = cls(group, loc, mode, meta, staging)._holding(lock)
        if mode == "a":
            self._discard_uncommitted()
        return self

    def _holding(self, lock: _WriterLock | None) -> MaskStore:
        """Attach the writer lock (released by :meth:`close`)."""
        self._lock = lock
        if lock is not None:
            _HELD[str(lock.path)] = self
        return self

    # ------------------------------------------------------------------ properties
    @property
    def path(self) -> str:
        """The location as given (path or URL)."""
        return self._loc.text

    @property
    def location(self) -> Any:
        """What the store was opened from (path, URL or zarr Store), to open it again."""
        return self._loc.obj if self._loc.obj is not None else self._loc.text

    @property
    def mode(self) -> str:
        """``"r"`` (read-only) or ``"a"`` (open for writing)."""
        return self._mode

    @property
    def labels(self):
        """The ``labels`` zarr array (may hold uncommitted frames past :attr:`n_frames`)."""
        return self._labels

    @property
    def time(self):
        """The ``time`` zarr array (seconds)."""
        return self._time

    @property
    def scores(self):
        """The ``scores`` zarr array (t, object)."""
        return self._scores

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return int(self._labels.shape[1])

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return int(self._labels.shape[2])

    @property
    def chunk_frames(self) -> int:
        """Frames per ``labels`` chunk."""
        return int(self._labels.chunks[0])

    @property
    def n_frames(self) -> int:
        """Committed frames (the progress marker); waits for writes in flight."""
        self._drain()
        return self._committed

    @property
    def complete(self) -> bool:
        """Whether the producing run finished (called :meth:`mark_complete`)."""
        return bool(self._meta.get("complete", False))

    @property
    def objects(self) -> list[dict[str, Any]]:
        """Object table: ``{"id", "class", "source"}`` per object, in ``scores`` column order."""
        return json.loads(json.dumps(self._meta["objects"]))

    @property
    def object_ids(self) -> np.ndarray:
        """Object ids (int64) in ``scores`` column order."""
        return self._ids.copy()

    @property
    def provenance(self) -> dict[str, Any]:
        """Provenance (a copy; change it with :meth:`set_provenance`)."""
        return json.loads(json.dumps(self._meta.get("provenance") or {}))

    @property
    def calibration(self) -> dict[str, Any] | None:
        """Spatial calibration, e.g. ``{"mm_per_px": 0.5, "method": "scale_bar"}``, or None."""
        cal = self._meta.get("calibration")
        return json.loads(json.dumps(cal)) if cal else None

    @calibration.setter
    def calibration(self, value: Mapping | None) -> None:
        self._require_writable()
        cal = _calibration(value, self.path)
        self._update_meta(calibration=cal)

    @property
    def attrs(self) -> Mapping[str, Any]:
        """The group's raw zarr attributes (read-only)."""
        self._drain()
        self._require_open()
        return MappingProxyType(json.loads(json.dumps(self._group.attrs.asdict())))

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        state = "complete" if self.complete else "incomplete"
        return (
            f"<MaskStore {self.path!r} mode={self._mode!r}: {self._committed} frames of "
            f"{self.width}x{self.height}, {len(self._ids)} objects, chunk {self.chunk_frames}, "
            f"{state}>"
        )

    def __enter__(self) -> MaskStore:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.close()
        except StoreError:
            if exc_type is None:
                raise  # otherwise the original exception is the more useful one

    def __del__(self):
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=False)
        lock = getattr(self, "_lock", None)
        if lock is not None:  # dropped without close(): like a killed writer, minus the lock
            try:
                lock.release()
            except Exception:  # interpreter shutdown
                pass

    # ------------------------------------------------------------------ reading
    def read_labels(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Committed label frames ``start:stop`` (Python slice rules) as (n, H, W) uint32.

        Examples
        --------
        >>> import numpy as np
        >>> s = MaskStore.create("memory://doc-read", height=2, width=3, overwrite=True)
        >>> s.add_objects([(7, "coral", "prompt")])
        >>> s.append(np.full((4, 2, 3), 7, np.uint32), [0.0, 0.1, 0.2, 0.3])
        >>> s.flush()
        >>> s.read_labels(1, 3).shape
        (2, 2, 3)
        """
        n = self.n_frames
        self._require_open()
        start, stop, _ = slice(start, stop).indices(n)
        if stop <= start:
            return np.zeros((0, self.height, self.width), np.uint32)
        return self._read(self._labels, "labels", start, stop)

    def read_time(self) -> np.ndarray:
        """Times (s, float64) of the committed frames."""
        n = self.n_frames
        self._require_open()
        return self._read(self._time, "time", 0, n) if n else np.zeros(0, np.float64)

    def read_scores(self) -> np.ndarray:
        """Scores (n_frames, n_objects) float32 of the committed frames, in object order."""
        n, k = self.n_frames, len(self._ids)
        self._require_open()
        if n == 0 or k == 0:
            return np.zeros((n, k), np.float32)
        return self._read(self._scores, "scores", 0, n)[:, :k]

    def _read(self, array, name: str, start: int, stop: int) -> np.ndarray:
        """``array[start:stop]``; a damaged chunk is a StoreError naming the frames."""
        try:
            return np.asarray(array[start:stop])
        except Exception as exc:  # a chunk that does not decompress, or vanished
            raise StoreError(
                f"{self.path}: '{name}' frames {start}..{stop - 1} cannot be read; the store is "
                f"damaged ({_short(exc)})"
            ) from None

    # ------------------------------------------------------------------ writing
    def add_objects(self, objects: Iterable) -> None:
        """Register objects; they get score 0.0 on every frame stored before.

        Parameters
        ----------
        objects : list of dict or tuple
            ``{"id": int, "class": str, "source": str}`` (source: "prompt", "discovered",
            "truth", "tracker", ...) or ``(id, class, source)``. Ids are positive and below
            2**32, unique in the store.

        Raises
        ------
        StoreError
            A duplicate or invalid id (the message names it).

        Examples
        --------
        >>> s = MaskStore.create("memory://doc-add", height=2, width=2, overwrite=True)
        >>> s.add_objects([(1, "fish", "prompt"), {"id": 9, "class": "crab", "source": "tracker"}])
        >>> s.object_ids.tolist()
        [1, 9]
        """
        self._require_writable()
        new = _parse_objects(objects, set(self._ids.tolist()), self.path)
        if not new:
            return
        self._drain()
        n_obj = len(self._ids) + len(new)
        self._guard(lambda: self._scores.resize((self._scores.shape[0], n_obj)))
        self._meta["objects"] = self._meta["objects"] + new
        self._save_meta()
        self._index_objects()

    def append(self, labels: Any, time: Any, scores: Any = None) -> None:
        """Append frames (buffered; whole chunks are written in the background).

        Parameters
        ----------
        labels : array of int, shape (n, H, W) or (H, W)
            Instance ids; every non-zero value must be a registered object id. uint32, or any
            integer dtype whose values fit.
        time : float or array of float, shape (n,)
            Frame times in seconds, strictly increasing (also across calls).
        scores : None, array (n, n_objects) or dict {object_id: float or (n,) array}
            Presence scores in :attr:`object_ids` order. ``None`` gives 1.0 where an object
            appears in a frame and 0.0 elsewhere; objects missing from a dict get 0.0.

        Raises
        ------
        StoreError
            Naming the frame (index and time) and the culprit: shape, dtype, time order,
            unregistered label id, bad scores. Nothing is stored from a call that fails.

        Examples
        --------
        >>> import numpy as np
        >>> s = MaskStore.create("memory://doc-append", height=2, width=2, chunk_frames=2,
        ...                      objects=[(5, "fish", "prompt")], overwrite=True)
        >>> s.append(np.array([[0, 5], [0, 0]]), 0.0)  # one frame, int64 is fine
        >>> s.append(np.zeros((2, 2, 2), np.uint32), [0.1, 0.2], scores={5: 0.25})
        >>> s.n_frames  # committed frames: none yet (commits come every 16 frames or on flush)
        0
        >>> s.close()
        >>> MaskStore.open("memory://doc-append").read_scores().ravel().tolist()
        [1.0, 0.25, 0.25]
        """
        self._require_writable()
        start = self._accepted
        labels = self._check_labels(labels, start)
        n = labels.shape[0]
        times = self._check_times(time, n, start)
        if n == 0:
            return
        present = self._check_ids(labels, start, times, per_frame=scores is None)
        rows = self._score_rows(scores, present, n, start, times)
        if self.complete:
            self._update_meta(complete=False)
        # everything is valid: buffer it
        i = 0
        while i < n:
            if self._buf is None:
                self._buf = self._pool.pop() if self._pool else self._new_buffer()
            capacity = self._chunk_end(self._buf_start) - self._buf_start
            k = min(capacity - self._buf_n, n - i)
            self._buf[self._buf_n : self._buf_n + k] = labels[i : i + k]
            self._buf_time.extend(times[i : i + k].tolist())
            self._buf_scores.extend(rows[i : i + k])
            self._buf_n += k
            i += k
            if self._buf_n == capacity:
                self._submit_buffer()
        self._accepted += n
        self._last_time = float(times[-1])

    def flush(self) -> None:
        """Write buffered frames (also a partial chunk) and advance the progress marker.

        For a ``.zip`` store the archive itself is written by :meth:`close`.
        """
        if self._mode != "a" or self._closed:
            return
        if self._error is not None:
            raise StoreError(self._error)
        self._submit_buffer(commit=True)
        self._drain()
        if self._capacity != self._committed:  # arrays grow in steps: cut to length
            self._guard(lambda: self._resize_all(self._committed))

    def mark_complete(self) -> None:
        """Flush and record that the producing run finished (``complete=True``)."""
        self._require_writable()
        self.flush()
        self._update_meta(complete=True)

    def set_provenance(self, **entries: Any) -> None:
        """Add or replace provenance entries (plain JSON data only; never pickles).

        Examples
        --------
        >>> s = MaskStore.create("memory://doc-prov", height=2, width=2, overwrite=True)
        >>> s.set_provenance(engine="classical", parameters={"threshold": 0.5})
        >>> s.provenance["parameters"]
        {'threshold': 0.5}
        """
        self._require_writable()
        new = _json_data(entries, f"{self.path}: provenance")
        prov = dict(self._meta.get("provenance") or {})
        prov.update(new)
        self._update_meta(provenance=prov)

    def close(self) -> None:
        """Flush, finish background writes, write a zip archive, release the store."""
        if self._closed:
            return
        try:
            if self._mode == "a":
                self.flush()
                if self._staging is not None:
                    self._loc.pack(self._staging)
        finally:
            self._closed = True
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            store = getattr(self._group, "store", None)
            if self._loc.is_zip and self._mode == "r" and hasattr(store, "close"):
                store.close()

    # ------------------------------------------------------------------ internals: checks
    def _require_open(self) -> None:
        if self._closed and self._loc.is_zip:
            raise StoreError(f"{self.path}: store is closed; open it again with MaskStore.open")

    def _require_writable(self) -> None:
        if self._mode != "a":
            raise StoreError(f"{self.path}: store is open read-only (open it with mode='a')")
        if self._closed:
            raise StoreError(f"{self.path}: store is closed")
        if self._error is not None:
            raise StoreError(self._error)

    def _check_labels(self, labels: Any, start: int) -> np.ndarray:
        arr = np.asarray(labels)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3 or arr.shape[1:] != (self.height, self.width):
            raise StoreError(
                f"{self.path}: frame {start}: labels of shape {arr.shape} do not fit the store's "
                f"frames of height {self.height} and width {self.width}"
            )
        if arr.dtype == np.uint32:
            return arr
        if arr.dtype.kind not in "iu":
            raise StoreError(
                f"{self.path}: frame {start}: labels must be an integer array, got {arr.dtype}"
            )
        if arr.size:
            lo = arr.min(axis=(1, 2))
            hi = arr.max(axis=(1, 2))
            bad = np.flatnonzero((lo < 0) | (hi > _MAX_ID))
            if bad.size:
                i = int(bad[0])
                value = lo[i] if lo[i] < 0 else hi[i]
                raise StoreError(
                    f"{self.path}: frame {start + i}: label value {value} is outside 0..{_MAX_ID}"
                )
        return arr.astype(np.uint32)

    def _check_times(self, time: Any, n: int, start: int) -> np.ndarray:
        try:
            times = np.atleast_1d(np.asarray(time, dtype=np.float64))
        except (TypeError, ValueError):
            raise StoreError(f"{self.path}: frame {start}: time must be numbers (s)") from None
        if times.shape != (n,):
            raise StoreError(f"{self.path}: frame {start}: {n} label frames but {times.size} times")
        bad = np.flatnonzero(~np.isfinite(times))
        if bad.size:
            i = int(bad[0])
            raise StoreError(f"{self.path}: frame {start + i}: time {times[i]} is not finite")
        prev = np.concatenate(([-np.inf if self._last_time is None else self._last_time], times))
        bad = np.flatnonzero(np.diff(prev) <= 0)
        if bad.size:
            i = int(bad[0])
            raise StoreError(
                f"{self.path}: frame {start + i}: time {times[i]:.6g} s is not after the previous "
                f"frame's {prev[i]:.6g} s (times must increase)"
            )
        return times

    def _check_ids(self, labels, start, times, per_frame: bool) -> list[np.ndarray] | None:
        """Every label value is a registered id; the ids on each frame if ``per_frame``."""
        if not per_frame:
            # fast path: ids 1..m all registered and no frame holds a value above m
            top = labels.max(axis=(1, 2))
            if top.max() <= self._dense_top:
                return None
            suspects = np.flatnonzero(top > self._dense_top)
        else:
            suspects = range(labels.shape[0])
        present = []
        for i in suspects:
            ids = present_ids(labels[i])
            unknown = ids[~np.isin(ids, self._ids)]
            if unknown.size:
                raise StoreError(
                    f"{self.path}: frame {start + i} (t={times[i]:.3f} s): label {unknown[0]} "
                    "is not a registered object id (register it with add_objects first)"
                )
            present.append(ids)
        return present if per_frame else None

    def _score_rows(self, scores, present, n, start, times) -> np.ndarray:
        k = len(self._ids)
        rows = np.zeros((n, k), np.float32)
        if scores is None:
            for i, ids in enumerate(present):
                rows[i, self._columns(ids)] = 1.0
            return rows
        if isinstance(scores, Mapping):
            for oid, value in scores.items():
                col = self._column_of.get(int(oid)) if _is_int(oid) else None
                if col is None:
                    raise StoreError(
                        f"{self.path}: frame {start}: score given for object {oid!r}, which is "
                        "not registered (add_objects first)"
                    )
                try:
                    rows[:, col] = np.asarray(value, dtype=np.float32)
                except (TypeError, ValueError):
                    raise StoreError(
                        f"{self.path}: frame {start}: score of object {oid} must be a number or "
                        f"{n} numbers, got {value!r}"
                    ) from None
        else:
            try:
                arr = np.asarray(scores, dtype=np.float32)
            except (TypeError, ValueError):
                raise StoreError(f"{self.path}: frame {start}: scores must be numbers") from None
            if arr.shape == (k,) and n == 1:
                arr = arr[None]
            if arr.shape != (n, k):
                raise StoreError(
                    f"{self.path}: frame {start}: scores of shape {arr.shape}, expected "
                    f"{(n, k)} (frames, objects in object_ids order)"
                )
            rows[:] = arr
        bad = np.argwhere(~np.isfinite(rows))
        if bad.size:
            i, j = (int(v) for v in bad[0])
            raise StoreError(
                f"{self.path}: frame {start + i} (t={times[i]:.3f} s): score of object "
                f"{int(self._ids[j])} is not finite"
            )
        return rows

    # ------------------------------------------------------------------ internals: state
    def _index_objects(self) -> None:
        self._ids = np.array([o["id"] for o in self._meta["objects"]], dtype=np.int64)
        self._column_of = {int(oid): col for col, oid in enumerate(self._ids)}
        order = np.argsort(self._ids, kind="stable")
        self._sorted_ids, self._sorted_cols = self._ids[order], order
        # largest m with 1..m all registered: label images below it need no id lookup
        dense = self._sorted_ids == np.arange(1, len(order) + 1)
        self._dense_top = int(np.argmin(dense)) if not dense.all() else len(order)

    def _columns(self, ids: np.ndarray) -> np.ndarray:
        return self._sorted_cols[np.searchsorted(self._sorted_ids, ids)]

    def _chunk_end(self, frame: int) -> int:
        return (frame // self.chunk_frames + 1) * self.chunk_frames

    def _new_buffer(self) -> np.ndarray:
        return np.empty((self.chunk_frames, self.height, self.width), np.uint32)

    def _meta_record(self, frames: int) -> dict[str, Any]:
        return {**self._meta, "frames_written": frames}

    def _save_meta(self) -> None:
        """Write the attributes now (callers drain first: the marker stays where it is)."""
        self._guard(lambda: self._commit_marker(self._meta_record(self._committed)))

    def _update_meta(self, **changes: Any) -> None:
        """Change attributes (after the writes in flight, which read ``_meta``)."""
        self._drain()
        self._meta.update(changes)
        self._save_meta()

    def _guard(self, action) -> Any:
        try:
            return action()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"{self.path}: writing the store failed: {_short(exc)}") from exc

    # ------------------------------------------------------------------ internals: writing
    # Main thread: validates, fills chunk buffers, hands full chunks to a pool of writer
    # threads (several chunks compress at once), tracks which frames are written, and submits
    # commits (time/score rows, then the marker) strictly in order, one at a time, covering only
    # frames whose label chunks are already written. Array resizes happen on the main thread
    # with nothing in flight.
    def _submit_buffer(self, commit: bool = False) -> None:
        """Hand the filled buffer to the writers; request a commit every COMMIT_FRAMES frames
        submitted, or now if ``commit``."""
        t0, k = self._buf_start, self._buf_n
        if k:
            scores = np.zeros((k, len(self._ids)), np.float32)
            for i, row in enumerate(self._buf_scores):
                scores[i, : row.size] = row  # objects added later score 0 on earlier frames
            self._rows.append((np.asarray(self._buf_time, np.float64), scores))
            buf = self._buf
            self._buf, self._buf_n, self._buf_start = None, 0, t0 + k
            self._buf_time, self._buf_scores = [], []
            if t0 + k > self._capacity:  # grow the arrays ahead, in steps
                self._drain()
                grown = max(t0 + k, self._capacity + max(self._capacity // 4, 16 * len(buf)))
                self._resize_all(-(-grown // self.chunk_frames) * self.chunk_frames)
            self._collect(keep=self._max_inflight - 1)
            future = self._writers().submit(self._write_labels, t0, buf[:k])
            self._inflight.append((future, buf, t0 + k))
        if commit or self._buf_start - self._commit_requested >= COMMIT_FRAMES:
            self._commit_requested = self._buf_start
        self._collect(keep=0 if commit else len(self._inflight))  # commit: wait for the chunks
        self._maybe_commit()

    def _maybe_commit(self) -> None:
        """Submit the requested commit once the label chunks it covers are written."""
        if self._commit_target < self._commit_requested <= self._written:
            self._submit_commit(self._commit_requested)

    def _writers(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self._writer_threads, thread_name_prefix="ecoseg-store-writer"
            )
        return self._executor

    def _write_labels(self, t0: int, labels: np.ndarray) -> None:  # writer thread
        self._labels[t0 : t0 + len(labels)] = labels

    def _submit_commit(self, target: int) -> None:
        """Commit frames up to ``target``: their time and score rows, then the marker."""
        self._finish_commit()
        start = self._commit_target
        times, blocks, have = [], [], start
        while have < target:
            t, sc = self._rows.popleft()
            times.append(t)
            blocks.append(sc)
            have += len(t)
        rows = np.zeros((target - start, len(self._ids)), np.float32)
        at = 0
        for block in blocks:
            rows[at : at + len(block), : block.shape[1]] = block
            at += len(block)
        meta = self._meta_record(target)  # a snapshot: the main thread may change _meta
        future = self._writers().submit(
            self._write_commit, start, target, np.concatenate(times), rows, meta
        )
        self._commit = (future, target)
        self._commit_target = target

    def _write_commit(self, start, stop, times, rows, meta) -> None:  # writer thread
        from zarr.core.sync import sync

        async def write():
            jobs = [self._time.async_array.setitem(slice(start, stop), times)]
            if rows.shape[1]:
                jobs.append(self._scores.async_array.setitem(slice(start, stop), rows))
            await asyncio.gather(*jobs)

        sync(write())
        self._commit_marker(meta)

    def _commit_marker(self, meta: dict) -> None:
        self._group.attrs[ATTRS_KEY] = meta

    def _collect(self, keep: int) -> None:
        """Wait until at most ``keep`` label writes are in flight; note the written frames."""
        while len(self._inflight) > keep or (self._inflight and self._inflight[0][0].done()):
            future, buf, stop = self._inflight.popleft()
            self._check(future)
            self._written = stop
            if len(buf) == self._buffer_frames:
                self._pool.append(buf)

    def _finish_commit(self) -> None:
        if self._commit is not None:
            future, target = self._commit
            self._commit = None
            self._check(future)
            self._committed = target

    def _check(self, future: Future) -> None:
        exc = future.exception()
        if exc is None:
            return
        if self._error is None:
            self._error = (
                f"{self.path}: writing frames from {self._committed} on failed "
                f"({_short(exc)}); the store keeps the {self._committed} committed frames, "
                "resume with MaskStore.open(path, mode='a')"
            )
        for other, _, _ in self._inflight:
            other.cancel()
        self._inflight.clear()
        raise StoreError(self._error) from exc

    def _drain(self) -> None:
        """Wait for every write in flight (label chunks and the commit)."""
        self._collect(keep=0)
        self._maybe_commit()
        self._finish_commit()

    def _resize_all(self, length: int) -> None:
        for arr in (self._labels, self._time, self._scores):
            if arr.shape[0] != length:
                arr.resize((length, *arr.shape[1:]))
        self._capacity = length

    def _discard_uncommitted(self) -> None:
        """Resume: cut arrays back to the marker and the object table (mode "a")."""
        n, k = self._committed, len(self._ids)

        def trim():
            if self._scores.shape[1] > k:
                if self._scores.shape[0]:
                    self._scores[:, k:] = 0  # so the columns read 0 if objects are added later
                self._scores.resize((self._scores.shape[0], k))
            self._resize_all(n)

        self._guard(trim)
        root = self._staging or self._loc.local
        if root is not None and root.is_dir():
            for leftover in root.rglob("*.partial"):  # temporary files of a killed write
                leftover.unlink(missing_ok=True)


def _positive_int(value: Any, name: str, loc: _Location) -> int:
    if not _is_int(value) or int(value) < 1:
        raise StoreError(f"{loc}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _labels_codec():
    import zarr

    return zarr.codecs.BloscCodec(**LABELS_CODEC)


def _validate(group, loc: _Location) -> dict[str, Any]:
    """Check a zarr group is an ecoseg store of a supported version; return its metadata."""
    if group.metadata.zarr_format != 3:
        raise StoreError(
            f"{loc}: a zarr v{group.metadata.zarr_format} group; ecoseg stores are zarr v3"
        )
    meta = group.attrs.asdict().get(ATTRS_KEY)
    if not isinstance(meta, Mapping) or meta.get("format") != STORE_FORMAT:
        raise StoreError(
            f"{loc}: not an ecoseg mask store (a zarr group without '{ATTRS_KEY}' attributes "
            f"of format {STORE_FORMAT!r})"
        )
    meta = json.loads(json.dumps(meta))
    version = meta.get("version")
    if not _is_int(version):
        raise StoreError(f"{loc}: invalid store version {version!r}")
    if version > STORE_VERSION:
        raise StoreError(
            f"{loc}: store version {version} was written by a newer ecoseg "
            f"({meta.get('ecoseg_version', '?')}); this ecoseg {__version__} reads version "
            f"{STORE_VERSION}: upgrade ecoseg"
        )
    if version < STORE_VERSION:
        raise StoreError(
            f"{loc}: store version {version} is older than this ecoseg {__version__} supports "
            f"(version {STORE_VERSION}); re-create the store"
        )
    import zarr

    arrays = {}
    for name, (dtype, dims, _) in _ARRAYS.items():
        try:
            arr = group[name]
        except KeyError:
            raise StoreError(f"{loc}: the store has no '{name}' array") from None
        except Exception as exc:  # unreadable metadata, unknown (e.g. pickle) codec, ...
            raise StoreError(
                f"{loc}: the '{name}' array cannot be opened ({_short(exc)})"
            ) from None
        if not isinstance(arr, zarr.Array):
            raise StoreError(f"{loc}: the store has no '{name}' array (a group of that name)")
        if arr.dtype != dtype or arr.ndim != len(dims):
            raise StoreError(
                f"{loc}: '{name}' must be a {len(dims)}-d {dtype} array {dims}, found a "
                f"{arr.ndim}-d {arr.dtype} array"
            )
        found = tuple(arr.metadata.dimension_names or ())
        if found != dims:
            raise StoreError(f"{loc}: '{name}' has dimension names {found}, expected {dims}")
        arrays[name] = arr
    n = meta.get("frames_written")
    if not _is_int(n) or n < 0:
        raise StoreError(f"{loc}: the progress marker 'frames_written' is missing or invalid")
    for name, arr in arrays.items():
        if arr.shape[0] < n:
            raise StoreError(
                f"{loc}: '{name}' holds {arr.shape[0]} frames but the progress marker says "
                f"{n} were written"
            )
    objects = meta.get("objects")
    if not isinstance(objects, list):
        raise StoreError(f"{loc}: the object table is missing")
    try:
        _parse_objects(objects, set(), str(loc))
    except StoreError as exc:
        raise StoreError(f"{exc} (in the object table)") from None
    if arrays["scores"].shape[1] < len(objects):
        raise StoreError(
            f"{loc}: 'scores' has {arrays['scores'].shape[1]} object columns but the object "
            f"table lists {len(objects)} objects"
        )
    if not isinstance(meta.get("provenance", {}), Mapping):
        raise StoreError(f"{loc}: provenance is not a JSON object")
    cal = meta.get("calibration")
    if cal is not None and not isinstance(cal, Mapping):
        raise StoreError(f"{loc}: calibration is not a JSON object")
    _calibration(cal, f"{loc} (stored calibration)")
    video = meta.get("provenance", {}).get("video")
    size = (arrays["labels"].shape[2], arrays["labels"].shape[1])
    if isinstance(video, Mapping):
        made = video.get("size") or [video.get("width"), video.get("height")]
        if isinstance(made, list) and len(made) == 2 and all(_is_int(v) for v in made):
            if tuple(made) != size:
                raise StoreError(
                    f"{loc}: 'labels' frames are {size[0]}x{size[1]} but the video they were "
                    f"made from is {made[0]}x{made[1]}"
                )
    meta.setdefault("complete", False)
    meta.setdefault("provenance", {})
    meta.setdefault("calibration", None)
    return meta


# ---------------------------------------------------------------------------- xarray view
def open_masks(path: Any) -> Any:
    """Open a mask store as a lazy :class:`xarray.Dataset`.

    Parameters
    ----------
    path : str, Path, URL, zarr Store or MaskStore
        Store location (local folder, ``.zip``, ``memory://``, fsspec URL).

    Returns
    -------
    xarray.Dataset
        Data variables ``labels`` (t, y, x) uint32 (lazy: dask-backed when dask is installed,
        otherwise read frame by frame on indexing) and ``scores`` (t, object) float32;
        coordinates ``t`` (frame index), ``time`` (t, seconds), ``object`` (ids),
        ``object_class`` and ``object_source``. Units in each variable's ``attrs["units"]``.
        Dataset attributes: ``provenance`` (dict), ``calibration`` (dict or None),
        ``mm_per_px`` (only when calibrated), ``objects`` (list of dicts), ``complete``,
        ``ecoseg_version`` (writer), ``store_version``, ``store``. Only committed frames
        appear.

    Examples
    --------
    >>> import numpy as np
    >>> s = MaskStore.create("memory://doc-xr", height=3, width=4, overwrite=True,
    ...                      objects=[(2, "urchin", "truth")])
    >>> s.append(np.full((2, 3, 4), 2, np.uint32), [0.0, 0.5])
    >>> s.close()
    >>> ds = open_masks("memory://doc-xr")
    >>> dict(ds.labels.sizes), ds.time.attrs["units"], ds.object_class.values.tolist()
    ({'t': 2, 'y': 3, 'x': 4}, 's', ['urchin'])
    """

    store = path if isinstance(path, MaskStore) else MaskStore.open(path)
    n = store.n_frames
    store._require_open()
    objects = store.objects
    k = len(objects)
    try:
        ds = _open_with_xarray(store)
    except Exception:  # e.g. arrays of different lengths past the progress marker (killed run)
        ds = _open_by_hand(store, n, k)
    ds = ds.isel(t=slice(0, n), object=slice(0, k))
    ds = ds.set_coords("time").assign_coords(
        t=("t", np.arange(n, dtype=np.int64), {"long_name": "frame index"}),
        object=("object", store.object_ids, {"long_name": "object id"}),
        object_class=("object", np.array([o["class"] for o in objects], dtype=object)),
        object_source=("object", np.array([o["source"] for o in objects], dtype=object)),
    )
    time = ds["time"].attrs
    ds = ds.assign_coords(time=("t", store.read_time(), time))  # small: load it
    ds["time"].attrs.update(units="s", long_name="frame time")
    ds["labels"].attrs.update(units="instance id", long_name="instance label")
    ds["scores"].attrs.update(units="1", long_name="object presence score")
    cal = store.calibration
    ds.attrs = {
        "provenance": store.provenance,
        "calibration": cal,
        "objects": objects,
        "complete": store.complete,
        "ecoseg_version": store._meta.get("ecoseg_version", ""),
        "store_version": STORE_VERSION,
        "store": store.path,
    }
    if cal and cal.get("mm_per_px"):
        ds.attrs["mm_per_px"] = float(cal["mm_per_px"])
    return ds


def _open_with_xarray(store: MaskStore):
    import importlib.util

    import xarray as xr

    chunks = {} if importlib.util.find_spec("dask") is not None else None
    ds = xr.open_dataset(
        store._group.store,
        engine="zarr",
        group=store._group.path or None,
        consolidated=False,
        zarr_format=3,
        chunks=chunks,
        cache=False,
        mask_and_scale=False,
        decode_times=False,
        decode_timedelta=False,
        decode_coords=False,
    )
    return ds[["labels", "time", "scores"]]


def _open_by_hand(store: MaskStore, n: int, k: int):
    """The committed ``n`` frames and ``k`` objects of each array, wrapped lazily."""
    import xarray as xr
    from xarray.core import indexing

    def lazy(arr, dims, *keep):
        var = xr.Variable(dims, indexing.LazilyIndexedArray(_zarr_backend_array(arr)))
        return var[tuple(slice(0, m) for m in keep)]

    return xr.Dataset(
        {
            "labels": lazy(store.labels, ("t", "y", "x"), n),
            "time": lazy(store.time, ("t",), n),
            "scores": lazy(store.scores, ("t", "object"), n, k),
        }
    )


_BACKEND_ARRAY = None


def _zarr_backend_array(array):
    """Lazy xarray access to a zarr array (used when xarray's zarr backend cannot open it)."""
    global _BACKEND_ARRAY
    if _BACKEND_ARRAY is None:
        from xarray.backends import BackendArray
        from xarray.core import indexing

        class ZarrBackendArray(BackendArray):
            def __init__(self, array):
                self.array = array
                self.shape = tuple(array.shape)
                self.dtype = np.dtype(array.dtype)

            def __getitem__(self, key):
                return indexing.explicit_indexing_adapter(
                    key, self.shape, indexing.IndexingSupport.BASIC, self._getitem
                )

            def _getitem(self, key):
                return np.asarray(self.array[key])

        _BACKEND_ARRAY = ZarrBackendArray
    return _BACKEND_ARRAY(array)


Location = _Location  # public name until the store package lands (house-study)
