"""An export's partial output: the hidden name it is written under beside the output before it
is renamed into place (:func:`partial_name`, :func:`replace_path`), and what exports killed on
this machine left there (:func:`remove_stale_partials`).

An export that fails or is interrupted removes its partial output itself; one that is killed
cannot, and the next export of the same output removes it. A folder it replaces (DAVIS) is
renamed aside (:func:`aside_name`) until the new one is in: one killed between the two renames
leaves the old aside, and the next export of that output puts it back. Files renamed in
together (a MOT ground-truth file and its ``labels.txt``, :func:`replace_together`) are
undone the same way: one killed before its last rename has its earlier files put back by the
next export, or, where there were none, the files it renamed in removed (an empty
:func:`added_name` marker beside each says it added it). Replacing a folder
removes only the files an export wrote there (:data:`FOLDER_FILE`): what else the old one holds
(``.DS_Store``, ``.git``, a user's ``.notes``) is moved into the new one (:func:`carry_over`).
"""

from __future__ import annotations

import errno
import os
import re
import socket
from pathlib import Path

__all__ = [
    "FOLDER_FILE",
    "added_name",
    "aside_name",
    "carry_over",
    "check_nothing_to_undo",
    "host_tag",
    "left_to_undo",
    "partial_name",
    "remove_path",
    "remove_stale_partials",
    "replace_path",
    "replace_together",
]


#: the name of a file an export writes into a folder: a DAVIS frame's PNG (``00042.png``)
FOLDER_FILE = re.compile(r"\d{5,}\.png")


def partial_name(name: str, pid: int | None = None) -> str:
    """The hidden name an export writes ``name`` under before renaming it: this machine's name
    and the process id, so a later export can tell a killed one's leftover from a running one.

    Examples
    --------
    >>> partial_name("masks.json", 42) == f".masks.json.partial-{host_tag()}-42"
    True
    """
    return f".{name}.partial-{host_tag()}-{os.getpid() if pid is None else pid}"


def aside_name(name: str, pid: int | None = None) -> str:
    """The hidden name an existing output folder ``name`` is renamed to while
    :func:`replace_path` puts a new one in its place (this machine's name and the process id,
    as :func:`partial_name`).

    Examples
    --------
    >>> aside_name("pngs", 42) == f".pngs.replaced-{host_tag()}-42"
    True
    """
    return f".{name}.replaced-{host_tag()}-{os.getpid() if pid is None else pid}"


def added_name(name: str, pid: int | None = None) -> str:
    """The hidden name of the empty marker :func:`replace_together` leaves beside a file
    ``name`` it renames in where there was none, until every file of the set is in: a later
    export then tells a file a killed export added from a user's (this machine's name and the
    process id, as :func:`partial_name`).

    Examples
    --------
    >>> added_name("gt.txt", 42) == f".gt.txt.added-{host_tag()}-42"
    True
    """
    return f".{name}.added-{host_tag()}-{os.getpid() if pid is None else pid}"


def left_to_undo(full: Path) -> bool:
    """Whether this process's :func:`replace_together` left ``full``'s set unfinished (a
    failed rename whose undo failed too): an earlier file still aside, or the marker of one
    it added. Its partial files are then kept, since they tell the next export that the set
    is not whole (:func:`remove_stale_partials`)."""
    return any(
        os.path.lexists(full.with_name(name(full.name))) for name in (aside_name, added_name)
    )


def check_nothing_to_undo(full: Path) -> None:
    """Refuse to replace ``full`` where this process's :func:`replace_together` left its set
    unfinished (:func:`left_to_undo`), naming what it left: renaming a new file in would
    lose the earlier file aside, or the sign that ``full`` is a failed export's.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_nothing_to_undo(d / "gt.txt")
    >>> _ = (d / aside_name("gt.txt")).write_text("1")
    >>> try:
    ...     check_nothing_to_undo(d / "gt.txt")
    ... except FileExistsError as exc:
    ...     print(exc.strerror.split(";")[0])
    an earlier gt.txt is still set aside there by an export that failed part-way
    """
    aside = full.with_name(aside_name(full.name))
    if os.path.lexists(aside):  # replacing it would lose that earlier file
        raise FileExistsError(
            errno.EEXIST,
            f"an earlier {full.name} is still set aside there by an export that failed "
            f"part-way; rename it back to {full.name} or remove it",
            str(aside),
        )
    added = full.with_name(added_name(full.name))
    if os.path.lexists(added):
        raise FileExistsError(
            errno.EEXIST,
            f"{full.name} there is an export's that failed part-way (it had none before it): "
            f"remove both",
            str(added),
        )


