"""The assembled concept detector against transformers' Sam3Model on identical random weights.

The backbone and text encoder are not under test here: both models get the same random
pyramid features and text tokens (transformers through ``vision_embeds`` / ``text_embeds``).
Both run in float64, so any difference in the computation shows far above rounding (each
component is also compared in float32 in its own test, to 1e-5).
"""

from __future__ import annotations

import det_oracle as oracle
import pytest
import torch

from ecoseg.sam3.detector import ConceptDetector
from ecoseg.sam3.geometry import GeometryPrompt

D = 64
SIZES = (32, 16, 8, 4)  # 4x, 2x, 1x, 0.5x of an 8 x 8 ViT grid


@pytest.fixture(scope="module")
def pair():
    modeling, configuration = oracle.hf_modeling()
    hf_kwargs, ours_cfg = oracle.detector_config(D)
    from transformers import CLIPTextConfig

    backbone = configuration.Sam3ViTConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=112,
        pretrain_image_size=112,
        window_size=8,
        global_attn_indexes=[0],
    )
    vision = configuration.Sam3VisionConfig(
        backbone_config=backbone,
        fpn_hidden_size=D,
        backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]],
    )
    text = CLIPTextConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        projection_dim=32,
        max_position_embeddings=32,
    )
    cfg = configuration.Sam3Config(vision_config=vision, text_config=text, **hf_kwargs)
    cfg._attn_implementation = "eager"
    hf = modeling.Sam3Model(cfg).eval()
    oracle.randomize_(hf, seed=20)
    hf.double()
    ours = ConceptDetector(ours_cfg).eval().double()
    missing, unexpected = ours.load_state_dict(
        oracle.hf_detector_to_ours(hf.state_dict()), strict=False
    )
    assert not unexpected
    assert all(k.startswith("geometry_encoder.points_") for k in missing)
    return modeling, hf, ours


def _features(seed: int):
    gen = torch.Generator().manual_seed(seed)
    fpn = [torch.randn(1, D, s, s, generator=gen, dtype=torch.float64) for s in SIZES]
    pos = [torch.randn(1, D, s, s, generator=gen, dtype=torch.float64) for s in SIZES]
    text = torch.randn(2, 6, D, generator=gen, dtype=torch.float64)
    valid = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])
    return fpn, pos, text, valid


def _oracle(modeling, hf, fpn, pos, text, valid, boxes=None, labels=None):
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    b = text.shape[0]
    vision = modeling.Sam3VisionEncoderOutput(
        fpn_hidden_states=tuple(f.expand(b, -1, -1, -1) for f in fpn),
        fpn_position_encoding=tuple(p.expand(b, -1, -1, -1) for p in pos),
    )
    return hf(
        vision_embeds=vision,
        text_embeds=BaseModelOutputWithPooling(pooler_output=text),
        attention_mask=valid.long(),
        input_boxes=boxes,
        input_boxes_labels=labels,
    )


TOL64 = 1e-10


def _compare(ref, got):
    assert oracle.rel_error(ref.pred_logits, got.logits) <= TOL64
    assert oracle.rel_error(ref.presence_logits, got.presence_logits) <= TOL64
    assert oracle.rel_error(ref.pred_boxes, got.boxes) <= TOL64
    assert oracle.rel_error(ref.pred_masks, got.masks) <= TOL64
    assert oracle.rel_error(ref.semantic_seg, got.semantic) <= TOL64


@torch.no_grad()
def test_text_prompts_match_transformers(pair):
    modeling, hf, ours = pair
    fpn, pos, text, valid = _features(21)
    ref = _oracle(modeling, hf, fpn, pos, text, valid)
    _compare(ref, ours(fpn, pos, text, valid))  # transformers: no geometry tokens for text


@torch.no_grad()
def test_text_and_exemplar_boxes_match_transformers(pair):
    modeling, hf, ours = pair
    fpn, pos, text, valid = _features(22)
    boxes = torch.tensor(
        [
            [[0.4, 0.5, 0.3, 0.4], [0.7, 0.2, 0.2, 0.2]],
            [[0.3, 0.3, 0.2, 0.3], [0.0, 0.0, 0.0, 0.0]],
        ],
        dtype=torch.float64,
    )
    labels = torch.tensor([[1, 0], [1, -10]])  # -10: transformers' padding label
    ref = _oracle(modeling, hf, fpn, pos, text, valid, boxes, labels)
    geometry = GeometryPrompt.from_lists(
        boxes=[boxes[0].tolist(), boxes[1, :1].tolist()],
        box_labels=[[1, 0], [1]],
        dtype=torch.float64,
    )
    _compare(ref, ours(fpn, pos, text, valid, geometry))


@torch.no_grad()
def test_one_image_encoding_answers_each_concept_as_alone(pair):
    _, _, ours = pair
    fpn, pos, text, valid = _features(23)
    both = ours(fpn, pos, text, valid)
    second = ours(fpn, pos, text[1:], valid[1:])
    assert oracle.rel_error(second.masks, both.masks[1:]) <= 1e-6
    assert oracle.rel_error(second.logits, both.logits[1:]) <= 1e-6


@torch.no_grad()
def test_masks_of_kept_queries_only_equal_the_full_masks(pair):
    _, _, ours = pair
    fpn, pos, text, valid = _features(24)
    full = ours(fpn, pos, text, valid)
    lazy = ours(fpn, pos, text, valid, masks=False)
    assert lazy.masks is None and lazy.semantic is None
    index = torch.tensor([3, 0, 7])
    assert oracle.rel_error(full.masks[1, index], lazy.mask_logits(1, index)) <= 1e-12
    assert torch.equal(full.logits, lazy.logits) and torch.equal(full.boxes, lazy.boxes)
