"""The *Review tracks* dock widget: a gallery of a store's tracks and the review edits.

One row per track: a thumbnail at its best-scored frame (the mask outlined on the video), id,
class, where the class came from, its probability, frames present and duration. Sort by any
column; *Least confident first* puts the tracks the species model is least sure of on top.
The thumbnails are cut from the open video layer that shows the video the masks were made on
(:func:`ecoseg.napari._check.matching_video`: by path, or by sha256), whichever layer is first;
with none open they show the masks alone and the status line names the video to open (another
video's pixels under a track would have a reviewer name the wrong species).
Clicking a row jumps the viewer to the track's best frame and shows it alone. Edits go to the
store at once (:class:`ecoseg.species.Review`: chunk-atomic, logged, undoable) and the Labels
layer is reloaded from it: set class (recent classes on buttons with the shortcuts Ctrl+1 ..
Ctrl+9; on several selected tracks all or nothing, as *Reviewed*), merge the two selected
tracks, split the selected track at the current frame, delete, mark reviewed, undo. Hand
corrections painted into the layer and not saved are kept through the reload
(:func:`ecoseg.napari._hand_edits.strokes`): painted back over the store's frames, with a
merge, split or delete applied to the ids painted too.

A store an interrupted ``ecoseg edit`` left half written is listed as it is, with the status
line saying so (:func:`ecoseg.napari._check.edit_warning`); the widget's first edit completes
the unfinished ones (:class:`ecoseg.species.Review` does, before anything else) and the layer
is reloaded whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from qtpy.QtCore import QSize, Qt
from qtpy.QtGui import QIcon, QImage, QKeySequence, QPixmap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ecoseg.errors import EcosegError
from ecoseg.napari._hand_edits import strokes, unsaved, watch
from ecoseg.napari._layers import META_KEY
from ecoseg.napari._undo_groups import UndoGroups

if TYPE_CHECKING:
    import napari

    from ecoseg.species.edits import Edit

__all__ = [
    "BUTTONS",
    "COLUMNS",
    "HISTORY_NOTE",
    "ReviewWidget",
    "button_words",
    "gallery_table",
    "thumbnail",
]

COLUMNS = ("track", "id", "class", "source", "p", "frames", "duration s")
THUMB = 64
_RECENT = 9
#: The viewer's layer events the masks list follows.
_FOLLOWED = frozenset({"inserted", "removed", "moved", "name", "metadata", "data"})
#: The edit buttons' labels by edit kind: the buttons show them, and refusals name edits by them.
BUTTONS = {
    "set_class": "Set class",
    "merge": "Merge",
    "split": "Split here",
    "delete": "Delete",
    "reviewed": "Reviewed",
    "undo": "Undo",
}


def button_words(edit: Edit) -> str:
    """``edit`` named by the button that makes it, on its tracks: the widget's
    :data:`~ecoseg.species.edits.EditWords`, so a refusal names what a napari user can press
    (neither ``ecoseg edit``'s ``--merge 1,2`` nor the Python ``merge(1, 2)`` is a control here).

    Examples
    --------
    >>> from ecoseg.species import Edit
    >>> button_words(Edit("merge", (1, 2))), button_words(Edit("undo"))
    ('Merge on tracks 1 and 2', 'Undo')
    >>> button_words(Edit("set_class", (2,), cls="damselfish"))
    "Set class 'damselfish' on track 2"
    >>> button_words(Edit("split", (1,), frame=0)), button_words(Edit("reviewed", (4,)))
    ('Split here on track 1 at frame 0', 'Reviewed on track 4')
    """
    return _pressed(edit.kind, edit.ids, edit.cls, edit.frame, edit.unchecked)


def _pressed(kind: str, ids, cls=None, frame=None, unchecked: bool = False) -> str:
    """:func:`button_words` of an edit's parts, also of one that is no valid
    :class:`~ecoseg.species.edits.Edit` (a class name with a tab: its refusal names the
    button pressed)."""
    button = BUTTONS[kind]
    if kind == "undo":
        return button
    if kind == "merge":
        return f"{button} on tracks {ids[0]} and {ids[1]}"
    if kind == "set_class":
        return f"{button} {cls!r} on track {ids[0]}"
    if kind == "split":  # the button makes checked splits only; a replayed one says so
        return f"{button} on track {ids[0]} at frame {frame}" + " (an unchecked split)" * unchecked
    return f"{button} on track {ids[0]}"  # delete, reviewed


def gallery_table(store) -> pd.DataFrame:
    """One row per track of a store: best frame, class, source, probability, frames present.

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> t = gallery_table(sample().truth)
    >>> t.columns.tolist()[:4]
    ['object_id', 'class', 'class_source', 'class_probability']
    """
    from ecoseg.measure.regions import regions
    from ecoseg.measure.tracks import track_table

    reg = regions(store)
    if not len(reg):
        return pd.DataFrame(
            columns=[
                "object_id",
                "class",
                "class_source",
                "class_probability",
                "frames_present",
                "duration_s",
                "best_frame",
                "bbox",
            ]
        )
    tracks = track_table(reg).set_index("object_id")
    order = reg.sort_values(["object_id", "score", "area_px"], ascending=[True, False, False])
    best = order.groupby("object_id").head(1).set_index("object_id")
    out = pd.DataFrame(
        {
            "object_id": tracks.index.to_numpy(),
            "class": tracks["class"].to_numpy(),
            "class_source": tracks["class_source"].to_numpy(),
            "class_probability": tracks["class_probability"].to_numpy(),
            "frames_present": tracks["frames_present"].to_numpy(),
            "duration_s": tracks["duration_s"].to_numpy(),
            "best_frame": best.loc[tracks.index, "frame"].to_numpy(),
            "bbox": [
                tuple(int(v) for v in best.loc[i, ["bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1"]])
                for i in tracks.index
            ],
        }
    )
    return out


def thumbnail(image: np.ndarray | None, mask: np.ndarray, bbox, size: int = THUMB) -> np.ndarray:
    """A ``size`` x ``size`` RGB crop around ``bbox`` with the mask's outline drawn in.

    Examples
    --------
    >>> m = np.zeros((20, 20), bool); m[5:10, 5:12] = True
    >>> thumbnail(None, m, (5, 5, 12, 10)).shape
    (64, 64, 3)
    """
    from scipy import ndimage

    h, w = mask.shape
    x0, y0, x1, y1 = bbox
    side = max(x1 - x0, y1 - y0) * 1.4 + 4
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    xs = np.clip((cx - side / 2 + (np.arange(size) + 0.5) * side / size).astype(int), 0, w - 1)
    ys = np.clip((cy - side / 2 + (np.arange(size) + 0.5) * side / size).astype(int), 0, h - 1)
    if image is None:
        crop = np.full((size, size, 3), 60, np.uint8)
    else:
        crop = np.asarray(image)[ys[:, None], xs[None, :], :3].astype(np.uint8).copy()
    m = mask[ys[:, None], xs[None, :]]
    edge = m & ~ndimage.binary_erosion(m)
    crop[edge] = (255, 230, 0)
    return crop


#: What the status line adds after an edit that replaced masks painted over by hand.
HISTORY_NOTE = (
    "napari's undo (Ctrl+Z) in the layer starts again here: it cannot take back strokes "
    "painted before this edit; Undo here takes back the edit"
)


def _changes_masks(entry: dict, undone: dict) -> bool:
    """Whether an edit (its log entry; for an undo, the entry of the edit it took back)
    changed the store's masks, not only its object table."""
    from ecoseg.species.edits import LABEL_KINDS

    return entry.get("kind") in LABEL_KINDS or undone.get("kind") in LABEL_KINDS


def _icon(rgb: np.ndarray) -> QIcon:
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    return QIcon(QPixmap.fromImage(img))


class _Item(QTableWidgetItem):
    """A cell that sorts by its raw value (numbers as numbers, NaN first)."""

    def __init__(self, text: str, value: Any):
        super().__init__(text)
        self.value = value
        self.setFlags(self.flags() & ~Qt.ItemIsEditable)

    def __lt__(self, other):
        a, b = self.value, getattr(other, "value", None)
        if isinstance(a, float) and np.isnan(a):
            return not (isinstance(b, float) and np.isnan(b))
        if isinstance(b, float) and np.isnan(b):
            return False
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)


