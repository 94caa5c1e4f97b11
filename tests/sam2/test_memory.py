"""Tests for ecoseg/sam2/memory.py: RoPE, sine encodings, memory attention, memory encoder.

The ``oracle`` tests build the official ``sam2`` modules directly (no hydra) with the layer
layout of every official config, copy their random weights into ours (strict) and compare
outputs on the same inputs.
"""

from __future__ import annotations

import math

import pytest
import torch

from ecoseg.sam2.memory import (
    MemoryAttention,
    MemoryEncoder,
    RoPEAttention,
    apply_rope,
    rope_angles,
    sine_encoding_1d,
    sine_position_encoding_2d,
)
from ecoseg.sam2.variants import MemoryAttentionConfig, MemoryEncoderConfig, get_variant


# --------------------------------------------------------------------------- pure properties
def test_rope_preserves_norm_and_is_relative():
    torch.manual_seed(0)
    cos, sin = rope_angles(16, 4, 4)
    q = torch.randn(1, 1, 16, 16)
    rq = apply_rope(q, cos, sin)
    torch.testing.assert_close(rq.norm(dim=-1), q.norm(dim=-1))
    # the score of a query at token i and a key at token j depends on j - i only:
    # put the same vectors at (0, 0)/(1, 2) and at (2, 1)/(3, 3) (same offset (1, 2))
    v, w = torch.randn(16), torch.randn(16)
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 0], x[0, 0, 1 * 4 + 2] = v, w
    y = torch.zeros(1, 1, 16, 16)
    y[0, 0, 2 * 4 + 1], y[0, 0, 3 * 4 + 3] = v, w
    rx, ry = apply_rope(x, cos, sin), apply_rope(y, cos, sin)
    s1 = rx[0, 0, 0] @ rx[0, 0, 6]
    s2 = ry[0, 0, 9] @ ry[0, 0, 15]
    assert abs(float(s1 - s2)) < 1e-4
    assert abs(float(v @ w - s1)) > 1e-3  # the rotation did something


def test_rope_is_the_written_out_rotation_in_place_or_not():
    # one complex multiplication per channel pair gives bit for bit the written-out rotation
    # (a cos - b sin, a sin + b cos), also in place on a slice (keys before pointer tokens)
    torch.manual_seed(0)
    cos, sin = rope_angles(16, 4, 4)
    k = torch.randn(3, 1, 2 * 16 + 5, 16)
    pairs = k[:, :, :32].reshape(3, 1, 2, 16, 8, 2)
    a, b = pairs[..., 0], pairs[..., 1]
    ref = torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).reshape(3, 1, 32, 16)
    assert torch.equal(apply_rope(k[:, :, :32], cos, sin), ref)
    rotated = k.clone()
    head = rotated[:, :, :32]
    assert apply_rope(head, cos, sin, inplace=True) is head
    assert torch.equal(rotated[:, :, :32], ref)
    assert torch.equal(rotated[:, :, 32:], k[:, :, 32:])
    # a tensor that cannot be rotated in place (bfloat16) is rotated into a new one
    kb = k[:, :, :32].to(torch.bfloat16)
    out = apply_rope(kb, cos, sin, inplace=True)
    assert out is not kb and out.dtype == torch.bfloat16


def test_rope_repeats_over_memory_frames_and_rejects_ragged_keys():
    cos, sin = rope_angles(8, 2, 2)
    x = torch.randn(1, 1, 4, 8)
    two = apply_rope(torch.cat((x, x), dim=2), cos, sin)
    torch.testing.assert_close(two[:, :, :4], two[:, :, 4:])
    with pytest.raises(ValueError, match="multiple"):
        apply_rope(torch.randn(1, 1, 5, 8), cos, sin)


def test_sine_encodings_shapes_and_values():
    pe = sine_position_encoding_2d(3, 5, 8)
    assert pe.shape == (8, 3, 5)
    # the first channel is sin of the row position scaled to (0, 2 pi]
    rows = torch.arange(1, 4, dtype=torch.float32) / (3 + 1e-6) * 2 * math.pi
    torch.testing.assert_close(pe[0, :, 0], rows.sin())
    e = sine_encoding_1d(torch.tensor([0.0, 1.0]), 6)
    assert e.shape == (2, 6)
    torch.testing.assert_close(e[0], torch.tensor([0.0, 0, 0, 1, 1, 1]))


