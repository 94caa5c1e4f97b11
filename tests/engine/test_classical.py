"""Tests of the classical motion tracker (ecoseg/engine/classical/ and its helpers)."""

from __future__ import annotations

import re
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import ndimage

from ecoseg.engine.background import (
    BackgroundModel,
    ShiftEstimator,
    downscale_opponent,
)
from ecoseg.engine.classical import (
    ClassicalParams,
    ClassicalTracker,
    segment_classical,
    split_touching,
    track,
)
from ecoseg.engine.linking import Linker
from ecoseg.errors import ConfigError, VideoError

H, W = 96, 160


def _texture(h, w, seed=0):
    """A quiet, smooth, blue-green 'reef' (so motion logic has something to look at)."""
    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.normal(0, 1, (h, w)), 3)
    base = (base - base.min()) / (np.ptp(base) + 1e-9)
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 40 + 30 * base
    img[..., 1] = 110 + 40 * base
    img[..., 2] = 120 + 30 * base
    return img


def _disc_mask(h, w, cy, cx, r):
    yy, xx = np.mgrid[:h, :w]
    return np.hypot(yy - cy, xx - cx) <= r


def disc_clip(n, discs, *, occluder=None, size=(H, W), seed=0, noise=2.0):
    """Frames with moving discs; ``discs`` = [(y, x0, vx, r, rgb)] (x = x0 + vx * t).

    ``occluder`` = (x0, x1): a static bar of reef-coloured 'rock' drawn in front of the discs.
    Returns frames (n, h, w, 3) uint8 and truth labels (n, h, w) (id = index + 1, visible part).
    """
    h, w = size
    bg = _texture(h, w, seed)
    rng = np.random.default_rng(seed + 1)
    frames = np.empty((n, h, w, 3), np.uint8)
    labels = np.zeros((n, h, w), np.uint32)
    for t in range(n):
        img = bg.copy()
        for k, (y, x0, vx, r, rgb) in enumerate(discs):
            m = _disc_mask(h, w, y, x0 + vx * t, r)
            img[m] = rgb
            labels[t][m] = k + 1
        if occluder is not None:
            a, b = occluder
            img[:, a:b] = (70, 90, 60)
            labels[t][:, a:b] = 0
        img += rng.normal(0, noise, img.shape).astype(np.float32)
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames, labels


def ids_at(result, mask):
    vals = result.labels[mask]
    vals = vals[vals > 0]
    return set(np.unique(vals).tolist())


# ---------------------------------------------------------------- moving discs


def test_two_discs_exact_count_and_stable_ids():
    discs = [(30, 20, 2.0, 7, (230, 200, 40)), (68, 140, -2.0, 7, (200, 60, 150))]
    frames, truth = disc_clip(40, discs)
    results = list(track(frames, fps=10))
    assert [r.index for r in results] == list(range(40))
    first = {}
    for r, lab in zip(results, truth):
        assert r.labels.shape == (H, W) and r.labels.dtype == np.uint32
        assert len(r.object_ids) == 2, f"frame {r.index}: {r.object_ids}"
        np.testing.assert_array_equal(r.scores, 1.0)
        assert r.scores.dtype == np.float32
        for k in (1, 2):
            got = ids_at(r, lab == k)
            assert len(got) == 1, f"frame {r.index}, disc {k}: {got}"
            first.setdefault(k, got)
            assert got == first[k], f"frame {r.index}: disc {k} changed id"
    assert sorted(first[1] | first[2]) == [1, 2]


def test_masks_follow_the_discs():
    frames, truth = disc_clip(30, [(48, 20, 3.0, 9, (230, 200, 40))])
    for r, lab in zip(track(frames), truth):
        pred, true = r.labels > 0, lab > 0
        iou = (pred & true).sum() / (pred | true).sum()
        assert iou > 0.85, f"frame {r.index}: IoU {iou:.2f}"


def test_occluded_disc_keeps_its_id():
    # 13 px disc at 3 px/frame behind a 30 px bar: fully hidden for about 6 frames
    frames, truth = disc_clip(45, [(48, 10, 3.0, 6, (230, 200, 40))], occluder=(70, 100))
    results = list(track(frames))
    before = [r for r, lab in zip(results, truth) if (lab == 1).sum() > 60 and r.index < 15]
    after = [r for r, lab in zip(results, truth) if (lab == 1).sum() > 60 and r.index > 30]
    hidden = [r for r, lab in zip(results, truth) if (lab == 1).sum() == 0]
    assert before and after and len(hidden) >= 4
    assert all(len(r.object_ids) == 0 for r in hidden)
    ids_before = {int(i) for r in before for i in r.object_ids}
    ids_after = {int(i) for r in after for i in r.object_ids}
    assert ids_before == ids_after == {1}


