"""Parameter names of SAM 3 in our model, in Meta's ``sam3.pt`` and in the transformers format.

Our modules carry Meta's parameter names inside each component; only the component prefixes
differ (Meta nests everything under ``detector.`` / ``tracker.``, and calls the tracker's
memory attention ``transformer.encoder`` and its memory encoder ``maskmem_backbone``, which
ecoseg's SAM 2 components call ``memory_attention`` and ``memory_encoder`` as SAM 2's own
checkpoints do). The transformers port renames almost everything and splits fused
projections; :func:`hf_source` says, for one of our parameters, which transformers tensors
make it and how.

This module holds name tables only (no torch).

Exports
-------
``ours_to_meta(key) -> str``, ``meta_to_ours(key) -> str | None``
``hf_source(key, layout="video") -> HfSource``
    ``layout`` is ``"video"`` (``Sam3VideoModel``: ``detector_model.``, ``tracker_model.``,
    ``tracker_neck.``; the hub's ``model.safetensors``) or ``"image"`` (``Sam3Model``: no
    prefix, detector only).
``HfSource``
    ``kind`` (``"same"``, ``"cat"`` q/k/v along dim 0, ``"transpose"``, ``"row"`` one row of a
    stacked tensor), ``keys`` (transformers names) and ``index`` (the row, for ``"row"``).
``META_ONLY``
    Meta tensors that the network recomputes (RoPE tables) and so are not parameters of ours.
``HF_ALIASES``
    transformers tensors that duplicate another one (checked equal, then dropped).

Examples
--------
>>> ours_to_meta("vision.trunk.blocks.0.attn.qkv.weight")
'detector.backbone.vision_backbone.trunk.blocks.0.attn.qkv.weight'
>>> meta_to_ours("tracker.maskmem_backbone.out_proj.weight")
'tracker.memory_encoder.out_proj.weight'
>>> hf_source("vision.trunk.blocks.3.attn.qkv.bias").keys[1]
'detector_model.vision_encoder.backbone.layers.3.attention.k_proj.bias'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ours_to_meta",
    "meta_to_ours",
    "meta_slice",
    "hf_source",
    "HfSource",
    "META_ONLY",
    "HF_ALIASES",
    "HF_MISSING",
]

# (our prefix, Meta prefix); the first match wins, in both directions
_PREFIXES = (
    ("vision.", "detector.backbone.vision_backbone."),
    ("text.", "detector.backbone.language_backbone."),
    ("tracker.memory_attention.", "tracker.transformer.encoder."),
    ("tracker.memory_encoder.", "tracker.maskmem_backbone."),
    ("tracker.", "tracker."),
    ("detector.", "detector."),
)

#: Meta buffers that we recompute from the configuration (the ViT's complex RoPE tables).
META_ONLY = re.compile(
    r"^detector\.backbone\.vision_backbone\.trunk\.blocks\.\d+\.attn\.freqs_cis$"
)

#: transformers tensors that repeat another one: {alias: the tensor it must equal}.
HF_ALIASES = {
    "tracker_model.shared_image_embedding.positional_embedding": (
        "tracker_model.prompt_encoder.shared_embedding.positional_embedding"
    ),
}

#: Our parameters that the transformers format does not have (its geometry encoder takes no
#: point prompts): loading a transformers file leaves them as they are and says so.
HF_MISSING = re.compile(
    r"^detector\.geometry_encoder\.points_(direct_project|pool_project|pos_enc_project)\."
)


# SAM 3's tracker names the two-way transformer's MLP ``lin1``/``lin2`` (SAM 1's MLPBlock);
# SAM 2's checkpoints, and so ecoseg.sam2, call them ``layers.0``/``layers.1``
_OURS_MLP = re.compile(
    r"^(tracker\.sam_mask_decoder\.transformer\.layers\.\d+\.mlp\.)layers\.([01])\."
)
_META_MLP = re.compile(r"^(tracker\.sam_mask_decoder\.transformer\.layers\.\d+\.mlp\.)lin([12])\.")


#: A split attention input projection of ours (the detector's attention layers keep q, k, v
#: apart; Meta's ``nn.MultiheadAttention`` stores them stacked as ``in_proj_weight``/``bias``)
_SPLIT = re.compile(r"^(.*)\.([qkv])_proj\.(weight|bias)$")


def ours_to_meta(key: str) -> str:
    """Meta's ``sam3.pt`` name of one of our parameters (see :func:`meta_slice` for parts)."""
    key = _OURS_MLP.sub(lambda m: f"{m[1]}lin{int(m[2]) + 1}.", key)
    if key.startswith("detector."):
        m = _SPLIT.match(key)
        if m:
            key = f"{m[1]}.in_proj_{m[3]}"
    for ours, meta in _PREFIXES:
        if key.startswith(ours):
            return meta + key[len(ours) :]
    raise KeyError(f"{key}: not a SAM 3 parameter name")


