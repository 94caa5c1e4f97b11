"""Measurements widget: tables match ecoseg.measure, sorting, row selection, calibration from
a drawn line, counts plot, export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.measure import measure  # noqa: E402
from ecoseg.sample import sample  # noqa: E402


@pytest.fixture
def widget(make_napari_viewer):
    from ecoseg.napari._measure import MeasureWidget

    viewer = make_napari_viewer()
    viewer.open_sample("ecoseg", "reef")
    w = MeasureWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.masks_combo.setCurrentText("truth masks")
    return w


def _measure(w, qtbot):
    w.measure()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert not w.status.text().startswith("error"), w.status.text()


def test_tables_match_ecoseg_measure(widget, qtbot):
    w = widget
    assert w.mm_spin.value() == 2.5  # the store's calibration
    _measure(w, qtbot)
    want = measure(sample().truth)
    for name in ("regions", "tracks", "counts", "maxn", "cover"):
        w.table_combo.setCurrentText(name)
        assert w.proxy.rowCount() == len(want[name])
        pd.testing.assert_frame_equal(w.current_table(), want[name], check_dtype=False)
    # the trajectories layer is refreshed from the measured centroids
    tracks = w.viewer.layers["truth tracks"]
    assert len(tracks.data) == len(want["regions"])
    # the plot: one line per class, plus the current-time cursor
    ax = w.figure.axes[0]
    assert len(ax.lines) == want["counts"]["class"].nunique() + 1


def test_sorting_and_row_selection_jump_to_object(widget, qtbot):
    from qtpy.QtCore import Qt

    w = widget
    _measure(w, qtbot)
    w.table_combo.setCurrentText("regions")
    col = list(w.model.df.columns).index("area_px")
    w.view.sortByColumn(col, Qt.DescendingOrder)
    shown = w.current_table()
    assert shown["area_px"].is_monotonic_decreasing
    w.select_row(3)
    row = shown.iloc[3]
    masks = w.viewer.layers["truth masks"]
    assert w.viewer.dims.current_step[0] == row["frame"]
    assert masks.selected_label == row["object_id"] and masks.show_selected_label
    w._show_all()
    assert not masks.show_selected_label


def test_calibration_from_drawn_line(widget, qtbot):
    w = widget
    bar = w.add_scale_bar_layer()
    bar.add_lines(np.array([[0, 20, 10], [0, 20, 210]], float))  # 200 px long
    w.length_spin.setValue(50.0)
    w.calibrate_from_line()
    assert w.mm_spin.value() == pytest.approx(0.25)
    for name in ("reef sample", "truth masks", "truth tracks"):
        assert tuple(w.viewer.layers[name].scale[-2:]) == (0.25, 0.25)
    _measure(w, qtbot)
    reg = w.tables["regions"]
    np.testing.assert_allclose(reg["area_mm2"], reg["area_px"] * 0.25**2)
    assert reg.attrs["calibration"]["method"] == "scale_bar"


def test_export_csv_parquet_and_no_overwrite(widget, qtbot, tmp_path):
    w = widget
    _measure(w, qtbot)
    written = w.export(str(tmp_path))
    assert len(written) == 10 and (tmp_path / "tables.json").is_file()
    from ecoseg.measure import read_table

    tracks = read_table(tmp_path / "tracks.parquet")
    pd.testing.assert_frame_equal(tracks, w.tables["tracks"], check_dtype=False)
    assert pd.read_csv(tmp_path / "regions.csv").shape == w.tables["regions"].shape
    assert w.export(str(tmp_path)) == []
    assert "already exists" in w.status.text()


def test_measure_without_labels_layer_says_why(make_napari_viewer):
    from ecoseg.napari._measure import MeasureWidget

    w = MeasureWidget(make_napari_viewer())
    w.measure()
    assert w.status.text().startswith("error: no Labels layer")


def test_measuring_a_half_edited_store_says_so(make_napari_viewer, qtbot, tmp_path, interrupt_edit):
    """Masks read from a store an interrupted ``ecoseg edit`` left half written are measured
    as shown, and the status line says the numbers come from an unfinished edit."""
    import shutil

    from ecoseg.errors import StoreError
    from ecoseg.napari._measure import MeasureWidget

    path = shutil.copytree(sample().truth, tmp_path / "truth.zarr")
    interrupt_edit(path)
    with pytest.raises(StoreError) as refused:
        measure(path)  # ecoseg.measure refuses the store itself
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="ecoseg")
    w = MeasureWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.masks_combo.setCurrentText("truth masks")
    _measure(w, qtbot)
    assert w.status.text().endswith(f". Warning: {refused.value}")