def test_gap_longer_than_max_gap_gives_a_new_id():
    frames, truth = disc_clip(45, [(48, 10, 3.0, 6, (230, 200, 40))], occluder=(70, 100))
    ids = {int(i) for r in track(frames, max_gap=2) for i in r.object_ids}
    assert ids == {1, 2}


def test_touching_discs_are_split():
    # two discs touching side by side, moving together
    discs = [(48, 14, 3.5, 9, (230, 200, 40)), (48, 32, 3.5, 9, (230, 200, 40))]
    frames, truth = disc_clip(30, discs)
    results = list(track(frames))
    for r, lab in zip(results, truth):
        assert len(r.object_ids) == 2, f"frame {r.index}: {r.object_ids}"
        owners = []
        for k in (1, 2):
            vals = r.labels[lab == k]
            counts = np.bincount(vals[vals > 0])
            owners.append(int(np.argmax(counts)))
            assert counts.max() >= 0.9 * (lab == k).sum(), f"frame {r.index}, disc {k}"
        assert owners[0] != owners[1]
    unsplit = list(track(frames, split=False))
    assert all(len(r.object_ids) == 1 for r in unsplit)


@pytest.mark.parametrize("work_width", [256, 64])  # work factor 1, and 2 (holes found coarse)
def test_a_low_contrast_hole_inside_an_animal_is_filled(work_width):
    # a ring: the disc's middle shows the reef behind it (no contrast there)
    frames, truth = disc_clip(30, [(48, 20, 3.0, 14, (230, 200, 40))])
    bg = disc_clip(30, [])[0]
    for t in range(30):
        middle = _disc_mask(H, W, 48, 20 + 3.0 * t, 6)
        frames[t][middle] = bg[t][middle]
    results = list(track(frames, work_width=work_width))
    for r, lab in zip(results[5:], truth[5:]):
        middle = _disc_mask(H, W, 48, 20 + 3.0 * r.index, 5)
        assert (r.labels[middle] > 0).mean() > 0.95, f"frame {r.index}: hole not filled"
        pred, true = r.labels > 0, lab > 0
        assert (pred & true).sum() / (pred | true).sum() > 0.85, f"frame {r.index}"


def test_split_touching_pure_function():
    yy, xx = np.mgrid[:60, :90]
    two = (np.hypot(yy - 30, xx - 25) < 14) | (np.hypot(yy - 30, xx - 52) < 14)
    parts = split_touching(two)
    assert len(parts) == 2
    assert sum(p.sum() for p in parts) == two.sum()
    assert all(abs(p.sum() - two.sum() / 2) < 0.1 * two.sum() for p in parts)
    # one elongated body with a tail fin is one animal
    body = ((yy - 30) / 10.0) ** 2 + ((xx - 40) / 28.0) ** 2 <= 1
    tail = (xx >= 64) & (xx <= 78) & (np.abs(yy - 30) <= 2 + 0.7 * (xx - 64))
    assert len(split_touching(body | tail)) == 1
    assert len(split_touching(np.zeros((5, 5), bool))) == 1


def test_one_frame_flicker_gets_no_id():
    frames, _ = disc_clip(30, [])
    frames[12, 40:52, 60:72] = (250, 250, 250)  # a single-frame blob
    assert all(len(r.object_ids) == 0 for r in track(frames))
    ids = {int(i) for r in track(frames, min_hits=1) for i in r.object_ids}
    assert ids == {1}


# ---------------------------------------------------------------- synthetic reef clips


def _fish_only(truth_path, out):
    from ecoseg.store import MaskStore
    from ecoseg.synth import FISH_CLASSES

    truth = MaskStore.open(truth_path)
    fish = [o for o in truth.objects if o["class"] in FISH_CLASSES]
    keep = [o["id"] for o in fish]
    store = MaskStore.create(out, height=truth.height, width=truth.width, objects=fish)
    labels = truth.read_labels()
    store.append(np.where(np.isin(labels, keep), labels, 0), truth.read_time())
    store.mark_complete()
    store.close()
    return out


