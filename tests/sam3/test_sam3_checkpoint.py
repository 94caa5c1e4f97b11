"""Checkpoint layouts: every key and shape of Meta's ``sam3.pt`` and of the transformers format
maps onto our full-size model and back; strict loading of real tensors in each layout."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import backbone_oracle as oracle
import pytest
import torch

from ecoseg.errors import CheckpointError
from ecoseg.sam2.checkpoint import save_safetensors
from ecoseg.sam3.checkpoint import (
    assemble,
    convert_state_dict,
    expected_shapes,
    load_checkpoint,
    model_signature,
)
from ecoseg.sam3.config import get_config
from ecoseg.sam3.keymap import (
    HF_ALIASES,
    HF_MISSING,
    META_ONLY,
    hf_source,
    meta_slice,
    meta_to_ours,
    ours_to_meta,
)
from ecoseg.sam3.model import SAM3Model

META_KEYS = Path(__file__).parent / "data" / "meta_sam3_keys.json.gz"


@pytest.fixture(scope="module")
def ours_full():
    return model_signature(get_config("sam3"))


@pytest.fixture(scope="module")
def meta_full():
    """Meta's keys, shapes, dtypes (made by data/make_meta_sam3_keys.py from Meta's code)."""
    with gzip.open(META_KEYS, "rt") as f:
        return {k: (tuple(shape), dtype) for k, (shape, dtype) in json.load(f).items()}


def _hf_shape(src, shapes) -> tuple[int, ...]:
    parts = [shapes[k] for k in src.keys]
    if src.kind == "cat":
        return (sum(p[0] for p in parts), *parts[0][1:])
    if src.kind == "transpose":
        return tuple(reversed(parts[0]))
    if src.kind == "row":
        return (1, *parts[0][1:])
    return parts[0]


def _hf_full_signature(video: bool) -> dict[str, tuple[int, ...]]:
    oracle.transformers_sam3()
    if video:
        from transformers import Sam3VideoConfig, Sam3VideoModel

        with torch.device("meta"):
            model = Sam3VideoModel(Sam3VideoConfig())
    else:
        from transformers import Sam3Config, Sam3Model

        with torch.device("meta"):
            model = Sam3Model(Sam3Config())
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_meta_full_size_keys_map_onto_ours_both_directions(ours_full, meta_full):
    vit = get_config("sam3").vision
    # Meta -> ours: every tensor has its place with the same shape (two documented exceptions)
    placed: dict[str, tuple[int, ...]] = {}
    for key, (shape, dtype) in meta_full.items():
        if META_ONLY.match(key):  # RoPE tables, recomputed: check they fit our configuration
            block = int(key.split(".blocks.")[1].split(".")[0])
            side = vit.grid_size if block in vit.global_att_blocks else vit.window_size
            assert (shape, dtype) == ((side * side, vit.head_dim // 2), "complex64"), key
            continue
        ours = meta_to_ours(key)
        if ours == "vision.trunk.pos_embed":
            assert shape[1] == ours_full[ours][1] + 1  # the unused class-token row
            shape = (1, shape[1] - 1, shape[2])
        if ours not in ours_full and ours.endswith(("in_proj_weight", "in_proj_bias")):
            base, kind = ours.rsplit(".in_proj_", 1)
            for p in "qkv":  # stacked q/k/v -> our three projections
                part = f"{base}.{p}_proj.{kind}"
                assert ours_full[part] == (shape[0] // 3, *shape[1:]), part
                placed[part] = ours_full[part]
            continue
        assert ours in ours_full, key
        assert ours_full[ours] == shape, (key, ours_full[ours], shape)
        placed[ours] = shape
    # ours -> Meta: nothing of ours is left without a Meta tensor
    assert set(placed) == set(ours_full)
    for key in ours_full:
        meta = ours_to_meta(key)
        assert meta in meta_full, key
        assert meta_to_ours(meta) == key or meta_slice(key) is not None
    assert len(meta_full) == 1465


def test_transformers_full_size_keys_map_onto_ours_both_directions(ours_full):
    hf = _hf_full_signature(video=True)
    used = set()
    unloaded = []
    for key, shape in ours_full.items():
        try:
            src = hf_source(key, "video")
        except KeyError:
            assert HF_MISSING.match(key), key
            unloaded.append(key)
            continue
        assert all(k in hf for k in src.keys), (key, src.keys)
        assert _hf_shape(src, hf) == shape, (key, src, shape)
        used.update(src.keys)
    leftover = set(hf) - used
    assert leftover == set(HF_ALIASES)  # one duplicated tensor, checked equal at load
    assert hf[next(iter(HF_ALIASES))] == hf[next(iter(HF_ALIASES.values()))]
    # the transformers format has no point-prompt projections: 3 linears, weight + bias
    assert len(unloaded) == 6
    assert len(used) == len(hf) - 1


def test_transformers_image_format_maps_onto_a_detector_only_model():
    import dataclasses

    full = get_config("sam3")
    config = dataclasses.replace(
        full, tracker=None, neck=dataclasses.replace(full.neck, tracker_neck=False)
    )
    ours = model_signature(config)
    hf = _hf_full_signature(video=False)
    used = set()
    for key, shape in ours.items():
        if HF_MISSING.match(key):
            continue
        src = hf_source(key, "image")
        assert _hf_shape(src, hf) == shape, key
        used.update(src.keys)
    assert used == set(hf)


# ------------------------------------------------------------------------------ real tensors
def _reduced_model(seed: int, randomize: bool = True) -> SAM3Model:
    torch.manual_seed(seed)
    model = SAM3Model("sam3-reduced").eval()
    return oracle.randomize_(model, seed) if randomize else model


@pytest.fixture(scope="module")
def reduced():
    """A reduced model with random weights and the same weights in Meta's layout."""
    model = _reduced_model(1)
    return model, _as_meta(model)


