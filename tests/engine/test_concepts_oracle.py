"""Concept tracking against transformers' ``Sam3VideoModel`` on identical random weights.

Both get the same reduced SAM 3 (transformers' model randomised, edited to detect, loaded into
ours by our strict loader; see ``concepts_oracle.py``), the same short synthetic reef clip, one
text concept plus one exemplar box on frame 0, and the same thresholds. Our run is the whole
streaming engine (:class:`ecoseg.engine.concept_session.ConceptRun`: prefetch, one encoding per
frame, batched tracker, hot-start buffer, label images); the oracle is its own
``propagate_in_video_iterator`` and ``postprocess_outputs``.

Settings given to both so they run the same algorithm (transformers without its optional CUDA
``kernels`` skips NMS and hole filling; its port re-encodes other objects' memories on frames
where objects start and takes the best of three masks' pointer for mask prompts: our settings
``nms_iou=0``, ``fill_hole_area=0``, ``reencode_on_new_objects``, ``mask_prompt_multimask``
select that; ``text_geometry_token=False`` is the port's text-only prompt without the
geometry CLS token, which matters for text-only concepts only). Thresholds are raised on both sides so a handful of the random queries detect.

Shown: the same objects on every frame after matching ids one to one, mask IoU >= 0.99 per
object and frame; and the comparison fails when our association threshold or our weights are
perturbed (negative controls).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("scipy")

import concepts_oracle as co  # noqa: E402

from ecoseg.engine.concept_rules import ConceptSettings  # noqa: E402
from ecoseg.engine.concept_session import ConceptRun  # noqa: E402
from ecoseg.prompts import Concept, Exemplar  # noqa: E402

pytestmark = pytest.mark.slow

FRAMES = 5
TEXT = "parrotfish"
THRESHOLDS = {"score_threshold": 0.75, "new_track_score": 0.8, "recondition_every": 2}
ORACLE_NAMES = {
    "score_threshold": "score_threshold_detection",
    "new_track_score": "new_det_thresh",
    "recondition_every": "recondition_every_nth_frame",
}


def _exemplar_box(seed: int = 3) -> list[float]:
    from ecoseg.synth import make_scene, render

    scene = make_scene(seed=seed, frames=FRAMES, size=(96, 64))
    _, labels = render(scene, 0)
    ids, counts = np.unique(labels[labels > 0], return_counts=True)
    ys, xs = np.nonzero(labels == ids[np.argmax(counts)])
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.set_grad_enabled(False)
    images = co.clip(FRAMES)
    hf = co.build_oracle(edit_frame=co.pixels(images[:1]), text=TEXT)
    ours = co.load_ours(hf, tmp_path_factory.mktemp("w") / "model.safetensors")
    box = _exemplar_box()
    settings = {ORACLE_NAMES[k]: v for k, v in THRESHOLDS.items()}
    settings["fill_hole_area"] = 0
    truth = co.run_oracle(hf, images, TEXT, exemplar=(0, box), settings=settings)
    return images, ours, box, truth


def _ours(model, images, box, thresholds=THRESHOLDS, **changes):
    settings = ConceptSettings(
        fill_hole_area=0,
        nms_iou=0.0,
        reencode_on_new_objects=True,
        mask_prompt_multimask=True,
        text_geometry_token=False,
        **{**thresholds, **changes},
    )
    concept = Concept(TEXT, (Exemplar(0, tuple(box)),))
    run = ConceptRun(model, images, [concept], settings, tokenizer=co.tokenize)
    out = {}
    for r in run.run():
        labels = r.label_image()
        out[r.index] = {int(i): labels == i for i in r.object_ids}
    return out, run.objects


def _compare(ours: dict, truth: dict) -> tuple[bool, str]:
    """Same objects on every frame under one id matching, IoU >= 0.99 each."""
    if sorted(ours) != sorted(truth):
        return False, f"frames {sorted(ours)} vs {sorted(truth)}"
    ids_ours = sorted({i for f in ours.values() for i in f})
    ids_truth = sorted({i for f in truth.values() for i in f})
    if len(ids_ours) != len(ids_truth):
        return False, f"{len(ids_ours)} tracks vs the oracle's {len(ids_truth)}"
    # ids are handed out in the same order (detection order), so match them in order
    match = dict(zip(ids_ours, ids_truth))
    worst = 1.0
    for t in truth:
        if {match[i] for i in ours[t]} != set(truth[t]):
            return False, f"frame {t}: objects {sorted(ours[t])} vs oracle {sorted(truth[t])}"
        for i, m in ours[t].items():
            ref = truth[t][match[i]]
            union = (m | ref).sum()
            iou = (m & ref).sum() / union if union else 1.0  # both empty: the same mask
            worst = min(worst, iou)
            if iou < 0.99:
                return False, f"frame {t}, object {i}: mask IoU {iou:.4f}"
    return True, f"{len(ids_truth)} tracks, worst IoU {worst:.4f}"


def test_same_tracks_and_masks_as_transformers(setup):
    images, model, box, truth = setup
    ours, objects = _ours(model, images, box)
    assert any(truth[t] for t in truth), "the edited weights must detect something"
    ok, why = _compare(ours, truth)
    assert ok, why
    print(f"concept tracking equals transformers' on {FRAMES} frames: {why}")
    shown = {i for f in ours.values() for i in f}
    assert {o["class"] for o in objects.values()} == {TEXT}
    assert all(
        o["class_source"] == "concept" and o["source"] == "concept" for o in objects.values()
    )
    assert shown <= set(objects)


def test_perturbed_association_threshold_is_caught(setup):
    images, model, box, truth = setup
    ours, _ = _ours(model, images, box, match_iou=0.995)
    ok, why = _compare(ours, truth)
    assert not ok, why


def _perturbed(model, run):
    """``run()`` with the tracker's mask decoder and the detector's scoring perturbed by 5 % of
    their mean magnitude (the weights restored after)."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        gen = torch.Generator().manual_seed(5)
        for name, p in model.named_parameters():
            if name.startswith(("tracker.sam_mask_decoder.", "detector.dot_prod_scoring.")):
                p.add_(torch.randn(p.shape, generator=gen) * 0.05 * p.abs().mean())
        return run()
    finally:
        model.load_state_dict(state)


