"""*Segment & track* follows the one rule for a folder given concepts
(:func:`ecoseg.engine.survey_rule.is_photo_survey`): SAM 3 on a folder of images is a photo
survey (each photograph searched on its own; its saved store a survey's) unless *image folder
as video frames* is ticked; what a survey cannot use is refused by its control. The widget
tracked every folder as a video."""

from __future__ import annotations

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
