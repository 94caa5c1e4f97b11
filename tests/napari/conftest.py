"""napari tests need napari and a real X server (pytest-xvfb starts Xvfb when it is installed).

Without them every test here is skipped with the reason, instead of failing, or Qt aborting
the whole test run (a missing xcb library makes Qt abort the process).
"""

from __future__ import annotations

import functools
import gc
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_PROBE = "from qtpy.QtWidgets import QApplication; app = QApplication([]); print('ok')"


@functools.cache
def missing() -> str | None:
    """Why napari tests cannot run here, or None."""
    for module, package in (("napari", "napari"), ("pytestqt", "pytest-qt"), ("npe2", "npe2")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install -e '.[test]')"
    if sys.platform.startswith("linux"):
        if not os.environ.get("DISPLAY"):
            if shutil.which("Xvfb") is None:
                return "no X display and no Xvfb (apt-get install xvfb; pytest-xvfb starts it)"
            return "no X display (install pytest-xvfb, or run under xvfb-run)"
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60
        )
        if "ok" not in probe.stdout:
            lines = [s for s in probe.stderr.splitlines() if s.strip()]
            return (
                "Qt cannot start on this display (see .ci/run for the X libraries it needs): "
                + (lines[0] if lines else f"exit status {probe.returncode}")
            )
    return None


def pytest_collection_modifyitems(config, items):
    ours = [item for item in items if str(item.fspath).startswith(HERE)]
    if not ours:
        return
    reason = missing()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in ours:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _collect_qt_objects_here():
    """After each test (and after napari's viewer teardown: autouse fixtures are set up first
    and torn down last), collect the garbage it left in the main thread.

    A closed viewer leaves ~8,000 objects in reference cycles, among them Qt and vispy objects
    (an OpenGL context, timers, widgets); napari's teardown runs only a partial collection. A
    full collection that a later test's thread happens to trigger (the engine's frame reader, a
    napari worker, dask) would destroy them off the Qt thread, which Qt does not allow (a
    precaution: no crash of this kind was reproduced). A napari worker a test left running is
    waited for first (it would paint into a closed viewer during the next test).
    """
    yield
    if "qtpy" in sys.modules:
        from qtpy.QtCore import QThreadPool

        from ecoseg.napari._pool import wait

        QThreadPool.globalInstance().waitForDone(120_000)
        wait(120_000)  # the widgets' workers run in ecoseg's own pool
    gc.collect()


@pytest.fixture
def segment_widget(make_napari_viewer, qtbot):
    """The Segment & track widget docked in a viewer showing the sample video; a run it left
    going is cancelled and waited for (never left running into the next test)."""
    from ecoseg.napari._segment import SegmentWidget

    viewer = make_napari_viewer()
    viewer.open_sample("ecoseg", "reef_video")
    w = SegmentWidget(viewer)
    viewer.window.add_dock_widget(w)
    yield w
    if w._worker is not None:
        w.cancel()
        qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