def _as_meta(model: SAM3Model) -> dict[str, torch.Tensor]:
    """Our weights laid out as Meta's ``sam3.pt`` (stacked q/k/v, class-token row, RoPE)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in model.state_dict().items():
        meta = ours_to_meta(key)
        third = meta_slice(key)
        if third is not None:
            out.setdefault(meta, [None] * 3)[third] = value
            continue
        if key == "vision.trunk.pos_embed":
            value = torch.cat([torch.full_like(value[:, :1], 7.0), value], dim=1)
        out[meta] = value.clone()
    out = {k: torch.cat(v, 0) if isinstance(v, list) else v for k, v in out.items()}
    vit = model.config.vision
    for i in range(vit.depth):
        side = vit.grid_size if i in vit.global_att_blocks else vit.window_size
        key = f"detector.backbone.vision_backbone.trunk.blocks.{i}.attn.freqs_cis"
        out[key] = torch.ones(side * side, vit.head_dim // 2, dtype=torch.complex64)
    return out


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_meta_layout_loads_strictly(tmp_path, reduced):
    source, meta = reduced
    path = tmp_path / "sam3.pt"
    torch.save({"model": meta}, path)
    target = load_checkpoint(_reduced_model(2, randomize=False), path)
    assert _same_state(source, target)
    assert target.checkpoint_format == "meta" and target.unloaded_parameters == ()


def test_transformers_layout_loads_strictly_and_matches_its_backbone(tmp_path):
    """transformers' own model at the reduced configuration, random weights, saved as its
    safetensors: our loader fills every parameter, and the backbone and text outputs agree."""
    from transformers.models.sam3 import configuration_sam3 as c3
    from transformers.models.sam3_tracker_video import configuration_sam3_tracker_video as ct
    from transformers.models.sam3_video import configuration_sam3_video as cv
    from transformers.models.sam3_video import modeling_sam3_video as mv

    oracle.transformers_sam3()
    cfg = get_config("sam3-reduced")
    d = cfg.detector
    det = c3.Sam3Config(
        vision_config=oracle.hf_vit_config(cfg).to_dict(),
        text_config=oracle.hf_text_config(cfg).to_dict(),
        geometry_encoder_config={
            "num_layers": d.geometry.num_layers,
            "intermediate_size": d.geometry.dim_feedforward,
        },
        detr_encoder_config={
            "num_layers": d.fusion.num_layers,
            "intermediate_size": d.fusion.dim_feedforward,
        },
        detr_decoder_config={
            "num_layers": d.decoder.num_layers,
            "intermediate_size": d.decoder.dim_feedforward,
            "num_queries": d.decoder.num_queries,
        },
    )
    assert d.scoring_dim_feedforward == d.decoder.dim_feedforward  # transformers ties them
    config = cv.Sam3VideoConfig(
        detector_config=det.to_dict(),
        tracker_config=ct.Sam3TrackerVideoConfig(image_size=cfg.image_size).to_dict(),
    )
    hf = oracle.randomize_(mv.Sam3VideoModel(config).eval(), seed=11)
    with torch.no_grad():  # the duplicated tensor holds one value in a real checkpoint
        hf.tracker_model.shared_image_embedding.positional_embedding.copy_(
            hf.tracker_model.prompt_encoder.shared_embedding.positional_embedding
        )
    path = save_safetensors(hf.state_dict(), tmp_path / "model.safetensors")
    ours = load_checkpoint(_reduced_model(3, randomize=False), path)
    assert ours.checkpoint_format == "transformers-video"
    assert len(ours.unloaded_parameters) == 6
    # every tensor arrived: compare against the transformers tensors one by one
    hf_state = hf.state_dict()
    for key, value in ours.state_dict().items():
        if key in ours.unloaded_parameters:
            continue
        assert torch.equal(value, assemble(hf_source(key, "video"), hf_state)), key
    # and the network computes what transformers' computes from them
    images = torch.randn(1, 3, 336, 336, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = hf.detector_model.vision_encoder(pixel_values=images)
        got = ours.encode_image(images)
    for r, g in zip(ref.fpn_hidden_states, got.fpn, strict=True):
        assert oracle.rel_error(r, g) <= oracle.REL_TOL


def test_strict_errors_name_missing_unexpected_and_misshapen_keys(reduced):
    model, meta = reduced
    state = dict(meta)
    del state["detector.backbone.language_backbone.resizer.bias"]
    state["detector.backbone.vision_backbone.trunk.extra_token"] = torch.zeros(3)
    state["tracker.no_mem_embed"] = torch.zeros(1, 1, 128)
    with pytest.raises(CheckpointError) as info:
        convert_state_dict(state, expected_shapes(model), source="checkpoint broken.pt")
    message = str(info.value)
    assert message.startswith("checkpoint broken.pt (meta layout) does not match the model")
    assert "1 missing keys (text.resizer.bias)" in message
    assert "1 unexpected keys (detector.backbone.vision_backbone.trunk.extra_token)" in message
    assert "tracker.no_mem_embed (1, 1, 128) vs (1, 1, 256)" in message
    assert "\n" not in message


def test_rope_tables_of_another_size_are_refused(reduced):
    model, meta = reduced
    state = dict(meta)
    key = "detector.backbone.vision_backbone.trunk.blocks.1.attn.freqs_cis"  # a global block
    state[key] = torch.ones(36 * 36, 32, dtype=torch.complex64)  # made for a 504 px input
    with pytest.raises(CheckpointError, match="RoPE table"):
        convert_state_dict(state, expected_shapes(model))


def test_not_a_sam3_checkpoint(tmp_path):
    path = tmp_path / "sam2.pt"
    torch.save({"model": {"image_encoder.trunk.pos_embed": torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError, match="not a SAM 3 checkpoint"):
        load_checkpoint(_reduced_model(6, randomize=False), path)


def test_unsafe_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {"x": torch.zeros(1)}, "extra": Path("/")}, path)
    with pytest.raises(CheckpointError, match="refused for safety|not a plain-weights"):
        load_checkpoint(_reduced_model(7, randomize=False), path)
