"""Hiera trunk: windowing, query pooling, shapes and parameter layout."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ecoseg.sam2.hiera import Hiera, _max_pool_hw, window_partition, window_unpartition
from ecoseg.sam2.variants import VARIANTS, HieraConfig


@pytest.mark.parametrize("hw,window", [((8, 8), 4), ((7, 10), 4), ((14, 14), 14), ((5, 3), 7)])
def test_window_round_trip(hw, window):
    x = torch.randn(2, *hw, 3)
    windows, padded = window_partition(x, window)
    assert windows.shape[1:] == (window, window, 3)
    assert padded[0] % window == 0 and padded[1] % window == 0
    assert padded[0] - hw[0] < window and padded[1] - hw[1] < window
    assert torch.equal(window_unpartition(windows, window, padded, hw), x)


def test_window_partition_content():
    x = torch.arange(16.0).view(1, 4, 4, 1)
    windows, _ = window_partition(x, 2)
    # second window is the top-right 2x2 block
    assert windows[1, ..., 0].tolist() == [[2.0, 3.0], [6.0, 7.0]]
    padded, _ = window_partition(torch.ones(1, 3, 3, 1), 2)
    assert padded.sum() == 9  # zero padding


@pytest.mark.parametrize("shape", [(2, 8, 6, 5), (1, 7, 9, 3)])
def test_max_pool_matches_torch(shape):
    x = torch.randn(*shape)  # (B, H, W, C)
    ref = F.max_pool2d(x.permute(0, 3, 1, 2), 2, 2).permute(0, 2, 3, 1)
    assert torch.equal(_max_pool_hw(x, (2, 2), (1, 2)), ref)


@pytest.mark.parametrize("name", ["sam2.1-tiny", "sam2-base-plus"])
def test_shapes_and_parameters(name):
    cfg = VARIANTS[name].trunk
    trunk = Hiera(cfg).eval()
    with torch.no_grad():
        outs = trunk(torch.randn(1, 3, 128, 128))
    assert [o.shape[1] for o in outs] == list(cfg.stage_dims)
    assert [o.shape[-1] for o in outs] == [32, 16, 8, 4]
    assert len(trunk.blocks) == sum(cfg.stages)
    assert trunk.channel_list == cfg.channel_list
    names = {k for k, _ in trunk.named_parameters()}
    assert {"pos_embed", "pos_embed_window", "patch_embed.proj.weight"} <= names
    # projections exist exactly on the blocks where the width changes
    changes = [i for i, b in enumerate(trunk.blocks) if b.dim != b.dim_out]
    assert changes == [sum(cfg.stages[: s + 1]) for s in range(3)]
    assert all(f"blocks.{i}.proj.weight" in names for i in changes)
    # global attention where the config says so
    assert [i for i, b in enumerate(trunk.blocks) if b.window == 0] == list(cfg.global_att_blocks)


def test_position_embedding_follows_input_size():
    torch.manual_seed(0)
    trunk = Hiera(
        HieraConfig(
            embed_dim=8,
            num_heads=1,
            stages=(1, 1, 1, 1),
            global_att_blocks=(3,),
            window_spec=(4, 2, 2, 2),
            window_pos_embed_bkg_spatial_size=(3, 3),
        )
    ).eval()
    with torch.no_grad():
        trunk.pos_embed.normal_()
        trunk.pos_embed_window.normal_()
        pe = trunk._pos_embed(8, 8)
    assert pe.shape == (1, 8, 8, 8)
    # the window embedding repeats with the window period once the background is removed
    bkg = F.interpolate(trunk.pos_embed, size=(8, 8), mode="bicubic", align_corners=False)
    tiled = pe.permute(0, 3, 1, 2) - bkg
    torch.testing.assert_close(tiled[..., :4, :4], tiled[..., 4:, 4:])


def test_position_embedding_cache_follows_weights():
    torch.manual_seed(0)
    cfg = HieraConfig(
        embed_dim=8,
        num_heads=1,
        stages=(1, 1, 1, 1),
        global_att_blocks=(3,),
        window_spec=(4, 2, 2, 2),
        window_pos_embed_bkg_spatial_size=(3, 3),
    )
    trunk = Hiera(cfg).eval()
    with torch.no_grad():
        first = trunk._pos_embed(8, 8)
        assert trunk._pos_embed(8, 8) is first  # kept between frames
        assert trunk._pos_embed(4, 4).shape == (1, 4, 4, 8)  # another size: computed anew
        trunk.load_state_dict({**trunk.state_dict(), "pos_embed": torch.randn(1, 8, 3, 3)})
        fresh = Hiera(cfg).eval()
        fresh.load_state_dict(trunk.state_dict())
        assert torch.equal(trunk._pos_embed(8, 8), fresh._pos_embed(8, 8))
        assert not torch.equal(trunk._pos_embed(8, 8), first)
    with (
        torch.enable_grad()
    ):  # with gradients (whatever grad mode another test left): computed, never cached
        x = trunk._pos_embed(8, 8)
    assert x.requires_grad


@pytest.mark.parametrize("shape", [(2, 4, 8, 6, 5), (1, 2, 7, 9, 3)])
def test_max_pool_of_middle_axes(shape):
    x = torch.randn(*shape).permute(0, 4, 1, 2, 3)  # strided, like the attention's queries
    ref = F.max_pool3d(x.permute(0, 1, 4, 2, 3).flatten(0, 1), (1, 2, 2), (1, 2, 2))
    ref = ref.view(x.shape[0], x.shape[1], x.shape[4], *ref.shape[-2:]).permute(0, 1, 3, 4, 2)
    assert torch.equal(_max_pool_hw(x, (2, 2), (2, 3)), ref)


def test_windowed_attention_is_local():
    """With windowed blocks only, a change in one window does not reach another."""
    torch.manual_seed(0)
    cfg = HieraConfig(
        embed_dim=8,
        num_heads=1,
        stages=(2, 1, 1, 1),
        global_att_blocks=(),
        window_spec=(4, 2, 2, 2),
        window_pos_embed_bkg_spatial_size=(2, 2),
    )
    trunk = Hiera(cfg).eval()
    x = torch.randn(1, 3, 32, 32)
    y = x.clone()
    y[..., :8, :8] += 1.0  # patch grid 8x8: the top-left 2x2 patches (inside window 0)
    with torch.no_grad():
        a = trunk.blocks[1](trunk.blocks[0](trunk.patch_embed(x) + trunk._pos_embed(8, 8)))
        b = trunk.blocks[1](trunk.blocks[0](trunk.patch_embed(y) + trunk._pos_embed(8, 8)))
    changed = (a - b).abs().amax(-1)[0] > 0
    assert changed[:4, :4].any() and not changed[4:, :].any() and not changed[:, 4:].any()
