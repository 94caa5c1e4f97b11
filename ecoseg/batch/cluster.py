"""Dask clusters for a campaign: connect or start one, size it, run tasks with retries.

A failed task is submitted again, except where a new attempt cannot mend it
(:data:`CERTAIN_ERRORS`, :func:`retried`): bad settings, prompts or calibrations, missing or
unusable weights, a device the worker lacks; nor is a cancelled one. A ``cancel`` reaches
tasks in this process as it is, and the workers of a Dask cluster as a named
``distributed.Event`` set once it is (:func:`cancel_reaching`); not a process pool's
(:func:`check_cancel_here`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ecoseg._cancel import check_cancel, is_cancelled
from ecoseg.batch.jobs import UnreadableVideo
from ecoseg.batch.urls import redact_url
from ecoseg.errors import (
    CalibrationError,
    Cancelled,
    CheckpointError,
    ConfigError,
    FormatError,
    PromptError,
)

__all__ = [
    "CERTAIN_ERRORS",
    "SCRIPT_GUARD",
    "ClusterCancel",
    "cancel_reaching",
    "check_cancel_here",
    "check_count",
    "check_gpu_workers",
    "check_not_importing_script",
    "connect",
    "default_workers",
    "is_dask",
    "local_workers",
    "retried",
    "run_tasks",
    "task_resources",
]


#: Errors a new attempt of the same task cannot mend: a setting, option or study key
#: (``ConfigError``, also a device the machine lacks), weights missing, unreadable or of another
#: model (``CheckpointError``), a prompt, annotation or calibration file (``PromptError``,
#: ``FormatError``, ``CalibrationError``), a video that cannot be decoded (truncated, corrupt:
#: :class:`~ecoseg.batch.jobs.UnreadableVideo`). Others (a video that cannot be fetched, a
#: storage error, a lost worker, running out of memory) may pass on the next attempt.
CERTAIN_ERRORS = (
    ConfigError,
    CheckpointError,
    PromptError,
    FormatError,
    CalibrationError,
    UnreadableVideo,
)


#: The preload module of a local cluster's worker processes (they ignore Ctrl-C).
_WORKER_SETUP = "ecoseg.batch._worker"

#: How a script must start a local cluster of worker processes, in the words of every refusal.
SCRIPT_GUARD = (
    "a script that starts a local Dask cluster (batch(), or run_study() with workers) must "
    'call it under `if __name__ == "__main__":`, since each worker process imports the '
    "script (or pass batch(processes=False))"
)


def check_not_importing_script() -> None:
    """Refuse to start a local cluster of worker processes from a worker process that is
    importing the user's script: the script calls :func:`ecoseg.batch.batch` at its top level,
    so each worker (started by 'spawn', Dask's default) would run the campaign again.

    Raises
    ------
    ConfigError
        In such a worker process (running the script as ``__mp_main__``), naming
        :data:`SCRIPT_GUARD`.

    Examples
    --------
    >>> check_not_importing_script()  # the main process: nothing to say
    """
    # multiprocessing names __main__ also __mp_main__, and runs the script as another module
    # of that name in its children, before parent_process() is set and __main__ replaced
    running = sys.modules.get("__mp_main__")
    if running is not None and running is not sys.modules.get("__main__"):
        raise ConfigError(f"a worker process is importing the script: {SCRIPT_GUARD}")


def _script_note() -> str:
    """What to check when a local cluster's worker processes fail to start under a script."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if getattr(main, "__file__", None) is None or str(getattr(spec, "name", "")).startswith(
        "ecoseg"
    ):
        return ""  # python -c, a notebook, the ecoseg command
    return f"; if {os.path.basename(main.__file__)} is your script: {SCRIPT_GUARD}"


def retried(error: BaseException) -> bool:
    """Whether a task that failed with ``error`` is worth another attempt (not one of
    :data:`CERTAIN_ERRORS`, nor :class:`~ecoseg.errors.Cancelled`: the run was asked to stop).

    Examples
    --------
    >>> from ecoseg.errors import CheckpointError, VideoError
    >>> retried(OSError("connection reset")), retried(VideoError("v.mp4: cannot fetch"))
    (True, True)
    >>> retried(CheckpointError("no sam2.1-tiny weights in the cache"))
    False
    """
    return not isinstance(error, CERTAIN_ERRORS + (Cancelled,))


