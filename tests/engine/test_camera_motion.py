"""The motion tracker's moving-camera check (ecoseg.engine.classical.motion): it fires on a
synthetic pan faster than the animals, stays silent on static clips and on the demo's sample,
and is recorded in the store's provenance and said once by the CLI."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

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


@pytest.mark.parametrize("seed", [0, 1])
def test_silent_on_static_clips(seed):
    run, _, said = _run(_scene_frames(make_scene(seed, frames=60, size=SIZE, camera="static")))
    assert not said
    assert not run.camera_motion.too_fast and run.camera_motion.camera_speed < 0.5


def test_silent_on_a_slow_pan():
    run, _, said = _run(_scene_frames(make_scene(0, frames=60, size=SIZE, camera="pan")))
    assert not said and 0 < run.camera_motion.camera_speed < run.camera_motion.limit


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
    assert len(lines) == 1 and lines[0].startswith("ecoseg: warning: the camera moved")
    assert main(["segment", str(still.video), "-o", str(tmp_path / "s.zarr")]) == 0
    assert "camera moved" not in capsys.readouterr().err
