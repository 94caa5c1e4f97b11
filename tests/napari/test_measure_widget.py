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
    # the plot: one line per class, its MaxN marked, plus the current-time cursor
    ax = w.figure.axes[0]
    steps, marks = _steps_and_marks(ax)
    assert len(steps) == want["counts"]["class"].nunique()
    assert len(ax.lines) == len(steps) + sum(map(len, marks.values())) + 1
    # each line holds the last frame's count over its frame (it ended in a step of no width)
    times = np.unique(want["counts"]["time_s"])
    for line in steps:
        assert line.get_xdata()[-1] == pytest.approx(times[-1] + np.median(np.diff(times)))


def _steps_and_marks(ax):
    """The step lines of a counts plot (one per class), and its MaxN markers (the report's:
    ``maxn_marker``) by colour as [(x, y)], the cursor left out."""
    steps = [line for line in ax.lines if line.get_drawstyle() == "steps-post"]
    marks = {}
    for line in ax.lines:
        if line.get_marker() == "v":
            marks.setdefault(line.get_color(), []).append(
                (float(line.get_xdata()[0]), float(line.get_ydata()[0]))
            )
    return steps, marks


def test_the_plot_marks_each_classs_maxn_as_the_report_does(widget, qtbot):
    """The counts plot of a video had no MaxN marker, which the report's counts figure has
    on every class's line (ecoseg.report.figures._counts.maxn_marker): now each class seen
    is marked at its MaxN's time and value, in its line's colour, as in the report."""
    w = widget
    _measure(w, qtbot)
    steps, marks = _steps_and_marks(w.figure.axes[0])
    want = measure(sample().truth)["maxn"]
    assert len(marks) == len(steps) == (want["maxn"] > 0).sum()  # one marker per class
    for line in steps:
        row = want[want["class"] == line.get_label()].iloc[0]
        assert marks[line.get_color()] == [(pytest.approx(row["time_s"]), row["maxn"])]


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
    # on the masks' grid, units too (mixed units made napari drop them with a warning)
    masks = w.viewer.layers["truth masks"]
    assert tuple(bar.units) == tuple(masks.units) and tuple(bar.scale) == tuple(masks.scale)
    bar.add_lines(np.array([[0, 20, 10], [0, 20, 210]], float))  # 200 px long
    w.length_spin.setValue(50.0)
    w.calibrate_from_line()
    assert w.mm_spin.value() == pytest.approx(0.25)
    # as ecoseg prints a calibration (it said '0.25 mm per pixel (scale_bar)', at 6 digits)
    assert w.status.text() == "calibrated: 0.25 mm/px (scale bar)"
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
    # what the widget can do (it has no --overwrite)
    assert w.status.text().endswith(
        ": already exists; choose another folder (nothing was replaced)"
    )
    assert f"{tmp_path / 'regions.csv'}: already" in w.status.text()
    (tmp_path / "file").write_text("")
    assert w.export(str(tmp_path / "file" / "tables")) == []  # an OSError: one line too
    assert w.status.text().startswith(f"error: cannot export the tables to {tmp_path / 'file'}")


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