def meta_slice(key: str) -> int | None:
    """Which third (0 = q, 1 = k, 2 = v) of Meta's stacked ``in_proj`` our ``key`` is, if any.

    Examples
    --------
    >>> meta_slice("detector.transformer.decoder.layers.0.ca_text.k_proj.weight")
    1
    >>> meta_slice("vision.trunk.blocks.0.attn.qkv.weight") is None
    True
    """
    if not key.startswith("detector."):
        return None
    m = _SPLIT.match(key)
    return "qkv".index(m[2]) if m else None


def meta_to_ours(key: str) -> str | None:
    """Our name of a ``sam3.pt`` tensor (``None`` when it is not under detector/tracker)."""
    key = _META_MLP.sub(lambda m: f"{m[1]}layers.{int(m[2]) - 1}.", key)
    for ours, meta in _PREFIXES:
        if key.startswith(meta):
            return ours + key[len(meta) :]
    return None


@dataclass(frozen=True)
class HfSource:
    """How one of our tensors is made from transformers tensors."""

    kind: str  # "same" | "cat" | "transpose" | "row"
    keys: tuple[str, ...]
    index: int = 0


def _qkv(base: str, suffix: str) -> tuple[str, ...]:
    return tuple(f"{base}.{p}_proj.{suffix}" for p in "qkv")


