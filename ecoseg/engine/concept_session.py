"""Streaming concept tracking over a whole video: frames in, per-frame results out.

:class:`ConceptRun` decodes and preprocesses frames in a prefetch thread, encodes each frame
once (:class:`~ecoseg.engine._runtime.FrameEncoder`), runs
:class:`~ecoseg.engine.concept_tracker.ConceptTracker` on it and turns its decisions into
:class:`~ecoseg.engine.results.FrameResult` label images. Outputs are held back
``hotstart_delay`` frames (SAM 3's hot start), so a track removed within that time never shows;
only those few frames of low-resolution masks are kept, whatever the video's length.

Exemplar boxes are pooled on their own frames before tracking starts (each such frame is
decoded and encoded once more; exemplars may be on several frames), so concepts need no
backward pass: the concept's tokens are the same on every frame, before and after the
exemplars'.

SAM 2-style object prompts (clicks, boxes, masks; ``objects=``) are tracked by SAM 3's tracker
with the concept tracks. As in SAM 2's video predictor, all their prompts are added when the
forward pass reaches the earliest prompted frame; the frames before it are covered by a
backward pass of the prompted objects alone (run first, from that frame down to frame 0; its
label images are kept compressed, a few kB a frame, until the forward pass merges them with
the concept tracks'; a pixel goes to the object with the higher tracker score).

``fast=True`` runs the network (backbone, detector, tracker) under bf16 autocast as
:func:`ecoseg.segment`'s ``fast`` does for SAM 2 (:func:`~ecoseg.engine._runtime.fast_bf16`:
fp32 with a ``SlowBf16Warning`` on a CPU without bf16 instructions); the rules decide on float32
copies of its outputs (:mod:`ecoseg.engine.concept_tracker`). The default is exact fp32, on the
CPU and on CUDA.

Every track carries its concept as class: ``objects[id] = {"class": name, "source":
"concept", "class_source": "concept", "class_probability": detection score}``; prompted
objects keep their id and class (``"source": "prompt"``, ``"class_source": "prompt"``, or
``"unknown"`` without a class), and concept tracks are numbered above them.

Exports
-------
ConceptRun
    ``ConceptRun(model, video, concepts, settings=None, tokenizer=None, objects=None,
    fast=False)``;
    ``run(cancel=None)``
    yields results in frame order; ``objects`` describes every track seen so far.
track_concepts
    The same as a generator function.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from ecoseg.engine._runtime import (
    FrameEncoder,
    as_video,
    fast_bf16,
    frames_in_order,
    is_cancelled,
    prefetch,
)
from ecoseg.engine.concept_rules import ConceptSettings, output_masks
from ecoseg.engine.concept_tracker import ConceptStep, ConceptTracker, ConceptVideoTracker
from ecoseg.engine.results import FrameResult
from ecoseg.errors import PromptError
from ecoseg.prompts import Concept, Prompts, validate_concepts

__all__ = ["ConceptRun", "concept_tokenizer", "byte_tokenizer", "track_concepts"]


def byte_tokenizer(texts) -> np.ndarray:
    """A stand-in for SAM 3's vocabulary for networks with random weights (tests, benchmarks):
    start token, one id per UTF-8 byte, end token, zero padding to 32.

    Examples
    --------
    >>> byte_tokenizer(["ab"])[0, :4].tolist()
    [49406, 353, 354, 49407]
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    out = np.zeros((len(texts), 32), np.int64)
    for i, t in enumerate(texts):
        ids = [49406] + [256 + b for b in t.encode("utf-8")][:30] + [49407]
        out[i, : len(ids)] = ids
    return out


def concept_tokenizer(net, pretrained: bool):
    """The tokenizer for ``net``'s concepts: the vocabulary found with its weights (beside
    its checkpoint, see :func:`ecoseg.sam3.build`), else the one downloaded with SAM 3's
    weights; for random weights without either, :func:`byte_tokenizer`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> net = SimpleNamespace(tokenizer=str.split)  # built with a vocabulary beside its weights
    >>> concept_tokenizer(net, pretrained=True) is str.split
    True
    """
    from ecoseg.errors import CheckpointError
    from ecoseg.sam3.weights import load_tokenizer

    found = getattr(net, "tokenizer", None)
    if found is not None:
        return found
    try:
        return load_tokenizer("sam3")
    except (CheckpointError, OSError):
        if pretrained:
            raise
        return byte_tokenizer