def replace_path(part: Path, full: Path) -> None:
    """Rename the finished output ``part`` to ``full``, replacing what is there: a file in one
    rename; a folder (which a rename cannot replace) renamed aside (:func:`aside_name`), the
    new one renamed in, then the old one removed. At no moment is there no output: a failed
    second rename puts the old folder back, and an export killed between the two leaves it
    aside for the next export of ``full`` to put back (:func:`remove_stale_partials`).

    What the old folder holds that an export does not write (a hidden ``.DS_Store`` or
    ``.git``) is moved into the new one (:func:`carry_over`); it was removed with the old.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "new").mkdir(); (d / "new" / "00000.png").write_bytes(b"b")
    1
    >>> (d / "out").mkdir(); (d / "out" / "00001.png").write_bytes(b"a")
    1
    >>> (d / "out" / ".notes").write_text("site A")
    6
    >>> replace_path(d / "new", d / "out")
    >>> sorted(p.name for p in d.iterdir()), sorted(p.name for p in (d / "out").iterdir())
    (['out'], ['.notes', '00000.png'])
    """
    if not full.is_dir():
        os.replace(part, full)
        return
    aside = full.with_name(aside_name(full.name))
    os.replace(full, aside)
    try:
        os.replace(part, full)
    except BaseException:
        os.replace(aside, full)  # the old output back as it was
        raise
    try:
        carry_over(aside, full)
        remove_path(aside)
    except OSError:
        pass  # the new output is in place; the next export carries over and removes the rest


def replace_together(moves: list[tuple[Path, Path]]) -> None:
    """Rename each finished file ``part`` of ``moves`` (``(part, full)`` pairs: a MOT
    ground-truth file and its ``labels.txt``) to its ``full``, all of them or none: a file
    already at a ``full`` is renamed aside (:func:`aside_name`) until every new one is in,
    then removed (the last is replaced in its one rename), and one renamed in where there was
    none has an empty marker beside it (:func:`added_name`) until then; a failed rename takes
    out the new files renamed in before it (removed, or replaced by what was there again) and
    raises. A file that was there is never removed before the last rename is done, nor an
    earlier one aside replaced (refused: a failed undo of this process left it there); an
    export killed part-way, or whose undo failed too, leaves it aside for the next export of
    that output (:func:`remove_stale_partials`), which puts it back (over the new file, where
    that was renamed in: the last file's partial still there says the set is not whole) or,
    once every new file is in, removes it; a file it added it removes where the set is not
    whole.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name, text in (("gt.new", "2"), ("labels.new", "cod"), ("gt.txt", "1")):
    ...     _ = (d / name).write_text(text)
    >>> replace_together([(d / "gt.new", d / "gt.txt"), (d / "labels.new", d / "labels.txt")])
    >>> sorted(p.name for p in d.iterdir()), (d / "gt.txt").read_text()
    (['gt.txt', 'labels.txt'], '2')
    """
    # (full, where the file there was put aside, the marker of one added where none was)
    done: list[tuple[Path, Path | None, Path | None]] = []
    try:
        for k, (part, full) in enumerate(moves):
            aside = added = None
            if k < len(moves) - 1:
                if os.path.lexists(full):
                    check_nothing_to_undo(full)
                    aside = full.with_name(aside_name(full.name))
                    os.replace(full, aside)
                else:
                    added = full.with_name(added_name(full.name))
                    added.touch()
            try:
                os.replace(part, full)
            except BaseException:
                if aside is not None:
                    os.replace(aside, full)
                if added is not None:
                    added.unlink()
                raise
            done.append((full, aside, added))
    except BaseException:
        for full, aside, added in reversed(done):  # the new files out again, the old back
            if aside is not None:
                os.replace(aside, full)
            else:
                full.unlink()
            if added is not None:
                added.unlink()
        raise
    for _, aside, added in done:
        for left in (added, aside):  # the set is whole once the markers are gone
            if left is not None:
                try:
                    left.unlink()
                except OSError:
                    pass  # the new files are in place; the next export removes it


def carry_over(old: Path, new: Path) -> None:
    """Move what the folder ``old`` holds that an export does not write (a name other than
    :data:`FOLDER_FILE`'s: ``.DS_Store``, ``.git``, a user's ``.notes``) into the folder
    ``new``, where ``new`` has nothing of that name, so removing ``old`` removes only an
    export's own files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("old", "new"):
    ...     (d / name).mkdir()
    >>> for name in ("00000.png", ".DS_Store"):
    ...     _ = (d / "old" / name).write_bytes(b"x")
    >>> carry_over(d / "old", d / "new")
    >>> [p.name for p in (d / "old").iterdir()], [p.name for p in (d / "new").iterdir()]
    (['00000.png'], ['.DS_Store'])
    """
    for p in list(old.iterdir()):
        if FOLDER_FILE.fullmatch(p.name) or os.path.lexists(new / p.name):
            continue
        os.replace(p, new / p.name)


