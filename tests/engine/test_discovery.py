"""Tests of ecoseg.engine.discovery: automatic discovery of organisms in a video.

Random weights cannot segment fish, so the engine tests check the mechanism on a small
synthetic clip (``ecoseg.synth``): motion-tracker boxes seed tracks where the animals are
(masks from box prompts are clipped to their boxes), ids are stable until a track ends,
ended ids are never reused, proposals covered by live tracks are dropped, and prompted objects
get exactly the masks they get without discovery. "Strong" weights are the oracle's
strengthened random weights (objects present, large logits); plain random weights make the
tracker say "absent", which exercises ending.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ecoseg.engine.discovery import (
    ClassRule,
    DiscoveryEngine,
    DiscoveryParams,
    coverage,
    motion_boxes,
    work_size,
)
from ecoseg.errors import ConfigError
from ecoseg.prompts import FramePrompt, ObjectPrompts, Prompts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sam2"))
import sam2_oracle  # noqa: E402  (shared oracle helpers of tests/sam2)

N_FRAMES = 24
MOTION = {"warmup": N_FRAMES, "min_hits": 2}


@pytest.fixture(scope="module")
def clip():
    from ecoseg.synth import make_scene, synth_frames

    scene = make_scene(seed=1, frames=N_FRAMES, size=(256, 144), n_fish=4, n_invertebrates=0)
    return list(synth_frames(scene))


@pytest.fixture(scope="module")
def plain_model():
    from ecoseg import sam2

    torch.manual_seed(0)
    return sam2.build("sam2.1-tiny", pretrained=False, image_size=128, device="cpu").eval()


@pytest.fixture(scope="module")
def strong_model():
    from ecoseg import sam2

    torch.manual_seed(0)
    net = sam2.build("sam2.1-tiny", pretrained=False, image_size=128, device="cpu").eval()
    net.load_state_dict(sam2_oracle.strengthen(net.state_dict()))
    return net


def _run(engine):
    return {r.index: r for r in engine.run()}


def _frames_of(results, oid):
    return sorted(t for t, r in results.items() if oid in r.object_ids.tolist())


# --------------------------------------------------------------------------- pure helpers
def test_work_size_and_coverage():
    assert work_size(1080, 1920, 512) == (288, 512)
    assert work_size(100, 50, 512) == (100, 50)
    masks = np.zeros((3, 4, 4), bool)
    masks[0, :2] = True
    masks[1, :, :1] = True
    occupied = np.zeros((4, 4), bool)
    occupied[0] = True
    np.testing.assert_allclose(coverage(masks, occupied), [0.5, 0.25, 0.0])


def test_class_rules_match_size_and_colour():
    rules = DiscoveryParams.from_dict(
        {
            "motion": False,
            "classes": [
                {"class": "big", "min_area": 1000},
                {"class": "red", "min_rgb": [150, 0, 0], "max_rgb": [255, 100, 100]},
            ],
        }
    ).classes
    assert rules[0].matches(5000, (0, 0, 0)) and not rules[0].matches(10, (0, 0, 0))
    assert rules[1].matches(10, (200, 50, 50)) and not rules[1].matches(10, (100, 50, 50))
    assert ClassRule.from_dict(rules[1].to_dict()) == rules[1]
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        ClassRule.from_dict({"class": "x", "colour": [1, 2, 3]})


def test_bad_parameters_raise_config_error():
    with pytest.raises(ConfigError, match="unknown parameter 'keyframes'"):
        DiscoveryParams.from_dict({"keyframes": 3})
    # a typo was answered with the 19 known names alone
    with pytest.raises(ConfigError, match=r"'key_intervall' \(did you mean 'key_interval'\?\)"):
        DiscoveryParams.from_dict({"key_intervall": 30})
    with pytest.raises(ConfigError, match="key_interval"):
        DiscoveryParams(key_interval=0)
    with pytest.raises(ConfigError, match="pred_iou_thresh"):
        DiscoveryParams(pred_iou_thresh=2.0)
    with pytest.raises(ConfigError, match="unknown parameter 'warm'"):
        DiscoveryParams(motion_params={"warm": 3})
    params = DiscoveryParams(key_interval=4, classes=(ClassRule("fish", max_area=50),))
    assert DiscoveryParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params


def test_a_setting_of_the_wrong_kind_is_named_in_one_line():
    """Text where a number goes ("0.8" from a hand-written JSON file) was a TypeError from a
    comparison; "false" for a switch was true."""
    with pytest.raises(ConfigError, match="^discovery: pred_iou_thresh must be a number, got"):
        DiscoveryParams.from_dict({"pred_iou_thresh": "0.8"})
    with pytest.raises(ConfigError, match="^discovery: motion must be true or false, got 'false'"):
        DiscoveryParams.from_dict({"motion": "false"})
    with pytest.raises(ConfigError, match="^classical engine: threshold must be a number"):
        DiscoveryParams.from_dict({"motion_params": {"threshold": "4"}})
    with pytest.raises(ConfigError, match="^class rule 'fish': min_area must be a number, got '5'"):
        DiscoveryParams.from_dict({"classes": [{"class": "fish", "min_area": "5"}]})
    with pytest.raises(ConfigError, match=r"^class rule 'fish': min_rgb must be \[r, g, b\]"):
        DiscoveryParams.from_dict({"classes": [{"class": "fish", "min_rgb": ["a", 0, 0]}]})
    assert DiscoveryParams.from_dict({"key_interval": np.int64(5)}).key_interval == 5


def test_motion_boxes_follow_a_moving_square():
    frames = np.full((12, 48, 64, 3), 60, np.uint8)
    for t in range(12):
        frames[t, 10:20, 4 + 3 * t : 14 + 3 * t] = 220
    boxes = motion_boxes(frames, {3, 11}, {"warmup": 12})
    assert boxes == {3: [[13.0, 10.0, 23.0, 20.0]], 11: [[37.0, 10.0, 47.0, 20.0]]}


# --------------------------------------------------------------------------- the engine
def test_motion_proposals_seed_tracks_with_stable_ids(clip, strong_model):
    frames = [f.image for f in clip]
    params = DiscoveryParams(key_interval=8, generator=False, motion_params=MOTION)
    engine = DiscoveryEngine(strong_model, frames, params=params)
    results = _run(engine)
    assert sorted(results) == list(range(N_FRAMES))
    first = engine.log[0]
    assert first["frame"] == 0 and first["motion"] >= 2 and len(first["new"]) >= 2
    # on the key frame the new masks lie on distinct fish of the truth (the motion tracker may
    # add one fragment beside a fish on so short a clip: at most one mask may miss)
    r0, truth0 = results[0], clip[0].labels
    hit, missed = [], 0
    for logits in r0.logits:
        mask = logits > 0
        if mask.sum() == 0:
            continue  # a thin fish can vanish at the 32 x 32 mask resolution of this model
        counts = np.bincount(truth0[mask].ravel(), minlength=8)[1:]
        if counts.max() / mask.sum() >= 0.5:
            hit.append(int(counts.argmax()) + 1)
        else:
            missed += 1
    assert len(hit) >= 2 and len(set(hit)) == len(hit) and missed <= 1, (hit, missed)
    # every discovered object is reported on every frame from its discovery on (stable ids)
    ids = [i for entry in engine.log for i in entry["new"]]
    assert ids == list(range(1, len(ids) + 1))
    assert engine.ended == {}  # present (strong weights): nothing ends
    for entry in engine.log:
        for oid in entry["new"]:
            assert _frames_of(results, oid) == list(range(entry["frame"], N_FRAMES))
            assert engine.objects[oid] == {"class": "unknown", "source": "discovered"}


def test_absent_tracks_end_and_ids_are_not_reused(clip, plain_model):
    frames = [f.image for f in clip]
    params = DiscoveryParams(
        key_interval=8,
        end_after=3,
        points_per_side=4,
        pred_iou_thresh=0.0,
        stability_score_thresh=0.0,
        max_area_fraction=1.0,
        motion_params=MOTION,
        classes=(ClassRule("tiny", max_area=50), ClassRule("blob")),
    )
    engine = DiscoveryEngine(plain_model, frames, params=params)
    results = _run(engine)
    found = [(entry["frame"], i) for entry in engine.log for i in entry["new"]]
    assert {f for f, _ in found} == {0, 8, 16}  # new objects on every key frame
    assert sorted(engine.ended) == [i for _, i in found]
    for frame, oid in found:
        # plain random weights say "absent" after the key frame: ended after 3 low frames
        assert engine.ended[oid] == frame + 3
        assert _frames_of(results, oid) == list(range(frame, frame + 4))
        assert engine.objects[oid]["source"] == "discovered"
        assert engine.objects[oid]["class"] in {"tiny", "blob"}
    assert [i for _, i in found] == list(range(1, len(found) + 1))  # never reused
    assert len(engine.tracker.objects) == 0  # ended tracks freed their memories


def _box_mask(h, w, box):
    m = np.zeros((h, w), bool)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = True
    return m


def test_proposals_covered_by_live_tracks_are_dropped(clip, strong_model):
    frames = [f.image for f in clip[:4]]
    a, b = [40, 30, 90, 70], [160, 80, 220, 130]
    grown = [30, 20, 100, 80]
    prompts = Prompts(
        (ObjectPrompts(7, "parrotfish", (FramePrompt(0, mask=_box_mask(144, 256, grown)),)),)
    )
    params = DiscoveryParams(key_interval=100, generator=False, max_area_fraction=1.0)
    engine = DiscoveryEngine(strong_model, frames, prompts, params=params, motion={0: [a, a, b]})
    results = _run(engine)
    assert engine.log == [{"frame": 0, "motion": 3, "generator": 0, "dropped": 2, "new": [8]}]
    assert engine.objects == {
        7: {"class": "parrotfish", "source": "prompt"},
        8: {"class": "unknown", "source": "discovered"},
    }
    assert results[3].object_ids.tolist() == [7, 8]
    new = results[0].logits[1] > 0
    assert new.any() and not new[:, :150].any()  # inside box b (+ margin), not a


def test_prompted_objects_are_unchanged_by_discovery(clip, strong_model):
    from ecoseg.engine import propagate

    frames = [f.image for f in clip[:7]]
    prompts = Prompts.single(0, points=[[110, 52]])
    alone = {r.index: r for r in propagate(strong_model, frames, prompts)}
    params = DiscoveryParams(key_interval=3, generator=False, max_area_fraction=1.0)
    boxes = {0: [[160, 80, 220, 130]], 3: [[10, 90, 60, 140]]}
    engine = DiscoveryEngine(strong_model, frames, prompts, params=params, motion=boxes)
    results = _run(engine)
    assert len(engine.objects) > 1  # something was discovered alongside
    for t in range(7):
        ids = results[t].object_ids.tolist()
        ours = results[t].logits[ids.index(1)]
        ref = alone[t].logits[0]
        stats = sam2_oracle.mask_agreement(ref[None], ours[None])
        assert stats["same_sign"] >= 0.999 and stats["iou"] >= 0.99, (t, stats)
        assert stats["max_abs"] <= 1e-3 * max(stats["scale"], 1.0), (t, stats)


def test_labels_output_and_bf16_autocast(clip, strong_model):
    """``output="labels"`` (resolved on the device) is the label image of the logits run; the
    bf16 path (CPU autocast here, the CUDA default) finds the same objects with masks that
    agree within bf16 rounding."""
    from ecoseg.engine.results import labels_from_logits

    frames = [f.image for f in clip[:10]]
    params = DiscoveryParams(
        key_interval=8,
        points_per_side=4,
        pred_iou_thresh=0.0,
        stability_score_thresh=0.0,
        motion_params=MOTION,
    )

    def run(output="logits", **options):
        engine = DiscoveryEngine(strong_model, frames, params=params, **options)
        return engine, list(engine.run(output=output))

    engine, logits = run()
    _, labels = run("labels")
    assert sum(len(e["new"]) for e in engine.log) >= 2
    for a, b in zip(logits, labels, strict=True):
        assert b.logits is None and a.object_ids.tolist() == b.object_ids.tolist()
        np.testing.assert_array_equal(b.scores, a.scores)
        np.testing.assert_array_equal(
            b.labels, labels_from_logits(a.object_ids, a.logits, a.scores)
        )

    bf16, low = run(autocast=True)
    assert [e["new"] for e in bf16.log] == [e["new"] for e in engine.log]
    ious = []
    for a, b in zip(logits, low, strict=True):
        assert a.object_ids.tolist() == b.object_ids.tolist()
        stats = sam2_oracle.mask_agreement(a.logits, b.logits)
        assert stats["max_abs"] > 0  # it really ran in bf16
        ious.append(stats["iou"])
    # With these random weights the first frame after a mask prompt is unstable in bf16: the
    # official predictor's own bf16 and fp32 runs agree only to IoU 0.42 there (checked by
    # hand), and its later frames agree to 0.99 again. So the typical frame is compared.
    assert np.median(ious) >= 0.98, ious


# --------------------------------------------------------------------------- segment / CLI
def test_cli_segment_auto_writes_discovered_objects(tmp_path):
    import ecoseg
    from ecoseg.cli import main
    from ecoseg.store import MaskStore

    clip = ecoseg.synth(tmp_path / "clip", frames=12, size=(192, 108), n_fish=3)
    prompts = tmp_path / "prompts.json"
    prompts.write_text(
        json.dumps(
            {
                "objects": [
                    {
                        "id": 5,
                        "class": "parrotfish",
                        "prompts": [{"frame": 8, "points": [[96, 54]]}],
                    }
                ]
            }
        )
    )
    settings = tmp_path / "discovery.json"
    settings.write_text(
        json.dumps(
            {
                "points_per_side": 4,
                "pred_iou_thresh": 0.0,
                "stability_score_thresh": 0.0,
                "max_area_fraction": 1.0,
                "motion_params": {"warmup": 12},
                "classes": [{"class": "blob"}],
            }
        )
    )
    out = tmp_path / "auto.zarr"
    args = [
        "segment", str(clip.video), "-o", str(out), "--auto", "--model", "sam2.1-tiny",
        "--random-weights", "--image-size", "64", "--key-interval", "4",
        "--prompts", str(prompts), "--discovery", str(settings),
    ]  # fmt: skip
    assert main(args) == 0
    store = MaskStore.open(out)
    objects = {o["id"]: o for o in store.objects}
    assert objects[5] == {"id": 5, "class": "parrotfish", "source": "prompt"}
    discovered = [o for o in objects.values() if o["source"] == "discovered"]
    assert discovered and all(o["class"] == "blob" and o["id"] > 5 for o in discovered)
    assert store.provenance["auto"] is True
    assert store.provenance["parameters"]["key_interval"] == 4
    assert store.n_frames == 12


def test_segment_auto_cancel_then_resume(tmp_path):
    """A cancelled --auto run stops without padding the store with empty frames; --resume
    re-runs discovery and gives the uninterrupted store."""
    import ecoseg
    from ecoseg.engine import Cancelled
    from ecoseg.store import MaskStore

    video = ecoseg.synth(tmp_path / "clip", frames=10, size=(96, 64), seed=2).video
    settings = dict(
        auto=True,
        pretrained=False,
        image_size=64,
        device="cpu",
        progress=False,
        params={"points_per_side": 4, "pred_iou_thresh": 0.0, "stability_score_thresh": 0.0},
    )
    torch.manual_seed(0)
    full = MaskStore.open(ecoseg.segment(video, out=tmp_path / "full.zarr", **settings))
    assert full.complete and len(full.object_ids)
    calls = iter(range(100))
    out = tmp_path / "cut.zarr"
    torch.manual_seed(0)
    with pytest.raises(Cancelled, match="cancelled after"):
        ecoseg.segment(video, out=out, cancel=lambda: next(calls) >= 4, **settings)
    cut = MaskStore.open(out)
    assert 0 < cut.n_frames < 10 and not cut.complete
    torch.manual_seed(0)
    ecoseg.segment(video, out=out, resume=True, **settings)
    done = MaskStore.open(out)
    assert done.complete and np.array_equal(done.read_labels(), full.read_labels())
    assert np.array_equal(done.read_scores(), full.read_scores())


def test_cli_auto_needs_the_sam2_engine(tmp_path, capsys):
    import ecoseg
    from ecoseg.cli import main

    video = ecoseg.synth(tmp_path / "clip", frames=3, size=(64, 48)).video
    assert main(["segment", str(video), "-o", str(tmp_path / "o.zarr"), "--key-interval", "3"]) == 2
    # the option given, alone (it said "--discovery and --key-interval need --auto")
    assert "error: --key-interval needs --auto" in capsys.readouterr().err
    args = [
        "segment",
        str(video),
        "-o",
        str(tmp_path / "o.zarr"),
        "--auto",
        "--engine",
        "classical",
    ]
    assert main(args) == 2
    assert "needs the sam2 engine" in capsys.readouterr().err


def test_cli_key_interval_help_says_what_it_is_its_unit_and_default(capsys):
    """It said "look for new organisms every N frames": what a key interval is, unsaid."""
    from ecoseg.cli import main
    from ecoseg.engine.discovery_params import KEY_INTERVAL

    with pytest.raises(SystemExit):
        main(["segment", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "--key-interval N with --auto: the key interval, in frames: look for new organisms on "
        f"every N-th frame, from frame 0 (default {KEY_INTERVAL})"
    ) in text
