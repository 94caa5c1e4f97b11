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


def _study(tmp_path, monkeypatch, segment) -> tuple[str, object]:
    """A one-video study whose ``ecoseg.segment`` is ``segment``."""
    clip = ecoseg.synth(tmp_path / "pan", seed=1, frames=4, size=(64, 48))
    monkeypatch.setattr(ecoseg.engine, "segment", segment)
    path = tmp_path / "study.yaml"
    path.write_text("output: out\nvideos:\n  - path: pan/video.mp4\n    engine: classical\n")
    return str(clip.video), path


def test_a_video_s_warnings_are_said_before_a_bug_s_error(tmp_path, monkeypatch):
    """An error that is no ecoseg error (a bug: its traceback is shown) dropped the video's
    warnings in a study run here; they are said, naming the video, before it goes on."""
    from ecoseg._warn import warn

    def segment(video, prompts=None, **kwargs):
        warn(f"{video}: the camera moved too fast", FastCameraWarning)
        raise ZeroDivisionError("division by zero")

    video, path = _study(tmp_path, monkeypatch, segment)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ZeroDivisionError):
        warnings.simplefilter("always")
        run_study(path, progress=False, report=False)
    said = [str(w.message) for w in caught if issubclass(w.category, FastCameraWarning)]
    assert said == [f"{video}: the camera moved too fast"]


def test_a_video_segmented_here_says_its_warnings_as_they_come(tmp_path, monkeypatch):
    """A study run here said a video's warnings once it was segmented, not while (its bar
    drawn): now each is said as it is issued, naming the video, once; another library's
    (numpy's) too, in its own category."""
    from ecoseg._warn import warn

    heard: list[list[str]] = []

    def segment(video, prompts=None, **kwargs):
        warn(f"{video}: the camera moved too fast", FastCameraWarning)
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)  # (as numpy warns)
        heard.append([str(w.message) for w in caught])
        raise ecoseg.errors.StoreError(f"{kwargs['out']}: the disk is full")

    video, path = _study(tmp_path, monkeypatch, segment)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ecoseg.errors.StoreError):
        warnings.simplefilter("always")
        run_study(path, progress=False, report=False)
    expected = [f"{video}: the camera moved too fast", f"{video}: Mean of empty slice"]
    assert heard == [expected]  # while segment ran
    assert [str(w.message) for w in caught] == expected
    assert [w.category for w in caught] == [FastCameraWarning, RuntimeWarning]
