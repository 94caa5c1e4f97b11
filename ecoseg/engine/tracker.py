"""The SAM 2 video tracker: typed, bounded state fed one frame at a time.

:class:`VideoTracker` reproduces what the official SAM 2 video predictor gives for the same
prompts (all prompts added with ``add_new_points_or_box`` / ``add_new_mask``, then one
``propagate_in_video`` from the earliest prompted frame), while holding only what SAM 2 attends
to. Every object is tracked independently (as the official predictor does), but objects whose
memories have the same layout on a frame are run through the network together.

The state is typed and bounded (:class:`ObjectTrack`, :class:`FrameOutput`, in
:mod:`ecoseg.engine.tracker_state`): per object the outputs of its conditioning (prompted)
frames, and of the frames still inside the memory window (``num_maskmem - 1`` frames, with the
temporal stride) and the object-pointer window (``max_obj_ptrs_in_encoder`` frames); older
outputs are dropped as the tracker moves on (:class:`MemoryWindow`). Spatial memories are stored
in bfloat16, exactly as the official predictor stores them. :class:`TrackerState` is a snapshot
of it all (for rewinding and resume).

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
- Outputs are the low-resolution logits (resized to the video by
  :func:`ecoseg.engine._runtime.fetch`); an object predicted absent has logits of -1024
  everywhere. Scores are ``sigmoid(object score logit)``.
- Hole filling (``fill_hole_area``): the official predictor asks for it (8 px) but skips it
  when its CUDA extension is missing, which is how it is tested here; the default 0 matches
  that. A positive value fills background components of at most that many low-resolution
  pixels (8-connected) with logit 0.1, as the extension does.

Exports
-------
VideoTracker, MemoryWindow
    The tracker, and which memories a frame attends to.
TrackerState, ObjectTrack, FrameOutput, TrackedFrame
    Its typed (snapshottable) state and per-frame output, from
    :mod:`ecoseg.engine.tracker_state` (re-exported).
fill_holes
    Hole filling of mask logits.
small_components
    The small 8-connected components of boolean masks (shared with the concept tracker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ecoseg.engine.tracker_state import FrameOutput, ObjectTrack, TrackedFrame, TrackerState
from ecoseg.errors import PromptError
from ecoseg.sam2.model import FrameFeatures, HeadOutput, SAM2Model, upsample_logits

__all__ = [
    "MEMORY_DTYPE",
    "FrameOutput",
    "MemoryWindow",
    "ObjectTrack",
    "TrackedFrame",
    "TrackerState",
    "VideoTracker",
    "fill_holes",
    "small_components",
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
    if max_area <= 0:
        return mask_logits
    background = (mask_logits <= 0).cpu().numpy()
    holes = small_components(background, [max_area] * background.shape[0])
    holes_t = torch.from_numpy(holes).to(mask_logits.device)
    return torch.where(holes_t, torch.full_like(mask_logits, 0.1), mask_logits)


def small_components(masks: np.ndarray, limits: Sequence[int]) -> np.ndarray:
    """The pixels of the 8-connected components of ``masks[b, 0]`` that have at most
    ``limits[b]`` pixels (the holes :func:`fill_holes` fills, the specks
    :func:`~ecoseg.engine.concept_tracker.remove_specks` removes).

    Parameters
    ----------
    masks : ndarray of bool, shape (B, 1, h, w)
    limits : sequence of int
        The largest component kept, per mask.

    Returns
    -------
    ndarray of bool, shape (B, 1, h, w)

    Examples
    --------
    >>> m = np.zeros((2, 1, 4, 4), bool); m[0, 0, 0, :2] = True; m[0, 0, 3, :] = True
    >>> small_components(m, [2, 2]).sum(axis=(1, 2, 3)).tolist()
    [2, 0]
    """
    from scipy import ndimage

    out = np.zeros_like(masks)
    eight = np.ones((3, 3), dtype=bool)
    for b in range(masks.shape[0]):
        labels, n = ndimage.label(masks[b, 0], structure=eight)
        if n == 0:
            continue
        areas = np.bincount(labels.ravel())
        out[b, 0] = (labels > 0) & (areas[labels] <= limits[b])
    return out


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
        memory = self.encode_memory(feats.features, high, heads.object_score_logits, True)
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

    def encode_memory(
        self, features: torch.Tensor, high: torch.Tensor, scores: torch.Tensor, binarize=False
    ) -> torch.Tensor:
        """Memories of mask logits ``high`` ``(N, 1, S, S)`` at the input size on ``features``
        (SAM 3's tracker resizes the masks first: :mod:`ecoseg.engine.concept_tracker`)."""
        memory = self.model.encode_memory(features, high, scores, binarize=binarize)
        return memory.to(MEMORY_DTYPE)

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
            memory = self.encode_memory(f.features, high, heads.object_score_logits)
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