def check_cancel_here(cancel: Any, scheduler: Any, what: str) -> None:
    """Refuse a ``cancel`` the videos' tasks would not see, before any work.

    A ``threading.Event`` (or a callable) cannot be pickled: it reaches tasks run in this
    process (no ``scheduler``, a thread pool) as it is, and the workers of a Dask cluster (a
    client, a scheduler address, a local cluster) as the named event of
    :func:`cancel_reaching`; refused for a process pool, in one line.

    Parameters
    ----------
    cancel : threading.Event, callable or None
    scheduler : None, str, client or executor
    what : str
        The caller, as the message names it (``"batch"``, ``"run_study"``).

    Raises
    ------
    ConfigError
        ``cancel`` is neither None, an object with ``is_set`` nor a callable, or cannot
        reach the tasks.

    Examples
    --------
    >>> import threading
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> check_cancel_here(threading.Event(), "tcp://host:8786", "batch")
    >>> with ProcessPoolExecutor(1) as pool:
    ...     check_cancel_here(threading.Event(), pool, "batch")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: batch: cancel= reaches videos segmented in this process or ...
    """
    if cancel is None:
        return
    check_cancel(cancel, what)
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(scheduler, ProcessPoolExecutor):
        raise ConfigError(
            f"{what}: cancel= reaches videos segmented in this process or on a Dask cluster "
            "(no scheduler, a thread pool, a Dask client or scheduler address), not the "
            "workers of a process pool"
        )


class ClusterCancel:
    """A run's ``cancel`` as its tasks on a Dask cluster's workers see it
    (:func:`cancel_reaching`): the named ``distributed.Event`` ``name`` (pickled by its
    name), asked of the scheduler at most every ``every`` seconds, since each check (once a
    frame, once a chunk of masks) would otherwise cost a round trip; once set, set for good.
    """

    def __init__(self, name: str, every: float = 0.1):
        self.name, self.every = name, every
        self._set, self._asked = False, float("-inf")

    def __reduce__(self):
        return (ClusterCancel, (self.name, self.every))

    def is_set(self) -> bool:
        """Whether the run's ``cancel`` was set (as the scheduler last said)."""
        if not self._set and time.monotonic() - self._asked >= self.every:
            from distributed import Event

            self._asked = time.monotonic()
            self._set = bool(Event(self.name).is_set())
        return self._set


@contextlib.contextmanager
def cancel_reaching(client: Any, cancel: Any, every: float = 0.05) -> Iterator[Any]:
    """The ``cancel`` to give the tasks run on ``client``: ``cancel`` itself for an executor
    of this process (or None); for a Dask client a :class:`ClusterCancel`, whose event a
    thread here sets once ``cancel`` is (asked every ``every`` seconds), and which the
    scheduler forgets on exit.

    Examples
    --------
    >>> import threading
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> stop = threading.Event()
    >>> with ThreadPoolExecutor(1) as pool, cancel_reaching(pool, stop) as reaching:
    ...     reaching is stop
    True
    """
    if cancel is None or not is_dask(client):
        yield cancel
        return
    from distributed import Event

    event = Event(f"ecoseg-cancel-{uuid.uuid4().hex}", client=client)
    done = threading.Event()

    def watch() -> None:
        while not is_cancelled(cancel):
            if done.wait(every):
                return
        event.set()

    if is_cancelled(cancel):  # set before the run: no task may start before it is said
        event.set()
    watcher = threading.Thread(target=watch, name="ecoseg-cancel", daemon=True)
    watcher.start()
    try:
        yield ClusterCancel(event.name)
    finally:
        done.set()
        watcher.join()
        with contextlib.suppress(Exception):  # (a lost scheduler: nothing left to forget)
            event.clear()


