"""A store's class probabilities through export and import (docs/formats.md's table).

Every import stored no class probability: a classified or concept store exported to COCO,
YouTube-VIS or VIAME came back without its objects' ``class_probability`` (VIAME's species
confidence picked the species and was dropped; a YouTube-VIS results file's ``score``, a
model's confidence in a track's category, too). Now kept where the format has a field for it.
VIAME wrote an object without one with its score on each frame as the species confidence,
which read back as its class probability (the highest score); it is written with a
confidence of 1 and ``(trk-atr) class_probability none``, and reads back without one. CVAT
lost both; it keeps them as mask attributes now, and the class source too, as COCO's
annotation attributes and YouTube-VIS's annotations do since stop 58, and VIAME's track
attributes since stop 59 (it lost it). MOT, MOTS and DAVIS have no place for it: an imported
object records none (``unknown``), and ``ecoseg.measure``'s tables show ``prompt`` for a named
one (a class given with the object, as a truth store's;
``ecoseg.measure.regions.class_source_of``). A class source ``reviewed`` (a person's word)
came back without the reviewed flag a review sets with it: an import sets it; but not for the
new part of a split made before ecoseg's splits gave a person's name only as a suggestion
(source ``reviewed``, flag unset: another animal nobody reviewed), which came back reviewed
(``classify`` trained on it, the review queue skipped it): the flag is written where the
class source does not say it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import ecoseg
from ecoseg.formats import export, import_annotations
from ecoseg.species import apply_edits
from ecoseg.species.edits import Edit
from ecoseg.store import MaskStore

T, H, W = 4, 48, 64
# id: (class, class source, class probability); object 3 has none (a prompt's class)
OBJECTS = {
    1: ("wrasse", "classified", 0.8125),
    2: ("goby", "concept", 0.431),
    3: ("crab", "prompt", None),
}
SCORES = np.array([[0.9, 0.6, 0.7], [0.8, 0.5, 0.75], [0.95, 0.55, 0.5], [0.85, 0.65, 0.6]])
#: what each format gives back as the class probability of objects 1, 2 and 3
BACK = {
    "coco": [0.8125, 0.431, None],
    "ytvis": [0.8125, 0.431, None],
    "viame": [0.8125, 0.431, None],  # the species confidence (0.75, object 3's best score)
    "cvat": [0.8125, 0.431, None],  # mask attributes (lost)
    "mot": [None, None, None],
    "mots": [None, None, None],
    "davis": [None, None, None],
}


@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    """(video, store) of a store whose objects were classified, found by concept, prompted."""
    folder = tmp_path_factory.mktemp("classified")
    clip = ecoseg.synth(folder / "clip", frames=T, size=(W, H), seed=5)
    return clip.video, _classified_store(folder / "classified.zarr", clip.video)


def _classified_store(store: Path, video, objects=None) -> Path:
    """A store of the video whose objects are those of OBJECTS (or ``objects``, their
    object table)."""
    labels = np.zeros((T, H, W), np.uint32)
    labels[:, 2:10, 3:12] = 1
    labels[:, 20:30, 30:40] = 2
    labels[:, 35:40, 50:60] = 3
    objects = objects or [
        {"id": i, "class": c, "source": "concept", "class_source": s}
        | ({} if p is None else {"class_probability": p})
        for i, (c, s, p) in OBJECTS.items()
    ]
    times = np.array([f.time for f in ecoseg.open_video(video)])
    with MaskStore.create(str(store), height=H, width=W, objects=objects) as s:
        s.append(labels, times, SCORES.astype(np.float32))
        s.mark_complete()
    return store


def _records(store):
    with MaskStore.open(store) as s:
        return s.object_records()


@pytest.mark.parametrize("fmt", list(BACK))
def test_a_round_trip_keeps_the_class_probability_where_the_format_has_a_field(
    classified, tmp_path, fmt
):
    video, store = classified
    path = export(store, fmt, tmp_path / f"out-{fmt}")
    back = _records(import_annotations(path, fmt, video, tmp_path / "back.zarr"))
    assert [back[i].class_probability for i in OBJECTS] == BACK[fmt]


def test_the_tables_show_an_imported_named_objects_class_source_as_prompt(classified, tmp_path):
    """As docs/formats.md says: a class given with the object (a format with classes but no
    class source: MOTS, whose names are its class ids')."""
    video, store = classified
    path = export(store, "mots", tmp_path / "out.txt")
    back = import_annotations(path, "mots", video, tmp_path / "back.zarr")
    tracks = ecoseg.measure(back)["tracks"].set_index("object_id")
    assert tracks.loc[list(OBJECTS), "class_source"].tolist() == ["prompt"] * 3


def test_a_ytvis_results_files_score_is_the_tracks_class_probability(classified, tmp_path):
    """A model's results (no frame_scores): its track ``score`` is its confidence in the
    category, as YouTube-VIS's evaluation reads it."""
    video, store = classified
    path = export(store, "ytvis", tmp_path / "ours.json")
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    for a in data["annotations"]:  # as a model writes its results
        del a["frame_scores"]
        a.pop("class_probability", None)
    assert [a["id"] for a in data["annotations"]] == [1, 2, 3]
    data["annotations"][0]["score"] = 0.66
    results = tmp_path / "results.json"
    results.write_text(json.dumps(data))
    back = _records(import_annotations(results, "ytvis", video, tmp_path / "r.zarr"))
    assert back[1].class_probability == 0.66
    assert back[3].class_probability == pytest.approx(SCORES[:, 2].mean())  # its mean score


def test_a_dive_species_confidence_is_the_class_probability(classified, tmp_path):
    video, _ = classified
    csv = tmp_path / "dive.csv"
    csv.write_text(
        "# 1: Detection or Track-id,2: Video or Image Identifier,3: Unique Frame Identifier\n"
        "0,00:00:00.000000,0,3,2,12,10,0.9,-1,wrasse,0.7,goby,0.2\n"
        "0,00:00:00.040000,1,3,2,12,10,0.9,-1,wrasse,0.7,goby,0.2\n"
    )
    back = _records(import_annotations(csv, "viame", video, tmp_path / "d.zarr"))
    assert (back[1].class_name, back[1].class_probability) == ("wrasse", 0.7)


@pytest.mark.parametrize("fmt", ["viame", "cvat"])
def test_scores_and_class_probabilities_come_back_apart(classified, tmp_path, fmt):
    """The score on each frame (VIAME's field 8, CVAT's ``score``) goes to the store's scores,
    the class probability to the object table: neither reads as the other."""
    video, store = classified
    path = export(store, fmt, tmp_path / f"out-{fmt}")
    back = import_annotations(path, fmt, video, tmp_path / "back.zarr")
    with MaskStore.open(store) as before, MaskStore.open(back) as after:
        assert np.array_equal(after.read_scores(), before.read_scores())
        old, new = before.object_records(), after.object_records()
    assert [new[i].class_probability for i in OBJECTS] == [
        old[i].class_probability for i in OBJECTS
    ]


@pytest.mark.parametrize("fmt", ["cvat", "coco", "ytvis", "viame"])
def test_a_round_trip_keeps_the_class_source(classified, tmp_path, fmt):
    """ecoseg's ``class_source``, a CVAT mask attribute, a COCO annotation attribute, a
    YouTube-VIS annotation's field, a VIAME track attribute: the tables show where each class
    came from (they showed ``prompt`` for every object of the imported store)."""
    video, store = classified
    path = export(store, fmt, tmp_path / f"out-{fmt}")
    back = import_annotations(path, fmt, video, tmp_path / "back.zarr")
    assert [r.class_source for r in _records(back).values()] == ["classified", "concept", "prompt"]
    tracks = ecoseg.measure(back)["tracks"].set_index("object_id")
    assert tracks.loc[list(OBJECTS), "class_source"].tolist() == ["classified", "concept", "prompt"]


@pytest.mark.parametrize("fmt", ["cvat", "coco", "ytvis", "viame"])
def test_a_round_trip_keeps_a_persons_review(classified, tmp_path, fmt):
    """A store a person reviewed (the Review API: a class set, a class confirmed) comes back
    reviewed: class source ``reviewed`` and the reviewed flag, as the review left them (the
    import recorded the source alone: ``classify`` did not train on the person's names, its
    review queue listed them again, ``ecoseg info`` counted no object reviewed)."""
    video, _ = classified
    store = _classified_store(tmp_path / "reviewed.zarr", video)
    review = ecoseg.Review(store)
    review.set_class(1, "parrotfish")
    review.mark_reviewed(3)
    path = export(store, fmt, tmp_path / f"out-{fmt}")
    back = _records(import_annotations(path, fmt, video, tmp_path / "back.zarr"))

    def kept(records):
        return [
            (r.class_name, r.class_source, r.reviewed, r.class_probability)
            for r in records.values()
        ]

    assert [r.reviewed for r in back.values()] == [True, False, True]
    assert kept(back) == kept(_records(store))


def _kept(records):
    return {
        i: (r.class_name, r.class_source, r.reviewed, r.class_probability)
        for i, r in records.items()
    }


@pytest.mark.parametrize("fmt", ["cvat", "coco", "ytvis", "viame"])
def test_the_new_part_of_an_old_split_comes_back_unreviewed(classified, tmp_path, fmt):
    """A split made before ecoseg's splits gave a person's name only as a suggestion (replayed
    with ``--unchecked-split``) left its new part, another animal, the name and the source
    ``reviewed`` but not the reviewed flag: ``classify`` does not train on it, the review
    queue lists it. The import read the source as a review and set the flag."""
    video, _ = classified
    store = _classified_store(tmp_path / "split.zarr", video)
    apply_edits(
        store,
        [
            Edit("set_class", (1,), cls="parrotfish"),
            Edit("split", (1,), frame=2, new_id=4, unchecked=True),
        ],
    )
    before = _records(store)
    assert _kept(before)[4] == ("parrotfish", "reviewed", False, 1.0)  # as the old split left it
    path = export(store, fmt, tmp_path / f"out-{fmt}")
    back = _records(import_annotations(path, fmt, video, tmp_path / "back.zarr"))
    assert _kept(back) == _kept(before)


@pytest.mark.parametrize("fmt", ["cvat", "coco", "ytvis", "viame"])
def test_a_reviewed_object_of_an_old_store_without_a_class_source_comes_back_reviewed(
    classified, tmp_path, fmt
):
    """A store written before ``class_source`` existed records a review by the flag alone;
    its export wrote no class source, and the import no flag (the person's name read as a
    prompt's: ``classify`` did not train on it)."""
    video, _ = classified
    objects = [
        {"id": 1, "class": "wrasse", "source": "tracker", "reviewed": True},
        {"id": 2, "class": "goby", "source": "tracker"},
        {"id": 3, "class": "crab", "source": "prompt"},
    ]
    store = _classified_store(tmp_path / "old.zarr", video, objects)
    path = export(store, fmt, tmp_path / f"out-{fmt}")
    back = _records(import_annotations(path, fmt, video, tmp_path / "back.zarr"))
    assert (back[1].class_name, back[1].reviewed) == ("wrasse", True)
    assert [back[i].reviewed for i in (2, 3)] == [False, False]


@pytest.mark.parametrize("fmt", ["mot", "mots", "davis"])
def test_a_format_without_a_class_source_imports_none_and_no_review(classified, tmp_path, fmt):
    """MOT, MOTS and DAVIS have no place for a class source, a class probability or the
    reviewed flag: a reviewed store's objects come back with none (``unknown``, as the
    tables' ``prompt`` for a named one says a class given with the object), not reviewed:
    no import makes up a person's word (docs/formats.md's table)."""
    video, _ = classified
    store = _classified_store(tmp_path / "reviewed.zarr", video)
    ecoseg.Review(store).set_class(1, "parrotfish")
    path = export(store, fmt, tmp_path / f"out-{fmt}")
    back = _records(import_annotations(path, fmt, video, tmp_path / "back.zarr"))
    assert {(r.class_source, r.reviewed, r.class_probability) for r in back.values()} == {
        ("unknown", False, None)
    }


def test_a_cvat_file_without_class_attributes_imports_as_before(classified, tmp_path):
    """A file CVAT or another tool wrote: no class probability, no class source recorded."""
    video, store = classified
    path = export(store, "cvat", tmp_path / "out.xml")
    text = open(path).read()
    bare = re.sub(r'\s*<attribute name="class_(probability|source)">[^<]*</attribute>', "", text)
    assert "class_probability" in bare  # still declared by the labels, as CVAT keeps them
    assert '<attribute name="class_' not in bare
    (tmp_path / "bare.xml").write_text(bare)
    back = _records(import_annotations(tmp_path / "bare.xml", "cvat", video, tmp_path / "b.zarr"))
    assert [back[i].class_probability for i in OBJECTS] == [None] * 3
    assert [back[i].class_source for i in OBJECTS] == ["unknown"] * 3  # the record's default
    assert [back[i].class_name for i in OBJECTS] == ["wrasse", "goby", "crab"]


def test_a_cvat_mask_drawn_there_has_an_empty_class_probability(classified, tmp_path):
    """CVAT gives a mask drawn in it its label's defaults: the text attributes are empty."""
    video, store = classified
    path = export(store, "cvat", tmp_path / "out.xml")
    text = (
        open(path)
        .read()
        .replace(
            '<attribute name="class_probability">0.431</attribute>',
            '<attribute name="class_probability"></attribute>',
        )
    )
    (tmp_path / "drawn.xml").write_text(text)
    back = _records(import_annotations(tmp_path / "drawn.xml", "cvat", video, tmp_path / "d.zarr"))
    assert [back[i].class_probability for i in OBJECTS] == [0.8125, None, None]


def test_a_dive_file_keeps_the_mark_of_no_class_probability_on_any_row(classified, tmp_path):
    """DIVE writes a track attribute on each row of the track; one row is enough."""
    video, _ = classified
    csv = tmp_path / "dive.csv"
    csv.write_text(
        "# 1: Detection or Track-id,2: Video or Image Identifier,3: Unique Frame Identifier\n"
        "0,00:00:00.000000,0,3,2,12,10,0.9,-1,wrasse,1\n"
        "0,00:00:00.040000,1,3,2,12,10,0.6,-1,wrasse,1,(trk-atr)  class_probability none\n"
        "1,00:00:00.000000,0,30,20,40,30,0.9,-1,goby,1,(trk-atr) class_probability high\n"
    )
    back = _records(import_annotations(csv, "viame", video, tmp_path / "d.zarr"))
    assert (back[1].class_name, back[1].class_probability) == ("wrasse", None)
    assert back[2].class_probability == 1.0  # another value: an attribute like any other


def test_a_surveys_cvat_images_file_keeps_them(tmp_path):
    """A photo survey is written as CVAT for images: its masks carry the attributes too."""
    from PIL import Image

    from ecoseg.io.video import open_video
    from ecoseg.provenance import survey_video

    folder, names = tmp_path / "quadrats", ["north.png", "south.png"]
    folder.mkdir()
    for name in names:
        Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(folder / name)
    objects = [
        {"id": i, "class": c, "source": "concept", "class_source": s}
        | ({} if p is None else {"class_probability": p})
        for i, (c, s, p) in OBJECTS.items()
    ]
    labels = np.zeros((2, H, W), np.uint32)
    labels[0, 2:10, 3:12], labels[1, 20:30, 30:40], labels[1, 35:40, 50:60] = 1, 2, 3
    survey = tmp_path / "survey.zarr"
    video = survey_video(open_video(folder).record(), names)
    with MaskStore.create(
        survey, height=H, width=W, objects=objects, provenance={"video": video}
    ) as s:
        s.append(labels, np.arange(2.0))
        s.mark_complete()
    path = export(survey, "cvat", tmp_path / "survey.xml")
    assert "<image " in open(path).read()
    back = _records(import_annotations(path, "cvat", folder, tmp_path / "back.zarr"))
    assert [back[i].class_probability for i in OBJECTS] == [0.8125, 0.431, None]
    assert [back[i].class_source for i in OBJECTS] == ["classified", "concept", "prompt"]
