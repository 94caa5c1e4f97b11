"""Checkpoint reading/loading on files the tests write (offline)."""

from __future__ import annotations

import pathlib

import pytest
import torch

from ecoseg import sam2
from ecoseg.errors import CheckpointError
from ecoseg.sam2.checkpoint import (
    guess_variant,
    load_checkpoint,
    read_state_dict,
    save_safetensors,
    variant_signature,
)
from ecoseg.sam2.variants import VARIANTS


def _model(name="sam2.1-tiny", seed=0):
    torch.manual_seed(seed)
    return sam2.build(name, pretrained=False, image_size=64, device="cpu")


@pytest.fixture(scope="module")
def source():
    return _model(seed=1)


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("layout", ["wrapped", "bare"])
def test_pt_round_trip(tmp_path, source, layout):
    sd = source.state_dict()
    path = tmp_path / "w.pt"
    torch.save({"model": sd} if layout == "wrapped" else sd, path)
    target = _model(seed=2)
    assert not _same(source, target)
    assert load_checkpoint(target, path) is target
    assert _same(source, target)


def test_safetensors_round_trip(tmp_path, source):
    path = save_safetensors(source, tmp_path / "sub" / "w.safetensors")
    assert path.is_file()
    target = _model(seed=3)
    load_checkpoint(target, path)
    assert _same(source, target)
    # an official-style .pt converts to safetensors through read_state_dict
    torch.save({"model": source.state_dict()}, tmp_path / "w.pt")
    converted = save_safetensors(read_state_dict(tmp_path / "w.pt"), tmp_path / "c.safetensors")
    assert read_state_dict(converted).keys() == source.state_dict().keys()


def test_build_with_checkpoint(tmp_path, source):
    path = tmp_path / "w.pt"
    torch.save({"model": source.state_dict()}, path)
    model = sam2.build("sam2.1-tiny", checkpoint=path, image_size=64, device="cpu")
    assert _same(source, model) and not model.training


def test_strict_mismatch_names_keys_and_counts(tmp_path, source):
    sd = dict(source.state_dict())
    for k in ("no_mem_embed", "sam_mask_decoder.iou_token.weight", "obj_ptr_proj.layers.0.bias"):
        del sd[k]
    sd["extra.weight"] = torch.zeros(3)
    sd["image_encoder.trunk.pos_embed"] = torch.zeros(1, 96, 5, 5)
    path = tmp_path / "bad.pt"
    torch.save({"model": sd}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(_model(), path)
    msg = str(err.value)
    assert "3 missing keys" in msg and "no_mem_embed" in msg and "iou_token" in msg
    assert "1 unexpected keys (extra.weight)" in msg
    assert "1 shape mismatches" in msg and "(1, 96, 5, 5) vs (1, 96, 7, 7)" in msg
    assert str(path) in msg and "\n" not in msg


def test_mismatch_lists_at_most_five(tmp_path, source):
    sd = {k: v for k, v in source.state_dict().items() if "trunk.blocks" not in k}
    torch.save(sd, tmp_path / "w.pt")
    with pytest.raises(CheckpointError, match=r"missing keys \(.*\+\d+ more\)"):
        load_checkpoint(_model(), tmp_path / "w.pt")


def test_names_the_likely_variant(tmp_path):
    """A SAM 2.0 file loaded into a 2.1 model: the error says which variant it is."""
    old = _model("sam2-tiny")
    torch.save({"model": old.state_dict()}, tmp_path / "sam2_hiera_tiny.pt")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(_model("sam2.1-tiny"), tmp_path / "sam2_hiera_tiny.pt")
    msg = str(err.value)
    assert "looks like a sam2-tiny checkpoint" in msg
    assert "obj_ptr_tpos_proj.weight" in msg and "no_obj_embed_spatial" in msg


def test_guess_variant_for_every_signature():
    for name in VARIANTS:
        sd = {k: torch.empty(s, device="meta") for k, s in variant_signature(name).items()}
        assert guess_variant(sd) == (name, 1.0)
    assert guess_variant({"foo": torch.zeros(1)}) == (None, 0.0)


def test_signature_matches_a_built_model(source):
    assert variant_signature("sam2.1-tiny") == {
        k: tuple(v.shape) for k, v in source.state_dict().items()
    }


class _Payload:
    """Unpickling this would create a marker file (a stand-in for arbitrary code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_malicious_pickle_is_refused(tmp_path, source):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": source.state_dict(), "extra": _Payload(marker)}, path)
    with pytest.raises(CheckpointError, match="not a plain-weights checkpoint") as err:
        load_checkpoint(_model(), path)
    assert not marker.exists()
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04broken"])
def test_corrupt_files(tmp_path, content):
    for suffix in (".pt", ".safetensors"):
        path = tmp_path / f"x{suffix}"
        path.write_bytes(content)
        with pytest.raises(CheckpointError, match=str(path).replace("\\", "\\\\")):
            read_state_dict(path)


def test_missing_and_non_tensor_content(tmp_path):
    # was 'checkpoint file not found: PATH' (the path last), and so for a folder that exists
    with pytest.raises(CheckpointError, match=r"nope\.pt: checkpoint file not found$"):
        read_state_dict(tmp_path / "nope.pt")
    (tmp_path / "weights").mkdir()
    with pytest.raises(CheckpointError, match=r"weights: is a folder, not a checkpoint file$"):
        read_state_dict(tmp_path / "weights")
    torch.save({"model": {"a": 1}}, tmp_path / "ints.pt")
    with pytest.raises(CheckpointError, match="not tensors"):
        read_state_dict(tmp_path / "ints.pt")
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="no state dict"):
        read_state_dict(tmp_path / "list.pt")
