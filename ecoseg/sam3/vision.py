"""SAM 3's image backbone: the perception-encoder ViT and its feature pyramids.

The ViT cuts the image into 14 px patches, adds a learned absolute position embedding (tiled
from its pretraining grid), normalises (``ln_pre``) and runs a stack of pre-norm blocks. Most
blocks attend inside non-overlapping windows; a few attend globally. Every block rotates
queries and keys with a 2-D axial RoPE (half of each head's pairs rotate with the column, half
with the row); in global blocks the positions are scaled by ``window / grid`` so they span the
window's range. The last map (stride 14) feeds a ViTDet simple pyramid (strides 3.5, 7, 14
and 28 in pixels, i.e. 4x, 2x, 1x and 0.5x the ViT grid) with a sine position encoding per
level; a second pyramid with its own weights feeds the tracker.

Parameter names follow Meta's checkpoint (``trunk.blocks.N.attn.qkv`` ...), so ``sam3.pt``
maps onto this module by a prefix (see :mod:`ecoseg.sam3.checkpoint`).

Exports
-------
``rope_angles(head_dim, height, width, scale=1.0, theta=10000.0, *, device=None)``
    ``(cos, sin)`` of shape ``(height * width, head_dim)`` for the axial 2-D RoPE.
``ViT(config: ViTConfig)``
    ``forward(images (B, 3, S, S)) -> (B, C, S/14, S/14)``.
``SimpleFpn(config: FpnConfig, in_dim)``
    ``forward(x (B, C, h, w)) -> list of (B, d_model, ...)`` at 4x, 2x, 1x, 0.5x.
``VisionFeatures``
    ``fpn`` / ``pos`` (detector pyramid and its position encodings, all levels) and
    ``tracker_fpn`` / ``tracker_pos`` (``None`` without the tracker pyramid).
``VisionBackbone(vision: ViTConfig, neck: FpnConfig)``
    Attributes ``trunk``, ``convs``, ``sam2_convs``; ``forward(images) -> VisionFeatures``.

Examples
--------
>>> import torch
>>> from ecoseg.sam3.config import get_config
>>> from ecoseg.sam3.vision import VisionBackbone
>>> c = get_config("sam3-reduced")
>>> feats = VisionBackbone(c.vision, c.neck)(torch.zeros(1, 3, 336, 336))
>>> [tuple(f.shape[-2:]) for f in feats.fpn]
[(96, 96), (48, 48), (24, 24), (12, 12)]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.neck import sine_position_encoding
from ecoseg.sam3.config import FpnConfig, ViTConfig

__all__ = [
    "rope_angles",
    "apply_rope",
    "ViT",
    "SimpleFpn",
    "VisionFeatures",
    "VisionBackbone",
    "window_partition",
    "window_unpartition",
]


def rope_angles(
    head_dim: int,
    height: int,
    width: int,
    scale: float = 1.0,
    theta: float = 10000.0,
    *,
    device=None,
) -> tuple[Tensor, Tensor]:
    """Cosines and sines of the axial 2-D RoPE of a ``height x width`` token grid.

    Token ``t`` (row-major) sits at column ``x = t % width`` and row ``y = t // width``, both
    multiplied by ``scale``. Channel pairs ``0 .. head_dim/4 - 1`` rotate by ``x * f_k``, the
    next ``head_dim/4`` pairs by ``y * f_k``, with ``f_k = theta ** (-4k / head_dim)``. Both
    outputs are ``(height * width, head_dim)`` with every angle repeated for its pair.

    Examples
    --------
    >>> cos, sin = rope_angles(8, 2, 3)
    >>> tuple(cos.shape), float(sin[0].abs().max())
    ((6, 8), 0.0)
    """
    if head_dim % 4:
        raise ValueError(f"head_dim must be a multiple of 4 for 2-D RoPE, got {head_dim}")
    freqs = 1.0 / (
        theta ** (torch.arange(0, head_dim, 4, device=device)[: head_dim // 4].float() / head_dim)
    )
    t = torch.arange(height * width, dtype=torch.float32, device=device)
    tx = (t % width) * scale
    ty = torch.div(t, width, rounding_mode="floor") * scale
    angles = torch.cat((torch.outer(tx, freqs), torch.outer(ty, freqs)), dim=-1)
    angles = angles.repeat_interleave(2, dim=-1)
    return angles.cos(), angles.sin()


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate consecutive channel pairs of ``x`` (..., N, head_dim), computed in float32.

    Examples
    --------
    >>> import torch
    >>> cos, sin = rope_angles(4, 1, 2)
    >>> x = torch.ones(1, 2, 4)
    >>> bool(torch.allclose(apply_rope(x, cos, sin)[0, 0], x[0, 0]))  # position 0: identity
    True
    """
    xf = x.float()
    pairs = xf.unflatten(-1, (-1, 2))
    rotated = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
    return (xf * cos + rotated * sin).to(x.dtype)


