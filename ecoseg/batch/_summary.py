"""A campaign's run and its summary: the tasks run with a progress bar, and each video's row.

:func:`run_batch` runs the planned tasks (:func:`~ecoseg.batch.cluster.run_tasks`) and fills
each video's summary row (:data:`SUMMARY_COLUMNS`) with what its task did: done, failed (with
the frames its store holds), cancelled; :func:`interrupted` says what a stopped run did not get
back; :func:`write_summary` writes the table to ``OUT/batch-summary.csv``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from ecoseg.batch.cluster import run_tasks
from ecoseg.batch.jobs import (
    Job,
    StoreStatus,
    UnreadableVideo,
    run_job,
    say_warnings,
    store_status,
)
from ecoseg.batch.tables import write_csv
from ecoseg.batch.urls import join_url, redact_text, redact_url
from ecoseg.errors import Cancelled, EcosegError, VideoError

__all__ = [
    "CANCELLED",
    "INTERRUPTED",
    "INTERRUPTED_CHECK",
    "NOT_CHECKED",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "SUMMARY_FILE",
    "error_text",
    "interrupted",
    "kept_text",
    "run_batch",
    "write_summary",
]

#: Name of the summary table written next to the stores.
SUMMARY_FILE = "batch-summary.csv"
#: Columns of the summary table, in order.
SUMMARY_COLUMNS = ("video", "store", "status", "attempts", "frames", "seconds", "error")
#: Values of the summary's ``status`` column.
STATUSES = ("done", "skipped", "failed")

#: The error of a video the run was stopped (Ctrl-C, a signal) before it finished.
INTERRUPTED = (
    "interrupted: the run was stopped before this video finished; run the same command again "
    "to resume it"
)


#: The error of a video a set ``cancel`` stopped, or kept from starting.
CANCELLED = (
    "cancelled: the run was cancelled before this video finished; the same batch again resumes it"
)


#: The error of a video whose check against its store by its bytes (``jobs.Job.verify``) the
#: run was stopped before.
INTERRUPTED_CHECK = (
    "interrupted: the run was stopped before this video was checked against its store; run "
    "the same command again to check it"
)


def interrupted(row: dict[str, Any], job: Job) -> None:
    """The summary row of a video whose result the stopped run did not get: done if its store
    was finished (its time unknown, as for a lost worker's), else interrupted with the frames
    its store holds; a video whose check by its bytes had not come back is interrupted too
    (its store was complete before the run)."""
    status = _status(job.store)
    if job.verify:
        row.update(error=INTERRUPTED_CHECK, frames=status.frames if status else 0)
    elif status is not None and status.complete:
        row.update(status="done", attempts=1, frames=status.frames, seconds=float("nan"))
    else:
        row.update(error=INTERRUPTED, frames=status.frames if status else 0)


def write_summary(rows, names, out: str) -> Any:
    """The summary table of ``rows`` in input order, written to ``OUT/batch-summary.csv``."""
    import pandas as pd

    summary = pd.DataFrame([rows[n] for n in names], columns=list(SUMMARY_COLUMNS))
    summary["attempts"] = summary["attempts"].astype("int64")
    summary["frames"] = summary["frames"].astype("int64")
    summary["seconds"] = summary["seconds"].astype("float64").round(3)
    location = join_url(out, SUMMARY_FILE)
    write_csv(summary, location)
    summary.attrs["summary"] = redact_url(location)
    return summary


def run_batch(client, jobs, rows, retries: int, progress: bool, log) -> None:
    from ecoseg._progress import progress_bar

    bar = progress_bar(
        total=len(jobs),
        unit="video",
        desc="ecoseg batch",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    t0 = time.perf_counter()
    frames_done = 0
    stores = {name: job.store for name, job, _ in jobs}
    checked = {name: job.video for name, job, _ in jobs if job.verify}

    def say(msg: str) -> None:
        if progress:
            bar.write(f"ecoseg batch: {redact_text(msg)}", file=sys.stderr)

    # each video's warnings said so far: an attempt's are said before its retry or failure
    # line (they often tell why it failed), and a retry's that an earlier attempt said are not
    # said again (a warning that differs is)
    said: dict[str, set] = {name: set() for name, _, _ in jobs}

    def retry(name: str, attempt: int, exc: BaseException) -> None:
        say_warnings(exc, said[name])
        say(f"{name}: attempt {attempt} failed ({error_text(exc)}), retrying")

    try:
        for name, attempts, result, error in run_tasks(
            client, run_job, jobs, retries=retries, on_retry=retry
        ):
            row = rows[name]
            row["attempts"] = attempts
            # said here, naming the video: not in the worker's stderr
            say_warnings(result if error is None else error, said[name])
            if isinstance(error, Cancelled):  # (not retried) what it stored is kept
                row.update(status="failed", error=CANCELLED, frames=_held(stores[name]))
                say(f"{name}: cancelled with {row['frames']} frames stored")
            elif error is not None:
                # what the attempts committed stays (a video that breaks off at frame 205):
                # the summary says how much, not 0
                row.update(status="failed", error=error_text(error), frames=_held(stores[name]))
                fetch = isinstance(error, VideoError) and not isinstance(error, UnreadableVideo)
                if name in checked and fetch:  # (UnreadableVideo: other bytes, said so)
                    row["error"] = kept_text(row["error"], stores[name], row["frames"], NOT_CHECKED)
                certain = attempts <= retries  # (not retried: it would fail again)
                say(
                    f"{name}: failed after {attempts} attempt(s)"
                    + (", not retried (it would fail again)" if certain else "")
                    + f": {row['error']}"
                )
            elif result["status"] == "verified":  # the same bytes under a new ETag
                row.update(status="skipped", frames=result["frames"], seconds=result["seconds"])
                say(
                    f"{checked[name]}: its ETag changed ({result['was']} when the store was "
                    f"made, {result['etag']} now) but not its bytes (the store's SHA-256): "
                    "skipped; the store records the new ETag"
                )
            elif result["status"] == "skipped":
                # Only stores found unfinished were submitted: a task that finds its store
                # finished was run again by Dask because the worker holding the first run's
                # result was lost after the store was committed. It was made in this run; how
                # long that took went with the worker.
                row.update(status="done", frames=result["frames"], seconds=float("nan"))
                frames_done += result["frames"]
            else:
                row.update(status="done", frames=result["frames"], seconds=result["seconds"])
                frames_done += result["frames"]
            elapsed = time.perf_counter() - t0
            bar.set_postfix_str(f"{frames_done / elapsed:.1f} frames/s", refresh=False)
            bar.update(1)
    finally:
        bar.close()


#: Why a complete store beside a URL video that cannot be fetched is not vouched for.
NOT_CHECKED = "this run cannot check it against the video at that URL"


def kept_text(reason: str, store: str, frames: int, why: str) -> str:
    """The summary error of a video beside its complete store of ``frames`` that this run
    cannot vouch for (``why``), after ``reason``, the video's one-line error."""
    return (
        f"{redact_text(reason)}; its complete store {redact_url(store)} ({frames} "
        f"frames) is kept, but {why}: bring back the video it was made from (or move the store "
        "away to segment this one anew)"
    )


def _held(store: str) -> int:
    """Frames a failed video's store holds (committed by its attempts), 0 if none or unknown."""
    status = _status(store)
    return status.frames if status is not None else 0


def _status(store: str) -> StoreStatus | None:
    """The store's :func:`~ecoseg.batch.jobs.store_status`, None where it cannot be read (the
    summary of a stopped or failed run says what it can)."""
    try:
        return store_status(store)
    except (EcosegError, OSError):
        return None


def error_text(exc: BaseException) -> str:
    text = redact_text(" ".join(str(exc).split()))
    name = type(exc).__name__
    if not isinstance(exc, EcosegError):
        text = f"{name}: {text}" if text else name
    return text or name
