"""The controls of the *Segment & track* dock widget (:mod:`ecoseg.napari._segment`): its
form (video, engine and network settings, the objects' id and class, the SAM 3 *Find* box,
the run's buttons), the labels it shows them by, and what the controls do before a run
(choosing a video or a folder of images and its frame rate, the engine's models, the prompt
layers, the time under the widget); the runs are :class:`~ecoseg.napari._segment.SegmentWidget`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ecoseg.errors import EcosegError
from ecoseg.io._common import not_a_folder
from ecoseg.napari._check import napari_words
from ecoseg.napari._find import LABELS as FIND_LABELS
from ecoseg.napari._find import FindBox
from ecoseg.napari._hand_edits import watch
from ecoseg.napari._jobs import ENGINES, engine_choice
from ecoseg.napari._masks_layer import meta as layer_meta
from ecoseg.napari._prompt_layers import (
    BOXES,
    CLICKS,
    add_prompt_layers,
    check_boxes,
    check_engine_uses,
    drawn_prompts,
    next_id,
    set_defaults,
)
from ecoseg.napari._rate import DEFAULT_FPS, folder_rate, is_folder, rate_text, retime

if TYPE_CHECKING:
    import napari

__all__ = ["LABELS", "DeviceBox", "SegmentForm", "more_devices"]

#: The labels of the controls that set ``ecoseg segment`` options, by the option (the *Find*
#: box's too): the widget shows them, and its status line and notifications name the options
#: of library messages by them (:func:`~ecoseg.napari._check.napari_words`: ``image_size
#: (--image-size) must be ...`` says ``input size must be ...``).
LABELS = {
    "--fps": "frame rate",
    "--engine": "engine",
    "--model": "model",
    "--checkpoint": "checkpoint",
    "--random-weights": "random weights (testing only)",
    "--image-size": "input size",
    "--device": "device",
    "--fast": "fast (bf16)",
    "--auto": "discover automatically",
    **FIND_LABELS,
}


class SegmentForm(QWidget):
    """The controls of *Segment & track* and what they do before a run; the *Track*,
    *Re-track* and *Cancel* buttons are :class:`~ecoseg.napari._segment.SegmentWidget`'s to
    connect.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer: napari.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._worker = None  # the run going (SegmentWidget's): Re-track is greyed out meanwhile
        self._classes: dict[int, str] = {}  # the prompted objects' classes, by id

        self.video_combo = QComboBox()
        folder_btn = QPushButton("Folder…")
        folder_btn.setToolTip("Open a folder of numbered images (JPEG, PNG, TIFF) as a video")
        folder_btn.clicked.connect(lambda: self.open_folder())
        video_row = QHBoxLayout()
        video_row.addWidget(self.video_combo, 1)
        video_row.addWidget(folder_btn)
        self.fps_edit = QLineEdit()
        self.fps_edit.setToolTip(
            "Frames per second of a folder of numbered images, frames or photographs (frame i at "
            "i/fps s; e.g. 0.2 for one image every 5 s), as `ecoseg segment --fps`; not for a "
            "video file, timed by its own timestamps, nor a single image, which has no time axis"
        )
        self.fps_edit.editingFinished.connect(self._apply_fps)
        self._fps_of: str | None = None  # the folder whose rate the field shows
        self.engine_combo = QComboBox()
        for engine in ENGINES:
            self.engine_combo.addItem(engine_choice(engine), engine)
        self.model_combo = QComboBox()
        self._models_of = None  # the engine whose models the combo lists
        self.checkpoint_edit = QLineEdit()
        self.checkpoint_edit.setPlaceholderText("weights cache (ecoseg weights download)")
        browse = QPushButton("…")
        browse.setMaximumWidth(30)
        browse.clicked.connect(self._browse_checkpoint)
        ckpt = QHBoxLayout()
        ckpt.addWidget(self.checkpoint_edit)
        ckpt.addWidget(browse)
        self.random_check = QCheckBox(LABELS["--random-weights"])
        self.size_spin = QSpinBox()
        self.size_spin.setRange(0, 2048)
        self.size_spin.setSingleStep(64)
        self.size_spin.setSpecialValueText("model default")
        self.size_spin.setToolTip("Smaller network input (e.g. 512) runs faster on a CPU")
        self.device_combo = DeviceBox()
        self.fast_check = QCheckBox(LABELS["--fast"])
        self.fast_check.setToolTip(
            "SAM 2 and SAM 3: run the network in bf16 (faster on GPUs and on CPUs with bf16 "
            "support; a CPU without it stays fp32); the masks are close to, not bit-identical "
            "with, the exact default's"
        )

        self.object_spin = QSpinBox()
        self.object_spin.setRange(1, 2**31 - 1)
        self.class_edit = QLineEdit("fish")
        self.negative_check = QCheckBox("negative click (not this object)")
        new_obj = QPushButton("New object")
        new_obj.setToolTip("Next free object id")
        new_obj.clicked.connect(self._new_object)
        obj_row = QHBoxLayout()
        obj_row.addWidget(self.object_spin)
        obj_row.addWidget(new_obj)
        self.layers_btn = QPushButton("Add click && box layers")
        self.layers_btn.clicked.connect(self.add_prompt_layers)
        self.auto_check = QCheckBox(LABELS["--auto"])

        self.until_spin = QSpinBox()
        self.until_spin.setRange(-1, 2**31 - 1)
        self.until_spin.setValue(-1)
        self.until_spin.setSpecialValueText("end of video")
        self.until_spin.setToolTip("Last frame to track")
        self.follow_check = QCheckBox("follow (show each new frame)")
        self.run_btn = QPushButton("Track")
        self.retrack_btn = QPushButton("Re-track from this frame")
        self.retrack_btn.setToolTip(
            "Use the masks on the current frame (after your corrections) and any clicks from "
            "this frame on, and track again to the end"
        )
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.time_label = QLabel("")

        engine_box = QGroupBox("Engine")
        form = QFormLayout(engine_box)
        form.addRow("video", video_row)
        form.addRow(LABELS["--fps"], self.fps_edit)
        form.addRow(LABELS["--engine"], self.engine_combo)
        form.addRow(LABELS["--model"], self.model_combo)
        form.addRow(LABELS["--checkpoint"], ckpt)
        form.addRow("", self.random_check)
        form.addRow(LABELS["--image-size"], self.size_spin)
        form.addRow(LABELS["--device"], self.device_combo)
        form.addRow("", self.fast_check)
        prompt_box = QGroupBox("Objects")
        pform = QFormLayout(prompt_box)
        pform.addRow(self.layers_btn)
        pform.addRow("object id", obj_row)
        pform.addRow("class", self.class_edit)
        pform.addRow("", self.negative_check)
        pform.addRow("", self.auto_check)
        run_box = QGroupBox("Run")
        rform = QFormLayout(run_box)
        rform.addRow("track until", self.until_spin)
        rform.addRow("", self.follow_check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        rform.addRow(buttons)
        rform.addRow(self.retrack_btn)
        rform.addRow(self.time_label)
        rform.addRow(self.status)
        self.find = FindBox(self.viewer, self.video_layer)
        layout = QVBoxLayout(self)
        layout.addWidget(engine_box)
        layout.addWidget(prompt_box)
        layout.addWidget(self.find)
        layout.addWidget(run_box)
        layout.addStretch(1)

        self.engine_combo.currentIndexChanged.connect(self._engine_changed)
        self.video_combo.currentIndexChanged.connect(self._video_changed)
        self.object_spin.valueChanged.connect(self._update_defaults)
        self.class_edit.textChanged.connect(self._update_defaults)
        self.negative_check.toggled.connect(self._update_defaults)
        self.viewer.layers.events.inserted.connect(self._refresh_videos)
        self.viewer.layers.events.removed.connect(self._refresh_videos)
        self.viewer.dims.events.current_step.connect(self._show_time)
        self._refresh_videos()
        self._engine_changed()

    # ------------------------------------------------------------------ layers
    def _refresh_videos(self, event=None) -> None:
        import napari

        for layer in self.viewer.layers:  # hand corrections painted from now on are recorded
            if isinstance(layer, napari.layers.Labels):
                watch(layer)
        current = self.video_combo.currentText()
        self.video_combo.blockSignals(True)  # one change below, not one per item
        self.video_combo.clear()
        for layer in self.viewer.layers:
            if layer_meta(layer).get("kind") == "video":
                self.video_combo.addItem(layer.name)
        if current:
            i = self.video_combo.findText(current)
            if i >= 0:
                self.video_combo.setCurrentIndex(i)
        self.video_combo.blockSignals(False)
        self._video_changed()
        self._show_time()

    def video_layer(self):
        """The chosen video layer, or None."""
        name = self.video_combo.currentText()
        return self.viewer.layers[name] if name in self.viewer.layers else None

    def _layer(self, name: str):
        return self.viewer.layers[name] if name in self.viewer.layers else None

    # ------------------------------------------------------------------ image folders
    def open_folder(self, folder: str | None = None):
        """Open a folder of numbered images as a video layer (at :data:`DEFAULT_FPS` until a
        rate is typed in *frame rate*) and choose it; returns the layer (None: not opened)."""
        from napari.layers import Layer

        from ecoseg.napari._layers import video_layer

        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Folder of numbered images")
            if not folder:
                return None
        try:
            data, kwargs, kind = video_layer(folder)
        except EcosegError as exc:
            self._fail(" ".join(str(exc).split()))
            return None
        layer = self.viewer.add_layer(Layer.create(data, kwargs, kind))
        self.video_combo.setCurrentText(layer.name)
        return layer

    def _video_changed(self, *args) -> None:
        """The frame rate field follows the chosen video: a folder's rate, or disabled."""
        video = self.video_layer()
        meta = layer_meta(video) if video is not None else {}
        if not is_folder(meta):
            self._fps_of = None
            self.fps_edit.clear()
            self.fps_edit.setEnabled(False)
            shown = meta.get("video")  # what it is, in the words of `segment --fps` (not_a_folder)
            self.fps_edit.setPlaceholderText(
                f"image folders only: this is {not_a_folder(shown)}"
                if shown
                else "image folders only"
            )
            return
        self.fps_edit.setEnabled(True)
        self.fps_edit.setPlaceholderText(f"{DEFAULT_FPS:g} (images carry no time)")
        if str(meta["video"]) != self._fps_of:  # another folder chosen: show its rate
            self._fps_of = str(meta["video"])
            self.fps_edit.setText(rate_text(float(meta.get("fps") or DEFAULT_FPS)))

    def folder_fps(self) -> float | None:
        """The rate to track the chosen image folder at; None for a video file.

        Raises
        ------
        EcosegError
            The typed rate is not a number above 0 (one line naming the folder).
        """
        video = self.video_layer()
        if video is None or not is_folder(layer_meta(video)):
            return None
        return folder_rate(self.fps_edit.text(), str(layer_meta(video)["video"]))

    def _apply_fps(self) -> float | None:
        """Time the chosen folder's video layer at the typed rate (the time under the widget
        follows); a bad rate is refused in the status line. Returns the rate (None: none)."""
        try:
            fps = self.folder_fps()
        except EcosegError as exc:
            self._fail(str(exc))
            return None
        video = self.video_layer()
        if fps is not None and retime(layer_meta(video), int(video.data.shape[0]), fps):
            self._show_time()
            self.status.setText(f"{video.name}: image folder timed at {rate_text(fps)} fps")
        return fps

    def add_prompt_layers(self) -> tuple[Any, Any]:
        """Create (or return) the clicks Points layer and the boxes Shapes layer
        (:mod:`ecoseg.napari._prompt_layers`)."""
        points, boxes = add_prompt_layers(self.viewer, self.video_layer())
        self._update_defaults()
        self.viewer.layers.selection.active = points
        return points, boxes

    def _update_defaults(self, *args) -> None:
        set_defaults(
            self.viewer,
            int(self.object_spin.value()),
            self.class_edit.text(),
            self.negative_check.isChecked(),
        )

    def _new_object(self) -> None:
        self.object_spin.setValue(next_id(self.viewer, self._classes))

    def _browse_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "SAM 2 checkpoint", "", "Checkpoints (*.pt *.pth *.safetensors)"
        )
        if path:
            self.checkpoint_edit.setText(path)

    def _engine_changed(self, *args) -> None:
        engine = self.engine_combo.currentData()
        sam = engine == "sam2"
        network = engine in ("sam2", "sam3")
        # the motion tracker refuses what the others hold (check_no_network): left to be cleared
        self.model_combo.setEnabled(network)
        if network and engine != self._models_of:
            if engine == "sam3":
                from ecoseg.sam3.config import PRESETS as names
            else:
                from ecoseg.sam2 import VARIANTS as names
            self.model_combo.clear()
            self.model_combo.addItems(list(names))
            self._models_of = engine
        self.size_spin.setSingleStep(56 if engine == "sam3" else 64)  # SAM 3: 14 px patches
        # the Find box stays enabled with another engine: its text is refused then
        # (check_engine_uses), so it must be there to be cleared
        self.retrack_btn.setEnabled(sam and self._worker is None)

    def _show_time(self, event=None) -> None:
        video = self.video_layer()
        if video is None or not self.viewer.dims.ndim:
            self.time_label.setText("")
            return
        times = layer_meta(video).get("time_s")
        t = int(self.viewer.dims.current_step[0])
        if times is not None and 0 <= t < len(times):
            self.time_label.setText(f"frame {t} of {len(times)} · {float(times[t]):.3f} s")

    def _check_boxes(self) -> None:
        check_boxes(self.viewer)

    def _check_engine_uses(self, engine: str) -> None:
        """Refuse clicks, boxes, a *find* text or exemplars that ``engine`` would ignore."""
        held = {
            key: 0 if layer is None else len(layer.data)
            for key, layer in (
                ("clicks", self._layer(CLICKS)),
                ("boxes", self._layer(BOXES)),
                ("exemplars", self.find.exemplar_layer()),
            )
        }
        check_engine_uses(engine, find=self.find.find_edit.text(), **held)

    def prompts(self):
        """The prompts drawn in the clicks and boxes layers (video pixels)."""
        return drawn_prompts(self.viewer)

    def _fail(self, message: str) -> None:
        from napari.utils.notifications import show_error

        message = napari_words(message, LABELS)  # its controls, not the command's options
        self.status.setText(f"error: {message}")
        show_error(f"ecoseg: {message}")


