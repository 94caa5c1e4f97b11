"""One measure at a time writing tables into a folder: the lock file ``.measure.lock`` in it.

Two measures into one folder at once would each stage and rename the same files, and leave a
set that is half one run's and half the other's (or the other's tables replaced without
``--overwrite``). The second is refused instead, in one line naming the folder, before it
measures anything. The lock is taken before the folder's tables are checked, so a run that
waited for nothing finds the first run's tables there and needs ``--overwrite`` as usual.

A lock left by a measure that was killed (``kill -9``) on this machine is stale (its process
is gone) and is taken over; one of another machine (a shared disk) cannot be checked and is
respected: the refusal says which file to delete.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ecoseg.errors import ConfigError

__all__ = ["LOCK", "tables_lock"]

#: The lock file's name in the tables' folder (hidden, removed when the run ends).
LOCK = ".measure.lock"


@contextlib.contextmanager
def tables_lock(folder: str | os.PathLike | None) -> Iterator[None]:
    """Hold the tables' folder (made if missing) for one measure; ``None``: nothing to hold.

    A folder made here and left empty (the measure refused, e.g. a calibration outside the
    frame) is removed again when the run ends.

    Raises
    ------
    ConfigError
        Another measure, running, holds the folder.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "tables"
    >>> with tables_lock(out):
    ...     with tables_lock(out):
    ...         pass  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...tables: another ecoseg measure (process ...) is writing ...
    >>> out.exists()  # made for the run, left empty: removed
    False
    """
    if folder is None:
        yield
        return
    folder = Path(folder)
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        _take(path, record, folder)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                if _read(path) == record:
                    path.unlink()
    finally:
        if made:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: nothing was written


def _take(path: Path, record: dict, folder: Path) -> None:
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _read(path)
            if holder is not None and not _stale(holder, path):
                raise ConfigError(_refusal(folder, holder, path)) from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # a killed measure's: taken over
            continue
        try:
            os.write(fd, json.dumps(record).encode())
        finally:
            os.close(fd)
        return
    raise ConfigError(f"{folder}: could not lock it for measure ({path}: another measure races)")


def _read(path: Path) -> dict | None:
    """The lock's record, ``{}`` for one that is garbled (a measure killed as it made it,
    or one making it now), None for none."""
    try:
        holder = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _stale(holder: dict, path: Path) -> bool:
    from ecoseg.store.lock import pid_alive

    pid = holder.get("pid")
    if not holder:  # garbled: stale once older than a measure takes to write it
        try:
            return datetime.now().timestamp() - path.stat().st_mtime > 10
        except OSError:
            return True
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False  # another machine's: cannot be checked
    return pid != os.getpid() and not pid_alive(pid)


def _refusal(folder: Path, holder: dict, path: Path) -> str:
    who = f"process {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    since = f", since {holder['created']}" if holder.get("created") else ""
    return (
        f"{folder}: another ecoseg measure ({who}{since}) is writing tables into this "
        f"folder; wait for it to finish or measure into another folder (if it no longer "
        f"runs, delete {path})"
    )
