"""Starting the widgets' napari workers without taking Qt's own threads.

napari's workers (:func:`napari.qt.threading.create_worker`) run in Qt's global thread pool,
which has as many threads as the machine has cores. Qt uses that pool itself: converting or
scaling a large image splits it into parts run there while the calling thread waits. napari's
activity dock does so on the Qt thread, from Python (the interpreter's lock held), when a
worker's busy bar shows its animation. When every thread of the pool runs a Python worker (two
at once on a 2-core machine: a *Review tracks* edit and *Measure*, or a *Track* run and a
gallery read), those parts wait for a free thread, the workers wait for the interpreter's lock,
and the Qt thread waits for the parts: napari hangs for good, using no CPU.

:func:`start` grows the pool by one thread for every ecoseg worker running, so Qt and the rest
of napari keep the threads they had however many of ecoseg's widgets run at once.
"""

from __future__ import annotations

from typing import Any

__all__ = ["running", "start"]

#: the ecoseg workers started and not yet finished (their threads are added to the pool)
_RUNNING: set = set()


def running() -> int:
    """How many ecoseg workers run (or wait to start).

    Examples
    --------
    >>> running()
    0
    """
    return len(_RUNNING)


def start(worker: Any) -> None:
    """Start a napari ``worker`` (made with ``_start_thread=False``) in Qt's global thread
    pool, grown first so that the threads Qt gives it by itself (one per core) stay free of
    ecoseg's workers: at least that many plus one per ecoseg worker running."""
    from qtpy.QtCore import QThread, QThreadPool

    _RUNNING.add(worker)
    worker.finished.connect(lambda: _RUNNING.discard(worker))
    pool = QThreadPool.globalInstance()
    wanted = max(1, QThread.idealThreadCount()) + len(_RUNNING)
    if pool.maxThreadCount() < wanted:
        pool.setMaxThreadCount(wanted)
    worker.start()
