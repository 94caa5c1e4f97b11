"""Propagate prompted objects through a video with the SAM 2 network.

:func:`propagate` reproduces what the official SAM 2 video predictor gives for the same prompts
(all prompts added with ``add_new_points_or_box`` / ``add_new_mask``, then one
``propagate_in_video`` from the earliest prompted frame), while holding only what SAM 2 attends
to. Every object is tracked independently (as the official predictor does), but objects whose
memories have the same layout on a frame are run through the network together.

The state is typed and bounded (:class:`VideoTracker`, :class:`ObjectTrack`,
:class:`FrameOutput`): per object the outputs of its conditioning (prompted) frames, and of the
frames still inside the memory window (``num_maskmem - 1`` frames, with the temporal stride) and
the object-pointer window (``max_obj_ptrs_in_encoder`` frames); older outputs are dropped as the
tracker moves on. Spatial memories are stored in bfloat16, exactly as the official predictor
stores them. Video frames are decoded one at a time (backwards in small chunks for
``reverse=True``) and only the features of the frame at hand are kept.

Semantics (those of the official predictor, ``sam2`` 1.1.0):

- A frame where an object has a prompt is a *conditioning frame* for it: it is segmented from
  the prompt alone (SAM style, no memory; three candidate masks with at most one click, the
  one with the highest predicted IoU is kept) and its memory is attended to from every other
  frame. A prompt with a mask and clicks is the mask followed by the clicks (the mask's logits
  are the clicks' mask input). Several prompts of one object on later frames are further
  conditioning frames.
- Other frames attend to the conditioning frames, the memories of the last ``num_maskmem - 1``
  frames and the object pointers of the last ``max_obj_ptrs_in_encoder - 1`` frames (plus the
  conditioning frames already passed).
- Propagation runs from the earliest prompted frame to the end (``reverse=True``: back to frame
  0; nothing when that frame is 0), so frames before it are not reported going forward;
  :func:`backward_results` hands out a backward pass in frame order (used by
  :func:`ecoseg.segment`).
- Outputs are the low-resolution logits resized bilinearly to the video size; an object
  predicted absent has logits of -1024 everywhere. Scores are ``sigmoid(object score logit)``.
- Hole filling (``fill_hole_area``): the official predictor asks for it (8 px) but skips it
  when its CUDA extension is missing, which is how it is tested here; the default 0 matches
  that. A positive value fills background components of at most that many low-resolution
  pixels (8-connected) with logit 0.1, as the extension does.

Streaming (bounded memory)
--------------------------
:class:`StreamingSession` drives the tracker: frames are decoded and preprocessed in a
background thread (``prefetch`` frames ahead), encoded, tracked (objects with the same memory
layout in one batch), resized to the video and resolved into labels on the device; on CUDA
the result of frame ``t`` is handed out after frame ``t + 1`` is queued, host copies go
through pinned memory and index tensors are uploaded without blocking, so the hot loop does
not wait for the GPU. bf16 autocast is on by default on CUDA; ``compile=True`` compiles the
image encoder and memory attention with ``torch.compile`` (CUDA). Host and device memory hold
the per-object windows above plus a bounded number of :class:`TrackerState` snapshots.

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
- Resume: :func:`store_results` (used by :func:`ecoseg.segment`) saves a snapshot beside the
  store every ``checkpoint_every`` frames (after the frames before it are committed) and where
  a cancelled run stops; ``--resume`` restores it and continues, giving exactly the store an
  uninterrupted run gives (same device and settings); without one it replays from the
  earliest prompt (also exact).

Exports
-------
propagate
    ``propagate(model, video, prompts, *, reverse=False, device=None, progress=None,
    fill_hole_area=0, output="logits", cancel=None, autocast=None, compile=False, prefetch=4,
    resume=None, snapshot_every=0, on_snapshot=None) -> Iterator[FrameResult]``.
StreamingSession
    ``add_prompts``, ``add_object``, ``remove_object``, ``run``, ``features``, ``snapshot``,
    ``restore``, ``position``, ``object_ids``.
VideoTracker, TrackerState, ObjectTrack, FrameOutput, TrackedFrame, MemoryWindow
    The tracker, its typed (snapshottable) state and per-frame output.
store_results, checkpoint_location, save_checkpoint, load_checkpoint, remove_checkpoint
    Resumable, cancellable results for the store writer and their checkpoint file.
backward_results
    The frames before the earliest prompt, tracked backwards, handed out in frame order.
preprocess_frame, fill_holes, label_index, background
    Frame preprocessing (as the official video loader), hole filling, device-side label
    resolution, and a background-thread iterator.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ecoseg.engine._runtime import (
    OUTPUTS,
    FrameEncoder,
    PendingResult,
    Prefetcher,
    as_video,
    bf16_autocast,
    fetch,
    frames_in_order,
    is_cancelled,
    label_index,
    prefetch,
    preprocess_frame,
)
from ecoseg.engine.results import FrameResult
from ecoseg.errors import PromptError
from ecoseg.sam2.model import FrameFeatures, HeadOutput, SAM2Model, upsample_logits

__all__ = [
    "FrameOutput",
    "MemoryWindow",
    "ObjectTrack",
    "StreamingSession",
    "TrackedFrame",
    "TrackerState",
    "VideoTracker",
    "prefetch",
    "backward_results",
    "checkpoint_location",
    "fill_holes",
    "label_index",
    "load_checkpoint",
    "preprocess_frame",
    "propagate",
    "remove_checkpoint",
    "save_checkpoint",
    "store_results",
]

#: Memory features are stored in this dtype (as the official predictor stores them).
MEMORY_DTYPE = torch.bfloat16


# ---------------------------------------------------------------------------------------
# preprocessing and post-processing
# ---------------------------------------------------------------------------------------
def fill_holes(mask_logits: torch.Tensor, max_area: int) -> torch.Tensor:
    """Fill small background holes in mask logits.

    Background components (logit <= 0, 8-connected) of at most ``max_area`` pixels get the
    logit 0.1 (foreground).

    Parameters
    ----------
    mask_logits : Tensor, shape (B, 1, h, w)
    max_area : int

    Returns
    -------
    Tensor, shape (B, 1, h, w)

    Examples
    --------
    >>> m = torch.ones(1, 1, 5, 5); m[0, 0, 2, 2] = -1
    >>> round(float(fill_holes(m, 1)[0, 0, 2, 2]), 3)
    0.1
    """
    from scipy import ndimage

    if max_area <= 0:
        return mask_logits
    background = (mask_logits <= 0).cpu().numpy()
    holes = np.zeros_like(background)
    eight = np.ones((3, 3), dtype=bool)
    for b in range(background.shape[0]):
        labels, n = ndimage.label(background[b, 0], structure=eight)
        if n == 0:
            continue
        areas = np.bincount(labels.ravel())
        holes[b, 0] = (labels > 0) & (areas[labels] <= max_area)
    holes_t = torch.from_numpy(holes).to(mask_logits.device)
    return torch.where(holes_t, torch.full_like(mask_logits, 0.1), mask_logits)


# ---------------------------------------------------------------------------------------
# which memories a frame attends to
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemoryWindow:
    """The memory-selection rules of SAM 2 for one video.

    Attributes
    ----------
    num_maskmem : int
        Memory slots: the conditioning frames share slot 0, the previous ``num_maskmem - 1``
        frames take slots ``1..num_maskmem - 1`` (the last frame the highest).
    stride : int
        Temporal stride of the memory frames other than the last one.
    max_ptrs : int
        Object-pointer window, ``min(num_frames, max_obj_ptrs_in_encoder)``.
    num_frames : int
    only_past_ptrs : bool
        Take conditioning-frame pointers only from frames already passed.
    signed_offsets : bool
        Signed (2.1) or absolute (2.0) frame distances of conditioning-frame pointers.
    max_cond_frames : int
        At most this many conditioning frames (the temporally closest) are attended to as
        such (-1: all).
    """

    num_maskmem: int
    stride: int
    max_ptrs: int
    num_frames: int
    only_past_ptrs: bool
    signed_offsets: bool
    max_cond_frames: int = -1

    @classmethod
    def for_model(cls, model: SAM2Model, num_frames: int) -> MemoryWindow:
        v = model.variant
        return cls(
            num_maskmem=v.num_maskmem,
            stride=max(1, v.memory_temporal_stride_for_eval),
            max_ptrs=min(num_frames, v.max_obj_ptrs_in_encoder),
            num_frames=num_frames,
            only_past_ptrs=v.only_obj_ptrs_in_the_past_for_eval,
            signed_offsets=v.use_signed_tpos_enc_to_obj_ptrs,
            max_cond_frames=v.max_cond_frames_in_attn,
        )

    def spatial_frames(self, t: int, reverse: bool) -> list[tuple[int, int]]:
        """``(slot, frame)`` of the non-conditioning memories of frame ``t``, oldest first."""
        r = self.stride
        out = []
        for slot in range(1, self.num_maskmem):
            back = self.num_maskmem - slot  # frames back
            if back == 1:
                f = t + 1 if reverse else t - 1
            elif not reverse:
                f = ((t - 2) // r) * r - (back - 2) * r
            else:
                f = -(-(t + 2) // r) * r + (back - 2) * r
            out.append((slot, f))
        return out

    def pointer_frames(self, t: int, reverse: bool) -> list[tuple[int, int]]:
        """``(distance, frame)`` of the non-conditioning pointers of frame ``t``, nearest first."""
        out = []
        for d in range(1, self.max_ptrs):
            f = t + d if reverse else t - d
            if f < 0 or f >= self.num_frames:
                break
            out.append((d, f))
        return out

    def select_cond(self, t: int, cond_frames: Sequence[int]) -> tuple[list[int], set[int]]:
        """Conditioning frames attended to as such from ``t``, and the others."""
        frames = list(cond_frames)
        if self.max_cond_frames == -1 or len(frames) <= self.max_cond_frames:
            return frames, set()
        chosen: list[int] = []
        before = [f for f in frames if f < t]
        after = [f for f in frames if f >= t]
        if before:
            chosen.append(max(before))
        if after:
            chosen.append(min(after))
        rest = sorted((f for f in frames if f not in chosen), key=lambda f: abs(f - t))
        chosen += rest[: self.max_cond_frames - len(chosen)]
        return chosen, set(frames) - set(chosen)

    def pointer_offset(self, t: int, f: int, reverse: bool) -> int:
        """Encoded distance of a conditioning-frame pointer from frame ``f`` seen at ``t``."""
        if self.signed_offsets:
            return (t - f) * (-1 if reverse else 1)
        return abs(t - f)

    def needed(self, f: int, t: int, reverse: bool) -> tuple[bool, bool]:
        """Whether frame ``f``'s (memory, pointer) can still be attended to from frames
        ``t`` and later in the tracking direction."""
        r = self.stride
        if not reverse:
            if f > t:
                return True, True
            lowest = ((t - 2) // r) * r - (self.num_maskmem - 3) * r
            mem = f >= t - 1 or (f % r == 0 and f >= lowest)
            ptr = f >= t - (self.max_ptrs - 1)
        else:
            if f < t:
                return True, True
            highest = -(-(t + 2) // r) * r + (self.num_maskmem - 3) * r
            mem = f <= t + 1 or (f % r == 0 and f <= highest)
            ptr = f <= t + (self.max_ptrs - 1)
        return mem, ptr


# ---------------------------------------------------------------------------------------
# typed state
# ---------------------------------------------------------------------------------------
@dataclass
class FrameOutput:
    """What is kept of one object's prediction on one frame.

    Attributes
    ----------
    frame : int
    mask_logits : Tensor, shape (1, h, w), optional
        Low-resolution (``image_size / 4``) mask logits; dropped once out of the window.
    obj_ptr : Tensor, shape (C,)
    score : Tensor, shape (1,)
        Object-score logit.
    memory : Tensor of bfloat16, shape (mem_dim, H, W), optional
        Spatial memory; dropped once out of the memory window.
    """

    frame: int
    mask_logits: torch.Tensor | None
    obj_ptr: torch.Tensor
    score: torch.Tensor
    memory: torch.Tensor | None


@dataclass
class ObjectTrack:
    """One object's state.

    Attributes
    ----------
    id : int
    cond : dict of int to FrameOutput
        Conditioning (prompted) frames, all kept.
    recent : dict of int to FrameOutput
        Non-conditioning frames still inside the memory or pointer window.
    spans : list of (first, last, reverse)
        Frames tracked so far (decides whether a new prompt is a correction).
    """

    id: int
    cond: dict[int, FrameOutput] = field(default_factory=dict)
    recent: dict[int, FrameOutput] = field(default_factory=dict)
    spans: list[list[Any]] = field(default_factory=list)

    def mark_tracked(self, t: int, reverse: bool) -> None:
        if self.spans:
            lo, hi, rev = self.spans[-1]
            if rev == reverse and (t == hi + 1 if not reverse else t == lo - 1):
                self.spans[-1] = [min(lo, t), max(hi, t), rev]
                return
        self.spans.append([t, t, reverse])

    def tracked(self, t: int) -> bool | None:
        """``None`` if frame ``t`` was never tracked, else the direction it was tracked in."""
        for lo, hi, rev in reversed(self.spans):
            if lo <= t <= hi:
                return rev
        return None

    def output(self, t: int) -> FrameOutput | None:
        return self.cond.get(t) or self.recent.get(t)


@dataclass(frozen=True)
class TrackedFrame:
    """The prediction for all objects on one frame (low resolution, on the model device).

    Attributes
    ----------
    index : int
    object_ids : list of int
    mask_logits : Tensor, shape (N, 1, h, w)
    scores : Tensor, shape (N, 1)
        Object-score logits.
    """

    index: int
    object_ids: list[int]
    mask_logits: torch.Tensor
    scores: torch.Tensor


@dataclass
class TrackerState:
    """A snapshot of a :class:`VideoTracker`: everything tracking needs from frame
    ``next_frame`` on (the bounded per-object state, nothing else).

    Snapshots make resuming and re-propagating exact: restoring one and tracking on gives the
    outputs an uninterrupted run gives (same device and settings). :meth:`to_bytes` /
    :meth:`from_bytes` serialise it with ``torch.save`` / ``torch.load(weights_only=True)``.

    Attributes
    ----------
    next_frame : int
        The next frame to track.
    reverse : bool
        Tracking direction.
    num_frames : int
        Video length.
    objects : list of ObjectTrack
        In registration (output) order.
    """

    next_frame: int
    reverse: bool
    num_frames: int
    objects: list[ObjectTrack]

    def nbytes(self) -> int:
        """Bytes held by the snapshot's tensors (shared ones counted once)."""
        seen: dict[int, int] = {}
        for tr in self.objects:
            for o in (*tr.cond.values(), *tr.recent.values()):
                for x in (o.mask_logits, o.obj_ptr, o.score, o.memory):
                    if x is not None:
                        seen[id(x)] = x.numel() * x.element_size()
        return sum(seen.values())

    def to_bytes(self) -> bytes:
        """Serialise (tensors moved to the CPU)."""
        import io

        def out(o: FrameOutput) -> dict:
            return {
                k: (None if v is None else v.detach().cpu())
                for k, v in (
                    ("mask_logits", o.mask_logits),
                    ("obj_ptr", o.obj_ptr),
                    ("score", o.score),
                    ("memory", o.memory),
                )
            }

        data = {
            "format": "ecoseg-tracker-state",
            "version": 1,
            "next_frame": self.next_frame,
            "reverse": self.reverse,
            "num_frames": self.num_frames,
            "objects": [
                {
                    "id": tr.id,
                    "cond": {int(f): out(o) for f, o in tr.cond.items()},
                    "recent": {int(f): out(o) for f, o in tr.recent.items()},
                    "spans": [[int(a), int(b), bool(r)] for a, b, r in tr.spans],
                }
                for tr in self.objects
            ],
        }
        buf = io.BytesIO()
        torch.save(data, buf)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrackerState:
        """Read a snapshot written by :meth:`to_bytes` (no pickled code is executed)."""
        import io

        d = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if not isinstance(d, dict) or d.get("format") != "ecoseg-tracker-state":
            raise ValueError("not an ecoseg tracker state")

        def out(f: int, o: dict) -> FrameOutput:
            return FrameOutput(int(f), o["mask_logits"], o["obj_ptr"], o["score"], o["memory"])

        objects = [
            ObjectTrack(
                int(o["id"]),
                {int(f): out(f, v) for f, v in o["cond"].items()},
                {int(f): out(f, v) for f, v in o["recent"].items()},
                [list(s) for s in o["spans"]],
            )
            for o in d["objects"]
        ]
        return cls(int(d["next_frame"]), bool(d["reverse"]), int(d["num_frames"]), objects)


