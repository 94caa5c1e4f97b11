"""ViT backbone and feature pyramids against transformers' SAM 3 port on identical weights."""

from __future__ import annotations

import dataclasses

import backbone_oracle as oracle
import pytest
import torch

from ecoseg.sam3.config import get_config
from ecoseg.sam3.vision import VisionBackbone, rope_angles, window_partition, window_unpartition


def _pair(image_size: int):
    modeling, _ = oracle.transformers_sam3()
    config = get_config("sam3-reduced", image_size)
    hf_cfg = oracle.hf_vit_config(config)
    hf = oracle.randomize_(modeling.Sam3VisionModel(hf_cfg).eval(), seed=3)
    hf_neck2 = oracle.randomize_(modeling.Sam3VisionNeck(hf_cfg).eval(), seed=4)
    ours = VisionBackbone(config.vision, config.neck).eval()
    state = {f"detector_model.vision_encoder.{k}": v for k, v in hf.state_dict().items()}
    state.update({f"tracker_neck.{k}": v for k, v in hf_neck2.state_dict().items()})
    used = oracle.copy_from_hf(ours, "vision.", state, "", layout="video")
    # every transformers parameter found its place (non-persistent RoPE tables aside)
    assert used == set(state)
    return hf, hf_neck2, ours


@pytest.mark.parametrize("image_size", [336, 378])  # 378: a 27-patch grid, windows padded
@torch.no_grad()
def test_backbone_and_pyramids_match_transformers(image_size):
    hf, hf_neck2, ours = _pair(image_size)
    images = torch.randn(2, 3, image_size, image_size, generator=torch.Generator().manual_seed(0))
    ref = hf(pixel_values=images)
    got = ours(images)
    trunk = ours.trunk(images)
    side = image_size // 14
    ref_trunk = ref.last_hidden_state.view(2, side, side, -1).permute(0, 3, 1, 2)
    assert oracle.rel_error(ref_trunk, trunk) <= oracle.REL_TOL
    assert len(got.fpn) == len(ref.fpn_hidden_states) == 4
    for r, g in zip(ref.fpn_hidden_states, got.fpn, strict=True):
        assert oracle.rel_error(r, g) <= oracle.REL_TOL
    for r, g in zip(ref.fpn_position_encoding, got.pos, strict=True):
        assert oracle.rel_error(r, g) <= oracle.REL_TOL
    ref2, ref2_pos = hf_neck2(ref_trunk)
    for r, g in zip(ref2, got.tracker_fpn, strict=True):
        assert oracle.rel_error(r, g) <= oracle.REL_TOL
    for r, g in zip(ref2_pos, got.tracker_pos, strict=True):
        assert oracle.rel_error(r, g) <= oracle.REL_TOL


@torch.no_grad()
def test_comparison_fails_on_a_perturbed_copy():
    """The tolerance is tight enough to notice a 1 % change of one block's MLP."""
    hf, _, ours = _pair(336)
    ours.trunk.blocks[2].mlp.fc2.weight.mul_(1.01)
    images = torch.randn(1, 3, 336, 336, generator=torch.Generator().manual_seed(1))
    ref = hf(pixel_values=images).fpn_hidden_states[2]
    assert oracle.rel_error(ref, ours(images).fpn[2]) > oracle.REL_TOL


def test_rope_angles_follow_columns_then_rows():
    cos, sin = rope_angles(8, 2, 3, scale=0.5)
    angles = torch.atan2(sin, cos)
    # token 4 sits at column 1, row 1: first half of pairs by x * 0.5, second half by y * 0.5
    assert torch.allclose(angles[4, 0], torch.tensor(0.5))
    assert torch.allclose(angles[4, 4], torch.tensor(0.5))
    assert torch.allclose(angles[2, 0], torch.tensor(1.0)) and float(angles[2, 4]) == 0.0


def test_window_partition_round_trip_with_padding():
    x = torch.randn(2, 5, 7, 3)
    windows, padded = window_partition(x, 4)
    assert windows.shape == (2 * 2 * 2, 4, 4, 3)
    assert torch.equal(window_unpartition(windows, 4, padded, (5, 7)), x)


def test_position_embedding_is_tiled_not_interpolated():
    config = get_config("sam3-reduced")
    ours = VisionBackbone(config.vision, dataclasses.replace(config.neck, tracker_neck=False))
    p = config.vision.pretrain_grid_size
    tiled = ours.trunk.tiled_pos_embed(2 * p + 3, p + 1)
    base = ours.trunk.pos_embed.reshape(1, p, p, -1)
    assert torch.equal(tiled[:, p : 2 * p, :p], base)
    assert torch.equal(tiled[:, 2 * p :, p:], base[:, :3, :1])
    assert ours.sam2_convs is None
