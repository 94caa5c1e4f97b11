"""``cancel=`` of ``ecoseg.batch`` and ``run_study`` where it cannot reach the videos' tasks: a
``threading.Event`` cannot be pickled for the workers of a process pool, so it is refused in
one line before any work (a Dask cluster's workers are given a named ``distributed.Event``
instead since stop 62; before, they were refused too); so is a ``cancel`` that is neither an
event nor a callable, also by ``ecoseg.measure`` and ``ecoseg.classify``. (Before stop 60
neither batch nor run_study took ``cancel``; measure and classify before stop 61.)"""

from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor

import pytest

import ecoseg
from ecoseg.batch import batch
from ecoseg.errors import ConfigError
from ecoseg.study import run_study

WHERE = (
    r"cancel= reaches videos segmented in this process or on a Dask cluster \(no scheduler, "
    r"a thread pool, a Dask client or scheduler address\), not the workers of a process pool$"
)


@pytest.mark.bad_input
@pytest.mark.parametrize("what", ["batch", "run_study"])
def test_a_cancel_a_process_pool_cannot_see_is_refused(what, clip, tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(f"name: s\noutput: out\nvideos:\n  - path: {clip.video}\n")
    with ProcessPoolExecutor(1) as pool, pytest.raises(ConfigError, match=rf"^{what}: {WHERE}"):
        if what == "batch":
            batch([clip.video], tmp_path / "out", scheduler=pool, cancel=threading.Event())
        else:
            run_study(study, progress=False, scheduler=pool, cancel=threading.Event())
    assert not (tmp_path / "out").exists()


@pytest.mark.bad_input
def test_batch_refuses_a_cancel_that_is_no_event_nor_callable(clip, tmp_path):
    with pytest.raises(
        ConfigError, match=r"^batch: cancel must be a threading.Event or a callable, got 'yes'$"
    ):
        batch([clip.video], tmp_path / "out", cancel="yes", progress=False)
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
