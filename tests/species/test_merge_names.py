"""Merging two tracks never drops a person's species name for a model's guess, and two
different names a person gave as surely (reviewed, typed with prompts,
concepts') are not merged silently."""

import json

import pytest
from species_helpers import tracker_store

from ecoseg.cli import main
from ecoseg.errors import ConfigError
from ecoseg.species import Review
from ecoseg.species.review import ATTR_KEY
from ecoseg.store import MaskStore


def store_with(path, entries: dict[int, dict]):
    """The three-track store with object-table entries changed (as classify writes them)."""
    tracker_store(path)
    s = MaskStore.open(path, mode="a")
    meta = json.loads(json.dumps(s.group.attrs.asdict()[ATTR_KEY]))
    for obj in meta["objects"]:
        obj.update(entries.get(int(obj["id"]), {}))
    s.group.attrs.update({ATTR_KEY: meta})
    s.close()


GUESS = {"class": "wrasse", "class_source": "classified", "class_probability": 0.55}


def test_merging_a_persons_track_into_a_model_named_one_keeps_the_persons_name(tmp_path):
    path = tmp_path / "m.zarr"
    store_with(path, {1: GUESS})
    Review(path).set_class(2, "grouper")
    Review(path).merge(1, 2)
    r = MaskStore.open(path).object_records()[1]
    assert (r.class_name, r.class_source, r.reviewed) == ("grouper", "reviewed", True)
    Review(path).undo()  # and the merge undoes to both tracks as they were
    records = MaskStore.open(path).object_records()
    assert (records[1].class_name, records[1].class_source) == ("wrasse", "classified")
    assert records[2].class_name == "grouper"


