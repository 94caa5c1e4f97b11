"""Find every instance of a concept in a still image with SAM 3.

:class:`ConceptPredictor` encodes an image once (:meth:`~ConceptPredictor.set_image`, or
implicitly in :meth:`~ConceptPredictor.predict`) and answers any number of concepts on it: a
noun phrase (``"parrotfish"``), exemplar boxes around instances (positive, or negative for
"not this"), or both. Several concepts in one call run as one batch over the same image
encoding; each text's encoding is cached, so the same concepts on many images cost one text
pass.

Preprocessing is transformers' ``Sam3ImageProcessor`` (and Meta's): the uint8 RGB image is
resized to ``image_size`` x ``image_size`` (bilinear with antialiasing, on uint8 as torchvision
does), then scaled to [-1, 1] (mean 0.5, std 0.5). Postprocessing is transformers'
``post_process_instance_segmentation``: score = ``sigmoid(logit) * sigmoid(presence)``,
queries above ``score_threshold`` are kept (no NMS: the oracle does none), their mask
probabilities are resized bilinearly to the image and cut at ``mask_threshold``, and their
boxes are scaled to pixels. The default threshold is Meta's (0.5; transformers' is 0.3).

A text-only prompt also carries the geometry encoder's CLS token, as in Meta's image model
(``always_encode_geometry=True``); transformers' port leaves it out (``False``).

``points=`` / ``boxes=`` are SAM 2-style prompts for single objects (Meta's "instance
interactivity"): they go through SAM 3's tracker (SAM 2.1's prompt encoder and mask decoder on
the backbone's tracker pyramid, with the "no memory" embedding added as for a first frame),
exactly as :class:`ecoseg.sam2.ImagePredictor` does for SAM 2. The tracker pyramid is computed
on the first such prompt for an image.

The model must provide ``image_size``, ``encode_image(images, tracker=False)`` (with ``fpn``
and ``pos``), ``encode_text(ids)`` (with ``features`` and ``mask``) and ``detector`` (a
:class:`~ecoseg.sam3.detector.ConceptDetector`), as :class:`ecoseg.sam3.model.SAM3Model`
does; the tokenizer is ``tokenizer=`` or the model's ``tokenizer``.

Exports
-------
``ConceptInstances``
    Frozen dataclass, one per concept: ``concept``, ``masks (N, H, W)`` bool, ``boxes
    (N, 4)`` xyxy pixels, ``scores (N,)``, ``presence`` (the concept's presence score). For
    point/box prompts the concept is ``"object"``, one instance per prompted object, the
    boxes are the masks' bounding boxes, the scores the predicted IoUs and ``presence`` the
    object score.
``ConceptPredictor(model, *, tokenizer=None, score_threshold=0.5, mask_threshold=0.5,
always_encode_geometry=True)``
    ``set_image(image)``, ``predict(image=None, text=None, exemplars=None, points=None,
    boxes=None) -> ConceptInstances | list[ConceptInstances]``, ``reset()``.
``preprocess(image, image_size, mean=(0.5,)*3, std=(0.5,)*3, *, device=None) -> Tensor``
``VISUAL_PROMPT``
    The text given with exemplars alone (``"visual"``, as Meta and transformers do).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ecoseg._prompt_concepts import Concept
from ecoseg._prompt_values import (
    check_box,
    check_concept_names,
    check_concept_text,
    click_labels,
    exemplar_label,
    fit_box,
    float_array,
    image_boxes,
    image_points,
    is_number,
    shown,
)
from ecoseg.errors import ConfigError, PromptError
from ecoseg.sam2.predictor import check_image, decode_prompts
from ecoseg.sam3._det_ops import box_xyxy_to_cxcywh
from ecoseg.sam3.geometry import GeometryPrompt

__all__ = ["ConceptInstances", "ConceptPredictor", "preprocess", "VISUAL_PROMPT", "OBJECT_PROMPT"]

VISUAL_PROMPT = "visual"
OBJECT_PROMPT = "object"
_TEXT_CACHE = 64


def preprocess(
    image: np.ndarray,
    image_size: int,
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5),
    std: tuple[float, float, float] = (0.5, 0.5, 0.5),
    *,
    device=None,
) -> Tensor:
    """``(H, W, 3)`` uint8 RGB -> ``(1, 3, S, S)`` float32, as SAM 3's image processor.

    Examples
    --------
    >>> import numpy as np
    >>> x = preprocess(np.full((10, 20, 3), 255, np.uint8), 28)
    >>> tuple(x.shape), float(x.max())
    ((1, 3, 28, 28), 1.0)
    """
    arr = check_image(image)
    x = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None]
    size = (image_size, image_size)
    if tuple(arr.shape[:2]) != size:
        try:  # torchvision resizes uint8 natively on the CPU
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        except RuntimeError:  # pragma: no cover - torch builds without the uint8 kernel
            x = F.interpolate(x.float(), size=size, mode="bilinear", antialias=True)
            x = x.round().clamp(0, 255)
    x = x.to(device=device, dtype=torch.float32)
    m = torch.tensor(mean, device=x.device).view(1, 3, 1, 1) * 255
    s = torch.tensor(std, device=x.device).view(1, 3, 1, 1) * 255
    return (x - m) / s


@dataclass(frozen=True)
class ConceptInstances:
    """Every instance found for one concept on one image.

    Attributes
    ----------
    concept : str
        The text prompt (``"visual"`` for exemplars alone).
    masks : numpy.ndarray
        ``(N, H, W)`` bool at the image's size.
    boxes : numpy.ndarray
        ``(N, 4)`` float32 ``x0, y0, x1, y1`` in image pixels.
    scores : numpy.ndarray
        ``(N,)`` float32, presence x detection score, highest first.
    presence : float
        The concept's presence score on the image (``sigmoid`` of the presence logit).

    Examples
    --------
    >>> ConceptInstances("parrotfish", np.zeros((1, 48, 64), bool),
    ...                  np.array([[2, 4, 20, 30]], np.float32), np.array([0.9], np.float32), 0.95)
    <ConceptInstances 'parrotfish': 1 instance, masks (1, 48, 64) bool, scores [0.9], \