def window_partition(x: Tensor, window: int) -> tuple[Tensor, tuple[int, int]]:
    """Split ``(B, H, W, C)`` into ``(B * nw, window, window, C)`` windows, zero-padding H, W.

    Examples
    --------
    >>> import torch
    >>> w, padded = window_partition(torch.zeros(2, 5, 6, 3), 4)
    >>> tuple(w.shape), padded
    ((8, 4, 4, 3), (8, 8))
    """
    b, h, w, c = x.shape
    pad_h = (window - h % window) % window
    pad_w = (window - w % window) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window, window, wp // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, c), (hp, wp)


def window_unpartition(
    windows: Tensor, window: int, padded: tuple[int, int], size: tuple[int, int]
) -> Tensor:
    """Inverse of :func:`window_partition`: back to ``(B, H, W, C)`` without the padding."""
    hp, wp = padded
    h, w = size
    b = windows.shape[0] // ((hp // window) * (wp // window))
    x = windows.view(b, hp // window, wp // window, window, window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    return x[:, :h, :w].contiguous() if (hp, wp) != (h, w) else x


class PatchEmbed(nn.Module):
    """Non-overlapping ``patch_size`` convolution without bias, ``(B, 3, S, S) -> (B, h, w, C)``."""

    def __init__(self, patch_size: int, embed_dim: int, in_chans: int = 3) -> None:
        super().__init__()
        self.proj = nn.Conv2d(
            in_chans, embed_dim, kernel_size=patch_size, stride=patch_size, bias=False
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


class Attention(nn.Module):
    """Multi-head self-attention with fused ``qkv`` and 2-D RoPE on ``(B, h, w, C)`` maps."""

    def __init__(self, dim: int, num_heads: int, rope_scale: float, theta: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.rope_scale = rope_scale
        self.theta = theta
        self._rope_cache: dict[tuple, tuple[Tensor, Tensor]] = {}

    def _rope(self, h: int, w: int, device) -> tuple[Tensor, Tensor]:
        key = (h, w, str(device))
        if key not in self._rope_cache:
            self._rope_cache[key] = rope_angles(
                self.head_dim, h, w, self.rope_scale, self.theta, device=device
            )
        return self._rope_cache[key]

    def forward(self, x: Tensor) -> Tensor:
        b, h, w, c = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, heads, N, head_dim)
        cos, sin = self._rope(h, w, x.device)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, h, w, c))


