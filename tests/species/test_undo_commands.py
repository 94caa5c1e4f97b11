"""One undo takes back one command: every log entry one ``apply_edits`` call (one ``ecoseg
edit``, one press in napari) wrote carries its command number, and an undo takes back all of
the last command not yet undone; a log from before the numbers is undone an entry at a time."""

import numpy as np
import pytest
from species_helpers import kill_9_editing, tracker_store

from ecoseg.cli import main
from ecoseg.errors import ConfigError
from ecoseg.species import Review, apply_edits, edit_log
from ecoseg.species._edit_log import read_meta, write_meta
from ecoseg.species.edits import Edit
from ecoseg.store import MaskStore


def state(path):
    s = MaskStore.open(path)
    log = [{k: v for k, v in e.items() if k != "time"} for e in edit_log(path)]
    return s.read_labels(), s.read_scores(), s.objects, log


def classes(path) -> dict[int, str]:
    return {o["id"]: o["class"] for o in MaskStore.open(path).objects}


def test_cli_undo_takes_back_a_whole_command_and_names_every_edit(store3, capsys):
    path, _, _ = store3
    before = classes(path)
    assert main(["edit", str(path), "--set-class", "2=goby"]) == 0
    assert main(["edit", str(path), "--set-class", "3=wrasse", "--set-class", "1=wrasse"]) == 0
    capsys.readouterr()
    assert main(["edit", str(path), "--undo"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "edit 4: undid edit 3: set class of track 1 to wrasse (was: unknown)",
        "edit 5: undid edit 2: set class of track 3 to wrasse (was: unknown)",
    ]
    assert classes(path) == {**before, 2: "goby"}  # the command before stays
    log = edit_log(path)
    assert [(e["kind"], e["command"]) for e in log] == [
        ("set_class", 1), ("set_class", 2), ("set_class", 2), ("undo", 4), ("undo", 4)
    ]  # fmt: skip
    assert main(["edit", str(path), "--undo"]) == 0  # an undo after an undo: the one before
    assert classes(path) == before
    assert main(["edit", str(path), "--undo"]) == 2
    assert "nothing to undo" in capsys.readouterr().err


def test_undo_of_a_confirmed_guess_says_it_was_a_guess(store3, capsys):
    # `--set-class 1=wrasse` on a track the model had named wrasse made it reviewed; its undo
    # said "(was: wrasse)", as if the edit had changed nothing
    from ecoseg.species.review import open_for_edit

    path, _, _ = store3
    with open_for_edit(path) as s:  # what `ecoseg classify` writes
        meta = read_meta(s)
        meta["objects"][0].update({"class": "wrasse", "class_source": "classified"})
        write_meta(s, meta)
    assert main(["edit", str(path), "--set-class", "1=wrasse"]) == 0
    capsys.readouterr()
    assert main(["edit", str(path), "--undo"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "edit 2: undid edit 1: set class of track 1 to wrasse (was: wrasse, classified, "
        "not reviewed)"
    ]


def test_python_undo_of_a_command_gives_the_bytes_back(store3):
    path, _, _ = store3
    Review(path).set_class(2, "goby")
    labels, scores, objects, _ = state(path)
    apply_edits(path, [Edit("merge", (1, 2)), Edit("split", (3,), frame=8), Edit("delete", (1,))])
    r = Review(path)
    r.undo()
    after = state(path)
    assert np.array_equal(after[0], labels) and np.array_equal(after[1], scores)
    assert after[2] == objects
    assert [e.get("undoes") for e in r.log[4:]] == [4, 3, 2]  # last first


def test_review_apply_of_an_undo_returns_every_entry_it_wrote(store3):
    """``Review.apply(Edit("undo"))`` of a command of two edits (``--merge 1,2
    --set-class 3=wrasse``) returns both undo entries, as the log holds them, last first (it
    returned only the first, so a caller saw one of the two edits taken back)."""
    path, _, _ = store3
    before = classes(path)
    apply_edits(path, [Edit("merge", (1, 2)), Edit("set_class", (3,), cls="wrasse")])
    r = Review(path)
    entries = r.apply(Edit("undo"))
    assert entries == r.log[2:]
    assert [(e["kind"], e["undoes"]) for e in entries] == [("undo", 2), ("undo", 1)]
    assert classes(path) == before
    assert r.apply(Edit("delete", (3,)))["kind"] == "delete"  # other edits: one entry


def test_an_old_log_is_undone_an_entry_at_a_time(store3):
    """A log written before commands were numbered: each entry its own command; a command
    written since is still taken back whole."""
    path, _, _ = store3
    before = classes(path)
    apply_edits(path, [Edit("set_class", (1,), cls="a"), Edit("set_class", (2,), cls="b")])
    with MaskStore.open(path, mode="a") as s:  # as an older ecoseg wrote it
        meta = read_meta(s)
        for entry in meta["edits"]:
            entry.pop("command", None)
        write_meta(s, meta)
    apply_edits(path, [Edit("set_class", (3,), cls="c"), Edit("delete", (2,))])
    r = Review(path)
    r.undo()  # the new command, whole
    assert classes(path) == {**before, 1: "a", 2: "b"}
    r.undo()  # one old entry
    assert classes(path) == {**before, 1: "a"}
    r.undo()
    assert classes(path) == before
    with pytest.raises(ConfigError, match="nothing to undo"):
        r.undo()


@pytest.mark.parametrize(
    "on_call, logged",
    [
        (1, 3),  # the first undo entry's intent: pending, the rest queued as one undo
        (2, 4),  # the first undo entry committed, the rest queued
        (3, 4),  # the second's intent
        (5, 5),  # the last one's intent: nothing queued
    ],
)
def test_kill_9_mid_undo_of_a_command_is_completed_as_a_whole(tmp_path, capsys, on_call, logged):
    command = [Edit("merge", (1, 2)), Edit("split", (1,), frame=5), Edit("delete", (3,))]
    path, ref = tmp_path / "a" / "m.zarr", tmp_path / "b" / "m.zarr"
    for p in (path, ref):
        p.parent.mkdir()
        tracker_store(p)
        apply_edits(p, command)
    apply_edits(ref, [Edit("undo")])
    kill_9_editing(path, [Edit("undo")], "write_meta", on_call)
    MaskStore.open(path).read_labels()  # valid: opens, validates, reads
    assert len(edit_log(path)) == logged
    assert main(["edit", str(path), "--resume"]) == 0
    assert capsys.readouterr().out.startswith(f"completed {6 - logged} edit(s)")
    meta = MaskStore.open(path).attrs["ecoseg"]
    assert "edit_pending" not in meta and "edit_queue" not in meta
    a, b = state(path), state(ref)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[2] == b[2] and a[3] == b[3]
    assert [e.get("undoes") for e in a[3][3:]] == [3, 2, 1]


@pytest.mark.parametrize("on_call", [3, 4], ids=["second edit pending", "second edit committed"])
def test_the_rest_of_an_old_killed_command_is_a_command_of_its_own(tmp_path, capsys, on_call):
    """A command an ecoseg before command numbers began and a kill left half done: its
    entries have no ``command`` (each its own command), so the rest completed now must not
    join the last logged entry's command (it did: one undo then took back the rest and that
    entry together); it is a command of its own."""
    path = tmp_path / "m.zarr"
    tracker_store(path)
    before = classes(path)
    command = [Edit("set_class", (k,), cls=name) for k, name in ((1, "a"), (2, "b"), (3, "c"))]
    kill_9_editing(path, command, "write_meta", on_call)
    with MaskStore.open(path, mode="a") as s:  # as that ecoseg wrote it: no command numbers
        meta = read_meta(s)
        for entry in [*meta["edits"], meta.get("edit_pending") or {}]:
            entry.pop("command", None)
        write_meta(s, meta)
    assert meta["edit_queue"] == [command[2].queued()]
    assert main(["edit", str(path), "--resume"]) == 0
    assert capsys.readouterr().out.startswith(f"completed {1 + (on_call == 3)} edit(s)")
    assert [e.get("command") for e in edit_log(path)] == [None, None, 3]
    r = Review(path)
    r.undo()  # the rest: its own command
    assert classes(path) == {**before, 1: "a", 2: "b"}
    r.undo()  # an old entry: its own command
    assert classes(path) == {**before, 1: "a"}


def test_a_damaged_command_number_is_refused():
    """The undo groups entries by it: a non-whole one is a damaged log, not a traceback."""
    from ecoseg.errors import StoreError
    from ecoseg.species._edit_log import check_log

    check_log({"edits": [{"n": 1, "kind": "delete", "ids": [2], "command": 1}]}, "m.zarr")
    for bad in ("1", 1.5, True, None):
        with pytest.raises(StoreError, match="whole 'command' number"):
            check_log({"edits": [{"n": 1, "kind": "delete", "command": bad}]}, "m.zarr")
