"""An ecologist's afternoon through the widgets, one step after the other: track the sample
with the motion tracker, save the masks as a store, review its tracks (set class on one and
on several, undo), measure and export the tables; each step's status line says what it did,
naming the layer, track or frame, and nothing tracked, painted or stored is lost unasked."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.store import MaskStore  # noqa: E402


def test_track_save_review_undo_measure_export(segment_widget, qtbot, tmp_path):
    from ecoseg.measure import read_table
    from ecoseg.napari._measure import MeasureWidget
    from ecoseg.napari._review import ReviewWidget

    seg = segment_widget
    viewer = seg.viewer
    review = ReviewWidget(viewer)
    viewer.window.add_dock_widget(review)
    seg.engine_combo.setCurrentIndex(seg.engine_combo.findData("classical"))
    seg.until_spin.setValue(11)
    seg.run()
    qtbot.waitUntil(lambda: seg._worker is None, timeout=120_000)
    said = seg.status.text()
    assert said.startswith("done: 12 frames tracked into 'ecoseg masks' ("), said
    masks = viewer.layers["ecoseg masks"]
    tracked = np.asarray(masks.data).copy()
    assert tracked[:12].any()

    out = tmp_path / "transect.zarr"
    masks.save(str(out), plugin="ecoseg")
    review.wait()  # its gallery is read in a worker thread
    ids = sorted(int(o["id"]) for o in MaskStore.open(out).objects)
    assert said.endswith(f" ({len(ids)} objects)"), said  # what it found, in the layer
    assert review.status.text() == f"{len(ids)} tracks in transect.zarr", review.status.text()
    assert review.masks_combo.currentText() == "ecoseg masks"
    assert review.gallery.rowCount() == len(ids) >= 2

    review.select(ids[0])
    review.set_class("parrotfish")
    review.wait()
    assert review.status.text() == f"edit 1: Set class 'parrotfish' on track {ids[0]}"
    review.select(*ids[1:3])
    review.set_class("wrasse")
    review.wait()
    said = review.status.text()
    assert said.startswith("edit 2: Set class 'wrasse' on track ") and "; edit 3: " in said
    review.undo()
    review.wait()
    said = review.status.text()  # one press, both tracks back; each undo named
    assert said.startswith("edit 4: undid edit 3: set class of track "), said
    assert "; edit 5: undid edit 2: set class of track " in said, said
    assert said.count(" to wrasse (was: ") == 2, said
    classes = {int(o["id"]): o["class"] for o in MaskStore.open(out).objects}
    assert classes[ids[0]] == "parrotfish" and "wrasse" not in classes.values()
    assert np.array_equal(np.asarray(masks.data), tracked)  # the reloads kept every mask

    m = MeasureWidget(viewer)
    viewer.window.add_dock_widget(m)
    m.masks_combo.setCurrentText("ecoseg masks")
    m.measure()
    assert m.status.text() == "measuring ecoseg masks…"
    qtbot.waitUntil(lambda: m._worker is None, timeout=60_000)
    said = m.status.text()
    assert said.startswith("ecoseg masks: ") and " regions, " in said, said
    written = m.export(str(tmp_path / "tables"))
    assert m.status.text() == f"exported {len(written)} files to {tmp_path / 'tables'}"
    tracks = read_table(tmp_path / "tables" / "tracks.parquet")
    assert tracks.set_index("object_id").loc[ids[0], "class"] == "parrotfish"
    # the store on disk holds the review, and the layer still shows the run's masks
    assert np.array_equal(MaskStore.open(out).read_labels()[:12], tracked[:12])
