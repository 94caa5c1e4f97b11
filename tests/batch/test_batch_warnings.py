"""ecoseg's warnings of a campaign's videos: kept by the task where it runs (a worker process or
thread) and said once by the caller, naming the video. A worker process printed them in
Python's two lines naming a line of Dask ('.../dask/_task_spec.py:768: FastCameraWarning:
...'), and no line said which of the campaign's videos the camera moved too fast in."""

from __future__ import annotations

import sys
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


ATTEMPTS: list[str] = []


@pytest.fixture
def warns_then_fails(monkeypatch):
    """``segment`` warns about its video (each attempt the same, or each its own with
    ``"differ"`` in the video's name), then fails: a storage error (retried), or a video it
    cannot read (``"broken"`` in the name: not retried)."""
    from ecoseg._warn import warn
    from ecoseg.errors import StoreError, VideoError

    ATTEMPTS.clear()

    def segment(video, prompts=None, **kwargs):
        ATTEMPTS.append(video)
        again = f" (attempt {ATTEMPTS.count(video)})" if "differ" in video else ""
        warn(f"{video}: the camera moved too fast{again}", FastCameraWarning)
        if "broken" in video:
            raise VideoError(f"{video}: not a readable video")
        raise StoreError(f"{kwargs['out']}: the disk is full")

    monkeypatch.setattr(ecoseg.engine, "segment", segment)


def _videos(folder, *names) -> list[str]:
    for name in names:
        (folder / name).write_bytes(f"{name}: not read (segment is replaced)".encode())
    return [str(folder / name) for name in names]


def test_a_failed_run_s_warnings_go_with_its_error(warns_then_fails, tmp_path):
    import pickle

    (video,) = _videos(tmp_path, "same.mp4")
    with pytest.raises(ecoseg.errors.StoreError) as failed:
        run_job(_job(video, tmp_path / "same.zarr"))
    again = pickle.loads(pickle.dumps(failed.value))  # (from a worker process)
    assert again.ecoseg_warnings == [(f"{video}: the camera moved too fast", FastCameraWarning)]


def test_batch_says_a_failed_video_s_warnings_once_per_warning(warns_then_fails, tmp_path):
    """A failed video's warnings were dropped with it; now each is said once, naming the
    video, whatever the attempts (a retry's warning that differs is said too)."""
    same, differ, broken = _videos(tmp_path, "same.mp4", "differ.mp4", "broken.mp4")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = batch(
            [same, differ, broken],
            tmp_path / "out",
            scheduler=ThreadPoolExecutor(2),
            retries=2,
            progress=False,
        )
    assert summary["status"].tolist() == ["failed"] * 3
    assert summary["attempts"].tolist() == [3, 3, 1]  # (a video it cannot read: not retried)
    said = _fast_camera(caught)
    assert said.count(f"{same}: the camera moved too fast") == 1
    assert f"{broken}: the camera moved too fast" in said
    assert [m for m in said if m.startswith(differ)] == [
        f"{differ}: the camera moved too fast (attempt {n})" for n in (1, 2, 3)
    ]
    assert len(said) == 5


def test_cli_batch_says_a_failed_video_s_warning_through_its_bar(
    warns_then_fails, tmp_path, capsys, monkeypatch
):
    """The warning line comes before the video's failure line, each on a line of its own: it
    was printed past the progress bar's text ('...| 0/1 [00:00<?, ?video/s]ecoseg: warning:
    ...'), not through the bar (tqdm's write), as the command's own lines are."""
    from ecoseg.cli import main

    def threads(*args, **kwargs):  # (segment is replaced in this process only)
        return batch(*args, **{**kwargs, "scheduler": ThreadPoolExecutor(1)})

    monkeypatch.setattr(sys.modules["ecoseg.batch"], "batch", threads)
    (broken,) = _videos(tmp_path, "broken.mp4")
    capsys.readouterr()
    assert main(["batch", broken, "-o", str(tmp_path / "out")]) != 0  # (a video failed)
    shown = [line.split("\r")[-1] for line in capsys.readouterr().err.split("\n")]
    warned = [i for i, line in enumerate(shown) if "camera moved" in line]
    failed = [i for i, line in enumerate(shown) if line.startswith("ecoseg batch: broken")]
    assert len(warned) == 1 and len(failed) == 1 and warned[0] < failed[0], shown
    assert shown[warned[0]] == f"ecoseg: warning: {broken}: the camera moved too fast"


@pytest.fixture
def numpy_warns(monkeypatch):
    """``segment`` warns as numpy does (``RuntimeWarning``, not ecoseg's), then fails."""
    from ecoseg.errors import StoreError

    def segment(video, prompts=None, **kwargs):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)
        raise StoreError(f"{kwargs['out']}: the disk is full")

    monkeypatch.setattr(ecoseg.engine, "segment", segment)


def test_another_library_s_warning_in_a_task_is_said_naming_the_video(numpy_warns, tmp_path):
    """A task's warning of another library (numpy's) was issued where the task ran, in
    Python's raw form naming numpy's line and no video; it is said by the caller, once,
    naming the video, in its own category."""
    (video,) = _videos(tmp_path, "mean.mp4")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch([video], tmp_path / "out", scheduler=ThreadPoolExecutor(1), progress=False)
    said = [(str(w.message), w.category) for w in caught if "empty slice" in str(w.message)]
    assert said == [(f"{video}: Mean of empty slice", RuntimeWarning)]


def test_cli_batch_says_another_library_s_warning_in_one_line(
    numpy_warns, tmp_path, capsys, monkeypatch
):
    from ecoseg.cli import main

    def threads(*args, **kwargs):  # (segment is replaced in this process only)
        return batch(*args, **{**kwargs, "scheduler": ThreadPoolExecutor(1)})

    monkeypatch.setattr(sys.modules["ecoseg.batch"], "batch", threads)
    (video,) = _videos(tmp_path, "mean.mp4")
    capsys.readouterr()
    assert main(["batch", video, "-o", str(tmp_path / "out"), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "empty slice" in line] == [
        f"ecoseg: warning: {video}: Mean of empty slice"
    ], err
    assert "RuntimeWarning" not in err
