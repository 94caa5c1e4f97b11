"""Tests of ecoseg.sam2.automatic: the automatic mask generator.

The oracle is the official ``sam2.automatic_mask_generator.SAM2AutomaticMaskGenerator`` on the
same strengthened random weights (``oracle_pair``). Tolerances (observed: identical masks and
scores to float32 precision): the same number of masks in the same order, each mask's IoU with
its official counterpart >= 0.99, predicted IoU within 1e-4, stability score within 1e-3,
boxes within 1 px, areas within 1 %.

When torchvision (not a dependency) is missing, the official generator's ``batched_nms`` and
``box_area`` come from a stand-in written here from torchvision's documented semantics (greedy
NMS in score order, suppressing IoU strictly above the threshold, area ``(x1-x0)*(y1-y0)``),
independently of :func:`ecoseg.sam2.automatic.box_nms`.
"""

from __future__ import annotations

import copy
import importlib
import sys
import types
import warnings

import numpy as np
import pytest
import torch

from ecoseg.errors import ConfigError
from ecoseg.sam2.automatic import (
    AutomaticMaskGenerator,
    box_iou,
    box_nms,
    masks_to_boxes,
    point_grid,
    stability_score,
)

# relaxed settings: on random weights predicted IoUs are ~0.50-0.55 and stability ~0.9-0.99,
# so these keep about a third of the 192 candidates of an 8x8 grid
ORACLE_SETTINGS = dict(
    points_per_side=8,
    points_per_batch=32,
    pred_iou_thresh=0.52,
    stability_score_thresh=0.95,
    stability_score_offset=1.0,
)


# --------------------------------------------------------------------------- reference NMS
def _reference_nms(boxes: torch.Tensor, scores: torch.Tensor, thr: float) -> torch.Tensor:
    """Greedy NMS, one pair at a time in float64 (torchvision's documented semantics)."""
    b = boxes.double().tolist()
    order = sorted(range(len(b)), key=lambda i: -float(scores[i]))
    keep: list[int] = []
    for i in order:
        suppressed = False
        for j in keep:
            iw = max(0.0, min(b[i][2], b[j][2]) - max(b[i][0], b[j][0]))
            ih = max(0.0, min(b[i][3], b[j][3]) - max(b[i][1], b[j][1]))
            inter = iw * ih
            area_i = (b[i][2] - b[i][0]) * (b[i][3] - b[i][1])
            area_j = (b[j][2] - b[j][0]) * (b[j][3] - b[j][1])
            union = area_i + area_j - inter
            if union > 0 and inter / union > thr:
                suppressed = True
                break
        if not suppressed:
            keep.append(i)
    return torch.tensor(keep, dtype=torch.int64)


def _torchvision_ops_stand_in() -> dict[str, types.ModuleType]:
    def batched_nms(boxes, scores, idxs, iou_threshold):
        assert bool((idxs == idxs[0]).all()), "stand-in supports one category"
        return _reference_nms(boxes, scores, iou_threshold)

    def box_area(boxes):
        return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])

    tv = types.ModuleType("torchvision")
    ops = types.ModuleType("torchvision.ops")
    boxes = types.ModuleType("torchvision.ops.boxes")
    boxes.batched_nms, boxes.box_area = batched_nms, box_area
    ops.boxes, tv.ops = boxes, ops
    return {"torchvision": tv, "torchvision.ops": ops, "torchvision.ops.boxes": boxes}


@pytest.fixture(scope="module")
def official_generator_class(oracle):
    pytest.importorskip("sam2")
    name = "sam2.automatic_mask_generator"
    if name in sys.modules:
        return sys.modules[name].SAM2AutomaticMaskGenerator
    oracle._official_predictor_class()  # loads the image predictor (torchvision or stand-in)
    try:
        return importlib.import_module(name).SAM2AutomaticMaskGenerator
    except ImportError:
        pass
    stand_in = _torchvision_ops_stand_in()
    saved = {k: sys.modules.get(k) for k in stand_in}
    sys.modules.update(stand_in)
    try:
        return importlib.import_module(name).SAM2AutomaticMaskGenerator
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def _official(cls, model, **settings):
    with warnings.catch_warnings():  # its transforms use the deprecated torch.jit.script
        warnings.simplefilter("ignore", DeprecationWarning)
        gen = cls(model, **settings)
    s = model.image_size
    gen.predictor._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
    return gen


