"""Segment & track never discards hand corrections unasked: Track (and Re-track over later
frames) is refused once while the ``ecoseg masks`` layer holds strokes not saved; saving the
layer, or pressing the button again, lets it go on."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")


@pytest.fixture
def widget(segment_widget):
    """The Segment & track widget on the sample video (``segment_widget`` in conftest.py)."""
    return segment_widget


def _track(w, qtbot) -> None:
    w.run()
    qtbot.waitUntil(lambda: w._worker is None, timeout=120_000)
    assert w.status.text().startswith("done: 5 frames"), w.status.text()


def test_track_asks_before_it_clears_hand_corrections(widget, qtbot, tmp_path):
    """Track cleared the layer at once: a correction painted on frame 2 was gone, unsaid."""
    from ecoseg.store import MaskStore

    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(4)
    _track(w, qtbot)
    masks = w.viewer.layers["ecoseg masks"]
    masks.paint((2, 60, 60), 77)  # a stroke of napari's paint tool
    w.run()
    said = w.status.text()
    assert said.startswith("error: 'ecoseg masks' holds hand corrections on frame 2 "), said
    assert "press Track again to discard them" in said and "Save Selected Layers" in said
    assert w._worker is None and masks in w.viewer.layers
    assert masks.data[2, 60, 60] == 77  # kept

    # saved: nothing is lost any more, Track goes on at once
    w.viewer.layers.selection = {masks}
    out = str(tmp_path / "fixed.zarr")
    w.viewer.layers.save(out, selected=True, plugin="ecoseg")
    assert (MaskStore.open(out).read_labels(2, 3)[0] == 77).any()
    assert masks.metadata["ecoseg"]["store"] == out  # the layer shows that store ...
    _track(w, qtbot)
    assert "store" not in masks.metadata["ecoseg"]  # ... until a run replaces its masks

    # not saved: the second press discards them
    masks = w.viewer.layers["ecoseg masks"]
    masks.paint((3, 60, 60), 77)
    masks.paint((3, 60, 60), 78)  # over the first: napari's undo of it paints 77 back
    w.run()
    assert "on frame 3 " in w.status.text() and w._worker is None
    _track(w, qtbot)
    tracked = np.asarray(masks.data).copy()
    masks.undo()  # Ctrl+Z replayed the discarded stroke's old pixels over the new masks
    masks.redo()
    assert np.array_equal(np.asarray(masks.data), tracked)
    w.run()  # nothing painted since that run: no question
    qtbot.waitUntil(lambda: w._worker is None, timeout=120_000)
    assert w.status.text().startswith("done: 5 frames"), w.status.text()


def test_retrack_asks_before_it_retracks_later_corrections(widget, qtbot):
    """Re-track from frame 1 to *track until* 2 re-tracks frame 2: a correction there is asked
    for; the one on frame 1 itself is the re-track's prompt, and those before and after are
    kept as they are."""
    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(4)
    _track(w, qtbot)
    masks = w.viewer.layers["ecoseg masks"]
    masks.paint((0, 60, 60), 55)
    masks.paint((1, 60, 60), 66)  # the correction to re-track from
    masks.paint((2, 60, 60), 77)
    masks.paint((3, 60, 60), 88)  # after "track until": Re-track leaves it
    w.until_spin.setValue(2)
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam2"))
    w.random_check.setChecked(True)  # a run that can start (no weights here): then it asks
    w.size_spin.setValue(128)
    w.device_combo.setCurrentIndex(w.device_combo.findData("cpu"))
    w.viewer.dims.set_current_step(0, 1)
    w.retrack()
    said = w.status.text()
    assert said.startswith("error: 'ecoseg masks' holds hand corrections on frame 2 "), said
    assert "press Re-track from this frame again to discard them" in said
    from ecoseg.napari._hand_edits import unsaved

    assert w._worker is None and masks.data[2, 60, 60] == 77
    assert unsaved(masks) == [0, 1, 2, 3] and masks.data[1, 60, 60] == 66

    w.retrack()  # pressed again: frames 1-2 re-tracked, 0 and 3 kept
    qtbot.waitUntil(lambda: w._worker is None, timeout=120_000)
    assert w.status.text().startswith("done: 2 frames"), w.status.text()
    assert unsaved(masks) == [0, 3] and masks.data[0, 60, 60] == 55 and masks.data[3, 60, 60] == 88


def test_a_run_keeps_strokes_painted_on_frames_it_has_not_reached(widget, qtbot):
    """A correction painted on frame 3 while the run was at frame 0 was overwritten when the
    run reached frame 3: its masks now go under the stroke, which stays not saved. Ctrl+Z
    then replayed the stroke's old pixels (the 0 the run cleared frame 3 to) over them."""
    from ecoseg.napari._hand_edits import unsaved

    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(4)
    on_frame, made = w._on_frame, {}

    def paint_ahead(layer, update):  # on the GUI thread, in order: frame 3 is not there yet
        if update.index == 0:
            layer.paint((3, 60, 60), 77)
        made[update.index] = np.array(update.labels)
        on_frame(layer, update)

    w._on_frame = paint_ahead
    _track(w, qtbot)
    masks = w.viewer.layers["ecoseg masks"]
    assert masks.data[3, 60, 60] == 77 and unsaved(masks) == [3]
    painted = masks.data[3] == 77
    assert 0 < painted.sum() < 200  # a stroke, over the run's masks (none there yet)
    assert np.array_equal(masks.data[3][~painted], made[3][~painted])
    assert "frames [3] while it ran" in w.status.text() and "Ctrl+Z" in w.status.text()
    before = np.array(masks.data)
    masks.undo()  # the undo history started again when the run wrote under the stroke
    assert np.array_equal(masks.data, before)
