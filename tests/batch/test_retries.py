"""Retries of ``ecoseg batch``: a failure that would come again (bad settings, missing weights,
an unavailable device) is reported after its first attempt; I/O and other failures are
retried (ecoseg.batch.cluster.retried)."""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import ecoseg
from ecoseg.batch import batch
from ecoseg.batch.cluster import run_tasks
from ecoseg.errors import (
    CalibrationError,
    CheckpointError,
    ConfigError,
    FormatError,
    PromptError,
    StoreError,
    VideoError,
)

CALLS: Counter = Counter()
_LOCK = threading.Lock()


def fail_with(error: BaseException) -> None:
    """A task that always fails with ``error`` (module level, as workers import tasks)."""
    with _LOCK:
        CALLS[repr(error)] += 1
    raise error


CERTAIN = [
    ConfigError("device 'cuda': CUDA is not available here; use auto or cpu"),
    CheckpointError("no weights for sam2.1-tiny in the cache"),
    PromptError("p.json: object 1: point outside the frame"),
    FormatError("a.json: not COCO"),
    CalibrationError("calibration 0 mm/px"),
]
PASSING = [
    OSError("connection reset by peer"),
    VideoError("s3://bucket/a.mp4: cannot fetch the video (timeout)"),
    StoreError("a.zarr: locked by another writer"),
    RuntimeError("CUDA out of memory"),
]


@pytest.mark.parametrize("error", CERTAIN + PASSING, ids=lambda e: type(e).__name__)
def test_only_failures_that_may_pass_are_submitted_again(error):
    """Every failure was submitted again `retries` times, weights that are not there too."""
    CALLS.clear()
    seen = []
    with ThreadPoolExecutor(2) as pool:
        (result,) = run_tasks(
            pool,
            fail_with,
            [("v", error, None)],
            retries=2,
            on_retry=lambda key, attempt, exc: seen.append(attempt),
        )
    key, attempts, value, raised = result
    again = error in PASSING
    assert (key, value, raised) == ("v", None, error)
    assert attempts == CALLS[repr(error)] == (3 if again else 1)
    assert seen == ([1, 2] if again else [])


def test_the_certain_errors_are_the_inputs_own():
    from ecoseg.batch.cluster import CERTAIN_ERRORS, retried

    assert all(not retried(e) and isinstance(e, CERTAIN_ERRORS) for e in CERTAIN)
    assert all(retried(e) for e in PASSING)


def test_without_retries_nothing_is_submitted_again():
    CALLS.clear()
    with ThreadPoolExecutor(1) as pool:
        (result,) = run_tasks(pool, fail_with, [("v", OSError("disk"), None)], retries=0)
    assert result[1] == 1 and sum(CALLS.values()) == 1


