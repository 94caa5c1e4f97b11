"""Segmentation head (pixel decoder, instance and semantic masks) vs transformers."""

from __future__ import annotations

import det_oracle as oracle
import torch

from ecoseg.sam3.segmentation import SegmentationConfig, SegmentationHead

D, HEADS, QUERIES = 64, 4, 9


@torch.no_grad()
def test_mask_and_semantic_logits_match_transformers():
    modeling, configuration = oracle.hf_modeling()
    cfg = oracle.eager(
        configuration.Sam3MaskDecoderConfig(hidden_size=D, num_attention_heads=HEADS)
    )
    hf = modeling.Sam3MaskDecoder(cfg).eval()
    oracle.randomize_(hf, seed=13)
    ours = SegmentationHead(SegmentationConfig(D, 3, HEADS)).eval()
    assert oracle.load_into(ours, hf, "segmentation") == []
    gen = torch.Generator().manual_seed(14)
    fpn = [torch.randn(2, D, s, s, generator=gen) for s in (24, 12, 6)]
    memory = torch.randn(2, 36, D, generator=gen)
    queries = torch.randn(2, QUERIES, D, generator=gen)
    prompt = torch.randn(2, 5, D, generator=gen)
    valid = torch.tensor([[True] * 5, [True, True, False, False, False]])
    ref = hf(queries, list(fpn), memory, prompt_features=prompt, prompt_mask=valid)
    got = ours(queries, fpn, memory, prompt, valid)
    assert tuple(got.masks.shape) == (2, QUERIES, 24, 24)
    assert oracle.rel_error(ref.pred_masks, got.masks) <= oracle.REL_TOL
    assert oracle.rel_error(ref.semantic_seg, got.semantic) <= oracle.REL_TOL


@torch.no_grad()
def test_one_image_encoding_serves_several_prompts():
    ours = SegmentationHead(SegmentationConfig(D, 3, HEADS)).eval()
    oracle.randomize_(ours, seed=15)
    gen = torch.Generator().manual_seed(16)
    fpn = [torch.randn(1, D, s, s, generator=gen) for s in (16, 8, 4)]
    memory = torch.randn(2, 16, D, generator=gen)
    queries = torch.randn(2, 3, D, generator=gen)
    prompt = torch.randn(2, 2, D, generator=gen)
    both = ours(queries, fpn, memory, prompt)
    second = ours(queries[1:], fpn, memory[1:], prompt[1:])
    assert oracle.rel_error(both.masks[1:], second.masks) <= 1e-6
