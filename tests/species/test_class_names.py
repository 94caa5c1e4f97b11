"""A species name is one species in every table whatever its spelling of the same text
(Unicode NFC or NFD, runs of spaces); a name a person gives that differs only in letter case
from one in the store is refused, and such names an older store holds are counted apart, and
said so."""

import json
import shlex
import shutil
import unicodedata
import warnings

import pytest
from species_helpers import tracker_store

import ecoseg
from ecoseg.cli import main
from ecoseg.errors import ClassNameWarning, ConfigError
from ecoseg.report.reproduce import review_steps
from ecoseg.species import Review, apply_edits, edit_log
from ecoseg.species.edits import Edit
from ecoseg.species.review import ATTR_KEY
from ecoseg.store import MaskStore

NFC = unicodedata.normalize("NFC", "\u014ctaki")  # 'Ōtaki', one code point for the Ō
NFD = unicodedata.normalize("NFD", NFC)  # O + combining macron (how macOS may write it)


def maxn(path) -> dict[str, int]:
    table = ecoseg.measure(path)["maxn"]
    return dict(zip(table["class"], table["maxn"].tolist()))


def test_nfc_and_nfd_names_are_one_species_in_maxn(tmp_path):
    # tracks 1 and 2 are together on frames 0-7: one species, MaxN 2
    path = tmp_path / "m.zarr"
    tracker_store(path)
    assert main(["edit", str(path), "--set-class", f"1={NFC}", "--set-class", f"2={NFD}"]) == 0
    assert maxn(path) == {NFC: 2, "unknown": 1}
    assert {o["class"] for o in MaskStore.open(path).objects} == {NFC, "unknown"}


def test_names_stored_in_another_spelling_are_counted_as_one(tmp_path):
    # an object table written by another tool (or an older ecoseg): NFD, a double space
    path = tmp_path / "m.zarr"
    tracker_store(path)
    s = MaskStore.open(path, mode="a")
    meta = json.loads(json.dumps(s.group.attrs.asdict()[ATTR_KEY]))
    for obj, name in zip(meta["objects"], (NFD, f" {NFC}", "blue  tang")):
        obj["class"] = name
    s.group.attrs.update({ATTR_KEY: meta})
    s.close()
    assert maxn(path) == {NFC: 2, "blue tang": 1}
    regions = ecoseg.measure(path, classes=[NFD])["regions"]
    assert set(regions["class"]) == {NFC}


def test_spaces_and_unknown_spelled_otherwise(tmp_path):
    path = tmp_path / "m.zarr"
    tracker_store(path)
    apply_edits(
        path,
        [
            Edit("set_class", (1,), cls="blue\u00a0 tang "),
            Edit("set_class", (2,), cls="blue tang"),
            Edit("set_class", (3,), cls="Unknown"),  # not a species called 'Unknown'
        ],
    )
    assert maxn(path) == {"blue tang": 2, "unknown": 1}


def respelt(path, names: dict[int, str]) -> None:
    """Name tracks of the store ``path`` as an older ecoseg (or another tool) could write
    them, past today's checks."""
    s = MaskStore.open(path, mode="a")
    meta = json.loads(json.dumps(s.group.attrs.asdict()[ATTR_KEY]))
    for obj in meta["objects"]:
        if int(obj["id"]) in names:
            obj.update({"class": names[int(obj["id"])], "class_source": "reviewed"})
            obj.update({"reviewed": True, "class_probability": 1.0})
    s.group.attrs.update({ATTR_KEY: meta})
    s.close()


