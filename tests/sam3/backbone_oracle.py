"""Helpers for the SAM 3 backbone / text / checkpoint tests: transformers' port as the oracle.

transformers' SAM 3 (``transformers.models.sam3``), a pure-torch implementation we did not
build on, is built at our reduced configuration with random weights; the weights are copied
into our modules through :func:`ecoseg.sam3.keymap.hf_source` (so the name mapping is under
test too) and outputs are compared with :func:`rel_error`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from ecoseg.sam3.checkpoint import assemble
from ecoseg.sam3.config import Sam3Config
from ecoseg.sam3.keymap import HfSource, hf_source

#: Per-component tolerance of the issue (max abs difference over max abs value).
REL_TOL = 1e-5


def rel_error(ref: torch.Tensor, got: torch.Tensor) -> float:
    """max |ref - got| / max |ref| (shapes must agree)."""
    assert ref.shape == got.shape, (tuple(ref.shape), tuple(got.shape))
    return float((ref.double() - got.double()).abs().max() / ref.double().abs().max())


def transformers_sam3():
    """transformers' SAM 3 modelling and configuration modules (skip when missing)."""
    pytest.importorskip("transformers")
    from transformers.utils import import_utils

    # transformers marks SAM 3 as needing torchvision, used only by the geometry encoder's
    # ROI pooling (not by the backbone, neck or text encoder tested here)
    if not import_utils.is_torchvision_available():
        message = import_utils.BACKENDS_MAPPING["torchvision"][1]
        import_utils.BACKENDS_MAPPING["torchvision"] = (lambda: True, message)
    from transformers.models.sam3 import configuration_sam3, modeling_sam3

    return modeling_sam3, configuration_sam3


@torch.no_grad()
def randomize_(module: torch.nn.Module, seed: int, scale: float = 0.05) -> torch.nn.Module:
    """Every parameter to ``N(0, scale)`` (layer-norm weights ``1 + N(0, scale)``), seeded.

    Default initialisations (unit norms, zero biases) would hide mapping mistakes.
    """
    gen = torch.Generator().manual_seed(seed)
    for name, p in module.named_parameters():
        noise = torch.randn(p.shape, generator=gen, dtype=torch.float32) * scale
        if "norm" in name and name.endswith("weight") and p.ndim == 1:
            noise = noise + 1.0
        p.copy_(noise.to(p.dtype))
    return module


def hf_vit_config(config: Sam3Config):
    """transformers' ``Sam3VisionConfig`` for our vision/neck configuration."""
    _, conf = transformers_sam3()
    v = config.vision
    backbone = conf.Sam3ViTConfig(
        hidden_size=v.embed_dim,
        intermediate_size=v.mlp_dim,
        num_hidden_layers=v.depth,
        num_attention_heads=v.num_heads,
        image_size=v.image_size,
        patch_size=v.patch_size,
        window_size=v.window_size,
        global_attn_indexes=list(v.global_att_blocks),
        pretrain_image_size=v.pretrain_image_size,
        layer_norm_eps=v.layer_norm_eps,  # Meta's 1e-5 (transformers' default is 1e-6)
        rope_parameters={"rope_type": "axial", "rope_theta": v.rope_theta},
    )
    cfg = conf.Sam3VisionConfig(
        backbone_config=backbone,
        fpn_hidden_size=config.neck.d_model,
        scale_factors=list(config.neck.scale_factors),
    )
    cfg._attn_implementation = "eager"
    cfg.backbone_config._attn_implementation = "eager"
    return cfg


def hf_text_config(config: Sam3Config):
    """transformers' ``CLIPTextConfig`` for our text configuration (as ``Sam3Config`` sets it)."""
    pytest.importorskip("transformers")
    from transformers import CLIPTextConfig

    t = config.text
    cfg = CLIPTextConfig(
        vocab_size=t.vocab_size,
        hidden_size=t.width,
        intermediate_size=t.mlp_dim,
        projection_dim=t.output_dim,
        num_hidden_layers=t.layers,
        num_attention_heads=t.heads,
        max_position_embeddings=t.context_length,
        hidden_act="gelu",
        layer_norm_eps=t.layer_norm_eps,
    )
    cfg._attn_implementation = "eager"
    return cfg


@torch.no_grad()
def copy_from_hf(
    ours: torch.nn.Module,
    our_prefix: str,
    hf_state: dict[str, torch.Tensor],
    hf_prefix: str,
    layout: str = "image",
) -> set[str]:
    """Fill ``ours`` (whose keys sit under ``our_prefix`` in the full model) from a
    transformers state dict whose keys lack ``hf_prefix``; returns the transformers keys used.

    Every one of our parameters must be found (strict load).
    """
    state, used = {}, set()
    for key in ours.state_dict():
        src = hf_source(our_prefix + key, layout)
        names = []
        for k in src.keys:
            assert k.startswith(hf_prefix), (k, hf_prefix)
            names.append(k[len(hf_prefix) :])
        used.update(names)
        state[key] = assemble(HfSource(src.kind, tuple(names), src.index), hf_state)
    ours.load_state_dict(state, strict=True)
    return used


def clip_vocabulary() -> Path:
    """CLIP's ``bpe_simple_vocab_16e6.txt.gz`` from an installed ``open_clip`` (not imported:
    it needs torchvision); skip when it is not installed.

    The test command installs it with ``pip install --no-deps open-clip-torch``.
    """
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("CLIP vocabulary not installed (pip install --no-deps open-clip-torch)")
    path = Path(list(spec.submodule_search_locations)[0]) / "bpe_simple_vocab_16e6.txt.gz"
    if not path.is_file():
        pytest.skip(f"open_clip has no {path.name}")
    return path