def more_devices() -> list[str]:
    """The devices of this machine that the *device* box lists besides auto, cpu and cuda:
    ``cuda:0`` … ``cuda:N-1`` when torch sees more than one CUDA device (one GPU is
    ``cuda``), and ``mps`` where torch has Apple's GPU; each a name ``--device`` takes
    (:func:`ecoseg._device.check_device_name`) and this machine has
    (:func:`ecoseg._device.unavailable`). Imports torch (about a second, once).

    Examples
    --------
    >>> set(more_devices()) <= {"mps"} | {f"cuda:{i}" for i in range(64)}
    True
    """
    from ecoseg._device import check_device_name, unavailable

    try:
        import torch
    except ImportError:  # no torch: SAM 2 and SAM 3 refuse to run anyway, auto and cpu stay
        return []
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    names = [f"cuda:{i}" for i in range(gpus)] if gpus > 1 else []
    return [check_device_name(n) for n in [*names, "mps"] if unavailable(n) is None]


class DeviceBox(QComboBox):
    """The *device* box: auto, cpu and cuda, and the machine's other devices
    (:func:`more_devices`: each GPU by its index when there are several, Apple's mps), added
    when the box is opened (:meth:`list_devices`), so opening the widget does not import
    torch."""

    def __init__(self) -> None:
        super().__init__()
        self.addItem("auto", None)
        self.addItem("cpu", "cpu")
        self.addItem("cuda", "cuda")
        self.setToolTip(
            "auto: CUDA if available, else Apple MPS, else the CPU; cuda:0, cuda:1, …: one GPU "
            "of several"
        )

    def list_devices(self) -> None:
        """Add the machine's devices not listed yet (:func:`more_devices`); none is taken
        away, so the choice made stays (a device gone since is refused by the run, naming
        it)."""
        for name in more_devices():
            if self.findData(name) < 0:
                self.addItem(name, name)

    def showPopup(self) -> None:  # noqa: N802 - Qt API
        self.list_devices()
        super().showPopup()