class ReviewWidget(QWidget):
    """Review the tracks of the mask store behind a Labels layer (see the module docstring)."""

    def __init__(self, napari_viewer: napari.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.table = pd.DataFrame()
        self.recent: list[str] = []
        #: the log entries each press wrote (one Undo takes back one press)
        self.undo_groups = UndoGroups()
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
        self._refresh_layers()

    # ------------------------------------------------------------------ layers and store
    def _layers_changed(self, event) -> None:
        if event.type in _FOLLOWED:
            self._refresh_layers()

    def _refresh_layers(self, event=None) -> None:
        """List the Labels layers that show a mask store, by name, keeping the one chosen
        (renamed: under its new name); the gallery is redrawn when the layer or its store
        changed, or the masks' video was opened or closed (thumbnails from it, or none)."""
        import napari

        chosen = self._chosen if self._chosen in self.viewer.layers else self.layer
        stores = [
            layer
            for layer in self.viewer.layers
            if isinstance(layer, napari.layers.Labels)
            and (layer.metadata.get(META_KEY) or {}).get("store")
        ]
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

    def _videos(self) -> list[tuple[str, str]]:
        """``(name, file)`` of the open video layers whose frames fit the masks, in layer order:
        RGB image layers of a file (ecoseg's reader records it; napari's own readers leave it
        in the layer's source), with the masks' frame size and at least their frame count."""
        import napari

        masks = self.layer
        if masks is None:
            return []
        n, h, w = (int(s) for s in masks.data.shape[-3:])
        out = []
        for layer in self.viewer.layers:
            if not (isinstance(layer, napari.layers.Image) and layer.rgb and layer.ndim == 3):
                continue
            shape = tuple(int(s) for s in layer.data.shape)
            if shape[1:3] != (h, w) or shape[0] < n:
                continue
            meta = layer.metadata.get(META_KEY) or {}
            path = meta.get("video") if meta.get("kind") == "video" else None
            path = path or getattr(getattr(layer, "source", None), "path", None)
            if path:
                out.append((layer.name, str(path)))
        return out

    def video_layer(self):
        """The open video layer that shows the video the masks were made on, or None
        (:func:`ecoseg.napari._check.matching_video`)."""
        from ecoseg.napari._check import matching_video

        layer = self.layer
        if layer is None:
            return None
        name = matching_video(layer.metadata.get(META_KEY) or {}, self._videos())
        return None if name is None else self.viewer.layers[name]

    def _video_frame(self, frame: int) -> np.ndarray | None:
        """A frame of :meth:`video_layer` (None without one): never another video's."""
        video = self._video
        if video is None or video not in self.viewer.layers or frame >= video.data.shape[0]:
            return None
        return np.asarray(video.data[frame])

    def refresh(self) -> None:
        """Re-read the store: gallery rows and thumbnails."""
        from ecoseg.napari._check import edit_warning, video_to_open
        from ecoseg.store import MaskStore

        path = self.store_path
        self._listed = None if path is None else str(path)
        self.gallery.setSortingEnabled(False)
        self.gallery.setRowCount(0)
        self._video = self.video_layer()
        self.video_note = None
        if path is None:
            self.table = pd.DataFrame()
            self.gallery.setSortingEnabled(True)
            self._enable()
            self.status.setText("no mask store open: open one (File > Open) to review its tracks")
            return
        if self._video is None:
            meta = self.layer.metadata.get(META_KEY) or {}
            self.video_note = (
                f"thumbnails show the masks only: {video_to_open(meta, len(self._videos()))}"
            )
        store = MaskStore.open(path)
        self.table = gallery_table(store)
        self.gallery.setRowCount(len(self.table))
        for r, row in enumerate(self.table.itertuples(index=False)):
            labels = store.read_labels(int(row.best_frame), int(row.best_frame) + 1)[0]
            image = self._video_frame(int(row.best_frame))
            item = _Item("", int(row.object_id))
            item.setIcon(_icon(thumbnail(image, labels == row.object_id, row.bbox)))
            item.setData(Qt.UserRole, int(row.object_id))
            self.gallery.setItem(r, 0, item)
            p = float(row.class_probability)
            cells = (
                (str(row.object_id), int(row.object_id)),
                (str(row._1), str(row._1)),
                (str(row.class_source), str(row.class_source)),
                ("" if np.isnan(p) else f"{p:.2f}", p),
                (str(row.frames_present), int(row.frames_present)),
                (f"{row.duration_s:.1f}", float(row.duration_s)),
            )
            for c, (text, value) in enumerate(cells, start=1):
                cell = _Item(text, value)
                cell.setData(Qt.UserRole, int(row.object_id))
                self.gallery.setItem(r, c, cell)
        self.gallery.setSortingEnabled(True)
        self._enable()
        said = f"{len(self.table)} tracks in {Path(str(path)).name}"
        unfinished = edit_warning(store)  # the reader warned once; the gallery says it too
        if unfinished is not None:
            said += f". Warning: {unfinished} (or make any edit here: it completes them first)"
        self.status.setText(self._noted(said))

    def _enable(self) -> None:
        """Grey out what has nothing to act on: every button without a store's tracks listed,
        except *Undo*, which needs only the store (it brings back a store's last track)."""
        rows = bool(len(self.table))
        for kind, button in self.buttons.items():
            button.setEnabled(rows or (kind == "undo" and self.store_path is not None))
        self.least_button.setEnabled(rows)
        self.diverse_button.setEnabled(rows)

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
        (:func:`ecoseg.species.diverse.diverse_order`); the *track* column then sorts by it."""
        from ecoseg.species.diverse import diverse_queue

        path = self.store_path
        if path is None or not len(self.table):
            return
        # the masks' own video layer, else the store's video file (found as the reader does)
        self._video = self.video_layer()
        try:
            queue = diverse_queue(path, self._video_frame if self._video is not None else None)
        except Exception as exc:  # a missing video: say so, keep the gallery
            self._fail(str(exc))
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
        store is as it was, never half the selection named), and reload the layer."""
        from ecoseg.species import apply_edits

        path = self.store_path
        if path is None:
            self._fail("no mask store: open one (File > Open) first")
            return
        chosen = self.selected_ids()  # chosen again after the gallery is redrawn
        if str(path) != self._listed:  # the layer was saved to a new store: list that one
            self._follow(str(path))
        try:
            painted = self._strokes()  # before the edit: the store's frames as they were
            entries = apply_edits(path, edits, words=button_words)  # refusals name buttons
        except EcosegError as exc:
            self._fail(" ".join(str(exc).split()))
            return
        except OSError as exc:  # a read-only share, a full disk: one line, not a traceback
            self._fail(f"{exc.filename or path}: {exc.strerror or exc}")
            return
        self.undo_groups.add(path, entries)  # one Undo takes back this press
        edit = edits[0] if len(edits) == 1 else None  # several: names only, no masks change
        if edit is not None and entries[0].get("new_id"):
            from ecoseg.species.edits import with_new_id

            edit = with_new_id(edit, entries[0]["new_id"])
        said, masks = [], False
        typed = edits if len(edits) == len(entries) else [None] * len(entries)
        for given, entry in zip(typed, entries):
            words, undone = self._said(entry, path, given)
            said.append(words)
            masks = masks or _changes_masks(entry, undone)
        said = "; ".join(said)
        if self._reload_layer(painted, edit, masks=masks):
            said += f". {HISTORY_NOTE}"
        self.refresh()
        left = set(self.table["object_id"]) if len(self.table) else set()
        self.gallery.blockSignals(True)  # as chosen: the viewer stays on its frame
        self.select(*(i for i in chosen if i in left))
        self.gallery.blockSignals(False)
        self.status.setText(self._noted(said))

    def _follow(self, path: str) -> None:
        """The layer was saved to the store at ``path`` (the ecoseg writer points it there):
        the tracks layer of the store it showed follows it too, and the gallery lists it."""
        for layer in self.viewer.layers:
            meta = layer.metadata.get(META_KEY) or {}
            if meta.get("kind") == "tracks" and str(meta.get("store")) == self._listed:
                meta["store"] = path
        self.refresh()

    @staticmethod
    def _said(entry: dict, path, edit: Edit | None = None) -> tuple[str, dict]:
        """The status line's words for one edit's log entry, in the buttons' words
        (:func:`~ecoseg.species._edit_log.done_words`), and (for an undo) the entry of the
        edit it took back (its own ids are empty: the line says which edit that was)."""
        from ecoseg.species._edit_log import done_words

        undone = {}
        if entry["kind"] == "undo":
            from ecoseg.species import edit_log

            undone = {e.get("n"): e for e in edit_log(path)}.get(entry.get("undoes"), {})
        log = {entry.get("undoes"): undone}
        return f"edit {entry['n']}: {done_words(entry, button_words, edit, log)}", undone

    def _strokes(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The layer's hand corrections not saved, by frame (``where, values``: where it
        differs from the store), to paint back after the reload (an empty dict: none)."""
        from ecoseg.store import MaskStore

        layer = self.layer
        frames = unsaved(layer) if isinstance(getattr(layer, "data", None), np.ndarray) else []
        if not frames:
            return {}
        out = {}
        with MaskStore.open(self.store_path) as store:
            for frame in frames:
                if frame < store.n_frames:
                    kept = strokes(layer, frame, store.read_labels(frame, frame + 1)[0])
                    if kept is not None and kept[0].any():
                        out[frame] = kept
        return out

    def _reload_layer(self, painted=None, edit=None, masks: bool = True) -> bool:
        """Replace the layer's masks with the store's, and ``painted`` (:meth:`_strokes`) over
        them: ids a merge, split or delete changes change there too (``edit``). When the
        store's masks changed (``masks``) the layer's undo history starts again (napari's
        Ctrl+Z would replay strokes' old ids, a merged-away track's, over the new masks);
        returns whether it held strokes that Ctrl+Z can no longer take back. The store's
        Tracks layer is redrawn (:func:`~ecoseg.napari._layers.update_tracks`)."""
        from ecoseg.measure.regions import regions
        from ecoseg.napari._hand_edits import restart_history
        from ecoseg.napari._layers import layer_labels, object_features, update_tracks
        from ecoseg.species.edits import relabel
        from ecoseg.store import MaskStore, open_masks

        layer, store = self.layer, MaskStore.open(self.store_path)
        labels = layer_labels(open_masks(store))  # a large store stays lazy, as it opened
        for frame, (where, values) in (painted or {}).items():
            if isinstance(labels, np.ndarray) and frame < len(labels):
                if edit is not None:  # the strokes' ids as the store's: merged, split, deleted
                    values = relabel(values[None], edit, frame)[0]
                labels[frame][where] = values
        layer.data = labels
        layer.features = object_features(store.objects)
        meta = dict(layer.metadata)
        meta[META_KEY] = dict(meta.get(META_KEY) or {}, objects=store.objects)
        layer.metadata = meta
        layer.show_selected_label = False
        # the store's trajectories follow (a merged-away track's points stayed on its old id)
        for empty in update_tracks(self.viewer.layers, self.store_path, regions(store)):
            self.viewer.layers.remove(empty)
        if isinstance(labels, np.ndarray):  # read whole: the store is not read from again
            store.close()
        return restart_history(layer) if masks else False

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
            self._fail(self._refusal(exc, "set_class", ids[:1], cls=name))
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
        """Take back the last press of an edit button: all the tracks a *Set class* or
        *Reviewed* on several named (:mod:`ecoseg.napari._undo_groups`)."""
        from ecoseg.species import Edit, edit_log

        path = self.store_path
        n = 1
        if path is not None:
            try:
                n = self.undo_groups.undos(path, edit_log(path))
            except (EcosegError, OSError):
                n = 1  # the edit itself says what is wrong with the store
        self._edit(*[Edit("undo")] * n)

    def _refusal(self, exc: Exception, kind: str, ids, **parts) -> str:
        """The one line refusing an edit the widget could not even make (:class:`Edit`
        refused its parts): named by its button and the store, as a store's refusal is."""
        reason = " ".join(str(exc).split())
        for said in (f"{kind} of track {ids[0]}: " if ids else "", f"{kind}: "):
            if said and reason.startswith(said):  # Edit's own naming of it, in Python words
                reason = reason[len(said) :]
                break
        where = f"{self.store_path}: " if self.store_path else ""
        return f"{where}{_pressed(kind, ids, **parts)}: {reason}; nothing was changed"

    def _fail(self, message: str) -> None:
        self.status.setText(f"error: {message}")