def test_memory_attention_ignores_pointer_rope_and_checks_batch():
    torch.manual_seed(0)
    att = MemoryAttention(d_model=32, kv_dim=8, num_layers=2, dim_feedforward=16).eval()
    x, pos = torch.randn(1, 16, 32), torch.randn(1, 16, 32)
    mem, mem_pos = torch.randn(1, 16 + 4, 8), torch.randn(1, 16 + 4, 8)
    perm = torch.cat((torch.arange(16), 16 + torch.tensor([3, 1, 0, 2])))
    with torch.no_grad():
        a = att(x, pos, mem, mem_pos, num_obj_ptr_tokens=4)
        # pointer tokens carry no spatial rotation: their order does not matter
        b = att(x, pos, mem[:, perm], mem_pos[:, perm], num_obj_ptr_tokens=4)
        # ... while the spatial tokens are rotated by their position
        swap = torch.cat((torch.arange(16).flip(0), torch.arange(16, 20)))
        c = att(x, pos, mem[:, swap], mem_pos[:, swap], num_obj_ptr_tokens=4)
    assert a.shape == (1, 16, 32)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    assert (a - c).abs().max() > 1e-3
    with pytest.raises(ValueError, match="multiple"):
        att(x, pos, mem, mem_pos, num_obj_ptr_tokens=0)  # 20 keys are not whole grids
    with pytest.raises(ValueError, match="batch"):
        att(x, pos, mem.expand(2, -1, -1), mem_pos.expand(2, -1, -1))


def test_one_frame_expanded_over_objects_shares_the_object_invariant_work():
    """Image tokens expanded over a batch of objects (stride 0) take the shared path (the
    first layer's self-attention once); the result equals that of materialised copies."""
    torch.manual_seed(0)
    att = MemoryAttention(d_model=32, kv_dim=8, num_layers=2, dim_feedforward=16).eval()
    x, pos = torch.randn(1, 16, 32), torch.randn(1, 16, 32)
    mem, mem_pos = torch.randn(3, 2 * 16 + 4, 8), torch.randn(3, 2 * 16 + 4, 8)
    calls = []
    hook = att.layers[0].self_attn.register_forward_hook(lambda m, i, o: calls.append(o.shape))
    with torch.no_grad():
        shared = att(x.expand(3, -1, -1), pos.expand(3, -1, -1), mem, mem_pos, 4)
        copies = att(x.repeat(3, 1, 1), pos.repeat(3, 1, 1), mem, mem_pos, 4)
        one = att(x, pos, mem[1:2], mem_pos[1:2], 4)
    hook.remove()
    assert [c[0] for c in calls] == [1, 3, 1]
    torch.testing.assert_close(shared, copies, atol=1e-6, rtol=0)
    torch.testing.assert_close(shared[1:2], one, atol=1e-6, rtol=0)
    assert (shared[0] - shared[1]).abs().max() > 1e-3  # the objects' memories still differ
    enc = MemoryEncoder(in_dim=32, out_dim=8, fuser_layers=1).eval()
    feats, masks = torch.randn(1, 32, 4, 4), torch.rand(3, 1, 64, 64)
    with torch.no_grad():
        a, _ = enc(feats.expand(3, -1, -1, -1), masks)
        b, _ = enc(feats.repeat(3, 1, 1, 1), masks)
    torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_from_config_matches_variant_and_rejects_unsupported():
    v = get_variant("sam2.1-tiny")
    att = MemoryAttention.from_config(v.memory_attention)
    assert len(att.layers) == v.memory_attention.num_layers
    enc = MemoryEncoder.from_config(v.memory_encoder)
    assert enc.out_dim == v.mem_dim
    with pytest.raises(ValueError, match="pos_enc_at_attn"):
        MemoryAttention.from_config(MemoryAttentionConfig(pos_enc_at_attn=True))
    with pytest.raises(ValueError, match="mask_stride"):
        MemoryEncoder.from_config(MemoryEncoderConfig(mask_stride=4))


def test_rope_attention_requires_repeat_for_longer_keys():
    att = RoPEAttention(16, 1)
    with pytest.raises(ValueError, match="rope_k_repeat"):
        att(torch.randn(1, 4, 16), torch.randn(1, 8, 16), torch.randn(1, 8, 16))


# --------------------------------------------------------------------------- oracle
def _official_memory_attention():
    pytest.importorskip("sam2")
    from sam2.modeling.memory_attention import MemoryAttention as OMA
    from sam2.modeling.memory_attention import MemoryAttentionLayer as OMAL
    from sam2.modeling.sam.transformer import RoPEAttention as ORA

    c = MemoryAttentionConfig()
    rope = dict(rope_theta=c.rope_theta, feat_sizes=list(c.feat_sizes), dropout=c.dropout)
    layer = OMAL(
        activation=c.activation,
        cross_attention=ORA(
            embedding_dim=c.d_model,
            num_heads=c.num_heads,
            downsample_rate=c.downsample_rate,
            kv_in_dim=c.kv_in_dim,
            rope_k_repeat=True,
            **rope,
        ),
        d_model=c.d_model,
        dim_feedforward=c.dim_feedforward,
        dropout=c.dropout,
        pos_enc_at_attn=c.pos_enc_at_attn,
        pos_enc_at_cross_attn_keys=c.pos_enc_at_cross_attn_keys,
        pos_enc_at_cross_attn_queries=c.pos_enc_at_cross_attn_queries,
        self_attention=ORA(
            embedding_dim=c.d_model,
            num_heads=c.num_heads,
            downsample_rate=c.downsample_rate,
            **rope,
        ),
    )
    return OMA(
        d_model=c.d_model, pos_enc_at_input=c.pos_enc_at_input, layer=layer, num_layers=c.num_layers
    ).eval()


