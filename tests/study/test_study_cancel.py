"""``run_study(..., cancel=event)``: once the event is set, the video being segmented stops
before its next frame (its store flushed), no further video starts, and :class:`Cancelled` is
raised, named after the video's study entry; the same call again ends as an uninterrupted
study (stores and combined tables)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from study_helpers import EPOCH, write_study
from suite_helpers import StopAfter

import ecoseg
import ecoseg.engine.classical
from ecoseg.errors import Cancelled
from ecoseg.store import MaskStore
from ecoseg.study import TABLES, run_study

FRAMES = 24
VIDEOS = ("reef-a", "reef-b")


def _clips(root) -> None:
    ecoseg.synth(root / "a", seed=3, frames=FRAMES, size=(96, 64), n_fish=3, n_invertebrates=1)
    ecoseg.synth(root / "b", seed=4, frames=FRAMES, size=(96, 64), n_fish=2, n_invertebrates=1)
    write_study(root)


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """A study run once without interruption."""
    root = tmp_path_factory.mktemp("study-full")
    _clips(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        run_study(root / "study.yaml", progress=False, report=False)
    return root / "out"


@pytest.mark.parametrize("scheduler", ["none", "threads"])
def test_a_set_cancel_stops_the_video_starts_no_other_and_the_same_call_resumes(
    scheduler, full, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    _clips(tmp_path)
    stop = threading.Event()
    with monkeypatch.context() as mp:
        mp.setattr(
            ecoseg.engine.classical, "track", StopAfter(ecoseg.engine.classical.track, stop, 8)
        )
        pool = ThreadPoolExecutor(1) if scheduler == "threads" else None
        try:
            with pytest.raises(Cancelled) as info:
                run_study(
                    tmp_path / "study.yaml", progress=False, report=False, scheduler=pool,
                    cancel=stop,
                )  # fmt: skip
        finally:
            if pool is not None:
                pool.shutdown()
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'study.yaml'}: line 9: videos[0] (reef-a): ")
    stores = tmp_path / "out" / "stores"
    with MaskStore.open(stores / "reef-a.zarr") as cut:  # stopped between frames, flushed
        assert 0 < cut.n_frames < FRAMES and not cut.complete
        assert message.endswith(
            f"reef-a.zarr: cancelled after {cut.n_frames} frames; the same run_study call "
            "(ecoseg study) again continues the study"
        )
    assert not (stores / "reef-b.zarr").exists()  # never started
    assert not (tmp_path / "out" / "tables").exists()  # nothing measured

    result = run_study(tmp_path / "study.yaml", progress=False, report=False)
    assert result.segmented == list(VIDEOS)
    for video in VIDEOS:
        with (
            MaskStore.open(full / "stores" / f"{video}.zarr") as a,
            MaskStore.open(stores / f"{video}.zarr") as b,
        ):
            assert b.complete and b.n_frames == a.n_frames == FRAMES
            np.testing.assert_array_equal(b.read_labels(), a.read_labels())
            np.testing.assert_array_equal(b.read_scores(), a.read_scores())
            assert b.objects == a.objects and len(a.objects) > 0
    for table in TABLES:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "out" / "tables" / f"{table}.parquet"),
            pd.read_parquet(full / "tables" / f"{table}.parquet"),
        )