def host_tag() -> str:
    """This machine's name as it goes into a file name (``[A-Za-z0-9._-]`` only)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"


def remove_stale_partials(full: Path) -> list[Path]:
    """Remove what exports of ``full`` killed on this machine left beside it
    (``.NAME.partial-HOST-PID`` of a process that is gone, and its ``.spill`` file, where
    YouTube-VIS and CVAT keep each object's pieces; ``.NAME.partial-PID`` as older versions
    named it, taken as this machine's), and put back an output folder one left aside
    (``.NAME.replaced-HOST-PID``, :func:`replace_path`) where ``full`` is missing (where it
    is there, the new output was put in: what the old one holds that an export does not
    write is moved into it, :func:`carry_over`, and the rest removed). A file set aside by
    :func:`replace_together` is put back also where ``full`` is there when its process left
    a partial file beside it (the ``labels.txt`` it had yet to rename in: the new ``full``
    would stand beside the earlier class names), and that process's partial files are
    removed; with none left, every new file is in and the file aside is removed. Where that
    process added ``full`` (none was there before: its ``.NAME.added-HOST-PID`` marker) and
    left a partial file of the set after renaming ``full`` in, ``full`` is removed (not where
    it was changed after the marker was made: a user's edit is kept), with the process's
    partial files; the marker is removed in any case. Leftovers of a running process or of
    another machine (a shared disk: its processes cannot be checked) are left alone.

    Returns
    -------
    list of Path
        What was removed (not what was put back).

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

    pattern = re.compile(
        rf"\.{re.escape(full.name)}\.(partial|replaced|added)-(?:(.+)-)?(\d+)(?:\.spill)?"
    )
    host = host_tag()
    removed = []
    try:
        siblings = list(full.parent.iterdir())
    except OSError:
        return removed
    unfinished = _partials_by_pid(siblings, host)  # the partial files each process left here
    for p in siblings:
        match = pattern.fullmatch(p.name)
        if not match or match[2] not in (None, host):
            continue
        pid = int(match[3])
        if pid == os.getpid() or pid_alive(pid):
            continue
        if match[1] == "added":  # replace_together renamed full in where none was
            removed += _undo_added(full, p, unfinished.get(pid, []), pid)
            continue
        # a file set aside by replace_together whose process left a partial file (its
        # labels.txt's) was killed before its last rename: the pair is undone, the earlier
        # file put back over the new one (a new gt file beside the earlier labels.txt)
        undone = p.is_file() and pid in unfinished and not full.is_dir()
        if match[1] == "replaced" and (undone or not full.exists()):
            try:  # killed between its renames: the old output back where it was
                os.replace(p, full)
            except FileNotFoundError:
                continue
            for left in unfinished.get(pid, []) if undone else []:
                try:  # the pair's other partial files: no export is left to use them
                    remove_path(left)
                except FileNotFoundError:
                    continue
                removed.append(left)
            continue
        try:
            if match[1] == "replaced" and p.is_dir() and full.is_dir():
                carry_over(p, full)  # a user's .git, .DS_Store: kept in the new output
            remove_path(p)
        except FileNotFoundError:
            continue  # another export removed it first
        removed.append(p)
    return removed


def _undo_added(full: Path, marker: Path, left: list[Path], pid: int) -> list[Path]:
    """Remove ``full``, which the dead process ``pid`` added (``marker``, its
    :func:`added_name`), where it renamed it in (its partial of ``full`` is not among its
    partial files ``left``) but not the rest of the set (some are), and ``full`` is as that
    process left it (not changed after ``marker`` was made); then ``left`` and ``marker``.
    Returns what was removed."""
    removed = []
    if left and full.with_name(partial_name(full.name, pid)) not in left:
        try:
            if full.is_file() and full.stat().st_mtime <= marker.stat().st_mtime:
                full.unlink()
                removed.append(full)
        except FileNotFoundError:
            pass
    for p in [*left, marker]:
        try:
            remove_path(p)
        except FileNotFoundError:
            continue  # removed already (in this pass, or by another export)
        removed.append(p)
    return removed


def _partials_by_pid(siblings: list[Path], host: str) -> dict[int, list[Path]]:
    """``{pid: [partial file, ...]}`` of the partial files (``.NAME.partial-HOST-PID``, not a
    folder) among ``siblings`` of processes of this machine."""
    found: dict[int, list[Path]] = {}
    for p in siblings:
        match = _PARTIAL.fullmatch(p.name)
        if match and match[1] in (None, host) and p.is_file():
            found.setdefault(int(match[2]), []).append(p)
    return found


_PARTIAL = re.compile(r"\..+\.partial-(?:(.+)-)?(\d+)(?:\.spill)?")


def remove_path(path: Path) -> None:
    """Remove a file, or a folder and everything in it (an export's partial output, a DAVIS
    folder it replaces)."""
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
