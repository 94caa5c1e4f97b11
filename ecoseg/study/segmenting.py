"""Step 1 of a study run (:func:`~ecoseg.study.runner.run_study`): segment the videos it
planned, by the task ``ecoseg batch`` runs (:func:`ecoseg.batch.jobs.run_job`), here one
after another or on a Dask cluster, and name a video's error after its entry in the study file.

Exports
-------
``segment_videos``
    Run the planned jobs, calling back as each video's store is finished.
``segment_task``
    One video's task where it runs (a Dask worker imports it by name).
``raise_in_study``
    Raise a video's error with its study entry in front (``study.yaml: line 9: videos[1]
    (south):``).
``study_cancelled``
    The error of a study run its ``cancel`` stopped, in the study's words.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecoseg._cli import one_line
from ecoseg._warn import say
from ecoseg.batch.cluster import (
    cancel_reaching,
    connect,
    local_workers,
    run_tasks,
    task_resources,
)
from ecoseg.batch.jobs import Job, run_job, say_warnings
from ecoseg.errors import Cancelled, EcosegError
from ecoseg.study.checks import check_video
from ecoseg.study.records import VideoSpec

__all__ = ["raise_in_study", "segment_task", "segment_videos", "study_cancelled"]


def _job(video: VideoSpec, store: Path, resume: bool, progress: bool, cancel: Any) -> Job:
    """The segmentation of one video (resuming its store, or making it anew)."""
    options = {
        "prompts": None if video.prompts is None else str(video.prompts),
        "engine": video.engine,
        "model": video.model,
        "checkpoint": None if video.checkpoint is None else str(video.checkpoint),
        "pretrained": video.pretrained,
        "image_size": video.image_size,
        "device": video.device,
        "progress": progress,
        "params": dict(video.params),
        "fast": video.fast,
    }
    if video.auto:
        options["auto"] = True
    if video.engine == "classical":  # no network: the defaults' model is for other videos
        for key in ("model", "checkpoint", "pretrained"):
            del options[key]  # (ecoseg.segment refuses network settings for this engine)
    if video.fps is not None:
        options["fps"] = video.fps
    if cancel is not None:
        options["cancel"] = cancel
    if video.engine == "sam3":  # ecoseg.segment tells concept tracking by the model name
        del options["engine"]
        options.update(concepts=list(video.concepts), detect_every=video.detect_every)
        if video.as_video:  # absent otherwise (a folder given concepts is a photo survey)
            options["as_video"] = True
    overwrite = not resume and store.exists()
    return Job(video.name, str(video.path), str(store), options, resume, overwrite)


def segment_task(task: tuple[Job, VideoSpec, dict[str, str]]) -> dict[str, Any]:
    """Segment one video of a study where the task runs (module level: Dask workers import it
    by name): check what this machine lacks for it, in the study file's words
    (:func:`~ecoseg.study.checks.check_video`), then :func:`~ecoseg.batch.jobs.run_job`.

    Parameters
    ----------
    task : (Job, VideoSpec, dict)
        The job, the video it segments and where errors about it point
        (:func:`~ecoseg.study.checks.video_places`).

    Returns
    -------
    dict
        What :func:`~ecoseg.batch.jobs.run_job` returns.
    """
    job, video, places = task
    check_video(video, places)
    return run_job(job)


def raise_in_study(error: BaseException, place: str) -> None:
    """Raise ``error`` of a video's segmentation with the video's study entry in front
    (``place``: ``"FILE: line N: videos[i] (name):"``), once; errors that bad input does not
    cause (not an :class:`~ecoseg.errors.EcosegError`) as they are."""
    text = one_line(error)
    study_file = place.split(": line ")[0].rstrip(":")
    if not isinstance(error, EcosegError) or text.startswith(study_file):
        raise error
    try:
        wrapped = type(error)(f"{place} {text}")
    except Exception:  # noqa: BLE001 - an exception class with another signature
        raise error from None
    raise wrapped from error


def study_cancelled(error: Cancelled, place: str) -> Cancelled:
    """The error of a study run whose ``cancel`` stopped a video (``error``, its own: it was
    stopped or not started), with the video's study entry in front (``place``) and how the
    study continues (the same run: a partial store of the same inputs is resumed).

    Examples
    --------
    >>> str(study_cancelled(Cancelled.after("out/stores/south.zarr", 12), "s.yaml: line 9:"))
    's.yaml: line 9: out/stores/south.zarr: cancelled after 12 frames; the same run_study \
call (ecoseg study) again continues the study'
    """
    what = one_line(error).split("; ")[0]
    return Cancelled(
        f"{place} {what}; the same run_study call (ecoseg study) again continues the study"
    )


def segment_videos(
    jobs: list[tuple[VideoSpec, Path, dict, str, bool]],
    progress: bool,
    scheduler: Any,
    log: Callable[[str], None],
    finished: Callable[[VideoSpec], None],
    places: dict[str, dict[str, str]],
    *,
    local: bool = False,
    workers: int | None = None,
    threads: int | None = None,
    cancel: Any = None,
) -> None:
    """Segment the videos a study run planned.

    Parameters
    ----------
    jobs : list of (VideoSpec, Path, dict, str, bool)
        Each video, its store, its inputs and fingerprint (the manifest's) and whether its
        store is resumed (same inputs) rather than made anew.
    progress : bool
        Progress bars of a run here.
    scheduler : optional
        As for :func:`~ecoseg.study.runner.run_study`: ``None`` runs the videos one after
        another here (this machine checked by the caller); else their tasks
        (:func:`segment_task`) go through :func:`ecoseg.batch.run_tasks`.
    log : callable
        Takes each progress line.
    finished : callable
        Called with each video once its store is finished (the caller records it).
    places : dict
        Where errors about each video point (:func:`~ecoseg.study.checks.video_places`).
    local, workers, threads
        ``local``: with no ``scheduler``, a local Dask cluster of ``workers`` processes of
        ``threads`` threads (:func:`ecoseg.batch.connect`).
    cancel : threading.Event or callable, optional
        Given to every video's segmentation; once set, no further video starts
        (on a Dask cluster, as :func:`~ecoseg.batch.cluster.cancel_reaching` gives it).

    Raises
    ------
    Cancelled
        ``cancel`` stopped a video (:func:`study_cancelled`), after the videos under way
        on a ``scheduler`` came back.
    EcosegError
        What a video's segmentation raised, named after its entry (:func:`raise_in_study`).
    """
    if not jobs:
        return
    if scheduler is None and not local:
        for video, store, _inputs, _fp, resume in jobs:
            log(f"segment {video.name}" + (" (resuming)" if resume else ""))
            # (not segment_task: run_study checked this machine for it up front); its
            # warnings said as they come, naming the video, a failed video's before its error
            try:
                run_job(_job(video, store, resume, progress, cancel), say_now=say)
            except Cancelled as exc:
                raise study_cancelled(exc, places[video.name][""]) from None
            except EcosegError as exc:
                raise_in_study(exc, places[video.name][""])
            finished(video)
        return
    by_name = {video.name: video for video, *_ in jobs}
    resources = {name: task_resources(v.engine, v.device) for name, v in by_name.items()}
    gpu = {"GPU": 1} if any(resources.values()) else None
    with (
        connect(
            scheduler,
            workers=local_workers(workers, threads, len(jobs), gpu) if local else None,
            threads=threads,
            resources=gpu if local else None,
            log=log,
        ) as client,
        cancel_reaching(client, cancel) as reaching,  # a cluster's workers: a named event
    ):
        tasks = []
        for video, store, _inputs, _fp, resume in jobs:
            log(f"segment {video.name}: submitted")
            job = _job(video, store, resume, False, reaching)
            tasks.append((video.name, (job, video, places[video.name]), resources[video.name]))
        stopped = {}
        for name, _attempts, result, error in run_tasks(client, segment_task, tasks):
            # here, naming the video: not in the worker's stderr (a failed video's too)
            say_warnings(result if error is None else error)
            if isinstance(error, Cancelled):  # the others stop too: their stores flushed
                stopped[name] = error
                continue
            if error is not None:
                raise_in_study(error, places[name][""])
            finished(by_name[name])
            log(f"segment {name}: done")
        if stopped:  # named after the first in the study (they come back in any order)
            name = next(name for name, _, _ in tasks if name in stopped)
            raise study_cancelled(stopped[name], places[name][""])