def test_a_name_differing_only_in_case_from_one_in_the_store_is_refused(tmp_path, capsys):
    """'Parrotfish' beside 'parrotfish' was written (two species in counts and MaxN) with a
    warning; now refused, naming the spelling in the store, and nothing is written."""
    path = tmp_path / "m.zarr"
    tracker_store(path)
    Review(path).set_class(1, "parrotfish")
    with pytest.raises(ConfigError) as caught:
        Review(path).set_class(2, " Parrotfish")
    assert str(caught.value) == (
        f"{path}: set_class(2, 'Parrotfish'): class 'Parrotfish' differs only in case from "
        "'parrotfish' already in the store (track 1); use 'parrotfish', or name track 1 "
        "'Parrotfish' too in the same command; nothing was changed"
    )
    capsys.readouterr()
    assert main(["edit", str(path), "--set-class", "2=PARROTFISH"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"ecoseg: error: {path}: --set-class 2=PARROTFISH: class 'PARROTFISH' differs only in "
        "case from 'parrotfish' already in the store (track 1); use 'parrotfish', or name "
        "track 1 'PARROTFISH' too in the same command; nothing was changed"
    ]
    assert [e["kind"] for e in Review(path).log] == ["set_class"]  # nothing written
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClassNameWarning)
        Review(path).set_class(2, "parrotfish")  # the store's spelling
        # respelt: every track of the name in one command
        code = main(
            ["edit", str(path), "--set-class", "1=Parrotfish", "--set-class", "2=Parrotfish"]
        )
        assert code == 0
        assert maxn(path) == {"Parrotfish": 2, "unknown": 1}


def test_names_differing_in_case_in_an_older_store_are_counted_apart_with_a_warning(
    tmp_path, capsys
):
    path = tmp_path / "m.zarr"
    tracker_store(path)
    respelt(path, {1: "parrotfish", 2: "Parrotfish"})  # before ecoseg refused it
    with pytest.warns(ClassNameWarning, match="differ only in letter case") as caught:
        assert maxn(path) == {"parrotfish": 1, "Parrotfish": 1, "unknown": 1}
    # the way to name them alike, for the CLI and Python alike (it named the CLI only)
    assert str(caught[0].message).endswith(
        f"name its tracks alike (ecoseg edit {path} --set-class ID=NAME (in Python "
        f"ecoseg.Review({str(path)!r}).set_class(ID, 'NAME')))"
    )
    assert main(["measure", str(path), "-o", str(tmp_path / "t")]) == 0
    err = capsys.readouterr().err
    warning = [line for line in err.splitlines() if "letter case" in line]
    assert len(warning) == 1 and warning[0].startswith("ecoseg: warning: ")
    assert str(path) in warning[0]
    # naming the tracks alike ends it (a spelling the store has is no new one)
    with pytest.warns(ClassNameWarning, match=r"'Parrotfish' \(track 2\) and 'parrotfish'"):
        Review(path).set_class(3, "parrotfish")  # still two spellings after this edit
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClassNameWarning)
        Review(path).set_class(2, "parrotfish")
        assert maxn(path) == {"parrotfish": 3}  # all three on frames 6-7


def test_a_case_clash_on_many_tracks_names_the_first_few():
    """The refusals listed every track of the spelling there (22 on a survey), twice."""
    from types import SimpleNamespace

    from ecoseg.species._edit_plan import check_edit_spellings as check_edit
    from ecoseg.species._training import check_training_spellings as check_training

    store = SimpleNamespace(path="ruv.zarr")
    before = [{"id": i, "class": "wrasse"} for i in range(1, 23)] + [{"id": 23, "class": None}]
    after = before[:-1] + [{"id": 23, "class": "Wrasse"}]
    edit = Edit("set_class", (23,), cls="Wrasse")
    with pytest.raises(ConfigError) as caught:
        check_edit(store, [edit], before, after, lambda e: "--set-class 23=Wrasse")
    listed = "tracks 1, 2, 3, 4, 5, 6, 7, 8, ... (22 in all)"
    assert str(caught.value) == (
        "ruv.zarr: --set-class 23=Wrasse: class 'Wrasse' differs only in case from 'wrasse' "
        f"already in the store ({listed}); use 'wrasse', or name {listed} 'Wrasse' too in the "
        "same command; nothing was changed"
    )
    ids = list(range(1, 23))
    feats = SimpleNamespace(store="b.zarr", ids=ids, reviewed=[True] * 22, classes=["Red"] * 22)
    with pytest.raises(ConfigError) as caught:
        check_training(feats, ["Red"] * 22, {"red": "a.zarr"})
    assert str(caught.value) == (
        f"b.zarr: reviewed {listed} named 'Red', which differs only in case from 'red' "
        "(reviewed in a.zarr): the model would learn one species as two; use 'red' for each: "
        "ecoseg edit b.zarr --set-class ID=red (in Python "
        "ecoseg.Review('b.zarr').set_class(ID, 'red'))"
    )


