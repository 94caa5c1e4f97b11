"""Tests for ecoseg/sam2/model.py: parameter names, and each step against the official model.

The ``oracle`` tests call the official ``SAM2Base`` step by step (``forward_image``,
``_forward_sam_heads``, ``_use_mask_as_output``, ``_encode_new_memory``,
``_prepare_memory_conditioned_features``) and the matching method of ours on the same weights
(``oracle_pair`` from ``conftest.py``: strengthened random weights, loaded strictly into both)
and the same inputs. Whole-video equivalence is tested in ``tests/engine/test_tracker.py``.
"""

from __future__ import annotations

import copy

import pytest
import torch

from ecoseg.sam2.model import NO_OBJ_SCORE, FrameFeatures, SAM2Model, upsample_logits
from ecoseg.sam2.variants import get_variant

SIZE = 128  # model input size of the oracle pairs here (8 x 8 stride-16 features)

# top-level (non-component) parameters of the official checkpoints, read off the official
# models built from their configs
TOP_LEVEL_21 = {
    "maskmem_tpos_enc",
    "no_mem_embed",
    "no_mem_pos_enc",
    "no_obj_ptr",
    "no_obj_embed_spatial",
    "mask_downsample.weight",
    "mask_downsample.bias",
    "obj_ptr_proj.layers.0.weight",
    "obj_ptr_proj.layers.0.bias",
    "obj_ptr_proj.layers.1.weight",
    "obj_ptr_proj.layers.1.bias",
    "obj_ptr_proj.layers.2.weight",
    "obj_ptr_proj.layers.2.bias",
    "obj_ptr_tpos_proj.weight",
    "obj_ptr_tpos_proj.bias",
}
TOP_LEVEL_20 = TOP_LEVEL_21 - {
    "no_obj_embed_spatial",
    "obj_ptr_tpos_proj.weight",
    "obj_ptr_tpos_proj.bias",
}
COMPONENTS = (
    "image_encoder.",
    "sam_prompt_encoder.",
    "sam_mask_decoder.",
    "memory_attention.",
    "memory_encoder.",
)


@pytest.mark.parametrize(
    "name,expected", [("sam2.1-tiny", TOP_LEVEL_21), ("sam2-tiny", TOP_LEVEL_20)]
)
def test_top_level_parameter_names(name, expected):
    model = SAM2Model(name, image_size=64)
    keys = set(model.state_dict())
    assert {k for k in keys if not k.startswith(COMPONENTS)} == expected
    for prefix in COMPONENTS:
        assert any(k.startswith(prefix) for k in keys), prefix
    assert model.maskmem_tpos_enc.shape == (7, 1, 1, 64)


def test_construction_and_shapes():
    v = get_variant("sam2.1-tiny")
    model = SAM2Model(v, image_size=64).eval()
    assert model.image_size == 64 and model.low_res_size == 16
    with torch.no_grad():
        f = model.encode_image(torch.zeros(2, 3, 64, 64))
        assert f.features.shape == (2, 256, 4, 4)
        assert [tuple(h.shape) for h in f.high_res] == [(2, 32, 16, 16), (2, 64, 8, 8)]
        one = f.select(0)
        assert one.batch_size == 1 and one.expand(3).batch_size == 3
        heads = model.run_heads(f.features, f.high_res, multimask=True)
        assert heads.multimask_logits.shape == (2, 3, 16, 16)
        assert heads.mask_logits.shape == (2, 1, 16, 16)
        mem = model.encode_memory(
            f.features, upsample_logits(heads.mask_logits, (64, 64)), heads.object_score_logits
        )
        assert mem.shape == (2, 64, 4, 4)
        out = model.condition_on_memory(
            f.features,
            f.pos,
            mem[:, None],
            torch.tensor([0]),
            heads.obj_ptr[:, None],
            torch.tensor([1.0]),
            num_frames=4,
        )
        assert out.shape == f.features.shape
    with pytest.raises(NotImplementedError):
        model(torch.zeros(1))
    with pytest.raises(ValueError, match="points need labels"):
        model.run_heads(f.features, f.high_res, points=torch.zeros(2, 1, 2))