def _small_tensor(values, device: torch.device) -> torch.Tensor:
    """A small int64 tensor on ``device`` without a blocking host-to-device copy on CUDA."""
    x = torch.tensor(values, dtype=torch.int64)
    if device.type == "cuda":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)


class VideoTracker:
    """SAM 2 tracking state for one video, fed one frame at a time.

    Parameters
    ----------
    model : SAM2Model
    num_frames : int
        Video length (the object-pointer encoding depends on it).
    video_size : tuple of int
        ``(height, width)`` of the video (prompt coordinates are in these pixels).
    fill_hole_area : int
        See :func:`fill_holes` (0: off, as the official predictor without its extension).

    Notes
    -----
    Use :meth:`add_prompts` for every prompted frame first (with that frame's features), then
    :meth:`track` frame after frame. A prompt on a frame the object was already tracked on is
    a correction: it is decoded with the object's memories and its previous mask, as the
    official predictor does.
    """

    def __init__(
        self,
        model: SAM2Model,
        num_frames: int,
        video_size: tuple[int, int],
        *,
        fill_hole_area: int = 0,
    ):
        self.model = model
        self.num_frames = int(num_frames)
        self.video_size = (int(video_size[0]), int(video_size[1]))
        self.window = MemoryWindow.for_model(model, self.num_frames)
        self.fill_hole_area = int(fill_hole_area)
        self.objects: dict[int, ObjectTrack] = {}
        #: memory attention (replaced by a compiled version when compiling)
        self.condition_on_memory = model.condition_on_memory

    # -- prompts ----------------------------------------------------------------------
    @property
    def object_ids(self) -> list[int]:
        return list(self.objects)

    def add_object(self, object_id: int) -> ObjectTrack:
        """Register an object (outputs list objects in registration order)."""
        return self.objects.setdefault(int(object_id), ObjectTrack(int(object_id)))

    def remove_object(self, object_id: int) -> None:
        """Forget an object and all its memories (other objects are not affected)."""
        if int(object_id) not in self.objects:
            raise PromptError(f"object {object_id}: no such object to remove")
        del self.objects[int(object_id)]

    def prompted_frames(self) -> list[int]:
        return sorted({f for o in self.objects.values() for f in o.cond})

    def collect(self, t: int) -> TrackedFrame:
        """The stored predictions of every object that has one on frame ``t``."""
        outs = [(tr.id, tr.output(t)) for tr in self.objects.values()]
        outs = [(i, o) for i, o in outs if o is not None and o.mask_logits is not None]
        if not outs:
            s = self.model.low_res_size
            device = self.model.device
            return TrackedFrame(
                t, [], torch.zeros(0, 1, s, s, device=device), torch.zeros(0, 1, device=device)
            )
        return TrackedFrame(
            t,
            [i for i, _ in outs],
            torch.stack([o.mask_logits for _, o in outs]),
            torch.stack([o.score for _, o in outs]),
        )

    # -- state snapshots ----------------------------------------------------------------
    def snapshot(self, next_frame: int, reverse: bool, device=None) -> TrackerState:
        """The tracking state before frame ``next_frame`` (see :class:`TrackerState`).

        Tensors are shared with the live state unless ``device`` asks for a copy elsewhere
        (they are never modified in place, so a snapshot stays valid).
        """

        def copy(o: FrameOutput) -> FrameOutput:
            def mv(x):
                return None if x is None or device is None else x.to(device, non_blocking=True)

            if device is None:
                return FrameOutput(o.frame, o.mask_logits, o.obj_ptr, o.score, o.memory)
            return FrameOutput(o.frame, mv(o.mask_logits), mv(o.obj_ptr), mv(o.score), mv(o.memory))

        objects = [
            ObjectTrack(
                tr.id,
                {f: copy(o) for f, o in tr.cond.items()},
                {f: copy(o) for f, o in tr.recent.items()},
                [list(s) for s in tr.spans],
            )
            for tr in self.objects.values()
        ]
        return TrackerState(int(next_frame), bool(reverse), self.num_frames, objects)

    def restore(self, state: TrackerState) -> None:
        """Replace the tracking state with a snapshot (the snapshot stays usable)."""
        if state.num_frames != self.num_frames:
            raise ValueError(
                f"snapshot of a {state.num_frames}-frame video, not {self.num_frames} frames"
            )
        device = self.model.device

        def copy(o: FrameOutput) -> FrameOutput:
            def mv(x):
                return None if x is None else x.to(device)

            return FrameOutput(o.frame, mv(o.mask_logits), mv(o.obj_ptr), mv(o.score), mv(o.memory))

        self.objects = {
            tr.id: ObjectTrack(
                tr.id,
                {f: copy(o) for f, o in tr.cond.items()},
                {f: copy(o) for f, o in tr.recent.items()},
                [list(s) for s in tr.spans],
            )
            for tr in state.objects
        }

    @torch.inference_mode()
    def add_prompts(self, frame: int, prompts: Sequence[tuple[int, Any]], feats: FrameFeatures):
        """Segment objects from their prompts on ``frame``.

        Parameters
        ----------
        frame : int
        prompts : sequence of (object_id, FramePrompt)
            Prompt coordinates in video pixels; a mask prompt at video size.
        feats : FrameFeatures
            The frame's features (one row).

        Returns
        -------
        TrackedFrame
            The new predictions of the prompted objects.
        """
        ids, logits, scores = [], [], []
        for oid, prompt in prompts:
            track = self.add_object(oid)
            out = self._prompt_one(track, frame, prompt, feats)
            ids.append(track.id)
            logits.append(out.mask_logits)
            scores.append(out.score)
        return TrackedFrame(frame, ids, torch.stack(logits), torch.stack(scores))

    def _prompt_one(self, track: ObjectTrack, t: int, prompt, feats: FrameFeatures):
        model = self.model
        v = model.variant
        device = feats.features.device
        reverse = track.tracked(t)
        is_init = reverse is None
        reverse = bool(reverse)
        is_cond = is_init or v.add_all_frames_to_correct_as_cond
        # the object's previous mask on this frame is the mask input of new clicks
        if is_cond:
            prev = track.cond.get(t) or track.recent.get(t)
        else:
            prev = track.recent.get(t) or track.cond.get(t)
        prev_logits = None
        if prev is not None and prev.mask_logits is not None:
            prev_logits = prev.mask_logits[None].to(device).clamp(-32.0, 32.0)
        heads: HeadOutput | None = None
        has_points = len(prompt.points) > 0 or prompt.box is not None
        if getattr(prompt, "mask", None) is not None:
            mask = torch.as_tensor(np.asarray(prompt.mask), device=device).float()[None, None]
            s = model.image_size
            if tuple(mask.shape[-2:]) != (s, s):
                mask = torch.nn.functional.interpolate(
                    mask, size=(s, s), mode="bilinear", align_corners=False, antialias=True
                )
                mask = (mask >= 0.5).float()
            heads = model.mask_as_output(feats.features, feats.high_res, mask)
            prev_logits = heads.mask_logits.clamp(-32.0, 32.0)
        if has_points:
            coords, labels = self._point_inputs(prompt, device)
            if is_init:
                cond_feat = model.condition_without_memory(feats.features, feats.pos)
            else:
                cond_feat = self._condition([track], t, feats, reverse)
            heads = model.run_heads(
                cond_feat,
                feats.high_res,
                points=coords,
                labels=labels,
                mask_input=prev_logits,
                multimask=model.use_multimask(is_init, coords.shape[1]),
            )
        if heads is None:
            raise PromptError(f"object {track.id}, frame {t}: prompt has no points, box or mask")
        logits = heads.mask_logits
        if self.fill_hole_area > 0:
            logits = fill_holes(logits, self.fill_hole_area)
        high = upsample_logits(logits, (model.image_size, model.image_size))
        memory = model.encode_memory(
            feats.features, high, heads.object_score_logits, binarize=True
        ).to(MEMORY_DTYPE)
        out = FrameOutput(t, logits[0], heads.obj_ptr[0], heads.object_score_logits[0], memory[0])
        if is_cond:
            track.cond[t] = out
            track.recent.pop(t, None)
        elif t not in track.cond:
            track.recent[t] = out
        # (a correction of a conditioning frame is shown but not kept, as officially)
        return out

    def _point_inputs(self, prompt, device) -> tuple[torch.Tensor, torch.Tensor]:
        """Box corners (labels 2, 3) then clicks, scaled to model input pixels."""
        pts = torch.as_tensor(np.asarray(prompt.points, dtype=np.float32).reshape(-1, 2))
        lab = torch.as_tensor(np.asarray(prompt.labels, dtype=np.int32).reshape(-1))
        if prompt.box is not None:
            box = torch.as_tensor(np.asarray(prompt.box, dtype=np.float32)).reshape(2, 2)
            pts = torch.cat((box, pts), dim=0)
            lab = torch.cat((torch.tensor([2, 3], dtype=torch.int32), lab), dim=0)
        h, w = self.video_size
        pts = pts[None] / torch.tensor([w, h])
        pts = pts * self.model.image_size
        return pts.to(device), lab[None].to(device)

    # -- tracking ---------------------------------------------------------------------
    def needs_features(self, t: int) -> bool:
        """Whether tracking frame ``t`` needs its image features (some object unprompted)."""
        return any(t not in o.cond for o in self.objects.values())

    def _gather(self, track: ObjectTrack, t: int, reverse: bool):
        """The memories (slot, output) and pointers (offset, output) of ``track`` at ``t``."""
        w = self.window
        cond_frames = sorted(track.cond)
        if not cond_frames:
            raise PromptError(f"object {track.id}: has no prompt to track from")
        selected, unselected = w.select_cond(t, cond_frames)
        spatial: list[tuple[int, FrameOutput]] = [(0, track.cond[f]) for f in selected]
        for slot, f in w.spatial_frames(t, reverse):
            out = track.recent.get(f)
            if out is None and f in unselected:
                out = track.cond[f]
            if out is not None and out.memory is not None:
                spatial.append((slot, out))
        if w.only_past_ptrs:
            ptr_cond = [f for f in selected if (f >= t if reverse else f <= t)]
        else:
            ptr_cond = selected
        pointers = [(w.pointer_offset(t, f, reverse), track.cond[f]) for f in ptr_cond]
        for d, f in w.pointer_frames(t, reverse):
            out = track.recent.get(f)
            if out is None and f in unselected:
                out = track.cond[f]
            if out is not None:
                pointers.append((d, out))
        return spatial, pointers

    def _condition(
        self,
        tracks: Sequence[ObjectTrack],
        t: int,
        feats: FrameFeatures,
        reverse: bool,
        gathered: list | None = None,
    ) -> torch.Tensor:
        """Memory-conditioned features for objects whose memories have the same layout."""
        device = feats.features.device
        if gathered is None:
            gathered = [self._gather(tr, t, reverse) for tr in tracks]
        memories = torch.stack(
            [torch.stack([o.memory.to(device) for _, o in sp]) for sp, _ in gathered]
        )
        slots = _small_tensor([[s for s, _ in sp] for sp, _ in gathered], device)
        n_ptr = len(gathered[0][1])
        if n_ptr:
            ptrs = torch.stack([torch.stack([o.obj_ptr for _, o in pt]) for _, pt in gathered])
            offsets = _small_tensor([[d for d, _ in pt] for _, pt in gathered], device)
        else:
            ptrs = feats.features.new_zeros(len(tracks), 0, self.model.hidden_dim)
            offsets = torch.zeros(len(tracks), 0, device=device)
        f = feats.expand(len(tracks)) if feats.batch_size == 1 else feats
        return self.condition_on_memory(
            f.features, f.pos, memories, slots, ptrs.to(device), offsets, self.num_frames
        )

    @torch.inference_mode()
    def track(self, t: int, feats: FrameFeatures | None, *, reverse: bool = False) -> TrackedFrame:
        """Predict every object on frame ``t`` (conditioning frames give their stored output).

        Parameters
        ----------
        t : int
        feats : FrameFeatures or None
            The frame's features (one row); may be None when :meth:`needs_features` is False.
        reverse : bool
            Tracking direction (memories come from later frames when True).

        Returns
        -------
        TrackedFrame
        """
        model = self.model
        todo = [tr for tr in self.objects.values() if t not in tr.cond]
        if todo and feats is None:
            raise ValueError(f"frame {t}: features are needed to track {len(todo)} object(s)")
        # objects whose memories have the same number of entries run as one batch
        groups: dict[tuple[int, int], list[tuple[ObjectTrack, Any]]] = {}
        for tr in todo:
            sp, pt = self._gather(tr, t, reverse)
            groups.setdefault((len(sp), len(pt)), []).append((tr, (sp, pt)))
        multimask = model.use_multimask(False, 0)
        s = model.image_size
        for members in groups.values():
            group = [tr for tr, _ in members]
            n = len(group)
            f = feats.expand(n)
            cond_feat = self._condition(group, t, feats, reverse, [g for _, g in members])
            heads = model.run_heads(cond_feat, f.high_res, multimask=multimask)
            high = upsample_logits(heads.mask_logits, (s, s))
            memory = model.encode_memory(f.features, high, heads.object_score_logits)
            memory = memory.to(MEMORY_DTYPE)
            logits = heads.mask_logits
            if self.fill_hole_area > 0:
                logits = fill_holes(logits, self.fill_hole_area)
            for i, tr in enumerate(group):
                tr.recent[t] = FrameOutput(
                    t, logits[i], heads.obj_ptr[i], heads.object_score_logits[i], memory[i]
                )
        for tr in self.objects.values():
            tr.mark_tracked(t, reverse)
        result = self.collect(t)
        for tr in self.objects.values():
            self._prune(tr, t, reverse)
        return result

    def _prune(self, track: ObjectTrack, t: int, reverse: bool) -> None:
        """Drop what neither frame ``t`` (a correction) nor the next frame can attend to."""
        for f in list(track.recent):
            mem_t, ptr_t = self.window.needed(f, t, reverse)
            mem_n, ptr_n = self.window.needed(f, t - 1 if reverse else t + 1, reverse)
            if not (ptr_t or ptr_n or mem_t or mem_n):
                del track.recent[f]
            elif not (mem_t or mem_n):
                out = track.recent[f]
                out.memory = None
                out.mask_logits = None


