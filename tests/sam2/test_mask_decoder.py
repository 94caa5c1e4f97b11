"""Mask decoder: output selection, object pointers' tokens, stability fallback, batching."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from ecoseg.sam2.mask_decoder import MaskDecoder, mask_stability_scores
from ecoseg.sam2.variants import MaskDecoderConfig

SMALL = MaskDecoderConfig(
    transformer_dim=32, transformer_num_heads=4, transformer_mlp_dim=64, iou_head_hidden_dim=32
)


def _inputs(b=2, dim=32, side=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        image_embeddings=torch.randn(b, dim, side, side, generator=g),
        image_pe=torch.randn(1, dim, side, side, generator=g),
        sparse_prompt_embeddings=torch.randn(b, 3, dim, generator=g),
        dense_prompt_embeddings=torch.randn(b, dim, side, side, generator=g),
        high_res_features=[
            torch.randn(b, dim // 8, 4 * side, 4 * side, generator=g),
            torch.randn(b, dim // 4, 2 * side, 2 * side, generator=g),
        ],
    )


def _built(cfg=SMALL, seed=0):
    """A decoder of random weights drawn from ``seed``: the same whatever ran before, and
    leaving the global RNG as it was for whatever runs after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MaskDecoder(cfg).eval()


@pytest.fixture
def decoder():
    return _built()


@pytest.mark.parametrize(
    "cfg",
    [
        SMALL,
        dataclasses.replace(SMALL, use_high_res_features=False),
        dataclasses.replace(SMALL, pred_obj_scores=False),
    ],
    ids=["small", "no_high_res", "no_object_score"],
)
def test_the_decoders_built_here_do_not_depend_on_what_ran_before(cfg):
    """Two tests built their decoders from the global RNG unseeded, so their weights were
    whatever the tests run before them left it at; every decoder here is now _built."""
    with torch.random.fork_rng(devices=[]):  # (this test's own draws are not left behind)
        torch.manual_seed(1)
        first = _built(cfg).state_dict()
        torch.rand(7)  # another test's draws
        state = torch.random.get_rng_state()
        second = _built(cfg).state_dict()
        assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG as it was
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_multimask_and_single_outputs(decoder):
    inp = _inputs()
    with torch.no_grad():
        all_masks, all_iou, tokens, obj = decoder.predict_masks(**inp, repeat_image=False)
        multi = decoder(**inp, multimask_output=True, repeat_image=False)
        single = decoder(**inp, multimask_output=False, repeat_image=False)
    assert all_masks.shape == (2, 4, 16, 16) and all_iou.shape == (2, 4)
    torch.testing.assert_close(multi.masks, all_masks[:, 1:])
    torch.testing.assert_close(multi.iou_pred, all_iou[:, 1:])
    torch.testing.assert_close(multi.sam_tokens, tokens[:, 1:])  # multimask tokens for pointers
    assert single.masks.shape == (2, 1, 16, 16)
    torch.testing.assert_close(single.sam_tokens, tokens[:, :1])
    assert obj.shape == (2, 1)
    assert ((all_iou >= 0) & (all_iou <= 1)).all()  # sigmoid IoU head


def test_hypernetworks_batched_equal_per_token(decoder):
    tokens = torch.randn(3, 4, 32, generator=torch.Generator().manual_seed(0))
    from ecoseg.sam2.mask_decoder import _stacked_mlp

    ref = torch.stack([m(tokens[:, i]) for i, m in enumerate(decoder.output_hypernetworks_mlps)], 1)
    torch.testing.assert_close(_stacked_mlp(decoder.output_hypernetworks_mlps, tokens), ref)


def test_repeat_image_equals_explicit_batch(decoder):
    inp = _inputs(b=3)
    one = {**inp, "image_embeddings": inp["image_embeddings"][:1]}
    many = {**inp, "image_embeddings": inp["image_embeddings"][:1].expand(3, -1, -1, -1)}
    with torch.no_grad():
        a = decoder(**one, multimask_output=True, repeat_image=True)
        b = decoder(**many, multimask_output=True, repeat_image=False)
    torch.testing.assert_close(a.masks, b.masks)
    with pytest.raises(ValueError, match="repeat_image"):
        decoder(**one, multimask_output=True, repeat_image=False)


def test_high_res_features_required(decoder):
    inp = _inputs()
    inp["high_res_features"] = None
    with pytest.raises(ValueError, match="high_res_features"):
        decoder(**inp, multimask_output=True, repeat_image=False)
    plain = _built(dataclasses.replace(SMALL, use_high_res_features=False))
    assert plain.project_high_res([torch.zeros(1)]) == []
    assert plain(**inp, multimask_output=False, repeat_image=False).masks.shape == (2, 1, 16, 16)


def test_stability_scores():
    logits = torch.tensor([[[1.0, 0.02], [-0.02, -1.0]], [[-1.0, -1.0], [-1.0, -1.0]]])
    torch.testing.assert_close(mask_stability_scores(logits, 0.05), torch.tensor([1 / 3, 1.0]))


def test_dynamic_fallback_picks_best_multimask(decoder):
    masks = torch.zeros(2, 4, 4, 4)
    masks[:, 0] = 0.01  # an unstable single mask: every logit inside +-delta
    masks[1, 0] = 5.0  # ... except in row 1, where it is stable
    masks[:, 1:] = torch.arange(3.0)[:, None, None] + 1
    iou = torch.tensor([[0.5, 0.1, 0.9, 0.3], [0.5, 0.1, 0.9, 0.3]])
    out_masks, out_iou = decoder._dynamic_single_mask(masks, iou)
    assert torch.equal(out_masks[0, 0], masks[0, 2]) and out_iou[0, 0] == 0.9
    assert torch.equal(out_masks[1, 0], masks[1, 0]) and out_iou[1, 0] == 0.5
    # in training mode (or with the option off) the single-mask token is always used
    decoder.train()
    inp = _inputs()
    with torch.no_grad():
        ref, _, _, _ = decoder.predict_masks(**inp, repeat_image=False)
        out = decoder(**inp, multimask_output=False, repeat_image=False)
    torch.testing.assert_close(out.masks, ref[:, :1])


def test_object_score_without_head():
    cfg = dataclasses.replace(SMALL, pred_obj_scores=False)
    dec = _built(cfg)
    assert not hasattr(dec, "obj_score_token")
    out = dec(**_inputs(), multimask_output=True, repeat_image=False)
    assert torch.equal(out.object_score_logits, torch.full((2, 1), 10.0))
