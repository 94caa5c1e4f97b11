"""``ecoseg.batch(..., cancel=event)``: once the event is set, the video being segmented stops
before its next frame (its store flushed, as ``ecoseg.segment``'s ``cancel``), no further video
starts, the summary is written and :class:`Cancelled` is raised; the same call again ends in the
stores of an uninterrupted campaign. With no scheduler the videos then run in threads of this
process; with a Dask client the workers see the event as a named ``distributed.Event`` (an
event cannot be pickled for them), set once it is."""

from __future__ import annotations

import pickle
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from suite_helpers import StopAfter

import ecoseg
import ecoseg.engine.classical
from ecoseg.batch import SUMMARY_FILE, batch
from ecoseg.batch.cluster import ClusterCancel
from ecoseg.errors import Cancelled
from ecoseg.store import MaskStore

FRAMES = 24
NAMES = ("first", "second")
SETTINGS = dict(engine="classical", params={"warmup": 4}, progress=False)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """Two clips and the stores of an uninterrupted campaign over them."""
    folder = tmp_path_factory.mktemp("batch-cancel")
    videos = []
    for seed, name in enumerate(NAMES, start=1):
        clip = ecoseg.synth(folder / f"_{name}", seed=seed, frames=FRAMES, size=(160, 96))
        videos.append(shutil.move(clip.video, folder / f"{name}.mp4"))
    with ThreadPoolExecutor(1) as pool:
        summary = batch(videos, folder / "full", scheduler=pool, **SETTINGS)
    assert summary["status"].tolist() == ["done", "done"]
    return videos, folder / "full"


def _assert_same_stores(out, reference) -> None:
    for video in NAMES:
        with (
            MaskStore.open(reference / f"{video}.zarr") as a,
            MaskStore.open(out / f"{video}.zarr") as b,
        ):
            assert b.complete and b.n_frames == a.n_frames == FRAMES
            np.testing.assert_array_equal(b.read_labels(), a.read_labels())
            np.testing.assert_array_equal(b.read_time(), a.read_time())
            np.testing.assert_array_equal(b.read_scores(), a.read_scores())
            assert b.objects == a.objects and len(a.objects) > 0


@pytest.mark.parametrize("scheduler", ["none", "threads"])
def test_a_set_cancel_stops_the_video_starts_no_other_and_the_same_call_resumes(
    scheduler, campaign, tmp_path, monkeypatch
):
    videos, full = campaign
    stop = threading.Event()
    monkeypatch.setattr(
        ecoseg.engine.classical, "track", StopAfter(ecoseg.engine.classical.track, stop, 10)
    )
    out = tmp_path / "out"
    pool = ThreadPoolExecutor(1) if scheduler == "threads" else None
    try:
        with pytest.raises(
            Cancelled, match=r"out: batch cancelled, 2 of 2 videos not finished \(first, second\)"
        ):
            batch(videos, out, scheduler=pool, workers=1, cancel=stop, **SETTINGS)
    finally:
        if pool is not None:
            pool.shutdown()
    with MaskStore.open(out / "first.zarr") as cut:  # stopped between frames, flushed
        assert 0 < cut.n_frames < FRAMES and not cut.complete
    assert not (out / "second.zarr").exists()  # never started
    summary = pd.read_csv(out / SUMMARY_FILE)
    assert summary["status"].tolist() == ["failed", "failed"]
    assert summary["frames"].tolist()[1] == 0
    assert summary["error"].str.startswith("cancelled: the run was cancelled").all()

    monkeypatch.undo()
    again = batch(videos, out, cancel=threading.Event(), **SETTINGS)  # (in this process)
    assert again["status"].tolist() == ["done", "done"]
    _assert_same_stores(out, full)


def test_a_cancel_set_before_the_call_starts_nothing(campaign, tmp_path):
    videos, _ = campaign
    with pytest.raises(Cancelled, match="2 of 2 videos not finished"):
        batch(videos, tmp_path / "out", cancel=lambda: True, **SETTINGS)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [SUMMARY_FILE]


@pytest.mark.parametrize("when", ["while the first video runs", "before the call"])
def test_a_set_cancel_reaches_the_workers_of_a_dask_cluster(when, campaign, tmp_path, monkeypatch):
    """Before stop 62 a cancel with a Dask client was refused: the event cannot be pickled."""
    distributed = pytest.importorskip("distributed")
    videos, full = campaign
    stop = threading.Event()
    if when == "before the call":
        stop.set()
    else:
        slowed = StopAfter(ecoseg.engine.classical.track, stop, 10, slow=0.1)
        monkeypatch.setattr(ecoseg.engine.classical, "track", slowed)
    out = tmp_path / "out"
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with pytest.raises(Cancelled, match=r"out: batch cancelled, 2 of 2 videos not finished"):
            batch(videos, out, scheduler=client, cancel=stop, **SETTINGS)
    summary = pd.read_csv(out / SUMMARY_FILE)
    assert summary["status"].tolist() == ["failed", "failed"]
    assert summary["error"].str.startswith("cancelled: the run was cancelled").all()
    assert not (out / "second.zarr").exists()  # never started
    if when == "before the call":
        assert not (out / "first.zarr").exists()
    else:
        with MaskStore.open(out / "first.zarr") as cut:  # stopped between frames, flushed
            assert 0 < cut.n_frames < FRAMES and not cut.complete
    monkeypatch.undo()
    again = batch(videos, out, cancel=threading.Event(), **SETTINGS)
    assert again["status"].tolist() == ["done", "done"]
    _assert_same_stores(out, full)


def test_the_cancel_a_cluster_worker_sees_is_pickled_by_its_name():
    seen = pickle.loads(pickle.dumps(ClusterCancel("ecoseg-cancel-x", every=0.5)))
    assert (type(seen), seen.name, seen.every) == (ClusterCancel, "ecoseg-cancel-x", 0.5)
