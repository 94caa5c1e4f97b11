"""Attention building blocks and the two-way transformer of the SAM mask decoder.

Everything attends through :func:`torch.nn.functional.scaled_dot_product_attention`, so the
fused (flash / memory-efficient) kernels are used on GPU, in any dtype.

Exports (the memory attention of :mod:`ecoseg.sam2.memory` may reuse them)
-----------------------------------------------------------------------
``MLP(input_dim, hidden_dim, output_dim, num_layers, activation=nn.ReLU, sigmoid_output=False)``
    Stack of ``Linear`` layers in ``.layers`` with ``activation`` between them.
``LayerNorm2d(num_channels, eps=1e-6)``
    Layer norm over the channel axis of ``(B, C, H, W)`` maps (parameters ``weight``, ``bias``).
``Attention(embedding_dim, num_heads, downsample_rate=1, dropout=0.0, kv_in_dim=None)``
    Multi-head attention with ``q_proj``, ``k_proj``, ``v_proj``, ``out_proj``; the inner width
    is ``embedding_dim // downsample_rate``; keys/values may come from ``kv_in_dim`` channels.
    ``forward(q, k, v)`` on ``(B, N, C)`` tokens; ``project_qkv`` / ``attend`` expose the two
    halves so a subclass can rotate queries and keys (RoPE) in between.
``TwoWayTransformer(depth, embedding_dim, num_heads, mlp_dim, activation=nn.ReLU,
attention_downsample_rate=2)``
    ``forward(image_embedding (B,C,H,W), image_pe (B,C,H,W), point_embedding (B,N,C))`` ->
    ``(queries (B,N,C), keys (B,H*W,C))``.

Examples
--------
>>> import torch
>>> from ecoseg.sam2.transformer import TwoWayTransformer
>>> t = TwoWayTransformer(depth=2, embedding_dim=32, num_heads=4, mlp_dim=64)
>>> q, k = t(torch.zeros(1, 32, 4, 4), torch.zeros(1, 32, 4, 4), torch.zeros(1, 5, 32))
>>> tuple(q.shape), tuple(k.shape)
((1, 5, 32), (1, 16, 32))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MLP", "LayerNorm2d", "Attention", "TwoWayAttentionBlock", "TwoWayTransformer"]


class MLP(nn.Module):
    """``num_layers`` linear layers; ``activation`` after all but the last.

    Examples
    --------
    >>> import torch
    >>> MLP(8, 16, 2, num_layers=3)(torch.zeros(4, 8)).shape
    torch.Size([4, 2])
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        output_dim: int,
        num_layers: int,
        activation: type[nn.Module] = nn.ReLU,
        sigmoid_output: bool = False,
    ) -> None:
        super().__init__()
        widths = [input_dim] + [hidden_dim] * (num_layers - 1) + [output_dim]
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(widths[:-1], widths[1:])
        )
        self.act = activation()
        self.sigmoid_output = sigmoid_output

    def forward(self, x: Tensor) -> Tensor:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < last:
                x = self.act(x)
        return torch.sigmoid(x) if self.sigmoid_output else x


class LayerNorm2d(nn.Module):
    """Layer norm across channels of a ``(B, C, H, W)`` map, with affine ``weight``/``bias``.

    Examples
    --------
    >>> import torch
    >>> y = LayerNorm2d(4)(torch.randn(2, 4, 3, 3))
    >>> bool(y.mean(1).abs().max() < 1e-5)
    True
    """

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Attention(nn.Module):
    """Multi-head attention whose inner width may be reduced by ``downsample_rate``.

    Parameters
    ----------
    embedding_dim : int
        Width of the queries and of the output.
    num_heads : int
        Number of heads (must divide the inner width).
    downsample_rate : int
        Inner width is ``embedding_dim // downsample_rate``.
    dropout : float
        Attention dropout, applied in training mode only.
    kv_in_dim : int, optional
        Width of the key/value inputs (default ``embedding_dim``).

    Examples
    --------
    >>> import torch
    >>> a = Attention(16, num_heads=2, downsample_rate=2, kv_in_dim=8)
    >>> a(torch.zeros(1, 3, 16), torch.zeros(1, 5, 8), torch.zeros(1, 5, 8)).shape
    torch.Size([1, 3, 16])
    """

    def __init__(
        self,
        embedding_dim: int,
        num_heads: int,
        downsample_rate: int = 1,
        dropout: float = 0.0,
        kv_in_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.kv_in_dim = kv_in_dim if kv_in_dim is not None else embedding_dim
        self.internal_dim = embedding_dim // downsample_rate
        self.num_heads = num_heads
        if self.internal_dim % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide {self.internal_dim}")
        self.q_proj = nn.Linear(embedding_dim, self.internal_dim)
        self.k_proj = nn.Linear(self.kv_in_dim, self.internal_dim)
        self.v_proj = nn.Linear(self.kv_in_dim, self.internal_dim)
        self.out_proj = nn.Linear(self.internal_dim, embedding_dim)
        self.dropout_p = dropout

    def _heads(self, x: Tensor) -> Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, -1).transpose(1, 2)

    def project_qkv(self, q: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Project ``(B, N, C)`` inputs to ``(B, heads, N, C_head)`` queries, keys, values."""
        return self._heads(self.q_proj(q)), self._heads(self.k_proj(k)), self._heads(self.v_proj(v))

    def attend(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Attention over per-head tensors, heads merged and projected back to ``(B, N, C)``."""
        dropout = self.dropout_p if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
        b, _, n, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, self.internal_dim))

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        return self.attend(*self.project_qkv(q, k, v))