def _compare(official: list[dict], ours: list[dict]) -> dict:
    """Worst-case agreement of two lists of mask records (official layout)."""
    stats = {"n_official": len(official), "n_ours": len(ours)}
    if len(official) != len(ours) or not official:
        return stats
    ious, d_iou, d_stab, d_box, d_area = [], [], [], [], []
    for a, b in zip(official, ours):
        m1, m2 = a["segmentation"], b["segmentation"]
        union = (m1 | m2).sum()
        ious.append((m1 & m2).sum() / union if union else 1.0)
        d_iou.append(abs(a["predicted_iou"] - b["predicted_iou"]))
        d_stab.append(abs(a["stability_score"] - b["stability_score"]))
        d_box.append(np.abs(np.subtract(a["bbox"], b["bbox"])).max())
        d_area.append(abs(a["area"] - b["area"]) / max(a["area"], 1))
    stats.update(
        iou=float(min(ious)),
        predicted_iou=float(max(d_iou)),
        stability=float(max(d_stab)),
        box=float(max(d_box)),
        area=float(max(d_area)),
    )
    return stats


def _agrees(stats: dict) -> bool:
    return (
        stats["n_official"] == stats["n_ours"] > 0
        and stats["iou"] >= 0.99
        and stats["predicted_iou"] <= 1e-4
        and stats["stability"] <= 1e-3
        and stats["box"] <= 1.0
        and stats["area"] <= 0.01
    )


# --------------------------------------------------------------------------- oracle tests
@pytest.mark.oracle
@pytest.mark.parametrize("nms", [1.0, 0.7])
def test_matches_official_generator(oracle_pair, oracle, official_generator_class, nms):
    pair = oracle_pair("sam2.1-tiny")
    image = oracle.reef_image(120, 160)
    settings = dict(ORACLE_SETTINGS, box_nms_thresh=nms)
    official = _official(official_generator_class, pair.official, **settings).generate(image)
    ours = AutomaticMaskGenerator(pair.ours, **settings).generate(image)
    stats = _compare(official, ours.to_records())
    assert _agrees(stats), stats
    # the filters did filter (and kept something), so they were compared too
    assert 0 < len(ours) < 3 * 64
    # official records carry the grid point that made each mask
    got = np.array([r["point_coords"][0] for r in ours.to_records()])
    want = np.array([r["point_coords"][0] for r in official])
    np.testing.assert_allclose(got, want, atol=1e-3)


@pytest.mark.oracle
def test_oracle_comparison_detects_perturbed_weights(oracle_pair, oracle, official_generator_class):
    pair = oracle_pair("sam2.1-tiny")
    image = oracle.reef_image(120, 160)
    settings = dict(ORACLE_SETTINGS, box_nms_thresh=1.0)
    official = _official(official_generator_class, pair.official, **settings).generate(image)
    perturbed = copy.deepcopy(pair.ours)
    with torch.no_grad():
        w = perturbed.sam_mask_decoder.iou_prediction_head.layers[0].weight
        w.add_(torch.randn(w.shape, generator=torch.Generator().manual_seed(1)) * 0.05)
    ours = AutomaticMaskGenerator(perturbed, **settings).generate(image)
    stats = _compare(official, ours.to_records())
    assert not _agrees(stats), stats


@pytest.mark.oracle
def test_point_grid_matches_official():
    amg = pytest.importorskip("sam2.utils.amg")
    for n in (1, 4, 7):
        np.testing.assert_array_equal(point_grid(n), amg.build_point_grid(n))


# --------------------------------------------------------------------------- helpers
def test_stability_score_counts_pixels():
    logits = torch.tensor([[[3.0, 0.5, -0.5], [-3.0, 2.0, 0.9]]])
    # > 1: {3, 2}; > -1: {3, 0.5, -0.5, 2, 0.9}
    assert float(stability_score(logits, 0.0, 1.0)[0]) == pytest.approx(2 / 5)
    assert torch.isnan(stability_score(torch.full((1, 2, 2), -5.0)))[0]


