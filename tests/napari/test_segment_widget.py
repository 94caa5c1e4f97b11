"""Segment & track widget: motion tracker and random-weight SAM 2 on the sample, Cancel,
re-tracking from a corrected frame; prompt conversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.errors import ConfigError, PromptError  # noqa: E402
from ecoseg.napari._jobs import correction_prompts, prompts_from_layers, run_job  # noqa: E402

FISH = (0, 158, 330)  # (t, y, x): a parrotfish of the sample on frame 0 (in video pixels)


@pytest.fixture
def widget(segment_widget):
    """The Segment & track widget on the sample video (``segment_widget`` in conftest.py)."""
    return segment_widget


def _wait_done(qtbot, w, timeout=120_000):
    qtbot.waitUntil(lambda: w._worker is None, timeout=timeout)
    assert not w.status.text().startswith("error"), w.status.text()


def _random_sam2(w, until):
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam2"))
    w.random_check.setChecked(True)
    w.size_spin.setValue(128)
    w.device_combo.setCurrentIndex(w.device_combo.findData("cpu"))
    w.until_spin.setValue(until)


def _click(w, where, object_id=1, cls="parrotfish", positive=True):
    points, _ = w.add_prompt_layers()
    w.object_spin.setValue(object_id)
    w.class_edit.setText(cls)
    w.negative_check.setChecked(not positive)
    points.add(np.array([where], float))  # as a click in "add" mode does
    return points


def test_motion_tracker_fills_labels_layer(widget, qtbot):
    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(24)
    w.run()
    _wait_done(qtbot, w)
    masks = w.viewer.layers["ecoseg masks"]
    data = np.asarray(masks.data)
    assert w.frames_done == 25
    assert (data[:25] > 0).any(axis=(1, 2)).sum() >= 15  # animals found on most frames
    assert not data[25:].any()  # nothing past "track until"
    ids = set(np.unique(data)) - {0}
    assert ids and ids <= set(masks.features["index"])
    assert w.status.text().startswith("done: 25 frames")
    # and the measurements of these masks
    from ecoseg.napari._measure import MeasureWidget

    m = MeasureWidget(w.viewer)
    m.masks_combo.setCurrentText("ecoseg masks")
    m.measure()
    qtbot.waitUntil(lambda: m._worker is None, timeout=60_000)
    assert set(m.tables["tracks"]["object_id"]) == ids
    assert "ecoseg tracks" in w.viewer.layers


def test_sam2_click_tracks_object_and_features(widget, qtbot):
    w = widget
    _random_sam2(w, until=4)
    points = _click(w, FISH)
    assert points.features["object_id"].tolist() == [1]
    assert points.features["positive"].tolist() == [True]
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    w.run()
    _wait_done(qtbot, w)
    masks = w.viewer.layers["ecoseg masks"]
    data = np.asarray(masks.data)
    assert w.frames_done == 5
    assert data[:5].any() and set(np.unique(data[:5])) == {0, 1}
    assert not data[5:].any()
    # the layer holds exactly what the engine made (same random weights)
    torch.manual_seed(0)
    job = w._make_job(prompts=w.prompts())
    for update in run_job(job):
        np.testing.assert_array_equal(data[update.index], update.labels)
    feats = masks.features.set_index("index")
    assert feats.loc[1, "class"] == "parrotfish"
    assert set(masks.metadata["ecoseg"]["scores"]) == set(range(5))


def test_cancel_stops_run_and_keeps_frames(widget, qtbot, monkeypatch):
    pytest.importorskip("torch")
    from ecoseg.engine import settings

    w = widget
    _random_sam2(w, until=-1)  # the whole clip: 150 frames
    _click(w, FISH)
    # random weights that mask the fish on every one of the 150 frames (checked: seed 0 and 3
    # give none), so where Cancel lands does not matter. The job draws them from
    # RANDOM_WEIGHTS_SEED (0), whatever the torch generator holds: torch.manual_seed(1) here
    # no longer chose them, and the test failed
    monkeypatch.setattr(settings, "RANDOM_WEIGHTS_SEED", 1)
    w.run()
    assert not w.run_btn.isEnabled() and w.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: w.frames_done >= 2, timeout=120_000)
    w.cancel()
    _wait_done(qtbot, w)
    done = w.frames_done
    assert 2 <= done < 30
    data = np.asarray(w.viewer.layers["ecoseg masks"].data)
    assert data[:done].any(axis=(1, 2)).all()
    assert not data[done + 1 :].any()
    assert w.status.text().startswith("cancelled")
    assert w.run_btn.isEnabled() and not w.cancel_btn.isEnabled()


def test_retrack_from_corrected_frame(widget, qtbot):
    w = widget
    _random_sam2(w, until=5)
    _click(w, FISH)
    w.run()
    _wait_done(qtbot, w)
    masks = w.viewer.layers["ecoseg masks"]
    before = np.asarray(masks.data).copy()
    # correct frame 3: the user paints object 1 as a box elsewhere
    fixed = np.zeros(before.shape[1:], np.uint32)
    fixed[40:140, 400:560] = 1
    masks.data[3] = fixed
    w.viewer.dims.set_current_step(0, 3)
    w.retrack()
    _wait_done(qtbot, w)
    after = np.asarray(masks.data)
    np.testing.assert_array_equal(after[:3], before[:3])  # frames before it untouched
    assert w.frames_done == 3  # frames 3, 4, 5
    iou = ((after[3] == 1) & (fixed == 1)).sum() / ((after[3] == 1) | (fixed == 1)).sum()
    assert iou > 0.8, f"the corrected mask is the prompt of the re-track (IoU {iou:.2f})"


def test_discover_automatically(widget, qtbot):
    w = widget
    _random_sam2(w, until=1)
    w.auto_check.setChecked(True)
    w.discovery_params = {"points_per_side": 4, "mask_size": 128, "generator": False}
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    w.run()  # no clicks needed: proposals from the motion pass
    _wait_done(qtbot, w, timeout=180_000)
    masks = w.viewer.layers["ecoseg masks"]
    assert w.frames_done == 2
    ids = set(np.unique(np.asarray(masks.data[:2]))) - {0}
    assert ids, "the motion pass proposes the moving fish"
    feats = masks.features.set_index("index")
    for i in ids:
        assert feats.loc[i, "source"] == "discovered"


def test_errors_show_in_the_widget(widget):
    w = widget
    _random_sam2(w, until=3)
    w.run()  # SAM 2 without any click
    assert w.status.text().startswith("error: no prompts")
    assert w._worker is None
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.auto_check.setChecked(True)
    w.run()
    assert w.status.text().startswith("error: discover automatically needs the SAM 2")


def test_prompts_the_engine_would_ignore_are_refused_naming_the_engine_that_uses_them(
    widget, qtbot
):
    """Clicks and boxes with the motion tracker or SAM 3, a *find* text with SAM 2 or the
    motion tracker: the run left them out without a word (the find box was greyed out, so its
    text could not even be cleared). Now refused before the run, as discovery and network
    settings are for an engine without a use for them; the find box stays enabled."""
    w = widget
    points = _click(w, FISH)
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(2)
    w.run()
    assert w._worker is None and "ecoseg masks" not in w.viewer.layers
    assert w.status.text() == (
        'error: 1 click in the "ecoseg clicks" layer is a prompt for the SAM 2 engine, which '
        "the motion tracker ignores: choose the SAM 2 engine, or delete it"
    ), w.status.text()
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.run()
    assert w._worker is None and "which SAM 3 ignores" in w.status.text(), w.status.text()
    points.data = np.zeros((0, 3))
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam2"))
    assert w.find.isEnabled()
    w.find.find_edit.setText("parrotfish")
    w.run()
    assert w._worker is None and w.status.text() == (
        "error: \"find\" 'parrotfish' is for the SAM 3 engine, which SAM 2 ignores: choose the "
        'SAM 3 engine, or clear "find"'
    ), w.status.text()
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.run()
    assert "which the motion tracker ignores" in w.status.text(), w.status.text()
    w.find.find_edit.setText("")  # nothing left to ignore: it runs
    w.run()
    _wait_done(qtbot, w)
    assert w.frames_done == 3


def test_fast_runs_sam2_in_bf16_and_is_refused_elsewhere(widget, qtbot, monkeypatch):
    from ecoseg.engine import session

    w = widget
    calls = []
    real = session.bf16_autocast

    def spy(enabled, device):
        calls.append(bool(enabled))
        return real(enabled, device)

    monkeypatch.setattr(session, "bf16_autocast", spy)
    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: True)  # any machine
    _random_sam2(w, until=2)
    _click(w, FISH)
    w.fast_check.setChecked(True)
    w.run()
    _wait_done(qtbot, w)
    assert w.frames_done == 3 and calls and all(calls)
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.run()
    assert w.status.text().startswith('error: "fast (bf16)" is for the networks')
    assert w._worker is None


def test_library_errors_name_the_widgets_controls_not_the_commands_options(
    widget, tmp_path, monkeypatch
):
    """A library message spells an option ``image_size (--image-size)``; the widget names its
    control (napari_words with the widget's LABELS), or the keyword where it has none."""
    from ecoseg.napari._segment import LABELS
    from ecoseg.sam2.weights import ENV_DIR

    w = widget
    _random_sam2(w, until=2)
    _click(w, FISH)
    w.size_spin.setValue(500)  # typed: the spin box steps by 64
    w.run()
    assert w._worker is None
    assert w.status.text() == (
        'error: "input size" must be a multiple of 32 from 64 to 4096 (e.g. 256, 512, 1024), '
        "got 500"
    ), w.status.text()
    form = w.size_spin.parentWidget().layout()  # the label the user reads beside the spin box
    assert form.labelForField(w.size_spin).text() == LABELS["--image-size"] == "input size"

    monkeypatch.setenv(ENV_DIR, str(tmp_path))  # an empty weights cache
    w.size_spin.setValue(128)
    w.random_check.setChecked(False)
    w.run()
    assert w._worker is None
    said = w.status.text()
    assert said.startswith("error: no weights for sam2.1-tiny in the cache") and "--" not in said
    assert said.endswith('or pass a checkpoint file with "checkpoint"'), said


def test_a_gpu_for_the_motion_tracker_is_refused_naming_the_device_control(widget):
    """The widget ran the motion tracker on the CPU with "device" set to cuda and said nothing
    (``segment --device cuda`` refuses it); and the library's message, spelled ``device 'cuda'
    (--device)``, was not rewritten by napari_words (a value after a space, quoted), so it
    would have named the command's flag. Now refused before the run, naming the control."""
    from ecoseg.napari._segment import LABELS

    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.device_combo.setCurrentIndex(w.device_combo.findData("cuda"))
    w.run()
    assert w._worker is None
    assert w.status.text() == (
        "error: \"device\" 'cuda' is for the sam2 and sam3 engines' networks; the classical "
        'motion tracker runs on the CPU: set "device" to auto or cpu'
    ), w.status.text()
    form = w.device_combo.parentWidget().layout()
    assert form.labelForField(w.device_combo).text() == LABELS["--device"] == "device"


def test_network_settings_for_the_motion_tracker_are_refused_naming_their_controls(widget):
    """With the motion tracker the widget ran with an "input size", a "checkpoint" or "random
    weights" left from SAM 2 (greyed out, so they could not be cleared) and said nothing, while
    ``segment --engine classical --image-size 512`` refuses it. Now refused before the run,
    naming the controls, which stay enabled to be cleared."""
    w = widget
    w.size_spin.setValue(512)  # chosen for SAM 2
    w.random_check.setChecked(True)
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    assert w.size_spin.isEnabled() and w.random_check.isEnabled() and w.checkpoint_edit.isEnabled()
    w.run()
    assert w._worker is None and "ecoseg masks" not in w.viewer.layers
    assert w.status.text() == (
        'error: "input size" 512, "random weights (testing only)" are for the sam2 and sam3 '
        'engines\' networks; the classical motion tracker has none: set "input size" to model '
        'default, untick "random weights (testing only)"'
    ), w.status.text()
    w.size_spin.setValue(0)
    w.random_check.setChecked(False)
    w.checkpoint_edit.setText("tiny.pt")
    w.run()
    assert w._worker is None and w.status.text() == (
        'error: "checkpoint" is for the sam2 and sam3 engines\' networks; the classical motion '
        'tracker has none: clear "checkpoint"'
    ), w.status.text()


def test_the_library_s_device_refusal_is_said_in_the_widget_s_words():
    from ecoseg.engine import check_device
    from ecoseg.errors import ConfigError
    from ecoseg.napari._check import napari_words
    from ecoseg.napari._segment import LABELS

    with pytest.raises(ConfigError) as info:
        check_device("cuda:1", "classical")
    said = napari_words(str(info.value), LABELS)
    assert said.startswith("\"device\" 'cuda:1' is for the sam2 and sam3 engines"), said
    assert "(--device)" not in said


def test_prompts_from_layers_groups_objects_frames_boxes():
    pts = np.array([[0, 10, 20], [0, 12, 22], [5, 30, 40]], float)
    feats = pd.DataFrame(
        {"object_id": [1, 1, 2], "positive": [True, False, True], "class": ["a", "a", "b"]}
    )
    box = np.array([[5, 1, 2], [5, 1, 9], [5, 8, 9], [5, 8, 2]], float)
    p = prompts_from_layers(pts, feats, [box], pd.DataFrame({"object_id": [2], "class": ["b"]}))
    assert p.classes() == {1: "a", 2: "b"}
    one, two = p.objects
    assert one.prompts[0].labels.tolist() == [1, 0]
    assert two.prompts[0].frame == 5 and two.prompts[0].box.tolist() == [2, 1, 9, 8]
    with pytest.raises(PromptError, match="no prompts"):
        prompts_from_layers(np.zeros((0, 3)), None)


def test_correction_prompts_use_masks_and_later_clicks():
    lab = np.zeros((10, 10), np.uint32)
    lab[1:4, 1:4] = 2
    earlier = prompts_from_layers(
        np.array([[0, 5, 5], [7, 2, 2]], float),
        pd.DataFrame({"object_id": [2, 3], "class": ["x", "y"]}),
    )
    p = correction_prompts(lab, 4, earlier)
    assert p.object_ids == [2, 3]
    two, three = p.objects
    assert [q.frame for q in two.prompts] == [4] and two.prompts[0].mask.sum() == 9
    assert [q.frame for q in three.prompts] == [7] and three.class_ == "y"
    with pytest.raises(PromptError):
        correction_prompts(np.zeros((4, 4), np.uint32), 0)


def test_fast_on_a_cpu_without_bf16_runs_fp32_and_says_so_in_the_widget(widget, qtbot, monkeypatch):
    from napari.utils import notifications

    from ecoseg.engine import session

    w = widget
    calls, shown = [], []
    real = session.bf16_autocast

    def spy(enabled, device):
        calls.append(bool(enabled))
        return real(enabled, device)

    monkeypatch.setattr(session, "bf16_autocast", spy)
    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: False)
    monkeypatch.setattr(notifications, "show_warning", shown.append)
    _random_sam2(w, until=2)
    _click(w, FISH)
    w.fast_check.setChecked(True)
    w.run()
    _wait_done(qtbot, w)
    assert w.frames_done == 3 and calls and not any(calls)  # exact fp32
    assert len(shown) == 1 and "fast (bf16) ignored" in shown[0]
    assert w.status.text().endswith("(warning: see the notice)")


