"""Text encoder (+ projection) against transformers' CLIP text model on identical weights."""

from __future__ import annotations

import backbone_oracle as oracle
import pytest
import torch
from torch import nn

from ecoseg.sam3.config import get_config
from ecoseg.sam3.text import TextEncoder


class _HfText(nn.Module):
    """transformers' text side of ``Sam3Model``: ``text_encoder`` + ``text_projection``
    (``Sam3Model.get_text_features`` applies the projection to ``last_hidden_state``)."""

    def __init__(self, config):
        super().__init__()
        from transformers import CLIPTextModelWithProjection

        t = config.text
        self.text_encoder = CLIPTextModelWithProjection(oracle.hf_text_config(config))
        self.text_projection = nn.Linear(t.width, t.d_model)

    def forward(self, ids, mask):
        out = self.text_encoder(input_ids=ids, attention_mask=mask.long())
        return self.text_projection(out.last_hidden_state)


def _ids(n: int, gen: torch.Generator) -> torch.Tensor:
    """Rows of start + random tokens + end, zero-padded, of different lengths (one full)."""
    ids = torch.zeros(n, 32, dtype=torch.long)
    for i, length in enumerate([3, 32, 11, 20][:n]):
        ids[i, 0], ids[i, length - 1] = 49406, 49407
        ids[i, 1 : length - 1] = torch.randint(1, 49406, (length - 2,), generator=gen)
    return ids


def _pair():
    pytest.importorskip("transformers")
    config = get_config("sam3-reduced")
    hf = oracle.randomize_(_HfText(config).eval(), seed=5, scale=0.1)
    ours = TextEncoder(config.text).eval()
    state = {f"detector_model.{k}": v for k, v in hf.state_dict().items()}
    used = oracle.copy_from_hf(ours, "text.", state, "", layout="video")
    assert used == set(state)
    return hf, ours


@torch.no_grad()
def test_text_features_match_transformers_on_real_tokens():
    hf, ours = _pair()
    ids = _ids(4, torch.Generator().manual_seed(0))
    got = ours(ids)
    ref = hf(ids, got.mask)
    assert got.mask.sum(1).tolist() == [3, 32, 11, 20]
    # padding positions are excluded downstream by the mask (Meta does not mask them inside
    # the causal encoder, transformers does), so only real tokens are compared
    assert oracle.rel_error(ref[got.mask], got.features[got.mask]) <= oracle.REL_TOL


@torch.no_grad()
def test_comparison_fails_on_a_perturbed_copy():
    hf, ours = _pair()
    ours.encoder.transformer.resblocks[1].attn.in_proj_weight[0].mul_(1.01)
    ids = _ids(2, torch.Generator().manual_seed(1))
    got = ours(ids)
    assert oracle.rel_error(hf(ids, got.mask)[got.mask], got.features[got.mask]) > oracle.REL_TOL


def test_text_encoder_rejects_more_tokens_than_its_context():
    ours = TextEncoder(get_config("sam3-reduced").text)
    with pytest.raises(ValueError, match="context length 32"):
        ours(torch.ones(1, 33, dtype=torch.long))