def _check_prompts(prompts, width: int, height: int, n: int) -> None:
    if prompts is None or len(prompts.objects) == 0:
        raise PromptError("propagation needs prompts for at least one object")
    if hasattr(prompts, "validate"):
        prompts.validate(width, height, n)
        return
    for o in prompts.objects:
        for p in o.prompts:
            if not 0 <= p.frame < n:
                raise PromptError(
                    f"object {o.id}, frame {p.frame}: frame index out of range "
                    f"(video has {n} frames)"
                )


def _frames_of(prompts) -> list[int]:
    return sorted({p.frame for o in prompts.objects for p in o.prompts})


def _prompts_at(prompts, frame: int) -> list[tuple[int, Any]]:
    return [(o.id, p) for o in prompts.objects for p in o.prompts if p.frame == frame]


def _check_frame_prompts(prompts, frame: int, width: int, height: int, n: int) -> None:
    if not 0 <= frame < n:
        raise PromptError(f"frame {frame}: frame index out of range (video has {n} frames)")
    for oid, p in prompts:
        pts = np.asarray(p.points, dtype=np.float64).reshape(-1, 2)
        box = None if p.box is None else np.asarray(p.box, dtype=np.float64).reshape(2, 2)
        for xy in (pts, box):
            if (
                xy is not None
                and len(xy)
                and (
                    (xy[:, 0] < 0).any()
                    or (xy[:, 0] > width).any()
                    or (xy[:, 1] < 0).any()
                    or (xy[:, 1] > height).any()
                )
            ):
                raise PromptError(
                    f"object {oid}, frame {frame}: prompt outside the {width}x{height} video"
                )
        mask = getattr(p, "mask", None)
        if mask is not None and np.asarray(mask).shape != (height, width):
            raise PromptError(
                f"object {oid}, frame {frame}: mask is {np.asarray(mask).shape}, "
                f"not {(height, width)}"
            )