def test_motion_tracker_job_notes_a_fast_camera(tmp_path):
    from ecoseg.napari._jobs import Job
    from ecoseg.synth import synth

    fast = synth(tmp_path / "fast", seed=0, frames=30, size=(320, 180), camera="fast-pan")
    job = Job(str(fast.video), engine="classical")
    assert len(list(run_job(job))) == 30
    assert len(job.notices) == 1 and "sam2 engine" in job.notices[0]
    from ecoseg.sample import sample

    quiet = Job(str(sample().video), engine="classical")
    list(run_job(quiet))
    assert quiet.notices == []


# random weights score every query about the same: with these thresholds the best queries of
# each concept start tracks (as in tests/engine/test_concepts_segment.py)
CONCEPT_PARAMS = {
    "score_threshold": 0.0,
    "new_track_score": 0.0,
    "max_objects": 4,
    "hotstart_delay": 2,
    "hotstart_unmatched": 2,
    "hotstart_duplicates": 2,
}


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
    _wait_done(qtbot, w, timeout=300_000)
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
    from ecoseg.napari._jobs import Job
    from ecoseg.prompts import Concept
    from ecoseg.sample import sample

    calls = []
    real = concept_tracker.bf16_autocast

    def spy(enabled, device):
        calls.append(bool(enabled))
        return real(enabled, device)

    monkeypatch.setattr(concept_tracker, "bf16_autocast", spy)
    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: has_bf16)
    job = Job(
        str(sample().video),
        engine="sam3",
        model="sam3-reduced",
        pretrained=False,
        image_size=112,
        device="cpu",
        concepts=(Concept("parrotfish"),),
        params=dict(CONCEPT_PARAMS),
        fast=True,
        stop=1,
    )
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
    from ecoseg.napari._jobs import concepts_from_layers, split_names

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
    from ecoseg.napari._jobs import concepts_from_layers, split_names

    with pytest.raises(PromptError, match="'Parrotfish' and 'parrotfish' differ only in case"):
        concepts_from_layers(split_names("Parrotfish, parrotfish"))
    box = np.array([[0, 1, 2], [0, 1, 9], [0, 8, 9], [0, 8, 2]], float)
    negative = pd.DataFrame({"concept": [""], "positive": [False]})
    with pytest.raises(PromptError, match="positive exemplar"):
        concepts_from_layers([], [box], negative)
    not_a_wrasse = pd.DataFrame({"concept": ["wrasse"], "positive": [False]})
    assert [c.name for c in concepts_from_layers(["wrasse"], [box], not_a_wrasse)] == ["wrasse"]


