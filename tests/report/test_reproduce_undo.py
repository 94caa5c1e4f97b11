"""A report's review steps replay a log with undos to the same store: an edit an undo took
back and that undo cancel out (no steps), except where a later split's new id needs them;
an ``--undo`` replayed takes back one command, so each command of such a log is one ``ecoseg
edit`` (an old log's entries: each its own)."""

import shlex
import shutil

import numpy as np
import pytest

from ecoseg.cli import main
from ecoseg.measure import measure
from ecoseg.report.reproduce import review_steps
from ecoseg.species import apply_edits, edit_log
from ecoseg.species._edit_log import read_meta, standing_edits, write_meta
from ecoseg.species.edits import Edit
from ecoseg.store import MaskStore

COMMANDS = [
    [Edit("set_class", (1,), cls="goby"), Edit("set_class", (2,), cls="goby")],
    [Edit("undo")],
    [Edit("split", (1,), frame=5), Edit("set_class", (3,), cls="wrasse")],
    [Edit("merge", (1, 2)), Edit("undo"), Edit("delete", (3,))],
    [Edit("undo")],
]


def _store(path):
    labels = np.zeros((12, 8, 8), np.uint32)
    labels[:, 0:2, 0:2] = 1
    labels[:8, 4:6, 4:6] = 2
    labels[6:, 6:8, 0:2] = 3
    objects = [(1, "unknown", "tracker"), (2, "unknown", "tracker"), (3, "unknown", "tracker")]
    with MaskStore.create(path, height=8, width=8, chunk_frames=4, objects=objects) as s:
        s.append(labels, np.arange(12) / 10)
        s.mark_complete()
    return path


#: a split undone before a later split: the later one's new id is one above the undone one's
SPLITS = [
    [Edit("split", (1,), frame=5), Edit("set_class", (1,), cls="goby")],
    [Edit("undo")],
    [Edit("split", (1,), frame=3)],
    [Edit("set_class", (2,), cls="wrasse")],
    [Edit("undo")],
]


@pytest.mark.parametrize("commands", [COMMANDS, SPLITS], ids=["undos", "split undone"])
@pytest.mark.parametrize("old", [False, True], ids=["numbered", "old log"])
def test_review_steps_replay_a_log_with_undos_to_the_same_tables(tmp_path, old, commands):
    path = _store(tmp_path / "m.zarr")
    fresh = shutil.copytree(path, tmp_path / "again.zarr")
    if old:  # as an older ecoseg wrote it: an --undo took back one entry, each one command
        for command in commands:
            for edit in command:
                apply_edits(path, [edit])
        with MaskStore.open(path, mode="a") as s:
            meta = read_meta(s)
            for entry in meta["edits"]:
                entry.pop("command", None)
            write_meta(s, meta)
    else:
        for command in commands:
            apply_edits(path, command)
    steps = review_steps(str(fresh), edit_log(path))
    for step in steps:
        assert main(shlex.split(step)[1:]) == 0, step
    a, b = MaskStore.open(path), MaskStore.open(fresh)
    np.testing.assert_array_equal(a.read_labels(), b.read_labels())
    np.testing.assert_array_equal(a.read_scores(), b.read_scores())
    assert a.objects == b.objects
    for name, table in measure(path).items():
        assert table.equals(measure(fresh)[name]), name
    # the same edits held (an edit undone and its undo were two steps, each made again)
    held = [[(e["kind"], e["ids"]) for e in standing_edits(edit_log(s))] for s in (path, fresh)]
    assert held[0] == held[1]
    # (an old log's undo took back one entry: there the first split stands)
    assert ("--undo" in " ".join(steps)) == (commands is SPLITS and not old), steps
