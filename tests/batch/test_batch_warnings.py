"""ecoseg's warnings of a campaign's videos: kept by the task where it runs (a worker process or
thread) and said once by the caller, naming the video. A worker process printed them in
Python's two lines naming a line of Dask ('.../dask/_task_spec.py:768: FastCameraWarning:
...'), and no line said which of the campaign's videos the camera moved too fast in."""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import fsspec
import pytest

import ecoseg
from ecoseg.batch import batch
from ecoseg.batch.jobs import Job, run_job
from ecoseg.engine.classical.motion import FastCameraWarning

SIZE = (320, 180)  # a fast pan the motion tracker warns about (tests/engine/test_camera_motion)


@pytest.fixture(scope="module")
def pans(tmp_path_factory):
    """A clip whose camera moves too fast for the motion tracker, and a still one."""
    folder = tmp_path_factory.mktemp("pans")
    fast = ecoseg.synth(folder / "fast", seed=1, frames=40, size=SIZE, camera="fast-pan")
    still = ecoseg.synth(folder / "still", seed=1, frames=40, size=SIZE, camera="static")
    return str(fast.video), str(still.video)


def _fast_camera(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, FastCameraWarning)]


def _job(video: str, store) -> Job:
    return Job("fast", video, str(store), {"engine": "classical", "progress": False})


def test_a_task_keeps_its_warnings_naming_the_video(pans, tmp_path):
    fast, _ = pans
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_job(_job(fast, tmp_path / "fast.zarr"))
    assert _fast_camera(caught) == []  # not issued where the task ran
    [(message, category)] = result["warnings"]
    assert category is FastCameraWarning and message.startswith(f"{fast}: the camera moved")


def test_a_url_video_is_named_not_its_temporary_copy(pans, tmp_path):
    fast, _ = pans
    url = "memory://s61-batchwarn/fast.mp4"
    with open(fast, "rb") as src:
        fsspec.filesystem("memory").pipe(url, src.read())
    result = run_job(_job(url, tmp_path / "fast.zarr"))
    [(message, _)] = result["warnings"]
    assert message.startswith(f"{url}: the camera moved") and "ecoseg-batch-" not in message


@pytest.mark.parametrize("where", ["thread pool", "threads of this process (cancel)"])
def test_batch_says_each_warning_once_naming_its_video(pans, tmp_path, where):
    fast, still = pans
    given = (
        {"scheduler": ThreadPoolExecutor(2)}
        if where == "thread pool"
        else {"cancel": threading.Event(), "workers": 2}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = batch([fast, still], tmp_path / "out", progress=False, **given)
    assert summary["status"].tolist() == ["done", "done"]
    [message] = _fast_camera(caught)
    assert message.startswith(f"{fast}: the camera moved")


def test_cli_batch_on_a_process_cluster_prints_one_line_naming_the_video(pans, tmp_path, capfd):
    from ecoseg.cli import main

    fast, still = pans
    capfd.readouterr()
    args = ["batch", fast, still, "-o", str(tmp_path / "out"), "--workers", "1", "--quiet"]
    assert main(args) == 0
    err = capfd.readouterr().err  # (the worker processes' stderr too)
    lines = [line for line in err.splitlines() if "camera moved" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ecoseg: warning: {fast}: the camera moved")
    assert "FastCameraWarning" not in err and "_task_spec" not in err
