"""Running the widgets' napari workers in a thread pool of ecoseg's own.

napari's workers (:func:`napari.qt.threading.create_worker`) start in Qt's global thread pool,
which has as many threads as the machine has cores. Qt uses that pool itself: converting or
scaling a large image splits it into parts run there while the calling thread waits. napari's
activity dock does so on the Qt thread, from Python (the interpreter's lock held), when a
worker's busy bar shows its animation. When every thread of the pool runs a Python worker (two
at once on a 2-core machine: a *Review tracks* edit and *Measure*, a *Track* run and a gallery
read, or two workers of other plugins), those parts wait for a free thread, the workers wait
for the interpreter's lock, and the Qt thread waits for the parts: napari hangs for good, using
no CPU.

:func:`start` runs an ecoseg worker in ecoseg's own pool (:func:`pool`, a thread for each
worker), never in the global one: however many of ecoseg's widgets run at once, they take no
thread that Qt, napari or another plugin counts on. The busy bar an ecoseg worker shows makes Qt
use the global pool, so :func:`start` also leaves a thread of it free of the workers running
there then (other plugins', napari's own): a pool they fill is grown by one. Before, ecoseg's
workers ran in the global pool, grown by one thread for each of them, which kept no thread free
once other plugins' workers filled the threads it had.

Quitting the application asks ecoseg's workers to stop and waits for them (:func:`wait`), as
napari does for the workers of the global pool.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pool", "running", "start", "wait"]

#: the ecoseg workers started and not yet finished (kept alive here while they run)
_RUNNING: set = set()
#: ecoseg's thread pool (made on first use) and whether quitting the application waits for it
_POOL: Any = None
_HOOKED = False


def pool() -> Any:
    """ecoseg's own ``QThreadPool``, where :func:`start` runs the widgets' workers.

    Examples
    --------
    >>> from qtpy.QtCore import QThreadPool
    >>> pool() is pool() and pool() is not QThreadPool.globalInstance()
    True
    """
    from qtpy.QtCore import QThreadPool

    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
    return _POOL


def running() -> int:
    """How many ecoseg workers run (or wait to start).

    Examples
    --------
    >>> running()
    0
    """
    return len(_RUNNING)


def start(worker: Any) -> None:
    """Start a napari ``worker`` (made with ``_start_thread=False``) on a thread of ecoseg's
    :func:`pool`, leaving a thread of Qt's global pool free for Qt (:func:`_free_a_thread`).

    It does what the worker's own ``start()`` does, in another pool: the worker is kept alive
    until it emits ``finished``; its ``started`` and ``finished`` signals, ``quit()`` and the
    busy bar in napari's activity dock work as they do there."""
    from qtpy.QtCore import QCoreApplication

    global _HOOKED
    app = QCoreApplication.instance()
    if app is not None and not _HOOKED:
        app.aboutToQuit.connect(lambda: wait(quit=True))
        _HOOKED = True
    _RUNNING.add(worker)
    worker.finished.connect(lambda: _RUNNING.discard(worker))
    ours = pool()
    if ours.maxThreadCount() < len(_RUNNING):
        ours.setMaxThreadCount(len(_RUNNING))
    _free_a_thread()
    ours.start(worker)


def _free_a_thread() -> None:
    """Grow Qt's global pool by one thread when the workers running there fill it."""
    from qtpy.QtCore import QThreadPool

    shared = QThreadPool.globalInstance()
    if shared.activeThreadCount() >= shared.maxThreadCount():
        shared.setMaxThreadCount(shared.activeThreadCount() + 1)


def wait(msecs: int = -1, quit: bool = False) -> bool:
    """Wait up to ``msecs`` milliseconds (``-1``: for as long as it takes) for ecoseg's
    workers to finish, after asking each to stop when ``quit``; whether they all did.

    Examples
    --------
    >>> wait(1000)
    True
    """
    if quit:
        for worker in list(_RUNNING):
            worker.quit()
    return bool(pool().waitForDone(msecs))