def test_use_multimask_rule():
    model = SAM2Model("sam2.1-tiny", image_size=64)
    assert model.use_multimask(True, 1)  # first click
    assert not model.use_multimask(True, 2)  # a box counts as two points
    assert model.use_multimask(False, 0)  # tracking
    assert not model.use_multimask(False, 3)


# --------------------------------------------------------------------------- oracle helpers
def _close(ref: torch.Tensor, out: torch.Tensor, rel: float = 1e-4) -> float:
    assert ref.shape == out.shape, (ref.shape, out.shape)
    scale = max(float(ref.abs().max()), 1e-6)
    err = float((ref.float() - out.float()).abs().max()) / scale
    assert err <= rel, err
    return err


def _official_features(official, images):
    backbone = official.forward_image(images)
    _, feats, pos, sizes = official._prepare_backbone_features(backbone)
    return feats, pos, sizes


def _as_map(x: torch.Tensor, size) -> torch.Tensor:
    """(HW, B, C) -> (B, C, H, W)."""
    return x.permute(1, 2, 0).reshape(x.shape[1], x.shape[2], *size)


@pytest.fixture(scope="module", params=["sam2.1-tiny", "sam2-tiny"])
def pair(request, oracle_pair):
    return oracle_pair(request.param, SIZE)


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(0)
    return torch.randn(2, 3, SIZE, SIZE, generator=g)


@pytest.fixture(scope="module")
def features(pair, images):
    with torch.no_grad():
        return pair.ours.encode_image(images)


@pytest.mark.oracle
def test_encode_image_matches_official(pair, images, features):
    with torch.no_grad():
        feats, pos, sizes = _official_features(pair.official, images)
    _close(_as_map(feats[-1], sizes[-1]), features.features)
    _close(_as_map(pos[-1], sizes[-1]), features.pos, rel=1e-6)
    for ref, size, ours in zip(feats[:-1], sizes[:-1], features.high_res, strict=True):
        _close(_as_map(ref, size), ours)


def _check_heads(ref, out, multimask: bool):
    low_multi, _, ious, low, _, ptr, score = ref
    _close(low_multi, out.multimask_logits)
    _close(ious, out.ious)
    _close(low, out.mask_logits)
    _close(ptr, out.obj_ptr)
    _close(score, out.object_score_logits)
    assert out.multimask_logits.shape[1] == (3 if multimask else 1)


