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
    """Killed with a first gt file in (no earlier one) and its labels.txt not: nothing was set
    aside, so nothing tells the new gt file from a user's; it is kept, and the labels'
    partial no export will use is removed also by an export refused for want of
    --overwrite (it was left until one with --overwrite)."""
    (tmp_path / "gt.txt").write_text(_TEXT["gt"]["new"])
    (tmp_path / f".labels.txt.partial-{host_tag()}-{DEAD}").write_text(_TEXT["labels"]["new"])
    with pytest.raises(FormatError, match="already exists"):
        export(make_store(np.ones((2, 4, 4))), "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt"]
    assert (tmp_path / "gt.txt").read_text() == _TEXT["gt"]["new"]
