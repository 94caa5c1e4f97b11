import json
from pathlib import Path

import numpy as np
import pytest
from species_helpers import kill_9_editing, tracker_store

from ecoseg.errors import ConfigError, StoreError
from ecoseg.measure import measure
from ecoseg.species import Review, apply_edits, edit_log
from ecoseg.species.edits import Edit, cli_words, python_words
from ecoseg.store import MaskStore


def chunk_bytes(path: Path) -> dict[str, bytes]:
    """Every file of the labels array and the scores array (the stored bytes)."""
    out = {}
    for name in ("labels", "scores"):
        for f in sorted((path / name).rglob("*")):
            if f.is_file():
                out[str(f.relative_to(path))] = f.read_bytes()
    return out


def test_merge_split_delete_change_the_tables(store3):
    path, labels, _ = store3
    before = measure(path)["tracks"].set_index("object_id")
    r = Review(path)
    r.merge(2, 3)
    tracks = measure(path)["tracks"].set_index("object_id")
    assert tracks.index.tolist() == [1, 2]
    assert tracks.loc[2, "frames_present"] == 12  # frames 0-7 and 6-11
    assert MaskStore.open(path).read_scores().shape == (12, 2)
    new = r.split(1, 5)
    assert new == 4
    t = measure(path)["tracks"].set_index("object_id")
    assert (t.loc[1, "first_frame"], t.loc[1, "last_frame"]) == (0, 4)
    assert (t.loc[4, "first_frame"], t.loc[4, "last_frame"]) == (5, 11)
    scores = MaskStore.open(path).read_scores()
    assert np.allclose(scores[5:, 0], 0) and np.allclose(scores[5:, 2], 0.9)
    r.delete(2)
    t = measure(path)["tracks"]
    assert t["object_id"].tolist() == [1, 4]
    assert before.loc[1, "frames_present"] == 12
    assert [e["kind"] for e in r.log] == ["merge", "split", "delete"]
    assert r.log[1]["frames"] == [[5, 11]] and r.log[1]["new_id"] == 4


def test_set_class_marks_reviewed_and_reaches_the_tables(store3):
    path, _, _ = store3
    r = Review(path)
    r.set_class(3, "parrotfish")
    r.mark_reviewed(1)
    tables = measure(path)
    t = tables["tracks"].set_index("object_id")
    assert t.loc[3, "class"] == "parrotfish"
    assert t.loc[3, "class_source"] == "reviewed" and t.loc[3, "class_probability"] == 1.0
    assert t.loc[2, "class_source"] == "unknown"
    maxn = tables["maxn"]
    assert maxn["class"].tolist() == ["parrotfish", "unknown"]  # unknown apart, last
    assert maxn.set_index("class").loc["unknown", "maxn"] == 2
    obj = {o["id"]: o for o in MaskStore.open(path).objects}
    assert obj[1]["reviewed"] and obj[1]["class"] == "unknown"


def test_undo_restores_the_bytes(store3):
    path, _, _ = store3
    original = chunk_bytes(path)
    objects = MaskStore.open(path).objects
    r = Review(path)
    r.merge(1, 3)
    r.split(1, 3)
    r.delete(2)
    assert chunk_bytes(path) != original
    r.undo()
    r.undo()
    r.undo()
    assert chunk_bytes(path) == original
    assert MaskStore.open(path).objects == objects
    with pytest.raises(ConfigError, match="nothing to undo"):
        r.undo()
    kinds = [e["kind"] for e in edit_log(path)]
    assert kinds == ["merge", "split", "delete", "undo", "undo", "undo"]
    assert [e.get("undoes") for e in edit_log(path)][3:] == [3, 2, 1]


def test_bad_edits_change_nothing(store3):
    path, _, _ = store3
    original = chunk_bytes(path)
    r = Review(path)
    with pytest.raises(ConfigError, match="no track 9"):
        r.delete(9)
    with pytest.raises(ConfigError, match="track 2 at frame 8: it is present from frame 0 to"):
        r.split(2, 8)
    with pytest.raises(ConfigError, match="track 1 at frame 40: .* after 0 and at most 11"):
        r.split(1, 40)
    assert chunk_bytes(path) == original and r.log == []