@contextlib.contextmanager
def connect(
    scheduler: Any = None,
    *,
    workers: int | None = None,
    threads: int | None = None,
    processes: bool = True,
    resources: Mapping[str, float] | None = None,
    log: Callable[[str], None] | None = None,
) -> Iterator[Any]:
    """A Dask client for a run; a cluster or client made here is closed on exit.

    Parameters
    ----------
    scheduler : None, str or client
        ``None`` starts a :class:`distributed.LocalCluster`; a string is the address of a running
        scheduler (``tcp://host:8786``); an object with ``submit`` (a ``distributed.Client`` or a
        :class:`concurrent.futures.Executor`) is used as it is and left open.
    workers, threads : int, optional
        Local cluster only: worker count (default: one per core, at most 4 when ``threads``
        is not given) and threads per worker (default 1).
    processes : bool
        Local cluster only: worker processes (default; the engines hold the GIL for part of
        their work) or threads in this process (needed for ``memory://`` outputs).
    resources : mapping, optional
        Local cluster only: resources each worker offers, e.g. ``{"GPU": 1}``.
    log : callable, optional
        Called with one line naming the dashboard link of the Dask client.

    Yields
    ------
    client

    Raises
    ------
    ConfigError
        dask.distributed is not installed, or the scheduler cannot be reached.

    Examples
    --------
    >>> with connect(workers=1, processes=False) as client:  # requires: cluster  # doctest: +SKIP
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    if scheduler is not None and not isinstance(scheduler, str):
        if not hasattr(scheduler, "submit"):
            raise ConfigError(
                f"scheduler {scheduler!r} has no submit(); pass an address, a dask Client or an "
                "Executor"
            )
        if log is not None and getattr(scheduler, "dashboard_link", None):
            log(f"dashboard {scheduler.dashboard_link}")
        yield scheduler
        return
    check_count(workers, "workers (--workers)")
    check_count(threads, "threads (--threads)")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "running videos as Dask tasks needs dask.distributed (pip install 'ecoseg[dask]')"
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            if processes:
                check_not_importing_script()
            n = workers or default_workers(threads)
            started = _clusters()
            try:
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=threads or 1,
                    processes=processes,
                    resources=dict(resources) if resources else None,
                    dashboard_address=":0",
                    # worker processes: failed tasks are reported by the client, not logged
                    # twice, and Ctrl-C is this process's to handle (no traceback from each)
                    **(
                        {"silence_logs": logging.CRITICAL, "preload": [_WORKER_SETUP]}
                        if processes
                        else {}
                    ),
                )
                stack.callback(_close_quietly, cluster)
            except BaseException as exc:  # Ctrl-C while it starts, a script's workers, ...
                if isinstance(exc, KeyboardInterrupt):  # what a half-started cluster logs
                    _quiet_logs()
                for half in _clusters() - started:  # closed here, not (with a traceback) at exit
                    _close_quietly(half)
                if not (isinstance(exc, Exception) and processes and (note := _script_note())):
                    raise
                raise ConfigError(
                    f"the local cluster's worker processes did not start ({exc}){note}"
                ) from None
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {redact_url(scheduler)} ({exc})"
                ) from None
        stack.callback(_close_quietly, client)
        if log is not None:
            log(f"dashboard {client.dashboard_link}" + _dashboard_note())
        try:
            yield client
        except KeyboardInterrupt:  # the scheduler here logged its workers' leaving
            _quiet_logs()
            raise


def _clusters() -> set:
    """The Dask clusters of this process that distributed closes at exit (its registry)."""
    from distributed.deploy.spec import SpecCluster

    return set(getattr(SpecCluster, "_instances", ()))


def _close_quietly(closing: Any) -> None:
    """Close a cluster or client made by :func:`connect`; when that fails (a run stopped by
    Ctrl-C while workers start or stop), drop it from distributed's registry, so no traceback
    is printed at exit: its worker processes are daemons, ended with this one."""
    try:
        closing.close()
    except (Exception, KeyboardInterrupt):  # noqa: BLE001 - the run's own error goes on
        from distributed.deploy.spec import SpecCluster

        getattr(SpecCluster, "_instances", set()).discard(closing)
        _quiet_logs()  # and no log lines of its reaping at exit ("reaping stray process ...")


def _quiet_logs() -> None:
    """No more log lines of Dask and asyncio in this process (a run that is stopping)."""
    for name in ("distributed", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def default_workers(threads: int | None) -> int:
    """Local workers when none are asked for: one per core, at most 4, fewer with ``threads``.

    Examples
    --------
    >>> 1 <= default_workers(None) <= 4
    True
    """
    return max(1, min(4, (os.cpu_count() or 1) // (threads or 1)))


def _dashboard_note() -> str:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return " (not served: pip install bokeh to see it)"
    return ""


def check_count(value: Any, name: str) -> None:
    """Raise ConfigError unless ``value`` is ``None`` or a whole number >= 1.

    Examples
    --------
    >>> check_count(2, "workers")
    >>> check_count(0, "workers")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: workers must be a positive whole number, got 0
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}")


