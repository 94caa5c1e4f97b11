"""Geometry / exemplar encoder against transformers' SAM 3 port on identical random weights."""

from __future__ import annotations

import det_oracle as oracle
import pytest
import torch

from ecoseg.sam3._det_ops import roi_align
from ecoseg.sam3.geometry import GeometryEncoder, GeometryEncoderConfig, GeometryPrompt

D, HEADS, FFN, LAYERS, ROI = 64, 4, 128, 2, 7


def _pair(monkeypatch):
    modeling, configuration = oracle.hf_modeling()
    cfg = oracle.eager(
        configuration.Sam3GeometryEncoderConfig(
            **oracle.small_kwargs(D, HEADS, FFN, LAYERS), roi_size=ROI
        )
    )
    hf = modeling.Sam3GeometryEncoder(cfg).eval()
    oracle.randomize_(hf, seed=1)
    ours = GeometryEncoder(GeometryEncoderConfig(D, LAYERS, HEADS, FFN, ROI)).eval()
    missing = oracle.load_into(ours, hf, "geometry")
    assert sorted({k.rsplit(".", 1)[0] for k in missing}) == [
        "points_direct_project",
        "points_pool_project",
        "points_pos_enc_project",
    ]  # transformers' port has no point prompts
    return hf, ours


def test_roi_align_matches_the_sample_by_sample_definition():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 5, 9, 11, generator=gen)
    boxes = torch.tensor(
        [
            [[0.0, 0.0, 11.0, 9.0], [2.3, 1.7, 6.1, 8.4], [-2.0, -1.5, 3.0, 2.0]],
            [[4.0, 4.0, 4.4, 4.2], [8.5, 6.5, 12.5, 10.0], [1.0, 2.0, 10.9, 3.1]],
        ]
    )
    got = roi_align(feats, boxes, 7)
    ref = oracle.reference_roi_align(feats, list(boxes), 7)
    assert oracle.rel_error(ref, got) <= 1e-6


@torch.no_grad()
def test_box_exemplars_match_transformers(monkeypatch):
    hf, ours = _pair(monkeypatch)
    gen = torch.Generator().manual_seed(2)
    feats = torch.randn(2, D, 8, 8, generator=gen)
    pos = torch.randn(2, D, 8, 8, generator=gen)
    boxes = torch.tensor(
        [
            [[0.5, 0.4, 0.3, 0.5], [0.2, 0.7, 0.2, 0.2], [0.8, 0.3, 0.25, 0.4]],
            [[0.45, 0.55, 0.6, 0.5], [0.1, 0.1, 0.1, 0.1], [0.0, 0.0, 0.0, 0.0]],
        ]
    )
    labels = torch.tensor([[1, 0, 1], [1, 0, 0]])
    valid = torch.tensor([[True, True, True], [True, True, False]])
    ref = hf(boxes, valid, labels, (feats,), (pos,))
    empty = torch.zeros(2, 0, 2)
    none = torch.zeros(2, 0, dtype=torch.bool)
    prompt = GeometryPrompt(boxes, labels, valid, empty, none.long(), none)
    tokens, got_valid = ours(prompt, feats, pos)
    assert torch.equal(got_valid, ref.attention_mask)
    err = oracle.rel_error(
        ref.last_hidden_state[valid.new_ones(2, 4) & got_valid], tokens[got_valid]
    )
    assert err <= oracle.REL_TOL, err


@torch.no_grad()
def test_a_negative_label_changes_the_tokens_and_padding_does_not(monkeypatch):
    _, ours = _pair(monkeypatch)
    gen = torch.Generator().manual_seed(3)
    feats, pos = torch.randn(1, D, 8, 8, generator=gen), torch.randn(1, D, 8, 8, generator=gen)
    box = [[0.5, 0.5, 0.4, 0.4]]
    pos_tok, _ = ours(GeometryPrompt.from_lists(boxes=[box], box_labels=[[1]]), feats, pos)
    neg_tok, _ = ours(GeometryPrompt.from_lists(boxes=[box], box_labels=[[0]]), feats, pos)
    assert (pos_tok - neg_tok).abs().max() > 1e-2
    padded = GeometryPrompt.from_lists(
        boxes=[box, box + [[0.1, 0.1, 0.1, 0.1]]], box_labels=[[1], [1, 1]]
    )
    tok2, valid2 = ours(padded, feats, pos)
    assert valid2.tolist() == [[True, True, False], [True, True, True]]
    assert oracle.rel_error(pos_tok[0], tok2[0, :2]) <= 1e-6


@torch.no_grad()
def test_point_prompts_are_tokens_before_the_boxes(monkeypatch):
    _, ours = _pair(monkeypatch)
    gen = torch.Generator().manual_seed(4)
    feats, pos = torch.randn(1, D, 8, 8, generator=gen), torch.randn(1, D, 8, 8, generator=gen)
    both = GeometryPrompt.from_lists(
        boxes=[[[0.5, 0.5, 0.4, 0.4]]], points=[[[0.3, 0.6], [0.7, 0.2]]], point_labels=[[1, 0]]
    )
    tokens, valid = ours(both, feats, pos)
    assert tuple(tokens.shape) == (1, 4, D) and bool(valid.all())
    moved = GeometryPrompt.from_lists(
        boxes=[[[0.5, 0.5, 0.4, 0.4]]], points=[[[0.31, 0.6], [0.7, 0.2]]], point_labels=[[1, 0]]
    )
    assert (ours(moved, feats, pos)[0] - tokens).abs().max() > 1e-4


def test_from_lists_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="2 items"):
        GeometryPrompt.from_lists(boxes=[[], []], points=[[]])