def test_unchecked_set_class_makes_an_old_name_differing_in_case_as_it_was(tmp_path, capsys):
    """A report replays a name given before ecoseg refused one differing only in letter case
    (written, with a warning) with ``--unchecked-set-class``; ``--set-class`` refuses it."""
    path = tmp_path / "m.zarr"
    tracker_store(path)
    Review(path).set_class(1, "parrotfish")
    assert main(["edit", str(path), "--set-class", "2=Parrotfish"]) == 2
    capsys.readouterr()
    assert main(["edit", str(path), "--unchecked-set-class", "2=Parrotfish"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["edit 2: --unchecked-set-class 2=Parrotfish"]
    assert "differ only in letter case" in err  # as it was written before the rule
    with pytest.warns(ClassNameWarning):
        assert maxn(path) == {"parrotfish": 1, "Parrotfish": 1, "unknown": 1}
    with pytest.warns(ClassNameWarning):
        apply_edits(path, [Edit("set_class", (3,), cls="PARROTFISH", unchecked=True)])
    assert [e.get("cls") for e in Review(path).log] == ["parrotfish", "Parrotfish", "PARROTFISH"]


def _replayed(path, fresh, names) -> list[str]:
    """Run a report's review steps of ``path``'s log (``names``: the entries replayed with
    ``--unchecked-set-class``) on ``fresh``; its object table must become ``path``'s."""
    steps = review_steps(str(fresh), edit_log(path), names=names)
    for step in steps:
        assert main(shlex.split(step)[1:]) == 0, step
    assert MaskStore.open(fresh).objects == MaskStore.open(path).objects
    return steps


def test_refused_names_lists_the_names_a_replay_would_refuse(tmp_path, monkeypatch):
    """A name given before ecoseg refused one differing only in case from one beside it, or
    respelt by a later command: a replay joins commands into one ``ecoseg edit``, which
    would refuse the first spelling beside the one after it."""
    import ecoseg.species._edit_plan
    from ecoseg.species.review import refused_names

    path = tmp_path / "m.zarr"
    tracker_store(path)
    fresh = [shutil.copytree(path, tmp_path / f"again{k}.zarr") for k in range(3)]
    apply_edits(path, [Edit("set_class", (1,), cls="Wrasse"), Edit("set_class", (2,), cls="goby")])
    assert refused_names(path) == []
    apply_edits(path, [Edit("set_class", (1,), cls="wrasse")])  # 3: respelt, as allowed
    with monkeypatch.context() as old:  # 4: beside 'goby', as an older ecoseg took it
        old.setattr(ecoseg.species._edit_plan, "check_edit_spellings", lambda *args: None)
        with pytest.warns(ClassNameWarning):
            apply_edits(path, [Edit("set_class", (3,), cls="GOBY")])
    apply_edits(path, [Edit("set_class", (2,), cls="GOBY")])  # 5: 'GOBY' alone after it
    assert refused_names(path) == [1, 2, 4]
    with pytest.raises(AssertionError, match="--set-class 1=Wrasse"):
        _replayed(path, fresh[0], [])  # refused: 'Wrasse' beside the 'wrasse' after it
    assert _replayed(path, fresh[1], [1, 2, 4]) == [
        "ecoseg edit " + shlex.quote(str(fresh[1])) + " --unchecked-set-class 1=Wrasse "
        "--unchecked-set-class 2=goby --set-class 1=wrasse --unchecked-set-class 3=GOBY "
        "--set-class 2=GOBY"
    ]
    Review(path).undo()  # 5 undone: the table after it is not kept; 4 and 5 still listed
    assert refused_names(path) == [1, 2, 4, 5]
    _replayed(path, fresh[2], refused_names(path))
