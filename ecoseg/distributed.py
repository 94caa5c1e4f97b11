"""Field campaigns at scale: many videos as Dask tasks, outputs on any fsspec storage.

:func:`batch` (``ecoseg batch VIDEO... -o OUT``) segments every video into its own mask store,
``OUT/<video name>.zarr``, as one Dask task per video:

- on a :class:`distributed.LocalCluster` started for the run (worker processes, ``workers`` x
  ``threads``), or on any running scheduler (``scheduler="tcp://host:8786"``, or a
  ``distributed.Client`` / :class:`concurrent.futures.Executor` object);
- sam2 tasks on CUDA ask for a ``GPU`` resource, so on a mixed cluster they only run on workers
  started with ``--resources GPU=1``;
- ``OUT`` is a local folder or any URL zarr and fsspec understand (``s3://bucket/campaign``,
  ``gs://...``, ``memory://...``); videos are local paths or URLs (fetched to a local temporary
  file on the worker). Credentials come from the storage library's usual environment/config
  (``AWS_PROFILE``, ``~/.aws/credentials``, ...); user names, passwords and query strings
  (tokens) in a URL are stripped (:func:`redact_url`) before anything is printed, logged,
  written to the summary or recorded in a store's provenance.

Fault handling: a task that fails (corrupt video, lost worker, storage error) is submitted again
up to ``retries`` times, resuming whatever its store holds, and then reported. The summary table
(one row per video: ``video``, ``store``, ``status`` in {done, skipped, failed}, ``attempts``,
``frames``, ``seconds``, ``error``) is returned and written to ``OUT/batch-summary.csv``.
Re-running the same command skips complete stores without touching them and resumes partial
ones, so a campaign killed at any point loses no finished video. Every store equals what a
serial :func:`ecoseg.segment` of the same video gives.

:func:`campaign_tables` computes per-frame counts and cover of many stores at once with
:mod:`dask.array` over their zarr ``labels`` arrays (chunk by chunk, on the same cluster).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ecoseg.errors import ConfigError, EcosegError, VideoError

__all__ = [
    "STATUSES",
    "SUMMARY_COLUMNS",
    "SUMMARY_FILE",
    "batch",
    "campaign_tables",
    "connect",
    "redact_text",
    "redact_url",
    "run_tasks",
    "store_location",
    "task_resources",
    "video_name",
    "write_tables",
]

#: Name of the summary table written next to the stores.
SUMMARY_FILE = "batch-summary.csv"
#: Columns of the summary table, in order.
SUMMARY_COLUMNS = ("video", "store", "status", "attempts", "frames", "seconds", "error")
#: Values of the summary's ``status`` column.
STATUSES = ("done", "skipped", "failed")

_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>:,.;)]")
_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._ -]*[A-Za-z0-9._-])?$")  # inner spaces ok


# --------------------------------------------------------------------------- URLs
def _is_url(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def _local(text: str) -> str:
    """``file://`` URLs as local paths; everything else unchanged."""
    if text.startswith("file://"):
        from urllib.request import url2pathname

        return url2pathname(urlsplit(text).path)
    return text


def redact_url(text: str | os.PathLike) -> str:
    """``text`` without credentials: a URL loses its user, password, query and fragment.

    Local paths are returned unchanged.

    Parameters
    ----------
    text : str or Path

    Returns
    -------
    str

    Examples
    --------
    >>> redact_url("s3://KEY:SECRET@bucket/campaign?X-Amz-Signature=abc")
    's3://bucket/campaign'
    >>> redact_url("https://user:pw@example.org/v/a.mp4?token=t#x")
    'https://example.org/v/a.mp4'
    >>> redact_url("videos/a.mp4")
    'videos/a.mp4'
    """
    text = os.fspath(text)
    if "://" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:  # malformed: keep only scheme and what follows the last '@'
        scheme, _, rest = text.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2].split('?')[0].split('#')[0]}"
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact_text(text: str) -> str:
    """Every URL inside ``text`` (an error message, a log line) passed through :func:`redact_url`.

    Examples
    --------
    >>> redact_text("s3://k:s@b/a.zarr: already exists")
    's3://b/a.zarr: already exists'
    """
    return _URL_RE.sub(lambda m: redact_url(m.group(0)), str(text))


