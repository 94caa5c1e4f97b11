"""SAM 3 concept tracking, one frame at a time: detector + batched SAM 2-style tracker.

:class:`ConceptTracker` runs the per-frame algorithm of SAM 3's video predictor (the rules are
in :mod:`ecoseg.engine.concept_rules`) on a :class:`ecoseg.sam3.model.SAM3Model`:

1. encode the frame once (backbone: detector and tracker pyramids);
2. detect every concept (text tokens, plus exemplar tokens pooled once on their own frames
   and reused on every frame), concepts with the same prompt length in one batch;
3. propagate *all* tracked objects through the tracker in one batched pass
   (:class:`ConceptVideoTracker`, the engine's :class:`~ecoseg.engine.tracker.VideoTracker`
   with memory writing deferred), without writing memories yet;
4. associate, start, confirm and remove tracks, choose re-prompts;
5. suppress overlaps and write every object's memory of the frame in one batched pass;
   new tracks start from their detection's mask as conditioning frames.

Objects prompted SAM 2-style (clicks, boxes, masks; :meth:`ConceptTracker.add_objects`) are
tracked in the same batched pass, with concept index
:data:`~ecoseg.engine.concept_rules.PROMPTED`; the concept rules leave them alone.

With ``autocast`` (:func:`ecoseg.segment`'s ``fast``) the network runs under bf16 autocast
(:func:`~ecoseg.engine._runtime.bf16_autocast`) and only the network: every output that a
rule decides on (detection scores and masks, tracker mask and score logits) is cast to float32
where it leaves the network, and the rules (thresholds, NMS, association IoUs, suppression)
run outside autocast, so no decision is taken on bf16 sums.

The tracker keeps what it attends to only: conditioning frames beyond the
``max_cond_frames_in_attn`` most recent ones are dropped once out of the memory window, so
memory stays flat over an hour of video with periodic re-prompting.

Exports
-------
ConceptTracker, ConceptStep, ConceptVideoTracker
remove_specks, shift_rows_past_removed
    Hole filling; transformers' labelling of outputs on frames where tracks are removed
    (``ConceptSettings.shift_ids_on_removal``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ecoseg.engine._runtime import bf16_autocast
from ecoseg.engine.concept_rules import (
    NO_OBJECT_LOGIT,
    PROMPTED,
    Concept,
    ConceptSettings,
    TrackBook,
    associate,
    mask_iou,
    nms_keep,
    recent_occlusion_suppression,
    shrink_suppression,
)
from ecoseg.engine.tracker import VideoTracker, fill_holes, small_components
from ecoseg.engine.tracker_state import FrameOutput, ObjectTrack
from ecoseg.errors import PromptError
from ecoseg.sam2.model import FrameFeatures, upsample_logits

__all__ = [
    "ConceptStep",
    "ConceptTracker",
    "ConceptVideoTracker",
    "remove_specks",
    "shift_rows_past_removed",
]


def shift_rows_past_removed(ids, removed, new_ids, logits, probs, new_probs):
    """Tracked rows as transformers' port labels them on a frame where tracks are removed.

    The port pairs the frame's tracked masks and scores (rows in the order of ``ids``) with the
    ids left after the removal followed by ``new_ids``: row ``k`` goes to the ``k``-th of those.
    New tracks keep their detection's mask, but one paired with a row takes that row's score.
    Returns ``logits``, ``probs`` (rows of ``ids``; removed tracks' rows unchanged) and
    ``new_probs``.

    Examples
    --------
    >>> x = torch.tensor([[1.0], [2.0], [3.0]])
    >>> out, p, q = shift_rows_past_removed([5, 6, 7], {6}, [9], x, x[:, 0], torch.tensor([0.5]))
    >>> out[:, 0].tolist(), q.tolist()  # 7 gets 6's row, new track 9 gets 7's score
    ([1.0, 2.0, 2.0], [3.0])
    """
    new_ids = list(new_ids)
    kept = [i for i in ids if i not in removed] + new_ids
    row = {i: k for k, i in enumerate(ids)}
    out_logits, out_probs, out_new = logits.clone(), probs.clone(), new_probs.clone()
    for k, i in enumerate(kept[: len(ids)]):
        if i in row:
            out_logits[row[i]], out_probs[row[i]] = logits[k], probs[k]
        else:
            out_new[new_ids.index(i)] = probs[k]
    return out_logits, out_probs, out_new


def remove_specks(logits: Tensor, max_area: int) -> Tensor:
    """Fill small holes and remove small foreground specks of mask logits ``(B, 1, h, w)``.

    Holes (background components, 8-connected) of at most ``max_area`` pixels get logit 0.1;
    foreground components of at most ``min(max_area, area / 2)`` pixels get -0.1.

    Examples
    --------
    >>> m = -torch.ones(1, 1, 6, 6); m[0, 0, :4, :4] = 1; m[0, 0, 5, 5] = 1
    >>> out = remove_specks(m, 2)
    >>> round(float(out[0, 0, 5, 5]), 3), float(out[0, 0, 0, 0])
    (-0.1, 1.0)
    """
    if max_area <= 0:
        return logits
    logits = fill_holes(logits, max_area)
    fg = (logits > 0).cpu().numpy()
    limits = [min(max_area, int(f.sum()) // 2) for f in fg]
    specks = small_components(fg, limits)
    specks_t = torch.from_numpy(specks).to(logits.device)
    return torch.where(specks_t, torch.full_like(logits, -0.1), logits)


class ConceptVideoTracker(VideoTracker):
    """The engine's SAM 2 tracker with SAM 3's order: predict, then decide, then remember.

    :meth:`predict` runs every object of a frame (one batch per memory layout) and keeps the
    outputs without memories; :meth:`remember` encodes the memories of the objects' (possibly
    suppressed) masks in one batch; :meth:`start` adds objects from mask prompts;
    :meth:`recondition` turns an object's frame into a conditioning frame; :meth:`finish`
    prunes what can no longer be attended to.
    """

    def __init__(self, model, num_frames: int, video_size, mask_memory_size: int):
        super().__init__(model, num_frames, video_size)
        self.mask_memory_size = int(mask_memory_size)

    def encode_memory(
        self, features: Tensor, high: Tensor, scores: Tensor, binarize: bool = False
    ) -> Tensor:
        """As the engine's tracker, with the masks first resized to SAM 3's memory mask size
        (``mask_interpolation_size``), as SAM 3's memory encoder does."""
        s = self.mask_memory_size
        if tuple(high.shape[-2:]) != (s, s):
            high = F.interpolate(
                high.float(), size=(s, s), mode="bilinear", align_corners=False, antialias=True
            )
        return super().encode_memory(features, high, scores, binarize)

    def _memory(
        self, feats: FrameFeatures, masks: Tensor, scores: Tensor, binarize: bool
    ) -> Tensor:
        f = feats.expand(masks.shape[0])
        return self.encode_memory(f.features, masks, scores, binarize)

    @torch.inference_mode()
    def predict(self, t: int, feats: FrameFeatures) -> tuple[list[int], Tensor, Tensor]:
        """Every object's mask logits ``(N, 1, h, w)`` and score logits ``(N, 1)`` on ``t``."""
        model = self.model
        todo = [tr for tr in self.objects.values() if t not in tr.cond]
        groups: dict[tuple[int, int], list] = {}
        for tr in todo:
            sp, pt = self._gather(tr, t, False)
            groups.setdefault((len(sp), len(pt)), []).append((tr, (sp, pt)))
        multimask = model.use_multimask(False, 0)
        for members in groups.values():
            group = [tr for tr, _ in members]
            f = feats.expand(len(group))
            cond = self._condition(group, t, feats, False, [g for _, g in members])
            heads = model.run_heads(cond, f.high_res, multimask=multimask)
            for i, tr in enumerate(group):
                tr.recent[t] = FrameOutput(
                    t, heads.mask_logits[i], heads.obj_ptr[i], heads.object_score_logits[i], None
                )
        frame = self.collect(t)
        return frame.object_ids, frame.mask_logits, frame.scores

    @torch.inference_mode()
    def remember(
        self,
        t: int,
        feats: FrameFeatures,
        ids: Sequence[int],
        masks: Tensor,
        scores: Tensor,
        *,
        binarize: bool = False,
    ) -> None:
        """Write the memories of ``ids`` on ``t`` from ``masks`` ``(N, 1, h, w)`` logits."""
        if not ids:
            return
        memory = self._memory(feats, masks, scores, binarize)
        for i, oid in enumerate(ids):
            out = self.objects[oid].output(t)
            out.memory = memory[i]

    @torch.inference_mode()
    def start(
        self,
        t: int,
        feats: FrameFeatures,
        ids: Sequence[int],
        masks: Tensor,
        *,
        multimask: bool = False,
    ) -> Tensor:
        """New objects from binary masks ``(N, 1, h, w)`` (0/1 floats) as conditioning frames.

        As SAM 2's mask prompts: the mask (resized to the input size) is the prediction, with
        logits -10 / +10; the pointer comes from the heads given the mask; the object is
        present where the mask is not empty. Returns the low-resolution logits.
        """
        model = self.model
        s = model.image_size
        m = masks.float()
        if tuple(m.shape[-2:]) != (s, s):
            m = F.interpolate(m, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        high = m * 20.0 - 10.0
        low_size = tuple(model.sam_prompt_encoder.mask_input_size)
        low = F.interpolate(
            high, size=low_size, mode="bilinear", align_corners=False, antialias=True
        )
        f = feats.expand(len(ids))
        heads = model.run_heads(
            f.features, f.high_res, mask_input=model.mask_downsample(m), multimask=multimask
        )
        present = (masks.flatten(1) > 0).any(dim=1, keepdim=True).to(heads.obj_ptr.dtype)
        score = 20.0 * present - 10.0
        ptr = present * heads.obj_ptr + (1 - present) * model.no_obj_ptr
        memory = self._memory(feats, high, score, True)
        for i, oid in enumerate(ids):
            track = self.add_object(oid)
            track.cond[t] = FrameOutput(t, low[i], ptr[i], score[i], memory[i])
        return low

    def recondition(self, object_id: int, t: int) -> None:
        """Make ``t`` a conditioning frame of the object (its output as it is)."""
        tr = self.objects[object_id]
        if t in tr.recent:
            tr.cond[t] = tr.recent.pop(t)

    def finish(self, t: int) -> None:
        """Mark ``t`` tracked and drop what no later frame attends to."""
        keep = max(self.window.max_cond_frames, 1) if self.window.max_cond_frames > 0 else None
        for tr in self.objects.values():
            tr.mark_tracked(t, False)
            self._prune(tr, t, False)
            if keep is not None and len(tr.cond) > keep:
                self._prune_cond(tr, t, keep)

    def _prune_cond(self, tr: ObjectTrack, t: int, keep: int) -> None:
        # forward tracking attends to the `keep` latest conditioning frames as such; older
        # ones only while inside the memory / pointer window
        frames = sorted(tr.cond)
        for f in frames[:-keep]:
            mem, ptr = self.window.needed(f, t + 1, False)
            if not (mem or ptr):
                del tr.cond[f]


@dataclass(frozen=True)
class ConceptStep:
    """Everything concept tracking decided on one frame (low resolution, on the device).

    Attributes
    ----------
    index : int
    object_ids : list of int
        Live objects after this frame (tracker order, new ones last).
    logits : Tensor, shape (N, h, w)
        Output mask logits of ``object_ids``.
    tracker_scores : Tensor, shape (N,)
        Tracker presence probability (the detection score for objects new on this frame).
    concepts : list of int
        Concept index per object (``PROMPTED``, -1, for prompted objects).
    class_probability : list of float
        The detection score each object started with.
    removed : set of int
        Objects removed on this frame (hide them from every output, earlier frames too).
    hidden : set of int
        Objects hidden on this frame only.
    detected : bool
        Whether the detector ran on this frame.
    """

    index: int
    object_ids: list[int]
    logits: Tensor
    tracker_scores: Tensor
    concepts: list[int]
    class_probability: list[float]
    removed: set[int]
    hidden: set[int]
    detected: bool


class ConceptTracker:
    """Track every instance of one or more concepts through a video, frame after frame.

    Parameters
    ----------
    model : SAM3Model
    concepts : sequence of Concept
    num_frames : int
    video_size : (height, width)
    settings : ConceptSettings, optional
    tokenizer : callable, optional
        ``list of str -> (B, 32) int ids``; default ``model.tokenizer``.
    first_id : int
        Id of the first concept track (above every prompted object's id).
    autocast : bool
        Run the network (backbone aside: the caller encodes frames) under bf16 autocast; its
        outputs are cast to float32 before any rule uses them (see the module docstring).
        Default: exact fp32.

    Notes
    -----
    Call :meth:`add_exemplars` with each exemplar frame's features before tracking (the
    streaming session does this), then :meth:`step` on frames ``0, 1, 2, ...``; prompted
    objects join with :meth:`add_objects` before the step of their first frame.
    """

    def __init__(
        self,
        model,
        concepts: Sequence[Concept],
        num_frames: int,
        video_size: tuple[int, int],
        settings: ConceptSettings | None = None,
        *,
        tokenizer: Callable | None = None,
        first_id: int = 1,
        autocast: bool = False,
    ):
        if not concepts:
            raise PromptError("concept tracking needs at least one concept (text or exemplars)")
        self.model = model
        self.concepts = list(concepts)
        self.settings = settings or ConceptSettings()
        self.video_size = (int(video_size[0]), int(video_size[1]))
        self.num_frames = int(num_frames)
        self.autocast = bool(autocast)
        self.tracker = ConceptVideoTracker(
            model.tracker, num_frames, video_size, model.config.mask_interpolation_size
        )
        self.book = TrackBook(next_id=int(first_id))
        self.tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        self._prompts: list[tuple[Tensor, Tensor] | None] = [None] * len(self.concepts)
        self._text = self._encode_texts()
        self._pooled: list[dict[int, tuple[Tensor, Tensor]]] = [{} for _ in self.concepts]
        for i, c in enumerate(self.concepts):
            if not c.exemplars:
                self._prompts[i] = self._text[i]

    def amp(self):
        """The network's precision: bf16 autocast with ``autocast``, else a no-op context."""
        return bf16_autocast(self.autocast, self.model.device)

    # -- prompts --------------------------------------------------------------------------
    @torch.inference_mode()
    def _encode_texts(self) -> list[tuple[Tensor, Tensor]]:
        if self.tokenizer is None:
            raise PromptError(
                "no SAM 3 tokenizer: download the weights (ecoseg weights download sam3) or "
                "pass tokenizer="
            )
        texts = [c.name for c in self.concepts]
        ids = torch.as_tensor(np.asarray(self.tokenizer(texts)), device=self.model.device)
        with self.amp():
            enc = self.model.encode_text(ids)
        return [(enc.features[i : i + 1], enc.mask[i : i + 1].bool()) for i in range(len(texts))]

    def prompt_tokens(self, concept: int) -> tuple[Tensor, Tensor] | None:
        """The detector prompt of concept number ``concept``: tokens ``(1, L, C)`` and their
        validity ``(1, L)`` (None until all its exemplar frames are pooled)."""
        return self._prompts[concept]

    def exemplar_frames(self) -> list[int]:
        """Frames whose features :meth:`add_exemplars` needs."""
        return sorted({f for c in self.concepts for f in c.exemplar_frames})

    @torch.inference_mode()
    def add_exemplars(self, frame: int, vision) -> None:
        """Pool the exemplar boxes on ``frame`` (its backbone output ``vision``).

        Each exemplar frame's boxes go through the geometry encoder with that frame's
        features (one token per box plus a CLS token); once every exemplar frame of a
        concept is pooled, its prompt is the text tokens followed by the frames' tokens in
        frame order, and it is used on every frame of the video.
        """
        from ecoseg.sam3._det_ops import box_xyxy_to_cxcywh
        from ecoseg.sam3.geometry import GeometryPrompt

        h, w = self.video_size
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        det = self.model.detector
        for i, c in enumerate(self.concepts):
            boxes = [e for e in c.exemplars if e.frame == frame]
            if not boxes:
                continue
            xyxy = torch.tensor([e.box for e in boxes], dtype=torch.float32) / scale
            cxcywh = box_xyxy_to_cxcywh(xyxy).tolist()
            geo = GeometryPrompt.from_lists(
                boxes=[cxcywh],
                box_labels=[[int(e.label) for e in boxes]],
                device=self.model.device,
            )
            with self.amp():
                tokens, valid = det.geometry_encoder(geo, vision.fpn[:3][-1], vision.pos[:3][-1])
            self._pooled[i][int(frame)] = (tokens, valid)
            if len(self._pooled[i]) == len(c.exemplar_frames):
                text, text_valid = self._text[i]
                parts = [self._pooled[i][f] for f in sorted(self._pooled[i])]
                self._prompts[i] = (
                    torch.cat([text] + [t.to(text.dtype) for t, _ in parts], 1),
                    torch.cat([text_valid] + [v for _, v in parts], 1),
                )
                self._pooled[i] = {}

    @torch.inference_mode()
    def add_objects(self, frame: int, prompts: Sequence, feats: FrameFeatures) -> None:
        """Track objects from SAM 2-style prompts ``(object_id, FramePrompt)`` on ``frame``
        (``feats``: that frame's tracker features) alongside the concept tracks.

        The prompts become conditioning frames of the tracker, as in SAM 2's video predictor;
        the objects get the concept index ``PROMPTED`` and keep their ids.
        """
        book = self.book
        for oid, _ in prompts:
            oid = int(oid)
            if book.concept.get(oid, PROMPTED) != PROMPTED or oid >= book.next_id:
                raise PromptError(
                    f"object {oid}: its id must be below the concept tracks' first id "
                    f"({book.next_id})"
                )
            book.concept[oid], book.det_score[oid] = PROMPTED, 1.0
        with self.amp():
            self.tracker.add_prompts(frame, list(prompts), feats)

    # -- detection ------------------------------------------------------------------------
    @torch.inference_mode()
    def detect(self, vision) -> tuple[Tensor, Tensor, Tensor]:
        """Kept detections of all concepts: mask logits ``(N, h, w)``, scores ``(N,)``,
        concept indices ``(N,)`` (concepts in order)."""
        missing = [self.concepts[i].name for i, p in enumerate(self._prompts) if p is None]
        if missing:
            raise PromptError(f"exemplar features missing for concept(s) {missing}")
        s = self.settings
        fpn, pos = vision.fpn[:3], vision.pos[:3]
        prompts = list(self._prompts)
        if s.text_geometry_token and any(not c.exemplars for c in self.concepts):
            # Meta's detector: a text-only prompt also carries the geometry encoder's CLS
            # token, which depends on the frame only (the same for every concept)
            from ecoseg.sam3.geometry import GeometryPrompt

            empty = GeometryPrompt.from_lists(batch_size=1, device=self.model.device)
            with self.amp():
                cls, cls_valid = self.model.detector.geometry_encoder(empty, fpn[-1], pos[-1])
            for i, c in enumerate(self.concepts):
                if not c.exemplars:
                    text, valid = prompts[i]
                    prompts[i] = (
                        torch.cat([text, cls.to(text.dtype)], 1),
                        torch.cat([valid, cls_valid], 1),
                    )
        by_len: dict[int, list[int]] = {}
        for i, (tok, _) in enumerate(prompts):
            by_len.setdefault(int(tok.shape[1]), []).append(i)
        per_concept: dict[int, tuple[Tensor, Tensor]] = {}
        for members in by_len.values():
            tokens = torch.cat([prompts[i][0] for i in members])
            valid = torch.cat([prompts[i][1] for i in members])
            with self.amp():
                out = self.model.detector.decode(fpn, pos, tokens, valid)
            scores, masks = out.scores.float(), out.masks.float()  # decided on in float32
            for j, i in enumerate(members):
                keep = nms_keep(scores[j], masks[j], s.score_threshold, s.nms_iou)
                keep &= scores[j] > s.score_threshold
                idx = torch.nonzero(keep)[:, 0]
                per_concept[i] = (masks[j, idx], scores[j, idx])
        masks = [per_concept[i][0] for i in range(len(self.concepts))]
        scores = [per_concept[i][1] for i in range(len(self.concepts))]
        concepts = [torch.full((len(x),), i, dtype=torch.long) for i, x in enumerate(scores)]
        return torch.cat(masks), torch.cat(scores), torch.cat(concepts)

    # -- one frame ------------------------------------------------------------------------
    @torch.inference_mode()
    def step(self, t: int, vision, *, detect: bool | None = None) -> ConceptStep:
        """Track frame ``t`` given its backbone output ``vision`` (tracker pyramid included)."""
        s = self.settings
        book = self.book
        if detect is None:
            detect = t % s.detect_every == 0
        # 1. propagate every tracked object together (memories written later)
        with self.amp():
            feats = self.model.tracker_features(vision)
            ids, trk_logits, trk_scores = self.tracker.predict(t, feats)
        trk_logits, trk_scores = trk_logits.float(), trk_scores.float()  # decided on in float32
        prompted_here = {i for i in ids if t in self.tracker.objects[i].cond}
        raw_logits = trk_logits[:, 0].clone()
        trk_logits = remove_specks(trk_logits, s.fill_hole_area)[:, 0]
        trk_scores = trk_scores[:, 0]
        concepts = book.concepts_of(ids)
        # 2. detect and associate
        new_ids: list[int] = []
        new_masks = None
        removed: set[int] = set()
        hidden: set[int] = set()
        recondition: dict[int, int] = {}
        det_masks = None
        if detect:
            det_masks, det_scores, det_concepts = self.detect(vision)
            rows = [k for k, c in enumerate(concepts.tolist()) if c != PROMPTED]
            assoc = associate(
                det_masks,
                det_scores,
                det_concepts,
                trk_logits[rows],
                [ids[k] for k in rows],
                concepts[rows],
                s,
            )
            new = self._not_prompted(assoc.new, det_masks, trk_logits, concepts)
            room = s.max_objects - len(ids)
            if len(new) > room:
                top = torch.topk(det_scores[new], k=max(room, 0)).indices.tolist()
                new = [new[i] for i in top]
            new_ids = book.start(t, det_concepts[new].tolist(), det_scores[new].tolist())
            new_masks = det_masks[new]
            removed, hidden = book.update(t, assoc, new_ids, s)
            if s.recondition_every > 0 and t % s.recondition_every == 0:
                for oid, d in assoc.recondition.items():
                    if float(trk_scores[ids.index(oid)]) > s.recondition_score:
                        recondition[oid] = d
        # 3. suppress overlaps, then write every tracked object's memory in one batch
        #    (objects prompted on this frame keep the memory of their prompt)
        if ids:
            trk_logits = self._suppress_occluded(t, ids, trk_logits, concepts, removed)
            memory_masks = trk_logits[:, None].clone()
            for oid, d in recondition.items():
                row = ids.index(oid)
                if not s.recondition_on_track_masks:
                    memory_masks[row, 0] = (det_masks[d] >= s.mask_input_threshold).float()
                self.tracker.recondition(oid, t)
            memory_masks = shrink_suppression(memory_masks, concepts, s.shrink_ratio)
            present = (memory_masks > 0).flatten(1).any(1, keepdim=True)
            mem_scores = torch.where(present, 10.0, -10.0).to(memory_masks.dtype)
            keep = [k for k, i in enumerate(ids) if i not in prompted_here]
            with self.amp():
                self.tracker.remember(
                    t, feats, [ids[k] for k in keep], memory_masks[keep], mem_scores[keep]
                )
        # 4. start new tracks from their detections' masks, remove the removed ones
        if new_ids:
            binary = (new_masks >= s.mask_input_threshold).float()[:, None]
            if s.reencode_on_new_objects and ids:
                again = [i for i in ids if t not in self.tracker.objects[i].cond]
                rows = [ids.index(i) for i in again]
                high = upsample_logits(
                    raw_logits[rows][:, None], (self.tracker.model.image_size,) * 2
                )
                with self.amp():
                    self.tracker.remember(
                        t, feats, again, high, trk_scores[rows][:, None], binarize=True
                    )
            with self.amp():
                self.tracker.start(t, feats, new_ids, binary, multimask=s.mask_prompt_multimask)
        for oid in removed:
            if oid in self.tracker.objects:
                self.tracker.remove_object(oid)
        self.tracker.finish(t)
        # 5. outputs: tracked masks (suppressed), new detections' masks, re-prompted ones
        out_logits = trk_logits
        probs = trk_scores.sigmoid()
        new_probs = torch.tensor([book.det_score[i] for i in new_ids], device=probs.device)
        if s.shift_ids_on_removal and removed:
            out_logits, probs, new_probs = shift_rows_past_removed(
                ids, removed, new_ids, out_logits, probs, new_probs
            )
        for oid, d in recondition.items():
            out_logits[ids.index(oid)] = det_masks[d]
        out_ids = list(ids)
        if new_ids:
            nm = remove_specks(new_masks[:, None], s.fill_hole_area)[:, 0]
            out_logits = torch.cat([out_logits, nm.to(out_logits.dtype)])
            probs = torch.cat([probs, new_probs.to(probs.dtype)])
            out_ids += new_ids
        book.ids = [i for i in out_ids if i not in removed]
        book.drop(removed)
        for i in new_ids:
            book.last_occluded.setdefault(i, -1)
        return ConceptStep(
            index=t,
            object_ids=out_ids,
            logits=out_logits,
            tracker_scores=probs.float(),
            concepts=[self.book.concept[i] for i in out_ids],
            class_probability=[self.book.det_score[i] for i in out_ids],
            removed=removed,
            hidden=hidden,
            detected=bool(detect),
        )

    def _not_prompted(self, new, det_masks, trk_logits, concepts) -> list[int]:
        """The new detections that overlap no prompted object (IoU >= ``match_iou``)."""
        rows = [k for k, c in enumerate(concepts.tolist()) if c == PROMPTED]
        if not rows or not new:
            return list(new)
        ious = mask_iou(det_masks[new] > 0, trk_logits[rows] > 0)
        hit = (ious >= self.settings.match_iou).any(1).tolist()
        return [d for d, h in zip(new, hit) if not h]

    def _suppress_occluded(self, t, ids, logits, concepts, removed) -> Tensor:
        s = self.settings
        book = self.book
        never, always = -1, 100000
        last = torch.tensor(
            [book.last_occluded.get(i, always if i in removed else never) for i in ids],
            dtype=torch.long,
        )
        binary = logits > 0
        if s.occlusion_iou > 0:
            sup = recent_occlusion_suppression(binary, last, concepts, s.occlusion_iou)
        else:
            sup = torch.zeros(len(ids), dtype=torch.bool)
        occluded = ~binary.flatten(1).any(1).cpu() | sup
        for k, i in enumerate(ids):
            book.last_occluded[i] = t if occluded[k] else int(last[k])
        if sup.any():
            logits = logits.clone()
            logits[sup.to(logits.device)] = NO_OBJECT_LOGIT
        return logits