def test_an_open_writer_is_refused(store3):
    path, _, _ = store3
    writer = MaskStore.open(path, mode="a")
    try:
        with pytest.raises(StoreError, match="another writer"):
            apply_edits(path, [Edit("delete", (1,))])
    finally:
        writer.close()


# kill -9 at fixed points of an edit, in a child process --------------------------------
# (point, the function of ecoseg.species._edit_writes after whose call the child dies, which call)
KILL_POINTS = {
    "backup": ("_write_backup", 1),
    "intent": ("write_meta", 1),
    "chunk": ("_write_chunk", 2),  # one labels chunk rewritten, the next not
    "scores": ("_write_scores", 1),
    "commit": ("write_meta", 2),  # committed, extra score columns not cut yet
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_9_mid_edit_leaves_a_valid_store_that_resume_completes(tmp_path, point):
    path = tmp_path / "m.zarr"
    tracker_store(path)
    ref = tmp_path / "ref.zarr"
    tracker_store(ref)
    apply_edits(ref, [Edit("merge", (1, 2))])
    original = chunk_bytes(path)
    kill_9_editing(path, [Edit("merge", (1, 2))], *KILL_POINTS[point])

    store = MaskStore.open(path)  # valid: opens, validates, reads
    store.read_labels()
    assert store.read_scores().shape[1] == len(store.objects)
    meta = store.attrs["ecoseg"]
    log = meta.get("edits", [])
    if point == "backup":  # killed before the intent: nothing happened
        assert "edit_pending" not in meta and log == []
        assert chunk_bytes(path) == original
    elif point == "commit":  # the commit was written: the edit is done
        assert "edit_pending" not in meta and [e["kind"] for e in log] == ["merge"]
    else:
        assert meta["edit_pending"]["kind"] == "merge" and log == []

    from ecoseg.cli import main

    assert main(["edit", str(path), "--resume"]) == 0
    if point == "backup":
        assert edit_log(path) == [] and chunk_bytes(path) == original
        apply_edits(path, [Edit("merge", (1, 2))])  # the left-over backup is reused
    done = MaskStore.open(path)
    assert "edit_pending" not in done.attrs["ecoseg"]
    assert [e["kind"] for e in edit_log(path)] == ["merge"]
    assert np.array_equal(done.read_labels(), MaskStore.open(ref).read_labels())
    assert np.array_equal(done.read_scores(), MaskStore.open(ref).read_scores())
    assert done.objects == MaskStore.open(ref).objects
    Review(path).undo()
    assert chunk_bytes(path) == original


def test_cli_edit_and_log(store3, capsys):
    from ecoseg.cli import main

    path, _, _ = store3
    rc = main(
        [
            "edit",
            str(path),
            "--set-class",
            "3=wrasse",
            "--merge",
            "1,2",
            "--split",
            "3@8",
            "--delete",
            "1",
            "--log",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "edit 3: --split 3@8 -> new id 4" in out
    assert out.splitlines()[4:] == [
        "1  set class of track 3 to wrasse",
        "2  merge of track 2 into track 1",
        "3  split of track 3 at frame 8 into new track 4",
        "4  delete of track 1",
    ]
    assert main(["edit", str(path), "--undo"]) == 0  # one command: all four taken back
    assert [o["id"] for o in MaskStore.open(path).objects] == [1, 2, 3]
    capsys.readouterr()  # the undo's progress bars
    assert main(["edit", str(path), "--merge", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecoseg: error: ") and "--merge '1'" in err and "\n" not in err


def test_edit_log_of_a_store_without_edits_says_so_on_stderr(store3, capsys):
    """It printed nothing at all; stdout stays the log's lines (none)."""
    from ecoseg.cli import main

    path, _, _ = store3
    assert main(["edit", str(path), "--log"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == f"{path}: no edits yet\n"


def test_edit_log_alone_reads_while_another_command_writes(store3, capsys):
    """``ecoseg edit STORE --log`` only reads: it took the writer lock, so it was refused while
    a segment or classify run wrote the store."""
    from ecoseg.cli import main
    from ecoseg.store import lock_path

    path, _, _ = store3
    assert main(["edit", str(path), "--set-class", "3=wrasse"]) == 0
    capsys.readouterr()
    lock_path(path).write_text(json.dumps({"pid": 1, "host": "field-laptop", "created": "now"}))
    assert main(["edit", str(path), "--log", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["set_class"]
    assert err == ""
    assert main(["edit", str(path), "--reviewed", "1"]) != 0  # an edit still waits its turn
    assert "field-laptop" in capsys.readouterr().err


def test_edit_log_alone_names_what_an_interrupted_command_left(store3, interrupt_edit, capsys):
    from ecoseg.cli import main

    path, _, _ = store3
    assert main(["edit", str(path), "--set-class", "3=wrasse"]) == 0
    interrupt_edit(path)  # --merge 1,2 --delete 3 killed while rewriting labels
    capsys.readouterr()
    before = {p: p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    assert main(["edit", str(path), "--log", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["set_class"]
    assert "left 2 edits unfinished" in err and f"`ecoseg edit {path} --resume`" in err
    assert {p: p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()} == before
    assert main(["edit", str(path), "--resume", "--log", "--json"]) == 0  # completes, prints
    kinds = [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()[1:]]
    assert kinds == ["set_class", "merge", "delete"]


def test_undo_keeps_a_later_classification_of_other_tracks(store3):
    from ecoseg.species.review import open_for_edit, read_meta, write_meta

    path, _, _ = store3
    r = Review(path)
    r.set_class(1, "wrasse")
    with open_for_edit(path) as s:  # what `ecoseg classify` writes meanwhile
        meta = read_meta(s)
        meta["objects"][2].update(
            {"class": "damselfish", "class_source": "classified", "class_probability": 0.7}
        )
        write_meta(s, meta)
    r.undo()
    objs = {o["id"]: o for o in MaskStore.open(path).objects}
    assert objs[1] == {"id": 1, "class": "unknown", "source": "tracker"}
    assert objs[3]["class"] == "damselfish" and objs[3]["class_source"] == "classified"


def test_a_review_shows_its_store_objects_and_edits(store3):
    # it showed as <ecoseg.species.review.Review object at 0x...> in a notebook
    path, _, _ = store3
    r = Review(path)
    assert repr(r) == f"<Review {str(path)!r}: 3 objects, 0 edits>"
    r.delete(3)
    assert repr(r) == f"<Review {str(path)!r}: 2 objects, 1 edits>"


def test_refusals_from_python_name_the_python_call_not_the_cli_flags(store3):
    path, _, _ = store3
    r = Review(path)
    r.set_class(1, "blue tang")
    r.set_class(2, "wrasse")
    calls = [
        (lambda: r.set_class(99, "x"), "set_class(99, 'x'): no track 99"),
        (lambda: r.split(99, 3), "split(99, 3): no track 99"),
        (lambda: r.mark_reviewed(99), "mark_reviewed(99): no track 99"),
        (
            lambda: r.merge(1, 2),
            "merge(1, 2): track 1 is 'blue tang' and track 2 'wrasse', both reviewed by a "
            "person; name them alike first (set_class(2, 'blue tang') or set_class(1, 'wrasse'))",
        ),
        (
            lambda: apply_edits(path, [Edit("delete", (3,)), Edit("merge", (1, 3))]),
            "edit 2 of 2 (merge(1, 3)): no track 3, deleted by delete(3) earlier",
        ),
    ]
    for call, words in calls:
        with pytest.raises(ConfigError) as info:
            call()
        assert str(info.value).startswith(f"{path}: {words}") and "--" not in str(info.value)
    with pytest.raises(ConfigError, match="--set-class 2='blue tang' or --set-class 1=wrasse"):
        apply_edits(path, [Edit("merge", (1, 2))], words=cli_words)  # the CLI keeps its flags


# each message that names an edit: (edits, in the Review call's words, in ecoseg edit's)
NAMED = [
    ([Edit("undo")], "undo(): nothing to undo", "--undo: nothing to undo"),
    (
        [Edit("delete", (3,)), Edit("merge", (1, 3))],
        "edit 2 of 2 (merge(1, 3)): no track 3, deleted by delete(3) earlier",
        "edit 2 of 2 (--merge 1,3): no track 3, deleted by --delete 3 earlier",
    ),
    (
        [Edit("merge", (1, 2)), Edit("reviewed", (2,))],
        "edit 2 of 2 (mark_reviewed(2)): no track 2, merged into track 1 by merge(1, 2) earlier",
        "edit 2 of 2 (--reviewed 2): no track 2, merged into track 1 by --merge 1,2 earlier",
    ),
    (
        [Edit("split", (9,), frame=2, unchecked=True)],
        "split(9, 2), unchecked: no track 9",
        "--unchecked-split 9@2: no track 9",
    ),
    (
        # one spelling of a class in ecoseg edit's words, as its merge remedy always had it
        # (it was "--set-class '9=blue tang'" here, "--set-class 9='blue tang'" there)
        [Edit("set_class", (9,), cls="blue tang")],
        "set_class(9, 'blue tang'): no track 9",
        "--set-class 9='blue tang': no track 9",
    ),
]


@pytest.mark.parametrize(("edits", "python", "cli"), NAMED, ids=lambda v: str(v)[:20])
def test_a_refusal_names_the_edits_in_the_words_the_caller_chose(store3, edits, python, cli):
    path, _, _ = store3
    for words, said in ((python_words, python), (cli_words, cli), (None, python)):
        with pytest.raises(ConfigError) as info:
            if words is None:  # Python's by default
                apply_edits(path, edits)
            else:
                apply_edits(path, edits, words=words)
        assert str(info.value).startswith(f"{path}: {said}"), str(info.value)
    assert edit_log(path) == []


def test_the_rest_of_an_interrupted_command_is_named_as_its_options(store3):
    """Whoever completes it (Review, apply_edits in any words, ecoseg edit): the queued
    edits are a command's, not the caller's own, and the queue does not say which."""
    from ecoseg.species._edit_log import read_meta, write_meta
    from ecoseg.species.review import DroppedEditsWarning

    path, _, _ = store3
    for complete in (
        lambda: Review(path),
        lambda: apply_edits(path, [Edit("reviewed", (1,))], words=python_words),
    ):
        with MaskStore.open(path, mode="a") as s:
            meta = read_meta(s)
            meta["edit_queue"] = [{"kind": "set_class", "ids": [9], "cls": "blue tang"}]
            write_meta(s, meta)
        with pytest.warns(DroppedEditsWarning) as caught:
            complete()
        said = str(caught[0].message)
        assert f"dropped ({path}: --set-class 9='blue tang': no track 9 " in said, said


def test_marking_an_unknown_track_with_a_suggestion_reviewed_is_refused(store3, capsys):
    """A split's new part of a reviewed track (or a track classify left below its threshold)
    is unknown with a suggestion; marking it reviewed stored 'unknown' as a person's word
    (class_source reviewed, p=1), so classify never named it again and the suggestion the
    reviewer confirmed was not the class."""
    from ecoseg.cli import main

    path, _, _ = store3
    r = Review(path)
    r.set_class(1, "wrasse")
    new = r.split(1, 5)
    assert {o.id: o.class_suggestion for o in r.objects}[new] == "wrasse"
    before, log = chunk_bytes(path), edit_log(path)
    with pytest.raises(ConfigError) as info:
        r.mark_reviewed(new)
    said = str(info.value)
    assert said.startswith(f"{path}: mark_reviewed({new}): track {new} is unknown, with the ")
    assert f"set_class({new}, 'wrasse') to take the suggestion" in said, said
    assert f"set_class({new}, 'unknown') to leave it unnamed" in said and "--" not in said
    assert "\n" not in said and said.endswith("; nothing was changed")
    capsys.readouterr()
    assert main(["edit", str(path), "--reviewed", str(new)]) != 0
    err = capsys.readouterr().err
    assert f"{path}: --reviewed {new}: track {new} is unknown, with the suggestion" in err
    assert f"(--set-class {new}=wrasse to take the suggestion" in err, err
    assert chunk_bytes(path) == before and edit_log(path) == log
    # what the remedy says works, and an unknown track without a suggestion can be confirmed
    r.set_class(new, "wrasse")
    r.mark_reviewed(2)
    objects = {o.id: o for o in r.objects}
    assert (objects[new].class_name, objects[new].reviewed) == ("wrasse", True)
    assert (objects[2].class_name, objects[2].reviewed) == ("unknown", True)


def test_the_tables_class_source_is_the_object_tables_reviewed_flag(store3):
    """docs/tables.md: the tracks table has no ``reviewed`` column because ``class_source ==
    "reviewed"`` is exactly the flag; an ecologist filters confirmed names with it."""
    path, _, _ = store3
    r = Review(path)
    r.set_class(1, "wrasse")
    new = r.split(1, 5)  # unknown, with the suggestion 'wrasse': not reviewed
    r.mark_reviewed(2)  # looked at, left unnamed
    r.set_class(3, "parrotfish")
    r.undo()
    tracks = measure(path)["tracks"]
    flags = {o.id: o.reviewed for o in r.objects}
    assert dict(zip(tracks["object_id"], tracks["class_source"] == "reviewed")) == flags
    assert flags == {1: True, 2: True, 3: False, new: False}
    confirmed = tracks[(tracks["class_source"] == "reviewed") & (tracks["class"] != "unknown")]
    assert confirmed["object_id"].tolist() == [1]


def test_edit_log_marks_what_an_undo_took_back(store3, capsys):
    """``--log`` printed the raw entries, the undone ones among them with nothing saying so:
    a reader could not tell what the store holds. Every entry is still listed (the log is the
    record), in plain words, each one an undo took back marked with that undo; ``--json``
    prints the entries as stored."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log
    from ecoseg.species._edit_log import standing_edits

    path, _, _ = store3
    assert main(["edit", str(path), "--set-class", "3=wrasse"]) == 0
    assert main(["edit", str(path), "--set-class", "1=goby", "--delete", "2"]) == 0
    assert main(["edit", str(path), "--undo"]) == 0
    capsys.readouterr()
    assert main(["edit", str(path), "--log"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "1  set class of track 3 to wrasse",
        "2  set class of track 1 to goby  (undone by edit 5)",
        "3  delete of track 2  (undone by edit 4)",
        "4  undid edit 3",
        "5  undid edit 2",
    ]
    assert [e["n"] for e in standing_edits(edit_log(path))] == [1]  # the unmarked line
    assert main(["edit", str(path), "--log", "--json"]) == 0
    out = capsys.readouterr().out
    assert [json.loads(line) for line in out.splitlines()] == edit_log(path)


def test_review_objects_are_typed_frozen_records(store3):
    """``Review.objects`` was a list of the stored dicts (``o["class"]``, ``o.get(...)``);
    now one frozen :class:`ObjectRecord` per track, named where ``Review`` is."""
    import dataclasses

    import ecoseg
    import ecoseg.species

    path, _, _ = store3
    r = Review(path)
    r.set_class(1, "wrasse")
    new = r.split(1, 5)  # its part gets the name only as a suggestion
    objects = {o.id: o for o in r.objects}
    assert ecoseg.species.ObjectRecord is ecoseg.ObjectRecord
    assert all(isinstance(o, ecoseg.species.ObjectRecord) for o in objects.values())
    one = objects[1]
    assert (one.class_name, one.class_source, one.class_probability, one.reviewed) == (
        "wrasse",
        "reviewed",
        1.0,
        True,
    )
    assert (objects[new].class_name, objects[new].class_suggestion) == ("unknown", "wrasse")
    assert objects[2].class_suggestion is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.reviewed = False  # a record of the store, not a way to edit it
