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
(``segment --fps``; :mod:`ecoseg.napari._rate`), greyed out for a video file or one image.

With the SAM 3 engine nobody clicks: type what to find ("parrotfish, sea urchin") in the
*Find (SAM 3)* box, optionally draw exemplar boxes (:mod:`ecoseg.napari._find`), press *Track*:
every instance is tracked, each with its concept as class, streaming into the same Labels layer.

The controls, and what they do before a run, are
:class:`~ecoseg.napari._segment_form.SegmentForm`'s; this module runs the jobs
(:mod:`ecoseg.napari._jobs`) and paints their frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ecoseg.engine import check_device, check_fast
from ecoseg.errors import EcosegError
from ecoseg.napari._check import napari_words
from ecoseg.napari._from_layers import correction_prompts
from ecoseg.napari._hand_edits import HandEdits, forget, run_frame
from ecoseg.napari._jobs import (
    ENGINE_NAMES,
    FrameUpdate,
    Job,
    check_job,
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
from ecoseg.napari._rate import rate_text
from ecoseg.napari._segment_form import LABELS, SegmentForm

if TYPE_CHECKING:
    import napari

__all__ = ["LABELS", "SegmentWidget"]


class SegmentWidget(SegmentForm):
    """Click or box animals, then segment and track them through the video.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer: napari.Viewer):
        super().__init__(napari_viewer)  # the controls (_segment_form)
        self._job: Job | None = None
        self._running_into = None  # the Labels layer the running job paints into
        self._kept: list[int] = []  # frames the last run wrote under strokes painted ahead
        self._closed: str | None = None  # its name, when it was closed while the job ran
        #: asks before Track or Re-track discards hand corrections not saved (_hand_edits)
        self.hand_edits = HandEdits()
        self.frames_done = 0
        #: :class:`~ecoseg.engine.discovery.DiscoveryParams` fields for "discover automatically"
        self.discovery_params: dict[str, Any] = {}
        #: :class:`~ecoseg.engine.concept_rules.ConceptSettings` fields for the SAM 3 engine
        self.concept_params: dict[str, Any] = {}
        self.run_btn.clicked.connect(self.run)
        self.retrack_btn.clicked.connect(self.retrack)
        self.cancel_btn.clicked.connect(self.cancel)
        self.viewer.layers.events.removed.connect(self._layer_closed)

    # ------------------------------------------------------------------ the masks layer
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
    def _make_job(self, engine: str | None = None, **kwargs) -> Job:
        """The job of the widget's settings (``engine``: another than chosen), checked
        (:func:`~ecoseg.napari._jobs.check_job`): run it with ``checked=True``."""
        video = self.video_layer()
        if video is None:
            raise EcosegError("open a video first (File > Open, or File > Open Sample > ecoseg)")
        until = int(self.until_spin.value())
        size = int(self.size_spin.value())
        job = Job(
            video=str(layer_meta(video)["video"]),
            engine=engine or str(self.engine_combo.currentData()),
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
            job = self._make_job("sam2", prompts=prompts, start=frame)  # checked as it runs
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
            checked=True,  # by check_job, as _make_job made it
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
        """Stop the run before its next frame; masks made so far stay. The job's cancel is the
        one way: SAM 2 and SAM 3 stop through their engines' cancel and hand out the frame
        being made (painted, as ``segment`` keeps it), the motion tracker by
        :func:`~ecoseg.napari._jobs.run_job`'s loop. The worker is not told to quit: it would
        leave the frames the engine hands out after the cancel unpainted."""
        if self._job is not None:
            self._job.cancel.set()
        if self._worker is not None:
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