@pytest.mark.parametrize(
    ("make", "shown", "method"),
    [
        (lambda C: C.from_scale_bar((100, 50), (447, 50), 100.0), "0.28818443804", "scale_bar"),
        (
            lambda C: C.from_laser_points([(50, 100), (550, 100)], 0.0615),
            "0.000123",
            "laser_points",
        ),
    ],
    ids=["scale-bar-100mm-over-347px", "lasers-0.000123mm-per-px"],
)
def test_the_stores_exact_calibration_is_measured_until_a_value_is_typed(
    make, shown, method, make_napari_viewer, qtbot, tmp_path
):
    """The mm/px box showed 5 decimals and measuring used the rounded value as a plain scale:
    100/347 mm/px became 0.28818 and 0.000123 became 0.00012 (2.4 % in lengths, ~5 % in
    areas), and the scale-bar or laser record was lost. Now the box shows the significant
    digits and Measure uses the store's calibration exactly, with its kind, until the user
    types a value."""
    import shutil

    from ecoseg.measure.calibration import Calibration
    from ecoseg.napari._measure import MeasureWidget
    from ecoseg.store import MaskStore

    cal = make(Calibration)
    path = shutil.copytree(sample().truth, tmp_path / "truth.zarr")
    with MaskStore.open(path, mode="a") as store:
        store.calibration = cal.to_dict()
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="ecoseg")
    w = MeasureWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.masks_combo.setCurrentText("truth masks")
    assert w.mm_spin.text() == f"{shown} mm/px"
    assert w.calibration() == cal and w.calibration().details == cal.details
    _measure(w, qtbot)
    regions = w.tables["regions"]
    np.testing.assert_allclose(
        regions["area_mm2"], regions["area_px"] * cal.mm_per_px**2, rtol=1e-12
    )
    np.testing.assert_allclose(
        regions["major_axis_mm"], regions["major_axis_px"] * cal.mm_per_px, rtol=1e-12
    )
    assert regions.attrs["calibration"] == cal.to_dict()  # the kind and its points kept

    w.mm_spin.setValue(0.5)  # the user types another scale: that one, as a plain scale
    _measure(w, qtbot)
    regions = w.tables["regions"]
    np.testing.assert_allclose(regions["area_mm2"], regions["area_px"] * 0.25, rtol=1e-12)
    assert regions.attrs["calibration"]["method"] == "scale"
    w.mm_spin.setValue(0.0)  # and 0: not calibrated
    _measure(w, qtbot)
    assert "area_mm2" not in w.tables["regions"]


def test_a_measurement_that_fails_says_so_without_a_traceback(make_napari_viewer, qtbot):
    """An error in the measuring worker is the widget's one line, not also re-raised into
    the Qt event loop (pytest-qt fails the test on that)."""
    from ecoseg.napari._measure import MeasureWidget

    viewer = make_napari_viewer()
    viewer.add_labels(np.full((2, 8, 8), -1, np.int32), name="painted")
    w = MeasureWidget(viewer)
    w.masks_combo.setCurrentText("painted")
    w.measure()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert w.status.text().startswith("error: ") and "0..2**32-1" in w.status.text()
    assert w.measure_btn.isEnabled()


def test_the_tracks_layer_takes_the_masks_units(widget, qtbot):
    """The tracks layer Measure adds is in the masks' units (mm), as the masks' scale: in
    pixel units beside mm layers napari warned of inconsistent units and dropped them."""
    w = widget
    w.viewer.layers.remove("truth tracks")
    _measure(w, qtbot)
    masks, tracks = w.viewer.layers["truth masks"], w.viewer.layers["truth tracks"]
    assert tuple(tracks.units) == tuple(masks.units) and tuple(tracks.scale) == tuple(masks.scale)
    assert str(masks.units[-1]) == "millimeter"


def test_measure_while_measuring_is_refused(widget, qtbot):
    """A second Measure while one runs is refused in one line and the first one finishes
    (two at once hung the viewer)."""
    w = widget
    w.measure()
    first = w._worker
    w.measure()
    assert (
        w.status.text() == "error: measuring already: wait for it to finish before measuring again"
    )
    assert w._worker is first
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert w.status.text().endswith("lengths in mm") and len(w.tables["regions"])


def _held_in_first_chunk(monkeypatch):
    """Hook the worker's chunks (``region_stats``): the first waits until ``go`` is set;
    ``reached`` is set once it waits; ``chunks`` counts them."""
    import threading

    from ecoseg.measure import regions

    real, chunks = regions.region_stats, []
    reached, go = threading.Event(), threading.Event()

    def hooked(labels, *args, **kwargs):
        chunks.append(len(labels))
        if len(chunks) == 1:
            reached.set()
            go.wait(30)
        return real(labels, *args, **kwargs)

    monkeypatch.setattr(regions, "region_stats", hooked)
    return reached, go, chunks


def test_export_writes_the_tables_shown_without_measuring_again(widget, qtbot, tmp_path):
    """*Export tables…* measured the layer again on the GUI thread, without Cancel (a long
    video froze the viewer): tables still current for their layer are written as shown."""
    from ecoseg.measure import read_table, regions

    w = widget
    _measure(w, qtbot)
    shown = {k: v.copy() for k, v in w.tables.items()}

    def no_measuring(*args, **kwargs):
        raise AssertionError("export measured again")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(regions, "region_stats", no_measuring)
        written = w.export(str(tmp_path / "t"))
    assert len(written) == 10 and w.status.text() == f"exported 10 files to {tmp_path / 't'}"
    for name, df in shown.items():
        pd.testing.assert_frame_equal(
            read_table(tmp_path / "t" / f"{name}.parquet"), df, check_dtype=False
        )
    assert w.tables["regions"].attrs == shown["regions"].attrs  # the widget's left as shown


