"""Variants: names, lookup errors, image sizes, and agreement with the official configs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ecoseg.errors import ConfigError
from ecoseg.sam2.variants import VARIANTS, Variant, get_variant, validate_image_size

NAMES = [
    "sam2.1-tiny",
    "sam2.1-small",
    "sam2.1-base-plus",
    "sam2.1-large",
    "sam2-tiny",
    "sam2-small",
    "sam2-base-plus",
    "sam2-large",
]


def test_the_eight_variants():
    assert sorted(VARIANTS) == sorted(NAMES)
    for name, v in VARIANTS.items():
        assert isinstance(v, Variant) and v.name == name
        assert v.image_size == 1024 and v.image_embedding_size == 64
        assert v.checkpoint_file.startswith(name.split("-")[0] + "_hiera_")
    assert len({v.checkpoint_file for v in VARIANTS.values()}) == 8


def test_variants_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        VARIANTS["sam2-tiny"].image_size = 512  # type: ignore[misc]


def test_unknown_name_lists_valid_names():
    with pytest.raises(ConfigError) as err:
        get_variant("sam2.1-huge")
    msg = str(err.value)
    assert "sam2.1-huge" in msg and all(n in msg for n in NAMES) and "\n" not in msg


@pytest.mark.parametrize("size", [256, 512, 64, 1024, 2048])
def test_with_image_size(size):
    v = get_variant("sam2.1-small", size)
    assert v.image_size == size
    assert v.image_embedding_size == size // 16
    assert v.low_res_mask_size == size // 4
    assert v.memory_attention.feat_sizes == (size // 16, size // 16)
    assert VARIANTS["sam2.1-small"].image_size == 1024  # the registry is untouched


@pytest.mark.parametrize("size", [0, -32, 16, 250, 1000, 256.0, "256", True])
def test_bad_image_size(size):
    with pytest.raises(ConfigError, match="multiple of 32"):
        validate_image_size(size)
    with pytest.raises(ConfigError):
        get_variant("sam2-tiny", size)


@pytest.mark.parametrize("size", [4128, 8192, 100000])
def test_image_size_above_the_limit_is_refused_with_the_limit(size):
    """``--image-size 100000`` (a multiple of 32) was accepted and the run killed for memory."""
    assert validate_image_size(4096) == 4096
    with pytest.raises(ConfigError, match=rf"at most 4096 .*got {size}$"):
        validate_image_size(size)
    with pytest.raises(ConfigError, match="at most 4096"):
        get_variant("sam2.1-tiny", size)


def test_21_differences():
    for size in ("tiny", "small", "base-plus", "large"):
        old, new = VARIANTS[f"sam2-{size}"], VARIANTS[f"sam2.1-{size}"]
        assert old.trunk == new.trunk
        assert (old.add_tpos_enc_to_obj_ptrs, new.add_tpos_enc_to_obj_ptrs) == (False, True)
        assert (old.proj_tpos_enc_in_obj_ptrs, new.proj_tpos_enc_in_obj_ptrs) == (False, True)
        assert not old.use_signed_tpos_enc_to_obj_ptrs and new.use_signed_tpos_enc_to_obj_ptrs
        assert (old.no_obj_embed_spatial, new.no_obj_embed_spatial) == (False, True)


def test_trunk_channels_feed_the_neck():
    for v in VARIANTS.values():
        assert v.neck.backbone_channel_list == v.trunk.channel_list
        assert v.trunk.channel_list[-1] == v.trunk.embed_dim
        assert len(v.trunk.stages) == len(v.trunk.window_spec) == 4


# --------------------------------------------------------------------------- official configs
def _official_config(variant: Variant) -> dict:
    yaml = pytest.importorskip("yaml")
    sam2 = pytest.importorskip("sam2")
    path = Path(sam2.__file__).parent / variant.official_config
    with open(path) as f:
        return yaml.safe_load(f)["model"]


# Hiera's own defaults (the configs only list what differs from them)
_HIERA_DEFAULTS = {
    "stages": [2, 3, 16, 3],
    "global_att_blocks": [12, 16, 20],
    "window_spec": [8, 4, 14, 7],
    "window_pos_embed_bkg_spatial_size": [14, 14],
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_matches_official_config(name):
    v = VARIANTS[name]
    cfg = _official_config(v)
    trunk = {**_HIERA_DEFAULTS, **cfg["image_encoder"]["trunk"]}
    assert v.trunk.embed_dim == trunk["embed_dim"]
    assert v.trunk.num_heads == trunk["num_heads"]
    for field in (
        "stages",
        "global_att_blocks",
        "window_spec",
        "window_pos_embed_bkg_spatial_size",
    ):
        assert list(getattr(v.trunk, field)) == list(trunk[field]), field
    neck = cfg["image_encoder"]["neck"]
    assert list(v.neck.backbone_channel_list) == neck["backbone_channel_list"]
    assert list(v.neck.fpn_top_down_levels) == neck["fpn_top_down_levels"]
    assert v.neck.fpn_interp_model == neck["fpn_interp_model"]
    assert v.neck.d_model == neck["d_model"]
    assert v.neck.scalp == cfg["image_encoder"]["scalp"]
    layer = cfg["memory_attention"]["layer"]
    assert v.memory_attention.num_layers == cfg["memory_attention"]["num_layers"]
    assert v.memory_attention.dim_feedforward == layer["dim_feedforward"]
    assert v.memory_attention.kv_in_dim == layer["cross_attention"]["kv_in_dim"]
    assert v.memory_attention.rope_theta == layer["self_attention"]["rope_theta"]
    assert list(v.memory_attention.feat_sizes) == layer["self_attention"]["feat_sizes"]
    for flag in ("pos_enc_at_attn", "pos_enc_at_cross_attn_keys", "pos_enc_at_cross_attn_queries"):
        assert getattr(v.memory_attention, flag) == layer[flag], flag
    assert v.memory_encoder.out_dim == cfg["memory_encoder"]["out_dim"]
    assert v.memory_encoder.fuser_num_layers == cfg["memory_encoder"]["fuser"]["num_layers"]
    # every top-level scalar flag of the config, under the same name
    scalars = {k: val for k, val in cfg.items() if not isinstance(val, dict) and k[0] != "_"}
    scalars.pop("compile_image_encoder", None)
    assert scalars, "no flags read"
    for key, val in scalars.items():
        assert getattr(v, key) == val, key