def video_name(video: str | os.PathLike) -> str:
    """The name of a video's store: its file (or image folder) name without the extension.

    Examples
    --------
    >>> video_name("field/2024-03/T1.mp4"), video_name("https://x.org/a/T2.MOV?token=1")
    ('T1', 'T2')
    """
    text = os.fspath(video)
    path = urlsplit(text).path if _is_url(text) else _local(text)
    return Path(path.rstrip("/")).stem


def store_location(out: str | os.PathLike, name: str) -> str:
    """Where the store of video ``name`` goes: ``OUT/<name>.zarr`` (a path or a URL).

    Examples
    --------
    >>> store_location("s3://bucket/campaign/", "T1")
    's3://bucket/campaign/T1.zarr'
    """
    out = os.fspath(out)
    if "://" in out:
        parts = urlsplit(out)
        path = parts.path.rstrip("/") + f"/{name}.zarr"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
    return str(Path(out) / f"{name}.zarr")


def _join(out: str, filename: str) -> str:
    if "://" in out:
        parts = urlsplit(out)
        path = parts.path.rstrip("/") + f"/{filename}"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
    return str(Path(out) / filename)


# --------------------------------------------------------------------------- clients
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
    >>> with connect(workers=1, processes=False) as client:  # doctest: +SKIP
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
    _check_count(workers, "workers")
    _check_count(threads, "threads")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "running videos as Dask tasks needs dask.distributed (pip install 'ecoseg[dask]')"
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            n = workers or _default_workers(threads)
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=threads or 1,
                processes=processes,
                resources=dict(resources) if resources else None,
                dashboard_address=":0",
                # worker processes: failed tasks are reported by the client, not logged twice
                **({"silence_logs": logging.CRITICAL} if processes else {}),
            )
            stack.callback(cluster.close)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {redact_url(scheduler)} ({exc})"
                ) from None
        stack.callback(client.close)
        if log is not None:
            log(f"dashboard {client.dashboard_link}" + _dashboard_note())
        yield client


