"""Hiera trunk: the hierarchical vision transformer of the SAM 2 image encoder.

A stride-4 patch embedding, then ``sum(stages)`` transformer blocks in four stages. The first
block of each later stage max-pools its queries by 2 (the map halves, the width and the head
count double). Most blocks attend inside non-overlapping square windows (padded with zeros to a
whole number of windows, as the reference does); a few attend globally. The position embedding
is a coarse background grid, bicubically resized to the patch grid, plus one window-sized
embedding tiled over it (Bolya et al., "Window attention is bugged", 2023).

Parameter names follow the official checkpoints: ``pos_embed``, ``pos_embed_window``,
``patch_embed.proj``, ``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.layers.{0,1},proj}``.

Exports
-------
``Hiera(config: HieraConfig)``
    ``forward(images (B, 3, H, W)) -> list`` of the four stage outputs ``(B, C_i, H/4/2**i,
    W/4/2**i)``, highest resolution first; ``channel_list`` gives their widths lowest
    resolution first.

Examples
--------
>>> import torch
>>> from ecoseg.sam2.hiera import Hiera
>>> from ecoseg.sam2.variants import get_variant
>>> trunk = Hiera(get_variant("sam2.1-tiny").trunk)
>>> [tuple(f.shape) for f in trunk(torch.zeros(1, 3, 64, 64))]
[(1, 96, 16, 16), (1, 192, 8, 8), (1, 384, 4, 4), (1, 768, 2, 2)]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.transformer import MLP
from ecoseg.sam2.variants import HieraConfig

__all__ = ["Hiera", "HieraBlock", "window_partition", "window_unpartition"]


def window_partition(x: Tensor, window: int) -> tuple[Tensor, tuple[int, int]]:
    """Cut ``(B, H, W, C)`` into ``(B * nWin, window, window, C)``, zero-padding H and W up.

    Returns the windows and the padded size ``(Hp, Wp)``.

    Examples
    --------
    >>> import torch
    >>> w, hw = window_partition(torch.zeros(2, 5, 6, 3), 4)
    >>> tuple(w.shape), hw
    ((8, 4, 4, 3), (8, 8))
    """
    b, h, w, c = x.shape
    pad_h, pad_w = (-h) % window, (-w) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window, window, wp // window, window, c).transpose(2, 3)
    return x.reshape(-1, window, window, c), (hp, wp)


def window_unpartition(
    windows: Tensor, window: int, padded_hw: tuple[int, int], hw: tuple[int, int]
) -> Tensor:
    """Inverse of :func:`window_partition`: windows back to ``(B, H, W, C)``, padding cropped.

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(2, 5, 6, 3)
    >>> w, hw = window_partition(x, 4)
    >>> torch.equal(window_unpartition(w, 4, hw, (5, 6)), x)
    True
    """
    hp, wp = padded_hw
    h, w = hw
    nh, nw = hp // window, wp // window
    b = windows.shape[0] // (nh * nw)
    x = windows.view(b, nh, nw, window, window, -1).transpose(2, 3).reshape(b, hp, wp, -1)
    if hp > h or wp > w:
        x = x[:, :h, :w]
    return x


def _max_pool_hw(x: Tensor, stride: tuple[int, int], dims: tuple[int, int]) -> Tensor:
    """Non-overlapping max pooling of the two spatial axes ``dims`` of ``x`` (floor mode).

    The maximum of the ``sh * sw`` strided sub-grids, taken pairwise: exactly the pooled
    maximum, and elementwise along the contiguous channel axis (a reduction over the
    non-contiguous spatial axes is many times slower on the CPU).
    """
    sh, sw = stride
    dh, dw = dims
    h, w = x.shape[dh], x.shape[dw]
    x = x.narrow(dh, 0, h - h % sh).narrow(dw, 0, w - w % sw)
    out = None
    for i in range(sh):
        for j in range(sw):
            index = [slice(None)] * x.dim()
            index[dh] = slice(i, None, sh)
            index[dw] = slice(j, None, sw)
            part = x[tuple(index)]
            out = part if out is None else torch.maximum(out, part)
    return out


class _PatchEmbed(nn.Module):
    def __init__(self, dim: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=kernel, stride=stride, padding=padding)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).permute(0, 2, 3, 1)  # (B, H, W, C)


class _PooledAttention(nn.Module):
    """Self-attention on ``(B, H, W, C)`` tokens whose queries may be max-pooled."""

    def __init__(self, dim: int, dim_out: int, num_heads: int, q_stride) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q_stride = q_stride
        self.qkv = nn.Linear(dim, dim_out * 3)
        self.proj = nn.Linear(dim_out, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        b, h, w, _ = x.shape
        # (B, H, W, 3 * C) -> (3, B, heads, H, W, C_head)
        qkv = self.qkv(x).view(b, h, w, 3, self.num_heads, -1).permute(3, 0, 4, 1, 2, 5)
        q, k, v = qkv.unbind(0)
        if self.q_stride is not None:
            q = _max_pool_hw(q, self.q_stride, (2, 3))
        hq, wq = q.shape[2], q.shape[3]
        out = F.scaled_dot_product_attention(q.flatten(2, 3), k.flatten(2, 3), v.flatten(2, 3))
        out = out.transpose(1, 2).reshape(b, hq, wq, -1)
        return out


class HieraBlock(nn.Module):
    """One Hiera block: (windowed) attention with optional query pooling, then an MLP."""

    def __init__(
        self,
        dim: int,
        dim_out: int,
        num_heads: int,
        window: int,
        q_stride: tuple[int, int] | None,
        mlp_ratio: float,
        eps: float,
    ) -> None:
        super().__init__()
        self.dim, self.dim_out = dim, dim_out
        self.window = window
        self.q_stride = q_stride
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = _PooledAttention(dim, dim_out, num_heads, q_stride)
        self.norm2 = nn.LayerNorm(dim_out, eps=eps)
        self.mlp = MLP(dim_out, int(dim_out * mlp_ratio), dim_out, 2, activation=nn.GELU)
        if dim != dim_out:
            self.proj = nn.Linear(dim, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        y = self.norm1(x)
        shortcut = x
        if self.dim != self.dim_out:
            shortcut = self.proj(y)
            if self.q_stride is not None:
                shortcut = _max_pool_hw(shortcut, self.q_stride, (1, 2))
        if self.window > 0:
            h, w = y.shape[1:3]
            windows, (hp, wp) = window_partition(y, self.window)
            out = self.attn(windows)
            if self.q_stride is not None:
                sh, sw = self.q_stride
                window = self.window // sh
                h, w = shortcut.shape[1:3]
                hp, wp = hp // sh, wp // sw
            else:
                window = self.window
            out = window_unpartition(out, window, (hp, wp), (h, w))
        else:
            out = self.attn(y)
        x = shortcut + self.attn.proj(out)
        return x + self.mlp(self.norm2(x))


class Hiera(nn.Module):
    """Hiera trunk built from a :class:`~ecoseg.sam2.variants.HieraConfig`."""

    def __init__(self, config: HieraConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.embed_dim
        heads = config.num_heads
        self.patch_embed = _PatchEmbed(
            dim, config.patch_kernel, config.patch_stride, config.patch_padding
        )
        self.pos_embed = nn.Parameter(
            torch.zeros(1, dim, *config.window_pos_embed_bkg_spatial_size)
        )
        w0 = config.window_spec[0]
        self.pos_embed_window = nn.Parameter(torch.zeros(1, dim, w0, w0))
        self._pos_cache: tuple[tuple, Tensor] | None = None

        ends = [sum(config.stages[: i + 1]) - 1 for i in range(len(config.stages))]
        self.stage_ends = tuple(ends)
        pool_blocks = {e + 1 for e in ends[:-1][: config.q_pool]}
        blocks = []
        stage = 0
        for i in range(config.depth):
            dim_out = dim
            # a stage's first block still uses the previous stage's window (on the finer map)
            window = 0 if i in config.global_att_blocks else config.window_spec[stage]
            if i - 1 in ends[:-1]:
                dim_out = int(dim * config.dim_mul)
                heads = int(heads * config.head_mul)
                stage += 1
            blocks.append(
                HieraBlock(
                    dim,
                    dim_out,
                    heads,
                    window=window,
                    q_stride=tuple(config.q_stride) if i in pool_blocks else None,
                    mlp_ratio=config.mlp_ratio,
                    eps=config.layer_norm_eps,
                )
            )
            dim = dim_out
        self.blocks = nn.ModuleList(blocks)
        self.channel_list = tuple(self.blocks[e].dim_out for e in reversed(ends))

    def _pos_embed(self, h: int, w: int) -> Tensor:
        # the same for every frame: kept while the weights stay as they are (no gradients)
        win = self.pos_embed_window
        key = None
        if not torch.is_grad_enabled() and not self.pos_embed.is_inference():
            key = (h, w, torch.is_inference_mode_enabled(), torch.is_autocast_enabled())
            key += tuple((p.data_ptr(), p._version, p.dtype) for p in (self.pos_embed, win))
            if self._pos_cache is not None and self._pos_cache[0] == key:
                return self._pos_cache[1]
        pos = F.interpolate(self.pos_embed, size=(h, w), mode="bicubic", align_corners=False)
        pos = pos + win.tile(1, 1, h // win.shape[-2], w // win.shape[-1])
        pos = pos.permute(0, 2, 3, 1)
        if key is not None:
            self._pos_cache = (key, pos)
        return pos

    def forward(self, images: Tensor) -> list[Tensor]:
        x = self.patch_embed(images)
        x = x + self._pos_embed(x.shape[1], x.shape[2])
        outputs = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.stage_ends:
                outputs.append(x.permute(0, 3, 1, 2))
        return outputs