class ConceptRun:
    """Concept tracking of one video (see the module docstring).

    Parameters
    ----------
    model : SAM3Model
    video : VideoReader or sequence of (H, W, 3) uint8 arrays
    concepts : sequence of Concept
    settings : ConceptSettings, optional
    tokenizer : callable, optional
        Default ``model.tokenizer``.
    objects : Prompts, optional
        SAM 2-style object prompts tracked with the concepts (its ``objects``; its concepts
        are ignored).
    fast : bool
        The network under bf16 autocast on any device (see the module docstring); on a CPU
        without bf16 instructions it stays fp32 with a ``SlowBf16Warning``. ``autocast``
        says what runs.
    """

    def __init__(
        self,
        model,
        video,
        concepts: Sequence[Concept],
        settings: ConceptSettings | None = None,
        *,
        tokenizer: Callable | None = None,
        objects: Prompts | None = None,
        fast: bool = False,
    ):
        self.model = model
        self.video = as_video(video)
        self.concepts = list(concepts)
        self.settings = settings or ConceptSettings()
        n = len(self.video)
        self.prompts = Prompts(tuple(objects.objects) if objects is not None else ())
        self.prompts = self.prompts.validate(self.video.width, self.video.height, n)
        for c in self.concepts:
            for e in c.exemplars:
                if not 0 <= e.frame < n:
                    raise PromptError(
                        f"concept {c.name!r}: exemplar frame {e.frame} is outside the video "
                        f"(0..{n - 1})"
                    )
        self.concepts = list(validate_concepts(self.concepts, self.video.width, self.video.height))
        #: whether the network runs under bf16 autocast
        self.autocast = fast_bf16(fast, model.device)
        self.tracker = ConceptTracker(
            model,
            self.concepts,
            n,
            (self.video.height, self.video.width),
            self.settings,
            tokenizer=tokenizer,
            first_id=max(self.prompts.object_ids, default=0) + 1,
            autocast=self.autocast,
        )
        self.encoder = FrameEncoder(model, model.device, fn=model.encode_image)
        self.objects: dict[int, dict] = {
            o.id: {
                "class": o.class_,
                "source": "prompt",
                "class_source": "unknown" if o.class_ == "unknown" else "prompt",
            }
            for o in self.prompts.objects
        }
        # frames before the first prompted one: (ids, scores, compressed label image)
        self._backward: dict[int, tuple[list[int], np.ndarray, bytes]] = {}

    def _pixels(self, image: np.ndarray) -> torch.Tensor:
        from ecoseg.sam3.predictor import preprocess

        cfg = self.model.config
        return preprocess(image, self.model.image_size, cfg.image_mean, cfg.image_std)

    def _encode(self, index: int, pixels: torch.Tensor):
        """The backbone output of a frame (``index``: the encoder's cache key)."""
        with self.tracker.amp():
            return self.encoder(index, pixels=pixels)

    def _tracker_features(self, vision):
        with self.tracker.amp():
            return self.model.tracker_features(vision)

    def _prepare(self) -> dict:
        """Pool the exemplars; the tracker features of the prompted frames."""
        exemplar_frames = set(self.tracker.exemplar_frames())
        prompt_frames = set(self.prompts.frames())
        feats = {}
        for f in sorted(exemplar_frames | prompt_frames):
            vision = self._encode(-1 - f, self._pixels(self.video.read(f).image))
            if f in exemplar_frames:
                self.tracker.add_exemplars(f, vision)
            if f in prompt_frames:
                feats[f] = self._tracker_features(vision)
        return feats

    def _track_backward(self, first: int, feats: dict, cancel, progress=None) -> bool:
        """Track the prompted objects from ``first`` back to frame 0 (SAM 2's reverse pass),
        calling ``progress(done, first)`` after each frame; False when cancelled."""
        hw = (self.video.height, self.video.width)
        tracker = ConceptVideoTracker(
            self.model.tracker, len(self.video), hw, self.model.config.mask_interpolation_size
        )
        tracker.fill_hole_area = self.settings.fill_hole_area
        with self.tracker.amp():
            for f in sorted(feats, reverse=True):
                tracker.add_prompts(f, self.prompts.at(f), feats[f])
        for frame in frames_in_order(self.video, first - 1, -1, True):
            if is_cancelled(cancel):
                return False
            vision = self._encode(frame.index, self._pixels(frame.image))
            features = self._tracker_features(vision)  # in the tracker's autocast of its own
            with self.tracker.amp():
                out = tracker.track(frame.index, features, reverse=True)
            up = torch.nn.functional.interpolate(
                out.mask_logits.float(), size=hw, mode="bilinear", align_corners=False
            )[:, 0]
            scores = out.scores[:, 0].float().sigmoid().cpu().numpy()
            masks = (up > 0).cpu().numpy()
            labels = np.zeros(hw, np.uint32)
            for k in np.argsort(scores, kind="stable"):
                labels[masks[k]] = out.object_ids[k]
            self._backward[frame.index] = (
                list(out.object_ids),
                scores.astype(np.float32),
                zlib.compress(labels.tobytes(), 1),
            )
            if progress is not None:
                progress(first - frame.index, first)
        return True

    def run(self, cancel=None, backward_progress=None) -> Iterator[FrameResult]:
        """Results of every frame in order (stops early, without error, when ``cancel`` is
        set; the caller decides what a cancelled run means).

        Prompted objects whose first prompt is after frame 0 are tracked backwards first;
        ``backward_progress(done, total)`` is called after each frame of that pass."""
        with torch.inference_mode():
            feats = self._prepare()
            first = min(feats) if feats else None
            if first and not self._track_backward(first, feats, cancel, backward_progress):
                return
        delay = max(0, self.settings.hotstart_delay)
        held: deque[tuple[ConceptStep, float]] = deque()
        hw = (self.video.height, self.video.width)

        def decoded():
            for frame in self.video.frames(0, len(self.video)):
                yield frame.index, frame.time, self._pixels(frame.image)

        stopped = False
        with torch.inference_mode():
            for index, time, px in prefetch(decoded(), 2, "ecoseg-concepts"):
                if is_cancelled(cancel):
                    stopped = True
                    break
                if index == first:
                    for f in sorted(feats, reverse=True):  # SAM 2's order: latest first
                        self.tracker.add_objects(f, self.prompts.at(f), feats[f])
                    feats = {}
                vision = self._encode(index, px)
                step = self.tracker.step(index, vision)
                self._describe(step)
                held.append((step, time))
                while len(held) > delay:
                    yield self._result(*held.popleft(), hw)
            if not stopped:
                while held:
                    yield self._result(*held.popleft(), hw)

    def _describe(self, step: ConceptStep) -> None:
        for oid, c, p in zip(step.object_ids, step.concepts, step.class_probability):
            if oid not in self.objects and c >= 0:
                self.objects[oid] = {
                    "class": self.concepts[c].name,
                    "source": "concept",
                    "class_source": "concept",
                    "class_probability": round(float(p), 6),
                }

    def masks(self, step: ConceptStep, size: tuple[int, int]):
        """Shown object ids, their binary masks at ``size`` and tracker scores (rule 6 of
        :mod:`ecoseg.engine.concept_rules`), hiding tracks removed so far."""
        hide = self.tracker.book.removed | step.hidden
        rows = [k for k, i in enumerate(step.object_ids) if i not in hide]
        ids = [step.object_ids[k] for k in rows]
        logits = step.logits[rows]
        scores = step.tracker_scores[rows]
        up = torch.nn.functional.interpolate(
            logits[:, None].float(), size=size, mode="bilinear", align_corners=False
        )[:, 0]
        nonempty = (up > 0).flatten(1).any(1).cpu()
        keep = [k for k in range(len(ids)) if nonempty[k]]
        ids = [ids[k] for k in keep]
        concepts = torch.tensor([step.concepts[rows[k]] for k in keep], dtype=torch.long)
        masks = output_masks(logits[keep], scores[keep], concepts, size)
        return ids, masks, scores[keep]

    def _result(self, step: ConceptStep, time: float, size) -> FrameResult:
        ids, masks, scores = self.masks(step, size)
        scores = scores.cpu().float().numpy()
        labels = np.zeros(size, np.uint32)
        best = np.full(size, -1.0, np.float32)
        if ids:
            # across concepts a pixel goes to the track with the higher tracker score
            m = masks.cpu().numpy()
            for k in np.argsort(scores.astype(np.float64), kind="stable"):
                labels[m[k]] = ids[k]
                best[m[k]] = scores[k]
        back = self._backward.pop(step.index, None)
        if back is not None:  # prompted objects tracked backwards (frames before their first)
            b_ids, b_scores, packed = back
            b_labels = np.frombuffer(zlib.decompress(packed), np.uint32).reshape(size)
            for k in np.argsort(b_scores, kind="stable"):
                px = (b_labels == b_ids[k]) & (b_scores[k] > best)
                labels[px] = b_ids[k]
                best[px] = b_scores[k]
        if ids:
            # a track whose every pixel went to another track is not on this frame (else the
            # store lists an object with no pixels): one of another concept (here), or of its
            # own, whose mask output_masks left empty
            lost = ~np.isin(np.asarray(ids, np.int64), np.unique(labels))
            if lost.any():
                ids = [i for i, gone in zip(ids, lost) if not gone]
                scores = scores[~lost]
        if back is not None:
            ids = list(ids) + b_ids
            scores = np.concatenate([scores, b_scores])
        return FrameResult(
            index=step.index,
            time=float(time),
            object_ids=np.asarray(ids, np.int64),
            scores=scores.astype(np.float32),
            labels=labels,
        )


def track_concepts(model, video, concepts, settings=None, *, tokenizer=None, cancel=None):
    """Concept tracking results of every frame (see :class:`ConceptRun`).

    Examples
    --------
    >>> from ecoseg.prompts import Concept, Prompts
    >>> track_concepts(None, [], [])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: concept tracking needs at least one concept ...
    """
    if not concepts:
        raise PromptError("concept tracking needs at least one concept (text or exemplars)")
    return ConceptRun(model, video, concepts, settings, tokenizer=tokenizer).run(cancel)