# --- rules on the Meta-relative name (after "detector." / "tracker." is removed) -------------
# each: (regex on our inner name, replacement); fused projections are handled separately
_VISION = (
    (r"^trunk\.patch_embed\.proj\.", "backbone.embeddings.patch_embeddings.projection."),
    (r"^trunk\.pos_embed$", "backbone.embeddings.position_embeddings"),
    (r"^trunk\.ln_pre\.", "backbone.layer_norm."),
    (r"^trunk\.blocks\.(\d+)\.norm1\.", r"backbone.layers.\1.layer_norm1."),
    (r"^trunk\.blocks\.(\d+)\.norm2\.", r"backbone.layers.\1.layer_norm2."),
    (r"^trunk\.blocks\.(\d+)\.attn\.proj\.", r"backbone.layers.\1.attention.o_proj."),
    (r"^trunk\.blocks\.(\d+)\.mlp\.", r"backbone.layers.\1.mlp."),
)
_FPN = (
    (r"^(\d+)\.dconv_2x2_0\.", r"fpn_layers.\1.scale_layers.0."),
    (r"^(\d+)\.dconv_2x2_1\.", r"fpn_layers.\1.scale_layers.2."),
    (r"^(\d+)\.dconv_2x2\.", r"fpn_layers.\1.scale_layers.0."),
    (r"^(\d+)\.conv_1x1\.", r"fpn_layers.\1.proj1."),
    (r"^(\d+)\.conv_3x3\.", r"fpn_layers.\1.proj2."),
)
_TEXT = (
    (r"^token_embedding\.", "text_model.embeddings.token_embedding."),
    (r"^positional_embedding$", "text_model.embeddings.position_embedding.weight"),
    (r"^ln_final\.", "text_model.final_layer_norm."),
    (
        r"^transformer\.resblocks\.(\d+)\.attn\.out_proj\.",
        r"text_model.encoder.layers.\1.self_attn.out_proj.",
    ),
    (r"^transformer\.resblocks\.(\d+)\.ln_1\.", r"text_model.encoder.layers.\1.layer_norm1."),
    (r"^transformer\.resblocks\.(\d+)\.ln_2\.", r"text_model.encoder.layers.\1.layer_norm2."),
    (r"^transformer\.resblocks\.(\d+)\.mlp\.c_fc\.", r"text_model.encoder.layers.\1.mlp.fc1."),
    (r"^transformer\.resblocks\.(\d+)\.mlp\.c_proj\.", r"text_model.encoder.layers.\1.mlp.fc2."),
)
_DETECTOR = (
    # geometry encoder
    (
        r"^geometry_encoder\.encode\.(\d+)\.cross_attn_image\.out_proj\.",
        r"geometry_encoder.layers.\1.cross_attn.o_proj.",
    ),
    (
        r"^geometry_encoder\.encode\.(\d+)\.self_attn\.out_proj\.",
        r"geometry_encoder.layers.\1.self_attn.o_proj.",
    ),
    (r"^geometry_encoder\.encode\.(\d+)\.linear1\.", r"geometry_encoder.layers.\1.mlp.fc1."),
    (r"^geometry_encoder\.encode\.(\d+)\.linear2\.", r"geometry_encoder.layers.\1.mlp.fc2."),
    (r"^geometry_encoder\.encode\.(\d+)\.norm(\d)\.", r"geometry_encoder.layers.\1.layer_norm\2."),
    (r"^geometry_encoder\.img_pre_norm\.", "geometry_encoder.vision_layer_norm."),
    (r"^geometry_encoder\.norm\.", "geometry_encoder.prompt_layer_norm."),
    (r"^geometry_encoder\.encode_norm\.", "geometry_encoder.output_layer_norm."),
    (r"^geometry_encoder\.", "geometry_encoder."),
    # fusion encoder
    (
        r"^transformer\.encoder\.layers\.(\d+)\.cross_attn_image\.out_proj\.",
        r"detr_encoder.layers.\1.cross_attn.o_proj.",
    ),
    (
        r"^transformer\.encoder\.layers\.(\d+)\.self_attn\.out_proj\.",
        r"detr_encoder.layers.\1.self_attn.o_proj.",
    ),
    (r"^transformer\.encoder\.layers\.(\d+)\.linear1\.", r"detr_encoder.layers.\1.mlp.fc1."),
    (r"^transformer\.encoder\.layers\.(\d+)\.linear2\.", r"detr_encoder.layers.\1.mlp.fc2."),
    (r"^transformer\.encoder\.layers\.(\d+)\.norm(\d)\.", r"detr_encoder.layers.\1.layer_norm\2."),
    # decoder
    (
        r"^transformer\.decoder\.presence_token_head\.layers\.(\d)\.",
        lambda m: f"detr_decoder.presence_head.layer{int(m[1]) + 1}.",
    ),
    (r"^transformer\.decoder\.presence_token_out_norm\.", "detr_decoder.presence_layer_norm."),
    (r"^transformer\.decoder\.norm\.", "detr_decoder.output_layer_norm."),
    (
        r"^transformer\.decoder\.bbox_embed\.layers\.(\d)\.",
        lambda m: f"detr_decoder.box_head.layer{int(m[1]) + 1}.",
    ),
    (
        r"^transformer\.decoder\.ref_point_head\.layers\.(\d)\.",
        lambda m: f"detr_decoder.ref_point_head.layer{int(m[1]) + 1}.",
    ),
    (
        r"^transformer\.decoder\.boxRPB_embed_(x|y)\.layers\.(\d)\.",
        lambda m: f"detr_decoder.box_rpb_embed_{m[1]}.layer{int(m[2]) + 1}.",
    ),
    (
        r"^transformer\.decoder\.layers\.(\d+)\.self_attn\.out_proj\.",
        r"detr_decoder.layers.\1.self_attn.o_proj.",
    ),
    (
        r"^transformer\.decoder\.layers\.(\d+)\.ca_text\.out_proj\.",
        r"detr_decoder.layers.\1.text_cross_attn.o_proj.",
    ),
    (
        r"^transformer\.decoder\.layers\.(\d+)\.cross_attn\.out_proj\.",
        r"detr_decoder.layers.\1.vision_cross_attn.o_proj.",
    ),
    (r"^transformer\.decoder\.layers\.(\d+)\.linear1\.", r"detr_decoder.layers.\1.mlp.fc1."),
    (r"^transformer\.decoder\.layers\.(\d+)\.linear2\.", r"detr_decoder.layers.\1.mlp.fc2."),
    (
        r"^transformer\.decoder\.layers\.(\d+)\.norm1\.",
        r"detr_decoder.layers.\1.vision_cross_attn_layer_norm.",
    ),
    (
        r"^transformer\.decoder\.layers\.(\d+)\.catext_norm\.",
        r"detr_decoder.layers.\1.text_cross_attn_layer_norm.",
    ),
    (
        r"^transformer\.decoder\.layers\.(\d+)\.norm2\.",
        r"detr_decoder.layers.\1.self_attn_layer_norm.",
    ),
    (r"^transformer\.decoder\.layers\.(\d+)\.norm3\.", r"detr_decoder.layers.\1.mlp_layer_norm."),
    (r"^transformer\.decoder\.", "detr_decoder."),
    # scoring
    (
        r"^dot_prod_scoring\.prompt_mlp\.layers\.(\d)\.",
        lambda m: f"dot_product_scoring.text_mlp.layer{int(m[1]) + 1}.",
    ),
    (r"^dot_prod_scoring\.prompt_mlp\.out_norm\.", "dot_product_scoring.text_mlp_out_norm."),
    (r"^dot_prod_scoring\.prompt_proj\.", "dot_product_scoring.text_proj."),
    (r"^dot_prod_scoring\.hs_proj\.", "dot_product_scoring.query_proj."),
    # segmentation head
    (r"^segmentation_head\.pixel_decoder\.", "mask_decoder.pixel_decoder."),
    (r"^segmentation_head\.mask_predictor\.mask_embed\.", "mask_decoder.mask_embedder."),
    (r"^segmentation_head\.instance_seg_head\.", "mask_decoder.instance_projection."),
    (r"^segmentation_head\.semantic_seg_head\.", "mask_decoder.semantic_projection."),
    (
        r"^segmentation_head\.cross_attend_prompt\.out_proj\.",
        "mask_decoder.prompt_cross_attn.o_proj.",
    ),
    (r"^segmentation_head\.cross_attn_norm\.", "mask_decoder.prompt_cross_attn_norm."),
)
# fused attention inputs of the detector: (regex on our name -> transformers base)
_DETECTOR_FUSED = (
    (r"^geometry_encoder\.encode\.(\d+)\.self_attn$", r"geometry_encoder.layers.\1.self_attn"),
    (
        r"^geometry_encoder\.encode\.(\d+)\.cross_attn_image$",
        r"geometry_encoder.layers.\1.cross_attn",
    ),
    (r"^transformer\.encoder\.layers\.(\d+)\.self_attn$", r"detr_encoder.layers.\1.self_attn"),
    (
        r"^transformer\.encoder\.layers\.(\d+)\.cross_attn_image$",
        r"detr_encoder.layers.\1.cross_attn",
    ),
    (r"^transformer\.decoder\.layers\.(\d+)\.self_attn$", r"detr_decoder.layers.\1.self_attn"),
    (r"^transformer\.decoder\.layers\.(\d+)\.ca_text$", r"detr_decoder.layers.\1.text_cross_attn"),
    (
        r"^transformer\.decoder\.layers\.(\d+)\.cross_attn$",
        r"detr_decoder.layers.\1.vision_cross_attn",
    ),
    (r"^segmentation_head\.cross_attend_prompt$", "mask_decoder.prompt_cross_attn"),
)
# SAM 2 tracker names (ours, as in SAM 2's checkpoints) -> transformers' Sam2/Sam3 tracker names
_THREE = ("proj_in", "layers.0", "proj_out")
_TRACKER = (
    (
        r"^sam_prompt_encoder\.pe_layer\.positional_encoding_gaussian_matrix$",
        "prompt_encoder.shared_embedding.positional_embedding",
    ),
    (
        r"^sam_prompt_encoder\.mask_downscaling\.(\d)\.",
        lambda m: (
            "prompt_encoder.mask_embed."
            + {"0": "conv1", "1": "layer_norm1", "3": "conv2", "4": "layer_norm2", "6": "conv3"}[
                m[1]
            ]
            + "."
        ),
    ),
    (r"^sam_prompt_encoder\.", "prompt_encoder."),
    (
        r"^sam_mask_decoder\.transformer\.layers\.(\d+)\.mlp\.layers\.(\d)\.",
        lambda m: (
            f"mask_decoder.transformer.layers.{m[1]}.mlp.{('proj_in', 'proj_out')[int(m[2])]}."
        ),
    ),
    (
        r"^sam_mask_decoder\.transformer\.layers\.(\d+)\.norm(\d)\.",
        r"mask_decoder.transformer.layers.\1.layer_norm\2.",
    ),
    (
        r"^sam_mask_decoder\.transformer\.norm_final_attn\.",
        "mask_decoder.transformer.layer_norm_final_attn.",
    ),
    (
        r"^sam_mask_decoder\.output_upscaling\.(\d)\.",
        lambda m: (
            "mask_decoder."
            + {"0": "upscale_conv1", "1": "upscale_layer_norm", "3": "upscale_conv2"}[m[1]]
            + "."
        ),
    ),
    (
        r"^sam_mask_decoder\.(output_hypernetworks_mlps\.\d+|iou_prediction_head|pred_obj_score_head)\.layers\.(\d)\.",
        lambda m: f"mask_decoder.{m[1]}.{_THREE[int(m[2])]}.",
    ),
    (r"^sam_mask_decoder\.", "mask_decoder."),
    (r"^memory_attention\.norm\.", "memory_attention.layer_norm."),
    (r"^memory_attention\.layers\.(\d+)\.norm(\d)\.", r"memory_attention.layers.\1.layer_norm\2."),
    (
        r"^memory_encoder\.mask_downsampler\.encoder\.(\d+)\.",
        lambda m: (
            "memory_encoder.mask_downsampler."
            + (
                "final_conv."
                if m[1] == "12"
                else f"layers.{int(m[1]) // 3}."
                + ("conv." if int(m[1]) % 3 == 0 else "layer_norm.")
            )
        ),
    ),
    (r"^memory_encoder\.pix_feat_proj\.", "memory_encoder.feature_projection."),
    (r"^memory_encoder\.out_proj\.", "memory_encoder.projection."),
    (
        r"^memory_encoder\.fuser\.layers\.(\d+)\.gamma$",
        r"memory_encoder.memory_fuser.layers.\1.scale",
    ),
    (
        r"^memory_encoder\.fuser\.layers\.(\d+)\.dwconv\.",
        r"memory_encoder.memory_fuser.layers.\1.depthwise_conv.",
    ),
    (
        r"^memory_encoder\.fuser\.layers\.(\d+)\.norm\.",
        r"memory_encoder.memory_fuser.layers.\1.layer_norm.",
    ),
    (
        r"^memory_encoder\.fuser\.layers\.(\d+)\.pwconv(\d)\.",
        r"memory_encoder.memory_fuser.layers.\1.pointwise_conv\2.",
    ),
    (r"^maskmem_tpos_enc$", "memory_temporal_positional_encoding"),
    (r"^no_mem_embed$", "no_memory_embedding"),
    (r"^no_mem_pos_enc$", "no_memory_positional_encoding"),
    (r"^no_obj_ptr$", "no_object_pointer"),
    (r"^no_obj_embed_spatial$", "occlusion_spatial_embedding_parameter"),
    (r"^obj_ptr_proj\.layers\.(\d)\.", lambda m: f"object_pointer_proj.{_THREE[int(m[1])]}."),
    (r"^obj_ptr_tpos_proj\.", "temporal_positional_encoding_projection_layer."),
)


