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