# ---------------------------------------------------------------------------------------
# the streaming session
# ---------------------------------------------------------------------------------------
@dataclass
class _Event:
    after: int | None  # the last tracked frame when it happened (None: before tracking)
    kind: str  # "prompts" or "remove"
    frame: int
    payload: Any


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
        Frames decoded and preprocessed ahead by the background thread.
    snapshot_every : int
        Keep a :class:`TrackerState` every this many frames (plus the start), for
        re-propagating from an earlier frame; at most ``max_snapshots`` (the spacing doubles
        when full), so memory stays bounded.
    max_snapshots : int
    on_snapshot : callable, optional
        Called with every periodic snapshot and with the state where a cancelled run stops
        (``segment`` saves them as resume checkpoints).

    Notes
    -----
    :meth:`add_prompts` on a frame the session tracked earlier (not the last one) rewinds:
    it restores the latest snapshot before that frame and re-tracks up to it (replaying the
    prompts and removals made meanwhile), so re-propagating from a correction gives what an
    uninterrupted run with that correction gives. What happened after that frame is
    forgotten and is recomputed by the next :meth:`run`.

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
        snapshot_every: int = 256,
        max_snapshots: int = 8,
        on_snapshot: Callable[[TrackerState], Any] | None = None,
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
        self.autocast = cuda if autocast is None else bool(autocast)
        self.tracker = VideoTracker(
            model, self.num_frames, (self.height, self.width), fill_hole_area=fill_hole_area
        )
        encode = None
        if compile:
            if compile is True and not cuda:
                warnings.warn(
                    "torch.compile is only used on CUDA; running uncompiled", stacklevel=2
                )
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
        _check_frame_prompts(prompts, frame, self.width, self.height, self.num_frames)
        if self._tracked_already(frame) and frame != self.last:
            self._seek(frame)
            self._track(frame)
        with self._amp():
            out = self.tracker.add_prompts(frame, prompts, self.features(frame))
        self._log(_Event(self.last, "prompts", frame, prompts))
        time = frame / float(getattr(self.video, "fps", 30.0) or 30.0)
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
        """Continue from a snapshot (e.g. a resume checkpoint) at ``state.next_frame``."""
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
            self._events = [
                e for e in self._events if e.after is None or (target - e.after) * self.step_dir > 0
            ]
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
                result = fetch(tracked, float(frame.time), size, output)
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
    video : VideoReader or sequence of ndarray
        An :func:`ecoseg.open_video` reader, or (H, W, 3) uint8 RGB frames.
    prompts : Prompts
        Clicks, boxes and masks per object and frame, in video pixels.
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
    compile : bool or str
        ``torch.compile`` (CUDA; see :class:`StreamingSession`).
    prefetch : int
        Frames decoded ahead.
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
    video = as_video(video)
    n = len(video)
    width, height = int(video.width), int(video.height)
    _check_prompts(prompts, width, height, n)
    session = StreamingSession(
        model,
        video,
        reverse=reverse,
        device=device,
        fill_hole_area=fill_hole_area,
        autocast=autocast,
        compile=compile,
        prefetch=prefetch,
        snapshot_every=snapshot_every,
        max_snapshots=2,
        on_snapshot=on_snapshot,
    )
    if resume is not None:
        session.restore(resume)
    else:
        for o in prompts.objects:
            session.tracker.add_object(o.id)
        frames = _frames_of(prompts)
        # latest first, so the features of the first frame to track are the ones kept
        with torch.inference_mode(), session._amp():
            for f in reversed(frames):
                image = video.read(f).image
                session.tracker.add_prompts(f, _prompts_at(prompts, f), session.encoder(f, image))
        if reverse and frames[0] == 0:
            return  # nothing before the first prompted frame (as officially)
    yield from session.run(output=output, cancel=cancel, progress=progress)


