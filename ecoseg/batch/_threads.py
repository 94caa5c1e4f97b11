"""Calls that mostly wait on remote storage, made a few at once (planning a campaign: probes of
URL videos, statuses of stores on object storage; a campaign whose only tasks check URL videos
by their bytes).

Not a :class:`~concurrent.futures.ThreadPoolExecutor`: its threads are joined when the pool
is left and again when the interpreter exits, so a Ctrl-C while a call waits on a storage that
does not answer would hang the command until every started call timed out. Here the threads
are daemons: an interrupt (or a failed call) stops the rest from starting and is raised at
once; calls already under way are left to end (or to die with the process).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["DaemonPool", "in_threads"]

T = TypeVar("T")


def in_threads(fn: Callable[[Any], T], items: Sequence[Any], threads: int) -> list[T]:
    """``[fn(item) for item in items]``, up to ``threads`` calls at once, results in order.

    The error of the first call (in the order of ``items``) that fails is raised as the
    loop's would be, once the calls before it have returned; a ``KeyboardInterrupt`` while
    waiting is raised at once. Either way, calls not yet started are not started.

    Parameters
    ----------
    fn : callable
        Called with each item, on a daemon thread (or on this one, for ``threads`` 1 or a
        single item).
    items : sequence
    threads : int
        The most calls under way at once (>= 1).

    Returns
    -------
    list
        ``fn(item)`` of each item, in the order of ``items``.

    Examples
    --------
    >>> in_threads(lambda x: x * x, [1, 2, 3, 4], threads=2)
    [1, 4, 9, 16]
    """
    if threads <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with DaemonPool(min(threads, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        return [future.result() for future in futures]


class DaemonPool(Executor):
    """An executor of up to ``threads`` calls at once on daemon threads, which leaving it (or
    :meth:`shutdown`) never waits for: calls not yet started are cancelled, calls under way
    are left to end (or to die with the process). A ``concurrent.futures`` executor, so
    :func:`~ecoseg.batch.cluster.run_tasks` runs tasks on it as on a thread pool.

    Parameters
    ----------
    threads : int
        The most calls under way at once (>= 1); threads are started as calls are submitted.

    Examples
    --------
    >>> with DaemonPool(2) as pool:
    ...     [f.result() for f in [pool.submit(abs, -1), pool.submit(abs, -2)]]
    [1, 2]
    """

    def __init__(self, threads: int) -> None:
        self._most = max(1, int(threads))
        self._started = 0
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a DaemonPool after its shutdown")
            self._calls.put((future, fn, args, kwargs))
            if self._started < self._most:
                self._started += 1
                threading.Thread(target=self._work, name="ecoseg-storage", daemon=True).start()
        return future

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            future, fn, args, kwargs = call
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                future.set_exception(exc)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel the calls not yet started and end the idle threads; never waits (``wait``
        and ``cancel_futures`` are accepted for the executor interface)."""
        with self._lock:
            self._closed = True
            while True:
                try:
                    call = self._calls.get_nowait()
                except queue.Empty:
                    break
                if call is not None:
                    call[0].cancel()
            for _ in range(self._started):
                self._calls.put(None)
