"""The assembled SAM 3 model: shared SAM 2 tracker components, features, build()."""

from __future__ import annotations

import pytest
import torch

from ecoseg import sam3
from ecoseg.errors import CheckpointError, ConfigError
from ecoseg.sam2.checkpoint import save_safetensors
from ecoseg.sam2.mask_decoder import MaskDecoder
from ecoseg.sam2.memory import MemoryAttention, MemoryEncoder
from ecoseg.sam2.model import SAM2Model
from ecoseg.sam2.prompt_encoder import PromptEncoder


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return sam3.build("sam3-reduced", pretrained=False, device="cpu")


def test_tracker_is_sam2s_components_not_a_copy(model):
    trk = model.tracker
    assert type(trk) is SAM2Model and trk.image_encoder is None
    assert type(trk.sam_prompt_encoder) is PromptEncoder
    assert type(trk.sam_mask_decoder) is MaskDecoder
    assert type(trk.memory_attention) is MemoryAttention
    assert type(trk.memory_encoder) is MemoryEncoder
    with pytest.raises(ValueError, match="no image encoder"):
        trk.encode_image(torch.zeros(1, 3, 336, 336))


@torch.no_grad()
def test_features_for_detector_and_tracker(model):
    f = model.encode_image(torch.randn(2, 3, 336, 336))
    assert [tuple(x.shape) for x in f.fpn] == [(2, 256, s, s) for s in (96, 48, 24, 12)]
    assert [tuple(x.shape) for x in f.pos] == [(2, 256, s, s) for s in (96, 48, 24, 12)]
    t = model.tracker_features(f)
    assert tuple(t.features.shape) == (2, 256, 24, 24)
    assert [tuple(h.shape) for h in t.high_res] == [(2, 32, 96, 96), (2, 64, 48, 48)]
    # the two pyramids have their own weights
    assert not torch.allclose(f.fpn[2], f.tracker_fpn[2])
    no_tracker = model.encode_image(torch.randn(1, 3, 336, 336), tracker=False)
    assert no_tracker.tracker_fpn is None
    with pytest.raises(ValueError, match="no tracker pyramid"):
        model.tracker_features(no_tracker)


@torch.no_grad()
def test_text_features(model):
    ids = torch.zeros(3, 32, dtype=torch.long)
    ids[:, :4] = torch.tensor([49406, 320, 1125, 49407])
    out = model.encode_text(ids)
    assert tuple(out.features.shape) == (3, 32, 256) and out.mask.sum().item() == 12


def test_build_records_the_checkpoint_and_its_sha256(model, tmp_path):
    import hashlib

    path = save_safetensors(model, tmp_path / "ours.safetensors")
    again = sam3.build("sam3-reduced", path, device="cpu")
    info = again.checkpoint_info
    assert info["format"] == "ecoseg" and info["path"] == str(path)
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    a, b = model.state_dict(), again.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not again.training


def test_build_finds_the_vocabulary_next_to_the_checkpoint(model, tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "empty-cache"))
    path = save_safetensors(model, tmp_path / "ours.safetensors")
    assert sam3.build("sam3-reduced", path, device="cpu").tokenizer is None
    symbols = [chr(c) for c in range(33, 127)]
    vocab = {t: i for i, t in enumerate(["<|startoftext|>", "<|endoftext|>", *symbols])}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    found = sam3.build("sam3-reduced", path, device="cpu").tokenizer
    assert found is not None and found.start_id == 0 and found.end_id == 1


def test_build_rejects_a_file_for_another_size(model, tmp_path):
    path = save_safetensors(model, tmp_path / "reduced.safetensors")
    with pytest.raises(CheckpointError, match="shape mismatches"):
        sam3.build("sam3-reduced", path, image_size=336, device="cpu", config=_wider())


def _wider():
    import dataclasses

    c = sam3.get_config("sam3-reduced")
    return dataclasses.replace(c, text=dataclasses.replace(c.text, width=128, heads=2))


def test_build_validates_before_heavy_work():
    with pytest.raises(ConfigError, match="unknown SAM 3 model"):
        sam3.build("sam2.1-tiny", pretrained=False)
    with pytest.raises(ConfigError, match="multiple of 14"):
        sam3.build("sam3-reduced", pretrained=False, image_size=351)


def test_import_is_lazy():
    import subprocess
    import sys

    code = "import sys, ecoseg.sam3; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