presence 0.95>
    """

    concept: str
    masks: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    presence: float

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def __repr__(self) -> str:  # the masks' shape, not their pixels (a wall in a notebook)
        n = len(self)
        scores = [round(float(x), 3) for x in np.asarray(self.scores)[:8]]
        more = ", ..." if n > len(scores) else ""
        return (
            f"<ConceptInstances {self.concept!r}: {n} instance{'' if n == 1 else 's'}, masks "
            f"{tuple(self.masks.shape)} {self.masks.dtype}, scores {str(scores)[:-1]}{more}], "
            f"presence {float(self.presence):.3g}>"
        )


class ConceptPredictor:
    """Segment every instance of one or more concepts in still images.

    Parameters
    ----------
    model : SAM3Model
        A SAM 3 model (:func:`ecoseg.sam3.build`), in eval mode.
    tokenizer : callable, optional
        ``texts -> LongTensor (B, 32)``; default ``model.tokenizer``.
    score_threshold : float
        Keep instances whose score exceeds this (Meta's default 0.5; transformers' is 0.3).
    mask_threshold : float
        Cut for the mask probabilities resized to the image.
    always_encode_geometry : bool
        Give text-only prompts the geometry CLS token too, as Meta's model does.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from ecoseg import sam3
    >>> _ = torch.manual_seed(0)
    >>> model = sam3.build("sam3-reduced", pretrained=False, device="cpu")
    >>> predictor = sam3.ConceptPredictor(model)  # concepts need tokenizer=sam3.load_tokenizer()
    >>> found = predictor.predict(np.zeros((60, 80, 3), np.uint8), points=[[40, 30]])
    >>> found.concept, found.masks.shape, found.boxes.shape
    ('object', (1, 60, 80), (1, 4))
    """

    def __init__(
        self,
        model,
        *,
        tokenizer=None,
        score_threshold: float = 0.5,
        mask_threshold: float = 0.5,
        always_encode_geometry: bool = True,
    ) -> None:
        missing = [
            n
            for n in ("image_size", "encode_image", "encode_text", "detector")
            if not hasattr(model, n)
        ]
        if missing:  # a SAM 2 model, a checkpoint path: AttributeError at the first predict
            raise ConfigError(
                f"model: expected a SAM 3 model (ecoseg.sam3.build(...)), got a "
                f"{type(model).__name__} (it has no {', '.join(missing)})"
            )
        if tokenizer is not None and not callable(tokenizer):
            raise ConfigError(
                f"tokenizer: expected a Tokenizer (sam3.load_tokenizer() or "
                f"sam3.Tokenizer.from_file(PATH)), got a {type(tokenizer).__name__} {tokenizer!r}"
            )
        self.model = model
        self.tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        self.score_threshold = _probability("score_threshold", score_threshold)
        self.mask_threshold = _probability("mask_threshold", mask_threshold)
        self.always_encode_geometry = bool(always_encode_geometry)
        self.image_size = int(model.image_size)
        config = getattr(model, "config", None)
        self._mean = tuple(getattr(config, "image_mean", (0.5, 0.5, 0.5)))
        self._std = tuple(getattr(config, "image_std", (0.5, 0.5, 0.5)))
        self._features = None
        self._pixels: Tensor | None = None
        self._tracker_frame = None
        self._orig_hw: tuple[int, int] | None = None
        self._text_cache: OrderedDict[str, tuple[Tensor, Tensor]] = OrderedDict()

    @property
    def device(self) -> torch.device:
        """Device of the model's parameters."""
        return next(self.model.parameters()).device

    @property
    def original_size(self) -> tuple[int, int] | None:
        """``(H, W)`` of the current image, or None before :meth:`set_image`."""
        return self._orig_hw

    def reset(self) -> None:
        """Forget the current image (cached text encodings are kept)."""
        self._features, self._orig_hw = None, None
        self._pixels, self._tracker_frame = None, None

    @torch.no_grad()
    def set_image(self, image: np.ndarray) -> None:
        """Encode ``image`` (``(H, W, 3)`` uint8 RGB) once for the following predictions."""
        arr = check_image(image)
        dtype = next(self.model.parameters()).dtype
        self.reset()
        x = preprocess(arr, self.image_size, self._mean, self._std, device=self.device)
        self._pixels = x.to(dtype)
        self._features = self.model.encode_image(self._pixels, tracker=False)
        self._orig_hw = (int(arr.shape[0]), int(arr.shape[1]))

    def _encode_texts(self, texts: list[str]) -> tuple[Tensor, Tensor]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._text_cache]
        if missing:
            if self.tokenizer is None:
                raise ConfigError(
                    "no tokenizer: pass ConceptPredictor(model, tokenizer=Tokenizer.from_file("
                    "PATH)) with the vocabulary that comes with the SAM 3 weights"
                )
            ids = torch.as_tensor(self.tokenizer(missing), device=self.device)
            encoded = self.model.encode_text(ids)
            for i, text in enumerate(missing):
                self._text_cache[text] = (encoded.features[i], encoded.mask[i])
        for text in texts:
            self._text_cache.move_to_end(text)
        while len(self._text_cache) > _TEXT_CACHE:
            self._text_cache.popitem(last=False)
        feats = torch.stack([self._text_cache[t][0] for t in texts])
        valid = torch.stack([self._text_cache[t][1] for t in texts]).bool()
        return feats, valid

    def _exemplars(self, exemplars, batch: int) -> GeometryPrompt | None:
        if exemplars is None:
            if not self.always_encode_geometry:
                return None
            return GeometryPrompt.from_lists(batch_size=batch, device=self.device)
        h, w = self._orig_hw
        boxes, labels = _parse_exemplars(exemplars, w, h)
        scale = np.array([w, h, w, h], np.float32)
        cxcywh = box_xyxy_to_cxcywh(torch.from_numpy(boxes / scale)).tolist()
        return GeometryPrompt.from_lists(
            boxes=[cxcywh] * batch, box_labels=[labels] * batch, device=self.device
        )

    @torch.no_grad()
    def predict(
        self,
        image: np.ndarray | None = None,
        text: str | list[str] | None = None,
        exemplars=None,
        points=None,
        boxes=None,
    ) -> ConceptInstances | list[ConceptInstances]:
        """Every instance of the concept(s) on ``image`` (or on the image already set).

        Parameters
        ----------
        image : numpy.ndarray, optional
            ``(H, W, 3)`` uint8 RGB; default: the image of the last :meth:`set_image`.
        text : str or list of str, optional
            One concept, or several answered in one batch over one image encoding.
        exemplars : array-like or list of dict, optional
            Boxes ``[x0, y0, x1, y1]`` in image pixels around example instances, as an
            ``(N, 4)`` array (all positive) or as ``[{"box": [...], "label": 1 or 0}, ...]``
            (0 = a negative example). With a single concept, or alone (then the concept is
            ``"visual"``). Checked as a prompt file's exemplars are: a box of four numbers in
            one flat list (not corner pairs), not empty or inverted, not wholly outside the
            image; one that reaches past its edge is cut to it, with a warning.
        points : array-like or list of dict, optional
            Clicks ``[x, y]`` in image pixels on one object, as an ``(N, 2)`` array (all on
            the object) or ``[{"point": [x, y], "label": 1 or 0}, ...]`` (0 = background; the
            integer 1 or 0, as in a prompt file: not ``true`` or ``1.7``).
        boxes : array-like, optional
            ``[x0, y0, x1, y1]`` around one object, or ``(K, 4)`` for K objects (with
            ``points`` only one box). Points and boxes cannot be mixed with concepts. Clicks
            and boxes are checked as a prompt file's are: a click outside the image, a box
            empty, inverted or wholly outside it is refused (named by its index, with the
            image's size); a box past the edge is cut to it, with a warning.

        Returns
        -------
        ConceptInstances or list of ConceptInstances
            One per concept (a list when ``text`` is a list).

        Raises
        ------
        PromptError
            No concept given, a concept twice or two alike but for case or spacing
            (``["Fish", "fish"]``: a prompt file's rule), malformed exemplars, points or
            boxes, an exemplar box outside the image (naming the box and the image size),
            exemplars with several concepts, or points/boxes together with concepts.
        """
        if image is not None:
            self.set_image(image)
        if self._features is None:
            raise RuntimeError("give an image to predict(...) or call set_image(...) first")
        if points is not None or boxes is not None:
            if text is not None or exemplars is not None:
                raise PromptError(
                    "points/boxes prompt single objects; give them without text/exemplars"
                )
            return self._predict_objects(points, boxes)
        single = isinstance(text, str) or text is None
        if not single and not isinstance(text, (list, tuple)):
            raise PromptError(
                f"text must be a concept name or a list of them, got a {type(text).__name__}"
            )
        texts = [text] if isinstance(text, str) else list(text or [])
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                where = "text" if single else f"text[{i}]"
                raise PromptError(f"{where} must be a concept name (non-blank text), got {t!r}")
            check_concept_text(t, "text" if single else f"text[{i}]")
        # a prompt file's rule: no name twice, nor two alike but for case or spacing
        check_concept_names([Concept(t) for t in texts])
        if not texts:
            if exemplars is None:
                raise PromptError("give a concept: text=..., exemplars=... or both")
            texts = [VISUAL_PROMPT]
        if exemplars is not None and len(texts) > 1:
            raise PromptError(
                f"exemplars belong to one concept, got {len(texts)} concepts: {texts}"
            )
        geometry = self._exemplars(exemplars, len(texts))  # refused before any encoding
        feats, valid = self._encode_texts(texts)
        f = self._features
        out = self.model.detector(f.fpn, f.pos, feats, valid, geometry, masks=False)
        results = [self._postprocess(out, i, t) for i, t in enumerate(texts)]
        return results[0] if single else results

    def _postprocess(self, out, i: int, concept: str) -> ConceptInstances:
        h, w = self._orig_hw
        scores = out.scores[i].float()
        keep = torch.nonzero(scores > self.score_threshold)[:, 0]
        keep = keep[torch.argsort(scores[keep], descending=True, stable=True)]
        probs = out.mask_logits(i, keep).float().sigmoid()
        if keep.numel():
            probs = F.interpolate(probs[None], size=(h, w), mode="bilinear", align_corners=False)[0]
        else:
            probs = probs.new_zeros(0, h, w)
        scale = torch.tensor([w, h, w, h], dtype=torch.float32, device=scores.device)
        return ConceptInstances(
            concept=concept,
            masks=(probs > self.mask_threshold).cpu().numpy(),
            boxes=(out.boxes[i, keep].float() * scale).cpu().numpy(),
            scores=scores[keep].cpu().numpy(),
            presence=float(out.presence_logits[i].float().sigmoid()),
        )

    def _tracker(self):
        tracker = getattr(self.model, "tracker", None)
        if tracker is None:
            raise ConfigError("this SAM 3 model has no tracker: points/boxes need one")
        if self._tracker_frame is None:
            features = self.model.encode_image(self._pixels, tracker=True)
            self._tracker_frame = self.model.tracker_features(features)
        return tracker, self._tracker_frame

    def _predict_objects(self, points, boxes) -> ConceptInstances:
        tracker, frame = self._tracker()
        h, w = self._orig_hw
        size = self.image_size
        coords, labels = _parse_points(points) if points is not None else (None, None)
        if coords is not None:  # checked as a prompt file's clicks and boxes are
            image_points(coords, w, h)
        box = None
        if boxes is not None:
            box = float_array(boxes, "predict", "boxes")  # text, true/false, ragged, NaN
            if box.ndim not in (1, 2) or box.shape[-1] != 4:
                raise PromptError(f"boxes must be [x0, y0, x1, y1] or (K, 4), got {boxes!r}")
            box = image_boxes(box, w, h, "boxes").astype(np.float32)
            if coords is not None and len(box) != 1:
                raise PromptError(f"points go with one box, got {len(box)} boxes")
        k = 1 if box is None else len(box)
        parts, part_labels = [], []
        if box is not None:  # box corners first, labelled 2 and 3, as SAM 2 encodes boxes
            parts.append(box.reshape(k, 2, 2))
            part_labels.append(np.tile(np.array([[2, 3]]), (k, 1)))
        if coords is not None:
            parts.append(np.broadcast_to(coords, (k, *coords.shape)))
            part_labels.append(np.broadcast_to(labels, (k, len(labels))))
        xy = torch.as_tensor(np.concatenate(parts, 1), device=self.device)
        xy = xy / torch.tensor([w, h], dtype=xy.dtype, device=xy.device) * size
        lab = torch.as_tensor(np.concatenate(part_labels, 1), dtype=torch.int32, device=xy.device)
        embed = frame.features
        if tracker.variant.directly_add_no_mem_embed:
            embed = embed + tracker.no_mem_embed.view(1, -1, 1, 1).to(embed.dtype)
        multimask = box is None and len(coords) == 1
        out = decode_prompts(
            tracker, embed, list(frame.high_res), (xy, lab), multimask_output=multimask
        )
        iou = out.iou_pred.float()
        best = iou.argmax(1)
        rows = torch.arange(k, device=iou.device)
        logits = out.masks[rows, best].float()[:, None]
        logits = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)[:, 0]
        masks = (logits > 0).cpu().numpy()
        return ConceptInstances(
            concept=OBJECT_PROMPT,
            masks=masks,
            boxes=np.stack([_mask_box(m) for m in masks]).astype(np.float32),
            scores=iou[rows, best].cpu().numpy(),
            presence=float(out.object_score_logits.float().sigmoid().min()),
        )


