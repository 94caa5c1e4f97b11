"""Streaming concept tracking over a whole video: frames in, per-frame results out.

:class:`ConceptRun` decodes and preprocesses frames in a prefetch thread, encodes each frame
once (:class:`~ecoseg.engine._runtime.FrameEncoder`), runs
:class:`~ecoseg.engine.concept_tracker.ConceptTracker` on it and turns its decisions into
:class:`~ecoseg.engine.results.FrameResult` label images. Outputs are held back
``hotstart_delay`` frames (SAM 3's hot start), so a track removed within that time never shows;
only those few frames of low-resolution masks are kept, whatever the video's length.

Exemplar boxes are pooled on their own frame before tracking starts (that frame is decoded
and encoded once more), so no backward pass is needed: the concept's tokens are the same on
every frame, before and after the exemplar's.

Every track carries its concept as class: ``objects[id] = {"class": name, "source":
"concept", "class_source": "concept", "class_probability": detection score}``.

Exports
-------
ConceptRun
    ``ConceptRun(model, video, concepts, settings=None, tokenizer=None)``; ``run(cancel=None)``
    yields results in frame order; ``objects`` describes every track seen so far.
track_concepts
    The same as a generator function.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from ecoseg.engine._runtime import FrameEncoder, as_video, is_cancelled, prefetch
from ecoseg.engine.concept_rules import ConceptSettings, output_masks
from ecoseg.engine.concept_tracker import ConceptStep, ConceptTracker
from ecoseg.engine.results import FrameResult
from ecoseg.errors import PromptError
from ecoseg.prompts import Concept

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


def concept_tokenizer(name: str, pretrained: bool):
    """The vocabulary downloaded with ``name``'s weights; for random weights without it,
    :func:`byte_tokenizer`."""
    from ecoseg.errors import CheckpointError
    from ecoseg.sam3.weights import load_tokenizer

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
    """

    def __init__(
        self,
        model,
        video,
        concepts: Sequence[Concept],
        settings: ConceptSettings | None = None,
        *,
        tokenizer: Callable | None = None,
    ):
        self.model = model
        self.video = as_video(video)
        self.concepts = list(concepts)
        self.settings = settings or ConceptSettings()
        n = len(self.video)
        for c in self.concepts:
            for e in c.exemplars:
                if not 0 <= e.frame < n:
                    raise PromptError(
                        f"concept {c.name!r}: exemplar frame {e.frame} is outside the video "
                        f"(0..{n - 1})"
                    )
        self.tracker = ConceptTracker(
            model,
            self.concepts,
            n,
            (self.video.height, self.video.width),
            self.settings,
            tokenizer=tokenizer,
        )
        self.encoder = FrameEncoder(model, model.device, fn=model.encode_image)
        self.objects: dict[int, dict] = {}

    def _pixels(self, image: np.ndarray) -> torch.Tensor:
        from ecoseg.sam3.predictor import preprocess

        cfg = self.model.config
        return preprocess(image, self.model.image_size, cfg.image_mean, cfg.image_std)

    def _prepare(self) -> None:
        for f in self.tracker.exemplar_frames():
            image = self.video.read(f).image
            vision = self.encoder(-1 - f, pixels=self._pixels(image))
            self.tracker.add_exemplars(f, vision)

    def run(self, cancel=None) -> Iterator[FrameResult]:
        """Results of every frame in order (stops early, without error, when ``cancel`` is
        set; the caller decides what a cancelled run means)."""
        self._prepare()
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
                vision = self.encoder(index, pixels=px)
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
            if oid not in self.objects:
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
        labels = np.zeros(size, np.uint32)
        if ids:
            # across concepts a pixel goes to the track with the higher tracker score
            order = torch.argsort(scores.cpu().double(), stable=True).tolist()
            m = masks.cpu().numpy()
            for k in order:
                labels[m[k]] = ids[k]
            # a track whose every pixel went to another concept's track is not on this frame
            # (else the store lists an object with no pixels)
            lost = m.any(axis=(1, 2)) & ~np.isin(np.asarray(ids, np.int64), np.unique(labels))
            if lost.any():
                ids = [i for i, gone in zip(ids, lost) if not gone]
                scores = scores[torch.as_tensor(~lost, device=scores.device)]
        return FrameResult(
            index=step.index,
            time=float(time),
            object_ids=np.asarray(ids, np.int64),
            scores=scores.cpu().numpy().astype(np.float32),
            labels=labels,
        )


def track_concepts(model, video, concepts, settings=None, *, tokenizer=None, cancel=None):
    """Concept tracking results of every frame (see :class:`ConceptRun`).

    Examples
    --------
    >>> from ecoseg.prompts import Concept
    >>> track_concepts(None, [], [])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: concept tracking needs at least one concept ...
    """
    if not concepts:
        raise PromptError("concept tracking needs at least one concept (text or exemplars)")
    return ConceptRun(model, video, concepts, settings, tokenizer=tokenizer).run(cancel)