def test_a_run_that_fails_says_so_once_without_a_traceback(widget, qtbot, tmp_path):
    """An error in the worker (here a checkpoint file that is no checkpoint) is the widget's
    one line and notification; napari does not also re-raise it (pytest-qt fails a test on an
    exception in the Qt event loop: the traceback a user got besides the message)."""
    w = widget
    _random_sam2(w, until=2)
    w.random_check.setChecked(False)
    bad = tmp_path / "sam2.1_hiera_tiny.pt"
    bad.write_bytes(b"not a checkpoint")
    w.checkpoint_edit.setText(str(bad))
    _click(w, FISH)
    w.run()
    assert w._worker is not None  # a file that is there: only loading it tells
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert w.status.text().startswith(f"error: {bad}: not a checkpoint (it holds text")
    assert w.run_btn.isEnabled()


def test_a_run_that_cannot_start_keeps_the_masks_made_before(widget, qtbot, tmp_path, monkeypatch):
    """Track cleared the layer, then the run failed at once (no weights in the cache, a
    checkpoint path with a typo, a SAM 3 checkpoint with no vocabulary, an input size the
    model refuses): the motion tracker's masks were gone. Such a run is refused first, in the
    status line, and the masks stay; the SAM 3 checkpoint is not read."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(10)  # the motion tracker finds the first fish by then
    w.run()
    qtbot.waitUntil(lambda: w._worker is None, timeout=120_000)
    masks = w.viewer.layers["ecoseg masks"]
    made = np.asarray(masks.data).copy()
    assert made.any()

    _random_sam2(w, until=4)
    _click(w, FISH)
    w.random_check.setChecked(False)
    missing = tmp_path / "sam2.1_hiera_tiny.pt"
    w.checkpoint_edit.setText(str(missing))  # a typo: not there
    w.run()
    assert w._worker is None
    assert w.status.text() == f"error: {missing}: checkpoint file not found", w.status.text()
    assert np.array_equal(np.asarray(masks.data), made)

    w.viewer.layers.remove("ecoseg clicks")  # SAM 3 would ignore the click: refused
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.find.find_edit.setText("parrotfish")
    w.size_spin.setValue(336)
    alone = tmp_path / "sam3.pt"
    alone.write_bytes(b"not read")  # the vocabulary is refused before the checkpoint is read
    w.checkpoint_edit.setText(str(alone))
    w.run()
    assert w._worker is None
    assert w.status.text().startswith(f"error: {alone}: no tokenizer vocabulary beside it")
    assert np.array_equal(np.asarray(masks.data), made)

    w.checkpoint_edit.setText("")
    w.random_check.setChecked(True)
    w.size_spin.setValue(112)  # under SAM 3's attention window
    w.run()
    assert w._worker is None and "smaller than the 24-patch attention window" in w.status.text()
    assert np.array_equal(np.asarray(masks.data), made)


def test_closing_the_masks_layer_stops_the_run_and_says_so(widget, qtbot):
    """The run painting into ``ecoseg masks`` stops when that layer is closed (it went on to
    the end of the video, painting into a closed layer, and then said "done")."""
    w = widget
    _random_sam2(w, until=-1)  # the whole clip: 150 frames
    _click(w, FISH)
    w.run()
    qtbot.waitUntil(lambda: w.frames_done >= 1, timeout=120_000)
    w.viewer.layers.remove("ecoseg masks")
    qtbot.waitUntil(lambda: w._worker is None, timeout=300_000)
    assert w.frames_done < 30
    assert w.status.text().startswith(
        "stopped: the layer 'ecoseg masks' was closed while tracking into it"
    )
    assert w.run_btn.isEnabled() and not w.cancel_btn.isEnabled()
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.viewer.layers.remove("ecoseg clicks")  # which the motion tracker would ignore
    w.random_check.setChecked(False)  # the motion tracker refuses the network's settings
    w.size_spin.setValue(0)
    w.until_spin.setValue(2)
    w.run()  # and the widget tracks again, into a new layer
    _wait_done(qtbot, w)
    assert w.status.text().startswith("done: 3 frames") and "ecoseg masks" in w.viewer.layers


def test_a_second_run_while_one_goes_is_refused(widget, qtbot):
    """A script calling Track (or Re-track) while a run goes is refused in one line; it
    cleared the masks layer and started a second worker painting into it."""
    w = widget
    _random_sam2(w, until=-1)
    _click(w, FISH)
    w.run()
    qtbot.waitUntil(lambda: w.frames_done >= 1, timeout=120_000)
    first = w._worker
    masks = w.viewer.layers["ecoseg masks"]
    frame0 = np.array(masks.data[0])
    for again in (w.run, w.retrack):
        again()
        assert w.status.text() == (
            "error: a run is going: wait for it or press Cancel before starting another"
        )
        assert w._worker is first
    np.testing.assert_array_equal(masks.data[0], frame0)  # not cleared by a second run
    w.cancel()
    _wait_done(qtbot, w)


def test_shapes_other_than_rectangles_are_refused_not_left_out(widget):
    """An ellipse drawn round an animal in the boxes or exemplar layer is refused naming the
    layer (it was dropped unsaid: SAM 2 ran on the other prompts or said "no prompts")."""
    w = widget
    _random_sam2(w, until=2)
    _, boxes = w.add_prompt_layers()
    ellipse = np.array([[0, 140, 300], [0, 140, 360], [0, 180, 360], [0, 180, 300]], float)
    boxes.add_ellipses(ellipse)
    want = "'ecoseg boxes': shape 1 is an ellipse; prompts are rectangles"
    w.masks_layer()  # something to re-track from
    for go in (w.run, w.retrack):
        go()
        assert w.status.text().startswith(f"error: {want}"), w.status.text()
        assert w._worker is None
    w.auto_check.setChecked(True)  # with discovery too
    w.run()
    assert w.status.text().startswith(f"error: {want}") and w._worker is None
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.viewer.layers.remove("ecoseg boxes")  # SAM 3 would ignore the boxes: refused
    w.auto_check.setChecked(False)
    w.find.find_edit.setText("parrotfish")
    w.find.add_exemplar_layer().add_ellipses(ellipse)
    w.run()
    assert w.status.text().startswith("error: 'ecoseg exemplars': shape 1 is an ellipse")
    assert w._worker is None


def test_track_until_before_the_first_click_is_refused(widget):
    """Track until frame 3 with the only click on frame 8 tracks nothing: refused in one line,
    the masks layer kept (it ran, said "done: 0 frames tracked" and had cleared the layer)."""
    w = widget
    _random_sam2(w, until=3)
    _click(w, (8, *FISH[1:]))
    masks = w.masks_layer()
    masks.data[0, :2, :2] = 5  # a mask painted before
    w.run()
    assert w.status.text() == (
        "error: nothing to track: track until is frame 3, before frame 8 where tracking "
        "starts (its first click or box, or the current frame)"
    )
    assert w._worker is None and masks.data[0, 0, 0] == 5
    masks.data[5, :2, :2] = 5
    w.viewer.dims.set_current_step(0, 5)
    w.retrack()  # from frame 5 (its masks) on: also after "track until"
    assert "before frame 5 where tracking starts" in w.status.text() and w._worker is None


def test_frames_not_tracked_are_not_counted_as_empty(widget, qtbot, tmp_path):
    """A run tracked to *track until* (or cancelled, or SAM 2 from a later click) left the
    other frames empty, and a store saved from the layer counted 0 animals on each of them:
    the counts table of the sample held 150 frames, 125 of them zeros nobody looked at."""
    import ecoseg
    from ecoseg.napari._layers import labels_to_store

    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(9)
    w.run()
    _wait_done(qtbot, w)
    masks = w.viewer.layers["ecoseg masks"]
    out = labels_to_store(
        str(tmp_path / "m.zarr"), masks.data, metadata=masks.metadata, features=masks.features
    )
    store = ecoseg.MaskStore.open(out)
    assert store.provenance["annotated_frames"] == {"start": 0, "step": 1, "count": 10}
    assert sorted(ecoseg.measure(store)["counts"]["frame"].unique()) == list(range(10))


def test_the_widget_names_each_engine_as_its_choices_do(widget, qtbot, monkeypatch):
    """One table of engine names (``ENGINE_NAMES``): the *engine* choices, the refusals
    ("which SAM 3 ignores") and the status line of a run name each engine alike. The status
    line said "the SAM 3 concepts" and "the SAM 2" where the choices and refusals said "SAM 3"
    and "SAM 2"."""
    from ecoseg.napari import _segment
    from ecoseg.napari._jobs import ENGINE_NAMES

    def no_run(job):  # the line, not the run
        yield from ()

    monkeypatch.setattr(_segment, "run_job", no_run)
    w = widget
    w.random_check.setChecked(True)
    w.device_combo.setCurrentIndex(w.device_combo.findData("cpu"))
    w.until_spin.setValue(1)
    points = _click(w, FISH)
    said = {}
    for i in range(w.engine_combo.count()):
        engine = w.engine_combo.itemData(i)
        w.engine_combo.setCurrentIndex(i)
        w.find.find_edit.setText("parrotfish" if engine == "sam3" else "")
        if engine != "sam2":
            points.data = np.zeros((0, 3))
        if engine == "classical":
            w.random_check.setChecked(False)
        w.run()
        said[engine] = (w.engine_combo.itemText(i), w.status.text())
        qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert said == {
        "sam2": ("SAM 2 (click / box prompts)", "tracking with SAM 2…"),
        "sam3": ("SAM 3 (find by name or example)", "tracking with SAM 3 (150 frames, a video)…"),
        "classical": (
            "Motion tracker (no prompts, no weights)",
            "tracking with the motion tracker…",
        ),
    }
    assert ENGINE_NAMES == {"sam2": "SAM 2", "sam3": "SAM 3", "classical": "the motion tracker"}
