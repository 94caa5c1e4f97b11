"""A command of several edits is all or nothing: every edit is checked against the store and
the edits before it before anything is written; a split must cut its track in two; a killed
command is completed as a whole."""

import random
from pathlib import Path

import numpy as np
import pytest
from species_helpers import kill_9_editing, tracker_store

from ecoseg.cli import main
from ecoseg.errors import ConfigError
from ecoseg.species import Review, apply_edits, edit_log
from ecoseg.species.edits import Edit
from ecoseg.store import MaskStore


def store_bytes(path: Path) -> dict[str, bytes]:
    """Every file of the store (labels, scores, attributes with the object table and the edit
    log, edit backups) and the files beside it (a writer lock left behind)."""
    out = {}
    for f in sorted(path.parent.rglob("*")):
        if f.is_file():
            out[str(f.relative_to(path.parent))] = f.read_bytes()
    return out


def without_time(log: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "time"} for e in log]


def state(path: Path):
    s = MaskStore.open(path)
    return s.read_labels(), s.read_scores(), s.objects, without_time(edit_log(path))


# Tracks of the store: 1 on frames 0-11, 2 on 0-7, 3 on 6-11.
INVALID = [
    (["--delete", "1", "--delete", "99"], "edit 2 of 2 (--delete 99): no track 99"),
    (
        ["--set-class", "1=wrasse", "--merge", "1,2", "--reviewed", "7"],
        "edit 3 of 3 (--reviewed 7): no track 7",
    ),
    (
        ["--delete", "2", "--merge", "1,2"],
        "edit 2 of 2 (--merge 1,2): no track 2, deleted by --delete 2 earlier in this command",
    ),
    (
        ["--merge", "1,2", "--set-class", "2=goby"],
        "edit 2 of 2 (--set-class 2=goby): no track 2, merged into track 1 by --merge 1,2",
    ),
    (["--merge", "1,2", "--split", "3@12"], "present from frame 6 to frame 11"),  # past the end
    (["--split", "1@40"], "--split 1@40: cannot split track 1 at frame 40"),
    (["--split", "1@0"], "track 1 at frame 0: it is present from frame 0 to frame 11"),
    (["--split", "3@6"], "must be after 6 and at most 11"),  # its first frame
    (["--split", "2@8"], "present from frame 0 to frame 7"),  # after its last frame
    (["--split", "1@4", "--split", "4@4"], "edit 2 of 2 (--split 4@4): cannot split track 4"),
    (["--split", "1@4", "--undo", "--merge", "4,2"], "edit 3 of 3 (--merge 4,2): no track 4"),
    (["--delete", "3", "--undo", "--undo"], "edit 3 of 3 (--undo): nothing to undo"),
    (["--set-class", "1=goby", "--undo", "--undo", "--delete", "1"], "edit 3 of 4 (--undo)"),
    # refused before the store is read (old code: the store and option were not named)
    (["--split", "1@-3"], "--split 1@-3: the split frame must be >= 0;"),
    (["--delete", "1", "--split", "x"], "--split 'x': expected ID@FRAME"),
    (["--merge", "2,2"], "--merge 2,2: a track cannot be merged with itself;"),
]


