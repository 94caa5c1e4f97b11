"""Attention blocks and the two-way transformer, against plain reference computations."""

from __future__ import annotations

import math

import pytest
import torch

from ecoseg.sam2.transformer import MLP, Attention, LayerNorm2d, TwoWayTransformer


def _reference_attention(att: Attention, q, k, v):
    """Softmax attention written out head by head."""
    qp, kp, vp = att.q_proj(q), att.k_proj(k), att.v_proj(v)
    heads = att.num_heads
    d = att.internal_dim // heads
    outs = []
    for h in range(heads):
        sl = slice(h * d, (h + 1) * d)
        w = torch.softmax(qp[..., sl] @ kp[..., sl].transpose(-1, -2) / math.sqrt(d), dim=-1)
        outs.append(w @ vp[..., sl])
    return att.out_proj(torch.cat(outs, dim=-1))


@pytest.mark.parametrize("heads,rate,kv", [(1, 1, None), (4, 2, None), (2, 1, 12)])
def test_attention_matches_reference(heads, rate, kv):
    torch.manual_seed(0)
    att = Attention(16, heads, downsample_rate=rate, kv_in_dim=kv).eval()
    kv_dim = kv or 16
    q, k, v = torch.randn(2, 5, 16), torch.randn(2, 7, kv_dim), torch.randn(2, 7, kv_dim)
    torch.testing.assert_close(att(q, k, v), _reference_attention(att, q, k, v))


def test_attention_rejects_bad_heads():
    with pytest.raises(ValueError, match="num_heads"):
        Attention(16, 3)


def test_mlp_layers_and_sigmoid():
    torch.manual_seed(0)
    mlp = MLP(4, 8, 3, num_layers=3, sigmoid_output=True)
    assert [tuple(layer.weight.shape) for layer in mlp.layers] == [(8, 4), (8, 8), (3, 8)]
    x = torch.randn(5, 4)
    h = torch.relu(mlp.layers[0](x))
    h = torch.relu(mlp.layers[1](h))
    torch.testing.assert_close(mlp(x), torch.sigmoid(mlp.layers[2](h)))


def test_layernorm2d_matches_formula():
    torch.manual_seed(0)
    ln = LayerNorm2d(6)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    x = torch.randn(2, 6, 3, 4) * 3 + 1
    mu = x.mean(1, keepdim=True)
    var = ((x - mu) ** 2).mean(1, keepdim=True)
    ref = ln.weight[:, None, None] * (x - mu) / torch.sqrt(var + 1e-6) + ln.bias[:, None, None]
    torch.testing.assert_close(ln(x), ref)


def test_two_way_transformer_token_order_equivariance():
    """Permuting the prompt tokens permutes the outputs and leaves the image side unchanged."""
    torch.manual_seed(0)
    t = TwoWayTransformer(depth=2, embedding_dim=32, num_heads=4, mlp_dim=64).eval()
    img, pe, tok = torch.randn(1, 32, 4, 4), torch.randn(1, 32, 4, 4), torch.randn(1, 6, 32)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    q1, k1 = t(img, pe, tok)
    q2, k2 = t(img, pe, tok[:, perm])
    torch.testing.assert_close(q2, q1[:, perm], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(k2, k1, atol=1e-5, rtol=1e-5)
    assert t.layers[0].skip_first_layer_pe and not t.layers[1].skip_first_layer_pe