@pytest.mark.oracle
@pytest.mark.parametrize(
    "case", ["click-multimask", "box+click", "click+mask-input", "no-prompt-tracking"]
)
def test_run_heads_matches_official(pair, features, case):
    official, ours = pair.official, pair.ours
    f = features
    cond = ours.condition_without_memory(f.features, f.pos)
    g = torch.Generator().manual_seed(1)
    points = labels = mask = None
    multimask = False
    if case == "click-multimask":
        points = torch.tensor([[[40.0, 50.0]], [[90.0, 70.0]]])
        labels = torch.tensor([[1], [1]], dtype=torch.int32)
        multimask = True
    elif case == "box+click":
        points = torch.tensor([[[20.0, 30.0], [100.0, 90.0], [60.0, 60.0]]]).expand(2, -1, -1)
        labels = torch.tensor([[2, 3, 0]], dtype=torch.int32).expand(2, -1)
    elif case == "click+mask-input":
        points = torch.tensor([[[40.0, 50.0]], [[90.0, 70.0]]])
        labels = torch.tensor([[1], [0]], dtype=torch.int32)
        mask = torch.randn(2, 1, SIZE // 4, SIZE // 4, generator=g) * 10
    else:
        multimask = True
    point_inputs = None if points is None else {"point_coords": points, "point_labels": labels}
    with torch.no_grad():
        ref = official._forward_sam_heads(
            cond,
            point_inputs=point_inputs,
            mask_inputs=mask,
            high_res_features=list(f.high_res),
            multimask_output=multimask,
        )
        out = ours.run_heads(
            cond, f.high_res, points=points, labels=labels, mask_input=mask, multimask=multimask
        )
    _check_heads(ref, out, multimask)


@pytest.mark.oracle
def test_absent_object_paths_match_official(pair, features):
    """Object-score head saying "absent": masks at NO_OBJ_SCORE and the no-object pointer."""
    official, ours = copy.deepcopy(pair.official), copy.deepcopy(pair.ours)
    key = "sam_mask_decoder.pred_obj_score_head.layers.2.bias"
    with torch.no_grad():
        for m in (official, ours):
            m.state_dict()[key].fill_(-20.0)
    f = features
    with torch.no_grad():
        ref = official._forward_sam_heads(
            f.features, high_res_features=list(f.high_res), multimask_output=True
        )
        out = ours.run_heads(f.features, f.high_res, multimask=True)
        _check_heads(ref, out, True)
        assert bool((out.mask_logits == NO_OBJ_SCORE).all())
        high = upsample_logits(out.mask_logits, (SIZE, SIZE))
        ref_mem, _ = official._encode_new_memory(
            [f.features.flatten(2).permute(2, 0, 1)],
            [tuple(f.features.shape[-2:])],
            high,
            out.object_score_logits,
            False,
        )
        _close(ref_mem, ours.encode_memory(f.features, high, out.object_score_logits))


@pytest.mark.oracle
def test_mask_as_output_matches_official(pair, features):
    official, ours = pair.official, pair.ours
    f = features
    masks = torch.zeros(2, 1, SIZE, SIZE)
    masks[0, :, 30:80, 20:70] = 1  # the second mask is empty: an absent object
    with torch.no_grad():
        ref = official._use_mask_as_output(f.features, list(f.high_res), masks)
        out = ours.mask_as_output(f.features, f.high_res, masks)
    _check_heads(ref, out, False)
    assert float(out.object_score_logits[1]) < 0 < float(out.object_score_logits[0])


@pytest.mark.oracle
@pytest.mark.parametrize("binarize", [False, True])
def test_encode_memory_matches_official(pair, features, binarize):
    official, ours = pair.official, pair.ours
    f = features
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 1, SIZE, SIZE, generator=g) * 5
    scores = torch.tensor([[3.0], [-2.0]])  # one present, one absent
    with torch.no_grad():
        ref, ref_pos = official._encode_new_memory(
            [f.features.flatten(2).permute(2, 0, 1)],
            [tuple(f.features.shape[-2:])],
            logits,
            scores,
            binarize,
        )
        out = ours.encode_memory(f.features, logits, scores, binarize=binarize)
    _close(ref, out)
    _close(ref_pos[0][0], ours.memory_position_encoding(*f.features.shape[-2:]), rel=1e-6)


def _fake_output(g, ptr_dim: int, side: int) -> dict:
    return {
        "maskmem_features": torch.randn(1, 64, side, side, generator=g).to(torch.bfloat16),
        "maskmem_pos_enc": None,  # set below (shared constant)
        "obj_ptr": torch.randn(1, ptr_dim, generator=g),
    }


