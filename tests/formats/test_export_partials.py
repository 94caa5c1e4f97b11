"""Leftovers of a killed export (``.NAME.partial-HOST-PID`` beside the output) are cleaned up
by a later export, and only those of a process of this machine that is gone. Nothing is killed:
the leftovers are made by hand, named with pids no process has (above Linux's largest pid)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from formats_helpers import make_store

from ecoseg.errors import FormatError
from ecoseg.formats import export, host_tag, partial_name
from ecoseg.formats._partials import aside_name

DEAD = 999_999_990  # above pid_max (at most 2**22 on Linux): never a running process


def test_a_later_export_removes_a_killed_exports_leftovers_only(tmp_path):
    store = make_store(np.ones((2, 4, 4)))
    host = host_tag()
    stale = [
        tmp_path / f".masks.json.partial-{DEAD}",  # as older versions named it
        tmp_path / f".masks.json.partial-{host}-{DEAD + 1}",
    ]
    kept = [
        tmp_path / f".masks.json.partial-{host}-{os.getppid()}",  # a running process
        tmp_path / f".masks.json.partial-other-machine-{DEAD + 2}",  # cannot be checked
        tmp_path / f".other.json.partial-{host}-{DEAD + 3}",  # another output's
    ]
    for p in stale + kept:
        p.write_text('{"images": [')  # what a killed export leaves: a cut-off file
    out = export(store, "coco", tmp_path / "masks.json")
    assert [p for p in stale if p.exists()] == []  # old code: both left for good
    assert all(p.exists() for p in kept)
    assert os.path.getsize(out) > 0
    assert not (tmp_path / partial_name("masks.json")).exists()


def test_a_killed_davis_exports_partial_folder_is_removed(tmp_path):
    store = make_store(np.ones((2, 4, 4)))
    stale = tmp_path / f".pngs.partial-{host_tag()}-{DEAD}"
    stale.mkdir()
    (stale / "00000.png").write_bytes(b"\x89PNG")  # cut off mid-write
    export(store, "davis", tmp_path / "pngs")
    assert not stale.exists()
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == ["00000.png", "00001.png"]


def _davis_left_aside(tmp_path, pid: int):
    """What an export killed between its two renames leaves: the old DAVIS folder aside."""
    aside = tmp_path / aside_name("pngs", pid)
    aside.mkdir()
    (aside / "00000.png").write_bytes(b"old")
    return aside


def test_a_davis_folder_a_killed_export_left_aside_is_put_back(tmp_path):
    store = make_store(np.ones((2, 4, 4)))
    aside = _davis_left_aside(tmp_path, DEAD)
    running = _davis_left_aside(tmp_path, os.getppid())  # a running export's: left alone
    with pytest.raises(FormatError, match="overwrite"):  # back in place: replaced only with it
        export(store, "davis", tmp_path / "pngs")
    assert not aside.exists() and running.exists()
    assert (tmp_path / "pngs" / "00000.png").read_bytes() == b"old"
    export(store, "davis", tmp_path / "pngs", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == ["00000.png", "00001.png"]


def test_a_davis_folder_left_aside_after_the_new_one_was_put_in_is_removed(tmp_path):
    store = make_store(np.ones((2, 4, 4)))
    export(store, "davis", tmp_path / "pngs")
    aside = _davis_left_aside(tmp_path, DEAD)
    export(store, "davis", tmp_path / "pngs", overwrite=True)
    assert not aside.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pngs"]


def _users_files(folder):
    """What a user (or their tools) put in an exported DAVIS folder: hidden files, a repo."""
    (folder / ".DS_Store").write_bytes(b"Bud1")
    (folder / ".notes").write_text("site A, 12 m")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")


def _kept(folder):
    return (
        (folder / ".DS_Store").read_bytes() == b"Bud1"
        and (folder / ".notes").read_text() == "site A, 12 m"
        and (folder / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    )


def test_replacing_a_davis_export_removes_only_the_pngs_it_wrote(tmp_path):
    # before: the old folder went with everything in it (.DS_Store, .git, a user's .notes)
    pngs = tmp_path / "pngs"
    export(make_store(np.ones((3, 4, 4))), "davis", pngs)
    _users_files(pngs)
    export(make_store(np.full((2, 4, 4), 2)), "davis", pngs, overwrite=True)
    assert _kept(pngs)
    names = sorted(p.name for p in pngs.iterdir() if not p.name.startswith("."))
    assert names == ["00000.png", "00001.png"]  # the old 00002.png went with the old export
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pngs"]


def test_a_davis_folder_left_aside_after_the_new_one_was_put_in_keeps_the_users_files(tmp_path):
    # killed after the new folder was put in, before the old one's hidden files were moved
    store = make_store(np.ones((2, 4, 4)))
    export(store, "davis", tmp_path / "pngs")
    aside = _davis_left_aside(tmp_path, DEAD)
    _users_files(aside)
    export(store, "davis", tmp_path / "pngs", overwrite=True)
    assert not aside.exists()
    assert _kept(tmp_path / "pngs")
    assert (tmp_path / "pngs" / "00000.png").read_bytes() != b"old"


def test_a_killed_gt_exports_labels_leftover_is_removed_too(tmp_path):
    """A ``--mot-layout gt`` export writes labels.txt under a partial name too: one killed
    left it for good (only the gt file's leftovers were looked for)."""
    store = make_store(np.ones((2, 4, 4)))
    stale = tmp_path / f".labels.txt.partial-{host_tag()}-{DEAD}"
    stale.write_text("wrasse\n")
    export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt", "labels.txt"]


# What a ``--mot-layout gt`` export killed at each point of its write and renames
# (``replace_together``) leaves beside an earlier gt.txt and labels.txt: each file it made by
# hand, "old" (the earlier pair's), "new" (the killed export's, whole) or "cut" (half written).
_TEXT = {
    "gt": {"old": "1,1,0,0,2,2,1,1,1\n", "new": "2,9,1,1,3,3,1,1,1\n", "cut": "2,9,1,"},
    "labels": {"old": "old names\n", "new": "new names\n"},
}
_KILLED = {
    # killed while writing the gt file
    "writing": {"gt": "old", "gt.partial": "cut", "labels": "old"},
    # both written whole, before the first rename
    "written": {"gt": "old", "gt.partial": "new", "labels.partial": "new", "labels": "old"},
    # the earlier gt file set aside, the new one not yet renamed in: no gt.txt
    "set-aside": {"aside": "old", "gt.partial": "new", "labels.partial": "new", "labels": "old"},
    # the new gt file renamed in, its labels.txt not: the new gt beside the earlier names
    "gt-in": {"aside": "old", "gt": "new", "labels.partial": "new", "labels": "old"},
    # both renamed in, the earlier gt file not yet removed
    "both-in": {"aside": "old", "gt": "new", "labels": "new"},
}


def _killed_gt_export(folder, point):
    """The files a gt export of ``folder/gt.txt`` killed at ``point`` left (pid DEAD)."""
    host = host_tag()
    names = {
        "gt": "gt.txt",
        "gt.partial": f".gt.txt.partial-{host}-{DEAD}",
        "aside": aside_name("gt.txt", DEAD),
        "labels": "labels.txt",
        "labels.partial": f".labels.txt.partial-{host}-{DEAD}",
    }
    for key, what in _KILLED[point].items():
        (folder / names[key]).write_text(_TEXT[key.split(".")[0].replace("aside", "gt")][what])


@pytest.mark.parametrize("point", list(_KILLED))
def test_a_gt_pair_a_killed_export_left_half_renamed_is_made_whole_again(tmp_path, point):
    """A gt export killed between setting the earlier gt.txt aside and renaming labels.txt
    in left the earlier file under its hidden aside name and, once the new gt file was in, a
    new gt file beside the earlier labels.txt: the next export removed the earlier gt file
    as replaced (the pair mismatched for good), and one refused for want of --overwrite left
    the labels' partial behind. The next export now puts the earlier pair back where the
    new one was not whole (the labels' partial still there), keeps the new pair where it was,
    and leaves nothing hidden."""
    _killed_gt_export(tmp_path, point)
    store = make_store(np.ones((2, 4, 4)), classes={1: "wrasse"})
    with pytest.raises(FormatError, match="already exists"):  # gt.txt is there: a user's
        export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt", "labels.txt"]
    whole = point == "both-in"  # every rename done: the new pair is the output
    pair = "new" if whole else "old"
    assert (tmp_path / "gt.txt").read_text() == _TEXT["gt"][pair]
    assert (tmp_path / "labels.txt").read_text() == _TEXT["labels"][pair]
    export(store, "mot", tmp_path / "gt.txt", mot_layout="gt", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt", "labels.txt"]
    assert (tmp_path / "labels.txt").read_text() == "wrasse\n"


def test_a_gt_file_set_aside_by_a_running_export_is_left_alone(tmp_path):
    """A running export's aside and partials (its pid alive) are not touched: it is between
    its renames now."""
    host, pid = host_tag(), os.getppid()
    (tmp_path / "gt.txt").write_text(_TEXT["gt"]["new"])
    (tmp_path / aside_name("gt.txt", pid)).write_text(_TEXT["gt"]["old"])
    (tmp_path / f".labels.txt.partial-{host}-{pid}").write_text(_TEXT["labels"]["new"])
    (tmp_path / "labels.txt").write_text(_TEXT["labels"]["old"])
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    store = make_store(np.ones((2, 4, 4)))
    with pytest.raises(FormatError, match="already exists"):
        export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


def test_a_first_gt_file_a_killed_export_renamed_in_alone_loses_its_labels_partial(tmp_path):
    """Killed with a first gt file in (no earlier one) and its labels.txt not, by a version
    that made no ``.added`` marker: nothing tells the new gt file from a user's; it is kept,
    and the labels' partial no export will use is removed also by an export refused for want
    of --overwrite (it was left until one with --overwrite)."""
    (tmp_path / "gt.txt").write_text(_TEXT["gt"]["new"])
    (tmp_path / f".labels.txt.partial-{host_tag()}-{DEAD}").write_text(_TEXT["labels"]["new"])
    with pytest.raises(FormatError, match="already exists"):
        export(make_store(np.ones((2, 4, 4))), "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt"]
    assert (tmp_path / "gt.txt").read_text() == _TEXT["gt"]["new"]


# A first gt export (no gt.txt before it) killed at each point of its renames: the marker
# ``.gt.txt.added-HOST-PID`` it makes before renaming gt.txt in says the gt.txt is its own
_FIRST_KILLED = {
    # the marker made, nothing renamed in yet
    "marked": {"added": "", "gt.partial": "new", "labels.partial": "new"},
    # the new gt file renamed in, its labels.txt not
    "gt-in": {"gt": "new", "added": "", "labels.partial": "new"},
    # both renamed in, the marker not yet removed
    "both-in": {"gt": "new", "labels": "new", "added": ""},
}


@pytest.mark.parametrize("point", list(_FIRST_KILLED))
def test_a_first_gt_file_a_killed_export_renamed_in_alone_is_removed(tmp_path, point):
    """Killed with a first gt file in and its labels.txt not, the gt file stood alone and the
    next export took it for a user's (refused for want of --overwrite, kept for good, read
    back with no class names). Its marker now tells it apart: the next export removes it and
    writes the pair; a pair that was whole is kept, and only the marker removed."""
    host = host_tag()
    names = {
        "gt": "gt.txt",
        "gt.partial": f".gt.txt.partial-{host}-{DEAD}",
        "added": f".gt.txt.added-{host}-{DEAD}",
        "labels": "labels.txt",
        "labels.partial": f".labels.txt.partial-{host}-{DEAD}",
    }
    for key, what in _FIRST_KILLED[point].items():  # the marker last, as the export makes it
        text = "" if key == "added" else _TEXT[key.split(".")[0]][what]
        (tmp_path / names[key]).write_text(text)
    store = make_store(np.ones((2, 4, 4)), classes={1: "wrasse"})
    if point == "both-in":  # the new pair is the output: replaced only with --overwrite
        with pytest.raises(FormatError, match="already exists"):
            export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt", "labels.txt"]
        assert (tmp_path / "gt.txt").read_text() == _TEXT["gt"]["new"]
        return
    export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt", "labels.txt"]
    assert (tmp_path / "labels.txt").read_text() == "wrasse\n"


def test_a_gt_file_changed_after_a_killed_export_added_it_is_kept(tmp_path):
    """The marker says the export added gt.txt, but gt.txt was written after it (a user fixed
    the file by hand): it is kept, refused without --overwrite, and the leftovers removed."""
    host = host_tag()
    (tmp_path / f".labels.txt.partial-{host}-{DEAD}").write_text(_TEXT["labels"]["new"])
    marker = tmp_path / f".gt.txt.added-{host}-{DEAD}"
    marker.write_text("")
    (tmp_path / "gt.txt").write_text("edited by hand\n")
    os.utime(marker, (1_000_000, 1_000_000))  # made long before the edit
    with pytest.raises(FormatError, match="already exists"):
        export(make_store(np.ones((2, 4, 4))), "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt"]
    assert (tmp_path / "gt.txt").read_text() == "edited by hand\n"


def _failing_renames(fail_put_back: bool):
    """An os.replace whose rename of labels.txt's partial into place fails and, with
    ``fail_put_back``, the rename of the earlier gt file back from aside too."""
    real = os.replace

    def failing(src, dst, **kwargs):
        src, dst = os.fspath(src), os.fspath(dst)
        if dst.endswith("labels.txt") and ".partial-" in src:
            raise OSError(13, "Permission denied", dst)
        if fail_put_back and dst.endswith("gt.txt") and ".replaced-" in src:
            raise OSError(5, "Input/output error", dst)
        return real(src, dst, **kwargs)

    return failing


def _earlier_pair(tmp_path):
    """An earlier gt export in tmp_path/out, its files' bytes, and another store to export."""
    out = tmp_path / "out"
    out.mkdir()
    first = make_store(np.ones((2, 4, 4)), classes={1: "cod"}, path=str(tmp_path / "a.zarr"))
    export(first, "mot", out / "gt.txt", mot_layout="gt")
    lab = np.zeros((2, 4, 4), np.uint32)
    lab[:, 1:3, 1:3] = 1
    second = make_store(lab, classes={1: "wrasse"}, path=str(tmp_path / "b.zarr"))
    return out, {p.name: p.read_bytes() for p in out.iterdir()}, second


def test_a_gt_export_whose_put_back_fails_too_leaves_the_earlier_pair_to_the_next(tmp_path):
    """labels.txt's rename fails and so does putting the earlier gt file back: the earlier gt
    file stayed aside and the new one beside the earlier labels.txt, and the labels' partial
    (the sign that the pair is not whole) was removed on the way out, so the next export took
    the pair for whole and removed the earlier gt file for good. The partial now stays, and
    the next export (another process: the failing one runs in its own) puts the pair back."""
    import subprocess
    import sys
    import textwrap

    out, before, second = _earlier_pair(tmp_path)
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_export_partials import _failing_renames
        from ecoseg.formats import export
        os.replace = _failing_renames(True)
        try:
            export({second!r}, "mot", {str(out / "gt.txt")!r}, mot_layout="gt", overwrite=True)
        except OSError as exc:
            print(exc.strerror)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "Input/output error", done.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "gt.txt",
        "labels.txt",
    ]
    assert (out / "gt.txt").read_bytes() != before["gt.txt"]  # the new one, beside old names
    with pytest.raises(FormatError, match="already exists"):  # the earlier pair, back
        export(second, "mot", out / "gt.txt", mot_layout="gt")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_gt_export_does_not_set_aside_over_an_earlier_file_left_aside(tmp_path, monkeypatch):
    """Within one process (a notebook), after a failed put-back the earlier gt file is aside
    under this process's name: the next export renamed the failed export's gt file over it,
    and the earlier one was lost. It is now refused, naming the file aside, and nothing
    moves."""
    out, before, second = _earlier_pair(tmp_path)
    monkeypatch.setattr(os, "replace", _failing_renames(True))
    with pytest.raises(OSError, match="Input/output error"):
        export(second, "mot", out / "gt.txt", mot_layout="gt", overwrite=True)
    monkeypatch.undo()
    aside = out / aside_name("gt.txt")
    assert aside.read_bytes() == before["gt.txt"]
    left = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(OSError, match=r"still set aside there.*rename it back") as info:
        export(second, "mot", out / "gt.txt", mot_layout="gt", overwrite=True)
    assert info.value.filename == str(aside)
    with pytest.raises(OSError, match=r"still set aside there"):  # the tracker layout too: a
        export(second, "mot", out / "gt.txt", overwrite=True)  # later export put it back over
    assert {p.name: p.read_bytes() for p in out.iterdir()} == left


def test_a_first_gt_file_whose_removal_fails_is_removed_by_the_next_export(tmp_path, monkeypatch):
    """No gt.txt before: labels.txt's rename fails and so does taking the new gt file out
    again. The gt file stood alone, kept for good as a user's; its marker and the labels'
    partial now stay, and the next export (another process) removes it."""
    from pathlib import Path

    store = make_store(np.ones((2, 4, 4)), classes={1: "wrasse"})
    monkeypatch.setattr(os, "replace", _failing_renames(False))
    real_unlink = Path.unlink

    def failing_unlink(self, *args, **kwargs):
        if self.name == "gt.txt":
            raise OSError(5, "Input/output error", str(self))
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", failing_unlink)
    with pytest.raises(OSError, match="Input/output error"):
        export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
    monkeypatch.undo()
    pid, host = os.getpid(), host_tag()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["gt.txt", f".gt.txt.added-{host}-{pid}", f".labels.txt.partial-{host}-{pid}"]
    )
    # as the next export in another process sees them: this process gone
    for p in list(tmp_path.iterdir()):
        if p.name.startswith("."):
            p.rename(p.with_name(p.name.replace(f"-{pid}", f"-{DEAD}")))
    export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt", "labels.txt"]