def test_tables_of_masks_changed_since_are_measured_again_to_export(
    widget, qtbot, monkeypatch, tmp_path
):
    """A stroke (or a Review tracks edit) after Measure left Export writing the tables of the
    masks as they were, then refusing them (press Measure again). Now Export measures the
    layer again first, in the worker with progress and Cancel as Measure, shows the new
    tables and writes them; a folder holding tables is refused before measuring; a cancel
    writes nothing."""
    w = widget
    _measure(w, qtbot)
    assert len(w.export(str(tmp_path / "old"))) == 10  # current: written as shown
    before = (tmp_path / "old" / "regions.csv").read_bytes()
    masks = w.viewer.layers["truth masks"]
    masks.paint((3, 60, 60), 77)  # a correction
    assert w.status.text().endswith(
        "The masks or classes of 'truth masks' changed since they were measured: Measure "
        "measures them again, and so does Export tables… before it writes them"
    ), w.status.text()
    assert w.export_btn.isEnabled()
    assert w.export(str(tmp_path / "old")) == [] and w._worker is None  # refused first
    assert w.status.text().endswith(
        ": already exists; choose another folder (nothing was replaced)"
    ), w.status.text()
    assert (tmp_path / "old" / "regions.csv").read_bytes() == before

    reached, go, chunks = _held_in_first_chunk(monkeypatch)
    assert w.export(str(tmp_path / "new")) == []  # measuring first, in the worker
    assert w.status.text() == "measuring truth masks again to export…"
    assert w.cancel_btn.isEnabled() and not w.measure_btn.isEnabled()
    qtbot.waitUntil(reached.is_set, timeout=60_000)
    assert not (tmp_path / "new").exists()
    go.set()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert w.status.text().endswith(f"Exported 10 files to {tmp_path / 'new'}"), w.status.text()
    assert 77 in set(w.tables["regions"]["object_id"])
    from ecoseg.measure import read_table

    assert 77 in set(read_table(tmp_path / "new" / "regions.parquet")["object_id"])

    masks.paint((4, 60, 60), 78)  # changed again; this export is cancelled
    reached, go, chunks = _held_in_first_chunk(monkeypatch)
    w.export(str(tmp_path / "cancelled"))
    qtbot.waitUntil(reached.is_set, timeout=60_000)
    w.cancel_btn.click()
    go.set()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert len(chunks) == 1 and not (tmp_path / "cancelled").exists()
    assert w.status.text().startswith("cancelled: measuring 'truth masks' stopped")


def test_a_failed_measurement_clears_the_tables_of_the_layer_before(widget, qtbot):
    """A measurement that failed kept showing the tables of the layer measured before while
    the widget (row clicks, change tracking) had switched to the layer that failed; now a
    failure clears them as a cancel does, says what failed in one line, and Measure works
    again."""
    w = widget
    _measure(w, qtbot)
    truth = w.viewer.layers["truth masks"]
    w.viewer.add_labels(np.full((2, 8, 8), -1, np.int32), name="painted")
    w.masks_combo.setCurrentText("painted")
    w.measure()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    said = w.status.text()
    assert said.startswith("error: measuring 'painted' failed: ") and "0..2**32-1" in said
    assert (
        said.endswith("; the tables shown before are cleared: press Measure to measure again")
        and "\n" not in said
    )
    assert w.tables == {} and w.proxy.rowCount() == 0 and not w.export_btn.isEnabled()
    assert w.measure_btn.isEnabled() and not w.cancel_btn.isEnabled()
    truth.selected_label = 0
    w.select_row(0)  # no row: nothing selected in the layer measured before
    assert not truth.show_selected_label
    w.masks_combo.setCurrentText("truth masks")
    _measure(w, qtbot)
    assert w.status.text().endswith("lengths in mm") and w.export_btn.isEnabled()