class Mlp(nn.Module):
    """``fc1`` -> exact GELU -> ``fc2``."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm ViT block; ``window > 0`` attends inside windows of that many patches."""

    def __init__(self, config: ViTConfig, window: int) -> None:
        super().__init__()
        dim = config.embed_dim
        self.window = window
        # RoPE positions: inside a window 0..window-1; globally scaled to the same range
        scale = 1.0 if window > 0 else config.window_size / config.grid_size
        self.norm1 = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.attn = Attention(dim, config.num_heads, scale, config.rope_theta)
        self.norm2 = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.mlp = Mlp(dim, config.mlp_dim)

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x
        x = self.norm1(x)
        if self.window > 0:
            size = (x.shape[1], x.shape[2])
            x, padded = window_partition(x, self.window)
            x = window_unpartition(self.attn(x), self.window, padded, size)
        else:
            x = self.attn(x)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """The perception-encoder ViT trunk (no class token at run time, no final norm).

    Examples
    --------
    >>> import torch
    >>> from ecoseg.sam3.config import get_config
    >>> vit = ViT(get_config("sam3-reduced").vision)
    >>> tuple(vit(torch.zeros(1, 3, 336, 336)).shape)
    (1, 256, 24, 24)
    """

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.embed_dim
        if config.pretrain_image_size % config.patch_size:
            raise ValueError("pretrain_image_size must be a multiple of patch_size")
        p = config.pretrain_grid_size
        self.patch_embed = PatchEmbed(config.patch_size, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, p * p, dim))
        self.ln_pre = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        global_blocks = set(config.global_att_blocks)
        if not global_blocks <= set(range(config.depth)):
            raise ValueError(f"global_att_blocks {config.global_att_blocks} outside the depth")
        self.blocks = nn.ModuleList(
            Block(config, 0 if i in global_blocks else config.window_size)
            for i in range(config.depth)
        )
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self._pos_cache: dict[tuple, Tensor] = {}

    @property
    def channel_list(self) -> tuple[int, ...]:
        return (self.config.embed_dim,)

    def tiled_pos_embed(self, h: int, w: int) -> Tensor:
        """The position embedding tiled (repeated, not interpolated) to ``(1, h, w, C)``."""
        p = self.config.pretrain_grid_size
        pos = self.pos_embed.reshape(1, p, p, -1)
        if (h, w) == (p, p):
            return pos
        reps = (1, h // p + 1, w // p + 1, 1)
        return pos.tile(reps)[:, :h, :w]

    def forward(self, images: Tensor) -> Tensor:
        x = self.patch_embed(images)
        x = x + self.tiled_pos_embed(x.shape[1], x.shape[2])
        x = self.ln_pre(x)
        for block in self.blocks:
            x = block(x)
        return x.permute(0, 3, 1, 2)


class SimpleFpn(nn.ModuleList):
    """ViTDet simple pyramid over one map: one ``nn.Sequential`` branch per scale.

    Branch children carry Meta's names (``dconv_2x2_0``, ``gelu``, ``dconv_2x2_1``,
    ``dconv_2x2``, ``maxpool_2x2``, ``conv_1x1``, ``conv_3x3``).
    """

    def __init__(self, config: FpnConfig, in_dim: int) -> None:
        branches = []
        for scale in config.scale_factors:
            branch = nn.Sequential()
            if scale == 4.0:
                branch.add_module("dconv_2x2_0", nn.ConvTranspose2d(in_dim, in_dim // 2, 2, 2))
                branch.add_module("gelu", nn.GELU())
                branch.add_module("dconv_2x2_1", nn.ConvTranspose2d(in_dim // 2, in_dim // 4, 2, 2))
                out = in_dim // 4
            elif scale == 2.0:
                branch.add_module("dconv_2x2", nn.ConvTranspose2d(in_dim, in_dim // 2, 2, 2))
                out = in_dim // 2
            elif scale == 1.0:
                out = in_dim
            elif scale == 0.5:
                branch.add_module("maxpool_2x2", nn.MaxPool2d(kernel_size=2, stride=2))
                out = in_dim
            else:
                raise ValueError(f"unsupported pyramid scale {scale} (use 4, 2, 1 or 0.5)")
            branch.add_module("conv_1x1", nn.Conv2d(out, config.d_model, kernel_size=1))
            branch.add_module(
                "conv_3x3", nn.Conv2d(config.d_model, config.d_model, kernel_size=3, padding=1)
            )
            branches.append(branch)
        super().__init__(branches)

    def forward(self, x: Tensor) -> list[Tensor]:  # type: ignore[override]
        return [branch(x) for branch in self]


@dataclass
class VisionFeatures:
    """Backbone outputs of a batch of images (pyramid levels highest resolution first).

    Attributes
    ----------
    fpn, pos : list of Tensor, each (B, d_model, h, w)
        Detector pyramid (4x, 2x, 1x, 0.5x the ViT grid) and sine position encodings.
    tracker_fpn, tracker_pos : list of Tensor or None
        The tracker's pyramid, same shapes (``None`` without ``sam2_convs``).
    """

    fpn: list[Tensor]
    pos: list[Tensor]
    tracker_fpn: list[Tensor] | None = None
    tracker_pos: list[Tensor] | None = None


class VisionBackbone(nn.Module):
    """ViT trunk plus the detector pyramid (``convs``) and the tracker pyramid (``sam2_convs``)."""

    def __init__(self, vision: ViTConfig, neck: FpnConfig) -> None:
        super().__init__()
        self.neck_config = neck
        self.trunk = ViT(vision)
        self.convs = SimpleFpn(neck, vision.embed_dim)
        self.sam2_convs = SimpleFpn(neck, vision.embed_dim) if neck.tracker_neck else None
        self._pos_cache: dict[tuple, Tensor] = {}

    def position_encoding(self, x: Tensor) -> Tensor:
        """Sine encoding of a level, ``(B, d_model, h, w)`` in ``x``'s dtype (cached)."""
        h, w = x.shape[-2:]
        key = (h, w, str(x.device), x.dtype)
        pe = self._pos_cache.get(key)
        if pe is None:
            pe = sine_position_encoding(
                h,
                w,
                self.neck_config.d_model,
                self.neck_config.pos_temperature,
                device=x.device,
            ).to(x.dtype)
            self._pos_cache[key] = pe
        return pe.expand(x.shape[0], -1, -1, -1)

    def pyramids(self, trunk_map: Tensor, *, tracker: bool = True) -> VisionFeatures:
        """Both pyramids (the tracker's only if ``tracker`` and built) over a trunk map."""
        fpn = self.convs(trunk_map)
        pos = [self.position_encoding(f) for f in fpn]
        tracker_fpn = tracker_pos = None
        if tracker and self.sam2_convs is not None:
            tracker_fpn = self.sam2_convs(trunk_map)
            tracker_pos = [self.position_encoding(f) for f in tracker_fpn]
        return VisionFeatures(fpn, pos, tracker_fpn, tracker_pos)

    def forward(self, images: Tensor, *, tracker: bool = True) -> VisionFeatures:
        return self.pyramids(self.trunk(images), tracker=tracker)
