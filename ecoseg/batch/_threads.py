"""Calls that mostly wait on remote storage, made a few at once (planning a campaign: probes of
URL videos, statuses of stores on object storage).

Not a :class:`~concurrent.futures.ThreadPoolExecutor`: its threads are joined when the pool
is left and again when the interpreter exits, so a Ctrl-C while a call waits on a storage that
does not answer would hang the command until every started call timed out. Here the threads
are daemons: an interrupt (or a failed call) stops the rest from starting and is raised at
once; calls already under way are left to end (or to die with the process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["in_threads"]

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
    futures: list[Future] = [Future() for _ in items]
    order = iter(range(len(items)))
    taking = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with taking:
                i = next(order, None)
            if i is None or not futures[i].set_running_or_notify_cancel():
                return
            try:
                futures[i].set_result(fn(items[i]))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                futures[i].set_exception(exc)

    for _ in range(min(threads, len(items))):
        threading.Thread(target=work, name="ecoseg-storage", daemon=True).start()
    try:
        return [future.result() for future in futures]
    finally:
        stop.set()  # (an error or an interrupt: nothing more is started)
        for future in futures:
            future.cancel()
