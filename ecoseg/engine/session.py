"""The streaming SAM 2 session: propagate prompted objects through a video, store the results.

:func:`propagate` reproduces what the official SAM 2 video predictor gives for the same prompts
(all prompts added, then one ``propagate_in_video`` from the earliest prompted frame; the
tracker and its semantics: :mod:`ecoseg.engine.tracker`). Propagation runs from the earliest
prompted frame to the end (``reverse=True``: back to frame 0; nothing when that frame is 0), so
frames before it are not reported going forward (:mod:`ecoseg.engine.storing` tracks them
backwards and feeds :func:`ecoseg.segment`'s store writer).

Streaming (bounded memory)
--------------------------
:class:`StreamingSession` drives the tracker: frames are decoded and preprocessed in a
prefetch thread (``prefetch`` frames ahead), encoded, tracked (objects with the same memory
layout in one batch), resized to the video and resolved into labels on the device; on CUDA
the result of frame ``t`` is handed out after frame ``t + 1`` is queued, host copies go
through pinned memory and index tensors are uploaded without blocking, so the hot loop does
not wait for the GPU (helpers: :mod:`ecoseg.engine._runtime`). bf16 autocast is on by default
on CUDA; ``compile=True`` compiles the image encoder and memory attention with
``torch.compile`` (CUDA). Host and device memory hold the tracker's per-object windows plus a
bounded number of :class:`~ecoseg.engine.tracker_state.TrackerState` snapshots.

Interaction (the API discovery and the napari plugin build on)
-------------------------------------------------------------
- ``session.add_prompts(frame, [(object_id, FramePrompt), ...])`` / ``add_object``: a new
  object on any frame, also mid-stream from the ``on_frame(session, frame, tracked)`` hook of
  :meth:`StreamingSession.run` (it joins that frame's result); other objects' outputs are
  unchanged (objects are tracked independently; batching changes them by float rounding only).
- Correction clicks on a frame tracked earlier: the session restores the latest snapshot
  before it, re-tracks up to it (replaying objects added or removed meanwhile), applies the
  clicks, and ``run()`` re-propagates from there -- equal to clicking there in an
  uninterrupted session (tested against the official predictor).
- ``session.remove_object(id)``: ends a track (e.g. a discovered object whose score stayed
  low); ``reverse=True`` tracks backwards; an object predicted absent (object score) stays in
  the results under its id with score < 0.5 and no pixels, and comes back under the same id.
- Resume: :func:`ecoseg.engine.storing.store_results` saves the tracker's state beside the
  store every ``resume_every`` frames (after the frames before it are committed) and where a
  cancelled run stops (:mod:`ecoseg.engine.resume`); ``--resume`` restores it and continues,
  giving exactly the store an uninterrupted run gives (same device and settings); without one
  it replays from the earliest prompt (also exact).

Exports
-------
propagate, StreamingSession
    The entry point and the interactive session under it.
prompted_frames
    The sorted frames that carry a prompt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from ecoseg._prompt_values import check_frame, check_points, click_labels, fit_box
from ecoseg._warn import warn
from ecoseg.engine._runtime import (
    OUTPUTS,
    FrameEncoder,
    PendingResult,
    Prefetcher,
    as_video,
    bf16_autocast,
    fast_bf16,
    fetch,
    frames_in_order,
    is_cancelled,
)
from ecoseg.engine.pooling import mask_pooled
from ecoseg.engine.results import FrameResult
from ecoseg.engine.tracker import VideoTracker
from ecoseg.engine.tracker_state import TrackedFrame, TrackerState
from ecoseg.errors import PromptError
from ecoseg.io.folder import DEFAULT_FPS
from ecoseg.sam2.model import FrameFeatures, SAM2Model

__all__ = ["ForgottenEditsWarning", "StreamingSession", "prompted_frames", "propagate"]


class ForgottenEditsWarning(UserWarning):
    """A correction on an earlier frame forgot objects added, corrected or removed after it."""


def _check_prompts(prompts, width: int, height: int, n: int):
    """``prompts`` checked against the video (boxes cut to the frame, see Prompts.validate);
    a prompt file's path or its JSON as a dict is read first, as ``ecoseg.segment`` reads it."""
    from ecoseg.prompts import Prompts, load_prompts

    if isinstance(prompts, dict):
        prompts = Prompts.from_dict(prompts)
    elif isinstance(prompts, str | os.PathLike):
        prompts = load_prompts(prompts)
    if prompts is None or len(prompts.objects) == 0:
        raise PromptError("propagation needs prompts for at least one object")
    if hasattr(prompts, "validate"):
        return prompts.validate(width, height, n)
    for o in prompts.objects:  # prompts of another type: what reaches the network
        for p in o.prompts:
            check_frame(p.frame, n, f"object {o.id}, frame {p.frame}")
            click_labels(p.labels, f"object {o.id}, frame {p.frame}")
    return prompts


