"""Helpers for the SAM 3 detector tests: transformers' SAM 3 modules as the oracle.

The oracle is transformers' pure-torch port (``transformers.models.sam3.modeling_sam3``), an
implementation we did not build on. Component tests build one oracle module at a small width,
give it random weights, copy them into ours through :func:`hf_to_ours` (transformers key ->
our key) and compare outputs with :func:`rel_error` (max abs difference over max abs value).
"""

from __future__ import annotations

import re

import pytest
import torch

REL_TOL = 1e-5

# transformers name fragment -> ours, applied in order to every key of one component
_COMMON = [
    (r"\.o_proj\.", ".out_proj."),
    (r"\bmlp\.fc1\.", "linear1."),
    (r"\bmlp\.fc2\.", "linear2."),
]
_MAPS = {
    "geometry": [
        (r"^layers\.(\d+)\.cross_attn\.", r"encode.\1.cross_attn_image."),
        (r"^layers\.(\d+)\.layer_norm(\d)\.", r"encode.\1.norm\2."),
        (r"^layers\.", "encode."),
        (r"^vision_layer_norm\.", "img_pre_norm."),
        (r"^prompt_layer_norm\.", "norm."),
        (r"^output_layer_norm\.", "encode_norm."),
    ],
    "fusion": [
        (r"^layers\.(\d+)\.cross_attn\.", r"layers.\1.cross_attn_image."),
        (r"^layers\.(\d+)\.layer_norm(\d)\.", r"layers.\1.norm\2."),
    ],
    "decoder": [
        (r"\.text_cross_attn\.", ".ca_text."),
        (r"\.vision_cross_attn\.", ".cross_attn."),
        (r"\.self_attn_layer_norm\.", ".norm2."),
        (r"\.text_cross_attn_layer_norm\.", ".catext_norm."),
        (r"\.vision_cross_attn_layer_norm\.", ".norm1."),
        (r"\.mlp_layer_norm\.", ".norm3."),
        (r"^output_layer_norm\.", "norm."),
        (r"^box_head\.", "bbox_embed."),
        (r"^presence_head\.", "presence_token_head."),
        (r"^presence_layer_norm\.", "presence_token_out_norm."),
        (r"^box_rpb_embed_([xy])\.", r"boxRPB_embed_\1."),
    ],
    "scoring": [
        (r"^text_mlp_out_norm\.", "prompt_mlp.out_norm."),
        (r"^text_mlp\.", "prompt_mlp."),
        (r"^text_proj\.", "prompt_proj."),
        (r"^query_proj\.", "hs_proj."),
    ],
    "segmentation": [
        (r"^mask_embedder\.", "mask_predictor.mask_embed."),
        (r"^instance_projection\.", "instance_seg_head."),
        (r"^semantic_projection\.", "semantic_seg_head."),
        (r"^prompt_cross_attn_norm\.", "cross_attn_norm."),
        (r"^prompt_cross_attn\.", "cross_attend_prompt."),
    ],
}


def map_key(key: str, component: str) -> str:
    """Our name of transformers' parameter ``key`` of ``component``."""
    for pattern, repl in _COMMON + _MAPS[component]:
        key = re.sub(pattern, repl, key)
    return re.sub(r"\.layer(\d)\.", lambda m: f".layers.{int(m.group(1)) - 1}.", key)


def hf_to_ours(state: dict, component: str) -> dict:
    """Rename a transformers state dict of one component to our names."""
    return {map_key(k, component): v for k, v in state.items()}


def randomize_(module: torch.nn.Module, seed: int = 0, std: float = 0.2) -> None:
    """Random weights with norms' scales near 1, so every parameter matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=gen) * std
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + noise)
            else:
                p.copy_(noise)


def load_into(ours: torch.nn.Module, hf: torch.nn.Module, component: str) -> list[str]:
    """Copy ``hf``'s weights into ``ours``; return our keys transformers lacks (must be few)."""
    state = hf_to_ours(hf.state_dict(), component)
    missing, unexpected = ours.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    return list(missing)


def rel_error(reference: torch.Tensor, candidate: torch.Tensor) -> float:
    """``max |reference - candidate| / max |reference|``."""
    assert reference.shape == candidate.shape, (reference.shape, candidate.shape)
    scale = float(reference.abs().max())
    return float((reference.double() - candidate.double()).abs().max()) / max(scale, 1e-12)


def hf_modeling():
    """transformers' ``modeling_sam3`` and ``configuration_sam3`` (skip when missing).

    transformers marks its SAM 3 models as needing torchvision, which it uses only for the
    geometry encoder's ROI pooling; torchvision is not installed here (its compiled ops do not
    load against this torch), so the backend check is satisfied and the module's
    ``torchvision`` is :class:`TorchvisionStub` (ROI pooling by :func:`reference_roi_align`).
    """
    pytest.importorskip("transformers")
    from transformers.utils import import_utils

    if not import_utils.is_torchvision_available():
        message = import_utils.BACKENDS_MAPPING["torchvision"][1]
        import_utils.BACKENDS_MAPPING["torchvision"] = (lambda: True, message)
    try:
        from transformers.models.sam3 import configuration_sam3, modeling_sam3
    except ImportError as exc:  # pragma: no cover - depends on the installed version
        pytest.skip(f"transformers has no SAM 3: {exc}")
    if "torchvision" not in vars(modeling_sam3):
        modeling_sam3.torchvision = TorchvisionStub
    return modeling_sam3, configuration_sam3