# Thresholds: what the tracker achieved when they were set (320x180, 60 frames, frames
# straight from the renderer so the encoder version cannot change them), less about 0.05.
# Measured (steady-sample warm-up median, colour split of known tracks, still_frames 75):
# static seed 0 HOTA 0.630 / J&F 0.806, seed 1 0.777 / 0.719; pan seed 0 0.575 / 0.724,
# seed 1 0.798 / 0.850 (against the fish; invertebrates do not move). Pan seed 0 was
# 0.619 / 0.763 before those changes; its thresholds were kept.
@pytest.mark.parametrize(
    ("camera", "seed", "hota_min", "jf_min"),
    [
        ("static", 0, 0.58, 0.75),
        ("static", 1, 0.72, 0.66),
        ("pan", 0, 0.56, 0.70),
        ("pan", 1, 0.73, 0.79),
    ],
)
def test_synthetic_reef_accuracy(tmp_path, camera, seed, hota_min, jf_min):
    from ecoseg.metrics import evaluate
    from ecoseg.store import MaskStore
    from ecoseg.synth import make_scene, synth, synth_frames

    size, n = (320, 180), 60
    clip = synth(tmp_path / "clip", seed=seed, frames=n, size=size, camera=camera)
    scene = make_scene(seed, frames=n, size=size, camera=camera)
    frames = ((f.index, f.time, f.image) for f in synth_frames(scene))
    store = MaskStore.create(tmp_path / "pred.zarr", height=size[1], width=size[0])
    assert segment_classical(frames, store) == n
    store.close()
    fish = _fish_only(clip.truth, tmp_path / "fish.zarr")
    result = evaluate(tmp_path / "pred.zarr", fish)
    hota, jf = result["hota"]["hota"], result["jf"]["mean"]
    assert hota >= hota_min, (hota, jf)
    assert jf >= jf_min, (hota, jf)
    # every fish that swims in view is found at some point
    assert result["pred_objects"] >= result["truth_objects"] - 1


# ---------------------------------------------------------------- streaming and resume


def test_memory_does_not_grow_with_clip_length():
    def run(n):
        frames, _ = disc_clip(n, [(30, 10, 1.5, 6, (230, 200, 40))], size=(64, 96))
        tr = ClassicalTracker(64, 96, ClassicalParams(warmup=10))
        held, nbytes = [], []
        for t in range(n):
            tr.push(t, t / 10, frames[t])
            if t >= 10:
                held.append(tr.n_held)
                nbytes.append(tr.state_nbytes)
        tr.finish()
        return max(held), max(nbytes), tr.linker.n_tracks

    short, long = run(50), run(200)
    assert short[0] == long[0] <= 2  # frames held back: the linking lag only
    assert long[1] <= short[1] * 1.01
    assert long[2] <= 2


def test_tracemalloc_peak_is_flat():
    def peak(n):
        frames, _ = disc_clip(n, [(30, 10, 0.4, 6, (230, 200, 40))], size=(64, 96))
        gen = (frames[t] for t in range(n))  # stream: the clip itself is not traced
        tracemalloc.start()
        for _ in track(gen, warmup=10):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    p50, p200 = peak(50), peak(200)
    assert p200 < 1.3 * p50, (p50, p200)


def test_skip_until_reproduces_the_tail():
    discs = [(30, 20, 2.0, 7, (230, 200, 40)), (68, 140, -2.0, 7, (200, 60, 150))]
    frames, _ = disc_clip(40, discs)
    full = list(track(frames))
    tail = list(track(frames, skip_until=17))
    assert [r.index for r in tail] == list(range(17, 40))
    for a, b in zip(full[17:], tail):
        assert a.index == b.index and a.time == b.time
        np.testing.assert_array_equal(a.object_ids, b.object_ids)
        np.testing.assert_array_equal(a.labels, b.labels)


