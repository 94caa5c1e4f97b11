"""Segment & track with SAM 3: *Find* by name and by exemplar boxes streams concept tracks
(random weights, the reduced network), *fast (bf16)* as ``segment`` runs it, and what the
*Find* box refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from napari_helpers import random_sam3_job, wait_done
from suite_helpers import random_concept_params

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.errors import ConfigError, PromptError  # noqa: E402
from ecoseg.napari._jobs import run_job  # noqa: E402


@pytest.fixture
def widget(segment_widget):
    """The Segment & track widget on the sample video (``segment_widget`` in conftest.py)."""
    return segment_widget


# random weights score every query about the same: with these thresholds the best queries of
# each concept start tracks (as in tests/engine/test_concepts_segment.py)
CONCEPT_PARAMS = random_concept_params(4)


def _rect(t, y0, x0, y1, x1):
    return np.array([[t, y0, x0], [t, y0, x1], [t, y1, x1], [t, y1, x0]], float)


def test_sam3_find_by_name_and_example_streams_concept_tracks(widget, qtbot, tmp_path):
    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    assert w.find.isEnabled() and not w.retrack_btn.isEnabled()
    assert w.model_combo.findText("sam3") >= 0 and w.model_combo.findText("sam2.1-tiny") < 0
    w.model_combo.setCurrentText("sam3-reduced")
    w.random_check.setChecked(True)
    w.device_combo.setCurrentIndex(w.device_combo.findData("cpu"))
    w.until_spin.setValue(2)
    w.find.find_edit.setText("parrotfish, sea urchin")
    assert [w.find.exemplar_combo.itemText(i) for i in range(3)][:2] == [
        "parrotfish",
        "sea urchin",
    ]
    layer = w.find.add_exemplar_layer()
    assert layer.mode == "add_rectangle"
    # a positive exemplar of the parrotfish on frame 1, a negative one of sea urchin
    layer.add_rectangles(_rect(1, 130, 300, 190, 370))
    w.find.exemplar_combo.setCurrentText("sea urchin")
    w.find.negative_check.setChecked(True)
    layer.add_rectangles(_rect(1, 20, 20, 60, 80))
    assert layer.features["concept"].tolist() == ["parrotfish", "sea urchin"]
    assert layer.features["positive"].tolist() == [True, False]
    fish, urchin = w.find.concepts()
    assert fish.to_dict()["exemplars"] == [
        {"frame": 1, "box": [300.0, 130.0, 370.0, 190.0], "label": 1}
    ]
    assert urchin.exemplars[0].label == 0 and urchin.text == "sea urchin"
    w.concept_params = dict(CONCEPT_PARAMS)
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    w.run()
    wait_done(qtbot, w, timeout=300_000)
    masks = w.viewer.layers["ecoseg masks"]
    data = np.asarray(masks.data)
    assert w.frames_done == 3
    ids = set(np.unique(data[:3])) - {0}
    assert ids, "the reduced network made to detect starts tracks"
    assert not data[3:].any()
    feats = masks.features.set_index("index")
    for i in ids:
        assert feats.loc[i, "class"] in ("parrotfish", "sea urchin")
        assert feats.loc[i, "source"] == "concept"
    objects = {o["id"]: o for o in masks.metadata["ecoseg"]["objects"]}
    assert all(objects[i]["class_source"] == "concept" for i in ids)
    # the layer holds exactly what the engine made (same random weights)
    torch.manual_seed(0)
    job = w._make_job(concepts=w.find.concepts(), params=dict(CONCEPT_PARAMS))
    job.engine = "sam3"
    for update in run_job(job):
        np.testing.assert_array_equal(data[update.index], update.labels)
    # saving the layer keeps the concept as class and class source
    from ecoseg.napari._layers import labels_to_store
    from ecoseg.store import MaskStore

    out = str(tmp_path / "saved.zarr")
    labels_to_store(out, data, metadata=masks.metadata, features=masks.features)
    with MaskStore.open(out) as store:
        saved = {o["id"]: o for o in store.objects}
    assert {saved[i]["class_source"] for i in ids} == {"concept"}


@pytest.mark.parametrize("has_bf16", [True, False])
def test_sam3_job_runs_fast_as_segment_does(monkeypatch, has_bf16):
    """*fast (bf16)* reaches SAM 3 concept tracking; on a CPU without bf16 it runs fp32 and
    the reason goes to the job's notices (the widget shows them)."""
    pytest.importorskip("torch")
    from ecoseg.engine import concept_tracker
    from ecoseg.sample import sample

    calls = []
    real = concept_tracker.bf16_autocast

    def spy(enabled, device):
        calls.append(bool(enabled))
        return real(enabled, device)

    monkeypatch.setattr(concept_tracker, "bf16_autocast", spy)
    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: has_bf16)
    job = random_sam3_job(sample().video, fast=True, stop=1)
    assert [u.index for u in run_job(job)] == [0]
    assert calls and all(c is has_bf16 for c in calls)
    assert any("fast (bf16) ignored" in n for n in job.notices) is (not has_bf16)


def test_sam3_needs_something_to_find(widget):
    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.run()
    # the engine's reason (ecoseg.segment's, batch's, ...) with the widget's remedy
    said = f"error: model {w.model_combo.currentText()} needs concepts: "
    assert w.status.text().startswith(said + "type a name in Find or draw an exemplar box")
    assert w.model_combo.currentText().startswith("sam3")
    assert w._worker is None


def test_concepts_from_layers_names_exemplars_and_visual():
    from ecoseg.napari._from_layers import concepts_from_layers, split_names

    assert split_names("a, b;\nb , c  d") == ["a", "b", "c d"]
    box = np.array([[0, 1, 2], [0, 1, 9], [0, 8, 9], [0, 8, 2]], float)
    only_names = concepts_from_layers(["a", "b"])
    assert [c.name for c in only_names] == ["a", "b"]
    # without features a box belongs to the first name; an empty concept makes "visual"
    assert concepts_from_layers(["a", "b"], [box])[0].exemplars[0].box == (2, 1, 9, 8)
    got = concepts_from_layers(["a"], [box, box + [2, 0, 0]], pd.DataFrame({"concept": ["", "a"]}))
    assert [c.name for c in got] == ["a", "visual"]
    assert got[0].exemplars[0].frame == 2 and got[1].exemplars[0].box == (2, 1, 9, 8)
    assert [c.name for c in concepts_from_layers([], [box])] == ["visual"]
    with pytest.raises(ConfigError, match="^model sam3 needs concepts: type a name in Find or"):
        concepts_from_layers([], [])


def test_find_box_names_alike_and_negative_boxes_alone_are_refused():
    """The find box's "Parrotfish, parrotfish" made two concepts (two species in MaxN), and
    "not this" boxes with no name a concept with nothing to find; both are refused before
    Track runs."""
    from ecoseg.napari._from_layers import concepts_from_layers, split_names

    with pytest.raises(PromptError, match="'Parrotfish' and 'parrotfish' differ only in case"):
        concepts_from_layers(split_names("Parrotfish, parrotfish"))
    box = np.array([[0, 1, 2], [0, 1, 9], [0, 8, 9], [0, 8, 2]], float)
    negative = pd.DataFrame({"concept": [""], "positive": [False]})
    with pytest.raises(PromptError, match="positive exemplar"):
        concepts_from_layers([], [box], negative)
    not_a_wrasse = pd.DataFrame({"concept": ["wrasse"], "positive": [False]})
    assert [c.name for c in concepts_from_layers(["wrasse"], [box], not_a_wrasse)] == ["wrasse"]
