"""SAM 3 fusion encoder: image features conditioned on the prompt tokens (text + geometry).

A stack of pre-norm transformer layers over the flattened stride-14 image tokens. Each layer
self-attends among image tokens (sine position encoding added to queries and keys), then
cross-attends from image tokens to the prompt tokens (padding masked), then runs a ReLU MLP;
every sub-block is ``x + f(norm(x))``. The same layer, with the position encoding moved to the
cross-attention keys and the padding mask moved to the self-attention, encodes geometry
prompts in :mod:`ecoseg.sam3.geometry`.

Attention is SAM 2's :class:`~ecoseg.sam2.transformer.Attention` (``q_proj``, ``k_proj``,
``v_proj``, ``out_proj``) with an additive bias, so ``F.scaled_dot_product_attention`` picks
the fused kernels on GPU.

Exports
-------
``FusionEncoderConfig``
    ``d_model=256, num_layers=6, num_heads=8, dim_feedforward=2048``.
``BiasedAttention(embedding_dim, num_heads)``
    ``forward(q, k, v, bias=None)``; ``bias`` is additive, broadcastable to
    ``(B, heads, Lq, Lk)`` (see :func:`ecoseg.sam3._det_ops.attention_bias`).
``PreNormLayer(d_model, num_heads, dim_feedforward, *, pos_at_self_attn, pos_at_cross_keys)``
    Parameters ``self_attn``, ``cross_attn_image``, ``linear1``, ``linear2``, ``norm1..3``;
    ``forward(x, memory, *, pos=None, memory_pos=None, self_bias=None, cross_bias=None)``.
``FusionEncoder(config)``
    ``layers``; ``forward(features (B, C, H, W), pos (B, C, H, W), prompt (B, L, C),
    prompt_valid (B, L) bool) -> (memory (B, H*W, C), memory_pos (B, H*W, C))``.

Examples
--------
>>> import torch
>>> enc = FusionEncoder(FusionEncoderConfig(d_model=32, num_layers=2, num_heads=4,
...                                         dim_feedforward=64))
>>> mem, pos = enc(torch.zeros(1, 32, 3, 4), torch.zeros(1, 32, 3, 4), torch.zeros(1, 5, 32),
...                torch.ones(1, 5, dtype=torch.bool))
>>> tuple(mem.shape), tuple(pos.shape)
((1, 12, 32), (1, 12, 32))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.transformer import Attention
from ecoseg.sam3._det_ops import attention_bias

__all__ = ["FusionEncoderConfig", "BiasedAttention", "PreNormLayer", "FusionEncoder"]


@dataclass(frozen=True)
class FusionEncoderConfig:
    """Shape of the fusion encoder (SAM 3: 6 layers of width 256, 8 heads, MLP 2048)."""

    d_model: int = 256
    num_layers: int = 6
    num_heads: int = 8
    dim_feedforward: int = 2048


class BiasedAttention(Attention):
    """Multi-head attention with an optional additive bias (padding masks, box RPB).

    Examples
    --------
    >>> import torch
    >>> a = BiasedAttention(8, 2)
    >>> x = torch.randn(1, 3, 8)
    >>> bias = torch.tensor([0.0, 0.0, float("-inf")]).view(1, 1, 1, 3)
    >>> torch.allclose(a(x, x, x, bias), a(x, x[:, :2], x[:, :2]), atol=1e-6)
    True
    """

    def __init__(self, embedding_dim: int, num_heads: int) -> None:
        super().__init__(embedding_dim, num_heads)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None = None) -> Tensor:
        q, k, v = self.project_qkv(q, k, v)
        if bias is not None:
            bias = bias.to(q.dtype)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        b, _, n, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, self.internal_dim))


class PreNormLayer(nn.Module):
    """Pre-norm self-attention, cross-attention to a memory, and ReLU MLP, each residual.

    ``pos_at_self_attn`` adds ``pos`` to the self-attention queries and keys;
    ``pos_at_cross_keys`` adds ``memory_pos`` to the cross-attention keys.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        dim_feedforward: int,
        *,
        pos_at_self_attn: bool,
        pos_at_cross_keys: bool,
    ) -> None:
        super().__init__()
        self.self_attn = BiasedAttention(d_model, num_heads)
        self.cross_attn_image = BiasedAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.pos_at_self_attn = pos_at_self_attn
        self.pos_at_cross_keys = pos_at_cross_keys

    def forward(
        self,
        x: Tensor,
        memory: Tensor,
        *,
        pos: Tensor | None = None,
        memory_pos: Tensor | None = None,
        self_bias: Tensor | None = None,
        cross_bias: Tensor | None = None,
    ) -> Tensor:
        h = self.norm1(x)
        qk = h + pos if self.pos_at_self_attn and pos is not None else h
        x = x + self.self_attn(qk, qk, h, self_bias)
        h = self.norm2(x)
        keys = memory + memory_pos if self.pos_at_cross_keys and memory_pos is not None else memory
        x = x + self.cross_attn_image(h, keys, memory, cross_bias)
        return x + self.linear2(F.relu(self.linear1(self.norm3(x))))


class FusionEncoder(nn.Module):
    """Image tokens attend to themselves and to the prompt tokens (see the module docstring)."""

    def __init__(self, config: FusionEncoderConfig | None = None) -> None:
        super().__init__()
        config = config or FusionEncoderConfig()
        self.config = config
        self.layers = nn.ModuleList(
            PreNormLayer(
                config.d_model,
                config.num_heads,
                config.dim_feedforward,
                pos_at_self_attn=True,
                pos_at_cross_keys=False,
            )
            for _ in range(config.num_layers)
        )

    def forward(
        self, features: Tensor, pos: Tensor, prompt: Tensor, prompt_valid: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        x = features.flatten(2).transpose(1, 2)
        pos = pos.flatten(2).transpose(1, 2).to(x.dtype)
        bias = attention_bias(prompt_valid, x.dtype) if prompt_valid is not None else None
        for layer in self.layers:
            x = layer(x, prompt, pos=pos, cross_bias=bias)
        return x, pos