def test_segment_classical_resume_is_identical(tmp_path):
    from ecoseg.store import MaskStore

    discs = [(30, 20, 2.0, 7, (230, 200, 40)), (68, 140, -2.0, 7, (200, 60, 150))]
    frames, _ = disc_clip(30, discs)

    ref = MaskStore.create(tmp_path / "ref.zarr", height=H, width=W, chunk_frames=4)
    calls = []
    assert segment_classical(frames, ref, progress=lambda d, t: calls.append((d, t))) == 30
    assert calls[-1] == (30, 30) and len(calls) == 30
    assert ref.complete
    ref_objects = ref.objects
    ref.close()

    class Killed(Exception):
        pass

    def kill_at_13(done, total):
        if done == 13:
            raise Killed

    part = MaskStore.create(tmp_path / "part.zarr", height=H, width=W, chunk_frames=4)
    with pytest.raises(Killed):
        segment_classical(frames, part, progress=kill_at_13)
    part.close()  # the interrupted run leaves its first 13 frames committed
    resumed = MaskStore.open(tmp_path / "part.zarr", mode="a")
    committed = resumed.n_frames
    assert committed == 13 and not resumed.complete
    assert segment_classical(frames, resumed) == 30 - committed
    resumed.close()

    a, b = MaskStore.open(tmp_path / "ref.zarr"), MaskStore.open(tmp_path / "part.zarr")
    assert b.n_frames == 30
    np.testing.assert_array_equal(a.read_labels(), b.read_labels())
    np.testing.assert_array_equal(a.read_time(), b.read_time())
    np.testing.assert_array_equal(a.read_scores(), b.read_scores())
    assert b.objects == ref_objects
    assert all(o["class"] == "unknown" and o["source"] == "tracker" for o in b.objects)


# ---------------------------------------------------------------- inputs and parameters


def test_input_kinds_agree():
    frames, _ = disc_clip(20, [(48, 20, 3.0, 8, (230, 200, 40))])
    a = list(track(frames, fps=5))
    b = list(track(list(frames), fps=5))
    c = list(track([(i, i / 5, f) for i, f in enumerate(frames)]))
    assert [r.time for r in a] == [r.time for r in b] == [r.time for r in c]
    assert a[3].time == pytest.approx(0.6)
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x.labels, y.labels)
        np.testing.assert_array_equal(x.labels, z.labels)


def test_video_reader_input(tmp_path):
    from PIL import Image

    from ecoseg.io.video import open_video

    frames, _ = disc_clip(12, [(48, 20, 4.0, 8, (230, 200, 40))])
    for i, f in enumerate(frames):
        Image.fromarray(f).save(tmp_path / f"f{i:03d}.png")
    with open_video(tmp_path, fps=12) as video:
        results = list(track(video))
    assert [r.index for r in results] == list(range(12))
    assert results[5].time == pytest.approx(5 / 12)
    assert all(len(r.object_ids) == 1 for r in results)


def test_empty_video():
    with pytest.raises(VideoError, match="no frames"):
        list(track([]))
    with pytest.raises(VideoError, match="no frames"):
        list(track(np.zeros((0, 10, 10, 3), np.uint8)))


def test_bad_frames():
    frames, _ = disc_clip(6, [])
    bad = list(frames)
    bad[3] = frames[3][:, :-2]
    with pytest.raises(VideoError, match=r"frame 3 \(t=0\.100 s\).*shape"):
        list(track(bad, fps=30))
    with pytest.raises(VideoError, match="frame 0.*RGB"):
        list(track([np.zeros((20, 20), np.uint8)]))
    with pytest.raises(VideoError, match="frame 0.*uint8"):
        list(track([np.zeros((20, 20, 3), np.float32)]))
    with pytest.raises(VideoError, match="too small"):
        list(track([np.zeros((4, 40, 3), np.uint8)]))
    with pytest.raises(VideoError, match="frame 1"):
        list(track([frames[0], "not a frame"]))
    with pytest.raises(VideoError, match="increasing"):
        list(track([(5, 0.0, frames[0]), (5, 0.1, frames[1])]))


def test_bad_parameters():
    with pytest.raises(
        ConfigError, match=r"unknown parameter 'treshold' \(did you mean 'threshold'\?\)"
    ):
        ClassicalParams.from_dict({"treshold": 3})
    with pytest.raises(ConfigError, match="unknown parameter"):
        list(track(np.zeros((2, 20, 20, 3), np.uint8), treshold=3))
    with pytest.raises(ConfigError, match="max_gap"):
        ClassicalParams(max_gap=-1)
    with pytest.raises(ConfigError, match="threshold_low"):
        ClassicalParams(threshold=3, threshold_low=4)
    with pytest.raises(ConfigError, match="min_hits"):
        ClassicalParams(min_hits=0)
    p = ClassicalParams.from_dict({"max_gap": 4})
    assert p.max_gap == 4 and ClassicalParams.from_dict(p.to_dict()) == p