class TwoWayAttentionBlock(nn.Module):
    """Tokens self-attend, attend to the image, go through an MLP; the image attends back.

    The first block of the stack skips adding the positional encoding to its self-attention
    (its queries *are* the prompt embeddings) and replaces, rather than adds to, the queries.
    """

    def __init__(
        self,
        embedding_dim: int,
        num_heads: int,
        mlp_dim: int = 2048,
        activation: type[nn.Module] = nn.ReLU,
        attention_downsample_rate: int = 2,
        skip_first_layer_pe: bool = False,
    ) -> None:
        super().__init__()
        self.self_attn = Attention(embedding_dim, num_heads)
        self.norm1 = nn.LayerNorm(embedding_dim)
        self.cross_attn_token_to_image = Attention(
            embedding_dim, num_heads, downsample_rate=attention_downsample_rate
        )
        self.norm2 = nn.LayerNorm(embedding_dim)
        self.mlp = MLP(embedding_dim, mlp_dim, embedding_dim, num_layers=2, activation=activation)
        self.norm3 = nn.LayerNorm(embedding_dim)
        self.norm4 = nn.LayerNorm(embedding_dim)
        self.cross_attn_image_to_token = Attention(
            embedding_dim, num_heads, downsample_rate=attention_downsample_rate
        )
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(
        self, queries: Tensor, keys: Tensor, query_pe: Tensor, key_pe: Tensor
    ) -> tuple[Tensor, Tensor]:
        if self.skip_first_layer_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)

        q = queries + query_pe
        k = keys + key_pe
        queries = self.norm2(queries + self.cross_attn_token_to_image(q, k, keys))
        queries = self.norm3(queries + self.mlp(queries))

        q = queries + query_pe
        keys = self.norm4(keys + self.cross_attn_image_to_token(k, q, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    """Decoder transformer between prompt tokens and the image embedding.

    Examples
    --------
    >>> import torch
    >>> t = TwoWayTransformer(depth=1, embedding_dim=16, num_heads=2, mlp_dim=32)
    >>> q, k = t(torch.randn(2, 16, 3, 3), torch.randn(2, 16, 3, 3), torch.randn(2, 4, 16))
    >>> tuple(q.shape), tuple(k.shape)
    ((2, 4, 16), (2, 9, 16))
    """

    def __init__(
        self,
        depth: int,
        embedding_dim: int,
        num_heads: int,
        mlp_dim: int,
        activation: type[nn.Module] = nn.ReLU,
        attention_downsample_rate: int = 2,
    ) -> None:
        super().__init__()
        self.depth = depth
        self.embedding_dim = embedding_dim
        self.layers = nn.ModuleList(
            TwoWayAttentionBlock(
                embedding_dim,
                num_heads,
                mlp_dim=mlp_dim,
                activation=activation,
                attention_downsample_rate=attention_downsample_rate,
                skip_first_layer_pe=(i == 0),
            )
            for i in range(depth)
        )
        self.final_attn_token_to_image = Attention(
            embedding_dim, num_heads, downsample_rate=attention_downsample_rate
        )
        self.norm_final_attn = nn.LayerNorm(embedding_dim)

    def forward(
        self, image_embedding: Tensor, image_pe: Tensor, point_embedding: Tensor
    ) -> tuple[Tensor, Tensor]:
        keys = image_embedding.flatten(2).transpose(1, 2)
        key_pe = image_pe.flatten(2).transpose(1, 2)
        queries = point_embedding
        for layer in self.layers:
            queries, keys = layer(queries, keys, point_embedding, key_pe)
        q = queries + point_embedding
        k = keys + key_pe
        queries = self.norm_final_attn(queries + self.final_attn_token_to_image(q, k, keys))
        return queries, keys