def test_perturbed_weights_are_caught(setup):
    images, model, box, truth = setup
    ours, _ = _perturbed(model, lambda: _ours(model, images, box))
    ok, why = _compare(ours, truth)
    assert not ok, why


# -- several tracks, some starting mid-clip, a fish entering (the smallest SAM 3) -------------

MID_FRAMES, ENTER = 6, 3
MID_THRESHOLDS = {
    # the micro detector's strongest query scores ~0.82 on every frame, its second ~0.795
    # before the big fish enters and ~0.81 after: only the first detects before ENTER
    "score_threshold": 0.805,
    "new_track_score": 0.805,
    "recondition_every": 2,
    # raised from 0.1: the random tracker's masks overlap the detections with IoU ~0.3-0.45,
    # so a confident detection starts a track instead of matching an existing one
    "match_iou": 0.5,
}


def _births(out: dict) -> dict[int, int]:
    """First frame of every object id shown."""
    first: dict[int, int] = {}
    for t in sorted(out):
        for i in out[t]:
            first.setdefault(i, t)
    return first


@pytest.fixture(scope="module")
def entering(tmp_path_factory):
    torch.set_grad_enabled(False)
    config = co.micro_config()
    images = co.entering_clip(MID_FRAMES, ENTER)
    hf = co.build_oracle(
        edit_frame=co.pixels(images[:1], config.image_size), config=config, score_gain=2.0
    )
    model = co.load_ours(hf, tmp_path_factory.mktemp("w") / "micro.safetensors", config)
    box = _exemplar_box()
    settings = {ORACLE_NAMES.get(k, "assoc_iou_thresh"): v for k, v in MID_THRESHOLDS.items()}
    settings["fill_hole_area"] = 0
    truth = co.run_oracle(
        hf, images, TEXT, exemplar=(0, box), settings=settings, size=config.image_size
    )
    return images, model, box, truth


def _ours_mid(model, images, box, **changes):
    return _ours(model, images, box, MID_THRESHOLDS, **changes)


def test_tracks_starting_mid_clip_equal_transformers(entering):
    images, model, box, truth = entering
    ours, _ = _ours_mid(model, images, box)
    ok, why = _compare(ours, truth)
    assert ok, why
    # not vacuous: several tracks on both sides, some first shown after frame 0, and the
    # detector's second query (a second track a frame) only once the big fish is in
    for name, out in (("ours", ours), ("oracle", truth)):
        first = _births(out)
        per_frame = [sum(f == t for f in first.values()) for t in range(MID_FRAMES)]
        assert len(first) >= 2, f"{name}: {len(first)} track(s)"
        assert max(first.values()) > 0, f"{name}: no track starts after frame 0"
        assert per_frame[ENTER - 1] < per_frame[ENTER], f"{name}: tracks started {per_frame}"
    print(
        f"tracks starting mid-clip equal transformers' on {MID_FRAMES} frames: {why}; "
        f"first frames {sorted(_births(truth).values())}"
    )


def test_mid_clip_perturbed_association_threshold_is_caught(entering):
    images, model, box, truth = entering
    ours, _ = _ours_mid(model, images, box, match_iou=0.3)
    ok, why = _compare(ours, truth)
    assert not ok, why
    print(f"match_iou 0.5 -> 0.3 caught: {why}")


def test_mid_clip_perturbed_weights_are_caught(entering):
    images, model, box, truth = entering
    ours, _ = _perturbed(model, lambda: _ours_mid(model, images, box))
    ok, why = _compare(ours, truth)
    assert not ok, why
    print(f"perturbed weights caught: {why}")
