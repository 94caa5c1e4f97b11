"""Synthetic reef footage: determinism, exactness of the truth, cameras, files, the sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ecoseg.errors import ConfigError, StoreError
from ecoseg.synth import (
    FISH_CLASSES,
    INVERTEBRATE_CLASSES,
    make_scene,
    render,
    render_layers,
    synth,
    synth_frames,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SMALL = (160, 90)


@pytest.fixture(scope="module")
def crowded():
    """Many fish in a small frame: plenty of occlusion."""
    return make_scene(seed=0, frames=40, size=SMALL, n_fish=12, n_invertebrates=2)


@pytest.fixture(scope="module")
def long_scene():
    """30 s at 10 fps in a small frame: fish leave and come back."""
    return make_scene(seed=1, frames=300, size=SMALL, fps=10.0, n_fish=6, n_invertebrates=1)


@pytest.fixture(scope="module")
def long_frames(long_scene):
    return list(synth_frames(long_scene))


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_frames_and_labels():
    a = make_scene(seed=7, frames=12, size=SMALL, camera="shake")
    b = make_scene(seed=7, frames=12, size=SMALL, camera="shake")
    for i in (0, 5, 11):
        ia, la = render(a, i)
        ib, lb = render(b, i)
        assert np.array_equal(ia, ib)
        assert np.array_equal(la, lb)
    # rendering out of order gives the same frame (no hidden state)
    assert np.array_equal(render(a, 5)[0], render(b, 5)[0])


def test_different_seed_differs():
    a = make_scene(seed=7, frames=3, size=SMALL)
    b = make_scene(seed=8, frames=3, size=SMALL)
    ia, la = render(a, 2)
    ib, lb = render(b, 2)
    assert not np.array_equal(ia, ib)
    assert not np.array_equal(la, lb)


def test_frames_have_expected_types_and_classes():
    scene = make_scene(seed=0, frames=3, size=SMALL, n_fish=6, n_invertebrates=2)
    image, labels = render(scene, 1)
    assert image.shape == (90, 160, 3) and image.dtype == np.uint8
    assert labels.shape == (90, 160) and labels.dtype == np.uint32
    fish = [o.cls for o in scene.organisms if o.kind == "fish"]
    inv = [o.cls for o in scene.organisms if o.kind == "invertebrate"]
    assert len(fish) == 6 and set(fish) == set(FISH_CLASSES)  # the first four all differ
    assert inv == ["sea_urchin", "sea_star"]
    assert set(inv) <= set(INVERTEBRATE_CLASSES)
    assert [o.id for o in scene.organisms] == list(range(1, 9))
    assert set(np.unique(labels)) <= {0, *range(1, 9)}
    # sizes scale with the frame: same animals in mm at any resolution
    big = make_scene(seed=0, frames=3, size=(320, 180))
    assert big.mm_per_px == pytest.approx(scene.mm_per_px / 2)
    for o, p in zip(scene.organisms, big.organisms):
        assert p.length * big.mm_per_px == pytest.approx(o.length * scene.mm_per_px)


# --------------------------------------------------------------------------- exact truth
def test_occlusion_order_and_areas(crowded):
    overlaps = 0
    for i in (0, 13, 26, 39):
        layers = render_layers(crowded, i)
        nearest_first = sorted(layers.depth, key=layers.depth.get)
        assert len(set(layers.depth.values())) == len(layers.depth)  # a strict order
        covered = np.zeros(layers.labels.shape, bool)
        for k in nearest_first:
            sil = layers.silhouettes[k]
            overlaps += int((sil & covered).sum() > 0)
            expected = sil & ~covered
            got = layers.labels == k
            assert np.array_equal(got, expected), f"frame {i}, object {k}"
            assert got.sum() == expected.sum()
            covered |= sil
        # nothing but organisms is labelled
        assert np.array_equal(layers.labels > 0, covered)
    assert overlaps >= 3  # the test really saw occlusions


def test_image_differs_from_the_reef_where_labelled(crowded):
    for i in (3, 30):
        layers = render_layers(crowded, i)
        differs = (layers.image != layers.reef).any(axis=-1)
        labelled = layers.labels > 0
        assert labelled.sum() > 200
        assert not (differs & ~labelled).any()  # exactly: outside the labels nothing changed
        assert (differs & labelled).sum() >= 0.95 * labelled.sum()


def test_ids_stable_and_motion_continuous(long_scene, long_frames):
    scene = long_scene
    cx, cy = scene.camera_xy[:, 0], scene.camera_xy[:, 1]
    dt = 1.0 / scene.fps
    fish = [o for o in scene.organisms if o.kind == "fish"]
    checked = 0
    for o in fish:
        px, py = o.x - cx, o.y - cy
        steps = np.hypot(np.diff(px), np.diff(py))
        assert (steps <= o.speed[1:] * dt * (1 + 1e-9) + 1e-9).all()
        assert o.speed.max() <= 1.8 * 2.0 * o.length  # at most 1.8 x the fastest cruise
        prev = None
        for f in long_frames:
            mask = f.labels == o.id
            n = int(mask.sum())
            assert (o.id in f.ids) == (n > 0)
            if n == 0:
                prev = None
                continue
            ys, xs = np.nonzero(mask)
            inside = xs.min() > 0 and ys.min() > 0 and xs.max() < 159 and ys.max() < 89
            # fully visible: as many pixels as a lone rendering of the fish would have
            if inside and n >= 0.98 * _lone_area(scene, o, f.index):
                c = np.array([xs.mean(), ys.mean()])
                assert np.hypot(*(c - (px[f.index], py[f.index]))) < 0.25 * o.length
                if prev is not None and prev[0] == f.index - 1:
                    jump = np.hypot(*(c - prev[1]))
                    assert jump <= o.speed[f.index] * dt + 0.2 * o.length, (o.id, f.index)
                    checked += 1
                prev = (f.index, c)
            else:
                prev = None
    assert checked > 50


def _lone_area(scene, o, i) -> int:
    from ecoseg.synth.animals import signed_distance

    cx, cy = scene.camera_xy[i]
    dx = np.arange(scene.width, dtype=np.float64)[None, :] - (o.x[i] - cx)
    dy = np.arange(scene.height, dtype=np.float64)[:, None] - (o.y[i] - cy)
    return int((signed_distance(o, i, dx, dy)[0] < 0).sum())


def test_fish_enter_leave_and_come_back_with_their_id(long_scene, long_frames):
    scene = long_scene
    present = np.zeros((scene.frames, len(scene.organisms) + 1), bool)
    for f in long_frames:
        present[f.index, list(f.ids)] = True
        assert set(np.unique(f.labels)) - {0} == set(f.ids)
    fish = [o for o in scene.organisms if o.kind == "fish"]
    entered = left = came_back = 0
    for o in fish:
        seen = present[:, o.id]
        d = np.diff(seen.astype(int))
        entered += int((d == 1).sum() > 0)
        left += int((d == -1).sum() > 0)
        gone = np.flatnonzero(~seen)
        # a real exit: away from the frame (not hidden) and visible again later, same id
        cx = scene.camera_xy[:, 0]
        out = np.abs(o.x - cx - scene.width / 2) > scene.width / 2 + o.length
        back = [i for i in gone if out[i] and seen[i:].any() and seen[:i].any()]
        came_back += int(bool(back))
    assert entered >= 2 and left >= 2 and came_back >= 1
    # invertebrates barely move
    for o in scene.organisms:
        if o.kind == "invertebrate":
            assert np.hypot(o.x[-1] - o.x[0], o.y[-1] - o.y[0]) < 0.5 * o.length


# --------------------------------------------------------------------------- cameras
def _shift(a, b) -> np.ndarray:
    from skimage.registration import phase_cross_correlation

    g = [x.astype(np.float64).mean(axis=-1) for x in (a, b)]
    shift, _, _ = phase_cross_correlation(g[0], g[1], upsample_factor=1)
    return shift  # (dy, dx) that moves b onto a


def test_pan_moves_the_reef_by_the_camera_offset():
    scene = make_scene(seed=2, frames=31, size=(320, 180), camera="pan", n_fish=0)
    cam = scene.camera_xy
    assert (cam[:, 1] == cam[0, 1]).all()
    dx = int(cam[30, 0] - cam[0, 0])
    speed = dx / (30 / scene.fps) / scene.width  # frame widths per second
    assert 0.07 < speed < 0.13 and (np.diff(cam[:, 0]) >= 0).all()
    a = render_layers(scene, 0).reef
    b = render_layers(scene, 30).reef
    sy, sx = _shift(a, b)
    assert abs(sy) <= 1 and abs(sx - dx) <= 1
    # the overlap of both views is the same reef
    assert np.abs(a[:, dx:].astype(int) - b[:, : scene.width - dx]).mean() < 20


def test_fast_pan_outruns_the_fish():
    scene = make_scene(seed=2, frames=31, size=(320, 180), camera="fast-pan")
    cam = scene.camera_xy
    dx = int(cam[30, 0] - cam[0, 0])
    speed = dx / (30 / scene.fps) / scene.width  # frame widths per second
    assert 0.75 < speed < 1.25 and (np.diff(cam[:, 0]) > 0).all()
    fish = max(float(np.mean(o.speed)) for o in scene.organisms) / scene.width
    assert speed > 3 * fish  # faster than any animal swims on screen
    sy, sx = _shift(render_layers(scene, 0).reef, render_layers(scene, 3).reef)
    assert abs(sy) <= 1 and abs(sx - (cam[3, 0] - cam[0, 0])) <= 1


def test_shake_jitters_a_little_and_static_stays():
    shake = make_scene(seed=2, frames=60, size=(320, 180), camera="shake", n_fish=0)
    off = shake.camera_xy - shake.camera_xy.mean(axis=0)
    assert np.abs(off).max() <= 10 and len(np.unique(shake.camera_xy, axis=0)) > 5
    i = int(np.argmax(np.abs(shake.camera_xy - shake.camera_xy[0]).sum(axis=1)))
    expected = shake.camera_xy[i] - shake.camera_xy[0]
    sy, sx = _shift(render_layers(shake, 0).reef, render_layers(shake, i).reef)
    assert (sx, sy) == tuple(expected)
    static = make_scene(seed=2, frames=60, size=(320, 180), camera="static", n_fish=0)
    assert (static.camera_xy == static.camera_xy[0]).all()
    sy, sx = _shift(render_layers(static, 0).reef, render_layers(static, 59).reef)
    assert (sx, sy) == (0, 0)


def test_caustics_flicker_and_particles_drift():
    scene = make_scene(seed=5, frames=20, size=SMALL, n_fish=0, n_invertebrates=0)
    a, _ = render(scene, 0)
    b, _ = render(scene, 19)
    assert 1.0 < np.abs(a.astype(int) - b).mean() < 40  # the lighting changes, not the reef
    # blue-green water: green and blue dominate red
    mean = a.reshape(-1, 3).mean(axis=0)
    assert mean[1] > mean[0] * 1.3 and mean[2] > mean[0] * 1.3


# --------------------------------------------------------------------------- files
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("clip")
    params = dict(seed=3, frames=14, size=(96, 64), fps=12.5, camera="shake", n_fish=4)
    return synth(out, chunk_frames=4, **params), params


def test_video_reads_back(written):
    from ecoseg.io.video import open_video

    result, params = written
    video = open_video(result.video)
    assert len(video) == params["frames"]
    assert video.size == params["size"]
    expected = np.arange(params["frames"]) / params["fps"]
    assert np.allclose(video.times, expected, rtol=0, atol=1e-9)
    scene = make_scene(**params)
    for frame in video:
        ref, _ = render(scene, frame.index)
        assert frame.image.shape == ref.shape
        assert np.abs(frame.image.astype(int) - ref).mean() < 12  # H.264 at crf 20, tiny frame


def test_truth_store_reads_back(written):
    from ecoseg.store import open_masks

    result, params = written
    ds = open_masks(result.truth)
    scene = make_scene(**params)
    n, (w, h) = params["frames"], params["size"]
    assert ds["labels"].shape == (n, h, w)
    frames = list(synth_frames(scene))
    shown = sorted({k for f in frames for k in f.ids})
    ids = ds["object"].values.tolist()
    assert sorted(ids) == shown  # the organisms some frame shows
    cls = {o.id: o.cls for o in scene.organisms}
    assert ds["object_class"].values.tolist() == [cls[k] for k in ids]
    assert ds["scores"].shape == (n, len(ids))
    assert np.array_equal(ds["time"].values, scene.times)
    labels = ds["labels"].values
    scores = ds["scores"].values
    for f in frames:
        assert np.array_equal(labels[f.index], f.labels)
        present = np.isin(ids, f.ids)
        assert np.array_equal(scores[f.index], present.astype(np.float32))
    attrs = ds.attrs
    assert attrs["calibration"]["mm_per_px"] == result.mm_per_px == scene.mm_per_px
    prov = attrs["provenance"]
    assert prov["generator"] == "ecoseg.synth" and prov["seed"] == 3
    assert prov["parameters"]["camera"] == "shake" and prov["parameters"]["fps"] == 12.5
    assert prov["video"]["sha256"]
    # the result's tables agree with the store
    table = result.objects.set_index("id")
    assert (table["frames_visible"].values == (scores > 0).sum(axis=0)).all()
    assert table.index.tolist() == ids
    for name, maxn in result.maxn.items():
        cols = [k for k, i in enumerate(ids) if cls[i] == name]
        assert maxn == int((scores[:, cols] > 0).sum(axis=1).max())


def test_the_truth_lists_only_organisms_some_frame_shows(tmp_path):
    """data/study's north-t1 settings: damselfish 2 starts past the right edge and never swims
    in. The truth listed it with no pixel in any frame (``info`` said 7 objects, ``evaluate``
    scored 6, MaxN from the truth had ``damselfish: 0``); fish 4 first shows in frame 21, in a
    later chunk here, and is listed from there with score 0 before."""
    from ecoseg.store import open_masks

    params = dict(seed=21, frames=60, size=(160, 90), fps=30.0, n_fish=5, n_invertebrates=2)
    result = synth(tmp_path, chunk_frames=10, **params)
    scene = make_scene(**params)
    assert 2 not in {k for f in synth_frames(scene) for k in f.ids}  # the case, still there
    ds = open_masks(result.truth)
    labels, scores = ds["labels"].values, ds["scores"].values
    ids = ds["object"].values.tolist()
    assert ids == [1, 3, 5, 6, 7, 4] == result.objects["id"].tolist()
    for k, i in enumerate(ids):  # every object of the truth has pixels, where it scores 1
        shows = (labels == i).any(axis=(1, 2))
        assert shows.any(), f"object {i} has no pixel"
        assert np.array_equal(scores[:, k], shows.astype(np.float32)), i
    assert scores[:21, ids.index(4)].max() == 0 and scores[21:, ids.index(4)].min() == 1
    assert "damselfish" not in result.maxn and (result.objects["frames_visible"] > 0).all()


def test_refuses_to_overwrite(tmp_path):
    params = dict(seed=1, frames=2, size=(32, 32), n_fish=1, n_invertebrates=0)
    first = synth(tmp_path, **params)
    with pytest.raises(ConfigError, match="video.mp4"):
        synth(tmp_path, **params)
    first.video.unlink()
    with pytest.raises(StoreError, match="truth.zarr"):
        synth(tmp_path, **params)
    again = synth(tmp_path, overwrite=True, **dict(params, frames=3))
    from ecoseg.store import open_masks

    assert open_masks(again.truth)["labels"].shape[0] == 3
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(size=(161, 90)), "even"),
        (dict(size=(8, 8)), "at least"),
        (dict(size=(0, 90)), "at least"),
        (dict(size="640x360"), "size"),
        (dict(size=(64.5, 36)), "size"),
        (dict(frames=0), "frames"),
        (dict(frames=2.5), "frames"),
        (dict(camera="zoom"), "camera"),
        (dict(fps=0), "fps"),
        (dict(fps=float("nan")), "fps"),
        (dict(fps="25"), r"fps \(--fps\) must be a number between 0.1 and 1000, got '25'"),
        (dict(fps=True), "fps"),
        (dict(n_fish=-1), "n_fish"),
        (dict(n_invertebrates="2"), "n_invertebrates"),
        (dict(seed=-1), r"seed \(--seed\) must be an integer >= 0, got -1"),
        (dict(seed=1.5), "seed"),
    ],
)
def test_bad_parameters(kwargs, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        make_scene(**kwargs)
    with pytest.raises(ConfigError, match=match):
        synth(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()  # nothing written


def test_render_index_out_of_range():
    scene = make_scene(seed=0, frames=2, size=(32, 32))
    with pytest.raises(IndexError, match="frame 2"):
        render(scene, 2)
    with pytest.raises(IndexError):
        render(scene, -1)


def test_no_animals_and_one_frame(tmp_path):
    result = synth(tmp_path, frames=1, size=(32, 32), n_fish=0, n_invertebrates=0)
    assert result.frames == 1 and result.maxn == {} and len(result.objects) == 0
    assert "frames_visible" in result.objects.columns


# --------------------------------------------------------------------------- the bundled sample
def test_bundled_sample_regenerates_exactly():
    from ecoseg.io.video import open_video
    from ecoseg.store import open_masks

    assert SAMPLE.is_dir(), "data/sample is missing (see data/README.md)"
    ds = open_masks(SAMPLE / "truth.zarr")
    prov = ds.attrs["provenance"]
    p = prov["parameters"]
    scene = make_scene(
        prov["seed"],
        frames=p["frames"],
        size=tuple(p["size"]),
        fps=p["fps"],
        camera=p["camera"],
        n_fish=p["n_fish"],
        n_invertebrates=p["n_invertebrates"],
    )
    assert ds["labels"].shape == (scene.frames, scene.height, scene.width)
    assert np.array_equal(ds["time"].values, scene.times)
    assert list(ds["object_class"].values) == [o.cls for o in scene.organisms]
    for i in (0, scene.frames // 2, scene.frames - 1):
        assert np.array_equal(ds["labels"][i].values, render(scene, i)[1]), f"frame {i}"
    video = open_video(SAMPLE / "video.mp4")
    assert len(video) == scene.frames
    assert np.allclose(video.times, scene.times, rtol=0, atol=1e-9)
    # the README documents the same command and the truth's MaxN
    readme = (SAMPLE.parent / "README.md").read_text()
    code = "".join(readme.split()).replace("'", '"')  # the call, whatever its line breaks
    assert f'ecoseg.synth("data/sample",seed={prov["seed"]},' in code
    for key in ("frames", "fps", "camera", "n_fish", "n_invertebrates"):
        assert f"{key}={json.dumps(p[key])}," in code, key
    scores = ds["scores"].values > 0
    classes = list(ds["object_class"].values)
    for cls in set(classes):
        cols = [k for k, c in enumerate(classes) if c == cls]
        maxn = int(scores[:, cols].sum(axis=1).max())
        assert f"| {cls} | {len(cols)} | {maxn} |" in readme, cls


def test_top_level_name_is_callable_after_importing_the_module(tmp_path):
    import ecoseg
    import ecoseg.synth  # binds the name ecoseg.synth to the module

    result = ecoseg.synth(tmp_path, frames=2, size=(32, 32), n_fish=1, n_invertebrates=0)
    assert result.frames == 2 and result.video.is_file()


def test_the_result_shows_what_was_written_in_one_line(tmp_path):
    # the dataclass repr printed the whole objects table and MaxN dict (a dozen lines)
    result = synth(tmp_path, frames=2, size=(32, 24), fps=12.5, n_fish=2, n_invertebrates=1)
    assert repr(result) == (
        f"<SynthResult {str(tmp_path / 'video.mp4')!r} + {str(tmp_path / 'truth.zarr')!r}: "
        f"2 frames of 32x24 at 12.5 fps, {len(result.objects)} objects>"
    )


def test_an_interrupted_synth_leaves_nothing_a_rerun_must_overwrite(tmp_path, monkeypatch):
    # Ctrl-C in a notebook left a half truth.zarr: the re-run asked for overwrite=True
    import ecoseg.synth.writer

    real = ecoseg.synth.writer.synth_frames

    def interrupted(scene):
        for frame in real(scene):
            if frame.index == 5:
                raise KeyboardInterrupt
            yield frame

    monkeypatch.setattr(ecoseg.synth.writer, "synth_frames", interrupted)
    with pytest.raises(KeyboardInterrupt):
        synth(tmp_path / "clip", frames=12, size=(32, 24), chunk_frames=2)
    assert sorted(p.name for p in (tmp_path / "clip").iterdir()) == []
    monkeypatch.undo()
    assert synth(tmp_path / "clip", frames=12, size=(32, 24)).frames == 12
