"""SAM 3 DETR-style decoder (presence token, iterative box refinement) and its scoring head.

``num_queries`` learned object queries, each with a learned reference box, plus one presence
token, go through ``num_layers`` post-norm layers: self-attention among queries (query
position added to queries and keys; the presence token has zero position), cross-attention to
the prompt tokens (padding masked), cross-attention to the fused image tokens with a box
relative-position bias, and a ReLU MLP. The query position is an MLP of the sine encoding of
the current reference box. The box bias, per head, is the sum of two MLPs of the log-scaled
distances from each image row (column) to the box's top and bottom (left and right) edges; the
presence token gets no bias. After each layer the boxes are refined
(``sigmoid(logit(ref) + bbox_embed(norm(q)))``) and the presence logit is read off the
presence token (clamped to +-10).

:class:`DotProductScoring` scores each query against the prompt: the prompt tokens go through
a residual MLP and a layer norm, are mean-pooled over valid tokens and projected; the
projected queries are dotted with it, scaled by ``1/sqrt(d)`` and clamped to +-12. The final
score of a query is ``sigmoid(score) * sigmoid(presence)``.

Parameter names follow the SAM 3 checkpoint (``transformer.decoder.*`` and
``dot_prod_scoring.*`` there).

Exports
-------
``DecoderConfig``
    ``d_model=256, num_layers=6, num_queries=200, num_heads=8, dim_feedforward=2048``.
``DecoderOutput``
    Frozen dataclass: ``queries (L, B, Q, C)`` (normed), ``boxes (L, B, Q, 4)`` refined
    ``(cx, cy, w, h)`` in [0, 1], ``presence_logits (L, B, 1)``.
``ConceptDecoder(config)``
    ``forward(memory (B, H*W, C), memory_pos (B, H*W, C), spatial_shape (H, W),
    prompt (B, L, C), prompt_valid (B, L)) -> DecoderOutput``.
``DotProductScoring(d_model=256, dim_feedforward=2048)``
    ``forward(queries (..., B, Q, C), prompt (B, L, C), prompt_valid (B, L)) -> (..., B, Q)``.

Examples
--------
>>> import torch
>>> cfg = DecoderConfig(d_model=32, num_layers=2, num_queries=5, num_heads=4,
...                     dim_feedforward=64)
>>> dec = ConceptDecoder(cfg)
>>> out = dec(torch.randn(1, 12, 32), torch.randn(1, 12, 32), (3, 4), torch.randn(1, 2, 32),
...           torch.ones(1, 2, dtype=torch.bool))
>>> tuple(out.queries.shape), tuple(out.boxes.shape), tuple(out.presence_logits.shape)
((2, 1, 5, 32), (2, 1, 5, 4), (2, 1, 1))
>>> DotProductScoring(32, 64)(out.queries, torch.randn(1, 2, 32)).shape
torch.Size([2, 1, 5])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.transformer import MLP
from ecoseg.sam3._det_ops import (
    attention_bias,
    box_cxcywh_to_xyxy,
    inverse_sigmoid,
    sine_encode_boxes,
)
from ecoseg.sam3.fusion import BiasedAttention

__all__ = ["DecoderConfig", "DecoderOutput", "ConceptDecoder", "DotProductScoring"]

PRESENCE_CLAMP = 10.0
SCORE_CLAMP = 12.0


@dataclass(frozen=True)
class DecoderConfig:
    """Shape of the decoder (SAM 3: 6 layers of width 256, 200 queries, 8 heads, MLP 2048)."""

    d_model: int = 256
    num_layers: int = 6
    num_queries: int = 200
    num_heads: int = 8
    dim_feedforward: int = 2048


@dataclass(frozen=True)
class DecoderOutput:
    """Per-layer decoder outputs (see the module docstring)."""

    queries: Tensor
    boxes: Tensor
    presence_logits: Tensor


class DecoderLayer(nn.Module):
    """One post-norm decoder layer (self, prompt, image attention; MLP)."""

    def __init__(self, d_model: int, num_heads: int, dim_feedforward: int) -> None:
        super().__init__()
        self.self_attn = BiasedAttention(d_model, num_heads)
        self.norm2 = nn.LayerNorm(d_model)
        self.ca_text = BiasedAttention(d_model, num_heads)
        self.catext_norm = nn.LayerNorm(d_model)
        self.cross_attn = BiasedAttention(d_model, num_heads)
        self.norm1 = nn.LayerNorm(d_model)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm3 = nn.LayerNorm(d_model)

    def forward(
        self,
        x: Tensor,
        query_pos: Tensor,
        prompt: Tensor,
        prompt_bias: Tensor | None,
        memory: Tensor,
        memory_pos: Tensor,
        image_bias: Tensor | None,
    ) -> Tensor:
        q = x + query_pos
        x = self.norm2(x + self.self_attn(q, q, x))
        x = self.catext_norm(x + self.ca_text(x + query_pos, prompt, prompt, prompt_bias))
        x = self.norm1(x + self.cross_attn(x + query_pos, memory + memory_pos, memory, image_bias))
        return self.norm3(x + self.linear2(F.relu(self.linear1(x))))


class ConceptDecoder(nn.Module):
    """DETR decoder with presence token and box refinement (see the module docstring)."""

    def __init__(self, config: DecoderConfig | None = None) -> None:
        super().__init__()
        config = config or DecoderConfig()
        self.config = config
        d = config.d_model
        self.layers = nn.ModuleList(
            DecoderLayer(d, config.num_heads, config.dim_feedforward)
            for _ in range(config.num_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.bbox_embed = MLP(d, d, 4, 3)
        self.query_embed = nn.Embedding(config.num_queries, d)
        self.reference_points = nn.Embedding(config.num_queries, 4)
        self.presence_token = nn.Embedding(1, d)
        self.presence_token_head = MLP(d, d, 1, 3)
        self.presence_token_out_norm = nn.LayerNorm(d)
        self.ref_point_head = MLP(2 * d, d, d, 2)
        self.boxRPB_embed_x = MLP(2, d, config.num_heads, 2)
        self.boxRPB_embed_y = MLP(2, d, config.num_heads, 2)

    def box_bias(self, boxes: Tensor, spatial_shape: tuple[int, int]) -> Tensor:
        """Relative position bias ``(B, heads, Q, H*W)`` of ``(B, Q, 4)`` cxcywh boxes."""
        h, w = spatial_shape
        xyxy = box_cxcywh_to_xyxy(boxes)
        ys = torch.arange(h, device=boxes.device, dtype=boxes.dtype) / h
        xs = torch.arange(w, device=boxes.device, dtype=boxes.dtype) / w
        dy = ys[None, None, :, None] - xyxy[:, :, None, 1::2]  # (B, Q, H, 2)
        dx = xs[None, None, :, None] - xyxy[:, :, None, 0::2]  # (B, Q, W, 2)

        def log_scale(d: Tensor) -> Tensor:
            d = d * 8
            return torch.sign(d) * torch.log2(d.abs() + 1.0) / math.log2(8)

        by = self.boxRPB_embed_y(log_scale(dy))  # (B, Q, H, heads)
        bx = self.boxRPB_embed_x(log_scale(dx))  # (B, Q, W, heads)
        bias = (by[:, :, :, None] + bx[:, :, None, :]).flatten(2, 3)
        return bias.permute(0, 3, 1, 2)

    def forward(
        self,
        memory: Tensor,
        memory_pos: Tensor,
        spatial_shape: tuple[int, int],
        prompt: Tensor,
        prompt_valid: Tensor | None = None,
    ) -> DecoderOutput:
        b = prompt.shape[0]
        memory = memory.expand(b, -1, -1)
        memory_pos = memory_pos.expand(b, -1, -1)
        dtype = memory.dtype
        queries = self.query_embed.weight[None].expand(b, -1, -1).to(dtype)
        boxes = self.reference_points.weight[None].expand(b, -1, -1).sigmoid().to(dtype)
        x = torch.cat((self.presence_token.weight[None].expand(b, -1, -1).to(dtype), queries), 1)
        prompt_bias = attention_bias(prompt_valid, dtype) if prompt_valid is not None else None
        half = self.config.d_model // 2
        outs, out_boxes, presence = [], [], []
        for layer in self.layers:
            query_pos = self.ref_point_head(sine_encode_boxes(boxes, half))
            query_pos = F.pad(query_pos, (0, 0, 1, 0))
            image_bias = F.pad(self.box_bias(boxes, spatial_shape), (0, 0, 1, 0))
            x = layer(x, query_pos, prompt, prompt_bias, memory, memory_pos, image_bias)
            normed = self.norm(x[:, 1:])
            boxes = (inverse_sigmoid(boxes) + self.bbox_embed(normed)).sigmoid()
            outs.append(normed)
            out_boxes.append(boxes)
            logit = self.presence_token_head(self.presence_token_out_norm(x[:, :1]))[..., 0]
            presence.append(logit.clamp(-PRESENCE_CLAMP, PRESENCE_CLAMP))
        return DecoderOutput(torch.stack(outs), torch.stack(out_boxes), torch.stack(presence))


class PromptMLP(MLP):
    """Two-layer ReLU MLP with a residual connection and an output layer norm."""

    def __init__(self, d_model: int, dim_feedforward: int) -> None:
        super().__init__(d_model, dim_feedforward, d_model, 2)
        self.out_norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor) -> Tensor:
        return self.out_norm(x + super().forward(x))


class DotProductScoring(nn.Module):
    """Query-vs-prompt logits (see the module docstring)."""

    def __init__(self, d_model: int = 256, dim_feedforward: int = 2048) -> None:
        super().__init__()
        self.prompt_mlp = PromptMLP(d_model, dim_feedforward)
        self.prompt_proj = nn.Linear(d_model, d_model)
        self.hs_proj = nn.Linear(d_model, d_model)
        self.scale = 1.0 / math.sqrt(d_model)

    def forward(
        self, queries: Tensor, prompt: Tensor, prompt_valid: Tensor | None = None
    ) -> Tensor:
        prompt = self.prompt_mlp(prompt)
        if prompt_valid is None:
            pooled = prompt.mean(1)
        else:
            weight = prompt_valid.to(prompt.dtype)[..., None]
            pooled = (prompt * weight).sum(1) / weight.sum(1).clamp(min=1.0)
        text = self.prompt_proj(pooled)  # (B, C)
        scores = torch.einsum("...bqc,bc->...bq", self.hs_proj(queries), text) * self.scale
        return scores.clamp(-SCORE_CLAMP, SCORE_CLAMP)