def test_masks_to_boxes_matches_brute_force():
    rng = np.random.default_rng(0)
    masks = rng.random((20, 13, 17)) > 0.97
    masks[3] = False
    boxes = masks_to_boxes(torch.from_numpy(masks)).numpy()
    for m, b in zip(masks, boxes):
        if not m.any():
            assert b.tolist() == [0, 0, 0, 0]
            continue
        ys, xs = np.nonzero(m)
        assert b.tolist() == [xs.min(), ys.min(), xs.max(), ys.max()]


def test_box_nms_matches_reference_greedy_nms():
    g = torch.Generator().manual_seed(0)
    for thr in (0.0, 0.3, 0.7, 1.0):
        xy = torch.rand(60, 2, generator=g) * 50
        wh = torch.rand(60, 2, generator=g) * 30
        boxes = torch.cat([xy, xy + wh], 1).round()
        boxes[5] = boxes[4]  # exact duplicates and a degenerate box
        boxes[7, 2] = boxes[7, 0]
        scores = torch.rand(60, generator=g)
        got = box_nms(boxes, scores, thr)
        assert got.tolist() == _reference_nms(boxes, scores, thr).tolist()


def test_box_iou_of_identical_and_disjoint_boxes():
    a = torch.tensor([[0.0, 0, 4, 4], [10, 10, 12, 12]])
    iou = box_iou(a, a)
    assert iou[0, 0] == 1 and iou[0, 1] == 0


# --------------------------------------------------------------------------- our generator
@pytest.fixture(scope="module")
def small_model():
    from ecoseg import sam2

    torch.manual_seed(0)
    return sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu").eval()


def test_area_limits_and_nms_are_applied(small_model):
    image = np.zeros((40, 60, 3), np.uint8)
    base = dict(points_per_side=4, pred_iou_thresh=0.0, stability_score_thresh=0.0)
    everything = AutomaticMaskGenerator(small_model, box_nms_thresh=1.0, **base).generate(image)
    assert len(everything) > 1
    assert (everything.areas > 0).all()
    assert (np.diff(everything.predicted_iou) <= 0).all()  # best first
    np.testing.assert_array_equal(everything.areas, everything.masks.sum((1, 2)))
    lo, hi = np.percentile(everything.areas, [30, 70])
    limited = AutomaticMaskGenerator(
        small_model, box_nms_thresh=1.0, min_area=lo, max_area=hi, **base
    ).generate(image)
    assert 0 < len(limited) < len(everything)
    assert ((limited.areas >= lo) & (limited.areas <= hi)).all()
    suppressed = AutomaticMaskGenerator(small_model, box_nms_thresh=0.0, **base).generate(image)
    # with threshold 0 no two kept boxes overlap at all
    iou = box_iou(torch.from_numpy(suppressed.boxes), torch.from_numpy(suppressed.boxes))
    assert (iou.fill_diagonal_(0) == 0).all()
    assert len(suppressed) < len(everything)


def test_generate_from_features_equals_generate_on_same_embedding(small_model):
    from ecoseg.sam2.predictor import preprocess_image

    image = np.random.default_rng(1).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    gen = AutomaticMaskGenerator(
        small_model, points_per_side=4, pred_iou_thresh=0.0, stability_score_thresh=0.0
    )
    with torch.no_grad():
        feats = small_model.encode_image(preprocess_image(image, 64))
    a = gen.generate(image)
    b = gen.generate_from_features(feats, (48, 64))
    assert len(a) == len(b) > 0  # (two empty results were equal too)
    np.testing.assert_array_equal(a.masks, b.masks)
    np.testing.assert_allclose(a.predicted_iou, b.predicted_iou, atol=1e-6)


def test_bad_settings_raise_config_error(small_model):
    with pytest.raises(ConfigError, match="points_per_side"):
        AutomaticMaskGenerator(small_model, points_per_side=0)
    with pytest.raises(ConfigError, match="pred_iou_thresh"):
        AutomaticMaskGenerator(small_model, pred_iou_thresh=1.5)
    with pytest.raises(ConfigError, match="max_area"):
        AutomaticMaskGenerator(small_model, min_area=10, max_area=5)
