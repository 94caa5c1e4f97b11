"""SAM 3 geometry / exemplar encoder: boxes and points as prompt tokens.

Every prompt becomes one token, the sum of up to three encodings plus a label embedding
(0 negative, 1 positive):

- boxes ``(cx, cy, w, h)`` normalised to [0, 1]: a linear projection of the 4 numbers, the
  image features ROI-pooled over the box (``roi_size`` x ``roi_size``, see
  :func:`~ecoseg.sam3._det_ops.roi_align`) through a ``roi_size`` convolution, and a projection
  of the sine encoding of the centre (``cy``, ``cx``) concatenated with ``h, w``;
- points ``(x, y)`` in [0, 1]: a linear projection of the coordinates, the image feature
  bilinearly sampled at the point through a linear layer, and a projection of the sine
  encoding of ``x`` then ``y``.

The image features are the stride-14 level, layer-normed for pooling. Point tokens come
first, then boxes, then a learned CLS token (so the sequence is never empty); the sequence
goes through a linear layer and a layer norm, then ``num_layers`` pre-norm layers that
self-attend (padding masked) and cross-attend to the image (position encoding on the keys),
and a final layer norm.

Parameter names follow the SAM 3 checkpoint (``label_embed``, ``cls_embed``,
``points_direct_project``, ``points_pool_project``, ``points_pos_enc_project``,
``boxes_direct_project``, ``boxes_pool_project``, ``boxes_pos_enc_project``, ``final_proj``,
``norm``, ``img_pre_norm``, ``encode.<i>.*``, ``encode_norm``).

Exports
-------
``GeometryEncoderConfig``
    ``d_model=256, num_layers=3, num_heads=8, dim_feedforward=2048, roi_size=7``.
``GeometryPrompt``
    Frozen dataclass of padded prompt tensors (see :meth:`GeometryPrompt.from_lists`).
``GeometryEncoder(config)``
    ``forward(prompt, features (B, C, H, W), pos (B, C, H, W)) -> (tokens (B, L, C),
    valid (B, L) bool)``.

Examples
--------
>>> import torch
>>> enc = GeometryEncoder(GeometryEncoderConfig(d_model=32, num_layers=1, num_heads=4,
...                                             dim_feedforward=64, roi_size=2))
>>> prompt = GeometryPrompt.from_lists(boxes=[[[0.5, 0.5, 0.2, 0.2]]], box_labels=[[1]])
>>> tokens, valid = enc(prompt, torch.randn(1, 32, 6, 6), torch.randn(1, 32, 6, 6))
>>> tuple(tokens.shape), valid.tolist()
((1, 2, 32), [[True, True]])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam3._det_ops import (
    attention_bias,
    box_cxcywh_to_xyxy,
    concat_padded,
    roi_align,
    sine_encode,
)
from ecoseg.sam3.fusion import PreNormLayer

__all__ = ["GeometryEncoderConfig", "GeometryPrompt", "GeometryEncoder"]


@dataclass(frozen=True)
class GeometryEncoderConfig:
    """Shape of the geometry encoder (SAM 3: 3 layers of width 256, 8 heads, 7x7 ROI)."""

    d_model: int = 256
    num_layers: int = 3
    num_heads: int = 8
    dim_feedforward: int = 2048
    roi_size: int = 7


@dataclass(frozen=True)
class GeometryPrompt:
    """Right-padded geometry prompts for a batch of ``B`` queries.

    Attributes
    ----------
    boxes : Tensor
        ``(B, Nb, 4)`` ``(cx, cy, w, h)`` normalised to [0, 1].
    box_labels : Tensor
        ``(B, Nb)`` int, 1 positive / 0 negative.
    box_valid : Tensor
        ``(B, Nb)`` bool, False for padding.
    points, point_labels, point_valid : Tensor
        ``(B, Np, 2)`` ``(x, y)`` in [0, 1], ``(B, Np)`` labels and validity.
    """

    boxes: Tensor
    box_labels: Tensor
    box_valid: Tensor
    points: Tensor
    point_labels: Tensor
    point_valid: Tensor

    @property
    def batch_size(self) -> int:
        """Number of prompt sets ``B``."""
        return int(self.boxes.shape[0])

    @classmethod
    def from_lists(
        cls,
        boxes=None,
        box_labels=None,
        points=None,
        point_labels=None,
        *,
        batch_size: int | None = None,
        device=None,
        dtype: torch.dtype = torch.float32,
    ) -> GeometryPrompt:
        """Pad per-item lists (``boxes[b]`` is a list of ``(cx, cy, w, h)``) into tensors.

        Labels default to 1 (positive). ``batch_size`` is needed when neither boxes nor points
        are given (an empty prompt of that many items).

        Examples
        --------
        >>> p = GeometryPrompt.from_lists(boxes=[[[0.5, 0.5, 0.1, 0.1]], []])
        >>> tuple(p.boxes.shape), p.box_valid.tolist(), tuple(p.points.shape)
        ((2, 1, 4), [[True], [False]], (2, 0, 2))
        """
        sizes = [len(x) for x in (boxes, points) if x is not None]
        if batch_size is None:
            if not sizes:
                raise ValueError("batch_size is needed for an empty geometry prompt")
            batch_size = sizes[0]
        if any(s != batch_size for s in sizes):
            raise ValueError(f"boxes and points must both list {batch_size} items")

        def pad(items, labels, width):
            items = items if items is not None else [[] for _ in range(batch_size)]
            n = max((len(x) for x in items), default=0)
            coords = torch.zeros(batch_size, n, width, dtype=dtype)
            lab = torch.zeros(batch_size, n, dtype=torch.long)
            valid = torch.zeros(batch_size, n, dtype=torch.bool)
            for b, item in enumerate(items):
                k = len(item)
                if k:
                    coords[b, :k] = torch.as_tensor(item, dtype=dtype).view(k, width)
                    lab[b, :k] = torch.as_tensor(labels[b] if labels is not None else [1] * k)
                    valid[b, :k] = True
            return coords.to(device), lab.to(device), valid.to(device)

        bx, bl, bv = pad(boxes, box_labels, 4)
        px, pl, pv = pad(points, point_labels, 2)
        return cls(bx, bl, bv, px, pl, pv)


class GeometryEncoder(nn.Module):
    """Encode geometry prompts into tokens (see the module docstring)."""

    def __init__(self, config: GeometryEncoderConfig | None = None) -> None:
        super().__init__()
        config = config or GeometryEncoderConfig()
        self.config = config
        d = config.d_model
        self.label_embed = nn.Embedding(2, d)
        self.cls_embed = nn.Embedding(1, d)
        self.points_direct_project = nn.Linear(2, d)
        self.points_pool_project = nn.Linear(d, d)
        self.points_pos_enc_project = nn.Linear(d, d)
        self.boxes_direct_project = nn.Linear(4, d)
        self.boxes_pool_project = nn.Conv2d(d, d, config.roi_size)
        self.boxes_pos_enc_project = nn.Linear(d + 2, d)
        self.final_proj = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)
        self.img_pre_norm = nn.LayerNorm(d)
        self.encode = nn.ModuleList(
            PreNormLayer(
                d,
                config.num_heads,
                config.dim_feedforward,
                pos_at_self_attn=False,
                pos_at_cross_keys=True,
            )
            for _ in range(config.num_layers)
        )
        self.encode_norm = nn.LayerNorm(d)

    def _encode_points(self, points: Tensor, labels: Tensor, feats: Tensor) -> Tensor:
        half = self.config.d_model // 2
        if points.shape[1] == 0:
            return points.new_zeros(*points.shape[:2], self.config.d_model)
        x = self.points_direct_project(points)
        grid = points[:, :, None, :] * 2 - 1  # (B, Np, 1, 2) in [-1, 1]
        sampled = F.grid_sample(feats, grid, align_corners=False)  # (B, C, Np, 1)
        x = x + self.points_pool_project(sampled[..., 0].transpose(1, 2))
        px, py = points.unbind(-1)
        enc = torch.cat((sine_encode(px, half), sine_encode(py, half)), dim=-1)
        x = x + self.points_pos_enc_project(enc)
        return x + self.label_embed(labels.long())

    def _encode_boxes(self, boxes: Tensor, labels: Tensor, feats: Tensor) -> Tensor:
        b, n = boxes.shape[:2]
        d, half = self.config.d_model, self.config.d_model // 2
        if n == 0:
            return boxes.new_zeros(b, 0, d)
        x = self.boxes_direct_project(boxes)
        h, w = feats.shape[-2:]
        scale = torch.tensor([w, h, w, h], dtype=boxes.dtype, device=boxes.device)
        pooled = roi_align(feats, box_cxcywh_to_xyxy(boxes) * scale, self.config.roi_size)
        x = x + self.boxes_pool_project(pooled).view(b, n, d)
        cx, cy, bw, bh = boxes.unbind(-1)
        enc = torch.cat(
            (sine_encode(cy, half), sine_encode(cx, half), bh[..., None], bw[..., None]), dim=-1
        )
        x = x + self.boxes_pos_enc_project(enc)
        return x + self.label_embed(labels.long())

    def forward(
        self, prompt: GeometryPrompt, features: Tensor, pos: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Tokens ``(B, L, C)`` and their validity ``(B, L)`` for ``prompt`` on one image level.

        ``features`` and ``pos`` may have batch 1 for ``B`` prompt sets on the same image.
        """
        bsz = prompt.batch_size
        features = features.expand(bsz, -1, -1, -1)
        pos = pos.expand(bsz, -1, -1, -1)
        dtype = features.dtype
        normed = self.img_pre_norm(features.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        tokens = self._encode_points(prompt.points.to(dtype), prompt.point_labels, normed)
        valid = prompt.point_valid
        boxes = self._encode_boxes(prompt.boxes.to(dtype), prompt.box_labels, normed)
        tokens, valid = concat_padded(tokens, valid, boxes, prompt.box_valid)
        cls = self.cls_embed.weight.view(1, 1, -1).expand(bsz, 1, -1).to(dtype)
        ones = torch.ones(bsz, 1, dtype=torch.bool, device=valid.device)
        tokens, valid = concat_padded(tokens, valid, cls, ones)
        tokens = self.norm(self.final_proj(tokens))
        memory = features.flatten(2).transpose(1, 2)
        memory_pos = pos.flatten(2).transpose(1, 2).to(dtype)
        bias = attention_bias(valid, dtype)
        for layer in self.encode:
            tokens = layer(tokens, memory, memory_pos=memory_pos, self_bias=bias)
        return self.encode_norm(tokens), valid
