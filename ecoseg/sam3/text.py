"""SAM 3's text encoder: a CLIP-style causal transformer and its projection to the detector.

Token ids (from :class:`ecoseg.sam3.tokenizer.Tokenizer`, padded with 0 to the context length
of 32) are embedded, given a learned position embedding, and run through pre-norm residual
blocks under a causal mask; after the final layer norm every token is mapped by ``resizer``
to the detector width (256). Padding tokens are not masked inside the encoder (the causal
mask already keeps them from changing real tokens); their features are excluded downstream by
:attr:`TextFeatures.mask`.

Parameter names follow Meta's checkpoint (``encoder.transformer.resblocks.N.attn.in_proj_weight``
...). ``encoder.text_projection`` (CLIP's pooled projection) is carried so the checkpoint loads
strictly; SAM 3 never uses it.

Exports
-------
``TextFeatures``
    ``features`` (B, L, d_model), ``mask`` (B, L) bool, True for real tokens.
``TextTransformer(config: TextConfig)``
    ``forward(ids (B, L)) -> (B, L, width)`` (after ``ln_final``).
``TextEncoder(config: TextConfig)``
    Attributes ``encoder`` and ``resizer``; ``forward(ids) -> TextFeatures``.

Examples
--------
>>> import torch
>>> from ecoseg.sam3.config import get_config
>>> enc = TextEncoder(get_config("sam3-reduced").text)
>>> ids = torch.zeros(2, 32, dtype=torch.long); ids[:, :3] = torch.tensor([49406, 320, 49407])
>>> out = enc(ids)
>>> tuple(out.features.shape), int(out.mask.sum())
((2, 32, 256), 6)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam3.config import TextConfig

__all__ = ["TextFeatures", "SelfAttention", "TextTransformer", "TextEncoder", "PAD_ID"]

#: Id of the padding token (Meta's tokenizer pads with zeros).
PAD_ID = 0


@dataclass
class TextFeatures:
    """Encoded prompts: per-token features at the detector width and the valid-token mask."""

    features: Tensor
    mask: Tensor

    def select(self, index) -> TextFeatures:
        """Rows ``index`` (a slice, a list or a tensor of row indices)."""
        return TextFeatures(self.features[index], self.mask[index])


class SelfAttention(nn.Module):
    """Multi-head self-attention with a fused input projection (``in_proj_weight``/``bias``)."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide {dim}")
        self.num_heads = num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: Tensor, attn_mask: Tensor | None = None) -> Tensor:
        b, n, c = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.view(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, c))


class _Mlp(nn.Sequential):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.add_module("c_fc", nn.Linear(dim, hidden))
        self.add_module("gelu", nn.GELU())
        self.add_module("c_proj", nn.Linear(hidden, dim))


class ResidualAttentionBlock(nn.Module):
    """Pre-norm block: ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: TextConfig) -> None:
        super().__init__()
        self.attn = SelfAttention(config.width, config.heads)
        self.ln_1 = nn.LayerNorm(config.width, eps=config.layer_norm_eps)
        self.ln_2 = nn.LayerNorm(config.width, eps=config.layer_norm_eps)
        self.mlp = _Mlp(config.width, config.mlp_dim)

    def forward(self, x: Tensor, attn_mask: Tensor | None) -> Tensor:
        x = x + self.attn(self.ln_1(x), attn_mask)
        return x + self.mlp(self.ln_2(x))


class _Blocks(nn.Module):
    def __init__(self, config: TextConfig) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(config) for _ in range(config.layers))

    def forward(self, x: Tensor, attn_mask: Tensor | None) -> Tensor:
        for block in self.resblocks:
            x = block(x, attn_mask)
        return x


class TextTransformer(nn.Module):
    """Token + position embedding, causal blocks, final layer norm."""

    def __init__(self, config: TextConfig) -> None:
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.width)
        self.positional_embedding = nn.Parameter(torch.zeros(config.context_length, config.width))
        self.transformer = _Blocks(config)
        self.ln_final = nn.LayerNorm(config.width, eps=config.layer_norm_eps)
        self.text_projection = nn.Parameter(torch.zeros(config.width, config.output_dim))
        nn.init.normal_(self.positional_embedding, std=0.01)
        nn.init.normal_(self.text_projection, std=config.width**-0.5)

    def forward(self, ids: Tensor) -> Tensor:
        n = ids.shape[1]
        if n > self.config.context_length:
            raise ValueError(f"{n} tokens exceed the context length {self.config.context_length}")
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        causal = torch.ones(n, n, dtype=torch.bool, device=ids.device).tril()
        return self.ln_final(self.transformer(x, causal))


class TextEncoder(nn.Module):
    """The text transformer plus ``resizer`` (width -> d_model) on every token."""

    def __init__(self, config: TextConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = TextTransformer(config)
        self.resizer = nn.Linear(config.width, config.d_model)

    def forward(self, ids: Tensor) -> TextFeatures:
        """Encode ``(B, L)`` token ids (0 = padding) to :class:`TextFeatures`."""
        return TextFeatures(self.resizer(self.encoder(ids)), ids != PAD_ID)