def prompted_frames(prompts) -> list[int]:
    """Sorted indices of the frames that carry a prompt (of any object)."""
    return sorted({p.frame for o in prompts.objects for p in o.prompts})


def _prompts_at(prompts, frame: int) -> list[tuple[int, Any]]:
    return [(o.id, p) for o in prompts.objects for p in o.prompts if p.frame == frame]


def _check_frame_prompts(prompts, frame: int, width: int, height: int, n: int) -> list:
    """``prompts`` checked against the video, boxes past the frame's edge cut to it (with a
    warning, as :meth:`ecoseg.prompts.Prompts.validate` does)."""
    check_frame(frame, n, f"frame {frame}")
    out = []
    for oid, p in prompts:
        check_points(p.points, width, height, f"object {oid}, frame {frame}")
        click_labels(p.labels, f"object {oid}, frame {frame}")  # a FramePrompt's, or another's
        if p.box is not None:
            cut = fit_box(p.box, width, height, f"object {oid}, frame {frame}")
            if cut is not None:
                p = replace(p, box=cut)
        out.append((oid, p))
        mask = getattr(p, "mask", None)
        if mask is not None and np.asarray(mask).shape != (height, width):
            raise PromptError(
                f"object {oid}, frame {frame}: mask is {np.asarray(mask).shape}, "
                f"not {(height, width)}"
            )
    return out


# ---------------------------------------------------------------------------------------
# the streaming session
# ---------------------------------------------------------------------------------------
@dataclass
class _Event:
    after: int | None  # the last tracked frame when it happened (None: before tracking)
    kind: str  # "prompts" or "remove"
    frame: int
    payload: Any


def _warn_forgotten(events: list[_Event], frame: int) -> None:
    """One warning naming what a rewind to ``frame`` forgets (nothing if nothing)."""
    what = []
    for e in events:
        if e.kind == "remove":
            what.append(f"the removal of object {e.payload}")
        else:
            ids = ", ".join(str(oid) for oid, _ in e.payload)
            what.append(f"prompts for object {ids} on frame {e.frame}")
    if what:
        warn(
            f"the correction on frame {frame} forgets what was done after it: "
            f"{'; '.join(what)}; add them again",
            ForgottenEditsWarning,
        )