def _official_memory_encoder():
    pytest.importorskip("sam2")
    from sam2.modeling.memory_encoder import CXBlock, Fuser, MaskDownSampler
    from sam2.modeling.memory_encoder import MemoryEncoder as OME
    from sam2.modeling.position_encoding import PositionEmbeddingSine

    c = MemoryEncoderConfig()
    return OME(
        out_dim=c.out_dim,
        mask_downsampler=MaskDownSampler(
            kernel_size=c.mask_kernel_size, stride=c.mask_stride, padding=c.mask_padding
        ),
        fuser=Fuser(
            CXBlock(
                dim=c.in_dim,
                kernel_size=c.fuser_kernel_size,
                padding=c.fuser_padding,
                layer_scale_init_value=c.fuser_layer_scale_init_value,
                use_dwconv=c.fuser_use_dwconv,
            ),
            num_layers=c.fuser_num_layers,
        ),
        position_encoding=PositionEmbeddingSine(
            num_pos_feats=c.pos_num_feats, normalize=True, temperature=c.pos_temperature
        ),
    ).eval()


def _randomize(module: torch.nn.Module, std: float) -> None:
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)


@pytest.mark.oracle
@pytest.mark.parametrize("side,n_mem,n_ptr", [(8, 1, 0), (16, 3, 8), (16, 7, 64)])
def test_memory_attention_matches_official(side, n_mem, n_ptr):
    official = _official_memory_attention()
    _randomize(official, 0.05)
    ours = MemoryAttention.from_config(MemoryAttentionConfig()).eval()
    ours.load_state_dict(official.state_dict(), strict=True)
    g = torch.Generator().manual_seed(2)
    n, b = side * side, 2
    x, pos = torch.randn(n, b, 256, generator=g), torch.randn(n, b, 256, generator=g)
    m = n_mem * n + n_ptr
    mem, mem_pos = torch.randn(m, b, 64, generator=g), torch.randn(m, b, 64, generator=g)
    with torch.no_grad():
        ref = official(
            curr=x, memory=mem, curr_pos=pos, memory_pos=mem_pos, num_obj_ptr_tokens=n_ptr
        )
        out = ours(
            x.transpose(0, 1),
            pos.transpose(0, 1),
            mem.transpose(0, 1),
            mem_pos.transpose(0, 1),
            num_obj_ptr_tokens=n_ptr,
        )
    err = float((ref.transpose(0, 1) - out).abs().max() / ref.abs().max())
    assert err < 1e-5, err


@pytest.mark.oracle
def test_rope_matches_official():
    pytest.importorskip("sam2")
    from sam2.modeling.position_encoding import apply_rotary_enc, compute_axial_cis

    g = torch.Generator().manual_seed(3)
    q = torch.randn(2, 1, 64, 32, generator=g)
    k = torch.randn(2, 1, 3 * 64, 32, generator=g)
    cis = compute_axial_cis(dim=32, end_x=8, end_y=8)
    ref_q, ref_k = apply_rotary_enc(q, k, freqs_cis=cis, repeat_freqs_k=True)
    cos, sin = rope_angles(32, 8, 8)
    torch.testing.assert_close(apply_rope(q, cos, sin), ref_q, atol=1e-6, rtol=0)
    torch.testing.assert_close(apply_rope(k, cos, sin), ref_k, atol=1e-6, rtol=0)


@pytest.mark.oracle
@pytest.mark.parametrize("side", [4, 16])
def test_memory_encoder_matches_official(side):
    official = _official_memory_encoder()
    _randomize(official, 0.1)
    ours = MemoryEncoder.from_config(MemoryEncoderConfig()).eval()
    ours.load_state_dict(official.state_dict(), strict=True)
    g = torch.Generator().manual_seed(4)
    feats = torch.randn(2, 256, side, side, generator=g)
    mask = torch.rand(2, 1, 16 * side, 16 * side, generator=g) * 20 - 10
    with torch.no_grad():
        ref = official(feats, mask, skip_mask_sigmoid=True)
        out, pos = ours(feats, mask)
    scale = float(ref["vision_features"].abs().max())
    assert float((ref["vision_features"] - out).abs().max()) <= 1e-5 * scale
    torch.testing.assert_close(pos, ref["vision_pos_enc"][0], atol=1e-6, rtol=0)


@pytest.mark.oracle
def test_sine_encodings_match_official():
    pytest.importorskip("sam2")
    from sam2.modeling.position_encoding import PositionEmbeddingSine
    from sam2.modeling.sam2_utils import get_1d_sine_pe

    for dim, (h, w) in [(64, (16, 16)), (256, (8, 12))]:
        ref = PositionEmbeddingSine(num_pos_feats=dim)(torch.zeros(1, 1, h, w))[0]
        torch.testing.assert_close(sine_position_encoding_2d(h, w, dim), ref, atol=0, rtol=0)
    t = torch.tensor([0, 3, -5, 15]) / 15
    torch.testing.assert_close(sine_encoding_1d(t, 256), get_1d_sine_pe(t, 256), atol=0, rtol=0)