def test_a_survey_is_plotted_per_photograph(make_napari_viewer, qtbot, tmp_path):
    """A photo survey's counts are bars per photograph named by its file (as in the report),
    not step lines over its images' indices taken for seconds; the cursor is on the
    photograph shown."""
    from PIL import Image

    from ecoseg.napari._measure import MeasureWidget
    from ecoseg.store import MaskStore

    names = ["q1.png", "q2.png", "q3.png"]
    photos = tmp_path / "quadrats"
    photos.mkdir()
    for name in names:
        Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(photos / name)
    labels = np.zeros((3, 24, 32), np.uint32)
    labels[0, 2:8, 2:8], labels[0, 12:20, 14:22], labels[2, 4:12, 4:12] = 1, 2, 3
    video = {"path": str(photos), "width": 32, "height": 24, "frames": 3, "images": names}
    objects = [(1, "parrotfish", "concept"), (2, "parrotfish", "concept"), (3, "urchin", "tracker")]
    path = tmp_path / "survey.zarr"
    prov = {"video": video, "engine": "sam3-concepts"}
    with MaskStore.create(path, height=24, width=32, objects=objects, provenance=prov) as s:
        s.append(labels, np.arange(3.0))
        s.mark_complete()
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="ecoseg")
    w = MeasureWidget(viewer)
    viewer.window.add_dock_widget(w)
    _measure(w, qtbot)
    ax = w.figure.axes[0]
    assert ax.get_xlabel() == "photograph"
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    heights = {}  # per class (bar colour): the count over each photograph
    for bar in ax.patches:
        heights.setdefault(bar.get_facecolor(), []).append(bar.get_height())
    assert sorted(heights.values()) == [[0, 0, 1], [2, 0, 0]]
    # MaxN marked over its photograph, as in the report (it had no marker): parrotfish 2 on
    # q1.png, urchin 1 on q3.png, each over its own bar
    _, marks = _steps_and_marks(ax)
    tops = {
        (bar.get_facecolor(), round(bar.get_x() + bar.get_width() / 2, 6)): bar.get_height()
        for bar in ax.patches
    }
    from matplotlib.colors import to_rgba

    assert sorted(
        (round(x), round(y - 0.3, 6), tops[to_rgba(c), round(x, 6)])
        for c, xy in marks.items()
        for x, y in xy
    ) == [(0, 2, 2), (2, 1, 1)]
    assert len(ax.lines) == 1 + 2  # the cursor and the markers, no step line
    viewer.dims.set_current_step(0, 2)
    assert list(w._cursor.get_xdata()) == [2.0, 2.0]


def test_tracks_and_rows_stay_with_the_layer_measured(widget, qtbot):
    """The tables' tracks were drawn on, and a row click selected its object in, the layer
    chosen in *Masks* when measuring ended, not the layer measured: another layer chosen (or
    the measured one closed) while it measured took the trajectories under its own name and
    scale ('other tracks'). They stay with the measured layer; closed, none are drawn and the
    status line says so."""
    w = widget
    truth = w.viewer.layers["truth masks"]
    other = w.viewer.add_labels(np.zeros((3, 36, 64), np.uint8), name="other masks")
    w.masks_combo.setCurrentText("truth masks")
    w.measure()
    w.masks_combo.setCurrentText("other masks")  # chosen while it measures
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert "other tracks" not in w.viewer.layers
    w.select_row(0)
    assert truth.show_selected_label and not other.show_selected_label

    w.masks_combo.setCurrentText("truth masks")
    w.measure()
    w.viewer.layers.remove(truth)  # closed while it measures
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert "other tracks" not in w.viewer.layers
    assert w.status.text().endswith(
        "The layer 'truth masks' was closed while it was measured: no tracks drawn"
    ), w.status.text()


def _cancelled(w, qtbot, monkeypatch, press):
    """Start a measurement with ``press``, cancel it while its first chunk is measured, and
    wait for it to end; the number of chunks measured."""
    reached, go, chunks = _held_in_first_chunk(monkeypatch)
    press()
    assert w.cancel_btn.isEnabled() and not w.measure_btn.isEnabled()
    qtbot.waitUntil(reached.is_set, timeout=60_000)
    w.cancel_btn.click()  # while the first chunk is measured
    assert w.status.text() == "cancelling…"
    go.set()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert w.measure_btn.isEnabled() and not w.cancel_btn.isEnabled()
    return len(chunks)


