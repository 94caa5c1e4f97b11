"""FPN neck, sine position encoding, and the image encoder (Hiera trunk + neck).

The neck projects each trunk stage to ``d_model`` channels with a 1x1 conv; the levels listed in
``fpn_top_down_levels`` also receive the next coarser level, upsampled x2 (nearest). The
coarsest ``scalp`` levels are then dropped, so SAM 2 gets strides 4, 8 and 16.

Exports
-------
``sine_position_encoding(h, w, num_pos_feats, temperature=10000.0, *, device=None,
dtype=None) -> Tensor``
    The DETR-style 2-D sine encoding, ``(1, num_pos_feats, h, w)``: first half encodes y,
    second half x, each as interleaved (sin, cos) pairs of the position normalised to (0, 2pi].
``PositionEmbeddingSine(num_pos_feats, temperature=10000.0)``
    Module form: ``forward(x (B, C, H, W)) -> (B, num_pos_feats, H, W)`` in ``x``'s dtype.
``FpnNeck(config: NeckConfig)``
    ``forward(trunk_outputs) -> (features, pos)``, both lists highest resolution first.
``ImageFeatures``
    ``backbone_fpn`` (list of ``(B, d_model, h, w)``, strides 4, 8, 16) and ``vision_pos_enc``
    (same shapes); ``vision_features`` is ``backbone_fpn[-1]`` (stride 16).
``ImageEncoder(trunk_config: HieraConfig, neck_config: NeckConfig)``
    Attributes ``trunk`` (:class:`~ecoseg.sam2.hiera.Hiera`) and ``neck``;
    ``forward(images (B, 3, S, S) normalised) -> ImageFeatures``.

Examples
--------
>>> import torch
>>> from ecoseg.sam2.neck import ImageEncoder
>>> from ecoseg.sam2.variants import get_variant
>>> v = get_variant("sam2.1-tiny")
>>> enc = ImageEncoder(v.trunk, v.neck)
>>> feats = enc(torch.zeros(1, 3, 128, 128))
>>> [tuple(f.shape) for f in feats.backbone_fpn]
[(1, 256, 32, 32), (1, 256, 16, 16), (1, 256, 8, 8)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.hiera import Hiera
from ecoseg.sam2.variants import HieraConfig, NeckConfig

__all__ = [
    "sine_position_encoding",
    "PositionEmbeddingSine",
    "FpnNeck",
    "ImageFeatures",
    "ImageEncoder",
]


def sine_position_encoding(
    h: int,
    w: int,
    num_pos_feats: int,
    temperature: float = 10000.0,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """2-D sine position encoding of an ``h x w`` grid, shape ``(1, num_pos_feats, h, w)``.

    Positions 1..h (and 1..w) are normalised to (0, 2pi]; channel ``2k`` holds ``sin`` and
    ``2k + 1`` holds ``cos`` of the position over ``temperature ** (2k / (num_pos_feats / 2))``.
    Computed in float32, returned in ``dtype``.

    Examples
    --------
    >>> pe = sine_position_encoding(4, 6, 8)
    >>> tuple(pe.shape), round(float(pe[0, 4, 0, -1]), 4)  # x at the right edge: sin(2pi)
    ((1, 8, 4, 6), -0.0)
    """
    if num_pos_feats % 2:
        raise ValueError(f"num_pos_feats must be even, got {num_pos_feats}")
    half = num_pos_feats // 2
    eps = 1e-6
    y = torch.arange(1, h + 1, dtype=torch.float32, device=device) / (h + eps) * (2 * math.pi)
    x = torch.arange(1, w + 1, dtype=torch.float32, device=device) / (w + eps) * (2 * math.pi)
    idx = torch.arange(half, dtype=torch.float32, device=device)
    freq = temperature ** (2 * torch.div(idx, 2, rounding_mode="floor") / half)

    def encode(p: Tensor) -> Tensor:  # (n,) -> (n, half), interleaved sin/cos
        a = p[:, None] / freq
        return torch.stack((a[:, 0::2].sin(), a[:, 1::2].cos()), dim=2).flatten(1)

    ey = encode(y).T[:, :, None].expand(half, h, w)
    ex = encode(x).T[:, None, :].expand(half, h, w)
    pe = torch.cat((ey, ex), dim=0)[None]
    return pe.to(dtype) if dtype is not None else pe


class PositionEmbeddingSine(nn.Module):
    """Module wrapper of :func:`sine_position_encoding` (no parameters; cached per size).

    Examples
    --------
    >>> import torch
    >>> PositionEmbeddingSine(64)(torch.zeros(2, 5, 8, 8)).shape
    torch.Size([2, 64, 8, 8])
    """

    def __init__(self, num_pos_feats: int, temperature: float = 10000.0) -> None:
        super().__init__()
        self.num_pos_feats = num_pos_feats
        self.temperature = temperature
        self._cache: dict[tuple, Tensor] = {}

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        key = (h, w, x.device, x.dtype)
        pe = self._cache.get(key)
        if pe is None:
            pe = sine_position_encoding(
                h, w, self.num_pos_feats, self.temperature, device=x.device, dtype=x.dtype
            )
            self._cache[key] = pe
        return pe.expand(x.shape[0], -1, -1, -1)


class _Lateral(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim_in, dim_out, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class FpnNeck(nn.Module):
    """Feature pyramid over the trunk stages, with a sine position encoding per level."""

    def __init__(self, config: NeckConfig) -> None:
        super().__init__()
        if config.fuse_type not in ("sum", "avg"):
            raise ValueError(f"fuse_type must be 'sum' or 'avg', got {config.fuse_type!r}")
        self.config = config
        self.d_model = config.d_model
        self.backbone_channel_list = tuple(config.backbone_channel_list)
        # convs[0] is the coarsest level (the official ordering)
        self.convs = nn.ModuleList(
            _Lateral(c, config.d_model) for c in config.backbone_channel_list
        )
        self.position_encoding = PositionEmbeddingSine(config.d_model, config.pos_temperature)

    def forward(self, xs: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        n = len(self.convs)
        if len(xs) != n:
            raise ValueError(f"expected {n} trunk levels, got {len(xs)}")
        top_down = set(self.config.fpn_top_down_levels)
        out: list[Tensor] = [None] * n  # type: ignore[list-item]
        prev = None
        for level in range(n - 1, -1, -1):  # coarse to fine
            lateral = self.convs[n - 1 - level](xs[level])
            if level in top_down and prev is not None:
                up = F.interpolate(prev, scale_factor=2.0, mode=self.config.fpn_interp_model)
                prev = lateral + up
                if self.config.fuse_type == "avg":
                    prev = prev / 2
            else:
                prev = lateral
            out[level] = prev
        pos = [self.position_encoding(f) for f in out]
        return out, pos


@dataclass
class ImageFeatures:
    """Multi-scale image features of one batch of images (highest resolution first)."""

    backbone_fpn: list[Tensor]
    vision_pos_enc: list[Tensor]

    @property
    def vision_features(self) -> Tensor:
        """The stride-16 feature map the decoder and the memory attention use."""
        return self.backbone_fpn[-1]


class ImageEncoder(nn.Module):
    """Hiera trunk followed by the FPN neck; drops the ``scalp`` coarsest levels."""

    def __init__(self, trunk_config: HieraConfig, neck_config: NeckConfig) -> None:
        super().__init__()
        self.trunk = Hiera(trunk_config)
        self.neck = FpnNeck(neck_config)
        if self.trunk.channel_list != self.neck.backbone_channel_list:
            raise ValueError(
                f"trunk channels {self.trunk.channel_list} do not match the neck's "
                f"{self.neck.backbone_channel_list}"
            )
        self.scalp = neck_config.scalp

    def forward(self, images: Tensor) -> ImageFeatures:
        features, pos = self.neck(self.trunk(images))
        if self.scalp > 0:
            features, pos = features[: -self.scalp], pos[: -self.scalp]
        return ImageFeatures(backbone_fpn=list(features), vision_pos_enc=list(pos))
