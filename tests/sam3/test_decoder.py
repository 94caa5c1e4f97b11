"""DETR decoder (presence token, box refinement) and dot-product scoring vs transformers."""

from __future__ import annotations

import det_oracle as oracle
import torch

from ecoseg.sam3.decoder import ConceptDecoder, DecoderConfig, DotProductScoring

D, HEADS, FFN, LAYERS, QUERIES = 64, 4, 128, 2, 12


def _inputs(seed: int, b: int = 2, h: int = 6, w: int = 5):
    gen = torch.Generator().manual_seed(seed)
    memory = torch.randn(b, h * w, D, generator=gen)
    memory_pos = torch.randn(b, h * w, D, generator=gen)
    prompt = torch.randn(b, 4, D, generator=gen)
    valid = torch.tensor([[True] * 4] + [[True, True, False, False]] * (b - 1))
    return memory, memory_pos, prompt, valid, (h, w)


def _decoder_pair():
    modeling, configuration = oracle.hf_modeling()
    cfg = oracle.eager(
        configuration.Sam3DETRDecoderConfig(
            **oracle.small_kwargs(D, HEADS, FFN, LAYERS), num_queries=QUERIES
        )
    )
    hf = modeling.Sam3DetrDecoder(cfg).eval()
    oracle.randomize_(hf, seed=8)
    ours = ConceptDecoder(DecoderConfig(D, LAYERS, QUERIES, HEADS, FFN)).eval()
    assert oracle.load_into(ours, hf, "decoder") == []
    return hf, ours


@torch.no_grad()
def test_decoder_queries_boxes_and_presence_match_transformers():
    modeling, _ = oracle.hf_modeling()
    hf, ours = _decoder_pair()
    memory, memory_pos, prompt, valid, shape = _inputs(9)
    ref = hf(memory, prompt, memory_pos, text_mask=valid, spatial_shapes=torch.tensor([shape]))
    got = ours(memory, memory_pos, shape, prompt, valid)
    assert oracle.rel_error(ref.intermediate_hidden_states, got.queries) <= oracle.REL_TOL
    assert oracle.rel_error(ref.presence_logits, got.presence_logits) <= oracle.REL_TOL
    # the model refines once more from each layer's input boxes (Sam3Model.forward)
    offsets = hf.box_head(ref.intermediate_hidden_states)
    boxes = (modeling.inverse_sigmoid(ref.reference_boxes) + offsets).sigmoid()
    assert oracle.rel_error(boxes, got.boxes) <= oracle.REL_TOL


@torch.no_grad()
def test_box_bias_moves_attention_with_the_reference_boxes():
    _, ours = _decoder_pair()
    memory, memory_pos, prompt, valid, shape = _inputs(10, b=1)
    base = ours(memory, memory_pos, shape, prompt, valid)
    with torch.no_grad():
        ours.boxRPB_embed_x.layers[-1].bias.add_(0.5)  # a constant over columns: no effect
        same = ours(memory, memory_pos, shape, prompt, valid)
        ours.boxRPB_embed_x.layers[-1].weight.mul_(1.5)
        moved = ours(memory, memory_pos, shape, prompt, valid)
    assert oracle.rel_error(base.queries, same.queries) <= 1e-5
    assert oracle.rel_error(base.queries, moved.queries) > 1e-3


@torch.no_grad()
def test_dot_product_scores_match_transformers():
    modeling, configuration = oracle.hf_modeling()
    dec_cfg = configuration.Sam3DETRDecoderConfig(**oracle.small_kwargs(D, HEADS, FFN, LAYERS))
    hf = modeling.Sam3DotProductScoring(configuration.Sam3Config(detr_decoder_config=dec_cfg))
    hf.eval()
    oracle.randomize_(hf, seed=11)
    ours = DotProductScoring(D, FFN).eval()
    assert oracle.load_into(ours, hf, "scoring") == []
    gen = torch.Generator().manual_seed(12)
    queries = torch.randn(LAYERS, 2, QUERIES, D, generator=gen)
    prompt = torch.randn(2, 4, D, generator=gen)
    valid = torch.tensor([[True] * 4, [True, False, False, False]])
    ref = hf(queries, prompt, valid)[..., 0]
    assert oracle.rel_error(ref, ours(queries, prompt, valid)) <= oracle.REL_TOL