def _rename(inner: str, rules) -> str | None:
    for pattern, repl in rules:
        new, n = re.subn(pattern, repl, inner)
        if n:
            return new
    return None


def hf_source(key: str, layout: str = "video") -> HfSource:
    """Which transformers tensors make our parameter ``key``, and how.

    Raises
    ------
    KeyError
        ``key`` has no counterpart in the transformers format (see :data:`HF_MISSING`), or is
        not a SAM 3 parameter name.
    """
    if layout not in ("video", "image"):
        raise ValueError(f"layout must be 'video' or 'image', got {layout!r}")
    det = "detector_model." if layout == "video" else ""
    name, _, suffix = key.rpartition(".")

    if key.startswith("vision.trunk."):
        inner = key[len("vision.") :]
        m = re.match(r"^trunk\.blocks\.(\d+)\.attn\.qkv\.(weight|bias)$", inner)
        if m:
            base = f"{det}vision_encoder.backbone.layers.{m[1]}.attention"
            return HfSource("cat", _qkv(base, m[2]))
        new = _rename(inner, _VISION)
        if new is not None:
            return HfSource("same", (f"{det}vision_encoder.{new}",))
    elif key.startswith("vision.convs."):
        new = _rename(key[len("vision.convs.") :], _FPN)
        if new is not None:
            return HfSource("same", (f"{det}vision_encoder.neck.{new}",))
    elif key.startswith("vision.sam2_convs.") and layout == "video":
        new = _rename(key[len("vision.sam2_convs.") :], _FPN)
        if new is not None:
            return HfSource("same", (f"tracker_neck.{new}",))
    elif key.startswith("text.encoder."):
        inner = key[len("text.encoder.") :]
        m = re.match(r"^transformer\.resblocks\.(\d+)\.attn\.in_proj_(weight|bias)$", inner)
        if m:
            base = f"{det}text_encoder.text_model.encoder.layers.{m[1]}.self_attn"
            return HfSource("cat", _qkv(base, m[2]))
        if inner == "text_projection":
            return HfSource("transpose", (f"{det}text_encoder.text_projection.weight",))
        new = _rename(inner, _TEXT)
        if new is not None:
            return HfSource("same", (f"{det}text_encoder.{new}",))
    elif key.startswith("text.resizer."):
        return HfSource("same", (f"{det}text_projection.{suffix}",))
    elif key.startswith("tracker."):
        if layout != "video":
            raise KeyError(f"{key}: the transformers image format has no tracker")
        inner = key[len("tracker.") :]
        m = re.match(r"^sam_prompt_encoder\.point_embeddings\.(\d+)\.weight$", inner)
        if m:
            return HfSource("row", ("tracker_model.prompt_encoder.point_embed.weight",), int(m[1]))
        new = _rename(inner, _TRACKER)
        if new is None:
            new = inner
        new = new.replace(".out_proj.", ".o_proj.")
        return HfSource("same", (f"tracker_model.{new}",))
    elif key.startswith("detector."):
        if HF_MISSING.match(key):
            raise KeyError(f"{key}: the transformers format has no point-prompt projections")
        key = key[len("detector.") :]
        m = re.match(r"^(.*)\.in_proj_(weight|bias)$", key)
        if m:
            base = _rename(m[1], _DETECTOR_FUSED)
            if base is not None:
                return HfSource("cat", _qkv(f"{det}{base}", m[2]))
        m = _SPLIT.match(key)
        if m:
            base = _rename(m[1], _DETECTOR_FUSED)
            if base is not None:
                return HfSource("same", (f"{det}{base}.{m[2]}_proj.{m[3]}",))
        new = _rename(key, _DETECTOR)
        if new is not None:
            return HfSource("same", (f"{det}{new}",))
    raise KeyError(f"{key}: no transformers counterpart known")
