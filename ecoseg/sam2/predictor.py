"""Prompted segmentation of single images with a SAM 2 model.

:class:`ImagePredictor` embeds an image once (:meth:`~ImagePredictor.set_image`) and then
answers any number of prompts (:meth:`~ImagePredictor.predict`) with masks at the image's own
resolution. Preprocessing is the official one: the RGB image is scaled to [0, 1], resized to
``image_size`` x ``image_size`` (a square, non-aspect-preserving bilinear resize with
antialiasing, half-pixel centres), and normalised with the ImageNet mean and std. As in the
official image predictor, the model's ``no_mem_embed`` is added to the stride-16 features (the
"no memory" state of a first video frame) and the stride-4/8 features go through the decoder's
``conv_s0``/``conv_s1`` skip projections.

The model must provide ``image_size``, ``image_encoder`` (:class:`~ecoseg.sam2.neck.
ImageEncoder`), ``sam_prompt_encoder``, ``sam_mask_decoder``, ``no_mem_embed`` and ``variant``
(:class:`~ecoseg.sam2.variants.Variant`), as :class:`ecoseg.sam2.model.SAM2Model` does.

Exports
-------
``ImagePredictor(model, *, mask_threshold=0.0)``
    ``set_image(image)``, ``predict(points=None, labels=None, box=None, mask_input=None,
    multimask_output=True, return_logits=False) -> (masks, iou, low_res_logits)``,
    ``image_embedding``, ``original_size``, ``reset()``.
``preprocess_image(image, image_size, *, device=None) -> Tensor``
    The official preprocessing, ``(H, W, 3) uint8 -> (1, 3, S, S) float32``.
``decode_prompts(model, embedding, high_res, points, *, masks=None, multimask_output)``
    Prompts in model input pixels -> the mask decoder's output on one image's embedding
    (shared with the automatic mask generator and the SAM 3 predictor).
``IMAGENET_MEAN``, ``IMAGENET_STD``

Examples
--------
>>> import numpy as np
>>> from ecoseg import sam2
>>> model = sam2.build("sam2.1-tiny", pretrained=False, image_size=128, device="cpu")
>>> predictor = sam2.ImagePredictor(model)
>>> predictor.set_image(np.zeros((60, 80, 3), np.uint8))
>>> masks, iou, low_res = predictor.predict(points=[[40, 30]], labels=[1])
>>> masks.shape, iou.shape, low_res.shape
((3, 60, 80), (3,), (3, 32, 32))
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ecoseg._prompt_values import click_labels, float_array, image_boxes, image_points
from ecoseg.errors import PromptError, VideoError
from ecoseg.sam2.mask_decoder import MaskDecoderOutput
from ecoseg.sam2.variants import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "ImagePredictor",
    "check_image",
    "decode_prompts",
    "preprocess_image",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
]

_LOW_RES_CLAMP = 32.0


def preprocess_image(
    image: np.ndarray, image_size: int, *, device: torch.device | str | None = None
) -> Tensor:
    """The official SAM 2 image preprocessing.

    ``(H, W, 3)`` uint8 RGB -> float in [0, 1] -> bilinear resize with antialiasing
    (``align_corners=False``) to ``image_size`` x ``image_size`` -> ImageNet normalisation.

    Returns
    -------
    torch.Tensor
        ``(1, 3, image_size, image_size)`` float32 on ``device``.

    Examples
    --------
    >>> import numpy as np
    >>> x = preprocess_image(np.full((10, 20, 3), 255, np.uint8), 64)
    >>> tuple(x.shape), round(float(x[0, 0, 0, 0]), 4)
    ((1, 3, 64, 64), 2.2489)
    """
    arr = check_image(image)
    x = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))).to(device)
    x = x.to(torch.float32).div(255)[None]
    x = F.interpolate(
        x, size=(image_size, image_size), mode="bilinear", align_corners=False, antialias=True
    )
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def check_image(image) -> np.ndarray:
    """``image`` as an (H, W, 3) uint8 RGB array, else a one-line :class:`VideoError` (the SAM 2
    and SAM 3 predictors).

    Examples
    --------
    >>> check_image(np.zeros((4, 6, 3), np.uint8)).shape
    (4, 6, 3)
    >>> check_image(np.zeros((4, 6), np.uint8))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.VideoError: image must be an (H, W, 3) uint8 RGB array, got shape (4, 6) ...
    """
    if isinstance(image, (str, bytes, os.PathLike)):  # it said: got shape () dtype <U9
        raise VideoError(
            f"image must be an (H, W, 3) uint8 RGB array, got the path {os.fspath(image)!r}: "
            "read it first (numpy.asarray(PIL.Image.open(path).convert('RGB')))"
        )
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise VideoError(
            f"image must be an (H, W, 3) uint8 RGB array, got shape {arr.shape} dtype {arr.dtype}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise VideoError(f"image is empty: shape {arr.shape}")
    return arr


def decode_prompts(
    model,
    embedding: Tensor,
    high_res: list[Tensor],
    points: tuple[Tensor, Tensor] | None,
    *,
    masks: Tensor | None = None,
    multimask_output: bool,
) -> MaskDecoderOutput:
    """Masks for a batch of prompts on one image: ``model``'s prompt encoder, then its mask
    decoder in the embedding's dtype (the SAM 2 image predictor, the automatic mask generator
    and the SAM 3 predictor's clicks and boxes).

    Parameters
    ----------
    model
        Provides ``sam_prompt_encoder`` and ``sam_mask_decoder``, as
        :class:`ecoseg.sam2.model.SAM2Model` does.
    embedding : Tensor, shape (1, C, h, w)
        The image's stride-16 embedding, "no memory" token already added.
    high_res : list of Tensor
        The decoder's projected stride-4 and stride-8 features.
    points : (Tensor (K, N, 2), Tensor (K, N) int32), optional
        Click (and box corner) positions in model input pixels and their labels.
    masks : Tensor (K, 1, S/4, S/4), optional
        Mask-logit prompts.
    multimask_output : bool

    Returns
    -------
    MaskDecoderOutput
        ``masks`` (K, M, h4, w4), ``iou_pred`` (K, M), ``sam_tokens``, ``object_score_logits``.

    Examples
    --------
    >>> from ecoseg import sam2
    >>> m = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
    >>> high_res = [torch.zeros(1, 32, 16, 16), torch.zeros(1, 64, 8, 8)]
    >>> clicks = (torch.tensor([[[32.0, 32.0]]]), torch.ones(1, 1, dtype=torch.int32))
    >>> out = decode_prompts(m, torch.zeros(1, 256, 4, 4), high_res, clicks, multimask_output=True)
    >>> tuple(out.masks.shape), tuple(out.iou_pred.shape)
    ((1, 3, 16, 16), (1, 3))
    """
    sparse, dense = model.sam_prompt_encoder(points=points, boxes=None, masks=masks)
    dtype = embedding.dtype
    return model.sam_mask_decoder(
        image_embeddings=embedding,
        image_pe=model.sam_prompt_encoder.get_dense_pe().to(dtype),
        sparse_prompt_embeddings=sparse.to(dtype),
        dense_prompt_embeddings=dense.to(dtype),
        multimask_output=multimask_output,
        repeat_image=sparse.shape[0] > 1,
        high_res_features=high_res,
    )


class ImagePredictor:
    """Segment objects in one image from clicks, boxes and/or a previous mask.

    Parameters
    ----------
    model : SAM2Model
        A SAM 2 model (e.g. from :func:`ecoseg.sam2.build`), in eval mode.
    mask_threshold : float
        Logit threshold for the boolean masks (default 0).

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg import sam2
    >>> model = sam2.build("sam2-tiny", pretrained=False, image_size=128, device="cpu")
    >>> p = sam2.ImagePredictor(model)
    >>> p.set_image(np.zeros((50, 50, 3), np.uint8))
    >>> masks, iou, _ = p.predict(box=[10, 10, 30, 40], multimask_output=False)
    >>> masks.shape, masks.dtype
    ((1, 50, 50), dtype('bool'))
    """

    def __init__(self, model, *, mask_threshold: float = 0.0) -> None:
        self.model = model
        self.mask_threshold = float(mask_threshold)
        self.image_size = int(model.image_size)
        self._embed: Tensor | None = None
        self._high_res: list[Tensor] = []
        self._orig_hw: tuple[int, int] | None = None

    @property
    def device(self) -> torch.device:
        """Device of the model's parameters."""
        return next(self.model.parameters()).device

    @property
    def original_size(self) -> tuple[int, int] | None:
        """``(H, W)`` of the current image, or None before :meth:`set_image`."""
        return self._orig_hw

    @property
    def image_embedding(self) -> Tensor:
        """Stride-16 image embedding ``(1, 256, S/16, S/16)`` of the current image."""
        self._require_image()
        return self._embed

    @property
    def high_res_features(self) -> list[Tensor]:
        """The mask decoder's projected stride-4 and stride-8 features of the current image.

        Empty for a model without high-resolution features.
        """
        self._require_image()
        return list(self._high_res)

    def reset(self) -> None:
        """Forget the current image."""
        self._embed, self._high_res, self._orig_hw = None, [], None

    @torch.no_grad()
    def set_image(self, image: np.ndarray) -> None:
        """Compute and keep the embedding of ``image`` (``(H, W, 3)`` uint8 RGB).

        Examples
        --------
        >>> import numpy as np
        >>> from ecoseg import sam2
        >>> p = sam2.ImagePredictor(sam2.build("sam2.1-tiny", pretrained=False,
        ...                                    image_size=64, device="cpu"))
        >>> p.set_image(np.zeros((8, 8, 3), np.uint8))
        >>> tuple(p.image_embedding.shape)
        (1, 256, 4, 4)
        """
        arr = check_image(image)
        self.reset()
        device = self.device
        dtype = next(self.model.image_encoder.parameters()).dtype
        x = preprocess_image(arr, self.image_size, device=device).to(dtype)
        feats = self.model.image_encoder(x)
        decoder = self.model.sam_mask_decoder
        self._high_res = decoder.project_high_res(feats.backbone_fpn)
        embed = feats.vision_features
        variant = getattr(self.model, "variant", None)
        if variant is None or variant.directly_add_no_mem_embed:
            embed = embed + self.model.no_mem_embed.reshape(1, -1, 1, 1).to(embed.dtype)
        self._embed = embed
        self._orig_hw = (int(arr.shape[0]), int(arr.shape[1]))

    def _require_image(self) -> None:
        if self._embed is None:
            raise RuntimeError("call set_image(...) before predict(...)")

    def _to_input_frame(self, coords: Tensor) -> Tensor:
        """Image pixel ``(x, y)`` -> model-input pixels, as the official transform does."""
        h, w = self._orig_hw
        coords = coords.clone()
        coords[..., 0] = coords[..., 0] / w
        coords[..., 1] = coords[..., 1] / h
        return coords * self.image_size

    def _prompts(self, points, labels, box, mask_input):
        device = self.device
        coords = lab = None
        if points is not None or labels is not None:
            if points is None or labels is None:
                raise PromptError("points and labels must be given together")
            xy = float_array(points, "predict", "points")  # text, true/false, ragged, NaN
            coords = torch.as_tensor(xy.astype(np.float32), device=device)
            # clicks only, as in a prompt file: 2/3 (box corners) and -1 (padding) are SAM 2's
            # own encoding, which box= gives; true and 1.0 were read as 1
            checked = click_labels(labels, "predict").reshape(np.shape(labels))
            lab = torch.as_tensor(checked.astype(np.int32), device=device)
            if coords.ndim == 2:
                coords, lab = coords[None], lab[None]
            if coords.ndim != 3 or coords.shape[-1] != 2 or lab.shape != coords.shape[:2]:
                raise PromptError(
                    f"points must be (N, 2) or (K, N, 2) with labels (N,) or (K, N); got "
                    f"points {tuple(np.shape(points))} and labels {tuple(np.shape(labels))}"
                )
            h, w = self._orig_hw  # clicks checked as a prompt file's are
            image_points(xy, w, h)  # (N, 2) named points[i], (K, N, 2) points[k][i]
            coords = self._to_input_frame(coords)
        if box is not None:
            b = float_array(box, "predict", "box").astype(np.float32)
            b = torch.as_tensor(b, device=device)
            if b.shape[-1:] != (4,) or b.ndim > 2:
                raise PromptError(f"box must be [x0, y0, x1, y1] or (K, 4), got {tuple(b.shape)}")
            h, w = self._orig_hw  # empty, inverted, outside: refused; past the edge: cut
            cut = image_boxes(b.cpu().numpy(), w, h)
            b = torch.as_tensor(cut, dtype=torch.float32, device=device).reshape(b.shape)
            corners = self._to_input_frame(b.reshape(-1, 2, 2))
            corner_labels = torch.tensor([[2, 3]], dtype=torch.int32, device=device)
            corner_labels = corner_labels.expand(corners.shape[0], 2)
            if coords is None:
                coords, lab = corners, corner_labels
            else:
                if coords.shape[0] != corners.shape[0]:
                    if coords.shape[0] == 1:
                        coords = coords.expand(corners.shape[0], -1, -1)
                        lab = lab.expand(corners.shape[0], -1)
                    else:
                        raise PromptError(
                            f"{corners.shape[0]} boxes but {coords.shape[0]} point sets"
                        )
                coords = torch.cat((corners, coords), dim=1)
                lab = torch.cat((corner_labels, lab), dim=1)
        masks = None
        if mask_input is not None:
            masks = torch.as_tensor(np.asarray(mask_input, np.float32), device=device)
            if masks.ndim == 2:
                masks = masks[None]
            if masks.ndim == 3:
                masks = masks[None]
            side = self.model.sam_prompt_encoder.mask_input_size
            if masks.ndim != 4 or masks.shape[1] != 1 or tuple(masks.shape[-2:]) != side:
                raise PromptError(
                    f"mask_input must be low-resolution logits of shape (1, {side[0]}, "
                    f"{side[1]}) (as returned by predict), got {tuple(masks.shape)}"
                )
        return coords, lab, masks

    @torch.no_grad()
    def predict(
        self,
        points=None,
        labels=None,
        box=None,
        mask_input=None,
        multimask_output: bool = True,
        return_logits: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks for prompts on the current image.

        Parameters
        ----------
        points : array-like, optional
            ``(N, 2)`` click positions ``(x, y)`` in image pixels, or ``(K, N, 2)`` for K
            prompt sets.
        labels : array-like, optional
            ``(N,)`` (or ``(K, N)``) labels: the integers 1 (on the object) or 0 (not on it),
            as in a prompt file; give a box as ``box``, not as corner labels 2 and 3.
        box : array-like, optional
            ``[x0, y0, x1, y1]`` in image pixels, or ``(K, 4)`` for K objects at once.
        mask_input : array-like, optional
            Low-resolution logits ``(1, S/4, S/4)`` from a previous call (refinement).
        multimask_output : bool
            Three candidate masks (for ambiguous single clicks) instead of one.
        return_logits : bool
            Return float logits at image size instead of boolean masks.

        Returns
        -------
        masks : numpy.ndarray
            ``(C, H, W)`` bool (or float32 logits), C = 3 or 1; ``(K, C, H, W)`` when K > 1
            prompt sets are given.
        iou : numpy.ndarray
            ``(C,)`` (or ``(K, C)``) predicted IoU of each mask.
        low_res_logits : numpy.ndarray
            ``(C, S/4, S/4)`` (or ``(K, ...)``) logits, clamped to [-32, 32].

        Raises
        ------
        PromptError
            Malformed points, labels, box or mask input; a click outside the image, a box
            empty, inverted or wholly outside it (each named by its index, with the image's
            size), as in a prompt file. A box reaching past the edge is cut to it, with a
            :class:`~ecoseg.errors.PromptClippedWarning`.
        """
        self._require_image()
        coords, lab, masks_in = self._prompts(points, labels, box, mask_input)
        model = self.model
        pts = (coords, lab) if coords is not None else None
        out = decode_prompts(
            model,
            self._embed,
            self._high_res,
            pts,
            masks=masks_in,
            multimask_output=multimask_output,
        )
        low_res = out.masks.float()
        full = F.interpolate(low_res, size=self._orig_hw, mode="bilinear", align_corners=False)
        low_res = low_res.clamp(-_LOW_RES_CLAMP, _LOW_RES_CLAMP)
        masks = full if return_logits else full > self.mask_threshold
        iou = out.iou_pred.float()
        if masks.shape[0] == 1:
            masks, iou, low_res = masks[0], iou[0], low_res[0]
        return masks.cpu().numpy(), iou.cpu().numpy(), low_res.cpu().numpy()