def eager(config):
    """``config`` set to transformers' eager attention (as ``Sam3Model`` sets its sub-configs).

    Standalone sub-modules otherwise see no attention implementation and add boolean padding
    masks as 0/1 instead of masking.
    """
    config._attn_implementation = "eager"
    return config


def small_kwargs(d: int = 64, heads: int = 4, ffn: int = 128, layers: int = 2) -> dict:
    """Common small widths of the detector components."""
    return {
        "hidden_size": d,
        "num_attention_heads": heads,
        "intermediate_size": ffn,
        "num_layers": layers,
    }


def _bilinear(feat: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """One RoIAlign sample of ``(C, H, W)`` at ``(y, x)``, as the Mask R-CNN kernel defines it."""
    _, h, w = feat.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return torch.zeros(feat.shape[0], dtype=feat.dtype)
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    return (
        hy * hx * feat[:, y0, x0]
        + hy * lx * feat[:, y0, x1]
        + ly * hx * feat[:, y1, x0]
        + ly * lx * feat[:, y1, x1]
    )


def reference_roi_align(features, boxes, output_size, *args, **kwargs):
    """Sample-by-sample RoIAlign (``aligned=False``, adaptive sampling), for the oracle.

    Stands in for ``torchvision.ops.roi_align``, which transformers' geometry encoder calls:
    torchvision's compiled ops do not load against this torch, so the oracle gets this direct
    transcription of the algorithm (a different code path from our separable one).
    """
    import math

    out = []
    for b, per_image in enumerate(boxes):
        feat = features[b]
        for x0, y0, x1, y1 in per_image.tolist():
            rh, rw = max(y1 - y0, 1.0), max(x1 - x0, 1.0)
            bh, bw = rh / output_size, rw / output_size
            gh, gw = math.ceil(rh / output_size), math.ceil(rw / output_size)
            pooled = torch.zeros(feat.shape[0], output_size, output_size, dtype=feat.dtype)
            for ph in range(output_size):
                for pw in range(output_size):
                    acc = torch.zeros(feat.shape[0], dtype=feat.dtype)
                    for iy in range(gh):
                        y = y0 + ph * bh + (iy + 0.5) * bh / gh
                        for ix in range(gw):
                            x = x0 + pw * bw + (ix + 0.5) * bw / gw
                            acc = acc + _bilinear(feat, y, x)
                    pooled[:, ph, pw] = acc / max(gh * gw, 1)
            out.append(pooled)
    return torch.stack(out)


class TorchvisionStub:
    """``torchvision`` as transformers' geometry encoder uses it (``ops.roi_align`` only)."""

    class ops:  # noqa: N801 - mirrors the module name
        roi_align = staticmethod(reference_roi_align)


#: transformers ``Sam3Model`` prefix -> (our ConceptDetector prefix, component map)
DETECTOR_PREFIXES = {
    "geometry_encoder.": ("geometry_encoder.", "geometry"),
    "detr_encoder.": ("transformer.encoder.", "fusion"),
    "detr_decoder.": ("transformer.decoder.", "decoder"),
    "dot_product_scoring.": ("dot_prod_scoring.", "scoring"),
    "mask_decoder.": ("segmentation_head.", "segmentation"),
}


def hf_detector_to_ours(state: dict) -> dict:
    """The detector part of a transformers ``Sam3Model`` state dict, in ConceptDetector names."""
    out = {}
    for key, value in state.items():
        for prefix, (ours, component) in DETECTOR_PREFIXES.items():
            if key.startswith(prefix):
                out[ours + map_key(key[len(prefix) :], component)] = value
    return out


def detector_config(d: int = 64, heads: int = 4, ffn: int = 128, queries: int = 20):
    """Matching small configurations: (transformers kwargs for Sam3Config, our DetectorConfig)."""
    from ecoseg.sam3.decoder import DecoderConfig
    from ecoseg.sam3.detector import DetectorConfig
    from ecoseg.sam3.fusion import FusionEncoderConfig
    from ecoseg.sam3.geometry import GeometryEncoderConfig
    from ecoseg.sam3.segmentation import SegmentationConfig

    common = small_kwargs(d, heads, ffn, 2)
    hf = {
        "geometry_encoder_config": dict(common),
        "detr_encoder_config": dict(common),
        "detr_decoder_config": dict(common, num_queries=queries),
        "mask_decoder_config": {"hidden_size": d, "num_attention_heads": heads},
    }
    ours = DetectorConfig(
        GeometryEncoderConfig(d, 2, heads, ffn),
        FusionEncoderConfig(d, 2, heads, ffn),
        DecoderConfig(d, 2, queries, heads, ffn),
        SegmentationConfig(d, 3, heads),
        ffn,
    )
    return hf, ours
