"""``cancel=`` of ``ecoseg.batch`` and ``run_study`` where it cannot reach the videos' tasks: a
``threading.Event`` cannot be pickled for the workers of a Dask cluster (even one of threads)
or a process pool, so it is refused in one line before any work; so is a ``cancel`` that is
neither an event nor a callable, also by ``ecoseg.measure`` and ``ecoseg.classify``. (Before
stop 60 neither batch nor run_study took ``cancel``; measure and classify before stop 61.)"""

from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor

import pytest

import ecoseg
from ecoseg.batch import batch
from ecoseg.errors import ConfigError
from ecoseg.study import run_study

WHERE = r"cancel= reaches only videos segmented in this process \(no scheduler, or a thread pool"


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("scheduler", "where"),
    [
        ("tcp://user:secret@host:8786", "tcp://host:8786"),
        ("process pool", "a process pool"),
    ],
)
def test_batch_refuses_a_cancel_its_workers_cannot_see(clip, tmp_path, scheduler, where):
    pool = ProcessPoolExecutor(1) if scheduler == "process pool" else None
    try:
        with pytest.raises(ConfigError, match=rf"^batch: {WHERE} .*, not the workers of {where}$"):
            batch(
                [clip.video], tmp_path / "out", scheduler=pool or scheduler,
                cancel=threading.Event(), progress=False,
            )  # fmt: skip
    finally:
        if pool is not None:
            pool.shutdown()
    assert not (tmp_path / "out").exists()


@pytest.mark.bad_input
def test_batch_refuses_a_cancel_that_is_no_event_nor_callable(clip, tmp_path):
    with pytest.raises(
        ConfigError, match=r"^batch: cancel must be a threading.Event or a callable, got 'yes'$"
    ):
        batch([clip.video], tmp_path / "out", cancel="yes", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.bad_input
def test_run_study_refuses_a_cancel_with_a_local_cluster(clip, tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(f"name: s\noutput: out\nvideos:\n  - path: {clip.video}\n")
    with pytest.raises(
        ConfigError, match=rf"^run_study: {WHERE} .*, not the workers of a local Dask cluster"
    ):
        run_study(study, progress=False, workers=2, cancel=threading.Event())
    assert not (tmp_path / "out").exists()


@pytest.mark.bad_input
@pytest.mark.parametrize("what", ["measure", "classify"])
def test_measure_and_classify_refuse_a_cancel_that_is_no_event_nor_callable(what, clip, tmp_path):
    """Refused before any work: no table folder made, nothing measured or read."""
    with pytest.raises(
        ConfigError, match=rf"^{what}: cancel must be a threading.Event or a callable, got 'yes'$"
    ):
        if what == "measure":
            ecoseg.measure(clip.truth, tmp_path / "tables", cancel="yes")
        else:
            ecoseg.classify(clip.truth, train=clip.truth, cancel="yes")
    assert not (tmp_path / "tables").exists()
