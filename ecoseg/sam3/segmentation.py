"""SAM 3 segmentation head: pixel decoder, instance masks and the semantic map.

The fused image tokens first cross-attend to the prompt tokens (pre-norm, residual). They then
replace the coarsest of the backbone's FPN levels (stride 14; the finer ones are strides 3.5
and 7) and a pixel decoder walks from coarse to fine: nearest upsampling to the next level,
add it, 3x3 conv, GroupNorm(8), ReLU. The finest map goes through a 1x1 conv to the instance
embedding; each decoder query goes through a 3-layer MLP and is dotted with it to give the
query's mask logits at stride 3.5 (288 x 288 for a 1008 px input). A 1x1 conv of the same map
gives one semantic (foreground-of-the-concept) logit map.

Parameter names follow the SAM 3 checkpoint (``segmentation_head.*`` there).

Exports
-------
``SegmentationConfig``
    ``d_model=256, upsampling_stages=3, num_heads=8``.
``SegmentationOutput``
    Frozen dataclass: ``masks (B, Q, h, w)`` logits and ``semantic (B, 1, h, w)`` logits.
``SegmentationHead(config)``
    ``forward(queries (B, Q, C), fpn [(B|1, C, h_i, w_i) fine to coarse], memory (B, H*W, C),
    prompt (B, L, C), prompt_valid (B, L)) -> SegmentationOutput``; the two halves
    ``pixel_embedding(fpn, memory, prompt, prompt_valid) -> (B, C, h, w)`` and
    ``mask_logits(queries (B, q, C), pixels) -> (B, q, h, w)`` let a caller compute masks
    only for the queries it keeps.

Examples
--------
>>> import torch
>>> head = SegmentationHead(SegmentationConfig(d_model=16, num_heads=2))
>>> fpn = [torch.randn(1, 16, 16, 16), torch.randn(1, 16, 8, 8), torch.randn(1, 16, 4, 4)]
>>> out = head(torch.randn(2, 5, 16), fpn, torch.randn(2, 16, 16), torch.randn(2, 3, 16),
...            torch.ones(2, 3, dtype=torch.bool))
>>> tuple(out.masks.shape), tuple(out.semantic.shape)
((2, 5, 16, 16), (2, 1, 16, 16))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.transformer import MLP
from ecoseg.sam3._det_ops import attention_bias
from ecoseg.sam3.fusion import BiasedAttention

__all__ = ["SegmentationConfig", "SegmentationOutput", "PixelDecoder", "SegmentationHead"]


@dataclass(frozen=True)
class SegmentationConfig:
    """Shape of the segmentation head (SAM 3: width 256, 3 upsampling stages, 8 heads)."""

    d_model: int = 256
    upsampling_stages: int = 3
    num_heads: int = 8


@dataclass(frozen=True)
class SegmentationOutput:
    """Mask logits per query and the semantic logit map (see the module docstring)."""

    masks: Tensor
    semantic: Tensor


class PixelDecoder(nn.Module):
    """Coarse-to-fine FPN decoder: upsample, add, conv 3x3, GroupNorm(8), ReLU.

    Examples
    --------
    >>> import torch
    >>> dec = PixelDecoder(16, 2)
    >>> dec([torch.randn(1, 16, 8, 8), torch.randn(1, 16, 4, 4)]).shape
    torch.Size([1, 16, 8, 8])
    """

    def __init__(self, d_model: int, upsampling_stages: int) -> None:
        super().__init__()
        self.conv_layers = nn.ModuleList(
            nn.Conv2d(d_model, d_model, 3, padding=1) for _ in range(upsampling_stages)
        )
        self.norms = nn.ModuleList(nn.GroupNorm(8, d_model) for _ in range(upsampling_stages))

    def forward(self, feats: list[Tensor]) -> Tensor:
        """``feats`` fine to coarse; returns the finest-resolution map."""
        x = feats[-1]
        for i, skip in enumerate(reversed(feats[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest") + skip
            x = F.relu(self.norms[i](self.conv_layers[i](x)))
        return x


class MaskPredictor(nn.Module):
    """Query -> mask embedding MLP (3 layers), dotted with the instance embedding."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.mask_embed = MLP(d_model, d_model, d_model, 3)

    def forward(self, queries: Tensor, pixels: Tensor) -> Tensor:
        return torch.einsum("bqc,bchw->bqhw", self.mask_embed(queries), pixels)


class SegmentationHead(nn.Module):
    """Instance and semantic masks from queries and image tokens (see the module docstring)."""

    def __init__(self, config: SegmentationConfig | None = None) -> None:
        super().__init__()
        config = config or SegmentationConfig()
        self.config = config
        d = config.d_model
        self.pixel_decoder = PixelDecoder(d, config.upsampling_stages)
        self.mask_predictor = MaskPredictor(d)
        self.instance_seg_head = nn.Conv2d(d, d, 1)
        self.semantic_seg_head = nn.Conv2d(d, 1, 1)
        self.cross_attend_prompt = BiasedAttention(d, config.num_heads)
        self.cross_attn_norm = nn.LayerNorm(d)

    def pixel_embedding(
        self, fpn: list[Tensor], memory: Tensor, prompt: Tensor, prompt_valid: Tensor | None
    ) -> Tensor:
        """The pixel decoder's output ``(B, C, h, w)`` after prompt cross-attention."""
        bias = attention_bias(prompt_valid, memory.dtype) if prompt_valid is not None else None
        memory = memory + self.cross_attend_prompt(
            self.cross_attn_norm(memory), prompt, prompt, bias
        )
        b = memory.shape[0]
        h, w = fpn[-1].shape[-2:]
        coarse = memory[:, : h * w].transpose(1, 2).reshape(b, -1, h, w)
        feats = [f.expand(b, -1, -1, -1) for f in fpn[:-1]] + [coarse]
        return self.pixel_decoder(feats)

    def forward(
        self,
        queries: Tensor,
        fpn: list[Tensor],
        memory: Tensor,
        prompt: Tensor,
        prompt_valid: Tensor | None = None,
    ) -> SegmentationOutput:
        pixels = self.pixel_embedding(fpn, memory, prompt, prompt_valid)
        return SegmentationOutput(self.mask_logits(queries, pixels), self.semantic_seg_head(pixels))

    def mask_logits(self, queries: Tensor, pixels: Tensor) -> Tensor:
        """Mask logits ``(B, q, h, w)`` of ``queries`` on a :meth:`pixel_embedding` output."""
        return self.mask_predictor(queries, self.instance_seg_head(pixels))
