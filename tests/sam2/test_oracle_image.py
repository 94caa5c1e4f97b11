"""Oracle: our image encoder and image predictor against the official ``sam2`` package.

Both models hold the same strengthened random weights (see ``conftest.strengthen``), so every
figure below is produced by the same code path a real checkpoint takes. All eight variants run
at 256 px; ``sam2.1-tiny`` also runs at the full 1024 px. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from sam2_oracle import (
    FEATURE_REL_TOL,
    IOU_MIN,
    SAME_SIGN_MIN,
    agrees,
    carries_signal,
    feature_agreement,
    mask_agreement,
    official_image_predictor,
    reef_image,
)

from ecoseg.sam2 import ImagePredictor
from ecoseg.sam2.variants import VARIANTS

pytestmark = pytest.mark.oracle

PROMPTS = {
    "point": dict(points=[[120.0, 90.0]], labels=[1]),
    "box": dict(box=[60.0, 40.0, 200.0, 150.0]),
    "point+box": dict(points=[[120.0, 90.0], [70.0, 60.0]], labels=[1, 0], box=[60, 40, 200, 150]),
}


def _official_kwargs(prompt: dict) -> dict:
    return dict(
        point_coords=np.asarray(prompt["points"], np.float32) if "points" in prompt else None,
        point_labels=np.asarray(prompt["labels"]) if "labels" in prompt else None,
        box=np.asarray(prompt["box"], np.float32) if "box" in prompt else None,
    )


@pytest.fixture(scope="module", params=list(VARIANTS))
def pair(request, oracle_pair):
    return oracle_pair(request.param)


def _set_image_capturing_features(pair, image):
    """Both predictors with ``image`` set, and the raw image-encoder outputs of that pass."""
    captured = {}

    def keep(name, convert):
        def hook(module, args, output):
            captured[name] = convert(output)

        return hook

    hooks = [
        pair.official.image_encoder.register_forward_hook(
            keep(
                "official",
                lambda o: {
                    k: [t.clone() for t in o[k]] for k in ("backbone_fpn", "vision_pos_enc")
                },
            )
        ),
        pair.ours.image_encoder.register_forward_hook(
            keep(
                "ours",
                lambda o: {
                    "backbone_fpn": list(o.backbone_fpn),
                    "vision_pos_enc": list(o.vision_pos_enc),
                },
            )
        ),
    ]
    try:
        official = official_image_predictor(pair.official)
        official.set_image(image)
        ours = ImagePredictor(pair.ours)
        ours.set_image(image)
    finally:
        for h in hooks:
            h.remove()
    return official, ours, captured


def _encoder_figures(official, ours, captured) -> dict:
    """Relative max abs differences of every encoder output the decoder or memory uses."""
    fig = {}
    ref, got = captured["official"], captured["ours"]
    for kind in ("backbone_fpn", "vision_pos_enc"):
        for i, (a, b) in enumerate(zip(ref[kind], got[kind])):
            fig[f"{kind}[{i}]"] = feature_agreement(a, b)
    # what the predictor keeps: conv_s0/conv_s1 projections and stride 16 + no_mem_embed
    for i, (a, b) in enumerate(zip(official._features["high_res_feats"], ours.high_res_features)):
        fig[f"high_res[{i}]"] = feature_agreement(a, b)
    fig["image_embed"] = feature_agreement(official._features["image_embed"], ours.image_embedding)
    return fig


@pytest.fixture(scope="module")
def predictors(pair):
    return _set_image_capturing_features(pair, reef_image())


def test_state_dict_matches_official(pair):
    ours = {k: tuple(v.shape) for k, v in pair.ours.state_dict().items()}
    ref = {k: tuple(v.shape) for k, v in pair.official.state_dict().items()}
    assert ours == ref


def test_image_encoder_matches(pair, predictors):
    official, ours, captured = predictors
    fig = _encoder_figures(official, ours, captured)
    assert len(fig) == 3 + 3 + 2 + 1
    print(json.dumps({"variant": pair.variant.name, "size": 256, "encoder": fig}))
    assert max(fig.values()) <= FEATURE_REL_TOL, fig


@pytest.mark.parametrize("multimask", [True, False], ids=["multi", "single"])
@pytest.mark.parametrize("prompt", list(PROMPTS))
def test_predictor_matches(pair, predictors, prompt, multimask):
    official, ours, _ = predictors
    kw = PROMPTS[prompt]
    m_ref, iou_ref, low_ref = official.predict(
        **_official_kwargs(kw), multimask_output=multimask, return_logits=True
    )
    m, iou, low = ours.predict(**kw, multimask_output=multimask, return_logits=True)
    stats = mask_agreement(m_ref, m)
    low_stats = mask_agreement(low_ref, low)
    print(
        json.dumps(
            {"variant": pair.variant.name, "prompt": prompt, "multimask": multimask, **stats}
        )
    )
    assert m.shape == m_ref.shape == ((3 if multimask else 1), 180, 240)
    assert agrees(stats), stats
    assert agrees(low_stats), low_stats
    # the figures mean something: logits far from zero, no empty or full mask
    assert carries_signal(stats), stats
    np.testing.assert_allclose(iou, iou_ref, atol=1e-4)
    # boolean masks are the thresholded logits of the same call
    masks, _, _ = ours.predict(**kw, multimask_output=multimask)
    assert masks.dtype == bool and np.array_equal(masks, m > 0)


def test_predictor_batched_boxes_and_mask_input_match(pair, predictors):
    official, ours, _ = predictors
    boxes = np.array([[60, 40, 200, 150], [10, 10, 90, 120]], np.float32)
    m_ref, iou_ref, _ = official.predict(box=boxes, multimask_output=False, return_logits=True)
    m, iou, _ = ours.predict(box=boxes, multimask_output=False, return_logits=True)
    assert m.shape == m_ref.shape == (2, 1, 180, 240)
    stats = mask_agreement(m_ref, m)
    assert agrees(stats) and carries_signal(stats), stats
    np.testing.assert_allclose(iou, iou_ref, atol=1e-4)
    # refinement with the previous low-res logits as mask input
    _, _, low_ref = official.predict(**_official_kwargs(PROMPTS["point"]), multimask_output=False)
    _, _, low = ours.predict(**PROMPTS["point"], multimask_output=False)
    m_ref, _, _ = official.predict(
        **_official_kwargs(PROMPTS["point"]),
        mask_input=low_ref,
        multimask_output=False,
        return_logits=True,
    )
    m, _, _ = ours.predict(
        **PROMPTS["point"], mask_input=low, multimask_output=False, return_logits=True
    )
    stats = mask_agreement(m_ref, m)
    assert agrees(stats) and carries_signal(stats), stats


def test_full_size_tiny_matches(oracle_pair):
    """sam2.1-tiny at the full 1024 px input."""
    pair = oracle_pair("sam2.1-tiny", 1024)
    official, ours, captured = _set_image_capturing_features(pair, reef_image(300, 400, seed=1))
    fig = _encoder_figures(official, ours, captured)
    print(json.dumps({"variant": "sam2.1-tiny", "size": 1024, "encoder": fig}))
    assert max(fig.values()) <= FEATURE_REL_TOL, fig
    scaled = {
        "point": dict(points=[[200.0, 150.0]], labels=[1]),
        "box": dict(box=[100.0, 70.0, 330.0, 250.0]),
        "point+box": dict(points=[[200.0, 150.0]], labels=[1], box=[100, 70, 330, 250]),
    }
    for name, kw in scaled.items():
        m_ref, iou_ref, _ = official.predict(**_official_kwargs(kw), return_logits=True)
        m, iou, _ = ours.predict(**kw, return_logits=True)
        stats = mask_agreement(m_ref, m)
        print(json.dumps({"variant": "sam2.1-tiny", "size": 1024, "prompt": name, **stats}))
        assert agrees(stats) and carries_signal(stats), (name, stats)
        np.testing.assert_allclose(iou, iou_ref, atol=1e-4)


def test_oracle_can_fail(oracle_pair):
    """A 1e-2 perturbation of one decoder layer must break the agreement."""
    pair = oracle_pair("sam2.1-tiny")
    image = reef_image()
    official = official_image_predictor(pair.official)
    official.set_image(image)
    broken = copy.deepcopy(pair.ours)
    layer = broken.sam_mask_decoder.transformer.layers[1].mlp.layers[0]
    with torch.no_grad():
        layer.weight.add_(
            1e-2 * torch.randn(layer.weight.shape, generator=torch.Generator().manual_seed(0))
        )
    ours = ImagePredictor(broken)
    ours.set_image(image)
    failures = 0
    for kw in PROMPTS.values():
        m_ref, _, _ = official.predict(**_official_kwargs(kw), return_logits=True)
        m, _, _ = ours.predict(**kw, return_logits=True)
        stats = mask_agreement(m_ref, m)
        print(json.dumps({"perturbed": True, **stats}))
        # not just the logit tolerance: the thresholded masks themselves differ
        failures += stats["iou"] < IOU_MIN or stats["same_sign"] < SAME_SIGN_MIN
    assert failures == len(PROMPTS)


# tolerances on CUDA: fp32 as on the CPU (TF32 convolutions in both models allow 1e-3 on the
# features); bf16 autocast in both models, compared mask for mask
_CUDA_TOL = {
    "fp32": dict(features=1e-3, iou=IOU_MIN, same_sign=SAME_SIGN_MIN),
    "bf16": dict(features=5e-2, iou=0.98, same_sign=0.99),
}


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", list(_CUDA_TOL))
def test_cuda_matches(oracle_pair, precision):
    """Both models on the GPU, in fp32 and under bf16 autocast."""
    pair = oracle_pair("sam2.1-tiny")
    gpu_pair = type(pair)(
        copy.deepcopy(pair.official).cuda(), copy.deepcopy(pair.ours).cuda(), pair.variant, None
    )
    tol = _CUDA_TOL[precision]
    # the run's facts in every line (benchmarks/results/cuda_oracle-<gpu>.jsonl keeps them)
    run = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    run |= {"cuda_version": torch.version.cuda, "variant": "sam2.1-tiny", "cuda": precision}
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    with torch.autocast("cuda", dtype=dtype, enabled=precision == "bf16"):
        official, ours, captured = _set_image_capturing_features(gpu_pair, reef_image())
        fig = _encoder_figures(official, ours, captured)
        print(json.dumps({**run, "encoder": fig}))
        assert max(fig.values()) <= tol["features"], fig
        for name, kw in PROMPTS.items():
            m_ref, _, _ = official.predict(**_official_kwargs(kw), return_logits=True)
            m, _, _ = ours.predict(**kw, return_logits=True)
            stats = mask_agreement(m_ref, m)
            print(json.dumps({**run, "prompt": name, **stats}))
            assert stats["iou"] >= tol["iou"] and stats["same_sign"] >= tol["same_sign"], stats
