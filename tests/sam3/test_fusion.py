"""Fusion (DETR) encoder against transformers' SAM 3 port on identical random weights."""

from __future__ import annotations

import det_oracle as oracle
import torch

from ecoseg.sam3.fusion import FusionEncoder, FusionEncoderConfig

D, HEADS, FFN, LAYERS = 64, 4, 128, 2


def _pair():
    modeling, configuration = oracle.hf_modeling()
    cfg = oracle.eager(
        configuration.Sam3DETREncoderConfig(**oracle.small_kwargs(D, HEADS, FFN, LAYERS))
    )
    hf = modeling.Sam3DetrEncoder(cfg).eval()
    oracle.randomize_(hf, seed=5)
    ours = FusionEncoder(FusionEncoderConfig(D, LAYERS, HEADS, FFN)).eval()
    assert oracle.load_into(ours, hf, "fusion") == []
    return hf, ours


@torch.no_grad()
def test_fused_image_tokens_match_transformers():
    hf, ours = _pair()
    gen = torch.Generator().manual_seed(6)
    feats = torch.randn(2, D, 6, 7, generator=gen)
    pos = torch.randn(2, D, 6, 7, generator=gen)
    prompt = torch.randn(2, 5, D, generator=gen)
    valid = torch.tensor([[True] * 5, [True, True, True, False, False]])
    ref = hf([feats], prompt, [pos], text_mask=valid)
    memory, memory_pos = ours(feats, pos, prompt, valid)
    assert oracle.rel_error(ref.last_hidden_state, memory) <= oracle.REL_TOL
    assert oracle.rel_error(ref.pos_embeds_flattened, memory_pos) == 0.0


@torch.no_grad()
def test_padded_prompt_tokens_are_ignored():
    _, ours = _pair()
    gen = torch.Generator().manual_seed(7)
    feats, pos = torch.randn(1, D, 4, 4, generator=gen), torch.randn(1, D, 4, 4, generator=gen)
    prompt = torch.randn(1, 3, D, generator=gen)
    short, _ = ours(feats, pos, prompt[:, :2], torch.ones(1, 2, dtype=torch.bool))
    padded, _ = ours(feats, pos, prompt, torch.tensor([[True, True, False]]))
    unmasked, _ = ours(feats, pos, prompt, torch.ones(1, 3, dtype=torch.bool))
    assert oracle.rel_error(short, padded) <= 1e-6
    assert oracle.rel_error(short, unmasked) > 1e-3
