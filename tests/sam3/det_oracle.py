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
import torch.nn.functional as F

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
    transcription of the algorithm (a different code path from our separable one). Under
    autocast it computes in float32 and returns the features' dtype, as torchvision's
    autocast kernel of ``roi_align`` does.
    """
    import math

    if torch.is_autocast_enabled(features.device.type):
        with torch.autocast(features.device.type, enabled=False):
            pooled = reference_roi_align(features.float(), boxes, output_size, *args, **kwargs)
        return pooled.to(features.dtype)
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


# ---------------------------------------------------------------------------------------------
# End to end: our SAM3Model + ConceptPredictor against transformers' Sam3Model, same weights


def reduced_model_config():
    """The ``sam3-reduced`` preset without the tracker (transformers' Sam3Model has none)."""
    import dataclasses

    from ecoseg.sam3.config import get_config

    cfg = get_config("sam3-reduced")
    return dataclasses.replace(
        cfg, tracker=None, neck=dataclasses.replace(cfg.neck, tracker_neck=False)
    )


#: Edits that make random weights detect (applied to the transformers model, then copied):
#: a confident presence token; queries and reference boxes as spread as a trained model's
#: (small random weights make all 50 queries alike); a text projection dominated by its bias
#: so that every prompt scores the queries on a similar scale, widened by a query gain; mask
#: logits far from zero. Tests cut the scores at a threshold placed in a wide gap between the
#: oracle's scores (:func:`separating_threshold`).
PRESENCE_BIAS = 6.0
QUERY_SPREAD, BOX_SPREAD = 20.0, 30.0
TEXT_WEIGHT, TEXT_BIAS, QUERY_GAIN = 0.2, 10.0, 3.0
MASK_GAIN = 40.0


@torch.no_grad()
def make_detectable_(hf) -> None:
    """Edit a randomly initialised transformers ``Sam3Model`` in place so that it detects."""
    dec, score = hf.detr_decoder, hf.dot_product_scoring
    dec.presence_head.layer3.bias.fill_(PRESENCE_BIAS)
    dec.query_embed.weight.mul_(QUERY_SPREAD)
    dec.reference_points.weight.mul_(BOX_SPREAD)
    score.text_proj.weight.mul_(TEXT_WEIGHT)
    score.text_proj.bias.mul_(TEXT_BIAS)
    score.query_proj.weight.mul_(QUERY_GAIN)
    hf.mask_decoder.instance_projection.weight.mul_(MASK_GAIN)
    hf.mask_decoder.instance_projection.bias.mul_(MASK_GAIN)


def hf_detector_kwargs(det) -> dict:
    """transformers ``Sam3Config`` keyword arguments matching our ``DetectorConfig``."""

    def common(c):
        return {
            "hidden_size": c.d_model,
            "num_attention_heads": c.num_heads,
            "intermediate_size": c.dim_feedforward,
            "num_layers": c.num_layers,
        }

    return {
        "geometry_encoder_config": dict(common(det.geometry), roi_size=det.geometry.roi_size),
        "detr_encoder_config": common(det.fusion),
        "detr_decoder_config": dict(common(det.decoder), num_queries=det.decoder.num_queries),
        "mask_decoder_config": {
            "hidden_size": det.segmentation.d_model,
            "num_attention_heads": det.segmentation.num_heads,
            "num_upsampling_stages": det.segmentation.upsampling_stages,
        },
    }


def full_pair(seed: int = 30, attn: str = "eager"):
    """``(hf Sam3Model, our SAM3Model)``: the ``sam3-reduced`` preset (without the tracker),
    identical edited random weights.

    The transformers model is saved as a safetensors file and read into ours by
    :func:`ecoseg.sam3.checkpoint.load_checkpoint`, so the loader is on the path too.
    ``attn`` is transformers' attention implementation (``"eager"`` for tests, its default
    ``"sdpa"`` for benchmarks).
    """
    import tempfile
    from pathlib import Path

    import backbone_oracle as bo
    from safetensors.torch import save_file

    from ecoseg.sam3.checkpoint import load_checkpoint
    from ecoseg.sam3.model import SAM3Model

    modeling, configuration = hf_modeling()
    cfg = reduced_model_config()
    hf_cfg = configuration.Sam3Config(
        vision_config=bo.hf_vit_config(cfg),
        text_config=bo.hf_text_config(cfg),
        **hf_detector_kwargs(cfg.detector),
    )
    hf_cfg._attn_implementation = attn
    for sub in (hf_cfg.vision_config, hf_cfg.vision_config.backbone_config, hf_cfg.text_config):
        sub._attn_implementation = attn
    hf = modeling.Sam3Model(hf_cfg).eval()
    bo.randomize_(hf, seed)
    make_detectable_(hf)
    ours = SAM3Model(cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        save_file({k: v.contiguous() for k, v in hf.state_dict().items()}, str(path))
        load_checkpoint(ours, path)
    assert ours.checkpoint_format == "transformers-image"
    assert all(".points_" in k for k in ours.unloaded_parameters)
    return hf, ours


def separating_threshold(scores: torch.Tensor) -> float:
    """A threshold for ``(B, Q)`` scores in the widest gap between consecutive scores that
    keeps between 10 % and 90 % of every row, so that rounding cannot move an instance across.
    """
    ranked = torch.sort(scores.flatten(), descending=True).values
    best, threshold = -1.0, None
    q = scores.shape[1]
    for k in range(ranked.numel() - 1):
        t = float((ranked[k] + ranked[k + 1]) / 2)
        kept = (scores > t).sum(1)
        gap = float(ranked[k] - ranked[k + 1])
        if bool(((kept >= 0.1 * q) & (kept <= 0.9 * q)).all()) and gap > best:
            best, threshold = gap, t
    assert threshold is not None, "no threshold keeps 10-90 % of every prompt's queries"
    return threshold


def oracle_instances(hf, pixels, input_ids, size, threshold=None, boxes=None, labels=None):
    """transformers' Sam3Model on ``pixels``, post-processed as its
    ``post_process_instance_segmentation`` does (score = sigmoid(logit) * sigmoid(presence)
    above ``threshold``; mask probabilities resized bilinearly, cut at 0.5; boxes scaled).
    Returns ``(threshold, results)``; ``threshold=None`` picks :func:`separating_threshold`.

    The image processor class itself cannot be imported without torchvision.
    """
    out = hf(
        pixel_values=pixels,
        input_ids=input_ids,
        attention_mask=(input_ids != 0).long(),
        input_boxes=boxes,
        input_boxes_labels=labels,
    )
    h, w = size
    scores = out.pred_logits.sigmoid() * out.presence_logits.sigmoid()
    if threshold is None:
        threshold = separating_threshold(scores)
    results = []
    for i in range(scores.shape[0]):
        keep = scores[i] > threshold
        probs = out.pred_masks[i, keep].sigmoid()
        if probs.shape[0]:
            probs = F.interpolate(probs[None], size=(h, w), mode="bilinear", align_corners=False)[0]
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        order = torch.argsort(scores[i, keep], descending=True, stable=True)
        results.append(
            {
                "scores": scores[i, keep][order].numpy(),
                "boxes": (out.pred_boxes[i, keep] * scale)[order].numpy(),
                "masks": (probs > 0.5)[order].numpy() if probs.shape[0] else probs.numpy() > 0.5,
                "presence": float(out.presence_logits[i].sigmoid()),
            }
        )
    return threshold, results


def instance_problems(ref: dict, got, size) -> list[str]:
    """Where our ConceptInstances disagree with the oracle's (empty when they agree):
    the same number of instances kept, each box corner within 1e-3 of the image size, each
    mask with IoU >= 0.99 (instances paired in score order)."""
    import numpy as np

    h, w = size
    problems = []
    if len(got.scores) != len(ref["scores"]):
        return [f"{len(got.scores)} instances kept, the oracle keeps {len(ref['scores'])}"]
    tol = 1e-3 * np.array([w, h, w, h])
    for k in range(len(got.scores)):
        diff = np.abs(got.boxes[k] - ref["boxes"][k])
        if (diff > tol).any():
            problems.append(f"instance {k}: box off by {diff.tolist()} px")
        a, b = got.masks[k], ref["masks"][k]
        union = (a | b).sum()
        iou = (a & b).sum() / union if union else 1.0
        if iou < 0.99:
            problems.append(f"instance {k}: mask IoU {iou:.4f}")
    return problems