@pytest.mark.parametrize(
    "given, words",
    [
        ({"threshold": "4"}, "threshold must be a number, got '4'"),  # a TypeError from '>'
        ({"split": "false"}, "split must be true or false, got 'false'"),  # it split: true
        ({"max_gap": 2.5}, "max_gap must be a whole number, got 2.5"),  # int(2.5) passed
        ({"threshold": True}, "threshold must be a number, got True"),
        ({"min_area": "16"}, "min_area must be a number"),
    ],
)
def test_a_parameter_of_the_wrong_kind_is_named_in_one_line(given, words):
    """``ecoseg.segment(..., params={"threshold": "4"})`` from a notebook was a bare TypeError
    ('>' not supported between instances of 'str' and 'int')."""
    with pytest.raises(ConfigError, match=f"^classical engine: {re.escape(words)}"):
        ClassicalParams.from_dict(given)


def test_numbers_of_any_type_are_parameters():
    p = ClassicalParams.from_dict(
        {"threshold": np.float32(4), "max_gap": 10.0, "min_hits": np.int64(2), "split": 0}
    )
    assert (p.threshold, p.max_gap, p.min_hits, p.split) == (4, 10, 2, 0)


def test_never_imports_torch():
    code = (
        "import sys, numpy as np\n"
        "from ecoseg.engine.classical import track\n"
        "list(track(np.zeros((3, 32, 32, 3), np.uint8)))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- building blocks


def test_downscale_opponent_block_means():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (36, 52, 3), dtype=np.uint8)
    got = downscale_opponent(img, 4)
    rgb = img[:36, :52].reshape(9, 4, 13, 4, 3).mean(axis=(1, 3))
    total = rgb.sum(-1) + 1
    np.testing.assert_allclose(got[0], total / 3, rtol=1e-5)
    np.testing.assert_allclose(got[1], 255 * rgb[..., 0] / total, rtol=1e-4)
    np.testing.assert_allclose(got[2], 255 * rgb[..., 2] / total, rtol=1e-4)
    # chromaticity does not change when the light gets brighter
    dim = np.full((4, 4, 3), (20, 60, 50), np.uint8)
    a, b = downscale_opponent(dim, 1), downscale_opponent(dim * 3, 1)
    np.testing.assert_allclose(a[1:], b[1:], atol=1.5)


@pytest.mark.parametrize(("dy", "dx"), [(0, 12), (-8, 6), (5, -3)])
def test_shift_estimator_recovers_translation(dy, dx):
    # a camera moving by whole pixels at 4x the work resolution: work shifts of k/4 px
    world = ndimage.gaussian_filter(np.random.default_rng(1).random((560, 800)), 8)

    def view(oy, ox):
        crop = world[80 + oy : 440 + oy, 120 + ox : 680 + ox]
        return crop.reshape(90, 4, 140, 4).mean(axis=(1, 3))

    ref, cur = view(0, 0), view(-dy, -dx)  # the view moves against the content
    est = ShiftEstimator(ref.shape)
    got = est(ref, cur)
    assert got == pytest.approx((dy / 4, dx / 4), abs=0.05)
    assert est.support(ref, cur, got, 0.002) > 0.5


def test_shift_support_tells_animal_from_camera():
    # a bright square moving over a plain background is not a pan
    ref = np.full((60, 80), 50.0)
    cur = ref.copy()
    ref[20:30, 20:30] = 200
    cur[20:30, 24:34] = 200
    est = ShiftEstimator(ref.shape)
    d = est(ref, cur)
    assert est.support(ref, cur, d, 1.5) < 0.15


def test_background_model_update_and_shift():
    mean = np.zeros((3, 8, 8), np.float32)
    bg = BackgroundModel(mean, np.ones_like(mean), rate=0.5, rate_foreground=0.0)
    frame = np.full((3, 8, 8), 4.0, np.float32)
    fg = np.zeros((8, 8), bool)
    fg[:4] = True
    bg.update(frame, fg)
    assert np.all(bg.mean[:, :4] == 0) and np.allclose(bg.mean[:, 4:], 2.0)
    bg.shift(0, 2, frame)  # content moved 2 px right: columns 0-1 are new
    assert np.allclose(bg.mean[:, :, :2], 4.0)
    assert np.allclose(bg.mean[:, 4:, 2:], 2.0)