class StreamingSession:
    """Track objects through a video frame by frame, with objects added, corrected and
    removed at any time; memory stays bounded however long the video.

    Parameters
    ----------
    model : SAM2Model
    video : VideoReader or sequence of ndarray
    reverse : bool
        Tracking direction (fixed for the session; use two sessions for both directions).
    device : str or torch.device, optional
        Move the model there first.
    fill_hole_area : int
        See :func:`fill_holes`.
    autocast : bool, optional
        bfloat16 autocast for the network; default on for CUDA, off elsewhere. ``True`` on the
        CPU uses the CPU's bf16 autocast (slow; it lets the bf16 path be tested without a
        GPU).
    compile : bool or str
        ``torch.compile`` the image encoder and memory attention (CUDA only for ``True``; a
        backend name such as ``"eager"`` compiles on any device).
    prefetch : int
        Frames decoded and preprocessed ahead by the prefetch thread (0: no thread; each
        frame is decoded in the calling thread when it is needed).
    fast : bool
        Trade exactness for speed within the bf16 bar of the oracle tests: bf16 autocast on
        any device (on a CPU with AVX-512 bf16 or AMX about 1.3-1.4x the fp32 speed; see
        docs/performance.md). On a CPU without those instructions, where bf16 runs several
        times slower, it stays fp32 with a :class:`~ecoseg.engine._runtime.SlowBf16Warning`.
        The default (False) is exact fp32 on the CPU. An explicit ``autocast`` wins.
    snapshot_every : int
        Keep a :class:`TrackerState` every this many frames (plus the start), for
        re-propagating from an earlier frame; at most ``max_snapshots`` (the spacing doubles
        when full), so memory stays bounded.
    max_snapshots : int
    on_snapshot : callable, optional
        Called with every periodic snapshot and with the state where a cancelled run stops
        (``segment`` saves them as its resume state).
    embeddings : bool
        Give each result the objects' mask-pooled image embeddings
        (:func:`ecoseg.engine.pooling.mask_pooled`; the store keeps their mean per object).

    Notes
    -----
    :meth:`add_prompts` on a frame the session tracked earlier (not the last one) rewinds:
    it restores the latest snapshot before that frame and re-tracks up to it (replaying the
    prompts and removals made meanwhile), so re-propagating from a correction gives what an
    uninterrupted run with that correction gives. What happened after that frame is
    forgotten and is recomputed by the next :meth:`run`; objects added, corrected or removed
    after it are forgotten too, with a :class:`ForgottenEditsWarning` naming them.

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg import sam2
    >>> from ecoseg.prompts import FramePrompt
    >>> net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
    >>> frames = [np.full((48, 64, 3), 100, np.uint8)] * 4
    >>> s = StreamingSession(net, frames)
    >>> _ = s.add_prompts(0, [(1, FramePrompt(0, np.array([[30.0, 20.0]]), np.array([1])))])
    >>> [r.index for r in s.run(stop=2)]
    [0, 1]
    >>> _ = s.add_prompts(2, [(5, FramePrompt(2, np.array([[10.0, 10.0]]), np.array([1])))])
    >>> [(r.index, r.object_ids.tolist()) for r in s.run()]
    [(2, [1, 5]), (3, [1, 5])]
    """

    def __init__(
        self,
        model: SAM2Model,
        video,
        *,
        reverse: bool = False,
        device: str | torch.device | None = None,
        fill_hole_area: int = 0,
        autocast: bool | None = None,
        compile: bool | str = False,
        prefetch: int = 4,
        fast: bool = False,
        snapshot_every: int = 256,
        max_snapshots: int = 8,
        on_snapshot: Callable[[TrackerState], Any] | None = None,
        embeddings: bool = True,
    ):
        self.video = as_video(video)
        self.num_frames = len(self.video)
        self.width, self.height = int(self.video.width), int(self.video.height)
        if device is not None:
            model = model.to(device)
        model.eval()
        self.model = model
        self.device = model.device
        cuda = self.device.type == "cuda"
        if autocast is None:
            autocast = cuda or fast_bf16(fast, self.device)
        self.autocast = bool(autocast)
        self.tracker = VideoTracker(
            model, self.num_frames, (self.height, self.width), fill_hole_area=fill_hole_area
        )
        encode = None
        if compile:
            if compile is True and not cuda:
                warn("torch.compile is only used on CUDA; running uncompiled", UserWarning)
            else:
                backend = "inductor" if compile is True else str(compile)
                encode = torch.compile(model.encode_image, backend=backend, dynamic=False)
                self.tracker.condition_on_memory = torch.compile(
                    model.condition_on_memory, backend=backend, dynamic=True
                )
        self.encoder = FrameEncoder(model, self.device, encode)
        self.reverse = bool(reverse)
        self.step_dir = -1 if self.reverse else 1
        self.prefetch = int(prefetch)
        self.snapshot_every = int(snapshot_every)
        self.max_snapshots = max(2, int(max_snapshots))
        self.on_snapshot = on_snapshot
        self.embeddings = bool(embeddings)
        self.start: int | None = None
        self.position: int | None = None  # next frame to track
        self._events: list[_Event] = []
        self._snapshots: dict[int, TrackerState] = {}
        self._every = self.snapshot_every

    # -- bookkeeping ------------------------------------------------------------------
    @property
    def object_ids(self) -> list[int]:
        """Ids of the objects tracked now, in output order."""
        return self.tracker.object_ids

    @property
    def last(self) -> int | None:
        """The last frame tracked (``None`` before the first)."""
        if self.position is None or self.position == self.start:
            return None
        return self.position - self.step_dir

    def _tracked_already(self, frame: int) -> bool:
        if self.position is None:
            return False
        lo, hi = sorted((self.start, self.position - self.step_dir))
        return self.position != self.start and lo <= frame <= hi

    def _amp(self):
        return bf16_autocast(self.autocast, self.device)

    def features(self, frame: int) -> FrameFeatures:
        """Image features of ``frame`` (those of the frame just tracked are cached)."""
        feats = self.encoder.cached(frame)
        if feats is None:
            with self._amp():
                feats = self.encoder(frame, self.video.read(frame).image)
        return feats

    # -- interaction ------------------------------------------------------------------
    @torch.inference_mode()
    def add_prompts(self, frame: int, prompts: Sequence[tuple[int, Any]]) -> FrameResult:
        """Add clicks, boxes or masks for objects (new or known) on ``frame``.

        A new object's track starts at ``frame`` (it is reported from there on in the
        tracking direction); objects already tracked are unaffected. On a frame already
        tracked the prompt is a correction; an earlier frame than the last tracked one
        rewinds the session to it first (see the class notes). On a frame not tracked yet it
        becomes a conditioning frame attended to from the frames before it.

        Parameters
        ----------
        frame : int
        prompts : sequence of (object_id, FramePrompt)
            Coordinates in video pixels.

        Returns
        -------
        FrameResult
            The prompted objects' masks on ``frame`` (logits at video resolution).

        Raises
        ------
        PromptError
            A frame or point outside the video, or a prompt without points, box or mask.
        """
        frame = int(frame)
        prompts = [(int(o), p) for o, p in prompts]
        prompts = _check_frame_prompts(prompts, frame, self.width, self.height, self.num_frames)
        if self._tracked_already(frame) and frame != self.last:
            self._seek(frame)
            self._track(frame)
        with self._amp():
            out = self.tracker.add_prompts(frame, prompts, self.features(frame))
        self._log(_Event(self.last, "prompts", frame, prompts))
        time = frame / float(getattr(self.video, "fps", None) or DEFAULT_FPS)
        if hasattr(self.video, "times"):
            time = float(self.video.times[frame])
        return fetch(out, time, (self.height, self.width), "logits").get()

    def add_object(self, object_id: int, frame: int, prompt) -> FrameResult:
        """Start tracking a new object from a prompt on ``frame`` (see :meth:`add_prompts`).

        Raises
        ------
        PromptError
            ``object_id`` is already tracked.
        """
        if int(object_id) in self.tracker.objects:
            raise PromptError(f"object {object_id}: already tracked; use add_prompts to correct")
        return self.add_prompts(frame, [(object_id, prompt)])

    def remove_object(self, object_id: int) -> None:
        """Stop tracking an object from now on (frames already reported keep it)."""
        self.tracker.remove_object(object_id)
        self._log(_Event(self.last, "remove", -1, int(object_id)))

    def _log(self, event: _Event) -> None:
        self._events.append(event)
        if event.after is None:  # before the first frame: the start snapshot lacks it
            self._snapshots.pop(self.start, None)
        else:  # snapshots taken after this point lack the event
            for f in list(self._snapshots):
                if (f - event.after) * self.step_dir > 0 and f != self.start:
                    del self._snapshots[f]

    def _apply(self, event: _Event) -> None:
        if event.kind == "remove":
            self.tracker.remove_object(event.payload)
        else:
            with self._amp():
                self.tracker.add_prompts(event.frame, event.payload, self.features(event.frame))

    # -- snapshots --------------------------------------------------------------------
    def snapshot(self) -> TrackerState:
        """The state before :attr:`position` (shares tensors with the live state)."""
        if self.position is None:
            raise ValueError("the session has not started")
        return self.tracker.snapshot(self.position, self.reverse)

    def restore(self, state: TrackerState) -> None:
        """Continue from a snapshot (e.g. a saved resume state) at ``state.next_frame``."""
        if state.reverse != self.reverse:
            raise ValueError("the snapshot was taken tracking in the other direction")
        self.tracker.restore(state)
        self.start = self.position = int(state.next_frame)
        self._events.clear()
        self._snapshots = {self.start: self.tracker.snapshot(self.start, self.reverse)}
        self._every = self.snapshot_every

    def _maybe_snapshot(self) -> None:
        p = self.position
        offset = abs(p - self.start)
        if offset and (self._every <= 0 or offset % self._every or p in self._snapshots):
            return
        state = self.tracker.snapshot(p, self.reverse)
        self._snapshots[p] = state
        if offset and self.on_snapshot is not None:
            self.on_snapshot(state)
        while len(self._snapshots) > self.max_snapshots:
            self._every *= 2
            for f in list(self._snapshots):
                if abs(f - self.start) % self._every:
                    del self._snapshots[f]

    def _seek(self, target: int) -> None:
        """Make ``target`` the next frame to track (rewinding through a snapshot)."""
        if target == self.position:
            return
        if (target - self.position) * self.step_dir < 0:  # back: restore, then replay
            usable = [f for f in self._snapshots if (target - f) * self.step_dir >= 0]
            f = max(usable, key=lambda f: f * self.step_dir)
            self.tracker.restore(self._snapshots[f])
            self.position = f

            def later(e: _Event) -> bool:  # logged after tracking target or beyond
                return e.after is not None and (target - e.after) * self.step_dir <= 0

            _warn_forgotten([e for e in self._events if later(e)], target)
            self._events = [e for e in self._events if not later(e)]
            for g in list(self._snapshots):
                if (g - target) * self.step_dir > 0:
                    del self._snapshots[g]
        while self.position != target:
            self._track(self.position)

    @torch.inference_mode()
    def _track(self, t: int, pixels: torch.Tensor | None = None) -> TrackedFrame:
        """Track frame ``t`` (the next one) and replay events logged after it."""
        if t != self.position:
            raise ValueError(f"frame {t} is not the next frame to track ({self.position})")
        self._maybe_snapshot()
        feats = None
        if self.tracker.needs_features(t):
            with self._amp():
                if pixels is not None:
                    feats = self.encoder(t, pixels=pixels)
                else:
                    feats = self.features(t)
        with self._amp():
            out = self.tracker.track(t, feats, reverse=self.reverse)
        self.position = t + self.step_dir
        replay = [e for e in self._events if e.after == t]
        for e in replay:
            self._apply(e)
        return self.tracker.collect(t) if replay else out

    @torch.inference_mode()
    def _pooled(self, t: int, tracked: TrackedFrame, pixels) -> torch.Tensor | None:
        """The objects' mask-pooled image embeddings on frame ``t`` (None when not kept).
        The frame's features are the tracker's; a frame where every object is prompted
        (nothing to track) is encoded for them."""
        if not self.embeddings or not tracked.object_ids:
            return None
        feats = self.encoder.cached(t)
        if feats is None:
            with self._amp():
                feats = self.encoder(t, pixels=pixels)
        return mask_pooled(feats.features[0], tracked.mask_logits)

    # -- tracking ---------------------------------------------------------------------
    def run(
        self,
        start: int | None = None,
        stop: int | None = None,
        *,
        output: str = "logits",
        cancel=None,
        progress: Callable[[int, int], Any] | None = None,
        on_frame: Callable[[StreamingSession, Any, TrackedFrame], Any] | None = None,
        pipeline: bool | None = None,
    ) -> Iterator[FrameResult]:
        """Track frame after frame, yielding one result per frame.

        Parameters
        ----------
        start : int, optional
            First frame; default where the session stands (first run: the earliest prompted
            frame). An earlier frame than the session's position rewinds to it.
        stop : int, optional
            Stop before this frame (default: the end, or before frame -1 backwards).
        output : {"logits", "labels"}
            Results with mask logits at video resolution (N, H, W), or with the label image
            resolved on the device (much less to copy on a GPU; ``logits`` is then None).
        cancel : threading.Event or callable, optional
            Checked before every frame; when set the run stops (after handing a snapshot of
            where it stopped to ``on_snapshot``).
        progress : callable, optional
            ``progress(done, total)`` after each frame.
        on_frame : callable, optional
            ``on_frame(session, frame, tracked)`` after a frame is tracked, before its result
            is made: it may :meth:`add_prompts` on that frame (new objects join its result)
            or :meth:`remove_object` (they leave it). ``frame`` has ``index``, ``time`` and
            ``image``; ``tracked`` is the :class:`TrackedFrame` on the device.
        pipeline : bool, optional
            Hand out frame ``t``'s result after frame ``t + 1`` has been queued on the GPU,
            so the host never waits for the device (default: on for CUDA). Change objects
            from ``on_frame`` then; between results the session is one frame ahead.

        Yields
        ------
        FrameResult
        """
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        if self.position is None:
            if not self.tracker.objects:
                raise PromptError("propagation needs prompts for at least one object")
            first = start
            if first is None:
                first = self.tracker.prompted_frames()[0]
            self.start = self.position = int(first)
        elif start is not None:
            self._seek(int(start))
        end = (-1 if self.reverse else self.num_frames) if stop is None else int(stop)
        total = max(0, (end - self.position) * self.step_dir)
        if pipeline is None:
            pipeline = self.device.type == "cuda"
        size = (self.height, self.width)
        worker: Prefetcher | None = None
        expected = None
        pending: PendingResult | None = None
        done = 0

        def decode(first: int):
            for fr in frames_in_order(self.video, first, end, self.reverse):
                yield fr, self.encoder.pixels(fr.image)

        try:
            while (end - self.position) * self.step_dir > 0:
                if is_cancelled(cancel):
                    if self.on_snapshot is not None:
                        self.on_snapshot(self.snapshot())
                    break
                t = self.position
                if worker is None or expected != t:
                    if worker is not None:
                        worker.close()
                    worker = Prefetcher(lambda t=t: decode(t), self.prefetch, "ecoseg-decode")
                frame, pixels = next(worker)
                expected = t + self.step_dir
                tracked = self._track(t, pixels)
                if on_frame is not None:
                    on_frame(self, frame, tracked)
                    tracked = self.tracker.collect(t)
                pooled = self._pooled(t, tracked, pixels)
                result = fetch(tracked, float(frame.time), size, output, pooled)
                if not pipeline:
                    done += 1
                    yield result.get()
                    if progress is not None:
                        progress(done, total)
                    continue
                if pending is not None:
                    done += 1
                    yield pending.get()
                    if progress is not None:
                        progress(done, total)
                pending = result
            if pending is not None:
                done += 1
                last, pending = pending, None
                yield last.get()
                if progress is not None:
                    progress(done, total)
        finally:
            if worker is not None:
                worker.close()


