"""``run_study(..., cancel=event)``: once the event is set, the video being segmented stops
before its next frame (its store flushed), no further video starts, and :class:`Cancelled` is
raised, named after the video's study entry; set later, the run stops before its next step
(a video's tables, the combined tables, the report). The same call again ends as an
uninterrupted study (stores and combined tables)."""

from __future__ import annotations

import contextlib
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


@pytest.mark.parametrize("scheduler", ["none", "threads", "dask"])
def test_a_set_cancel_stops_the_video_starts_no_other_and_the_same_call_resumes(
    scheduler, full, tmp_path, monkeypatch
):
    """On a Dask cluster's worker (stop 62; refused before) the stop is a named event."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    _clips(tmp_path)
    stop = threading.Event()
    with monkeypatch.context() as mp, contextlib.ExitStack() as running:
        mp.setattr(  # (slow: time for the stop to reach a cluster's worker)
            ecoseg.engine.classical, "track",
            StopAfter(ecoseg.engine.classical.track, stop, 8, slow=0.1),
        )  # fmt: skip
        pool = None
        if scheduler == "threads":
            pool = running.enter_context(ThreadPoolExecutor(1))
        elif scheduler == "dask":
            distributed = pytest.importorskip("distributed")
            cluster = running.enter_context(
                distributed.LocalCluster(
                    n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
                )
            )
            pool = running.enter_context(distributed.Client(cluster))
        with pytest.raises(Cancelled) as info:
            run_study(
                tmp_path / "study.yaml", progress=False, report=False, scheduler=pool,
                cancel=stop,
            )  # fmt: skip
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


def _measure_setting(stop, video: str):
    """``ecoseg.measure.measure`` that sets ``stop`` once it has measured ``video``'s store:
    a user's stop button pressed while the study measures it."""
    real = ecoseg.measure.measure

    def measure(store, *args, **kwargs):
        tables = real(store, *args, **kwargs)
        if store.name == f"{video}.zarr":
            stop.set()
        return tables

    return measure


def _tables(folder):
    """Each Parquet table under ``folder`` (by its path there)."""
    return {p.relative_to(folder): p for p in sorted(folder.rglob("*.parquet"))}


@pytest.mark.parametrize(
    ("set_by", "then"),
    [
        ("reef-a", "line 16: videos[1] (reef-b): cancelled before its tables were measured"),
        ("reef-b", "cancelled before the combined tables"),
    ],
)
def test_a_cancel_set_while_measuring_stops_before_the_next_step(
    set_by, then, full, tmp_path, monkeypatch
):
    """Set while the study measured (after the segmentation), the run went on to measure every
    video, combine the tables and return; now it stops before the next step, the tables of
    the videos measured so far kept whole, and the same call again measures only the rest
    and ends in the tables of an uninterrupted run."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    _clips(tmp_path)
    stop = threading.Event()
    study = tmp_path / "study.yaml"
    with monkeypatch.context() as mp:
        mp.setattr(ecoseg.measure, "measure", _measure_setting(stop, set_by))
        with pytest.raises(Cancelled) as info:
            run_study(study, progress=False, report=False, cancel=stop)
    assert str(info.value).startswith(f"{study}: ")
    assert str(info.value).endswith(
        f"{then}; the same run_study call (ecoseg study) again continues the study"
    )
    measured = VIDEOS[: VIDEOS.index(set_by) + 1]
    per_video = tmp_path / "out" / "tables" / "videos"
    assert sorted(p.name for p in per_video.iterdir()) == list(measured)
    assert not list((tmp_path / "out" / "tables").glob("*.parquet"))  # none combined

    result = run_study(study, progress=False, report=False)
    assert result.segmented == [] and result.measured == [v for v in VIDEOS if v not in measured]
    made, whole = _tables(tmp_path / "out" / "tables"), _tables(full / "tables")
    assert list(made) == list(whole)
    for name in whole:  # (their bytes differ: the attrs name each run's own stores)
        pd.testing.assert_frame_equal(pd.read_parquet(made[name]), pd.read_parquet(whole[name]))


def test_a_cancel_set_while_combining_the_tables_stops_before_the_report(tmp_path, monkeypatch):
    """Set while the tables were combined, the report was written all the same; now the run
    stops before it (the combined tables kept whole), and the same call again writes it."""
    import ecoseg.study.runner

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    _clips(tmp_path)
    stop = threading.Event()
    study = tmp_path / "study.yaml"
    real = ecoseg.study.runner.combine_tables

    def combine(*args, **kwargs):
        stop.set()
        return real(*args, **kwargs)

    with monkeypatch.context() as mp:
        mp.setattr(ecoseg.study.runner, "combine_tables", combine)
        with pytest.raises(Cancelled) as info:
            run_study(study, progress=False, cancel=stop)
    assert str(info.value) == (
        f"{study}: cancelled before the report; the same run_study call (ecoseg study) again "
        "continues the study"
    )
    assert not (tmp_path / "out" / "report.html").exists()
    tables = {name: p.read_bytes() for name, p in _tables(tmp_path / "out" / "tables").items()}
    assert {str(p) for p in tables} >= {f"{t}.parquet" for t in TABLES}

    result = run_study(study, progress=False)
    assert result.segmented == result.measured == [] and not result.tables_written
    assert result.report_written and result.report.exists()
    assert {n: p.read_bytes() for n, p in _tables(tmp_path / "out" / "tables").items()} == tables
