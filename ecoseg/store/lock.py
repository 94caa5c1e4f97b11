"""One writer per local store: the lock file beside it (``.NAME.lock``).

The file holds pid, host and process start time. A lock left by a killed process is stale and
is taken over (same host: its pid is gone or belongs to a newer process; same process: its
store object was closed or dropped). A lock from another host is respected: delete the file by
hand if that writer is gone. URLs and zarr ``Store`` objects are not locked.
"""

from __future__ import annotations

import json
import os
import socket
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ecoseg._version import __version__
from ecoseg.errors import StoreError
from ecoseg.store._util import short_error
from ecoseg.store.location import Location

__all__ = ["WriterLock", "check_no_writer", "live_writer", "lock_path", "pid_alive"]


class Holder(Protocol):
    """What holds a lock: anything that says whether it is closed (a MaskStore)."""

    @property
    def closed(self) -> bool: ...


#: Stores open for writing in this process: lock file -> the object holding it.
HELD: weakref.WeakValueDictionary[str, Holder] = weakref.WeakValueDictionary()


def lock_path(path: Any) -> Path | None:
    """The writer-lock file of a local store (``.NAME.lock`` beside it), or None for URLs.

    Examples
    --------
    >>> lock_path("surveys/reef.zarr").as_posix()
    'surveys/.reef.zarr.lock'
    >>> lock_path("s3://bucket/reef.zarr") is None
    True
    """
    loc = path if isinstance(path, Location) else Location(path)
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


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie counts as gone).

    Examples
    --------
    >>> pid_alive(os.getpid())
    True
    """
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
    found = _live_holder(path)
    if found is not None:
        raise StoreError(found[0]._refusal(found[1]))


def live_writer(path: Any) -> str | None:
    """Who is writing the store at ``path`` now, from another process (``"process 12 on host
    h since 2026-01-05T10:00:00+00:00"``), or None: no lock, a stale one, or this process's.

    For readers of a store whose run has not finished: one still being written is not an
    interrupted run, so its message says to wait, not to ``--resume`` (which the lock refuses).

    Examples
    --------
    >>> live_writer("memory://nothing-here") is None  # URLs are never locked
    True
    """
    found = _live_holder(path)
    if found is None or found[0]._ours(found[1]):
        return None
    return found[0]._who(found[1])


def _live_holder(path: Any) -> tuple[WriterLock, dict | None] | None:
    """The lock of the store at ``path`` and its live holder's record, or None (no lock file,
    a URL, or a stale lock)."""
    loc = path if isinstance(path, Location) else Location(path)
    lock_file = lock_path(loc)
    if lock_file is None or not lock_file.exists():
        return None
    probe = WriterLock(lock_file, loc.text)
    holder = probe._read()
    return None if probe._stale(holder) else (probe, holder)


class WriterLock:
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
    def acquire(cls, loc: Location) -> WriterLock | None:
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
                    f"{loc}: cannot remove the stale writer lock {path} ({short_error(exc)})"
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
                f"{self.store_text}: cannot create the writer lock {self.path} ({short_error(exc)})"
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
            owner = HELD.get(str(self.path))
            if owner is not None and not owner.closed:
                import gc

                gc.collect()  # a store dropped without close() may wait in a reference cycle
                owner = HELD.get(str(self.path))
            return owner is None or owner.closed
        if not pid_alive(pid):
            return True
        start = holder.get("start")
        return start is not None and start != _process_start(pid)

    def _ours(self, holder: dict | None) -> bool:
        """Whether ``holder`` is this process."""
        holder = holder or {}
        return holder.get("pid") == os.getpid() and holder.get("host") == self.record["host"]

    def _who(self, holder: dict | None) -> str:
        """The holder in words: ``process PID on host HOST since CREATED``."""
        holder = holder or {}
        who = f"process {holder.get('pid', '?')} on host {holder.get('host', '?')}"
        if self._ours(holder):
            who = "another MaskStore in this process (close it first)"
        return who + (f" since {holder['created']}" if holder.get("created") else "")

    def _refusal(self, holder: dict | None) -> str:
        return (
            f"{self.store_text}: another writer has this store open ({self._who(holder)}); two "
            f"writers would corrupt it. Wait for it to finish; if that process is no longer "
            f"running, delete {self.path}"
        )

    def hold(self, owner: Holder) -> None:
        """Record ``owner`` as this process's holder (a closed or dropped owner: stale lock)."""
        HELD[str(self.path)] = owner

    def release(self) -> None:
        """Remove the lock file if it is still ours."""
        HELD.pop(str(self.path), None)
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