# ---------------------------------------------------------------------------------------
# frames before the earliest prompt, tracked backwards and handed out forwards
# ---------------------------------------------------------------------------------------
def backward_results(
    model: SAM2Model,
    video,
    prompts,
    *,
    start: int = 0,
    cancel=None,
    progress: Callable[[int, int], Any] | None = None,
    scratch_dir: str | None = None,
    **options,
) -> Iterator[FrameResult]:
    """Label results for the frames before the earliest prompted frame, in increasing order.

    The objects are tracked backwards from the earliest prompted frame (``propagate(...,
    reverse=True)``: what the official predictor's ``propagate_in_video(reverse=True)`` gives
    on a fresh state) down to frame ``start``. The label images go to a temporary compressed
    store (a few kB per frame) and are then handed out from frame ``start`` upwards, so memory
    stays bounded however far into the video the first prompt is. Nothing is yielded from a
    cancelled backward pass.

    Parameters
    ----------
    model, video, prompts
        As for :func:`propagate`.
    start : int
        First frame wanted (frames before it are neither tracked nor yielded).
    cancel : threading.Event or callable, optional
    progress : callable, optional
        ``progress(done, total)`` after each frame tracked backwards.
    scratch_dir : str, optional
        Where the temporary store goes (default: the system's temporary folder).
    **options
        Passed to :func:`propagate`.

    Yields
    ------
    FrameResult
        Frames ``start`` .. earliest prompted frame - 1, with ``labels`` and every prompted
        object's score.

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg import sam2
    >>> from ecoseg.prompts import Prompts
    >>> net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
    >>> frames = [np.full((48, 64, 3), 100, np.uint8)] * 4
    >>> [r.index for r in backward_results(net, frames, Prompts.single(2, points=[[30, 20]]))]
    [0, 1]
    """
    import tempfile

    from ecoseg.engine.results import write_results
    from ecoseg.store import MaskStore

    video = as_video(video)
    first = _frames_of(prompts)[0]
    total = first - start
    if total <= 0:
        return
    ids = [o.id for o in prompts.objects]
    times = np.asarray(video.times, float)
    stop = threading.Event()

    def halt() -> bool:
        return stop.is_set() or is_cancelled(cancel)

    def backwards() -> Iterator[FrameResult]:
        done = 0
        results = propagate(
            model, video, prompts, reverse=True, output="labels", cancel=halt, **options
        )
        for r in results:
            if r.index >= first:
                continue  # the prompted frame itself comes with the forward pass
            # scratch frame j holds video frame first - 1 - j (appended as tracked)
            j = first - 1 - r.index
            yield FrameResult(j, float(j), r.object_ids, r.scores, labels=r.labels)
            done += 1
            if progress is not None:
                progress(done, total)
            if r.index <= start:
                stop.set()  # frames before ``start`` are not wanted

    with tempfile.TemporaryDirectory(prefix="ecoseg-backward-", dir=scratch_dir) as tmp:
        scratch = MaskStore.create(
            f"{tmp}/backward.zarr", height=int(video.height), width=int(video.width)
        )
        try:
            write_results(
                scratch,
                backwards(),
                times=np.arange(total, dtype=float),
                objects=dict.fromkeys(ids, "unknown"),
            )
            scratch.flush()
            if is_cancelled(cancel) or scratch.n_frames < total:
                return
            column = [scratch.object_ids.tolist().index(i) for i in ids]
            scores = scratch.read_scores()[:, column]
            ids_array = np.asarray(ids)
            block = 16
            for lo in range(start, first, block):
                hi = min(lo + block, first)
                labels = scratch.read_labels(first - hi, first - lo)[::-1]
                for k, f in enumerate(range(lo, hi)):
                    if is_cancelled(cancel):
                        return
                    j = first - 1 - f
                    yield FrameResult(f, float(times[f]), ids_array, scores[j], labels=labels[k])
        finally:
            scratch.close()


