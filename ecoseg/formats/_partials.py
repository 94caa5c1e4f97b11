"""An export's partial output: the hidden name it is written under beside the output before it
is renamed into place (:func:`partial_name`), and what exports killed on this machine left
there (:func:`remove_stale_partials`).

An export that fails or is interrupted removes its partial output itself; one that is killed
cannot, and the next export of the same output removes it.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

__all__ = ["host_tag", "partial_name", "remove_path", "remove_stale_partials"]


def partial_name(name: str, pid: int | None = None) -> str:
    """The hidden name an export writes ``name`` under before renaming it: this machine's name
    and the process id, so a later export can tell a killed one's leftover from a running one.

    Examples
    --------
    >>> partial_name("masks.json", 42) == f".masks.json.partial-{host_tag()}-42"
    True
    """
    return f".{name}.partial-{host_tag()}-{os.getpid() if pid is None else pid}"


def host_tag() -> str:
    """This machine's name as it goes into a file name (``[A-Za-z0-9._-]`` only)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"


def remove_stale_partials(full: Path) -> list[Path]:
    """Remove what exports of ``full`` killed on this machine left beside it
    (``.NAME.partial-HOST-PID`` of a process that is gone, and its ``.spill`` file, where
    YouTube-VIS and CVAT keep each object's pieces; ``.NAME.partial-PID`` as older versions
    named it, taken as this machine's). Leftovers of a running process or of another
    machine (a shared disk: its processes cannot be checked) are left alone.

    Returns
    -------
    list of Path
        What was removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / ".a.json.partial-999999999").write_text("{")
    1
    >>> [p.name for p in remove_stale_partials(d / "a.json")]
    ['.a.json.partial-999999999']
    """
    from ecoseg.store.lock import pid_alive

    pattern = re.compile(rf"\.{re.escape(full.name)}\.partial-(?:(.+)-)?(\d+)(?:\.spill)?")
    host = host_tag()
    removed = []
    try:
        siblings = list(full.parent.iterdir())
    except OSError:
        return removed
    for p in siblings:
        match = pattern.fullmatch(p.name)
        if not match or match[1] not in (None, host):
            continue
        pid = int(match[2])
        if pid == os.getpid() or pid_alive(pid):
            continue
        try:
            remove_path(p)
        except FileNotFoundError:
            continue  # another export removed it first
        removed.append(p)
    return removed


def remove_path(path: Path) -> None:
    """Remove a file, or a folder and everything in it (an export's partial output, a DAVIS
    folder it replaces)."""
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