def test_a_batch_reports_missing_weights_and_a_broken_video_after_one_attempt(
    tmp_path, monkeypatch, capsys
):
    """Missing weights were tried 1 + --retries times, each attempt failing alike; so was a
    truncated video (no MP4 index), which no new attempt decodes."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "empty-cache"))
    folder = tmp_path / "videos"
    clip = ecoseg.synth(folder / "_reef", frames=3, size=(64, 48), seed=4)
    shutil.move(clip.video, folder / "reef.mp4")
    (folder / "broken.mp4").write_bytes((folder / "reef.mp4").read_bytes()[:1500])
    prompts = tmp_path / "p.json"
    prompts.write_text(
        json.dumps({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[30, 20]]}]}]})
    )
    videos = [str(folder / "reef.mp4"), str(folder / "broken.mp4")]
    with ThreadPoolExecutor(1) as pool:
        summary = batch(
            videos,
            tmp_path / "out",
            scheduler=pool,
            retries=2,
            engine="sam2",
            prompts={"reef": prompts, "broken": prompts},
            image_size=64,
            device="cpu",
        )
    assert summary["status"].tolist() == ["failed", "failed"]
    assert summary["attempts"].tolist() == [1, 1]  # neither would pass on a new attempt
    weights, video = summary["error"].tolist()
    assert weights.startswith("no weights for sam2.1-tiny in the cache")
    assert video.startswith(f"{folder / 'broken.mp4'}: not a readable video (its MP4/MOV index")
    err = capsys.readouterr().err
    assert "reef: failed after 1 attempt(s), not retried (it would fail again): no weights" in err
    assert "broken: failed after 1 attempt(s), not retried (it would fail again): " in err
    assert "broken: attempt" not in err


def test_a_video_that_breaks_off_reports_the_frames_its_store_holds(tmp_path, monkeypatch):
    """A video that could not be decoded past frame 205 was 'failed, 0 frames' while its
    store held the 200 frames before it, which `ecoseg measure` reads."""
    import ecoseg.engine

    clip = ecoseg.synth(tmp_path / "clip", frames=12, size=(64, 48), seed=2)
    real = ecoseg.engine.segment

    def breaks_off(video, prompts=None, **kwargs):  # the decoder gives up after frame 8
        def stop(done, total):
            if done >= 8:
                raise VideoError(f"{video}: cannot decode frame 9: Invalid data")

        return real(video, prompts, **{**kwargs, "progress": stop})

    monkeypatch.setattr(ecoseg.engine, "segment", breaks_off)
    with ThreadPoolExecutor(1) as pool:
        summary = batch([clip.video], tmp_path / "out", scheduler=pool, retries=1, progress=False)
    assert summary["status"].tolist() == ["failed"] and summary["attempts"].tolist() == [1]
    assert "cannot decode frame 9" in summary["error"].iloc[0]
    held = ecoseg.batch.store_status(tmp_path / "out" / "video.zarr")
    assert held.state == "partial" and held.frames > 0
    assert summary["frames"].tolist() == [held.frames]


def test_an_interrupted_run_writes_what_it_did_to_the_summary(tmp_path, monkeypatch):
    """Ctrl-C left the summary of the run before (or none): a video it had just failed or
    finished read as the last run said. Now the summary is written, the stopped video's row
    saying so with the frames its store holds."""
    import ecoseg.engine
    from ecoseg.batch import SUMMARY_FILE

    a = ecoseg.synth(tmp_path / "a", frames=12, size=(64, 48), seed=1)
    b = ecoseg.synth(tmp_path / "b", frames=12, size=(64, 48), seed=2)
    shutil.move(a.video, tmp_path / "A.mp4")
    shutil.move(b.video, tmp_path / "B.mp4")
    real = ecoseg.engine.segment

    def ctrl_c_in_b(video, prompts=None, **kwargs):
        def stop(done, total):
            if done >= 8 and "B.mp4" in str(video):
                raise KeyboardInterrupt

        return real(video, prompts, **{**kwargs, "progress": stop})

    monkeypatch.setattr(ecoseg.engine, "segment", ctrl_c_in_b)
    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool, pytest.raises(KeyboardInterrupt):
        batch([tmp_path / "A.mp4", tmp_path / "B.mp4"], out, scheduler=pool, progress=False)
    summary = pd.read_csv(out / SUMMARY_FILE, keep_default_na=False)
    held = ecoseg.batch.store_status(out / "B.zarr")
    assert held.state == "partial" and held.frames > 0
    assert summary["status"].tolist() == ["done", "failed"]
    assert summary["frames"].tolist() == [12, held.frames]
    assert summary["error"].iloc[1].startswith("interrupted: the run was stopped before this")


def test_a_url_video_that_cannot_be_decoded_is_named_by_its_url_and_not_retried(tmp_path):
    """A truncated video at a URL failed 1 + --retries times, its error naming the temporary
    local copy (/tmp/ecoseg-batch-.../broken.mp4) that was gone by then; a URL that cannot be
    fetched is retried (the storage may answer next time)."""
    import fsspec

    clip = ecoseg.synth(tmp_path / "clip", frames=3, size=(64, 48), seed=3)
    fs = fsspec.filesystem("memory")
    fs.pipe("/s48-unreadable/broken.mp4", open(clip.video, "rb").read()[:1500])
    videos = ["memory://s48-unreadable/broken.mp4", "memory://s48-unreadable/gone.mp4"]
    try:
        with ThreadPoolExecutor(1) as pool:
            summary = batch(videos, tmp_path / "out", scheduler=pool, retries=1, progress=False)
    finally:
        fs.rm("/s48-unreadable", recursive=True)
    assert summary["status"].tolist() == ["failed", "failed"]
    assert summary["attempts"].tolist() == [1, 2]
    broken, gone = summary["error"].tolist()
    assert broken.startswith("memory://s48-unreadable/broken.mp4: not a readable video")
    assert "ecoseg-batch-" not in broken and "memory://s48-unreadable/gone.mp4" in gone