def _probability(name: str, value) -> float:
    """``value`` as a float from 0 to 1, else a one-line ConfigError naming ``name`` (a
    percentage such as 50 found nothing, text was a bare ValueError)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not 0.0 <= number <= 1.0:
        raise ConfigError(f"{name} must be a probability from 0 to 1, got {value!r}")
    return number


def _mask_box(mask: np.ndarray) -> np.ndarray:
    """Tight ``x0, y0, x1, y1`` pixel box of a boolean mask (zeros when empty)."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return np.zeros(4, np.float32)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def _parse_points(points) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 2)`` pixel clicks and ``(N,)`` labels from an array or a list of dicts, a dict's
    label checked as a prompt file's are (:func:`ecoseg._prompt_values.click_labels`)."""
    if isinstance(points, (str, bytes)) or not hasattr(points, "__len__"):
        raise PromptError(f"points must be clicks [x, y], got {points!r}")
    items = list(points) if not isinstance(points, np.ndarray) else points
    if len(items) and isinstance(items[0], dict):
        try:
            xy = np.asarray([p["point"] for p in items], np.float32)
            given = [p.get("label", 1) for p in items]
        except (AttributeError, KeyError, TypeError, ValueError):
            message = 'points must look like [{"point": [x, y], "label": 1}, ...]'
            raise PromptError(message) from None
        labels = click_labels(given, "predict")  # 1.7 and true were read as 1 by int()
    else:
        if len(items) and not is_number(items):  # true/false read as 1/0
            raise PromptError(f"points must be clicks [x, y], got {points!r}")
        try:
            xy = np.asarray(items, np.float32) if len(items) else np.zeros((0, 2))
        except (TypeError, ValueError):  # "x", ragged lists: a numpy message naming no click
            raise PromptError(f"points must be clicks [x, y], got {points!r}") from None
        xy = xy.reshape(-1, 2) if xy.ndim == 1 and xy.size == 2 else xy
        labels = np.ones(len(xy), np.int64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0 or not np.isfinite(xy).all():
        raise PromptError(f"points must be clicks [x, y], got {points!r}")
    return xy, labels


def _parse_exemplars(exemplars, width: int, height: int) -> tuple[np.ndarray, list[int]]:
    """``(N, 4)`` xyxy pixel boxes and their labels from an array or a list of dicts, each
    checked as a prompt file's exemplar is (:func:`ecoseg._prompt_values.check_box`,
    :func:`~ecoseg._prompt_values.fit_box` against the ``width`` x ``height`` image,
    :func:`~ecoseg._prompt_values.exemplar_label`), a malformed one named by its index."""
    if not isinstance(exemplars, list | tuple | np.ndarray):  # text, a dict, a number
        raise PromptError(
            'exemplars must be a list of boxes [x0, y0, x1, y1] or of {"box": [x0, y0, x1, '
            f'y1], "label": 1}}, got {shown(exemplars)}'
        )
    items = list(exemplars)
    if items and not isinstance(items[0], list | tuple | np.ndarray | Mapping):
        items = [exemplars]  # one flat box
    if not items:
        raise PromptError(f"exemplars must be boxes [x0, y0, x1, y1], got {shown(exemplars)}")
    checked, labels = [], []
    for i, item in enumerate(items):
        where = f"exemplar {i}"
        box, label = item, 1
        if isinstance(item, Mapping):
            if "box" not in item:
                raise PromptError(
                    f'{where}: {shown(item)} has no "box" (give {{"box": [x0, y0, x1, y1], '
                    '"label": 1})'
                )
            box, label = item["box"], item.get("label", 1)
        labels.append(exemplar_label(label, where))
        box = check_box(box, where)
        cut = fit_box(box, width, height, where, "image")  # outside: refused; past: cut
        checked.append(box if cut is None else cut)
    return np.asarray(checked, np.float32), labels