# ---------------------------------------------------------------------------------------
# the public entry point
# ---------------------------------------------------------------------------------------
def propagate(
    model: SAM2Model,
    video,
    prompts,
    *,
    reverse: bool = False,
    device: str | torch.device | None = None,
    progress: Callable[[int, int], Any] | None = None,
    fill_hole_area: int = 0,
    output: str = "logits",
    cancel=None,
    autocast: bool | None = None,
    compile: bool | str = False,
    prefetch: int = 4,
    fast: bool = False,
    resume: TrackerState | None = None,
    snapshot_every: int = 0,
    on_snapshot: Callable[[TrackerState], Any] | None = None,
) -> Iterator[FrameResult]:
    """Segment and track prompted objects through a video.

    Every prompt is added first, then the objects are tracked from the earliest prompted
    frame to the end (or back to frame 0), as the official predictor's
    ``propagate_in_video`` does. Frames are decoded and preprocessed in a background thread.

    Parameters
    ----------
    model : SAM2Model
        The network (e.g. from :func:`ecoseg.sam2.build`); put in eval mode.
    video : str, Path, VideoReader or sequence of ndarray
        A video file or image folder (opened with :func:`ecoseg.open_video`, closed when the
        results end), an open reader, or (H, W, 3) uint8 RGB frames.
    prompts : Prompts, dict or path
        Clicks, boxes and masks per object and frame, in video pixels (a prompt file, or its
        JSON as a dict, as :func:`ecoseg.segment` takes them).
    reverse : bool
        Track backwards from the earliest prompted frame to frame 0.
    device : str or torch.device, optional
        Run on this device (the model is moved there); default the model's device.
    progress : callable, optional
        Called as ``progress(done, total)`` after each frame.
    fill_hole_area : int
        Fill background holes up to this many low-resolution pixels (0: off, see the module
        docstring).
    output : {"logits", "labels"}
        See :meth:`StreamingSession.run`.
    cancel : threading.Event or callable, optional
        Stop (quietly) before the next frame once set.
    autocast : bool, optional
        bfloat16 autocast (default: on CUDA only; see :class:`StreamingSession`).
    fast : bool
        bf16 on any device (see :class:`StreamingSession`); off: exact fp32 on the CPU.
    compile : bool or str
        ``torch.compile`` (CUDA; see :class:`StreamingSession`).
    prefetch : int
        Frames decoded ahead (0: decoded in the calling thread, no prefetch thread).
    resume : TrackerState, optional
        Continue from a snapshot (``prompts`` are then only checked, not re-applied).
    snapshot_every : int
        Hand a snapshot to ``on_snapshot`` every this many frames (0: never) and where a
        cancelled run stops.
    on_snapshot : callable, optional

    Yields
    ------
    FrameResult
        One per frame from the earliest prompted frame on, in processing order, with
        ``object_ids`` in prompt order, ``scores`` (N,) float32 and ``logits`` (N, H, W)
        float32 at video resolution (or ``labels`` (H, W) uint32 with ``output="labels"``).

    Raises
    ------
    PromptError
        No prompts, or a prompt outside the video.

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg import sam2
    >>> from ecoseg.prompts import Prompts
    >>> net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
    >>> frames = [np.full((48, 64, 3), 100, np.uint8)] * 3
    >>> results = list(propagate(net, frames, Prompts.single(0, points=[[30, 20]])))
    >>> [r.index for r in results], results[0].logits.shape
    ([0, 1, 2], (1, 48, 64))
    """
    given, video = video, as_video(video)
    try:
        n = len(video)
        width, height = int(video.width), int(video.height)
        prompts = _check_prompts(prompts, width, height, n)
        session = StreamingSession(
            model,
            video,
            reverse=reverse,
            device=device,
            fill_hole_area=fill_hole_area,
            autocast=autocast,
            compile=compile,
            prefetch=prefetch,
            fast=fast,
            snapshot_every=snapshot_every,
            max_snapshots=2,
            on_snapshot=on_snapshot,
        )
        if resume is not None:
            session.restore(resume)
        else:
            for o in prompts.objects:
                session.tracker.add_object(o.id)
            frames = prompted_frames(prompts)
            # latest first, so the features of the first frame to track are the ones kept
            with torch.inference_mode(), session._amp():
                for f in reversed(frames):
                    image = video.read(f).image
                    features = session.encoder(f, image)
                    session.tracker.add_prompts(f, _prompts_at(prompts, f), features)
            if reverse and frames[0] == 0:
                return  # nothing before the first prompted frame (as officially)
        yield from session.run(output=output, cancel=cancel, progress=progress)
    finally:
        if isinstance(given, str | os.PathLike):  # the reader opened here for its path
            video.close()