# ---------------------------------------------------------------------------------------
# resumable runs into a mask store
# ---------------------------------------------------------------------------------------
CHECKPOINT_NAME = "ecoseg-resume.ckpt"


def checkpoint_location(store_path) -> str | None:
    """Where the resume checkpoint of a store lives (None: stores that cannot hold one).

    Local directory stores and fsspec URLs get a file beside the store (``STORE`` +
    ``.ecoseg-resume.ckpt``; inside it zarr would warn about a foreign key), removed when the
    run completes; zip archives and zarr ``Store`` objects get none.

    Examples
    --------
    >>> checkpoint_location("masks.zarr")
    'masks.zarr.ecoseg-resume.ckpt'
    >>> checkpoint_location("s3://bucket/masks.zarr/")
    's3://bucket/masks.zarr.ecoseg-resume.ckpt'

    >>> checkpoint_location("masks.zip") is None
    True
    """
    import os

    if not isinstance(store_path, str | os.PathLike):
        return None
    text = os.fspath(store_path)
    if text.lower().endswith(".zip"):
        return None
    return f"{text.rstrip('/')}.{CHECKPOINT_NAME}"


def save_checkpoint(location: str, state: TrackerState, identity: dict) -> None:
    """Write a resume checkpoint atomically (a length-prefixed JSON header, then the state)."""
    import json

    import fsspec

    header = json.dumps({**identity, "next_frame": state.next_frame}, sort_keys=True).encode()
    blob = len(header).to_bytes(8, "little") + header + state.to_bytes()
    fs, path = fsspec.core.url_to_fs(location)
    tmp = path + ".partial"
    fs.pipe_file(tmp, blob)
    fs.mv(tmp, path)