@pytest.mark.oracle
@pytest.mark.parametrize(
    "frame,reverse,num_frames",
    [(13, False, 20), (13, False, 14), (3, True, 12)],
)
def test_condition_on_memory_matches_official(pair, features, frame, reverse, num_frames):
    """Memory attention over conditioning + recent memories and pointers (hand-selected)."""
    official, ours = pair.official, pair.ours
    f = features.select(0)
    side = f.features.shape[-1]
    g = torch.Generator().manual_seed(3)
    pos = ours.memory_position_encoding(side, side)[None]
    cond_frames = (0, 8) if not reverse else (5, 10)
    non_cond = [t for t in range(num_frames) if t not in cond_frames and t != frame]
    outputs = {t: _fake_output(g, 256, side) for t in (*cond_frames, *non_cond)}
    for o in outputs.values():
        o["maskmem_pos_enc"] = [pos]
    output_dict = {
        "cond_frame_outputs": {t: outputs[t] for t in cond_frames},
        "non_cond_frame_outputs": {t: outputs[t] for t in non_cond},
    }
    with torch.no_grad():
        ref = official._prepare_memory_conditioned_features(
            frame_idx=frame,
            is_init_cond_frame=False,
            current_vision_feats=[f.features.flatten(2).permute(2, 0, 1)],
            current_vision_pos_embeds=[f.pos.flatten(2).permute(2, 0, 1)],
            feat_sizes=[(side, side)],
            output_dict=output_dict,
            num_frames=num_frames,
            track_in_reverse=reverse,
        )
    # SAM 2 semantics written out by hand: slot 0 for conditioning frames, slot 7 - k for
    # the frame k steps back (k = 1..6, skipping conditioning frames), pointers from
    # conditioning frames already passed (signed distance in 2.1) and from the 15 (or
    # num_frames - 1) previous frames
    slots, mems = [], []
    for c in cond_frames:
        slots.append(0)
        mems.append(outputs[c]["maskmem_features"][0])
    for k in range(6, 0, -1):
        t = frame + k if reverse else frame - k
        if t in output_dict["non_cond_frame_outputs"]:
            slots.append(7 - k)
            mems.append(outputs[t]["maskmem_features"][0])
    offsets, ptrs = [], []
    signed = ours.variant.use_signed_tpos_enc_to_obj_ptrs
    for c in cond_frames:
        if (c >= frame) if reverse else (c <= frame):
            d = (frame - c) * (-1 if reverse else 1)
            offsets.append(d if signed else abs(d))
            ptrs.append(outputs[c]["obj_ptr"][0])
    for d in range(1, min(num_frames, 16)):
        t = frame + d if reverse else frame - d
        if not 0 <= t < num_frames:
            break
        if t in output_dict["non_cond_frame_outputs"]:
            offsets.append(d)
            ptrs.append(outputs[t]["obj_ptr"][0])
    with torch.no_grad():
        out = ours.condition_on_memory(
            f.features,
            f.pos,
            torch.stack(mems)[None],
            torch.tensor(slots)[None],
            torch.stack(ptrs)[None],
            torch.tensor(offsets, dtype=torch.float32)[None],
            num_frames,
        )
    _close(ref, out)


@pytest.mark.oracle
def test_condition_without_memory_matches_official(pair, features):
    f = features
    side = f.features.shape[-1]
    with torch.no_grad():
        ref = pair.official._prepare_memory_conditioned_features(
            frame_idx=0,
            is_init_cond_frame=True,
            current_vision_feats=[f.features.flatten(2).permute(2, 0, 1)],
            current_vision_pos_embeds=[f.pos.flatten(2).permute(2, 0, 1)],
            feat_sizes=[(side, side)],
            output_dict={"cond_frame_outputs": {}, "non_cond_frame_outputs": {}},
            num_frames=4,
        )
        out = pair.ours.condition_without_memory(f.features, f.pos)
    _close(ref, out, rel=0)


def test_frame_features_helpers():
    x = torch.randn(1, 4, 2, 2)
    f = FrameFeatures(x, x + 1, (torch.randn(1, 2, 8, 8),))
    e = f.expand(3)
    assert e.features.shape == (3, 4, 2, 2) and e.high_res[0].shape == (3, 2, 8, 8)
    with pytest.raises(ValueError, match="one frame"):
        e.expand(2)
    assert e.select(1).features.shape == (1, 4, 2, 2)