def _default_workers(threads: int | None) -> int:
    return max(1, min(4, (os.cpu_count() or 1) // (threads or 1)))


def _dashboard_note() -> str:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return " (not served: pip install bokeh to see it)"
    return ""


def _check_count(value: Any, name: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}")


def _is_dask(client: Any) -> bool:
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
        A failed job (exception in ``fn``, lost worker) is submitted again up to this often.
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
    dask = _is_dask(client)
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
                if attempt <= retries:
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


# --------------------------------------------------------------------------- the task
@dataclass(frozen=True)
class _Job:
    """One video of a batch; its repr (in Dask logs) shows no credentials."""

    name: str
    video: str
    store: str
    segment: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"_Job({self.name!r}, video={redact_url(self.video)!r})"


def _batch_task(job: _Job) -> dict[str, Any]:
    """Segment one video into its store (module level: workers import it by name).

    Returns ``{"status": "done" | "skipped", "frames": int, "seconds": float}``; errors raise
    with URLs redacted.
    """
    t0 = time.perf_counter()
    try:
        state, frames = _store_state(job.store)
        if state == "complete":
            return {"status": "skipped", "frames": frames, "seconds": 0.0}
        _segment_one(job)
        _, frames = _store_state(job.store)
    except BaseException as exc:
        _reraise_redacted(exc)
        raise
    return {"status": "done", "frames": frames, "seconds": time.perf_counter() - t0}


def _segment_one(job: _Job) -> None:
    from ecoseg.engine import segment

    kwargs = dict(job.segment)
    prompts = kwargs.pop("prompts", None)
    if not _is_url(job.video):
        segment(_local(job.video), prompts, out=job.store, resume=True, **kwargs)
        return
    folder = Path(tempfile.mkdtemp(prefix="ecoseg-batch-"))
    try:
        local = folder / (job.name + Path(urlsplit(job.video).path).suffix)
        _fetch(job.video, local)
        segment(str(local), prompts, out=job.store, resume=True, **kwargs)
        from ecoseg.store import MaskStore

        with MaskStore.open(job.store, mode="a") as store:  # the URL, not the temporary copy
            video = dict(store.provenance.get("video") or {})
            video["path"] = redact_url(job.video)
            store.set_provenance(video=video)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fetch(url: str, local: Path) -> None:
    import fsspec

    try:
        with fsspec.open(url, "rb") as src, open(local, "wb") as dst:
            shutil.copyfileobj(src, dst, 2**22)
    except FileNotFoundError:
        raise VideoError(f"{redact_url(url)}: video not found") from None
    except (OSError, ValueError, ImportError) as exc:
        raise VideoError(f"{redact_url(url)}: cannot fetch the video ({exc})") from None


def _reraise_redacted(exc: BaseException) -> None:
    """Raise a copy of ``exc`` without credentials in its message, if it had any."""
    text = str(exc)
    clean = redact_text(text)
    if clean == text or not isinstance(exc, Exception):
        return
    cls = type(exc) if isinstance(exc, EcosegError) else EcosegError
    if cls is EcosegError:
        clean = f"{type(exc).__name__}: {clean}"
    try:
        new = cls(clean)
    except Exception:  # noqa: BLE001 - an exception class with another signature
        new = EcosegError(clean)
    raise new from None


def _store_state(location: str) -> tuple[str, int]:
    """``("missing" | "partial" | "complete", committed frames)``; StoreError if not a store."""
    state, frames, _ = _store_info(location)
    return state, frames


def _store_info(location: str) -> tuple[str, int, str | None]:
    """State, committed frames and the file name of the video the store was made from."""
    from ecoseg.store import MaskStore, _Location

    if not _Location(location).exists():
        return "missing", 0, None
    store = MaskStore.open(location)
    try:
        source = (store.provenance.get("video") or {}).get("path")
        state = "complete" if store.complete else "partial"
        return state, store.n_frames, None if source is None else _file_name(source)
    finally:
        store.close()


def _file_name(video: str) -> str:
    text = redact_url(video)
    return Path((urlsplit(text).path if _is_url(text) else _local(text)).rstrip("/")).name


# --------------------------------------------------------------------------- batch
def batch(
    videos: Iterable[str | os.PathLike],
    out: str | os.PathLike,
    *,
    scheduler: Any = None,
    workers: int | None = None,
    threads: int | None = None,
    processes: bool = True,
    retries: int = 2,
    engine: str | None = None,
    model: str = "sam2.1-tiny",
    checkpoint: str | os.PathLike | None = None,
    pretrained: bool = True,
    image_size: int | None = None,
    device: str | None = None,
    params: Mapping[str, Any] | None = None,
    prompts: Mapping[str, str | os.PathLike] | None = None,
    auto: bool = False,
    chunk_frames: int = 4,
    progress: bool = True,
) -> Any:
    """Segment many videos, one Dask task each, into ``OUT/<video name>.zarr``.

    Parameters
    ----------
    videos : iterable of str or Path
        Video files or image folders (local paths, ``file://`` or fsspec URLs such as
        ``s3://bucket/v.mp4`` or ``https://...``). Their names (file stems) must be unique.
    out : str or Path
        Folder or URL for the stores and ``batch-summary.csv``.
    scheduler : None, str or client
        See :func:`connect`: ``None`` starts a local cluster, a string is a scheduler address.
    workers, threads, processes
        Local cluster shape (see :func:`connect`).
    retries : int
        Submissions of a failed video after the first (default 2).
    engine, model, checkpoint, pretrained, image_size, device, params, auto
        As for :func:`ecoseg.segment`, the same for every video.
    prompts : mapping, optional
        Prompt file of each video by video name (sam2 engine).
    chunk_frames : int
        Frames per ``labels`` chunk (one object per chunk on object stores: raise it to write
        fewer, larger objects).
    progress : bool
        Print the dashboard link and a campaign progress bar (videos, frames/s, ETA) on stderr.

    Returns
    -------
    pandas.DataFrame
        The summary (:data:`SUMMARY_COLUMNS`), one row per video in input order; also written
        to ``OUT/batch-summary.csv``. ``attrs["summary"]`` is that file's location.

    Raises
    ------
    ConfigError, VideoError
        Before any work: no videos, duplicate video names, a missing local video, a bad option
        or engine parameter, or GPU tasks for a scheduler none of whose workers offers a
        ``GPU`` resource. Failures of single videos are reported in the summary, not raised.

    Examples
    --------
    >>> import ecoseg, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> clip = ecoseg.synth(os.path.join(d, "T1"), frames=8, size=(96, 64))
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(1) as pool:
    ...     summary = batch([clip.video], os.path.join(d, "out"), scheduler=pool, progress=False)
    >>> summary[["video", "status", "frames"]].values.tolist()[0][1:]
    ['done', 8]
    """
    import pandas as pd

    videos = [os.fspath(v) for v in videos]
    if not videos:
        raise ConfigError("no videos given")
    _check_count(workers, "workers")
    _check_count(threads, "threads")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be a whole number >= 0, got {retries!r}")
    out = os.fspath(out)
    names = _check_names(videos)
    for video in videos:
        if not _is_url(video) and not Path(_local(video)).exists():
            raise VideoError(f"{video}: video file not found")
    _check_count(chunk_frames, "chunk_frames")
    seg = _segment_options(
        names, engine, model, checkpoint, pretrained, image_size, device, params, prompts, auto
    )
    for options in seg.values():
        options["chunk_frames"] = chunk_frames
    resources = task_resources(seg[names[0]]["engine"], device)
    log = _logger(progress)

    if "://" not in out:
        Path(out).mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    jobs = []
    for name, video in zip(names, videos):
        store = store_location(out, name)
        row = {
            "video": redact_url(video),
            "store": redact_url(store),
            "status": "failed",
            "attempts": 0,
            "frames": 0,
            "seconds": 0.0,
            "error": "",
        }
        rows[name] = row
        try:
            state, frames, source = _store_info(store)
        except EcosegError as exc:  # not a store: the task reports it (after retries) too
            state, frames, source = "unknown", 0, None
            log(f"{name}: {redact_text(exc)}")
        if source is not None and source != _file_name(video):
            row["error"] = (
                f"{redact_url(store)}: the store was made from another video ({source}); move it "
                "away or rename the video"
            )
            continue
        if state == "complete":
            row.update(status="skipped", frames=frames)
            continue
        if state == "partial":
            log(f"{name}: resuming after {frames} frames")
        jobs.append((name, _Job(name, video, store, seg[name]), resources))
    skipped = len(videos) - len(jobs)
    if skipped:
        log(f"{skipped} of {len(videos)} stores complete, skipped")

    if jobs:
        with connect(
            scheduler,
            workers=_local_workers(workers, threads, len(jobs), resources),
            threads=threads,
            processes=processes,
            resources=resources if scheduler is None else None,
            log=log,
        ) as client:
            if resources and _is_dask(client):
                _check_gpu_workers(client)
            _run_batch(client, jobs, rows, retries, progress, log)

    summary = pd.DataFrame([rows[n] for n in names], columns=list(SUMMARY_COLUMNS))
    summary["attempts"] = summary["attempts"].astype("int64")
    summary["frames"] = summary["frames"].astype("int64")
    summary["seconds"] = summary["seconds"].astype("float64").round(3)
    location = _join(out, SUMMARY_FILE)
    _write_csv(summary, location)
    summary.attrs["summary"] = redact_url(location)
    counts = summary["status"].value_counts()
    log(
        ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)
        + f"; summary: {redact_url(location)}"
    )
    return summary


def _run_batch(client, jobs, rows, retries: int, progress: bool, log) -> None:
    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(jobs),
        unit="video",
        desc="ecoseg batch",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    t0 = time.perf_counter()
    frames_done = 0

    def say(msg: str) -> None:
        if progress:
            bar.write(f"ecoseg batch: {redact_text(msg)}", file=sys.stderr)

    def retry(name: str, attempt: int, exc: BaseException) -> None:
        say(f"{name}: attempt {attempt} failed ({_error_text(exc)}), retrying")

    try:
        for name, attempts, result, error in run_tasks(
            client, _batch_task, jobs, retries=retries, on_retry=retry
        ):
            row = rows[name]
            row["attempts"] = attempts
            if error is not None:
                row.update(status="failed", error=_error_text(error))
                say(f"{name}: failed after {attempts} attempt(s): {row['error']}")
            else:
                row.update(
                    status=result["status"], frames=result["frames"], seconds=result["seconds"]
                )
                frames_done += result["frames"] if result["status"] == "done" else 0
            elapsed = time.perf_counter() - t0
            bar.set_postfix_str(f"{frames_done / elapsed:.1f} frames/s", refresh=False)
            bar.update(1)
    finally:
        bar.close()


def _error_text(exc: BaseException) -> str:
    text = redact_text(" ".join(str(exc).split()))
    name = type(exc).__name__
    if not isinstance(exc, EcosegError):
        text = f"{name}: {text}" if text else name
    return text or name


def _check_names(videos: Sequence[str]) -> list[str]:
    names = [video_name(v) for v in videos]
    seen: dict[str, str] = {}
    for name, video in zip(names, videos):
        if not name or not _NAME_RE.match(name):
            raise ConfigError(
                f"{redact_url(video)}: cannot name a store after it ({name!r}); use letters, "
                "digits, spaces, '.', '_' and '-' in video file names"
            )
        if name in seen:
            raise ConfigError(
                f"two videos would write the same store {name}.zarr: {redact_url(seen[name])} "
                f"and {redact_url(video)}; rename one of them"
            )
        seen[name] = video
    return names


def _segment_options(
    names, engine, model, checkpoint, pretrained, image_size, device, params, prompts, auto
) -> dict[str, dict[str, Any]]:
    """Per-video keyword arguments of :func:`ecoseg.segment`, validated before any work."""
    from ecoseg.engine import choose_engine

    prompts = {str(k): os.fspath(v) for k, v in (prompts or {}).items()}
    unknown = sorted(set(prompts) - set(names))
    if unknown:
        raise ConfigError(f"prompts given for {unknown[0]!r}, which is not one of the videos")
    engine = choose_engine(engine, prompts=bool(prompts), auto=auto)
    params = dict(params or {})
    if engine == "classical":
        from ecoseg.engine.classical import ClassicalParams

        ClassicalParams.from_dict(params)
    else:
        from ecoseg.sam2.variants import VARIANTS

        if model not in VARIANTS:
            raise ConfigError(f"unknown SAM 2 variant {model!r} (see `ecoseg weights list`)")
        missing = [n for n in names if n not in prompts]
        if missing and not auto:
            raise ConfigError(
                f"the sam2 engine needs a prompt file for every video; none for {missing[0]!r} "
                "(or use auto discovery)"
            )
        for name, path in prompts.items():
            if not Path(path).is_file():
                raise ConfigError(f"{path}: prompt file of {name!r} not found")
        if checkpoint is not None and not Path(checkpoint).is_file():
            raise ConfigError(f"{checkpoint}: checkpoint file not found")
    if device is not None and device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ConfigError(f"device must be cpu or cuda, got {device!r}")
    common = {
        "engine": engine,
        "model": model,
        "checkpoint": None if checkpoint is None else os.fspath(checkpoint),
        "pretrained": pretrained,
        "image_size": image_size,
        "device": device,
        "params": params,
        "auto": auto,
        "progress": False,
    }
    return {n: {**common, "prompts": prompts.get(n)} for n in names}


def task_resources(engine: str, device: str | None) -> dict[str, float] | None:
    """Dask resources a task of this engine/device needs: sam2 on CUDA takes one ``GPU``.

    Examples
    --------
    >>> task_resources("sam2", "cuda"), task_resources("sam2", "cpu")
    ({'GPU': 1}, None)
    """
    if engine == "sam2" and device is not None and str(device).startswith("cuda"):
        return {"GPU": 1}
    return None


def _local_workers(workers, threads, n_jobs: int, resources) -> int:
    """Local cluster size: as asked (at most one per job); one worker for GPU tasks by default."""
    if workers is None:
        workers = 1 if resources else _default_workers(threads)
    return max(1, min(workers, n_jobs))


def _check_gpu_workers(client) -> None:
    workers = client.scheduler_info().get("workers", {})
    if workers and not any((w.get("resources") or {}).get("GPU", 0) >= 1 for w in workers.values()):
        raise ConfigError(
            "GPU tasks (sam2 on cuda) need workers that offer a GPU resource; start them with "
            "`dask worker ADDRESS --resources GPU=1`"
        )


def _logger(progress: bool) -> Callable[[str], None]:
    if not progress:
        return lambda msg: None
    return lambda msg: print(f"ecoseg batch: {redact_text(msg)}", file=sys.stderr, flush=True)


def _write_csv(df, location: str) -> None:
    """Write a CSV to a local path (atomically) or an fsspec URL."""
    text = df.to_csv(index=False, lineterminator="\n")
    if "://" in location:
        import fsspec

        with fsspec.open(location, "w") as f:
            f.write(text)
        return
    path = Path(location)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- dask.array tables
def _id_areas(block, ids):
    """Pixels of each id in ``ids`` per frame, + unknown-id pixels and distinct unknown ids."""
    import numpy as np

    from ecoseg.store import present_ids

    n = block.shape[0]
    k = len(ids)
    out = np.zeros((n, k + 2), np.int64)
    flat = block.reshape(n, -1)
    for i in range(n):
        frame = flat[i]
        present = present_ids(frame)
        if not len(present):
            continue
        counts = np.bincount(np.searchsorted(present, frame[frame != 0]), minlength=len(present))
        pos = np.searchsorted(ids, present)
        pos = np.minimum(pos, max(k - 1, 0))
        known = (ids[pos] == present) if k else np.zeros(len(present), bool)
        out[i, pos[known]] = counts[known]
        out[i, k] = counts[~known].sum()
        out[i, k + 1] = int((~known).sum())
    return out[:, None, :] if block.ndim == 3 else out


def campaign_tables(
    stores: Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike],
    *,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Per-frame counts and cover of many stores, computed with dask.array over their labels.

    The ``labels`` arrays are read chunk by chunk (:func:`dask.array.from_zarr`), so the work
    runs on a cluster when ``scheduler`` is one, and memory stays at a few chunks per worker.
    The columns agree with the ``counts`` and ``cover`` tables of :func:`ecoseg.measure`
    (whole-frame cover, no region of interest).

    Parameters
    ----------
    stores : sequence of paths/URLs, or mapping of video name to path/URL
        Default names: the store file names without ``.zarr``.
    scheduler : optional
        A ``distributed.Client`` or address; default: dask's threaded scheduler here.

    Returns
    -------
    dict of pandas.DataFrame
        ``"counts"``: ``video``, ``frame``, ``time_s``, ``class``, ``count``; ``"cover"``:
        ``video``, ``frame``, ``time_s``, ``class``, ``cover_px``, ``cover_fraction``.
        Every frame x every class of each store.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(64, 48))
    >>> tables = campaign_tables({"T1": clip.truth})
    >>> sorted(tables), tables["counts"]["video"].unique().tolist()
    (['counts', 'cover'], ['T1'])
    """
    import dask
    import dask.array as da
    import numpy as np
    import pandas as pd

    from ecoseg.store import MaskStore

    if not isinstance(stores, Mapping):
        stores = {video_name(os.fspath(s).rstrip("/").removesuffix(".zarr")): s for s in stores}
    specs, arrays = [], []
    for name, location in stores.items():
        store = MaskStore.open(location)
        n = store.n_frames
        ids_order = [int(o["id"]) for o in store.objects]
        classes = [str(o.get("class") or "unknown") for o in store.objects]
        ids = np.array(sorted(ids_order), np.int64)
        labels = da.from_zarr(store.labels)[:n]
        labels = labels.rechunk({1: -1, 2: -1})
        areas = labels.map_blocks(
            _id_areas,
            ids,
            dtype=np.int64,
            chunks=(labels.chunks[0], (1,), (len(ids) + 2,)),
        )[:, 0, :]
        specs.append((name, store, ids, ids_order, classes))
        arrays.append(areas)
    if scheduler is None:
        results = dask.compute(*arrays, scheduler="threads")
    else:
        with connect(scheduler) as client:
            if not _is_dask(client):
                raise ConfigError("campaign_tables needs a dask.distributed client or address")
            results = client.compute(arrays, sync=True)
    counts, cover = [], []
    for (name, store, ids, ids_order, classes), areas in zip(specs, results):
        times = store.read_time()
        n = len(times)
        known = list(dict.fromkeys(classes))
        if areas[:, -1].any() and "unknown" not in known:
            known.append("unknown")  # ids missing from the object table, as in measure()
        index = {c: j for j, c in enumerate(known)}
        col_class = np.array([index[classes[ids_order.index(int(i))]] for i in ids], np.int64)
        nc = len(known)
        px = np.zeros((n, nc), np.int64)
        cnt = np.zeros((n, nc), np.int64)
        for j in range(nc):
            sel = col_class == j
            px[:, j] = areas[:, : len(ids)][:, sel].sum(axis=1)
            cnt[:, j] = (areas[:, : len(ids)][:, sel] > 0).sum(axis=1)
        if "unknown" in index:
            px[:, index["unknown"]] += areas[:, -2]
            cnt[:, index["unknown"]] += areas[:, -1]
        base = {
            "video": [name] * (n * nc),
            "frame": np.repeat(np.arange(n, dtype=np.int64), nc),
            "time_s": np.repeat(times, nc),
            "class": pd.array(known * n, dtype=str),
        }
        counts.append(pd.DataFrame({**base, "count": cnt.ravel()}))
        area = float(store.height * store.width)
        cover.append(
            pd.DataFrame({**base, "cover_px": px.ravel(), "cover_fraction": px.ravel() / area})
        )
        store.close()
    return {
        "counts": pd.concat(counts, ignore_index=True),
        "cover": pd.concat(cover, ignore_index=True),
    }


def write_tables(tables: Mapping[str, Any], out: str | os.PathLike) -> list[str]:
    """Write :func:`campaign_tables` as ``OUT/campaign-<table>.csv`` (local path or URL).

    Returns
    -------
    list of str
        The locations written (credentials redacted).

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> written = write_tables({"counts": pd.DataFrame({"count": [1]})}, tempfile.mkdtemp())
    >>> written[0].endswith("campaign-counts.csv")
    True
    """
    out = os.fspath(out)
    written = []
    for name, df in tables.items():
        location = _join(out, f"campaign-{name}.csv")
        _write_csv(df, location)
        written.append(redact_url(location))
    return written