def test_cancel_stops_a_measurement_writing_nothing_and_measure_works_again(
    widget, qtbot, monkeypatch, tmp_path
):
    """*Cancel* stops a measurement before its next chunk of frames, as ``measure``'s
    ``cancel`` does: no tables are made, and those shown before are cleared once their layer
    changed (nothing to export), and the next *Measure* measures anew. The widget had no
    Cancel: a long video measured to its end."""
    from ecoseg.measure import regions

    w = widget
    assert not w.cancel_btn.isEnabled()  # only while measuring
    _measure(w, qtbot)  # tables shown before
    real = regions.region_stats
    w.viewer.layers["truth masks"].paint((3, 60, 60), 77)  # they say the masks no longer
    assert _cancelled(w, qtbot, monkeypatch, w.measure_btn.click) == 1  # no chunk after it
    assert w.status.text() == (
        "cancelled: measuring 'truth masks' stopped; nothing was written; the tables shown "
        "before are cleared: press Measure to measure again"
    )
    assert w.tables == {} and w.proxy.rowCount() == 0
    assert not w.export_btn.isEnabled() and w.export(str(tmp_path / "t")) == []
    assert not (tmp_path / "t").exists()

    monkeypatch.setattr(regions, "region_stats", real)
    _measure(w, qtbot)  # measures anew, to the end
    assert w.status.text().endswith("lengths in mm") and w.export_btn.isEnabled()
    assert 77 in set(w.tables["regions"]["object_id"])


def test_a_cancel_keeps_the_tables_of_the_same_unchanged_layer(
    widget, qtbot, monkeypatch, tmp_path
):
    """Measure pressed again on the layer measured, unchanged, and cancelled cleared its
    tables, still true of it; they stay now (rows, export, the calibration they were made
    with). Tables of another layer are cleared, and so are they when it changes while it is
    measured."""
    from ecoseg.measure import read_table

    w = widget
    _measure(w, qtbot)
    shown = {name: df.copy() for name, df in w.tables.items()}
    w.mm_spin.setValue(0.5)  # a new calibration for the measurement cancelled
    assert _cancelled(w, qtbot, monkeypatch, w.measure) == 1
    assert w.status.text() == (
        "cancelled: measuring 'truth masks' stopped; nothing was written; the tables shown "
        "are still those of 'truth masks', unchanged since they were measured"
    )
    assert w.tables.keys() == shown.keys() and w.export_btn.isEnabled()
    for name, df in shown.items():
        pd.testing.assert_frame_equal(w.tables[name], df)
    assert w.proxy.rowCount() == len(shown["regions"]) and w.figure.axes
    written = w.export(str(tmp_path / "kept"))  # written as shown, in mm, not measured again
    assert len(written) == 10 and w._worker is None
    pd.testing.assert_frame_equal(
        read_table(tmp_path / "kept" / "regions.parquet"), shown["regions"], check_dtype=False
    )
    truth = w.viewer.layers["truth masks"]
    truth.paint((3, 60, 60), 77)  # stale now: export measures again with the tables' 2.5 mm
    assert w._cal_used.mm_per_px == 2.5

    def changed_while_measured():
        w.measure()
        truth.paint((4, 60, 60), 78)

    _measure(w, qtbot)
    assert _cancelled(w, qtbot, monkeypatch, changed_while_measured) == 1
    assert (
        w.status.text().endswith(
            "; the tables shown before are cleared: press Measure to measure again"
        )
        and w.tables == {}
    )

    w.mm_spin.setValue(0)
    _measure(w, qtbot)
    w.viewer.add_labels(np.asarray(truth.data).copy(), name="other")  # alike, not the same
    w.masks_combo.setCurrentText("other")
    assert _cancelled(w, qtbot, monkeypatch, w.measure) == 1
    assert w.status.text() == (
        "cancelled: measuring 'other' stopped; nothing was written; the tables shown before "
        "are cleared: press Measure to measure again"
    )
    assert w.tables == {} and not w.export_btn.isEnabled()
