"""Small tensor operations shared by the SAM 3 detector modules (geometry, fusion, decoder).

Public names in a private module: :mod:`ecoseg.sam3.geometry`, :mod:`ecoseg.sam3.fusion`,
:mod:`ecoseg.sam3.decoder`, :mod:`ecoseg.sam3.segmentation` and the predictor import them.

Exports
-------
``box_cxcywh_to_xyxy(boxes)``, ``box_xyxy_to_cxcywh(boxes)``
    Box format conversions over the last axis.
``inverse_sigmoid(x, eps=1e-3)``
    Logit of ``x`` clamped to ``[eps, 1 - eps]`` (as the DETR box refinement uses it).
``sine_encode(coords, num_feats, temperature=10000, scale=2pi) -> (..., num_feats)``
    1-D sine encoding of coordinates in [0, 1]: interleaved ``(sin, cos)`` pairs.
``sine_encode_boxes(boxes, num_feats) -> (..., 4 * num_feats)``
    ``cat(enc(cy), enc(cx), enc(w), enc(h))`` of ``(cx, cy, w, h)`` boxes (decoder queries).
``concat_padded(seq1, valid1, seq2, valid2) -> (seq, valid)``
    Concatenate two right-padded ``(B, L, C)`` sequences so the result is right-padded too.
``roi_align(features, boxes, output_size) -> (N, C, s, s)``
    Average-pooled bilinear ROI features, the ``aligned=False``, adaptive-sampling variant of
    Mask R-CNN's RoIAlign, written with separable interpolation matrices (no torchvision).
``attention_bias(valid, dtype)``
    ``(B, L)`` bool "key is valid" -> additive ``(B, 1, 1, L)`` bias (0 or -inf).

Examples
--------
>>> import torch
>>> box_cxcywh_to_xyxy(torch.tensor([0.5, 0.5, 0.2, 0.4]))
tensor([0.4000, 0.3000, 0.6000, 0.7000])
>>> sine_encode(torch.tensor([0.25]), 4).shape
torch.Size([1, 4])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "box_cxcywh_to_xyxy",
    "box_xyxy_to_cxcywh",
    "inverse_sigmoid",
    "sine_encode",
    "sine_encode_boxes",
    "concat_padded",
    "roi_align",
    "attention_bias",
]


def box_cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    """``(cx, cy, w, h)`` -> ``(x0, y0, x1, y1)`` over the last axis."""
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)


def box_xyxy_to_cxcywh(boxes: Tensor) -> Tensor:
    """``(x0, y0, x1, y1)`` -> ``(cx, cy, w, h)`` over the last axis.

    Examples
    --------
    >>> import torch
    >>> box_xyxy_to_cxcywh(torch.tensor([0.0, 0.0, 2.0, 4.0]))
    tensor([1., 2., 2., 4.])
    """
    x0, y0, x1, y1 = boxes.unbind(-1)
    return torch.stack(((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0), dim=-1)


def inverse_sigmoid(x: Tensor, eps: float = 1e-3) -> Tensor:
    """``log(x / (1 - x))`` with both terms clamped below at ``eps``.

    Examples
    --------
    >>> import torch
    >>> round(float(inverse_sigmoid(torch.tensor(0.5))), 6)
    0.0
    """
    x = x.clamp(0, 1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


def sine_encode(
    coords: Tensor, num_feats: int, temperature: float = 10000.0, scale: float = 2 * math.pi
) -> Tensor:
    """Sine encoding of coordinates: ``(...,) -> (..., num_feats)``.

    Channel ``2k`` is ``sin(scale * c / temperature ** (2k / num_feats))`` and ``2k + 1`` the
    matching ``cos``.
    """
    idx = torch.arange(num_feats, device=coords.device).to(coords.dtype)
    freq = temperature ** (2 * torch.div(idx, 2, rounding_mode="floor") / num_feats)
    a = (coords * scale)[..., None] / freq
    return torch.stack((a[..., 0::2].sin(), a[..., 1::2].cos()), dim=-1).flatten(-2)


def sine_encode_boxes(boxes: Tensor, num_feats: int) -> Tensor:
    """``(..., 4)`` ``(cx, cy, w, h)`` boxes -> ``(..., 4 * num_feats)``, order ``cy, cx, w, h``.

    Examples
    --------
    >>> import torch
    >>> sine_encode_boxes(torch.rand(2, 3, 4), 8).shape
    torch.Size([2, 3, 32])
    """
    cx, cy, w, h = boxes.unbind(-1)
    return torch.cat([sine_encode(c, num_feats) for c in (cy, cx, w, h)], dim=-1)


def concat_padded(
    seq1: Tensor, valid1: Tensor, seq2: Tensor, valid2: Tensor
) -> tuple[Tensor, Tensor]:
    """Concatenate right-padded sequences ``(B, L1, C)`` and ``(B, L2, C)``.

    The valid items of ``seq2`` are placed right after the valid items of ``seq1``; the
    returned ``(B, L1 + L2)`` mask marks the valid prefix.

    Examples
    --------
    >>> import torch
    >>> s, v = concat_padded(torch.tensor([[[1.0], [0.0]]]), torch.tensor([[True, False]]),
    ...                      torch.tensor([[[2.0]]]), torch.tensor([[True]]))
    >>> s[0, :, 0].tolist(), v.tolist()
    ([1.0, 2.0, 0.0], [[True, True, False]])
    """
    b, l1, c = seq1.shape
    l2 = seq2.shape[1]
    n1 = valid1.sum(-1)
    total = n1 + valid2.sum(-1)
    valid = torch.arange(l1 + l2, device=seq1.device)[None].expand(b, -1) < total[:, None]
    out = torch.zeros(b, l1 + l2, c, dtype=seq2.dtype, device=seq2.device)
    out[:, :l1] = seq1
    index = torch.arange(l2, device=seq1.device)[None] + n1[:, None]
    out = out.scatter(1, index[:, :, None].expand(-1, -1, c), seq2)
    return out, valid


def _interp_matrix(start: float, length: float, bins: int, size: int, dtype, device) -> Tensor:
    """``(bins, size)`` weights averaging the bilinear samples of one axis of one ROI bin."""
    length = max(length, 1.0)
    bin_len = length / bins
    grid = max(math.ceil(length / bins), 1)
    b = torch.arange(bins, dtype=torch.float64)[:, None]
    i = torch.arange(grid, dtype=torch.float64)[None, :]
    p = (start + b * bin_len + (i + 0.5) * bin_len / grid).flatten()  # sample positions
    inside = (p >= -1.0) & (p <= size)
    p = p.clamp(min=0)
    low = p.floor().long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    p = torch.where(low >= size - 1, low.double(), p)
    frac = p - low
    w = torch.zeros(p.numel(), size, dtype=torch.float64)
    rows = torch.arange(p.numel())
    w.index_put_((rows, low), (1 - frac) * inside, accumulate=True)
    w.index_put_((rows, high), frac * inside, accumulate=True)
    return (w.view(bins, grid, size).sum(1) / grid).to(dtype=dtype, device=device)


def roi_align(features: Tensor, boxes: Tensor, output_size: int) -> Tensor:
    """Bilinear ROI pooling of ``(B, C, H, W)`` features in ``(B, N, 4)`` xyxy feature pixels.

    Each of the ``output_size**2`` bins averages ``ceil(h / s) x ceil(w / s)`` bilinear
    samples (ROI sides below one pixel count as one; samples more than one pixel outside the
    map count as zero) -- RoIAlign with ``aligned=False``, ``spatial_scale=1`` and adaptive
    sampling. Returns ``(B * N, C, output_size, output_size)``, box-major within each image.

    Examples
    --------
    >>> import torch
    >>> f = torch.arange(16.0).view(1, 1, 4, 4)  # 4 samples per axis at 0.5, 1.5, 2.5, 3.5
    >>> roi_align(f, torch.tensor([[[0.0, 0.0, 4.0, 4.0]]]), 1).flatten().tolist()  # 3.5 -> 3
    [9.375]
    """
    b, n = boxes.shape[:2]
    _, c, h, w = features.shape
    if b * n == 0:
        return features.new_zeros(0, c, output_size, output_size)
    rows, cols = [], []
    for box in boxes.reshape(-1, 4).tolist():
        x0, y0, x1, y1 = box
        rows.append(_interp_matrix(y0, y1 - y0, output_size, h, features.dtype, features.device))
        cols.append(_interp_matrix(x0, x1 - x0, output_size, w, features.dtype, features.device))
    wy = torch.stack(rows).view(b, n, output_size, h)
    wx = torch.stack(cols).view(b, n, output_size, w)
    out = torch.einsum("bnph,bchw,bnqw->bncpq", wy, features, wx)
    return out.reshape(b * n, c, output_size, output_size)


def attention_bias(valid: Tensor, dtype: torch.dtype) -> Tensor:
    """``(B, L)`` bool valid-key mask -> ``(B, 1, 1, L)`` additive bias (0 / -inf).

    Examples
    --------
    >>> import torch
    >>> attention_bias(torch.tensor([[True, False]]), torch.float32).flatten().tolist()
    [0.0, -inf]
    """
    bias = torch.zeros(valid.shape, dtype=dtype, device=valid.device)
    bias = bias.masked_fill(~valid, float("-inf"))
    return bias[:, None, None, :]