def load_checkpoint(location: str | None, identity: dict, max_frame: int) -> TrackerState | None:
    """The checkpoint at ``location`` if it was made for ``identity`` and covers at most
    ``max_frame`` frames; else None."""
    import json

    import fsspec

    if location is None:
        return None
    fs, path = fsspec.core.url_to_fs(location)
    try:
        blob = fs.cat_file(path)
        n = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + n])
    except (FileNotFoundError, ValueError, OSError):
        return None
    expected = json.loads(json.dumps(identity, sort_keys=True))
    if {k: header.get(k) for k in expected} != expected or header["next_frame"] > max_frame:
        return None
    try:
        return TrackerState.from_bytes(blob[8 + n :])
    except Exception:  # a damaged checkpoint: replay from the start instead
        return None


def remove_checkpoint(location: str | None) -> None:
    """Delete a store's resume checkpoint (after a complete run)."""
    import fsspec

    if location is None:
        return
    fs, path = fsspec.core.url_to_fs(location)
    if fs.exists(path):
        fs.rm(path)


def store_results(
    model: SAM2Model,
    video,
    prompts,
    store,
    *,
    location: str | None,
    identity: dict,
    resume: bool = False,
    cancel=None,
    checkpoint_every: int = 256,
    backward: bool = False,
    backward_progress: Callable[[int, int], Any] | None = None,
    scratch_dir: str | None = None,
    **options,
) -> Iterator[FrameResult]:
    """Results for :func:`ecoseg.engine.results.write_results`, resumable and cancellable.

    Tracking runs in a background thread (decode, network and store writing overlap).
    Every ``checkpoint_every`` frames the tracker state is saved to ``location`` once the
    frames before it are committed to ``store``; resuming restores the latest checkpoint and
    re-tracks from there (frames the store already holds are recomputed and skipped), so the
    resumed store equals an uninterrupted run. Without a usable checkpoint it replays from
    the earliest prompted frame (also exact, slower). A cancelled run saves the exact state
    where it stopped and raises :class:`ecoseg.engine.Cancelled`.

    Parameters
    ----------
    model, video, prompts
        As for :func:`propagate`.
    store : MaskStore
        The store being written (its committed frames decide where to resume).
    location : str or None
        From :func:`checkpoint_location`.
    identity : dict
        JSON data a checkpoint must match (video hash, prompts, model).
    resume : bool
    cancel : threading.Event or callable, optional
    checkpoint_every : int
    backward : bool
        Also fill the frames before the earliest prompted frame, tracked backwards from it
        (see :func:`backward_results`).
    backward_progress : callable, optional
        ``backward_progress(done, total)`` after each frame of the backward pass.
    scratch_dir : str, optional
        Folder for the backward pass's temporary store (default: the system's).
    **options
        Passed to :func:`propagate` (``device``, ``autocast``, ``compile``...).

    Yields
    ------
    FrameResult
        With label images (``output="labels"``).
    """
    from collections import deque

    from ecoseg.engine import Cancelled

    n = len(video)
    written = store.n_frames
    if written >= n:
        return
    first = _frames_of(prompts)[0]
    if backward and written < first:
        yield from backward_results(
            model,
            video,
            prompts,
            start=written,
            cancel=cancel,
            progress=backward_progress,
            scratch_dir=scratch_dir,
            **options,
        )
        if is_cancelled(cancel):
            store.flush()
            raise Cancelled(
                f"{store.path}: cancelled after {store.n_frames} frames; --resume continues"
            )
    state = load_checkpoint(location, identity, written) if resume else None
    if not resume:
        remove_checkpoint(location)  # a stale one from an earlier run
    snapshots: deque[TrackerState] = deque()
    every = checkpoint_every if location is not None else 0
    results = propagate(
        model,
        video,
        prompts,
        output="labels",
        cancel=cancel,
        resume=state,
        snapshot_every=every,
        on_snapshot=snapshots.append,
        **options,
    )

    def save_ready(limit: int) -> None:
        ready = [s for s in snapshots if s.next_frame <= limit]
        if not ready:
            return
        while snapshots and snapshots[0].next_frame <= limit:
            snapshots.popleft()
        store.flush()
        save_checkpoint(location, ready[-1], identity)

    for r in prefetch(results, maxsize=2, name="ecoseg-track"):
        if location is not None:
            save_ready(r.index)  # every frame before r.index has been handed to the store
        yield r
    if is_cancelled(cancel):
        if location is not None:
            store.flush()
            save_ready(store.n_frames)
        raise Cancelled(
            f"{store.path}: cancelled after {store.n_frames} frames; --resume continues"
        )
