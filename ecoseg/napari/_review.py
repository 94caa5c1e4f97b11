"""The *Review tracks* dock widget: a gallery of a store's tracks and the review edits.

One row per track: a thumbnail at its best-scored frame (the mask outlined on the video), id,
class, where the class came from, its probability, frames present and duration. Sort by any
column; *Least confident first* puts the tracks the species model is least sure of on top.
The thumbnails are cut from the open video layer that shows the video the masks were made on
(:func:`ecoseg.napari._review_layers.video_layer`: by path, or by sha256), whichever layer
is first; with none open they show the masks alone and the status line names the video to open
(another video's pixels under a track would have a reviewer name the wrong species).
Clicking a row jumps the viewer to the track's best frame and shows it alone. Edits go to the
store at once (:class:`ecoseg.species.Review`: chunk-atomic, logged, undoable) and the Labels
layer is reloaded from it: set class (recent classes on buttons with the shortcuts Ctrl+1 ..
Ctrl+9; on several selected tracks all or nothing, as *Reviewed*), merge the two selected
tracks, split the selected track at the current frame, delete, mark reviewed, undo. Hand
corrections painted into the layer and not saved are kept through the reload
(:func:`ecoseg.napari._hand_edits.strokes`): painted back over the store's frames, with a
merge, split or delete applied to the ids painted too.

An edit (and *Diverse first*, and the gallery's read when a store is listed) runs in a napari
worker thread, one at a time (:func:`ecoseg.napari._review_work.run_edits`: the store's
rewrite, its regions table, the gallery's rows and the layer's masks read back;
:func:`~ecoseg.napari._review_work.gallery_rows`): the status line says what runs, the buttons
are greyed out and the layer's painting tools wait
(:class:`~ecoseg.napari._review_hold.PaintingHold`) until the result is handed to the layers
and the gallery here, on the Qt thread; a refusal comes back as one status line, as before.
The layer an edit was pressed on is reloaded only while it still shows the store; closed or
showing another store by then, it is left as it is and the status line names it
(:func:`~ecoseg.napari._review_words.left_behind`); every other layer that shows the store then
is reloaded too (one opened while the edit ran was read from a store being rewritten), and the
store's tracks layer is redrawn whichever masks layer is open. :meth:`ReviewWidget.wait` waits
for it.

A store an interrupted ``ecoseg edit`` left half written is listed as it is, with the status
line saying so (:func:`ecoseg.napari._check.edit_warning`); the widget's first edit completes
the unfinished ones (:class:`ecoseg.species.Review` does, before anything else) and the layer
is reloaded whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from qtpy.QtCore import QSize, Qt
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from ecoseg.errors import EcosegError
from ecoseg.napari._gallery import COLUMNS, THUMB, SortItem, icon
from ecoseg.napari._hand_edits import watch
from ecoseg.napari._layers import META_KEY
from ecoseg.napari._pool import start as start_worker
from ecoseg.napari._review_hold import PaintingHold
from ecoseg.napari._review_layers import (
    fitting_videos,
    repoint_tracks,
    showing,
    store_layers,
    video_layer,
)
from ecoseg.napari._review_reload import redraw_tracks, reload_layer, snapshot
from ecoseg.napari._review_words import (
    BUTTONS,
    HISTORY_NOTE,
    button_words,
    changes_masks,
    done_line,
    in_buttons,
    left_behind,
    refusal,
    reloaded_too,
)
from ecoseg.napari._review_work import (
    EditDone,
    Failed,
    Gallery,
    caught,
    error_line,
    gallery_rows,
    run_edits,
)
from ecoseg.napari._warned import Kept, kept, show

if TYPE_CHECKING:
    import napari


__all__ = ["ReviewWidget"]

_RECENT = 9
#: The viewer's layer events the masks list follows.
_FOLLOWED = frozenset({"inserted", "removed", "moved", "name", "metadata", "data"})


class ReviewWidget(QWidget):
    """Review the tracks of the mask store behind a Labels layer (see the module docstring)."""

    def __init__(self, napari_viewer: napari.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.table = pd.DataFrame()
        self.recent: list[str] = []
        layout = QVBoxLayout(self)

        row = QHBoxLayout()
        row.addWidget(QLabel("Masks:"))
        self.masks_combo = QComboBox()
        self.masks_combo.currentTextChanged.connect(self._chose)
        row.addWidget(self.masks_combo, 1)
        self.least_button = QPushButton("Least confident first")
        self.least_button.clicked.connect(self.least_confident_first)
        row.addWidget(self.least_button)
        self.diverse_button = QPushButton("Diverse first")
        self.diverse_button.setToolTip(
            "before any model: the most representative track first, then always the most "
            "different one (meet every colour form of a species early)"
        )
        self.diverse_button.clicked.connect(self.diverse_first)
        row.addWidget(self.diverse_button)
        layout.addLayout(row)

        self.gallery = QTableWidget(0, len(COLUMNS))
        self.gallery.setHorizontalHeaderLabels(list(COLUMNS))
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.verticalHeader().setDefaultSectionSize(THUMB + 4)
        self.gallery.verticalHeader().setVisible(False)
        self.gallery.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.gallery.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.gallery.setSortingEnabled(True)
        self.gallery.setColumnWidth(0, THUMB + 8)
        self.gallery.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.gallery, 1)

        row = QHBoxLayout()
        self.class_edit = QLineEdit()
        self.class_edit.setPlaceholderText("species name")
        self.class_edit.returnPressed.connect(lambda: self.set_class(self.class_edit.text()))
        row.addWidget(self.class_edit, 1)
        button = QPushButton(BUTTONS["set_class"])
        button.clicked.connect(lambda: self.set_class(self.class_edit.text()))
        row.addWidget(button)
        #: the edit buttons by edit kind (greyed out while they have nothing to act on)
        self.buttons = {"set_class": button}
        layout.addLayout(row)
        self.recent_row = QHBoxLayout()
        layout.addLayout(self.recent_row)
        self._recent_buttons: list[QPushButton] = []
        for k in range(_RECENT):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{k + 1}"), self)
            shortcut.activated.connect(lambda k=k: self._use_recent(k))

        row = QHBoxLayout()
        for kind, slot in (
            ("merge", self.merge),
            ("split", self.split),
            ("delete", self.delete),
            ("reviewed", self.mark_reviewed),
            ("undo", self.undo),
        ):
            button = QPushButton(BUTTONS[kind])
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons[kind] = button
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        #: the video layer the thumbnails come from (None: masks only; see :meth:`video_layer`)
        self._video = None
        #: what the status line adds while the thumbnails show the masks only
        self.video_note: str | None = None
        #: the store the gallery lists (the layer's may change: saved to a new store)
        self._listed: str | None = None

        #: the Labels layer the gallery lists (followed through a rename)
        self._chosen = None
        # the list follows layers opened, closed and moved, and a layer renamed, given new
        # data, or given (the writer: File > Save) or losing (Track: a new run) its store
        # (a layer's own events reach the list's group, under the layer event's type)
        self.viewer.layers.events.connect(self._layers_changed)
        #: the napari worker of the edit (or *Diverse first*) running, or None
        self._worker = None
        #: the painting tools of the layers of the store an edit rewrites, held while it runs
        self._painting = PaintingHold(self.status.setText)
        #: what runs ("edit": an edit or *Diverse first*; "read": the gallery's rows) and
        #: its status line
        self._kind, self._running_said = "edit", ""
        #: whether the gallery is to be read once the running edit is applied (another
        #: layer or store was listed meanwhile)
        self._pending = False
        #: the status line of the edit applied before that read (said again with its rows)
        self._after: str | None = None
        #: the warnings of the running worker's thread (:func:`~ecoseg.napari._warned.kept`),
        #: shown when it is done, in the buttons' words (:func:`in_buttons`)
        self._warnings: list = []
        self._refresh_layers()

    # ------------------------------------------------------------------ layers and store
    def _layers_changed(self, event) -> None:
        editing = self._painting.path
        if event.type == "inserted" and editing is not None:
            if any(layer is event.value for layer in self._showing(editing)):
                self._painting.add(event.value)  # the store opened again while it is rewritten
        if event.type in _FOLLOWED:
            self._refresh_layers()

    def _showing(self, path) -> list:
        """The Labels layers that show the store at ``path``, the chosen one first."""
        return showing(self.viewer.layers, path, first=self.layer)

    def _refresh_layers(self, event=None) -> None:
        """List the Labels layers that show a mask store, by name, keeping the one chosen
        (renamed: under its new name); the gallery is redrawn when the layer or its store
        changed, or the masks' video was opened or closed (thumbnails from it, or none)."""
        chosen = self._chosen if self._chosen in self.viewer.layers else self.layer
        stores = store_layers(self.viewer.layers)
        for layer in stores:  # hand corrections painted from now on are recorded (and kept)
            watch(layer)
        names = [layer.name for layer in stores]
        if any(layer is chosen for layer in stores):
            current = chosen.name
        else:
            current = self.masks_combo.currentText()
        self.masks_combo.blockSignals(True)
        self.masks_combo.clear()
        self.masks_combo.addItems(names)
        if current in names:
            self.masks_combo.setCurrentText(current)
        self.masks_combo.blockSignals(False)
        self._chosen = self.layer
        path = self.store_path
        if not names or current not in names:
            self.refresh()  # none (left), or another layer: no rows of a store not shown
        elif path is not None and str(path) != self._listed:
            if self._listed is None:
                self.refresh()
            else:  # saved to a new store (the writer points the layer there): list that one
                self._follow(str(path))
        elif self.video_layer() is not self._video:
            self.refresh()  # the masks' video was opened or closed: thumbnails from it, or none

    def _chose(self, *args) -> None:
        self._chosen = self.layer
        self.refresh()

    @property
    def layer(self):
        name = self.masks_combo.currentText()
        return self.viewer.layers[name] if name in self.viewer.layers else None

    @property
    def store_path(self) -> str | None:
        layer = self.layer
        return None if layer is None else (layer.metadata.get(META_KEY) or {}).get("store")

    def video_layer(self):
        """The open video layer that shows the video the masks were made on, or None
        (:func:`ecoseg.napari._review_layers.video_layer`)."""
        layer = self.layer
        return None if layer is None else video_layer(self.viewer.layers, layer)

    def _video_frame(self, frame: int) -> np.ndarray | None:
        """A frame of :meth:`video_layer` (None without one): never another video's."""
        frames = self._frames()
        if frames is None or frame >= frames.shape[0]:
            return None
        return np.asarray(frames[frame])

    def _frames(self):
        """The frames of :meth:`video_layer` as found last (its data), or None: what a worker
        thread cuts thumbnails from (it never looks at the viewer's layers)."""
        video = self._video
        return None if video is None or video not in self.viewer.layers else video.data

    def refresh(self, rows: Gallery | None = None) -> None:
        """List the chosen layer's store: the gallery's rows and thumbnails are read in a
        worker thread (:func:`~ecoseg.napari._review_work.gallery_rows`: a full pass over the
        store's masks) and drawn here when read (:meth:`wait` waits for them); ``rows``: read
        already (in an edit's worker), drawn at once. Meanwhile the gallery is empty and its
        buttons greyed out; while an edit or another read runs, the store is read once it is
        done (a read's rows are then dropped: another layer or store is listed)."""
        from ecoseg.napari._check import video_to_open

        path = self.store_path
        self._listed = None if path is None else str(path)
        self.gallery.setSortingEnabled(False)
        self.gallery.setRowCount(0)
        self.table = pd.DataFrame()
        self.gallery.setSortingEnabled(True)
        self._video = self.video_layer()
        self.video_note = None
        if path is None:
            self._enable()
            self._after = None
            self.status.setText("no mask store open: open one (File > Open) to review its tracks")
            return
        if self._video is None:
            meta = self.layer.metadata.get(META_KEY) or {}
            fitting = len(fitting_videos(self.viewer.layers, self.layer))
            self.video_note = f"thumbnails show the masks only: {video_to_open(meta, fitting)}"
        reading = f"reading the tracks of {Path(str(path)).name}…"
        if rows is not None:
            self._show(rows, path)
        elif self._worker is not None:  # one read (or edit: it rewrites the store) at a time:
            self._pending = True  # read when it is done (a read's rows are dropped then)
            self._enable()
            if self._kind == "read":
                self._running_said = reading
                self.status.setText(reading)
        else:
            self._start(
                gallery_rows,
                (path, None, self._frames()),
                lambda read: None if self._pending else self._show(read, path),
                path,
                reading,
                kind="read",
            )

    def _show(self, rows: Gallery, path) -> None:
        """Draw the gallery's ``rows`` of the store at ``path`` (only while it is listed)."""
        if str(path) != self._listed:
            return
        self.table = rows.table
        self.gallery.setSortingEnabled(False)
        self.gallery.setRowCount(len(self.table))
        for r, (row, thumb) in enumerate(zip(self.table.itertuples(index=False), rows.thumbs)):
            item = SortItem("", int(row.object_id))
            item.setIcon(icon(thumb))
            item.setData(Qt.UserRole, int(row.object_id))
            self.gallery.setItem(r, 0, item)
            p, dur = float(row.class_probability), float(row.duration_s)  # NaN: blank cell
            cells = (
                (str(row.object_id), int(row.object_id)),
                (str(row._1), str(row._1)),
                (str(row.class_source), str(row.class_source)),
                ("" if np.isnan(p) else f"{p:.2f}", p),
                (str(row.frames_present), int(row.frames_present)),
                ("" if np.isnan(dur) else f"{dur:.1f}", dur),  # NaN for a survey's instance
            )
            for c, (text, value) in enumerate(cells, start=1):
                cell = SortItem(text, value)
                cell.setData(Qt.UserRole, int(row.object_id))
                self.gallery.setItem(r, c, cell)
        self.gallery.setSortingEnabled(True)
        self._enable()
        said = f"{len(self.table)} tracks in {Path(str(path)).name}"
        if rows.warning is not None:  # the reader warned once; the gallery says it too
            said += f". Warning: {rows.warning} (or make any edit here: it completes them first)"
        said, self._after = self._then(self._noted(said)), None
        self.status.setText(said)

    def _then(self, said: str) -> str:
        """``said`` after the line of the edit applied before the gallery was read, if any."""
        return said if self._after is None else f"{self._after}. {said}"

    def _enable(self) -> None:
        """Grey out what has nothing to act on: every button without a store's tracks listed,
        except *Undo*, which needs only the store (it brings back a store's last track)."""
        rows = bool(len(self.table)) and self._worker is None  # all greyed out while one runs
        for kind, button in self.buttons.items():
            idle = self._worker is None and self.store_path is not None
            button.setEnabled(rows or (kind == "undo" and idle))
        for button in (self.least_button, self.diverse_button, *self._recent_buttons):
            button.setEnabled(rows)

    def _noted(self, said: str) -> str:
        return said if self.video_note is None else f"{said}. {self.video_note}"

    # ------------------------------------------------------------------ selection
    def selected_ids(self) -> list[int]:
        """Ids of the selected rows, in selection order of the rows (top first)."""
        rows = sorted({i.row() for i in self.gallery.selectedIndexes()})
        return [int(self.gallery.item(r, 0).data(Qt.UserRole)) for r in rows]

    def select(self, *tracks: int) -> None:
        """Select the rows of these tracks (as clicks, with Ctrl for more than one, do)."""
        from qtpy.QtCore import QItemSelectionModel

        model = self.gallery.selectionModel()
        self.gallery.clearSelection()
        flags = QItemSelectionModel.Select | QItemSelectionModel.Rows
        for track in tracks:
            for r in range(self.gallery.rowCount()):
                if int(self.gallery.item(r, 0).data(Qt.UserRole)) == int(track):
                    model.select(self.gallery.model().index(r, 0), flags)

    def least_confident_first(self) -> None:
        """Sort by probability, lowest (and unknown) first."""
        self.gallery.sortItems(COLUMNS.index("p"), Qt.AscendingOrder)

    def diverse_first(self) -> None:
        """Order the unreviewed tracks representative first, then most different
        (:func:`ecoseg.species.diverse.diverse_order`; it reads every track's pixels, so it
        runs in a worker thread, as an edit does); the *track* column then sorts by it."""
        from ecoseg.species.diverse import diverse_queue

        path = self.store_path
        if path is None or not len(self.table) or self._running():
            return
        # the masks' own video layer, else the store's video file (found as the reader does)
        self._video = self.video_layer()
        frames = self._frames()
        frame_of = None if frames is None else (lambda i: np.asarray(frames[i]))
        self._start(
            diverse_queue,
            (path, frame_of),
            lambda queue: self._ordered(queue, path),
            path,
            "diverse first: ordering the tracks…",
            (Exception,),  # a missing video: say so, keep the gallery
        )

    def _ordered(self, queue: pd.DataFrame, path) -> None:
        """Sort the gallery by the queue :meth:`diverse_first` made of the store at ``path``
        (while its rows are listed: another layer's are not sorted by it)."""
        if self._listed != str(path) or not len(self.table):
            self.status.setText(
                f"diverse first: {Path(str(path)).name} is no longer listed; nothing ordered"
            )
            return
        rank = {int(i): r for r, i in enumerate(queue["object_id"])}
        for r in range(self.gallery.rowCount()):
            item = self.gallery.item(r, 0)
            item.value = rank.get(int(item.data(Qt.UserRole)), len(rank))
        self.gallery.sortItems(0, Qt.AscendingOrder)
        self.status.setText(
            self._noted("diverse first: representative, then the most different tracks")
        )

    def _selected(self) -> None:
        ids = self.selected_ids()
        layer = self.layer
        if not ids or layer is None or not len(self.table):
            return
        row = self.table.set_index("object_id").loc[ids[0]]
        step = list(self.viewer.dims.current_step)
        step[0] = int(row["best_frame"])
        self.viewer.dims.current_step = tuple(step)
        layer.selected_label = ids[0]
        layer.show_selected_label = True

    # ------------------------------------------------------------------ edits
    def _edit(self, *edits) -> None:
        """Write ``edits`` to the store, all or nothing (:func:`~ecoseg.species.apply_edits`
        checks every one before it writes any: a refusal names the first bad one and the
        store is as it was, never half the selection named), and reload the layer.

        The store's rewrite and the reading back run in a worker thread
        (:func:`~ecoseg.napari._review_work.run_edits`); the status line says it runs and the
        buttons are greyed out until the result is applied here (:meth:`wait` waits for it).
        """
        path = self.store_path
        if path is None:
            self._fail("no mask store: open one (File > Open) first")
            return
        if self._running():
            return
        chosen = self.selected_ids()  # chosen again after the gallery is redrawn
        layer = self.layer  # the layer reloaded after it (while it still shows the store)
        layers = self._showing(path)  # and any other of the store: their strokes are kept
        if str(path) != self._listed:  # the layer was saved to a new store: that one's rows
            repoint_tracks(self.viewer.layers, self._listed, str(path))  # come with the edit's
            self._listed = str(path)
        self._video = self.video_layer()
        what = BUTTONS.get(edits[0].kind, edits[0].kind) if edits else "edit"
        self._start(
            run_edits,  # refusals name buttons; strokes read before the edit
            (path, tuple(edits), self._frames(), button_words, tuple(map(snapshot, layers))),
            lambda done: self._edited(layer, layers, path, edits, chosen, done),
            path,
            f"{what}: writing {Path(str(path)).name} and reading its tracks back…",
        )

    def _edited(self, layer, before, path, edits, chosen, done: EditDone) -> None:
        """Apply an edit :meth:`_edit` ran: the layers that show the store now, its tracks
        layer and the gallery (what is read is handed over: the cheap part, here on the Qt
        thread). The layer it was pressed on, closed meanwhile or showing another store now
        (saved to a new one, or taken out of it by a run), is left as it is, and the status
        line says so, naming it; a layer of the store opened meanwhile (``before`` are those
        open when it was pressed, their strokes read) is reloaded too."""
        said, masks = [], False
        typed = edits if len(edits) == len(done.entries) else [None] * len(done.entries)
        for given, entry in zip(typed, done.entries):
            words, undone = done_line(entry, path, given)
            said.append(words)
            masks = masks or changes_masks(entry, undone)
        # no entry: a name or mark the tracks had already (not written nor logged again)
        said = "; ".join(said) or (
            f"{Path(str(path)).name}: nothing changed (the tracks are so already; not logged)"
        )
        shown = self._showing(path)
        others = [other.name for other in shown if other is not layer]
        left = left_behind(layer, path, layer in self.viewer.layers, reloaded=bool(others))
        lost = False
        for k, target in enumerate(sorted(shown, key=lambda one: one is layer)):
            strokes = next((s for one, s in zip(before, done.strokes) if one is target), None)
            copy = k < len(shown) - 1  # the last one takes the masks read, the others a copy
            lost = reload_layer(target, done.loaded, strokes, copy, masks=masks) or lost
        redraw_tracks(self.viewer, path, done.reg)  # its trajectories, whichever layer is open
        if left is not None:
            said += f". {left}"
        if others:
            said += f". {reloaded_too(others, path, left is None)}"
        if lost:
            said += f". {HISTORY_NOTE}"
        if self.store_path == str(path):  # its rows, read with the edit (no second read)
            self._pending = False
            self.refresh(rows=done.gallery)
        if self._pending:  # the gallery read next says it after this line
            self._after = said
        if self._listed == str(path) and len(self.table):  # its rows: as chosen
            left_ids = set(self.table["object_id"])
            self.gallery.blockSignals(True)  # the viewer stays on its frame
            self.select(*(i for i in chosen if i in left_ids))
            self.gallery.blockSignals(False)
        self.status.setText(self._noted(said))

    # ------------------------------------------------------------------ the worker
    def _running(self) -> bool:
        """Whether an edit (or *Diverse first*, or the gallery's read) runs; a second is
        refused in the status line (its buttons are greyed out; a script may still call)."""
        if self._worker is None:
            return False
        if self._kind == "read":
            self._fail(f"{self._running_said.rstrip('…')}: wait for it to finish")
        else:
            self._fail("an edit is running: wait for it to finish")
        return True

    def _start(
        self, func, args: tuple, done, path, running: str, catch: tuple = (), kind: str = "edit"
    ) -> None:
        """Run ``func(*args)`` in a napari worker thread (a busy bar in the activity dock),
        ``done(result)`` here on the Qt thread; a refusal (:func:`caught`: ``catch`` too)
        comes back as one status line, saying ``running`` meanwhile (``kind``: ``"read"``,
        the gallery's rows; ``"edit"``, an edit or *Diverse first*). The warnings of its
        thread (a dropped interrupted edit) are kept with its result, never another
        worker's (:mod:`ecoseg.napari._warned`), and shown when it is done, where napari's
        notifications and the Python console see them."""
        from napari.qt.threading import create_worker

        def returned(ran: Kept) -> None:
            self._warnings[:] = [in_buttons(w) for w in ran.warnings]
            result = ran.result
            if isinstance(result, Failed):
                if not (kind == "read" and self._pending):  # not a store listed now
                    self._fail(result.line)
            else:
                done(result)

        worker = create_worker(
            kept,
            caught,
            func,
            args,
            path,
            catch,
            _progress={"desc": f"ecoseg: {running}"},
            _start_thread=False,
            # handled here: without it napari re-raises the error as a traceback besides it
            _connect={
                "returned": returned,
                "errored": lambda exc: self._fail(error_line(exc, path)),
                "finished": self._finished,
            },
        )
        self._worker, self._kind, self._running_said = worker, kind, running
        self._enable()
        self.status.setText(self._then(running))
        if func is run_edits:  # the layers are reloaded after it: no strokes meanwhile
            self._painting.hold(path, self._showing(path), running)
        start_worker(worker)  # with a thread of its own (_pool)

    def _finished(self) -> None:
        self._worker = None
        self._enable()
        self._painting.release(self.viewer.layers)
        shown, self._warnings[:] = list(self._warnings), []
        show(shown)
        if self._pending:  # another layer or store was listed while it ran: read it now
            self._pending = False
            self.refresh()

    def wait(self, timeout: float = 120.0) -> None:
        """Wait for a running edit (or gallery read, and the read it left to follow) to
        finish and be applied (scripts, tests), Qt's events handled meanwhile; returns at
        once when none runs."""
        import time

        from qtpy.QtWidgets import QApplication

        end = time.monotonic() + timeout
        while self._worker is not None:
            if time.monotonic() > end:
                raise TimeoutError(f"the running edit took over {timeout} s")
            QApplication.processEvents()
            time.sleep(0.002)

    def _follow(self, path: str) -> None:
        """The layer was saved to the store at ``path`` (the ecoseg writer points it there):
        the tracks layer of the store it showed follows it too, and the gallery lists it."""
        repoint_tracks(self.viewer.layers, self._listed, path)
        self.refresh()

    def _one(self) -> int | None:
        ids = self.selected_ids()
        if len(ids) != 1:
            self._fail("select one track")
            return None
        return ids[0]

    def set_class(self, name: str) -> None:
        """Name the selected tracks' species (and remember the name for its shortcut)."""
        from ecoseg.species import Edit

        name = str(name).strip()
        ids = self.selected_ids()
        if not name or not ids:
            self._fail("select a track and type a species name")
            return
        try:  # a name with a control character (a pasted tab) is refused here, in one line
            edits = [Edit("set_class", (track,), cls=name) for track in ids]
        except EcosegError as exc:  # in the button's words, as the store's refusals are
            self._fail(refusal(exc, "set_class", ids[:1], self.store_path, cls=name))
            return
        self._edit(*edits)  # all named, or none (the first refusal named)
        if name in self.recent:
            self.recent.remove(name)
        self.recent.insert(0, name)
        del self.recent[_RECENT:]
        self._show_recent()

    def _show_recent(self) -> None:
        for b in self._recent_buttons:
            self.recent_row.removeWidget(b)
            b.deleteLater()
        self._recent_buttons = []
        for k, name in enumerate(self.recent):
            b = QPushButton(f"{name} (Ctrl+{k + 1})")
            b.clicked.connect(lambda _=False, k=k: self._use_recent(k))
            self.recent_row.addWidget(b)
            self._recent_buttons.append(b)
        self._enable()  # greyed out while the edit it follows runs

    def _use_recent(self, k: int) -> None:
        if k < len(self.recent):
            self.set_class(self.recent[k])

    def merge(self) -> None:
        """Merge the two selected tracks into the smaller (older) id."""
        from ecoseg.species import Edit

        ids = self.selected_ids()
        if len(ids) != 2:
            self._fail("select two tracks to merge")
            return
        self._edit(Edit("merge", tuple(sorted(ids))))

    def split(self) -> None:
        """Split the selected track at the viewer's current frame: the part from it on gets a
        new id. The frame must be after the track's first frame and at most its last (the rule
        of :func:`ecoseg.species.edits.check_split`; the status line says so otherwise)."""
        from ecoseg.species import Edit

        track = self._one()
        if track is not None:
            frame = int(self.viewer.dims.current_step[0])
            self._edit(Edit("split", (track,), frame=frame))

    def delete(self) -> None:
        from ecoseg.species import Edit

        track = self._one()
        if track is not None:
            self._edit(Edit("delete", (track,)))

    def mark_reviewed(self) -> None:
        from ecoseg.species import Edit

        ids = self.selected_ids()
        if ids:  # all marked, or none (as Set class)
            self._edit(*(Edit("reviewed", (track,)) for track in ids))

    def undo(self) -> None:
        """Take back the last press of an edit button, or the last ``ecoseg edit`` command: one
        undo takes back a whole command (all the tracks a *Set class* or *Reviewed* on several
        named, :func:`~ecoseg.species.apply_edits`), whoever made it."""
        from ecoseg.species import Edit

        self._edit(Edit("undo"))

    def _fail(self, message: str) -> None:
        self.status.setText(f"error: {message}")
