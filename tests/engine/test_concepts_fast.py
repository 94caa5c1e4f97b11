"""``fast`` (bf16) for SAM 3 concept tracking: the network under bf16 autocast, the rules in
float32, recorded in the provenance, resumed only with the same setting; fp32 (bit-identical to
the default) with a ``SlowBf16Warning`` on a CPU without bf16 instructions (reduced network
with random weights: plumbing; the bf16 oracle comparison is in test_concepts_oracle.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from suite_helpers import random_concept_params

pytest.importorskip("torch")

import torch  # noqa: E402

import ecoseg  # noqa: E402
from ecoseg.engine import _runtime, concept_tracker  # noqa: E402
from ecoseg.errors import StoreError  # noqa: E402
from ecoseg.store import MaskStore  # noqa: E402

pytestmark = pytest.mark.slow

# random weights score every query about the same: keep the two best as tracks
PARAMS = random_concept_params(2, hotstart=1)
NET = dict(model="sam3-reduced", image_size=112, pretrained=False, device="cpu", progress=False)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(str(tmp_path_factory.mktemp("clip") / "c"), frames=3, size=(96, 64))


def _segment(clip, out, **kw):
    torch.manual_seed(0)  # random weights: the same network in every run
    return ecoseg.segment(
        clip.video, out=str(out), concepts=["parrotfish"], params=PARAMS, **NET, **kw
    )


def _spy(monkeypatch) -> dict:
    """Lists that get, per network call of concept tracking, whether it ran under bf16
    autocast and the dtype of the network's outputs that the rules decide on."""
    seen = {"autocast": [], "decided": []}

    real_amp = concept_tracker.bf16_autocast

    def amp(enabled, device):
        seen["autocast"].append(bool(enabled))
        return real_amp(enabled, device)

    real_nms = concept_tracker.nms_keep

    def nms(scores, masks, *a):
        seen["decided"] += [scores.dtype, masks.dtype]
        return real_nms(scores, masks, *a)

    real_assoc = concept_tracker.associate

    def assoc(det_masks, det_scores, det_concepts, trk_logits, *a):
        seen["decided"] += [det_masks.dtype, det_scores.dtype, trk_logits.dtype]
        return real_assoc(det_masks, det_scores, det_concepts, trk_logits, *a)

    monkeypatch.setattr(concept_tracker, "bf16_autocast", amp)
    monkeypatch.setattr(concept_tracker, "nms_keep", nms)
    monkeypatch.setattr(concept_tracker, "associate", assoc)
    return seen


@pytest.fixture
def precision(monkeypatch):
    """``precision(has_bf16)`` pretends the CPU has (or lacks) bf16 instructions; the returned
    lists are :func:`_spy`'s."""
    seen = _spy(monkeypatch)

    def set_cpu(has_bf16: bool):
        monkeypatch.setattr(_runtime, "cpu_has_bf16", lambda: has_bf16)
        return seen

    return set_cpu


@pytest.fixture(scope="module")
def exact_run(clip, tmp_path_factory):
    """``(store, autocast)``: the default run (exact fp32; tests only read its store) on a CPU
    said to have bf16 instructions (the default does not ask), and :func:`_spy`'s autocast
    list of it."""
    with pytest.MonkeyPatch.context() as patch:
        seen = _spy(patch)
        patch.setattr(_runtime, "cpu_has_bf16", lambda: True)
        store = _segment(clip, tmp_path_factory.mktemp("exact") / "e.zarr")
    return store, seen["autocast"]


def test_fast_runs_the_network_in_bf16_decides_in_float32_and_is_recorded(
    clip, exact_run, tmp_path, precision
):
    exact, autocast = exact_run
    assert autocast and not any(autocast)  # exact fp32 by default
    seen = precision(True)
    fast = _segment(clip, tmp_path / "f.zarr", fast=True)
    assert seen["autocast"] and all(seen["autocast"])
    assert seen["decided"] and set(seen["decided"]) == {torch.float32}
    store = MaskStore.open(fast)
    assert store.provenance["parameters"]["fast"] is True
    assert "fast" not in MaskStore.open(exact).provenance["parameters"]
    assert store.n_frames == 3 and store.objects
    # bf16 ran: not bit-identical to fp32 (the random network's masks cover the frame alike;
    # its scores differ in bf16 rounding)
    a, b = ecoseg.open_masks(exact), ecoseg.open_masks(fast)
    assert (a.labels.values > 0).any()
    assert not np.array_equal(a.scores.values, b.scores.values, equal_nan=True)
    np.testing.assert_allclose(a.scores.values, b.scores.values, atol=0.05)
    # a store resumes only in the precision that made it
    with pytest.raises(StoreError, match=r"f\.zarr: cannot resume: the parameters differ"):
        _segment(clip, fast, resume=True)
    _segment(clip, fast, resume=True, fast=True)


def test_fast_on_a_cpu_without_bf16_warns_and_runs_exact_fp32(clip, exact_run, tmp_path, precision):
    seen = precision(False)
    exact, _ = exact_run
    with pytest.warns(_runtime.SlowBf16Warning, match="no bf16 instructions"):
        slow = _segment(clip, tmp_path / "s.zarr", fast=True)
    assert seen["autocast"] and not any(seen["autocast"])
    assert (
        MaskStore.open(slow).provenance["parameters"]
        == MaskStore.open(exact).provenance["parameters"]
    )
    assert "fast" not in MaskStore.open(slow).provenance["parameters"]  # fp32 ran
    a, b = ecoseg.open_masks(exact), ecoseg.open_masks(slow)
    assert (a.labels.values > 0).any()
    np.testing.assert_array_equal(a.labels.values, b.labels.values)  # bit-identical
    np.testing.assert_array_equal(a.scores.values, b.scores.values)
    # what was made in fp32 resumes with or without --fast on this CPU
    with pytest.warns(_runtime.SlowBf16Warning):
        _segment(clip, slow, resume=True, fast=True)


def test_cli_fast_with_concepts(clip, tmp_path, precision, capsys):
    from ecoseg.cli import main

    precision(True)
    out = tmp_path / "m.zarr"
    args = ["segment", str(clip.video), "-o", str(out), "--concepts", "parrotfish"]
    args += ["--model", "sam3-reduced", "--random-weights", "--image-size", "112"]
    args += ["--device", "cpu", "--params", json.dumps(PARAMS)]
    torch.manual_seed(0)
    assert main([*args, "--fast"]) == 0
    assert MaskStore.open(out).provenance["parameters"]["fast"] is True
