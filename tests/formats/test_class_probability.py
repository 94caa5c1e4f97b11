"""A store's class probabilities through export and import (docs/formats.md's table).

Every import stored no class probability: a classified or concept store exported to COCO,
YouTube-VIS or VIAME came back without its objects' ``class_probability`` (VIAME's species
confidence picked the species and was dropped; a YouTube-VIS results file's ``score``, a
model's confidence in a track's category, too). Now kept where the format has a field for it.
The class source is in no format: an imported object records none, and ``ecoseg.measure``'s
tables show ``prompt`` for a named one (a class given with the object, as a truth store's;
``ecoseg.measure.regions.class_source_of``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import ecoseg
from ecoseg.formats import export, import_annotations
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
    # the species confidence: an object without a class probability is written with its
    # score on each frame, which reads back as one (the highest)
    "viame": [0.8125, 0.431, 0.75],
    "cvat": [None, None, None],
    "mot": [None, None, None],
    "mots": [None, None, None],
    "davis": [None, None, None],
}


@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    """(video, store) of a store whose objects were classified, found by concept, prompted."""
    folder = tmp_path_factory.mktemp("classified")
    clip = ecoseg.synth(folder / "clip", frames=T, size=(W, H), seed=5)
    labels = np.zeros((T, H, W), np.uint32)
    labels[:, 2:10, 3:12] = 1
    labels[:, 20:30, 30:40] = 2
    labels[:, 35:40, 50:60] = 3
    objects = [
        {"id": i, "class": c, "source": "concept", "class_source": s}
        | ({} if p is None else {"class_probability": p})
        for i, (c, s, p) in OBJECTS.items()
    ]
    store = folder / "classified.zarr"
    times = np.array([f.time for f in ecoseg.open_video(clip.video)])
    with MaskStore.create(str(store), height=H, width=W, objects=objects) as s:
        s.append(labels, times, SCORES.astype(np.float32))
        s.mark_complete()
    return clip.video, store


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


@pytest.mark.parametrize("fmt", ["coco", "viame"])
def test_the_tables_show_an_imported_named_objects_class_source_as_prompt(
    classified, tmp_path, fmt
):
    """As docs/formats.md says: a class given with the object, whatever its probability."""
    video, store = classified
    path = export(store, fmt, tmp_path / f"out-{fmt}")
    back = import_annotations(path, fmt, video, tmp_path / "back.zarr")
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