def is_dask(client: Any) -> bool:
    """Whether ``client`` is a ``distributed.Client`` (not a concurrent.futures Executor).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> is_dask(ThreadPoolExecutor(1))
    False
    """
    return type(client).__module__.split(".")[0] == "distributed"


def run_tasks(
    client: Any,
    fn: Callable[[Any], Any],
    jobs: Sequence[tuple[str, Any, Mapping[str, float] | None]],
    *,
    retries: int = 0,
    on_retry: Callable[[str, int, BaseException], None] | None = None,
) -> Iterator[tuple[str, int, Any, BaseException | None]]:
    """Run ``fn(arg)`` for every job on ``client``, yielding each as it finishes.

    Parameters
    ----------
    client : distributed.Client or concurrent.futures.Executor
    fn : callable
        A module-level function (workers import it by name).
    jobs : sequence of (key, arg, resources)
        ``key`` names the task (unique per run; shown on the dashboard), ``resources`` is
        ``None`` or e.g. ``{"GPU": 1}`` (Dask clients only).
    retries : int
        A failed job (exception in ``fn``, lost worker) is submitted again up to this often,
        unless its error is certain to come again (:func:`retried`: bad settings, missing
        weights, an unavailable device): that one is yielded after its first attempt.
    on_retry : callable, optional
        ``on_retry(key, attempt, error)`` before each new submission.

    Yields
    ------
    (key, attempts, result, error)
        ``error`` is ``None`` on success, else the last exception (``result`` is ``None``).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     sorted(r[2] for r in run_tasks(pool, abs, [("a", -1, None), ("b", -2, None)]))
    [1, 2]
    """
    dask = is_dask(client)
    if dask:
        from distributed import wait
    else:
        from concurrent.futures import wait

    def submit(key: str, arg: Any, resources, attempt: int):
        if dask:
            return client.submit(
                fn,
                arg,
                key=f"{key}-{attempt}-{uuid.uuid4().hex[:8]}",
                pure=False,
                retries=0,
                resources=dict(resources) if resources else None,
            )
        return client.submit(fn, arg)

    pending: dict[Any, tuple[str, Any, Any, int]] = {}
    for key, arg, resources in jobs:
        pending[submit(key, arg, resources, 1)] = (key, arg, resources, 1)
    while pending:
        done, _ = wait(list(pending), return_when="FIRST_COMPLETED")
        for fut in done:
            key, arg, resources, attempt = pending.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - reported to the caller with the video
                if attempt <= retries and retried(exc):
                    if on_retry is not None:
                        on_retry(key, attempt, exc)
                    pending[submit(key, arg, resources, attempt + 1)] = (
                        key,
                        arg,
                        resources,
                        attempt + 1,
                    )
                    continue
                yield key, attempt, None, exc
            else:
                yield key, attempt, result, None
            finally:
                if dask:
                    fut.release()


def task_resources(engine: str, device: str | None) -> dict[str, float] | None:
    """Dask resources a task of this engine/device needs: sam2 (or a SAM 3 concept run,
    ``"sam3"``) on CUDA takes one ``GPU``.

    Examples
    --------
    >>> task_resources("sam2", "cuda"), task_resources("sam2", "cpu")
    ({'GPU': 1}, None)
    >>> task_resources("sam3", "cuda")
    {'GPU': 1}
    """
    if engine in ("sam2", "sam3") and device is not None and str(device).startswith("cuda"):
        return {"GPU": 1}
    return None


def local_workers(
    workers: int | None, threads: int | None, n_jobs: int, resources: Mapping | None
) -> int:
    """Local cluster size: as asked (at most one per job); one worker for GPU tasks by default.

    Examples
    --------
    >>> local_workers(8, None, 3, None), local_workers(None, None, 3, {"GPU": 1})
    (3, 1)
    """
    if workers is None:
        workers = 1 if resources else default_workers(threads)
    return max(1, min(workers, n_jobs))


def check_gpu_workers(client: Any) -> None:
    """Raise ConfigError unless some worker of a Dask ``client`` offers a ``GPU`` resource."""
    workers = client.scheduler_info().get("workers", {})
    if workers and not any((w.get("resources") or {}).get("GPU", 0) >= 1 for w in workers.values()):
        raise ConfigError(
            "GPU tasks (sam2 on cuda) need workers that offer a GPU resource; start them with "
            "`dask worker ADDRESS --resources GPU=1`"
        )
