"""The *Measurements* dock widget: ecoseg's tables for a Labels layer, a plot, calibration.

*Measure* writes the chosen Labels layer into an in-memory mask store and runs
:func:`ecoseg.measure` on it, in a worker thread, so the tables are exactly the ones the CLI and
the Python API give for the same masks. Selecting a row moves the viewer to its frame and
shows only its object; the plot shows the counts per class over time with the current frame
and each class's MaxN marked (a photo survey's: per photograph, a bar per class), as in the
report. Calibration: type
mm per pixel, or draw a line along a scale bar, give its length and press *Use drawn line*;
every ecoseg layer is then scaled in mm (the scale bar shows mm). The widget measures with the
exact calibration it holds (the store's, or the drawn line's, with its kind and points),
whatever digits the box shows; a value typed in the box replaces it with a plain scale.
A layer read from a store an interrupted ``ecoseg edit`` left half written is measured as
shown, and the status line says the numbers come from an unfinished edit. *Cancel* stops a
measurement before its next chunk of frames (:func:`ecoseg.measure`'s ``cancel``): nothing is
written. A measurement that does not succeed, cancelled or failed, clears the tables shown
before (of the layer measured before: the widget is the new layer's once it starts), except
a cancelled one of the layer they were measured from, unchanged since: they stay, still true.
*Export tables…* writes the tables shown while they are current for their layer, and measures
it again first (in the worker, with *Cancel*) once its masks or classes changed since.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from qtpy.QtCore import QSortFilterProxyModel, Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ecoseg.errors import Cancelled, EcosegError
from ecoseg.napari._check import napari_remedy
from ecoseg.napari._layers import META_KEY, labels_to_store, tracks_from_regions
from ecoseg.napari._measure_views import SORT_ROLE, ScaleBox, TableModel, counts_plot
from ecoseg.napari._pool import start as start_worker
from ecoseg.napari._warned import Kept, kept, show

if TYPE_CHECKING:
    import napari

__all__ = ["SCALE_BAR", "MeasureWidget", "ScaleBox", "TableModel", "measure_labels"]

SCALE_BAR = "ecoseg scale bar"


def _meta(layer) -> dict[str, Any]:
    return (getattr(layer, "metadata", None) or {}).get(META_KEY) or {}


def labels_store(
    layer_data: Any, metadata: dict | None = None, features: Any = None, calibration: Any = None
):
    """An in-memory ecoseg mask store holding a Labels layer's data (for measuring).

    ``calibration`` (mm per pixel, a :class:`~ecoseg.Calibration` or None) is stored with it.

    Examples
    --------
    >>> lab = np.zeros((2, 6, 6), np.uint32); lab[:, 1:4, 1:4] = 2
    >>> store = labels_store(lab)
    >>> import ecoseg; ecoseg.open_masks(store).sizes["t"]
    2
    """
    from zarr.storage import MemoryStore

    from ecoseg.measure.calibration import as_calibration

    store = MemoryStore()
    meta = dict(metadata or {})
    entry = dict(meta.get(META_KEY) or {})
    cal = as_calibration(calibration) if calibration is not None else None
    entry["calibration"] = cal.to_dict() if cal is not None else None
    meta[META_KEY] = entry
    labels_to_store(store, layer_data, metadata=meta, features=features)
    return store


def measure_labels(
    layer_data: Any,
    *,
    metadata: dict | None = None,
    features: Any = None,
    calibration: Any = None,
    cancel: Any = None,
) -> tuple[dict[str, pd.DataFrame], Any]:
    """:func:`ecoseg.measure` tables of a Labels layer (and the in-memory store measured).

    Parameters
    ----------
    layer_data : array (t, y, x)
    metadata, features
        The layer's, for frame times and object classes.
    calibration : float, Calibration or None
        mm per pixel.
    cancel : threading.Event or callable, optional
        As :func:`ecoseg.measure`'s: once set, measuring stops before its next chunk of
        frames, raising :class:`~ecoseg.errors.Cancelled`.

    Returns
    -------
    tables : dict of DataFrame
    store : zarr MemoryStore

    Examples
    --------
    >>> lab = np.zeros((3, 8, 8), np.uint32); lab[:, 2:6, 2:6] = 1
    >>> tables, _ = measure_labels(lab, calibration=0.5)
    >>> tables["regions"]["area_mm2"].tolist()
    [4.0, 4.0, 4.0]
    """
    from ecoseg.measure import measure

    store = labels_store(layer_data, metadata, features, calibration)
    return measure(store, cancel=cancel), store


class MeasureWidget(QWidget):
    """Measure a Labels layer: sortable tables, counts plot, calibration, export.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer: napari.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.tables: dict[str, pd.DataFrame] = {}
        self._store = None
        self._worker = None
        self._cancel = threading.Event()  # the running measurement's (a new one each Measure)
        self._cal_used = None
        self._unfinished: str | None = None
        self._calibration = None  # what Measure uses: exact, with its kind (None: pixels)
        self._measured_layer = None  # the layer of the tables (watched: see _changed)
        self._stale = False  # its masks or classes changed since it was measured
        #: what a cancel puts back (_cal_used, _unfinished) when the tables shown are of the
        #: layer measured now, unchanged since; None: a cancel clears them (see _start)
        self._kept: tuple | None = None
        self._export_to = None  # (folder, formats): export once measured (see export)

        self.masks_combo = QComboBox()
        self.mm_spin = ScaleBox()
        self.mm_spin.setRange(0.0, 10000.0)
        self.mm_spin.setSingleStep(0.01)
        self.mm_spin.setSpecialValueText("not calibrated (pixels)")
        self.mm_spin.setSuffix(" mm/px")
        self.mm_spin.valueChanged.connect(self._scale_typed)
        self.length_spin = QDoubleSpinBox()
        self.length_spin.setRange(0.001, 1e6)
        self.length_spin.setValue(100.0)
        self.length_spin.setSuffix(" mm")
        draw_btn = QPushButton("Draw scale bar")
        draw_btn.setToolTip("Adds a Shapes layer: draw one line along a scale bar of known length")
        draw_btn.clicked.connect(self.add_scale_bar_layer)
        self.use_line_btn = QPushButton("Use drawn line")
        self.use_line_btn.clicked.connect(self.calibrate_from_line)
        self.measure_btn = QPushButton("Measure")
        self.measure_btn.clicked.connect(self.measure)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancel)
        self.csv_check = QCheckBox("CSV")
        self.csv_check.setChecked(True)
        self.parquet_check = QCheckBox("Parquet")
        self.parquet_check.setChecked(True)
        self.export_btn = QPushButton("Export tables…")
        self.export_btn.setEnabled(False)
        self.export_btn.clicked.connect(lambda: self.export())
        self.table_combo = QComboBox()
        self.table_combo.addItems(["regions", "tracks", "counts", "maxn", "cover"])
        self.table_combo.currentTextChanged.connect(self._show_table)
        self.model = TableModel()
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)  # table order
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.setMinimumHeight(160)
        self.view.selectionModel().currentRowChanged.connect(self._row_selected)
        show_all = QPushButton("Show all objects")
        show_all.clicked.connect(self._show_all)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4, 2.2), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(150)
        self._cursor = None

        cal_box = QGroupBox("Calibration")
        cform = QFormLayout(cal_box)
        cform.addRow("scale", self.mm_spin)
        cform.addRow("bar length", self.length_spin)
        row = QHBoxLayout()
        row.addWidget(draw_btn)
        row.addWidget(self.use_line_btn)
        cform.addRow(row)
        top = QFormLayout()
        top.addRow("masks", self.masks_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.measure_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addWidget(self.export_btn)
        buttons.addWidget(self.csv_check)
        buttons.addWidget(self.parquet_check)
        tables = QHBoxLayout()
        tables.addWidget(QLabel("table"))
        tables.addWidget(self.table_combo, 1)
        tables.addWidget(show_all)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(cal_box)
        layout.addLayout(buttons)
        layout.addLayout(tables)
        layout.addWidget(self.view, 2)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.status)

        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self.masks_combo.currentTextChanged.connect(self._masks_changed)
        self.viewer.dims.events.current_step.connect(self._move_cursor)
        self._refresh_layers()

    # ------------------------------------------------------------------ layers
    def _refresh_layers(self, event=None) -> None:
        from napari.layers import Labels

        current = self.masks_combo.currentText()
        self.masks_combo.blockSignals(True)
        self.masks_combo.clear()
        names = [layer.name for layer in self.viewer.layers if isinstance(layer, Labels)]
        self.masks_combo.addItems(names)
        if current in names:
            self.masks_combo.setCurrentText(current)
        self.masks_combo.blockSignals(False)
        if self.masks_combo.currentText() != current:
            self._masks_changed()

    def masks_layer(self):
        """The chosen Labels layer, or None."""
        name = self.masks_combo.currentText()
        return self.viewer.layers[name] if name in self.viewer.layers else None

    def _masks_changed(self, *args) -> None:
        from ecoseg.measure.calibration import Calibration

        layer = self.masks_layer()
        known = _meta(layer).get("calibration") if layer is not None else None
        try:
            cal = Calibration.from_dict(known) if known else None
        except (EcosegError, KeyError, TypeError) as exc:  # a hand-edited store
            self._fail(f"the layer's calibration cannot be used: {_reason(exc)}")
            cal = None
        self._show_calibration(cal)

    def _show_calibration(self, cal) -> None:
        """Measure with ``cal`` (exact) and show its mm per pixel, as the box allows."""
        self._calibration = cal
        self.mm_spin.blockSignals(True)  # not a value the user typed
        self.mm_spin.setValue(float(cal.mm_per_px) if cal is not None else 0.0)
        self.mm_spin.blockSignals(False)

    def _scale_typed(self, value: float) -> None:
        """The user changed the box: measure with that plain scale (0: in pixels)."""
        self._calibration = float(value) if value > 0 else None

    def calibration(self):
        """The calibration to measure with (a :class:`~ecoseg.Calibration`) or None.

        The one the widget holds, exactly (a store's scale bar stays a scale bar, 100/347 mm
        per pixel stays that), until a value is typed in the box; then that value, as a plain
        scale.

        Raises
        ------
        ecoseg.errors.CalibrationError
            A typed value outside the plausible range.
        """
        from ecoseg.measure.calibration import Calibration

        cal = self._calibration
        if cal is None or isinstance(cal, Calibration):
            return cal
        return Calibration.from_scale(cal)

    # ------------------------------------------------------------------ calibration
    def add_scale_bar_layer(self):
        """Add (or select) the Shapes layer to draw a scale-bar line in."""
        if SCALE_BAR in self.viewer.layers:
            layer = self.viewer.layers[SCALE_BAR]
        else:
            ref = self.masks_layer()
            scale = tuple(ref.scale) if ref is not None else None
            # the masks' units too: layers of mixed units make napari drop units ("Inconsistent
            # units across layers") and its scale bar stops showing mm
            units = tuple(str(u) for u in ref.units) if ref is not None else None
            ndim = ref.ndim if ref is not None else 2
            layer = self.viewer.add_shapes(
                ndim=ndim,
                name=SCALE_BAR,
                scale=scale,
                units=units,
                edge_color="cyan",
                edge_width=3,
                metadata={META_KEY: {"kind": "scale_bar"}},
            )
        self.viewer.layers.selection.active = layer
        layer.mode = "add_line"
        return layer

    def calibrate_from_line(self) -> None:
        """mm per pixel from the last line drawn in the scale-bar layer and its length."""
        from ecoseg.measure.calibration import Calibration

        try:
            if SCALE_BAR not in self.viewer.layers:
                raise EcosegError("draw a line along the scale bar first (Draw scale bar)")
            layer = self.viewer.layers[SCALE_BAR]
            lines = [d for d, k in zip(layer.data, layer.shape_type) if k in ("line", "path")]
            if not lines:
                raise EcosegError(f"no line in the '{SCALE_BAR}' layer: draw one along the bar")
            line = np.asarray(lines[-1])
            p0, p1 = line[0, -2:][::-1], line[-1, -2:][::-1]  # (y, x) -> (x, y), pixels
            cal = Calibration.from_scale_bar(p0, p1, float(self.length_spin.value()))
        except EcosegError as exc:
            self._fail(str(exc))
            return
        self.apply_calibration(cal)

    def apply_calibration(self, cal) -> None:
        """Use ``cal`` for measuring and scale every ecoseg layer in mm."""
        mm = float(cal.mm_per_px)
        self._show_calibration(cal)
        for layer in self.viewer.layers:
            meta = _meta(layer)
            if not meta:
                continue
            if meta.get("kind") in ("video", "masks"):
                meta["calibration"] = cal.to_dict()
            scale = np.asarray(layer.scale, dtype=float)
            scale[-2:] = mm
            layer.scale = scale
            units = [str(u) for u in layer.units]
            layer.units = (*units[:-2], "mm", "mm")
        self.viewer.scale_bar.visible = True
        self.viewer.reset_view()
        self.status.setText(f"calibrated: {cal}")  # every digit, as ecoseg prints one

    # ------------------------------------------------------------------ measuring
    def measure(self) -> None:
        """Measure the chosen Labels layer in a worker thread."""
        if self._worker is not None:  # the button is greyed out; a script may still call
            self._fail("measuring already: wait for it to finish before measuring again")
            return
        layer = self.masks_layer()
        if layer is None:
            self._fail("no Labels layer to measure: open a mask store or track something first")
            return
        try:
            cal = self.calibration()
        except EcosegError as exc:
            self._fail(str(exc))
            return
        self._export_to = None
        self._start(layer, cal, f"measuring {layer.name}…")

    def _start(self, layer, cal, said: str) -> None:
        """Measure ``layer`` with ``cal`` in a worker thread (progress, *Cancel*), saying
        ``said``; from now on the tables are ``layer``'s: the ones shown before are cleared
        unless it succeeds (:meth:`_no_tables`), or it is cancelled and they are ``layer``'s,
        unchanged since they were measured (and while it ran): still true, they stay."""
        from napari.qt.threading import create_worker

        data = layer.data
        self._cancel = threading.Event()
        if isinstance(data, np.ndarray):
            data = data.copy()  # the user may keep painting while we measure
        worker = create_worker(
            kept,  # its own thread's warnings, never another widget's worker's (_warned)
            measure_labels,
            data,
            metadata=dict(layer.metadata),
            features=layer.features.copy(),
            calibration=cal,
            cancel=self._cancel,
            _progress={"desc": "ecoseg: measuring"},
            _start_thread=False,
            # handled here: without it napari re-raises the error as a traceback besides it
            _connect={"errored": self._errored},
        )
        worker.returned.connect(self._measured)
        worker.finished.connect(self._measure_finished)
        self._worker = worker
        same = self._store is not None and layer is self._measured_layer and not self._stale
        self._kept = (self._cal_used, self._unfinished) if same else None
        self._cal_used = cal
        self._unfinished = _unfinished(layer)
        self._watch(layer)
        self.measure_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.status.setText(said)
        start_worker(worker)  # with a thread of its own (_pool)

    def _watch(self, layer) -> None:
        """Watch ``layer`` (the one measured now) for changes of its masks or classes: a
        stroke, a *Review tracks* edit (:meth:`_changed`)."""
        events = ("data", "paint", "features")
        if self._measured_layer is not None:
            for name in events:
                getattr(self._measured_layer.events, name).disconnect(self._changed)
        self._measured_layer, self._stale = layer, False
        for name in events:
            getattr(layer.events, name).connect(self._changed)

    def _changed(self, event=None) -> None:
        """The measured layer changed: its tables no longer say what it shows. *Export*
        measures it again before writing (:meth:`export`); the status line says so."""
        was, self._stale = self._stale, True
        if self._store is not None and self._worker is None and not was:
            self.status.setText(f"{self.status.text()}. {self._stale_note()}")

    def _stale_note(self) -> str:
        name = getattr(self._measured_layer, "name", "the layer")
        return (
            f"The masks or classes of {name!r} changed since they were measured: Measure "
            "measures them again, and so does Export tables… before it writes them"
        )

    def cancel(self) -> None:
        """Stop measuring before its next chunk of frames (:func:`ecoseg.measure`'s
        ``cancel``): no tables are made and nothing is written. A measurement that ends
        meanwhile shows its tables."""
        if self._worker is not None:
            self._cancel.set()
            self.status.setText("cancelling…")

    def _errored(self, exc: BaseException) -> None:
        """The measurement did not succeed: cancelled or failed, its tables are not made.
        The tables shown before are cleared, unless it was cancelled and they are of the
        layer it measured, unchanged since they were measured (:meth:`_start`)."""
        exporting, self._export_to = self._export_to is not None, None
        name = getattr(self._measured_layer, "name", "the layer")
        if isinstance(exc, Cancelled) and self._kept is not None and not self._stale:
            self._cal_used, self._unfinished = self._kept  # what the tables were made with
            self.status.setText(
                f"cancelled: measuring {name!r} stopped; nothing was written; the tables "
                f"shown are still those of {name!r}, unchanged since they were measured"
            )
            return
        cleared = "; the tables shown before are cleared" if self._store is not None else ""
        self._no_tables()
        if isinstance(exc, Cancelled):
            self.status.setText(
                f"cancelled: measuring {name!r} stopped; nothing was written{cleared}: press "
                "Measure to measure again"
            )
            return
        unsaid = "; nothing was exported" if exporting else ""
        self._fail(
            f"measuring {name!r} failed: {_reason(exc)}{unsaid}{cleared}: press Measure to "
            "measure again"
        )

    def _no_tables(self) -> None:
        """Clear the tables shown: a measurement that did not succeed leaves none. Those
        shown before were of the layer measured before, and the widget (its row clicks, its
        change tracking) is the new layer's since the measurement started: the tables stay
        with the layer measured."""
        self.tables, self._store = {}, None
        self.export_btn.setEnabled(False)
        self._show_table(self.table_combo.currentText())
        self.figure.clear()
        self._cursor = None
        self.canvas.draw_idle()

    def _measure_finished(self) -> None:
        self._worker = None
        self.measure_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)

    def _measured(self, ran: Kept) -> None:
        show(ran.warnings)  # here, where napari's notifications see them
        self.tables, self._store = ran.result
        self.export_btn.setEnabled(True)
        self._show_table(self.table_combo.currentText())
        self._plot()
        self._update_tracks()
        n = self.tables["tracks"]
        unit = "mm" if self._cal_used is not None else "px"
        name = getattr(self._measured_layer, "name", "the layer")
        said = f"{name}: {len(self.tables['regions'])} regions, {len(n)} objects; lengths in {unit}"
        if self._unfinished is not None:  # numbers of a half-written edit: say so
            said += f". Warning: {self._unfinished}"
        if self._stale:
            said += f". {self._stale_note()}"
        if self.measured_layer() is None:  # its tracks are drawn on no other layer
            said += f". The layer {name!r} was closed while it was measured: no tracks drawn"
        export_to, self._export_to = self._export_to, None
        if export_to is not None and self._stale:  # changed again while measured: not these
            said += "; nothing was exported"
        self.status.setText(said)
        if export_to is not None and not self._stale:
            written = self._write(*export_to)
            if written:
                self.status.setText(f"{said}. Exported {len(written)} files to {export_to[0]}")

    def measured_layer(self):
        """The Labels layer the tables were measured from while it is open, else None (not
        the layer chosen in *Masks* since: the tables' tracks and rows are that layer's)."""
        layer = self._measured_layer
        return layer if layer is not None and layer in self.viewer.layers else None

    def _update_tracks(self) -> None:
        """Show the measured trajectories (mask centroids) in a Tracks layer."""
        from napari.layers import Tracks

        layer = self.measured_layer()
        regions = self.tables.get("regions")
        if layer is None or regions is None or not len(regions) or layer.ndim != 3:
            return
        data, features = tracks_from_regions(regions)
        base = layer.name[: -len(" masks")] if layer.name.endswith(" masks") else layer.name
        name = f"{base} tracks"
        if name in self.viewer.layers and isinstance(self.viewer.layers[name], Tracks):
            tracks = self.viewer.layers[name]
            tracks.data = data
            tracks.features = features
            tracks.scale = layer.scale
            tracks.units = layer.units
        else:
            self.viewer.add_tracks(
                data,
                features=features,
                name=name,
                scale=tuple(layer.scale),
                units=tuple(str(u) for u in layer.units),  # mixed units: napari drops them
                tail_length=30,
                tail_width=3,
                metadata={META_KEY: {"kind": "tracks", "time_s": _meta(layer).get("time_s")}},
            )
            self.viewer.layers.selection.active = layer

    def _show_table(self, name: str) -> None:
        self.model.set_frame(self.tables.get(name, pd.DataFrame()))
        self.view.resizeColumnsToContents()

    def current_table(self) -> pd.DataFrame:
        """The table shown, in the view's (sorted) row order."""
        df = self.model.df
        rows = [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in range(len(df))]
        return df.iloc[rows].reset_index(drop=True)

    def select_row(self, row: int) -> None:
        """Select a row of the (sorted) table view, as a click does."""
        self.view.selectRow(row)

    def _row_selected(self, current, previous=None) -> None:
        if not current.isValid():
            return
        row = self.model.df.iloc[self.proxy.mapToSource(current).row()]
        frame = row.get("frame", row.get("first_frame"))
        if frame is not None and pd.notna(frame):
            self.viewer.dims.set_current_step(0, int(frame))
        layer = self.measured_layer()
        oid = row.get("object_id")
        if layer is not None and oid is not None and pd.notna(oid):
            layer.selected_label = int(oid)
            layer.show_selected_label = True
            if "centroid_y_px" in row.index:
                scale = np.asarray(layer.scale[-2:], dtype=float)
                yx = np.array([row["centroid_y_px"], row["centroid_x_px"]], float) * scale
                scene = getattr(self.viewer, "scene", None)  # napari >= 0.9
                camera = scene.camera if scene is not None else self.viewer.camera
                camera.center = (*camera.center[:-2], *yx)

    def _show_all(self) -> None:
        layer = self.measured_layer()
        if layer is not None:
            layer.show_selected_label = False

    # ------------------------------------------------------------------ plot
    def _plot(self) -> None:
        self.figure.clear()
        ax = self.figure.add_subplot(111)
        counts_plot(ax, self.tables.get("counts"), self.tables.get("maxn"), self._photos())
        self._cursor = ax.axvline(self._current_time(), color="0.3", lw=1, ls="--")
        self.canvas.draw_idle()

    def _photos(self) -> tuple[str, ...] | None:
        """The photographs of the measured layer's photo survey (None: a video)."""
        from ecoseg.provenance import Provenance

        layer = self._measured_layer  # its tables are plotted (closed since: its metadata)
        prov = _meta(layer).get("provenance") if layer is not None else None
        return Provenance.from_dict(prov).photos if prov else None

    def _current_time(self) -> float:
        """The cursor's x: the current frame's time (a survey's: its photograph's index)."""
        layer = self._measured_layer
        times = _meta(layer).get("time_s") if layer is not None else None
        t = int(self.viewer.dims.current_step[0]) if self.viewer.dims.ndim else 0
        if times is not None and 0 <= t < len(times) and self._photos() is None:
            return float(times[t])
        return float(t)

    def _move_cursor(self, event=None) -> None:
        if self._cursor is not None:
            x = self._current_time()
            self._cursor.set_xdata([x, x])
            self.canvas.draw_idle()

    # ------------------------------------------------------------------ export
    def export(self, folder: str | None = None) -> list[str]:
        """Write the tables shown as CSV and/or Parquet (+ tables.json) into ``folder``, as
        ``ecoseg measure`` writes them (an existing file is refused, nothing replaced).

        Tables still current for their layer are written as they are, without measuring
        again. Once the layer's masks or classes changed since (:meth:`_changed`), it is
        measured again first, as *Measure* does (in a worker, with progress and *Cancel*,
        with the calibration its tables were measured with), and its new tables are shown
        and written when that ends: the files are not written yet on return.

        Returns
        -------
        list of str
            The table files written now (none when refused, or measuring first).
        """
        from ecoseg.measure._write_tables import table_targets
        from ecoseg.measure.tables import INCOMPLETE

        if self._store is None:
            self._fail("press Measure first")
            return []
        name = getattr(self._measured_layer, "name", "the layer")
        if self._worker is not None:  # the tables shown are on their way out (see _start)
            self._fail("measuring already: wait for it to finish before exporting")
            return []
        if self._stale and self.measured_layer() is None:
            self._fail(f"{name!r} changed since it was measured and was closed: nothing to export")
            return []
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Export tables to folder")
            if not folder:
                return []
        formats = [
            f
            for f, box in (("csv", self.csv_check), ("parquet", self.parquet_check))
            if box.isChecked()
        ]
        if not self._stale:
            return self._write(folder, formats)
        try:  # refused before measuring, as measure refuses before it measures
            if not formats:
                raise EcosegError("tick CSV and/or Parquet to export")
            table_targets(folder, formats, (Path(folder) / INCOMPLETE).is_file())
        except (EcosegError, OSError) as exc:
            self._export_failed(folder, exc)
            return []
        self._start(self._measured_layer, self._cal_used, f"measuring {name} again to export…")
        self._export_to = (folder, formats)
        return []

    def _write(self, folder: str, formats: list[str]) -> list[str]:
        """Write the tables measured into ``folder`` (:meth:`export`); the files written."""
        from ecoseg.measure._write_tables import write_tables

        try:
            if not formats:
                raise EcosegError("tick CSV and/or Parquet to export")
            write_tables(self.tables, folder, formats=formats)
        except (EcosegError, OSError) as exc:
            self._export_failed(folder, exc)
            return []
        written = sorted(str(p) for f in formats for p in Path(folder).glob(f"*.{f}"))
        self.status.setText(f"exported {len(written)} files to {folder}")
        return written

    def _export_failed(self, folder: str, exc: Exception) -> None:
        if isinstance(exc, EcosegError):
            self._fail(napari_remedy(str(exc), "choose another folder (nothing was replaced)"))
        else:  # a read-only folder, a full disk: the user's to fix, no bug
            self._fail(f"cannot export the tables to {folder}: {exc.strerror or exc}")

    def _fail(self, message: str) -> None:
        from napari.utils.notifications import show_error

        self.status.setText(f"error: {message}")
        show_error(f"ecoseg: {message}")


def _unfinished(layer) -> str | None:
    """The warning for the store behind ``layer`` when an interrupted ``ecoseg edit`` left it
    half written (:func:`ecoseg.napari._check.edit_warning`); None otherwise, or when the
    layer has no store (any more)."""
    from ecoseg.napari._check import edit_warning

    path = _meta(layer).get("store")
    if not path:
        return None
    try:
        return edit_warning(path)
    except EcosegError:  # moved or deleted since it was opened: the layer is all there is
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EcosegError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