@pytest.mark.parametrize("args, message", INVALID)
def test_an_invalid_edit_changes_nothing(store3, capsys, args, message):
    path, _, _ = store3
    before = store_bytes(path)
    assert main(["edit", str(path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err, err
    assert err.startswith(f"ecoseg: error: {path}: ") and err.endswith("nothing was changed")
    assert store_bytes(path) == before


def test_an_invalid_edit_after_stored_ones_changes_nothing(store3, capsys):
    path, _, _ = store3
    apply_edits(path, [Edit("split", (1,), frame=5)])
    apply_edits(path, [Edit("delete", (3,))])
    before = store_bytes(path)
    for args, message in (
        (["--undo", "--undo", "--undo"], "edit 3 of 3 (--undo): nothing to undo"),
        (["--undo", "--undo", "--split", "4@6"], "(--split 4@6): no track 4"),  # split undone
        (["--undo", "--split", "1@5"], "present from frame 0 to frame 4"),
        (["--merge", "1,4", "--undo", "--undo", "--undo", "--delete", "4"], "5 of 5"),
        (["--delete", "3"], "no track 3"),
    ):
        assert main(["edit", str(path), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and message in err, err
        assert store_bytes(path) == before


def test_a_valid_command_does_every_edit(store3, capsys):
    path, _, _ = store3
    assert main(["edit", str(path), "--split", "1@4", "--split", "4@8"]) == 0
    # an --undo takes back the last command: here the merge, this command's own so far
    args = ["--merge", "2,4", "--undo", "--delete", "3"]
    args += ["--set-class", "5=blue goby", "--unchecked-reviewed", "2"]
    assert main(["edit", str(path), *args]) == 0
    out = capsys.readouterr().out
    # every edit in the command's own words: it said "edit 6: set_class [5]", without the name
    assert out.splitlines() == [
        "edit 1: --split 1@4 -> new id 4",
        "edit 2: --split 4@8 -> new id 5",
        "edit 3: --merge 2,4",
        # it said "edit 4: undo []", then "edit 4: --undo: undid edit 3 (--merge 2,4)"
        "edit 4: undid edit 3: merge of track 4 into track 2 (was: track 2 unknown, track 4 "
        "unknown)",
        "edit 5: --delete 3",
        "edit 6: --set-class 5='blue goby'",
        "edit 7: --unchecked-reviewed 2",
    ]
    labels, scores, objects, log = state(path)
    kinds = ["split", "split", "merge", "undo", "delete", "set_class", "reviewed"]
    assert [e["kind"] for e in log] == kinds
    assert [o["id"] for o in objects] == [1, 2, 4, 5]
    assert set(np.unique(labels[:4])) == {0, 1, 2} and set(np.unique(labels[4:8])) == {0, 2, 4}
    assert set(np.unique(labels[8:])) == {0, 5}
    assert scores.shape == (12, 4) and np.allclose(scores[8:, 3], 0.9)
    assert {o["id"]: o["class"] for o in objects}[5] == "blue goby"


def random_edit(rng: random.Random) -> Edit:
    kind = rng.choice(["merge", "split", "split", "delete", "set_class", "undo", "undo"])
    a, b = rng.sample(range(1, 8), 2)
    if kind == "merge":
        return Edit("merge", (a, b))
    if kind == "split":
        return Edit("split", (a,), frame=rng.randrange(0, 13))
    if kind == "set_class":
        return Edit("set_class", (a,), cls=rng.choice(["goby", "wrasse"]))
    return Edit("undo") if kind == "undo" else Edit("delete", (a,))


@pytest.mark.parametrize("seed", range(4))
def test_one_command_equals_its_edits_one_by_one(tmp_path, seed):
    """The command's check follows the tracks through the edits without reading the labels
    again; applying its edits one command each (each reads the store afresh) gives the same
    store, and an edit the store refuses there is refused in the command too. An undo in the
    command takes back all of the command's edits not yet undone (one command): one by one,
    as many single undos."""
    rng = random.Random(seed)
    one, whole = tmp_path / "one" / "m.zarr", tmp_path / "whole" / "m.zarr"
    one.parent.mkdir()
    tracker_store(one)
    accepted: list[Edit] = []
    left = 0  # the command's edits not yet undone
    while len(accepted) < 7:
        edit = random_edit(rng)
        before = store_bytes(one)
        try:
            if edit.kind == "undo" and not left:
                raise ConfigError("nothing to undo")  # one by one: the edits before the command
            written = apply_edits(one, [edit] * max(1, left) if edit.kind == "undo" else [edit])
        except ConfigError:
            assert store_bytes(one) == before
            if accepted:  # the same edit at the end of the whole command: refused as well
                probe = tmp_path / f"probe{len(accepted)}" / "m.zarr"
                if not probe.exists():  # a refused command leaves it as made
                    probe.parent.mkdir()
                    tracker_store(probe)
                with pytest.raises(ConfigError, match=f"edit {len(accepted) + 1} of"):
                    apply_edits(probe, [*accepted, edit])
            continue
        accepted.append(edit)  # a naming repeated writes nothing (in the command neither)
        left = 0 if edit.kind == "undo" else left + bool(written)
    whole.parent.mkdir()
    tracker_store(whole)
    apply_edits(whole, accepted)
    a, b = state(one), state(whole)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[2] == b[2]
    assert [{k: v for k, v in e.items() if k != "command"} for e in a[3]] == [
        {k: v for k, v in e.items() if k != "command"} for e in b[3]
    ]


def test_split_rule_in_the_python_api(store3):
    path, _, _ = store3
    r = Review(path)
    with pytest.raises(ConfigError, match="track 1 at frame 0: it is present from frame 0 to"):
        r.split(1, 0)
    assert r.split(3, 11) == 4  # its last frame alone becomes a new track
    labels = MaskStore.open(path).read_labels()
    assert (labels[11] == 4).any() and not (labels[:11] == 4).any()
    with pytest.raises(ConfigError, match="present from frame 6 to frame 10"):
        r.split(3, 11)
    assert [e["kind"] for e in r.log] == ["split"]


def test_split_across_a_gap(tmp_path):
    path = tmp_path / "m.zarr"
    labels = np.zeros((8, 4, 4), np.uint32)
    labels[[0, 1, 6, 7], 0, 0] = 1
    with MaskStore.create(
        path, height=4, width=4, chunk_frames=4, objects=[(1, "u", "tracker")]
    ) as s:
        s.append(labels, np.arange(8) * 0.1)
        s.mark_complete()
    assert Review(path).split(1, 4) == 2  # no pixels on frame 4: the part from 6 on moves
    out = MaskStore.open(path).read_labels()[:, 0, 0]
    assert out.tolist() == [1, 1, 0, 0, 0, 0, 2, 2]


# kill -9 in the middle of a command of three edits ------------------------------------
COMMAND = [Edit("merge", (1, 2)), Edit("split", (1,), frame=5), Edit("delete", (3,))]


@pytest.mark.parametrize(
    "name, on_call, logged",
    [
        ("_write_backup", 1, 0),  # before the first intent: nothing happened
        ("write_meta", 2, 1),  # the first edit committed, the other two queued
        ("_write_backup", 2, 1),  # the second edit's backup written, not its intent
        ("write_meta", 3, 1),  # the second edit's intent: pending, the third queued
        ("write_meta", 5, 2),  # the last edit's intent: pending, nothing queued
    ],
)
def test_kill_9_mid_command_is_completed_as_a_whole(tmp_path, capsys, name, on_call, logged):
    path, ref = tmp_path / "a" / "m.zarr", tmp_path / "b" / "m.zarr"
    for p in (path, ref):
        p.parent.mkdir()
        tracker_store(p)
    apply_edits(ref, COMMAND)
    original = store_bytes(path)
    kill_9_editing(path, COMMAND, name, on_call)
    store = MaskStore.open(path)  # valid: opens, validates, reads
    store.read_labels()
    assert len(edit_log(path)) == logged
    if logged == 0:
        assert "edit_queue" not in store.attrs["ecoseg"]
    assert main(["edit", str(path), "--resume"]) == 0
    out = capsys.readouterr().out
    if logged == 0:  # the command never started: it stays undone
        assert out == "" and edit_log(path) == []
        assert {k: v for k, v in store_bytes(path).items() if "/edits/" not in k} == {
            k: v for k, v in original.items() if "/edits/" not in k
        }
        return
    assert out.startswith(f"completed {3 - logged} edit(s)")
    meta = MaskStore.open(path).attrs["ecoseg"]
    assert "edit_pending" not in meta and "edit_queue" not in meta
    a, b = state(path), state(ref)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[2] == b[2] and a[3] == b[3]


def test_splits_made_before_the_rule_are_found_and_replayed(tmp_path, monkeypatch):
    """An edit log from before splits were checked: each split is judged on its track's
    frames just before it (the labels now with every later edit taken back, an undo by
    re-applying what it undid), and ``--unchecked-split`` makes such a split again while
    ``--split`` still refuses it."""
    import ecoseg.species._edit_plan
    from ecoseg.species.review import unchecked_splits

    labels = np.zeros((4, 3, 4), np.uint32)
    labels[2:, 0, 0] = 1  # track 1: frames 2-3
    labels[[0, 3], 1, 1] = 4  # track 4: frames 0 and 3
    labels[:, 2, 3] = 5  # track 5: every frame
    objects = [(1, "a", "prompt"), (4, "a", "prompt"), (5, "b", "prompt")]

    def make(path):
        s = MaskStore.create(path, height=3, width=4, chunk_frames=2, objects=objects)
        s.append(labels, np.arange(4) / 10)
        s.mark_complete()
        s.close()
        return path

    old_log = [
        Edit("split", (1,), frame=2),  # 1: at its first frame: 1 -> 6 whole (unchecked)
        Edit("merge", (1, 4)),  # 1 now present at 0 and 3: the split alone would look fine
        Edit("split", (5,), frame=2),  # checked
        Edit("split", (5,), frame=9),  # after the last frame (unchecked), then undone
        Edit("undo"),
        Edit("split", (6,), frame=3),  # checked
    ]
    path = make(tmp_path / "old.zarr")
    with monkeypatch.context() as old:  # ecoseg then: no check, the new part kept the name
        old.setattr(ecoseg.species._edit_plan, "check_split", lambda *args: None)
        old.setattr(ecoseg.species.edits, "named_by_person", lambda obj: False)
        for edit in old_log:  # an undo then took back one entry: each its own command
            apply_edits(path, [edit])
    # 1 and 4 by their frames; 3 and 6 because the new part kept the prompt's name
    assert unchecked_splits(path) == [1, 3, 4, 6]
    assert unchecked_splits(make(tmp_path / "unedited.zarr")) == []

    replay = make(tmp_path / "replay.zarr")
    with pytest.raises(ConfigError, match="cannot split track 1 at frame 2"):
        apply_edits(replay, old_log)
    marked = [
        Edit("split", e.ids, frame=e.frame, unchecked=True) if n in (1, 3, 4, 6) else e
        for n, e in enumerate(old_log, 1)
    ]
    for edit in marked:
        apply_edits(replay, [edit])
    a, b = MaskStore.open(path), MaskStore.open(replay)
    np.testing.assert_array_equal(a.read_labels(), b.read_labels())
    np.testing.assert_array_equal(a.read_scores(), b.read_scores())
    assert a.objects == b.objects
    assert without_time(edit_log(path)) == without_time(edit_log(replay))
    import shutil

    shutil.rmtree(path / "edits" / "00006")  # a lost backup: the splits before it unjudged
    assert unchecked_splits(path) == [1, 3]  # by their frames; their names: by the tables


def test_a_killed_command_with_an_unchecked_split_is_completed_as_a_whole(tmp_path, capsys):
    """A report's replay of an old split (``--unchecked-split``) killed after its command's
    first edit: the queue kept the split without ``unchecked``, so completing it checked
    the split, refused it and dropped it (a warning), leaving half the command."""
    command = [Edit("delete", (3,)), Edit("split", (2,), frame=0, unchecked=True)]
    path, ref = tmp_path / "a" / "m.zarr", tmp_path / "b" / "m.zarr"
    for p in (path, ref):
        p.parent.mkdir()
        tracker_store(p)
    apply_edits(ref, command)
    kill_9_editing(path, command, "write_meta", 2)  # the delete committed, the split queued
    assert len(edit_log(path)) == 1
    assert MaskStore.open(path).attrs["ecoseg"]["edit_queue"][0]["unchecked"] is True
    assert main(["edit", str(path), "--resume"]) == 0
    assert capsys.readouterr().out.startswith("completed 1 edit(s)")
    a, b = state(path), state(ref)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[2] == b[2] and a[3] == b[3]
    assert "unchecked" not in edit_log(path)[-1]  # the log entry is the one a split writes


def test_reviewed_marks_made_before_the_rule_are_found_and_replayed(store3, monkeypatch):
    """A log from before ``--reviewed`` refused an unknown track with a suggestion: such a
    mark is found from its backup, and ``--unchecked-reviewed`` makes it again as it was (a
    report's reproduce steps would otherwise stop at it), while ``--reviewed`` refuses it."""
    import shutil

    import ecoseg.species._edit_plan
    from ecoseg.species.review import refused_reviews

    path, _, _ = store3
    replay = path.parent / "replay.zarr"
    shutil.copytree(path, replay)
    # track 4: the split's part of reviewed track 1, unknown with the suggestion 'wrasse'
    old_log = [Edit("set_class", (1,), cls="wrasse"), Edit("split", (1,), frame=5)]
    old_log += [Edit("reviewed", (2,)), Edit("reviewed", (4,)), Edit("reviewed", (1,))]
    with monkeypatch.context() as old:
        old.setattr(ecoseg.species._edit_plan, "check_review", lambda *args: None)
        apply_edits(path, old_log)
    assert refused_reviews(path) == [4]
    args = ["--set-class", "1=wrasse", "--split", "1@5", "--reviewed", "2", "--reviewed", "4"]
    assert main(["edit", str(replay), *args]) != 0
    assert edit_log(replay) == []
    args[-2] = "--unchecked-reviewed"
    assert main(["edit", str(replay), *args, "--reviewed", "1"]) == 0
    a, b = state(path), state(replay)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[2] == b[2] and a[3] == b[3]
    assert Edit.from_dict(edit_log(path)[3]).cli_args() == ["--reviewed", "4"]  # as logged
