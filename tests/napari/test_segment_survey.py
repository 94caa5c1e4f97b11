"""*Segment & track* follows the one rule for a folder given concepts
(:func:`ecoseg.engine.survey_rule.is_photo_survey`): SAM 3 on a folder of images is a photo
survey (each photograph searched on its own; its saved store a survey's) unless *image folder
as video frames* is ticked; what a survey cannot use is refused by its control. The widget
tracked every folder as a video."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from suite_helpers import photo_folder

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")


@pytest.fixture
def folder(tmp_path):
    return photo_folder(tmp_path / "quadrats", 3)


@pytest.fixture
def widget(make_napari_viewer, qtbot, folder):
    from ecoseg.napari._segment import SegmentWidget

    w = SegmentWidget(make_napari_viewer())
    w.open_folder(str(folder))
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.model_combo.setCurrentText("sam3-reduced")
    w.random_check.setChecked(True)
    w.device_combo.setCurrentIndex(w.device_combo.findData("cpu"))
    w.size_spin.setValue(112)
    w.find.find_edit.setText("coral")
    yield w
    if w._worker is not None:
        w.cancel()
        qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)


@pytest.mark.slow
def test_sam3_on_a_folder_is_a_survey_and_saves_as_one(widget, qtbot, tmp_path):
    pytest.importorskip("torch")
    from ecoseg.napari._writer import write_labels
    from ecoseg.store import MaskStore

    w = widget
    w.run()
    assert w.status.text() == "tracking with SAM 3 (2 photographs, a survey)…"
    qtbot.waitUntil(lambda: w._worker is None, timeout=300_000)
    assert w.status.text().startswith("done: 2 frames"), w.status.text()
    data, state, _ = w.viewer.layers["ecoseg masks"].as_layer_data_tuple()
    write_labels(str(tmp_path / "s.zarr"), data, state)
    with MaskStore.open(tmp_path / "s.zarr") as store:
        record = store.provenance_record
    assert record.is_survey and record.video.photos == ("q1.png", "q2.png")
    w.find.as_video_check.setChecked(True)
    w.run()
    assert w.status.text() == "tracking with SAM 3 (2 frames, a video)…"
    qtbot.waitUntil(lambda: w._worker is None, timeout=300_000)


def test_a_survey_refuses_detect_every_by_its_control(widget):
    w = widget
    w.find.detect_spin.setValue(2)
    w.run()
    assert w._worker is None
    said = w.status.text()
    assert said.startswith("error: ") and "a photo survey (concepts on images" in said
    assert said.endswith(
        'takes no "detect every" 2; to track a folder of video frames instead, pass "image '
        'folder as video frames"'
    ), said


class _Predictor:
    """SAM 3's predictor in place of the network: one coral on every photograph, each search
    recorded (``searched``); ``during(n)`` runs inside the ``n``-th search (counted from 1)."""

    def __init__(self, during=lambda n: None):
        self.searched, self.during = 0, during
        self.original_size = (40, 56)

    def predict(self, image, text):
        from ecoseg.sam3.predictor import ConceptInstances

        self.searched += 1
        self.during(self.searched)
        mask = np.zeros((1, *image.shape[:2]), bool)
        mask[0, 5:20, 5:30] = True
        box = np.array([[5, 5, 30, 20]], np.float32)
        return [ConceptInstances(text[0], mask, box, np.array([0.9], np.float32), 0.9)]


def _searched_by(monkeypatch, predictor):
    from ecoseg.engine import concepts

    monkeypatch.setattr(concepts, "survey_predictor", lambda *a, **k: (predictor, None, "", ""))


def test_a_cancelled_survey_job_stops_before_the_next_photograph(tmp_path, monkeypatch):
    """Cancel stops a survey as ``ecoseg.segment(..., cancel=...)`` does (the engine's
    cancel): before the next photograph, the one searched meanwhile kept. The job watched the
    cancel itself: a photograph it had been handed was dropped, and the next was searched
    (seconds of SAM 3) before it looked."""
    from ecoseg.napari._jobs import Job, run_job
    from ecoseg.prompts import Concept

    names = ("q1.png", "q2.png", "q3.png", "q4.png")
    folder = photo_folder(tmp_path / "quadrats", 5, names=names)

    def job():  # random weights: the run asks for no cached ones (its predictor is the test's)
        return Job(
            str(folder),
            engine="sam3",
            model="sam3-reduced",
            concepts=(Concept("coral"),),
            pretrained=False,
        )

    # Cancel pressed while the widget paints photograph 0: nothing more is searched
    predictor, between = _Predictor(), job()
    _searched_by(monkeypatch, predictor)
    made = []
    for update in run_job(between):
        made.append(update.index)
        between.cancel.set()
    assert made == [0] and predictor.searched == 1
    # pressed while photograph 1 is searched: it is kept, photograph 2 is not searched
    during = job()
    predictor = _Predictor(lambda n: n == 2 and during.cancel.set())
    _searched_by(monkeypatch, predictor)
    updates = list(run_job(during))
    assert [u.index for u in updates] == [0, 1] and predictor.searched == 2
    assert all(set(np.unique(u.labels)) == {0, u.object_ids[0]} for u in updates)
    assert [u.object_ids for u in updates] == [(1,), (2,)]


def test_cancel_in_the_widget_stops_a_survey_between_photographs(
    make_napari_viewer, qtbot, tmp_path, monkeypatch
):
    """*Cancel* pressed while a photograph is searched: that photograph's masks are painted
    and the survey stops before the next (the widget dropped the photograph and said
    "cancelled: 1 frames tracked")."""
    from ecoseg.napari._segment import SegmentWidget

    folder = photo_folder(tmp_path / "quadrats", 6, names=("q1.png", "q2.png", "q3.png"))
    pressed = threading.Event()
    predictor = _Predictor(lambda n: n == 2 and pressed.wait(60))
    _searched_by(monkeypatch, predictor)
    w = SegmentWidget(make_napari_viewer())
    w.open_folder(str(folder))
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.model_combo.setCurrentText("sam3-reduced")
    w.random_check.setChecked(True)
    w.find.find_edit.setText("coral")
    w.run()
    assert w._worker is not None, w.status.text()
    qtbot.waitUntil(lambda: predictor.searched == 2, timeout=60_000)
    w.cancel()  # while photograph 1 is searched
    pressed.set()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert predictor.searched == 2
    assert w.status.text() == "cancelled: 2 frames tracked into 'ecoseg masks' (2 objects)"
    data = np.asarray(w.viewer.layers["ecoseg masks"].data)
    assert data[0].any() and data[1].any() and not data[2].any()


def test_a_survey_is_checked_once_per_click(widget, qtbot, monkeypatch):
    """What a survey cannot use was checked three times per *Track*: before the layer was
    cleared (``check_job``), as the run began (``run_job``) and for its score threshold."""
    from ecoseg.engine import concepts

    checks, thresholds = [], []
    check = concepts.check_survey

    def counted(*args, **kwargs):
        checks.append(args[0])
        return check(*args, **kwargs)

    def predictor(*args, score_threshold, **kwargs):  # the threshold, not the network
        thresholds.append(score_threshold)
        return (None,)

    monkeypatch.setattr(concepts, "check_survey", counted)
    monkeypatch.setattr(concepts, "survey_predictor", predictor)
    monkeypatch.setattr(concepts, "survey_results", lambda *args, **kwargs: iter(()))
    widget.concept_params["score_threshold"] = 0.25
    widget.run()
    qtbot.waitUntil(lambda: widget._worker is None, timeout=60_000)
    assert not widget.status.text().startswith("error"), widget.status.text()
    assert len(checks) == 1 and thresholds == [0.25]
