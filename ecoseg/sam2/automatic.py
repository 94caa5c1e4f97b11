"""Automatic mask generation: every object in an image, without prompts.

:class:`AutomaticMaskGenerator` prompts a SAM 2 model with a regular grid of single positive
clicks, on an image embedding computed once, and keeps the masks that are good and distinct:

1. **Point grid.** ``points_per_side`` x ``points_per_side`` clicks at the centres of a regular
   grid over the image (:func:`point_grid`), run through the prompt encoder and the mask
   decoder ``points_per_batch`` at a time. With ``multimask_output`` every click gives three
   candidate masks (whole, part, sub-part), each with the decoder's predicted IoU.
2. **Predicted-IoU filter.** Candidates whose predicted IoU is not above ``pred_iou_thresh``
   are dropped.
3. **Stability filter.** The logits are resized to the image size and cut at
   ``mask_threshold + offset`` and ``mask_threshold - offset``; the IoU of those two masks
   (:func:`stability_score`) must be at least ``stability_score_thresh``: a mask whose edge
   moves a lot when the cut moves is not a clean object.
4. **Size limits** (not in the official generator; off by default). Masks smaller than
   ``min_area`` or larger than ``max_area`` pixels are dropped, before the NMS so that an
   oversized mask does not suppress the good ones inside it.
5. **Box NMS.** Greedy non-maximum suppression on the masks' bounding boxes, highest
   predicted IoU first, drops masks whose box overlaps a kept one by more than
   ``box_nms_thresh`` (:func:`box_nms`).

With the same settings and weights this is the official
``sam2.automatic_mask_generator.SAM2AutomaticMaskGenerator`` (``sam2`` 1.1.0) without crop
layers, mask-to-mask refinement and small-region post-processing (``crop_n_layers=0``,
``use_m2m=False``, ``min_mask_region_area=0``, its defaults apart from the first). Results are
sorted by predicted IoU, highest first, as the official ones are. Differences by design: masks
empty at ``mask_threshold`` are always dropped (the official generator keeps them, with a zero
box, only when ``stability_score_thresh`` is 0), and boxes are reported as pixel boxes with
exclusive ends (``x1 = last column + 1``) where the official record has the last column.

:meth:`AutomaticMaskGenerator.generate` takes an RGB image (official image preprocessing);
:meth:`AutomaticMaskGenerator.generate_from_features` takes the features a video engine has
already computed for a frame (:class:`~ecoseg.sam2.model.FrameFeatures`), so proposals on a
key frame cost only the decoder.

Examples
--------
>>> import numpy as np
>>> from ecoseg import sam2
>>> model = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
>>> gen = AutomaticMaskGenerator(model, points_per_side=4, pred_iou_thresh=0.0,
...                              stability_score_thresh=0.0)
>>> found = gen.generate(np.zeros((40, 60, 3), np.uint8))
>>> found.masks.shape[1:], len(found) == len(found.boxes)
((40, 60), True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ecoseg.errors import ConfigError
from ecoseg.sam2.predictor import decode_prompts

__all__ = [
    "AutomaticMaskGenerator",
    "MaskProposals",
    "box_nms",
    "masks_to_boxes",
    "point_grid",
    "stability_score",
]


# ---------------------------------------------------------------------------------------
# pure helpers
# ---------------------------------------------------------------------------------------
def point_grid(n_per_side: int) -> np.ndarray:
    """Centres of an ``n x n`` grid over the unit square, ``(x, y)`` row by row.

    Parameters
    ----------
    n_per_side : int

    Returns
    -------
    ndarray of float64, shape (n * n, 2)

    Examples
    --------
    >>> point_grid(2).tolist()
    [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]]
    """
    n = int(n_per_side)
    if n < 1:
        raise ConfigError(f"points_per_side must be >= 1, got {n_per_side}")
    offset = 1.0 / (2 * n)
    side = np.linspace(offset, 1.0 - offset, n)
    xs = np.tile(side[None, :], (n, 1))
    ys = np.tile(side[:, None], (1, n))
    return np.stack([xs, ys], axis=-1).reshape(-1, 2)


def stability_score(logits: Tensor, threshold: float = 0.0, offset: float = 1.0) -> Tensor:
    """IoU of a mask cut at ``threshold + offset`` and at ``threshold - offset``.

    The first mask lies inside the second, so this is a ratio of pixel counts. It is NaN where
    the outer mask is empty (no mask at all), which no threshold keeps.

    Parameters
    ----------
    logits : Tensor, shape (..., H, W)
    threshold, offset : float

    Returns
    -------
    Tensor of float32, shape (...)

    Examples
    --------
    >>> round(float(stability_score(torch.tensor([[3.0, 0.5], [-0.5, -3.0]]))), 3)
    0.333
    """
    inner = (logits > threshold + offset).flatten(-2).sum(-1, dtype=torch.int64)
    outer = (logits > threshold - offset).flatten(-2).sum(-1, dtype=torch.int64)
    return inner.float() / outer.float()


def masks_to_boxes(masks: Tensor) -> Tensor:
    """Bounding boxes ``(x0, y0, x1, y1)`` of boolean masks, ends inclusive (last pixel).

    Empty masks get ``(0, 0, 0, 0)``.

    Parameters
    ----------
    masks : Tensor of bool, shape (N, H, W)

    Returns
    -------
    Tensor of int64, shape (N, 4)

    Examples
    --------
    >>> m = torch.zeros(1, 4, 5, dtype=torch.bool); m[0, 1:3, 2:5] = True
    >>> masks_to_boxes(m).tolist()
    [[2, 1, 4, 2]]
    """
    n, h, w = masks.shape
    if n == 0:
        return torch.zeros(0, 4, dtype=torch.int64, device=masks.device)
    rows = masks.any(dim=2)  # (N, H)
    cols = masks.any(dim=1)  # (N, W)
    ys = torch.arange(h, device=masks.device)
    xs = torch.arange(w, device=masks.device)
    y1 = torch.where(rows, ys, -1).amax(1)
    y0 = torch.where(rows, ys, h).amin(1)
    x1 = torch.where(cols, xs, -1).amax(1)
    x0 = torch.where(cols, xs, w).amin(1)
    boxes = torch.stack([x0, y0, x1, y1], dim=1)
    empty = ~rows.any(1)
    return torch.where(empty[:, None], torch.zeros_like(boxes), boxes)


def box_iou(a: Tensor, b: Tensor) -> Tensor:
    """Pairwise IoU of ``(x0, y0, x1, y1)`` boxes with area ``(x1 - x0) * (y1 - y0)``.

    Examples
    --------
    >>> box_iou(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 0, 3, 2]])).tolist()
    [[0.3333333432674408]]
    """
    a, b = a.float(), b.float()
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def box_nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression.

    Boxes are visited from the highest score down; a box is kept unless its IoU (see
    :func:`box_iou`) with a box kept before it is greater than ``iou_threshold``.

    Parameters
    ----------
    boxes : Tensor, shape (N, 4)
    scores : Tensor, shape (N,)
    iou_threshold : float

    Returns
    -------
    Tensor of int64
        Indices of the kept boxes, highest score first.

    Examples
    --------
    >>> b = torch.tensor([[0.0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]])
    >>> box_nms(b, torch.tensor([0.5, 0.9, 0.7]), 0.5).tolist()
    [1, 2]
    """
    n = boxes.shape[0]
    if n == 0:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    order = torch.argsort(scores, descending=True, stable=True)
    iou = box_iou(boxes[order], boxes[order]).float().cpu().numpy()
    over = iou > iou_threshold  # NaN (two empty boxes) compares False
    suppressed = np.zeros(n, dtype=bool)
    keep = []
    for i in range(n):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= over[i]
    return order[torch.as_tensor(keep, dtype=torch.int64, device=order.device)]


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MaskProposals:
    """Masks found by :class:`AutomaticMaskGenerator`, best first.

    Attributes
    ----------
    masks : ndarray of bool, shape (N, H, W)
        At the size asked for (the image's by default).
    boxes : ndarray of float32, shape (N, 4)
        ``(x0, y0, x1, y1)`` pixel boxes, ends exclusive.
    areas : ndarray of int64, shape (N,)
        Mask areas in pixels.
    predicted_iou : ndarray of float32, shape (N,)
        The decoder's estimate of each mask's quality.
    stability_score : ndarray of float32, shape (N,)
    points : ndarray of float32, shape (N, 2)
        The click ``(x, y)`` (pixels of the mask size) that produced each mask.
    object_score : ndarray of float32, shape (N,)
        The decoder's object-presence logit (> 0: an object), not used for filtering.
    """

    masks: np.ndarray = field(repr=False)
    boxes: np.ndarray
    areas: np.ndarray
    predicted_iou: np.ndarray
    stability_score: np.ndarray
    points: np.ndarray
    object_score: np.ndarray

    def __len__(self) -> int:
        return int(self.masks.shape[0])

    def select(self, index) -> MaskProposals:
        """The proposals at ``index`` (an index array or boolean mask)."""
        index = np.asarray(index)
        return MaskProposals(
            **{k: getattr(self, k)[index] for k in self.__dataclass_fields__}  # type: ignore[arg-type]
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per mask in the layout of the official generator's output.

        ``segmentation`` (H, W) bool, ``bbox`` ``[x, y, w, h]`` (``w = x1 - x0`` with the
        last column as ``x1``, as the official record), ``area``, ``predicted_iou``,
        ``point_coords``, ``stability_score``.

        Examples
        --------
        >>> p = MaskProposals(np.ones((1, 2, 3), bool), np.array([[0, 0, 3, 2]], np.float32),
        ...                   np.array([6]), np.array([0.9], np.float32),
        ...                   np.array([1.0], np.float32), np.array([[1.5, 1.0]], np.float32),
        ...                   np.array([5.0], np.float32))
        >>> p.to_records()[0]["bbox"]
        [0.0, 0.0, 2.0, 1.0]
        """
        out = []
        for i in range(len(self)):
            x0, y0, x1, y1 = (float(v) for v in self.boxes[i])
            out.append(
                {
                    "segmentation": self.masks[i],
                    "area": int(self.areas[i]),
                    "bbox": [x0, y0, x1 - x0 - 1.0, y1 - y0 - 1.0],
                    "predicted_iou": float(self.predicted_iou[i]),
                    "point_coords": [self.points[i].tolist()],
                    "stability_score": float(self.stability_score[i]),
                }
            )
        return out


def _empty_proposals(h: int, w: int) -> MaskProposals:
    f32 = np.zeros(0, np.float32)
    return MaskProposals(
        np.zeros((0, h, w), bool),
        np.zeros((0, 4), np.float32),
        np.zeros(0, np.int64),
        f32,
        f32.copy(),
        np.zeros((0, 2), np.float32),
        f32.copy(),
    )


# ---------------------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------------------
class AutomaticMaskGenerator:
    """Find the objects in an image with a grid of clicks (see the module docstring).

    Parameters
    ----------
    model : SAM2Model
        A SAM 2 model (e.g. from :func:`ecoseg.sam2.build`), in eval mode.
    points_per_side : int
        Grid of ``points_per_side ** 2`` clicks (32).
    points_per_batch : int
        Clicks decoded at once (64); more is faster and needs more memory
        (``3 * points_per_batch`` float masks of the output size).
    pred_iou_thresh : float
        Keep masks whose predicted IoU is above this (0.8; 0 disables the filter).
    stability_score_thresh : float
        Keep masks whose stability score is at least this (0.95; 0 disables the filter).
    stability_score_offset : float
        Logit offset of the two cuts of the stability score (1.0).
    mask_threshold : float
        Logit threshold of the masks (0.0).
    box_nms_thresh : float
        Box IoU above which the lower-ranked of two masks is dropped (0.7).
    min_area, max_area : float, optional
        Keep masks of at least / at most this many pixels (of the output size); default
        no limit.
    multimask_output : bool
        Three candidate masks per click (True).

    Examples
    --------
    >>> from ecoseg import sam2
    >>> m = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
    >>> AutomaticMaskGenerator(m, points_per_side=8).n_points
    64
    """

    def __init__(
        self,
        model,
        *,
        points_per_side: int = 32,
        points_per_batch: int = 64,
        pred_iou_thresh: float = 0.8,
        stability_score_thresh: float = 0.95,
        stability_score_offset: float = 1.0,
        mask_threshold: float = 0.0,
        box_nms_thresh: float = 0.7,
        min_area: float | None = None,
        max_area: float | None = None,
        multimask_output: bool = True,
    ) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ConfigError(f"automatic mask generator: {what}")

        need(int(points_per_side) >= 1, f"points_per_side must be >= 1, got {points_per_side}")
        need(int(points_per_batch) >= 1, f"points_per_batch must be >= 1, got {points_per_batch}")
        need(
            0.0 <= pred_iou_thresh <= 1.0,
            f"pred_iou_thresh must be in [0, 1], got {pred_iou_thresh}",
        )
        need(
            0.0 <= stability_score_thresh <= 1.0,
            f"stability_score_thresh must be in [0, 1], got {stability_score_thresh}",
        )
        need(
            stability_score_offset >= 0,
            f"stability_score_offset must be >= 0, got {stability_score_offset}",
        )
        need(
            0.0 <= box_nms_thresh <= 1.0, f"box_nms_thresh must be in [0, 1], got {box_nms_thresh}"
        )
        need(min_area is None or min_area >= 0, f"min_area must be >= 0, got {min_area}")
        need(
            max_area is None or max_area >= (min_area or 0),
            f"max_area must be >= min_area, got {max_area}",
        )
        self.model = model
        self.points_per_side = int(points_per_side)
        self.points_per_batch = int(points_per_batch)
        self.pred_iou_thresh = float(pred_iou_thresh)
        self.stability_score_thresh = float(stability_score_thresh)
        self.stability_score_offset = float(stability_score_offset)
        self.mask_threshold = float(mask_threshold)
        self.box_nms_thresh = float(box_nms_thresh)
        self.min_area = None if min_area is None else float(min_area)
        self.max_area = None if max_area is None else float(max_area)
        self.multimask_output = bool(multimask_output)
        self.grid = point_grid(self.points_per_side)

    @property
    def n_points(self) -> int:
        """Clicks per image."""
        return len(self.grid)

    # -- entry points -----------------------------------------------------------------
    @torch.no_grad()
    def generate(self, image: np.ndarray) -> MaskProposals:
        """Masks of the objects in an RGB image.

        Parameters
        ----------
        image : ndarray of uint8, shape (H, W, 3)

        Returns
        -------
        MaskProposals
            Masks at the image size, best (highest predicted IoU) first.

        Examples
        --------
        >>> import numpy as np
        >>> from ecoseg import sam2
        >>> m = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
        >>> gen = AutomaticMaskGenerator(m, points_per_side=2, pred_iou_thresh=0,
        ...                              stability_score_thresh=0, box_nms_thresh=1.0)
        >>> gen.generate(np.zeros((32, 32, 3), np.uint8)).masks.dtype
        dtype('bool')
        """
        from ecoseg.sam2.predictor import ImagePredictor

        predictor = ImagePredictor(self.model)
        predictor.set_image(image)
        embed = predictor.image_embedding
        high_res = predictor.high_res_features
        return self.generate_from_embedding(embed, high_res, predictor.original_size)

    @torch.no_grad()
    def generate_from_features(self, features, size: tuple[int, int]) -> MaskProposals:
        """Masks from a frame's already computed features (no image encoder run).

        Parameters
        ----------
        features : FrameFeatures
            One frame's features from :meth:`~ecoseg.sam2.model.SAM2Model.encode_image`.
        size : tuple of int
            ``(H, W)`` of the masks to return (e.g. the video size, or a smaller work size:
            the memory needed grows with it).

        Returns
        -------
        MaskProposals

        Examples
        --------
        >>> from ecoseg import sam2
        >>> m = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
        >>> with torch.no_grad():
        ...     f = m.encode_image(torch.zeros(1, 3, 64, 64))
        >>> gen = AutomaticMaskGenerator(m, points_per_side=2, pred_iou_thresh=0,
        ...                              stability_score_thresh=0)
        >>> gen.generate_from_features(f, (24, 30)).masks.shape[1:]
        (24, 30)
        """
        if features.batch_size != 1:
            raise ValueError(f"features of one frame expected, got {features.batch_size}")
        embed = self.model.condition_without_memory(features.features, features.pos)
        return self.generate_from_embedding(embed, list(features.high_res), size)

    @torch.no_grad()
    def generate_from_embedding(
        self, embedding: Tensor, high_res: list[Tensor], size: tuple[int, int]
    ) -> MaskProposals:
        """Masks from an image embedding as the SAM heads see it.

        Parameters
        ----------
        embedding : Tensor, shape (1, C, h, w)
            Stride-16 embedding, "no memory" token already added (as
            :attr:`ImagePredictor.image_embedding <ecoseg.sam2.predictor.ImagePredictor.
            image_embedding>`).
        high_res : list of Tensor
            The decoder's projected stride-4/8 features (may be empty).
        size : tuple of int
            ``(H, W)`` of the output masks (the image's size).

        Returns
        -------
        MaskProposals
        """
        h, w = int(size[0]), int(size[1])
        if h < 1 or w < 1:
            raise ValueError(f"mask size must be positive, got {size}")
        device = embedding.device
        points = torch.as_tensor(self.grid * np.array([[w, h]]), dtype=torch.float32)
        parts: list[dict[str, Tensor]] = []
        for start in range(0, len(points), self.points_per_batch):
            batch = points[start : start + self.points_per_batch].to(device)
            part = self._batch(embedding, high_res, batch, h, w)
            if part is not None:
                parts.append(part)
        if not parts:
            return _empty_proposals(h, w)
        data = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
        keep = box_nms(data["boxes"].float(), data["iou"], self.box_nms_thresh)
        data = {k: v[keep] for k, v in data.items()}
        boxes = data["boxes"].float()
        boxes[:, 2:] += 1.0  # exclusive ends
        return MaskProposals(
            masks=data["masks"].cpu().numpy(),
            boxes=boxes.float().cpu().numpy().astype(np.float32),
            areas=data["areas"].cpu().numpy().astype(np.int64),
            predicted_iou=data["iou"].float().cpu().numpy(),
            stability_score=data["stability"].float().cpu().numpy(),
            points=data["points"].float().cpu().numpy(),
            object_score=data["object_score"].float().cpu().numpy(),
        )

    # -- one batch of clicks ----------------------------------------------------------
    def _batch(self, embed, high_res, points: Tensor, h: int, w: int) -> dict[str, Tensor] | None:
        model = self.model
        s = float(model.image_size)
        # image pixels -> model input pixels, with the same float32 steps as the official
        coords = points.clone()
        coords[:, 0] = coords[:, 0] / w
        coords[:, 1] = coords[:, 1] / h
        coords = coords * s
        labels = torch.ones(len(points), 1, dtype=torch.int32, device=points.device)
        out = decode_prompts(
            model,
            embed,
            [f.to(embed.dtype) for f in high_res],
            (coords[:, None, :], labels),
            multimask_output=self.multimask_output,
        )
        n_masks = out.masks.shape[1]
        logits = out.masks.float().flatten(0, 1)[:, None]  # (B*M, 1, h4, w4)
        iou = out.iou_pred.float().flatten(0, 1)
        obj = out.object_score_logits.float().reshape(-1, 1).repeat_interleave(n_masks, 0)[:, 0]
        pts = points.repeat_interleave(n_masks, dim=0)
        keep = iou > self.pred_iou_thresh if self.pred_iou_thresh > 0 else None
        if keep is not None:
            logits, iou, obj, pts = logits[keep], iou[keep], obj[keep], pts[keep]
        if logits.shape[0] == 0:
            return None
        full = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)[:, 0]
        stab = stability_score(full, self.mask_threshold, self.stability_score_offset)
        if self.stability_score_thresh > 0:
            keep = stab >= self.stability_score_thresh
            full, iou, obj, pts, stab = full[keep], iou[keep], obj[keep], pts[keep], stab[keep]
        masks = full > self.mask_threshold
        del full
        areas = masks.flatten(1).sum(1)
        keep = areas > 0
        if self.min_area is not None:
            keep &= areas >= self.min_area
        if self.max_area is not None:
            keep &= areas <= self.max_area
        if not bool(keep.all()):
            masks, iou, obj, pts, stab, areas = (
                x[keep] for x in (masks, iou, obj, pts, stab, areas)
            )
        if masks.shape[0] == 0:
            return None
        return {
            "masks": masks,
            "boxes": masks_to_boxes(masks),
            "areas": areas,
            "iou": iou,
            "stability": stab,
            "points": pts,
            "object_score": obj,
        }
