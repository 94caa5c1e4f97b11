"""A species name is one species in every table whatever its spelling of the same text
(Unicode NFC or NFD, runs of spaces); names that differ only in letter case are counted
apart, and said so."""

import json
import unicodedata
import warnings

import pytest
from species_helpers import tracker_store

import ecoseg
from ecoseg.cli import main
from ecoseg.errors import ClassNameWarning
from ecoseg.species import Review, apply_edits
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


def test_names_differing_in_case_are_counted_apart_with_a_warning(tmp_path, capsys):
    path = tmp_path / "m.zarr"
    tracker_store(path)
    Review(path).set_class(1, "parrotfish")
    with pytest.warns(ClassNameWarning, match=r"'Parrotfish' \(track 2\) and 'parrotfish'"):
        Review(path).set_class(2, "Parrotfish")
    with pytest.warns(ClassNameWarning, match="differ only in letter case"):
        assert maxn(path) == {"parrotfish": 1, "Parrotfish": 1, "unknown": 1}
    assert main(["measure", str(path), "-o", str(tmp_path / "t")]) == 0
    err = capsys.readouterr().err
    warning = [line for line in err.splitlines() if "letter case" in line]
    assert len(warning) == 1 and warning[0].startswith("ecoseg: warning: ")
    assert str(path) in warning[0]
    # naming the tracks alike ends it; an unrelated edit says nothing
    with pytest.warns(ClassNameWarning):  # still two spellings after this edit
        Review(path).set_class(3, "parrotfish")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClassNameWarning)
        Review(path).set_class(2, "parrotfish")
        assert maxn(path) == {"parrotfish": 3}  # all three on frames 6-7
