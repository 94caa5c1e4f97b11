"""Merging two tracks never drops a person's species name for a model's guess, and two
different names a person reviewed are not merged silently."""

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