def test_linker_constant_velocity_gap_closing():
    lk = Linker(min_hits=1, max_gap=5, max_distance=3.0)
    size = np.array([[6.0, 6.0]])
    for t in range(5):
        assert lk.step(t, np.array([[20.0, 10.0 + 4 * t]]), np.array([30.0]), size) == [1]
    for t in range(5, 9):  # hidden
        assert lk.step(t, np.zeros((0, 2)), np.zeros(0), np.zeros((0, 2))) == []
    # reappears where constant velocity puts it (x = 10 + 4 * 9 = 46)
    assert lk.step(9, np.array([[20.0, 46.5]]), np.array([30.0]), size) == [1]
    # a second animal far away gets a new id
    ids = lk.step(10, np.array([[20.0, 50.0], [80.0, 80.0]]), np.array([30.0, 30.0]), size[[0, 0]])
    assert ids == [1, 2]
    with pytest.raises(ValueError, match="2 centroids"):
        lk.step(11, np.zeros((2, 2)), np.zeros(1), np.zeros((2, 2)))


def test_variance_learns_a_clipped_deviation():
    # an undetected animal must not inflate the noise model (and blind it) in one go
    mean = np.zeros((3, 4, 4), np.float32)
    bg = BackgroundModel(mean, np.ones_like(mean), rate=0.5, rate_foreground=0.0, var_clip=3.0)
    bg.update(np.full((3, 4, 4), 10.0, np.float32), np.zeros((4, 4), bool))
    assert np.allclose(bg.var, 1.0 + 0.5 * (9.0 - 1.0))


def test_still_median_ignores_an_animal_moving_about_in_place():
    from ecoseg.engine.background import still_median

    reef = np.array([60.0, 80.0, 90.0], np.float32)
    stack = np.tile(reef[None, :, None, None], (30, 1, 1, 1))
    # an animal of changing colours covers the pixel in 20 of 30 samples
    for k in range(20):
        stack[k, :, 0, 0] = (k % 4) * 40.0
    assert np.allclose(still_median(stack)[:, 0, 0], reef)
    assert not np.allclose(np.median(stack, axis=0)[:, 0, 0], reef)  # the plain median fails


def test_crossing_animals_of_different_colour_keep_their_ids():
    # a yellow and a magenta disc swim through each other; the nearer one hides part of the other
    discs = [(48, 20, 2.0, 11, (230, 200, 40)), (52, 140, -2.0, 11, (220, 60, 200))]
    frames, truth = disc_clip(60, discs)
    results = list(track(frames, warmup=60))
    first = [ids_at(results[5], truth[5] == k) for k in (1, 2)]
    last = [ids_at(results[-1], truth[-1] == k) for k in (1, 2)]
    assert first == last and first[0] != first[1]
    both = [
        t
        for t in range(60)
        if all((truth[t] == k).sum() > 150 for k in (1, 2))
        and ndimage.binary_dilation(truth[t] == 1).__and__(truth[t] == 2).any()
    ]
    assert both  # the discs do touch
    assert all(len(results[t].object_ids) == 2 for t in both)


def test_the_tracker_leaves_other_threads_warnings_alone():
    """The motion tracker's background build hushed numpy's RuntimeWarning of all-NaN pixels
    (a pan) with ``warnings.catch_warnings()`` and a filter, which are the process's: run in
    a napari worker it hid every other thread's RuntimeWarning meanwhile (and then put back
    the filters it found). Now it gives none (``nanmean0``) and changes no filter."""
    from suite_helpers import warned_while_held

    import ecoseg.engine.classical.tracker as tracker

    frames, _ = disc_clip(12, [(48, 20, 3.0, 9, (230, 200, 40))])
    got = warned_while_held(lambda: list(track(frames)), tracker, "still_median", RuntimeWarning)
    assert got["filters_kept"] and got["heard"]
    assert got["others"] == [] and len(got["result"]) == 12


def test_nanmean0_is_nanmeans_values_without_its_warning():
    from ecoseg.engine.background import nanmean0

    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 3, 4, 6)).astype(np.float32)
    a[rng.random(a.shape) < 0.6] = np.nan
    a[:, :, 0, 0] = np.nan  # never seen
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmean(a, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = nanmean0(a)
    assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