def test_two_names_a_person_gave_are_not_merged_silently(tmp_path, capsys):
    path = tmp_path / "m.zarr"
    tracker_store(path)
    Review(path).set_class(1, "wrasse")
    Review(path).set_class(2, "grouper")
    before = MaskStore.open(path).objects
    assert main(["edit", str(path), "--merge", "1,2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"ecoseg: error: {path}: --merge 1,2: track 1 is 'wrasse' and track 2 'grouper', both "
        "reviewed by a person; name them alike first (--set-class 2=wrasse or --set-class "
        "1=grouper); nothing was changed"
    )
    assert MaskStore.open(path).objects == before
    with pytest.raises(ConfigError, match="both reviewed by a person"):
        Review(path).merge(2, 1)
    # named alike first (in the same command), the merge goes through
    assert main(["edit", str(path), "--set-class", "2=wrasse", "--merge", "1,2"]) == 0
    assert MaskStore.open(path).object_records()[1].class_name == "wrasse"


PROMPTED = {"source": "prompt", "class_source": "prompt", "class_probability": None}
CONCEPT = {"source": "concept", "class_source": "concept", "class_probability": 0.8}


def test_two_names_typed_with_prompts_are_not_merged_silently(tmp_path, capsys):
    path = tmp_path / "m.zarr"
    store_with(
        path,
        {1: {**PROMPTED, "class": "parrotfish"}, 2: {**PROMPTED, "class": "sea  urchin"}},
    )
    before = MaskStore.open(path).objects
    assert main(["edit", str(path), "--merge", "1,2"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ecoseg: error: {path}: --merge 1,2: track 1 is 'parrotfish' and track 2 "
        "'sea urchin', both named with their prompts; name them alike first "
        "(--set-class 2=parrotfish or --set-class 1='sea urchin'); nothing was changed"
    )
    assert MaskStore.open(path).objects == before
    assert main(["edit", str(path), "--set-class", "1=sea urchin", "--merge", "1,2"]) == 0
    r = MaskStore.open(path).object_records()[1]
    assert (r.class_name, r.class_source) == ("sea urchin", "reviewed")


def test_two_concepts_names_are_not_merged_silently(tmp_path):
    path = tmp_path / "m.zarr"
    store_with(path, {1: {**CONCEPT, "class": "parrotfish"}, 2: {**CONCEPT, "class": "wrasse"}})
    with pytest.raises(ConfigError, match="both found by concepts a person named"):
        Review(path).merge(1, 2)
    assert len(MaskStore.open(path).objects) == 3


@pytest.mark.parametrize(
    ("kept", "gone", "name"),
    [
        # a prompt's name (a person's word for this animal) outranks a concept's match
        ({**CONCEPT, "class": "wrasse"}, {**PROMPTED, "class": "parrotfish"}, "parrotfish"),
        # a concept's name outranks a classifier's guess
        (GUESS, {**CONCEPT, "class": "parrotfish"}, "parrotfish"),
        # a concept of exemplars alone ('visual') is no name a person typed
        ({**CONCEPT, "class": "visual"}, {**CONCEPT, "class": "wrasse"}, "wrasse"),
        # one spelling of one name is no clash (NFD and a double space)
        (
            {**PROMPTED, "class": "O\u0304taki  fish"},
            {**PROMPTED, "class": "\u014ctaki fish"},
            "\u014ctaki fish",
        ),
    ],
)
def test_merge_keeps_the_surer_persons_name(tmp_path, kept, gone, name):
    path = tmp_path / "m.zarr"
    store_with(path, {1: kept, 2: gone})
    Review(path).merge(1, 2)
    r = MaskStore.open(path).object_records()[1]
    assert (r.class_name, r.class_source, r.reviewed) == (name, "reviewed", True)


def test_refused_merges_finds_old_merges_of_two_names_of_one_rank(tmp_path, monkeypatch):
    """A merge made before ``--merge`` refused two different names of one rank is found from
    its backup, by its log number (``--unchecked-merge`` makes it again); a merge that goes
    through today, and one whose backup is lost, are not listed."""
    import shutil

    import ecoseg.species.edits
    from ecoseg.provenance import clean_class_name
    from ecoseg.species.review import refused_merges

    path = tmp_path / "m.zarr"
    store_with(path, {1: {**PROMPTED, "class": "parrotfish"}, 2: {**PROMPTED, "class": "wrasse"}})
    with monkeypatch.context() as old:  # as ecoseg merged before it ranked names
        old.setattr(
            ecoseg.species.edits, "_persons_name", lambda o: (0, clean_class_name(o["class"]))
        )
        Review(path).merge(1, 2)
    Review(path).merge(1, 3)  # 3 is unknown: no clash
    assert refused_merges(path) == [1]
    assert MaskStore.open(path).object_records()[1].class_name == "parrotfish"
    shutil.rmtree(path / "edits" / "00001")
    assert refused_merges(path) == []


def test_merging_two_model_guesses_leaves_a_guess_not_a_reviewed_name(tmp_path):
    """A merge says two tracks are one animal, not which species: merging two tracks the
    model named (here differently, p=0.55 and 0.9) made the first guess a person's reviewed
    name (class_source reviewed, probability 1.0), used for training and never named again."""
    from ecoseg.species import review_queue

    path = tmp_path / "m.zarr"
    other = {"class": "parrotfish", "class_source": "classified", "class_probability": 0.9}
    store_with(path, {1: GUESS, 2: other})
    Review(path).merge(1, 2)
    r = MaskStore.open(path).object_records()[1]
    assert (r.class_name, r.class_source, r.reviewed) == ("wrasse", "classified", False)
    assert r.class_probability == pytest.approx(0.55)
    queue = review_queue(path).set_index("object_id")
    assert not queue.loc[1, "reviewed"]  # still to review, named again by the next classify


def _store_state(path):
    s = MaskStore.open(path)
    log = [{k: v for k, v in e.items() if k != "time"} for e in s.attrs[ATTR_KEY].get("edits", [])]
    return s.read_labels(), s.read_scores(), s.objects, log


def test_unchecked_merge_makes_an_old_merge_of_two_names_as_it_was(tmp_path, monkeypatch):
    """``--unchecked-merge`` makes a merge of two names typed with prompts as ecoseg made it
    before ``--merge`` refused it (the first track's name kept, reviewed): the same labels,
    scores, object table and log, one entry, which an ``--undo`` takes back. A replay gave
    ``--set-class`` before the merge instead: a log entry more, every later one numbered
    one higher than in the store."""
    import shutil

    import numpy as np

    import ecoseg.species.edits
    from ecoseg.provenance import clean_class_name

    path, again = tmp_path / "m.zarr", tmp_path / "again.zarr"
    store_with(path, {1: {**PROMPTED, "class": "parrotfish"}, 2: {**PROMPTED, "class": "wrasse"}})
    shutil.copytree(path, again)
    before = _store_state(again)
    with monkeypatch.context() as old:  # as ecoseg merged before it ranked names
        old.setattr(
            ecoseg.species.edits, "_persons_name", lambda o: (0, clean_class_name(o["class"]))
        )
        assert main(["edit", str(path), "--merge", "1,2"]) == 0
    assert main(["edit", str(again), "--merge", "1,2"]) == 2  # refused today
    assert main(["edit", str(again), "--unchecked-merge", "1,2"]) == 0
    x, y = _store_state(path), _store_state(again)
    assert all(np.array_equal(a, b) for a, b in zip(x[:2], y[:2], strict=True))
    assert x[2:] == y[2:] and [e["kind"] for e in y[3]] == ["merge"]
    r = MaskStore.open(again).object_records()[1]
    assert (r.class_name, r.reviewed) == ("parrotfish", True)
    assert main(["edit", str(again), "--undo"]) == 0
    undone = _store_state(again)
    assert np.array_equal(undone[0], before[0]) and undone[2] == before[2]


def test_a_killed_unchecked_merge_is_completed_as_it_was(tmp_path):
    """Completed from its backup (the log entry, a plain merge, does not say it was
    unchecked), the merge of two names is made as the command gave it, not refused."""
    from species_helpers import kill_9_editing

    from ecoseg.species import apply_edits
    from ecoseg.species.edits import Edit

    command = [Edit("merge", (1, 2), unchecked=True)]
    names = {1: {**PROMPTED, "class": "parrotfish"}, 2: {**PROMPTED, "class": "wrasse"}}
    path, ref = tmp_path / "m.zarr", tmp_path / "ref.zarr"
    store_with(path, names)
    store_with(ref, names)
    apply_edits(ref, command)
    kill_9_editing(path, command, "write_meta", 1)  # its intent written, nothing rewritten
    assert main(["edit", str(path), "--resume"]) == 0
    assert MaskStore.open(path).objects == MaskStore.open(ref).objects
    assert "unchecked" not in MaskStore.open(path).attrs[ATTR_KEY]["edits"][-1]


def _merge_as_before_names_were_ranked(monkeypatch, path, keep: int, gone: int) -> None:
    """Merge as ecoseg did before it ranked names: the first track's class kept whatever
    the second one's, confirmed (reviewed) unless ``unknown``."""
    import ecoseg.species.edits
    from ecoseg.provenance import clean_class_name

    with monkeypatch.context() as old:
        old.setattr(
            ecoseg.species.edits, "_persons_name", lambda o: (0, clean_class_name(o["class"]))
        )
        old.setattr(
            ecoseg.species.edits, "_a_guess", lambda o: clean_class_name(o["class"]) == "unknown"
        )
        assert main(["edit", str(path), "--merge", f"{keep},{gone}"]) == 0


def test_a_merge_made_before_names_were_ranked_is_found_and_made_again_as_it_was(
    tmp_path, monkeypatch
):
    """A merge of a model's guess (track 1, wrasse) with a track a person named (2, grouper)
    made before ecoseg ranked names kept the guess, confirmed as reviewed; today's merge
    keeps the person's name. ``refused_merges`` did not list it (no two names of one rank),
    so a replay made it with ``--merge``: the merged track grouper, not the wrasse the person
    saw. Now it is found from the table after it (here the store's) and ``--unchecked-merge``
    makes it as it was: the same labels, scores, object table and log. A merge made today,
    and one whose backup is lost, are not listed."""
    import shutil

    import numpy as np

    from ecoseg.species.review import refused_merges

    path, again, today = (tmp_path / f"{n}.zarr" for n in ("m", "again", "today"))
    store_with(path, {1: GUESS})
    assert main(["edit", str(path), "--set-class", "2=grouper"]) == 0
    shutil.copytree(path, again)
    shutil.copytree(path, today)
    _merge_as_before_names_were_ranked(monkeypatch, path, 1, 2)
    r = MaskStore.open(path).object_records()[1]
    assert (r.class_name, r.class_source, r.reviewed) == ("wrasse", "reviewed", True)
    assert refused_merges(path) == [2]
    assert main(["edit", str(again), "--unchecked-merge", "1,2"]) == 0
    x, y = _store_state(path), _store_state(again)
    assert all(np.array_equal(a, b) for a, b in zip(x[:2], y[:2], strict=True))
    assert x[2:] == y[2:]
    assert main(["edit", str(today), "--merge", "1,2"]) == 0
    assert MaskStore.open(today).object_records()[1].class_name == "grouper"
    assert refused_merges(today) == []
    shutil.rmtree(path / "edits" / "00002")
    assert refused_merges(path) == []


def test_an_old_merge_is_judged_on_the_table_just_after_it(tmp_path, monkeypatch):
    """A later edit's backup holds the table just after the merge: an old merge followed by
    a set class is still found; a merge today followed by one is not."""
    from ecoseg.species.review import refused_merges

    path, today = tmp_path / "m.zarr", tmp_path / "today.zarr"
    for p in (path, today):
        store_with(p, {1: GUESS})
        assert main(["edit", str(p), "--set-class", "2=grouper"]) == 0
    _merge_as_before_names_were_ranked(monkeypatch, path, 1, 2)
    assert main(["edit", str(today), "--merge", "1,2"]) == 0
    for p in (path, today):
        assert main(["edit", str(p), "--set-class", "3=parrotfish"]) == 0
    assert (refused_merges(path), refused_merges(today)) == ([2], [])


def test_a_merge_neither_rule_makes_is_listed_apart(tmp_path, monkeypatch):
    """An ecoseg between the two rules (names unranked, a guess left a guess) merged a
    person's grouper (2) into a model's wrasse (1) and left the wrasse unreviewed: neither
    ``--merge`` (grouper) nor ``--unchecked-merge`` (wrasse, reviewed) makes it so. It is
    listed by ``unmade_merges`` (a replay says the track may be named otherwise), not by
    ``refused_merges``."""
    import ecoseg.species.edits
    from ecoseg.provenance import clean_class_name
    from ecoseg.species.review import refused_merges, unmade_merges

    path = tmp_path / "m.zarr"
    store_with(path, {1: GUESS})
    assert main(["edit", str(path), "--set-class", "2=grouper"]) == 0
    with monkeypatch.context() as old:
        old.setattr(
            ecoseg.species.edits, "_persons_name", lambda o: (0, clean_class_name(o["class"]))
        )
        assert main(["edit", str(path), "--merge", "1,2"]) == 0
    r = MaskStore.open(path).object_records()[1]
    assert (r.class_name, r.class_source, r.reviewed) == ("wrasse", "classified", False)
    assert (refused_merges(path), unmade_merges(path)) == ([], [2])
    assert main(["edit", str(path), "--merge", "1,3"]) == 0  # today's: listed by neither
    assert (refused_merges(path), unmade_merges(path)) == ([], [2])


@pytest.mark.parametrize("rule", ["unranked", "neither"])
def test_a_report_judges_a_stores_merges_once(tmp_path, monkeypatch, rule):
    """``read_video`` asked ``refused_merges`` and ``unmade_merges`` in turn, and each read
    every merge's backups (``_judged_merges``) again: twice per store. It now asks
    ``old_merges``, which judges them once and gives both lists, the same as the two
    functions give alone."""
    import ecoseg.species._old_edits as old_edits
    import ecoseg.species.edits
    from ecoseg.provenance import clean_class_name
    from ecoseg.report.read import read_video
    from ecoseg.species.review import refused_merges, unmade_merges

    path = tmp_path / "m.zarr"
    store_with(path, {1: GUESS})
    assert main(["edit", str(path), "--set-class", "2=grouper"]) == 0
    if rule == "unranked":
        _merge_as_before_names_were_ranked(monkeypatch, path, 1, 2)
    else:  # an ecoseg between the two rules (see the test above)
        with monkeypatch.context() as old:
            old.setattr(
                ecoseg.species.edits, "_persons_name", lambda o: (0, clean_class_name(o["class"]))
            )
            assert main(["edit", str(path), "--merge", "1,2"]) == 0
    alone = (refused_merges(path), unmade_merges(path))
    assert alone == (([2], []) if rule == "unranked" else ([], [2]))
    judged = []
    real = old_edits._judged_merges
    monkeypatch.setattr(old_edits, "_judged_merges", lambda s: judged.append(s) or real(s))
    info = read_video("m", str(path), "m")
    assert len(judged) == 1
    assert (info.refused_merges, info.unmade_merges) == alone


@pytest.mark.parametrize("gone", [None, 2, 3], ids=["kept", "its-backup", "next-backup"])
def test_a_merge_whose_backups_are_gone_is_replayed_with_one_warning(tmp_path, monkeypatch, gone):
    """An old merge (entry 2, judged on its backup and on the next entry's, 3) whose backups
    a person deleted cannot be checked: the report's replay makes it with ``--merge`` as the
    log records it, which may name the track otherwise. It did so silently; now one
    warning names the store and the entry (the report asks both judges of merges). With
    the backups there it is judged, and nothing is said."""
    import shutil
    import warnings

    from ecoseg.report.read import read_video
    from ecoseg.species.review import UncheckedMergeWarning

    path = tmp_path / "m.zarr"
    store_with(path, {1: GUESS})
    assert main(["edit", str(path), "--set-class", "2=grouper"]) == 0
    _merge_as_before_names_were_ranked(monkeypatch, path, 1, 2)
    assert main(["edit", str(path), "--set-class", "3=parrotfish"]) == 0
    if gone is not None:
        shutil.rmtree(path / "edits" / f"{gone:05d}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = read_video("m", str(path), "m")
    said = [str(w.message) for w in caught if w.category is UncheckedMergeWarning]
    assert info.refused_merges == ([2] if gone is None else [])
    if gone is None:
        assert said == []
        return
    assert said == [
        f"{path}: edit log entry 2, --merge 1,2, cannot be checked against today's rules (its "
        "backup or the next entry's is missing or damaged) and is replayed as recorded, with "
        "--merge"
    ]
