"""The *Segment & track* dock widget.

Workflow: pick the video layer, press *Add click & box layers*, click on an animal (positive
click; tick *negative click* for background) or draw a box around it, set its object id and
class, press *Track*. Masks are painted into the ``ecoseg masks`` Labels layer frame by frame
while the engine runs in a worker thread (napari's progress bar in the activity dock; *Cancel*
stops it before the next frame). Add another object on any frame (new id, click, *Track*), or
paint a correction on a frame and press *Re-track from this frame*. The masks layer belongs to
the video it was tracked on: *Track* on another video makes a new one, *Re-track* on another
video is refused (:func:`ecoseg.napari._check.other_video`), so two videos never mix in it.
Hand corrections not saved are never cleared unasked: *Track*, or *Re-track* over later frames,
is refused once naming them (:mod:`ecoseg.napari._hand_edits`); a second press discards them.
Strokes painted while a run goes, on a frame it has not reached, stay over its masks there
(napari's undo in the layer starts again then: :func:`ecoseg.napari._hand_edits.run_frame`).
*Folder…* opens a folder of numbered images as a video; its *frame rate* field times it
(``segment --fps``; :mod:`ecoseg.napari._rate`), greyed out for a video file.

With the SAM 3 engine nobody clicks: type what to find ("parrotfish, sea urchin") in the
*Find (SAM 3)* box, optionally draw exemplar boxes (:mod:`ecoseg.napari._find`), press *Track*:
every instance is tracked, each with its concept as class, streaming into the same Labels layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
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

from ecoseg.engine import check_device, check_fast
from ecoseg.errors import EcosegError
from ecoseg.napari._check import napari_words
from ecoseg.napari._find import LABELS as FIND_LABELS
from ecoseg.napari._find import FindBox
from ecoseg.napari._hand_edits import HandEdits, forget, run_frame, watch
from ecoseg.napari._jobs import (
    ENGINE_NAMES,
    ENGINES,
    FrameUpdate,
    Job,
    check_job,
    correction_prompts,
    engine_choice,
    run_job,
    survey,
)
from ecoseg.napari._layers import META_KEY
from ecoseg.napari._masks_layer import (
    MASKS,
    new_masks_layer,
    object_classes,
    set_objects,
    timed,
)
from ecoseg.napari._masks_layer import meta as layer_meta
from ecoseg.napari._pool import start as start_worker
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

__all__ = ["LABELS", "SegmentWidget"]

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


class SegmentWidget(QWidget):
    """Click or box animals, then segment and track them through the video.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer: napari.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._worker = None
        self._job: Job | None = None
        self._running_into = None  # the Labels layer the running job paints into
        self._kept: list[int] = []  # frames the last run wrote under strokes painted ahead
        self._closed: str | None = None  # its name, when it was closed while the job ran
        self._classes: dict[int, str] = {}
        #: asks before Track or Re-track discards hand corrections not saved (_hand_edits)
        self.hand_edits = HandEdits()
        self.frames_done = 0
        #: :class:`~ecoseg.engine.discovery.DiscoveryParams` fields for "discover automatically"
        self.discovery_params: dict[str, Any] = {}
        #: :class:`~ecoseg.engine.concept_rules.ConceptSettings` fields for the SAM 3 engine
        self.concept_params: dict[str, Any] = {}

        self.video_combo = QComboBox()
        folder_btn = QPushButton("Folder…")
        folder_btn.setToolTip("Open a folder of numbered images (JPEG, PNG, TIFF) as a video")
        folder_btn.clicked.connect(lambda: self.open_folder())
        video_row = QHBoxLayout()
        video_row.addWidget(self.video_combo, 1)
        video_row.addWidget(folder_btn)
        self.fps_edit = QLineEdit()
        self.fps_edit.setToolTip(
            "Frames per second of a folder of images (frame i at i/fps s; e.g. 0.2 for one "
            "image every 5 s), as `ecoseg segment --fps`; a video file is timed by its own "
            "timestamps"
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
        self.device_combo = QComboBox()
        self.device_combo.addItem("auto", None)
        self.device_combo.addItem("cpu", "cpu")
        self.device_combo.addItem("cuda", "cuda")
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
        self.run_btn.clicked.connect(self.run)
        self.retrack_btn = QPushButton("Re-track from this frame")
        self.retrack_btn.setToolTip(
            "Use the masks on the current frame (after your corrections) and any clicks from "
            "this frame on, and track again to the end"
        )
        self.retrack_btn.clicked.connect(self.retrack)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancel)
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
        self.viewer.layers.events.removed.connect(self._layer_closed)
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
            self.fps_edit.setPlaceholderText(
                "image folders only (a video file is timed by its own timestamps)"
                if video is not None
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

    def masks_layer(self, create: bool = True):
        """The ``ecoseg masks`` Labels layer of the chosen video (made when missing).

        Parameters
        ----------
        create : bool
            *Track*: make the layer (its masks start afresh), replacing one of another size
            or made on another video. Otherwise (*Re-track*): None when there is none.

        Raises
        ------
        EcosegError
            No video is open; or, without ``create``, the layer holds the masks of another
            video (:func:`~ecoseg.napari._check.other_video`): as prompts on this one they
            would mix two videos' footage in one layer.
        """
        from ecoseg.napari._check import other_video

        video = self.video_layer()
        if video is None:
            raise EcosegError("open a video first (File > Open, or File > Open Sample > ecoseg)")
        n, h, w = (int(s) for s in video.data.shape[:3])
        layer = self._layer(MASKS)
        other = (
            None
            if layer is None
            else other_video(layer_meta(layer), layer_meta(video)["video"], MASKS)
        )
        if layer is not None and other is None and tuple(layer.data.shape) == (n, h, w):
            return layer
        if not create:
            if other is not None:
                raise EcosegError(other)
            return None
        if layer is not None:
            self.viewer.layers.remove(layer)
        return new_masks_layer(self.viewer, video)

    # ------------------------------------------------------------------ running
    def _make_job(self, **kwargs) -> Job:
        video = self.video_layer()
        if video is None:
            raise EcosegError("open a video first (File > Open, or File > Open Sample > ecoseg)")
        until = int(self.until_spin.value())
        size = int(self.size_spin.value())
        job = Job(
            video=str(layer_meta(video)["video"]),
            engine=str(self.engine_combo.currentData()),
            model=self.model_combo.currentText(),
            checkpoint=self.checkpoint_edit.text().strip() or None,
            pretrained=not self.random_check.isChecked(),
            image_size=size or None,
            device=self.device_combo.currentData(),
            fast=self.fast_check.isChecked(),
            stop=None if until < 0 else until + 1,
            fps=self.folder_fps(),
            **kwargs,
        )
        if survey(job):  # photographs: no time axis, the folder's rate times nothing
            job.fps = None
        check_job(job, int(video.data.shape[0]))  # refused before Track clears the layer
        return job

    def _timed(self, job: Job, layer) -> None:
        """An image folder: the video layer and the masks layer at the job's rate, and the
        masks' recorded video says so (as ``segment --fps`` records it)."""
        video = self.video_layer()
        if job.fps is None or video is None:
            return
        timed(layer, video, job.fps)
        self._show_time()

    def run(self) -> None:
        """Track every object from its prompts (or all moving animals: motion tracker)."""
        try:
            self._idle()
            engine = self.engine_combo.currentData()
            auto = self.auto_check.isChecked()
            if auto and engine != "sam2":
                raise EcosegError("discover automatically needs the SAM 2 engine")
            check_fast(self.fast_check.isChecked(), engine)
            remedy = f'set "{LABELS["--device"]}" to auto or cpu'  # (the flag named: _fail)
            check_device(self.device_combo.currentData(), engine, remedy=remedy)
            self._check_engine_uses(engine)
            prompts = None
            if engine == "sam2":
                self._check_boxes()  # a drawn ellipse is refused, with or without discovery
                try:
                    prompts = self.prompts()
                except EcosegError:
                    if not auto:
                        raise
            if engine == "sam3":
                job = self._make_job(
                    concepts=self.find.concepts(self.model_combo.currentText()),
                    detect_every=int(self.find.detect_spin.value()),
                    params=dict(self.concept_params),
                    as_video=self.find.as_video_check.isChecked(),
                )
            elif auto:
                job = self._make_job(prompts=prompts, auto=True, params=dict(self.discovery_params))
            else:
                job = self._make_job(prompts=prompts)
            self.hand_edits.check(self._layer(MASKS), MASKS, "Track")  # asks first
            layer = self.masks_layer()
        except EcosegError as exc:
            self._fail(str(exc))
            return
        if prompts is not None:
            self._classes.update(prompts.classes())
        self._timed(job, layer)
        if survey(job):
            _surveyed(job, layer)
        layer.data[:] = 0
        forget(layer)
        meta = layer.metadata.setdefault(META_KEY, {})
        meta["tracked"] = None  # a new run: only what it tracks was looked at
        meta.pop("store", None)  # the layer saved to (writer): its masks are the run's now
        provenance = dict(meta.get("provenance") or {})
        provenance.pop("annotated_frames", None)  # of a store opened into this layer
        meta["provenance"] = provenance
        self._set_objects(layer, {} if prompts is None else prompts.classes(), reset=True)
        layer.events.metadata(value=layer.metadata)  # no store now: Review lists it no more
        layer.refresh()
        self._start(job, layer)

    def retrack(self) -> None:
        """Track again from the current frame, starting from its (corrected) masks."""
        try:
            self._idle()
            layer = self.masks_layer(create=False)
            if layer is None:
                raise EcosegError("nothing to re-track yet: press Track first")
            frame = int(self.viewer.dims.current_step[0])
            self._check_boxes()  # a drawn ellipse is refused, not left out
            try:
                drawn = self.prompts()
            except EcosegError:
                drawn = None
            classes = self._object_classes(layer)
            prompts = correction_prompts(np.asarray(layer.data[frame]), frame, drawn, classes)
            job = self._make_job(prompts=prompts, start=frame)
            job.engine = "sam2"
            stop = len(layer.data) if job.stop is None else job.stop
            # this frame's corrections are the prompts; the later ones would be tracked again
            self.hand_edits.check(layer, MASKS, "Re-track from this frame", frame + 1, stop)
        except EcosegError as exc:
            self._fail(str(exc))
            return
        self._classes.update(prompts.classes())
        self._set_objects(layer, prompts.classes())
        self._timed(job, layer)
        layer.data[frame:stop] = 0
        forget(layer, frame, stop)
        layer_meta(layer).pop("store", None)  # no longer the store it was saved to (Review's)
        layer.events.metadata(value=layer.metadata)  # Review lists it no more
        layer.refresh()
        self._start(job, layer)

    def _idle(self) -> None:
        """Refuse a second run while one goes (it would clear and paint the layer the first
        one paints into); the *Track* button is greyed out then, a script may still call."""
        if self._worker is not None:
            raise EcosegError("a run is going: wait for it or press Cancel before starting another")

    def _start(self, job: Job, layer) -> None:
        from napari.qt.threading import create_worker

        total = job.total(int(layer.data.shape[0]))
        self._job = job
        self.frames_done = 0
        self._kept = []  # frames it wrote under strokes painted while it went
        worker = create_worker(
            run_job,
            job,
            _progress={"total": total, "desc": "ecoseg: tracking"},
            _start_thread=False,
            # handled here: without it napari re-raises the error as a traceback besides it
            _connect={"errored": lambda exc: self._fail(_reason(exc))},
        )
        worker.yielded.connect(lambda update: self._on_frame(layer, update))
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._running_into = layer
        self._closed = None
        self._busy(True)
        engine = ENGINE_NAMES[job.engine]
        rate = "" if job.fps is None else f" (image folder at {rate_text(job.fps)} fps)"
        if job.engine == "sam3":  # which the one rule made it (is_photo_survey)
            from ecoseg.engine.concepts import survey_line

            rate = f" ({survey_line(int(layer.data.shape[0]), survey(job))})"
        self.status.setText(f"tracking with {engine}{rate}…")
        start_worker(worker)  # with a thread of its own (_pool)

    def _layer_closed(self, event) -> None:
        """Closing the layer a run paints into stops the run: its masks have nowhere to go."""
        if self._worker is not None and event.value is self._running_into:
            self._closed = event.value.name
            self.cancel()

    def cancel(self) -> None:
        """Stop the run before its next frame; masks made so far stay."""
        if self._job is not None:
            self._job.cancel.set()
        if self._worker is not None:
            self._worker.quit()
            self.status.setText("cancelling…")

    def _on_frame(self, layer, update: FrameUpdate) -> None:
        if run_frame(layer, update.index, update.labels):  # under strokes painted ahead of it
            self._kept.append(update.index)
        meta = layer.metadata.setdefault(META_KEY, {})
        meta.setdefault("scores", {})[update.index] = dict(zip(update.object_ids, update.scores))
        if "tracked" in meta:  # a layer this widget filled: the frames it has looked at
            first, last = meta["tracked"] or (update.index, update.index)
            meta["tracked"] = [min(first, update.index), max(last, update.index)]
        new = [i for i in update.object_ids if i not in self._object_classes(layer)]
        job = self._job
        for i in new:
            found = (job.objects.get(i) if job is not None else None) or {}
            source = found.get("source") or (
                "tracker" if job is not None and job.engine == "classical" else "prompt"
            )
            cls = found.get("class") or self._classes.get(i, "unknown")
            self._set_objects(layer, {i: cls}, source, records={i: found})
        self.frames_done += 1
        if self.follow_check.isChecked():
            self.viewer.dims.set_current_step(0, update.index)
        if int(self.viewer.dims.current_step[0]) == update.index or self.follow_check.isChecked():
            layer.refresh()
        total = self._job.total(len(layer.data)) if self._job is not None else None
        of = f" ({self.frames_done} of {total} frames)" if total else ""
        self.status.setText(f"frame {update.index}: {len(update.object_ids)} objects{of}")

    def _on_finished(self) -> None:
        cancelled = self._job is not None and self._job.cancel.is_set()
        failed = self.status.text().startswith("error")
        layer = self._layer(MASKS)
        if layer is not None:
            layer.refresh()
        self._worker = None
        self._running_into = None
        self._busy(False)
        if self._closed is not None:
            from napari.utils.notifications import show_warning

            self.status.setText(
                f"stopped: the layer '{self._closed}' was closed while tracking into it; "
                f"the {self.frames_done} frames tracked closed with it"
            )
            show_warning(f"ecoseg: {self.status.text()}")
        elif not failed:
            what = "cancelled" if cancelled else "done"
            into = "" if layer is None else f" into '{layer.name}'"
            self.status.setText(
                f"{what}: {self.frames_done} frames tracked{into}{self._objects_note(layer)}"
                f"{self._kept_note()}"
            )
        notices = list(self._job.notices) if self._job is not None else []
        if notices:
            from napari.utils.notifications import show_warning

            for notice in notices:
                show_warning(f"ecoseg: {napari_words(notice, LABELS)}")
            what = "notice" if len(notices) == 1 else f"{len(notices)} notices"
            self.status.setText(f"{self.status.text()} (warning: see the {what})")

    def _objects_note(self, layer) -> str:
        """How many objects the layer holds now, for the last line (`` (3 objects)``)."""
        n = len(self._object_classes(layer)) if layer is not None else 0
        return f" ({n} object{'s' * (n != 1)})" if n else " (no objects found)"

    def _kept_note(self) -> str:
        """What the last line adds when the run wrote under strokes painted ahead of it."""
        if not self._kept:
            return ""
        return (
            f"; strokes painted on frames {self._kept} while it ran stay over its masks (not "
            "saved); napari's undo (Ctrl+Z) in the layer started again there: it cannot replay "
            "them over the run's masks"
        )

    def _busy(self, busy: bool) -> None:
        self.run_btn.setEnabled(not busy)
        self.retrack_btn.setEnabled(not busy and self.engine_combo.currentData() == "sam2")
        self.cancel_btn.setEnabled(busy)

    def _fail(self, message: str) -> None:
        from napari.utils.notifications import show_error

        message = napari_words(message, LABELS)  # its controls, not the command's options
        self.status.setText(f"error: {message}")
        show_error(f"ecoseg: {message}")

    # ------------------------------------------------------------------ objects
    @staticmethod
    def _object_classes(layer) -> dict[int, str]:
        return object_classes(layer)

    def _set_objects(
        self, layer, classes: dict[int, str], source="prompt", reset=False, records=None
    ) -> None:
        """Record objects' classes in the layer
        (:func:`~ecoseg.napari._masks_layer.set_objects`)."""
        set_objects(layer, classes, source, reset, records)


def _surveyed(job: Job, layer) -> None:
    """The masks layer of a photo survey records one (its photographs, their indices as
    times, no rate), so saving it writes a survey's store, as ``ecoseg segment`` does."""
    from ecoseg.engine.concepts import list_images
    from ecoseg.provenance import survey_video

    record = layer.metadata.setdefault(META_KEY, {})
    names = [p.name for p in list_images(job.video)]
    provenance = dict(record.get("provenance") or {})
    provenance["video"] = survey_video(provenance.get("video") or {"path": job.video}, names)
    record["provenance"] = provenance
    record["time_s"], record["fps"] = [float(i) for i in range(len(names))], None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EcosegError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
