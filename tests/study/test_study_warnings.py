"""A study's video whose camera moves too fast for the motion tracker: the warning is said
once, naming the video, in the caller's thread, whether the study segments its videos here or
on a pool (the task keeps it: :func:`ecoseg.batch.jobs.run_job`)."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

import ecoseg
from ecoseg.engine.classical.motion import FastCameraWarning
from ecoseg.study import run_study


@pytest.mark.parametrize("pool", [False, True])
def test_a_fast_camera_is_said_once_naming_the_video(tmp_path, pool):
    clip = ecoseg.synth(tmp_path / "pan", seed=1, frames=40, size=(320, 180), camera="fast-pan")
    path = tmp_path / "study.yaml"
    path.write_text("output: out\nvideos:\n  - path: pan/video.mp4\n    engine: classical\n")
    scheduler = ThreadPoolExecutor(1) if pool else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_study(path, progress=False, report=False, scheduler=scheduler)
    said = [str(w.message) for w in caught if issubclass(w.category, FastCameraWarning)]
    assert len(said) == 1 and said[0].startswith(f"{clip.video}: the camera moved"), said


@pytest.mark.parametrize("pool", [False, True])
def test_a_failed_video_s_warnings_are_said_before_its_error(tmp_path, pool, monkeypatch):
    """A video that failed had its warnings dropped with it (they often tell why it failed):
    they are said once, naming the video, and then its error is raised."""
    from ecoseg._warn import warn
    from ecoseg.errors import StoreError

    clip = ecoseg.synth(tmp_path / "pan", seed=1, frames=4, size=(64, 48))

    def segment(video, prompts=None, **kwargs):
        warn(f"{video}: the camera moved too fast", FastCameraWarning)
        raise StoreError(f"{kwargs['out']}: the disk is full")

    monkeypatch.setattr(ecoseg.engine, "segment", segment)
    path = tmp_path / "study.yaml"
    path.write_text("output: out\nvideos:\n  - path: pan/video.mp4\n    engine: classical\n")
    scheduler = ThreadPoolExecutor(1) if pool else None
    with warnings.catch_warnings(record=True) as caught, pytest.raises(StoreError):
        warnings.simplefilter("always")
        run_study(path, progress=False, report=False, scheduler=scheduler)
    said = [str(w.message) for w in caught if issubclass(w.category, FastCameraWarning)]
    assert said == [f"{clip.video}: the camera moved too fast"]
