"""FPN neck, sine position encoding and the image encoder."""

from __future__ import annotations

import math

import pytest
import torch

from ecoseg.sam2.neck import (
    FpnNeck,
    ImageEncoder,
    PositionEmbeddingSine,
    sine_position_encoding,
)
from ecoseg.sam2.variants import VARIANTS, NeckConfig


def test_sine_encoding_values():
    h, w, n = 4, 5, 8
    pe = sine_position_encoding(h, w, n)[0]
    half = n // 2
    for c in range(half):
        freq = 10000 ** (2 * (c // 2) / half)
        for i in range(h):
            y = (i + 1) / (h + 1e-6) * 2 * math.pi / freq
            expect = math.sin(y) if c % 2 == 0 else math.cos(y)
            assert pe[c, i, 0].item() == pytest.approx(expect, abs=1e-6)
        for j in range(w):
            x = (j + 1) / (w + 1e-6) * 2 * math.pi / freq
            expect = math.sin(x) if c % 2 == 0 else math.cos(x)
            assert pe[half + c, 0, j].item() == pytest.approx(expect, abs=1e-6)
    # y channels are constant along x and vice versa
    assert torch.equal(pe[:half], pe[:half, :, :1].expand(-1, -1, w))
    assert torch.equal(pe[half:], pe[half:, :1, :].expand(-1, h, -1))


def test_sine_module_batch_and_dtype():
    mod = PositionEmbeddingSine(16)
    x = torch.zeros(3, 7, 6, 2, dtype=torch.float64)
    out = mod(x)
    assert out.shape == (3, 16, 6, 2) and out.dtype == torch.float64
    with pytest.raises(ValueError):
        sine_position_encoding(2, 2, 7)


def test_fpn_top_down_levels():
    torch.manual_seed(0)
    cfg = NeckConfig(backbone_channel_list=(32, 16, 8, 4), d_model=12)
    neck = FpnNeck(cfg).eval()
    xs = [torch.randn(1, c, s, s) for c, s in zip((4, 8, 16, 32), (16, 8, 4, 2))]
    out, pos = neck(xs)
    assert [tuple(o.shape) for o in out] == [(1, 12, s, s) for s in (16, 8, 4, 2)]
    assert [p.shape for p in pos] == [o.shape for o in out]
    # level 3 is lateral only; level 2 adds the upsampled level 3; levels 0 and 1 are lateral
    torch.testing.assert_close(out[3], neck.convs[0](xs[3]))
    up = out[3].repeat_interleave(2, -1).repeat_interleave(2, -2)
    torch.testing.assert_close(out[2], neck.convs[1](xs[2]) + up)
    torch.testing.assert_close(out[1], neck.convs[2](xs[1]))
    torch.testing.assert_close(out[0], neck.convs[3](xs[0]))
    with pytest.raises(ValueError):
        neck(xs[:3])


@pytest.mark.parametrize("name", ["sam2.1-tiny", "sam2-small"])
def test_image_encoder_levels(name):
    v = VARIANTS[name]
    enc = ImageEncoder(v.trunk, v.neck).eval()
    with torch.no_grad():
        feats = enc(torch.randn(2, 3, 128, 128))
    assert [tuple(f.shape) for f in feats.backbone_fpn] == [
        (2, 256, 32, 32),
        (2, 256, 16, 16),
        (2, 256, 8, 8),
    ]
    assert feats.vision_features is feats.backbone_fpn[-1]
    assert [p.shape for p in feats.vision_pos_enc] == [f.shape for f in feats.backbone_fpn]


def test_image_encoder_rejects_mismatched_neck():
    v = VARIANTS["sam2.1-tiny"]
    with pytest.raises(ValueError, match="channels"):
        ImageEncoder(v.trunk, VARIANTS["sam2.1-large"].neck)
