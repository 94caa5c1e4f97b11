"""Two widgets' workers at once never hang napari (ecoseg.napari._pool).

Each napari worker takes a thread of Qt's global pool (one per core). With every thread taken
by a Python worker, the activity dock's busy bar (its animation is scaled in that pool, called
from Python on the Qt thread) waited for a free thread while holding the interpreter's lock the
workers waited for: napari hung for good, using no CPU. The viewer runs in a child process, so
that a hang fails the test after a timeout instead of hanging the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: run before each script: Qt's pool of a 2-core machine, and ``together``, which makes each
#: worker (function) hold its thread until the other one runs too
POOL = r"""
import threading, time

from qtpy.QtCore import QThreadPool

QThreadPool.globalInstance().setMaxThreadCount(2)  # as on a 2-core machine, whatever this is
both = threading.Barrier(2, timeout=20)


def together(func):  # each worker holds its thread until the other one runs too
    def run(*args, **kwargs):
        both.wait()
        time.sleep(1.0)  # the Qt thread shows both busy bars meanwhile
        return func(*args, **kwargs)

    return run
"""

#: a *Review tracks* Delete and *Measure* pressed together on a 2-core machine's pool
SCRIPT = r"""
import shutil, tempfile
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

import ecoseg.species
from ecoseg.napari import _measure
from ecoseg.napari._review import ReviewWidget
from ecoseg.sample import sample


ecoseg.species.apply_edits = together(ecoseg.species.apply_edits)
_measure.measure_labels = together(_measure.measure_labels)
path = shutil.copytree(sample().truth, Path(tempfile.mkdtemp()) / "truth.zarr")
viewer = napari.Viewer(show=False)
viewer.open(str(path), plugin="ecoseg")
review = ReviewWidget(viewer)
viewer.window.add_dock_widget(review)
review.wait()
measure = _measure.MeasureWidget(viewer)
viewer.window.add_dock_widget(measure)
review.select(2)
review.delete()
measure.measure()
end = time.monotonic() + 60
while (review._worker is not None or measure._worker is not None) and time.monotonic() < end:
    QApplication.processEvents()
    time.sleep(0.01)
print(review.status.text())
print(measure.status.text())
"""


#: a *Segment & track* run (the motion tracker) and *Review tracks* reading its gallery (a
#: store listed while the run goes), on a 2-core machine's pool
TRACK_AND_READ = r"""
import napari
from qtpy.QtWidgets import QApplication

from ecoseg.napari import _review, _segment


def together_frames(func):  # the same for a run: a generator (napari's generator worker)
    def run(*args, **kwargs):
        both.wait()
        time.sleep(1.0)
        yield from func(*args, **kwargs)

    return run


_segment.run_job = together_frames(_segment.run_job)
_review.gallery_rows = together(_review.gallery_rows)
viewer = napari.Viewer(show=False)
viewer.open_sample("ecoseg", "reef")  # the sample video and its masks' store
segment = _segment.SegmentWidget(viewer)
viewer.window.add_dock_widget(segment)
segment.engine_combo.setCurrentIndex(segment.engine_combo.findData("classical"))
segment.until_spin.setValue(9)
segment.run()
review = _review.ReviewWidget(viewer)  # lists the store: its gallery is read meanwhile
viewer.window.add_dock_widget(review)
end = time.monotonic() + 60
while (segment._worker is not None or review._worker is not None) and time.monotonic() < end:
    QApplication.processEvents()
    time.sleep(0.01)
print(segment.status.text())
print(review.status.text())
"""


def _lines(script: str, hung: str) -> list[str]:
    """The last two lines ``script`` prints, run after :data:`POOL` in a child process (the
    test fails with ``hung`` when it has not finished after two minutes)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    try:
        done = subprocess.run(
            [sys.executable, "-c", POOL + script],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(hung)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout.splitlines()) >= 2, done.stdout
    return done.stdout.splitlines()[-2:]


def test_a_review_edit_and_measure_at_once_do_not_hang_napari():
    """A Delete in *Review tracks* and *Measure* pressed together hung napari (every time on
    this 2-core machine); both finish now, each with its own status line."""
    review, measure = _lines(SCRIPT, "napari hung with a Review edit and Measure running at once")
    assert review.startswith("edit 1: Delete on track 2"), review
    assert measure.startswith("truth masks: ") and " regions, " in measure, measure


def test_a_track_run_and_a_review_read_at_once_do_not_hang_napari():
    """*Segment & track* tracking while *Review tracks* reads the gallery of a store listed
    meanwhile: the same two Python workers in a pool of two threads, the same hang (the
    Review + Measure case above only covered the Review and Measure widgets); both finish."""
    segment, review = _lines(
        TRACK_AND_READ, "napari hung with a Track run and a Review read running at once"
    )
    assert segment.startswith("done: 10 frames tracked into 'ecoseg masks'"), segment
    assert review.startswith("8 tracks in truth.zarr"), review


def test_the_pool_keeps_qt_its_threads(qtbot):
    """Every ecoseg worker running adds a thread to Qt's pool: the threads Qt has by itself
    (one per core) are never all taken by ecoseg's workers."""
    import threading

    from napari.qt.threading import create_worker
    from qtpy.QtCore import QThread, QThreadPool

    from ecoseg.napari._pool import running, start

    pool = QThreadPool.globalInstance()
    before = pool.maxThreadCount()
    release = threading.Event()
    workers = [create_worker(release.wait, 30, _start_thread=False) for _ in range(3)]
    try:
        for worker in workers:
            start(worker)
        assert running() == 3
        assert pool.maxThreadCount() >= max(1, QThread.idealThreadCount()) + 3
    finally:
        release.set()
    qtbot.waitUntil(lambda: running() == 0, timeout=30_000)
    pool.setMaxThreadCount(before)
