"""Writer: a Labels layer saved as an ecoseg store reads back identically; no overwrites."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

import ecoseg  # noqa: E402
from ecoseg.errors import StoreError  # noqa: E402
from ecoseg.napari._layers import labels_to_store  # noqa: E402
from ecoseg.sample import sample  # noqa: E402


def _labels(layers):
    return next(layer for layer in layers if type(layer).__name__ == "Labels")


def test_round_trip_keeps_masks_times_objects_calibration(make_napari_viewer, tmp_path):
    truth = sample().truth
    viewer = make_napari_viewer()
    layer = _labels(viewer.open(str(truth), plugin="ecoseg"))
    layer.data[5, 10:20, 10:20] = 3  # a correction painted by the user
    out = tmp_path / "edited.zarr"
    layer.save(str(out), plugin="ecoseg")

    got, want = ecoseg.open_masks(out), ecoseg.open_masks(truth)
    expected = want.labels.values.copy()
    expected[5, 10:20, 10:20] = 3
    np.testing.assert_array_equal(got.labels.values, expected)
    np.testing.assert_array_equal(got.time.values, want.time.values)
    assert got.object.values.tolist() == want.object.values.tolist()
    assert got.object_class.values.tolist() == want.object_class.values.tolist()
    assert got.attrs["mm_per_px"] == want.attrs["mm_per_px"]
    assert got.attrs["complete"]
    assert got.attrs["provenance"]["napari"]["layer"] == layer.name
    # and the saved store opens again in napari
    again = _labels(viewer.open(str(out), plugin="ecoseg"))
    np.testing.assert_array_equal(np.asarray(again.data), expected)


def test_writer_refuses_to_overwrite(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    layer = viewer.add_labels(np.ones((2, 8, 8), np.uint16), name="masks")
    out = tmp_path / "masks.zarr"
    layer.save(str(out), plugin="ecoseg")
    before = ecoseg.open_masks(out).labels.values.copy()
    layer.data[:] = 2
    with pytest.raises(StoreError) as refused:
        layer.save(str(out), plugin="ecoseg")
    # what napari's save dialog can do (it has no --overwrite)
    assert str(refused.value) == f"{out}: already exists; save under a new name"
    np.testing.assert_array_equal(ecoseg.open_masks(out).labels.values, before)


def test_writer_classes_from_features_and_mm_scale(tmp_path):
    import pandas as pd

    data = np.zeros((3, 6, 7), np.int32)
    data[1:, 2:4, 2:4] = 9
    feats = pd.DataFrame({"index": [0, 9], "class": ["background", "octopus"]})
    out = labels_to_store(
        tmp_path / "m.zarr",
        data,
        metadata={"ecoseg": {"fps": 10.0}},
        features=feats,
        scale=(1, 0.5, 0.5),
        units=("pixel", "mm", "mm"),
    )
    ds = ecoseg.open_masks(out)
    assert ds.object_class.values.tolist() == ["octopus"]
    np.testing.assert_allclose(ds.time.values, [0.0, 0.1, 0.2])
    assert ds.attrs["mm_per_px"] == 0.5


def test_writer_rejects_bad_layers(tmp_path):
    with pytest.raises(StoreError, match="dimensions"):
        labels_to_store(tmp_path / "a.zarr", np.zeros((2, 2, 3, 3), np.uint8))
    with pytest.raises(StoreError, match="integers"):
        labels_to_store(tmp_path / "b.zarr", np.zeros((2, 3, 3), np.float32))
    assert not (tmp_path / "a.zarr").exists() and not (tmp_path / "b.zarr").exists()


def test_a_class_typed_in_napari_is_a_persons_and_classify_keeps_it(tmp_path):
    import pandas as pd

    from ecoseg.species.edits import named_by_person
    from ecoseg.store import MaskStore

    data = np.zeros((2, 6, 9), np.int32)
    data[:, 1:3, 1:3], data[:, 1:3, 5:7] = 4, 5
    model_named = {"source": "tracker", "class_source": "classified", "class_probability": 0.6}
    meta = {
        "fps": 10.0,
        "objects": [
            {"id": 4, "class": "wrasse", **model_named},
            {"id": 5, "class": "wrasse", **model_named},
        ],
    }
    # the person renames track 4 in the layer's features table and saves the layer
    feats = pd.DataFrame({"index": [0, 4, 5], "class": ["background", "octopus", "wrasse"]})
    out = labels_to_store(tmp_path / "m.zarr", data, metadata={"ecoseg": meta}, features=feats)
    records = MaskStore.open(out).object_records()
    assert (records[4].class_name, records[4].class_source, records[4].reviewed) == (
        "octopus",
        "reviewed",
        True,
    )
    objects = {int(o["id"]): o for o in MaskStore.open(out).attrs["ecoseg"]["objects"]}
    assert named_by_person(objects[4])  # classify never replaces it
    assert (records[5].class_source, records[5].class_probability) == ("classified", 0.6)
    tracks = ecoseg.measure(out)["tracks"].set_index("object_id")
    assert tracks.loc[4, "class_source"] == "reviewed"  # not credited to the model


def test_saving_under_a_file_is_one_line(tmp_path):
    """Saving to `notes.txt/masks.zarr` (a folder on the way is a file) raised a bare
    FileExistsError from the folder making."""
    from ecoseg.napari._writer import write_labels

    (tmp_path / "notes.txt").write_text("site A")
    out = tmp_path / "notes.txt" / "masks.zarr"
    with pytest.raises(StoreError) as info:
        write_labels(str(out), np.ones((1, 3, 3), np.uint8), {"name": "masks"})
    assert str(info.value) == (
        f"{out}: cannot be written: {tmp_path / 'notes.txt'} is a file, not a folder"
    )
