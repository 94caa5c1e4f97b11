"""SAM 3 presets against transformers' Sam3Config / Sam3VideoConfig defaults and Meta's numbers."""

from __future__ import annotations

import backbone_oracle as oracle
import pytest

from ecoseg.errors import ConfigError
from ecoseg.sam3.config import PRESETS, get_config, validate_image_size


def test_full_preset_matches_transformers_defaults():
    _, conf = oracle.transformers_sam3()
    from transformers import Sam3VideoConfig

    hf = conf.Sam3Config()
    c = get_config("sam3")
    vit, v = hf.vision_config.backbone_config, c.vision
    assert (v.embed_dim, v.mlp_dim, v.depth, v.num_heads) == (
        vit.hidden_size, vit.intermediate_size, vit.num_hidden_layers, vit.num_attention_heads
    )  # fmt: skip
    assert (v.image_size, v.patch_size, v.window_size, v.pretrain_image_size) == (
        vit.image_size, vit.patch_size, vit.window_size, vit.pretrain_image_size
    )  # fmt: skip
    assert list(v.global_att_blocks) == list(vit.global_attn_indexes)
    # Meta builds the ViT's norms with eps 1e-5 (vitdet.py: partial(nn.LayerNorm, eps=1e-5));
    # transformers' default is 1e-6: a documented difference, ours follows the trained model
    assert (v.layer_norm_eps, vit.layer_norm_eps) == (1e-5, 1e-6)
    assert c.neck.d_model == hf.vision_config.fpn_hidden_size
    assert list(c.neck.scale_factors) == list(hf.vision_config.scale_factors)
    t, ht = c.text, hf.text_config
    assert (t.vocab_size, t.width, t.mlp_dim, t.layers, t.heads, t.context_length) == (
        ht.vocab_size, ht.hidden_size, ht.intermediate_size, ht.num_hidden_layers,
        ht.num_attention_heads, ht.max_position_embeddings,
    )  # fmt: skip
    assert (t.output_dim, t.layer_norm_eps, ht.hidden_act) == (ht.projection_dim, 1e-5, "gelu")
    d = c.detector
    assert d.geometry.num_layers == hf.geometry_encoder_config.num_layers == 3
    assert d.fusion.num_layers == hf.detr_encoder_config.num_layers == 6
    assert d.decoder.num_layers == hf.detr_decoder_config.num_layers == 6
    assert d.decoder.num_queries == hf.detr_decoder_config.num_queries == 200
    trk, ht = c.tracker, Sam3VideoConfig().tracker_config
    assert (trk.image_size, trk.backbone_stride, trk.num_maskmem) == (
        ht.image_size, ht.vision_config.backbone_config.patch_size, ht.num_maskmem
    ) == (1008, 14, 7)  # fmt: skip
    assert trk.max_cond_frames_in_attn == ht.max_cond_frame_num == 4
    assert trk.max_obj_ptrs_in_encoder == ht.max_object_pointers_in_encoder == 16
    assert trk.memory_attention.num_layers == ht.memory_attention_num_layers == 4
    assert trk.memory_encoder.out_dim == ht.memory_encoder_output_channels == 64
    assert trk.image_embedding_size == 72 and trk.low_res_mask_size == 288
    assert trk.no_obj_embed_spatial and trk.proj_tpos_enc_in_obj_ptrs  # SAM 2.1 flags
    assert c.mask_interpolation_size == 1152  # Meta's interpol_size for the memory masks


def test_reduced_preset_is_the_documented_one():
    c = get_config("sam3-reduced")
    assert (c.vision.embed_dim, c.vision.depth, c.image_size, c.text.layers) == (256, 4, 336, 2)
    assert c.vision.pretrain_grid_size == c.vision.window_size == 8  # as 24 / 24 at full size
    assert c.tracker.image_embedding_size == 24 and c.d_model == 256
    assert sorted(PRESETS) == ["sam3", "sam3-reduced"]


def test_other_input_sizes_move_every_size_dependent_setting():
    c = get_config("sam3", 672)
    assert (c.vision.grid_size, c.tracker.image_embedding_size) == (48, 48)
    assert c.tracker.memory_attention.feat_sizes == (48, 48) and c.mask_interpolation_size == 768
    assert get_config("sam3", None) is PRESETS["sam3"]
    with pytest.raises(ConfigError, match="multiple of 14"):
        get_config("sam3", 1000)
    with pytest.raises(ConfigError, match="smaller than the 24-patch attention window"):
        get_config("sam3", 308)
    with pytest.raises(ConfigError, match="valid names: sam3, sam3-reduced"):
        get_config("sam3-huge")
    assert validate_image_size(112) == 112
    with pytest.raises(ConfigError):
        validate_image_size(True)


@pytest.mark.parametrize("size", [4046, 8064, 100002])
def test_image_size_above_the_limit_is_refused_with_the_limit(size):
    """Multiples of 14 far above the native 1008 were accepted, then ran out of memory."""
    assert validate_image_size(4032) == 4032
    with pytest.raises(ConfigError, match=rf"at most 4032 .*got {size}$"):
        validate_image_size(size)
    with pytest.raises(ConfigError, match="at most 4032"):
        get_config("sam3-reduced", size)
