"""Widgets' workers never hang napari (ecoseg.napari._pool).

Each napari worker takes a thread of Qt's global pool (one per core). With every thread taken
by a Python worker, the activity dock's busy bar (its animation is scaled in that pool, called
from Python on the Qt thread) waited for a free thread while holding the interpreter's lock the
workers waited for: napari hung for good, using no CPU. Two ecoseg widgets at once did it, and
so did one beside other plugins' workers. The viewer runs in a child process, so that a hang
fails the test after a timeout instead of hanging the test run.
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


#: *Measure* while two long workers of another plugin (superqt workers started in Qt's global
#: pool, no busy bar of their own) take the two threads that pool has, and the Qt thread scales
#: a large image (as napari does for a busy bar or an image layer) while Measure runs
BESIDE_OTHERS = r"""
import napari
from napari.qt.threading import create_worker
from qtpy.QtCore import Qt, QTimer
from qtpy.QtGui import QImage
from qtpy.QtWidgets import QApplication

from ecoseg.napari import _measure

released = threading.Event()


def other_plugins_work():  # Python code until released, holding a thread of the global pool
    while not released.wait(0.01):
        sum(range(1000))


def slowly(func):
    def run(*args, **kwargs):
        time.sleep(2.0)  # the Qt thread scales its image meanwhile
        return func(*args, **kwargs)

    return run


_measure.measure_labels = slowly(_measure.measure_labels)
viewer = napari.Viewer(show=False)
viewer.open_sample("ecoseg", "reef")
measure = _measure.MeasureWidget(viewer)
viewer.window.add_dock_widget(measure)
measure.masks_combo.setCurrentText("truth masks")
shared = QThreadPool.globalInstance()
others = [create_worker(other_plugins_work, _start_thread=False) for _ in range(2)]
for worker in others:
    worker.start()  # superqt's own start: Qt's global pool
end = time.monotonic() + 30
while shared.activeThreadCount() < 2 and time.monotonic() < end:
    time.sleep(0.01)
assert shared.activeThreadCount() == shared.maxThreadCount() == 2, "the pool is not full"
big = QImage(4000, 3000, QImage.Format_RGB32)
big.fill(0)
scaling = QTimer()
scaling.timeout.connect(
    lambda: big.scaled(400, 300, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
)
measure.measure()
scaling.start(100)
end = time.monotonic() + 60
while measure._worker is not None and time.monotonic() < end:
    QApplication.processEvents()
    time.sleep(0.01)
scaling.stop()
print(measure.status.text())
released.set()
end = time.monotonic() + 30
while shared.activeThreadCount() and time.monotonic() < end:
    time.sleep(0.01)
print("the other plugin's workers:", "running" if shared.activeThreadCount() else "done")
"""


#: quitting napari while an ecoseg worker runs (one that ends only when asked to)
QUIT = r"""
import napari
from napari.qt.threading import create_worker
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication

from ecoseg.napari._pool import start


def endless():  # stops when asked to: napari's generator workers look at each yield
    while True:
        time.sleep(0.01)
        yield


viewer = napari.Viewer(show=False)
worker = create_worker(endless, _start_thread=False)
start(worker)
QTimer.singleShot(500, QApplication.quit)
QApplication.instance().exec_()
print("asked to stop:", worker.abort_requested)
print("still running:", worker.is_running)
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


def test_a_widget_beside_other_plugins_workers_does_not_hang_napari():
    """Two long workers of another plugin take both threads of Qt's global pool, and the Qt
    thread scales a large image while *Measure* runs: it hung for good before (Measure ran in
    the global pool, grown by one thread for it only, so no thread was left for Qt's image
    parts); Measure finishes now, and so do the other plugin's workers once released."""
    measure, others = _lines(
        BESIDE_OTHERS, "napari hung with Measure running beside another plugin's workers"
    )
    assert measure.startswith("truth masks: ") and " regions, " in measure, measure
    assert others == "the other plugin's workers: done", others


def test_quitting_napari_stops_and_waits_for_ecosegs_workers():
    """Quitting the application asks a running ecoseg worker to stop and waits for it (napari
    does so only for the workers of Qt's global pool)."""
    asked, running = _lines(QUIT, "napari did not quit with an ecoseg worker running")
    assert asked == "asked to stop: True", asked
    assert running == "still running: False", running


def test_ecosegs_workers_take_no_thread_of_qts_global_pool(qtbot):
    """ecoseg's workers run in its own pool, each on a thread of its own: the threads of Qt's
    global pool stay free for Qt and other plugins however many of them run."""
    import threading

    from napari.qt.threading import create_worker
    from qtpy.QtCore import QThreadPool

    from ecoseg.napari._pool import pool, running, start

    shared = QThreadPool.globalInstance()
    before = shared.activeThreadCount(), shared.maxThreadCount()
    release = threading.Event()
    workers = [create_worker(release.wait, 30, _start_thread=False) for _ in range(3)]
    try:
        for worker in workers:
            start(worker)
        assert running() == 3
        qtbot.waitUntil(lambda: pool().activeThreadCount() == 3, timeout=10_000)
        assert (shared.activeThreadCount(), shared.maxThreadCount()) == before
    finally:
        release.set()
    qtbot.waitUntil(lambda: running() == 0, timeout=30_000)
