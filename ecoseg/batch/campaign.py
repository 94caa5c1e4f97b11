"""``ecoseg batch``: many videos, one Dask task and one mask store each, and a summary table.

:func:`batch` segments every video into ``OUT/<video name>.zarr``; each video is a
:class:`~ecoseg.batch.jobs.Job` run by :func:`~ecoseg.batch.jobs.run_job` through
:func:`~ecoseg.batch.cluster.run_tasks`. A failed video is submitted again up to ``retries``
times (resuming its store), unless its error would come again (bad settings or prompts, missing
weights, an unavailable device: :func:`~ecoseg.batch.cluster.retried`), and then reported in the
summary (:data:`SUMMARY_COLUMNS`), which is returned and written to ``OUT/batch-summary.csv``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ecoseg._checks import check_path_arg, short_repr
from ecoseg._cli import logger
from ecoseg._device import device_name
from ecoseg._paths import check_out_folder
from ecoseg.batch._inputs import (
    check_folder_rate,
    check_folders,
    check_own_tables,
    check_same_bytes,
    check_store_places,
)
from ecoseg.batch._options import check_this_machine, concept_options, segment_options
from ecoseg.batch._plan import (
    certain_to_segment,
    check_machine_first,
    check_surveys,
    kept_beside,
    other_settings,
    planned_statuses,
    probe_urls,
)
from ecoseg.batch._summary import (
    CANCELLED,
    STATUSES,
    SUMMARY_COLUMNS,
    SUMMARY_FILE,
    error_text,
    interrupted,
    run_batch,
    write_summary,
)
from ecoseg.batch._threads import DaemonPool
from ecoseg.batch.cluster import (
    cancel_reaching,
    check_cancel_here,
    check_count,
    check_gpu_workers,
    check_not_importing_script,
    connect,
    is_dask,
    local_workers,
    task_resources,
)
from ecoseg.batch.jobs import Job
from ecoseg.batch.names import check_names, other_stores, store_names, video_check
from ecoseg.batch.urls import (
    file_name,
    is_url,
    local_path,
    redact_text,
    redact_url,
    store_location,
    video_name,
)
from ecoseg.errors import Cancelled, ConfigError, EcosegError, VideoError

__all__ = ["STATUSES", "SUMMARY_COLUMNS", "SUMMARY_FILE", "batch"]


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
    model: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    pretrained: bool = True,
    image_size: int | None = None,
    device: str | None = None,
    params: Mapping[str, Any] | None = None,
    prompts: Mapping[str, str | os.PathLike] | str | os.PathLike | None = None,
    auto: bool = False,
    concepts: Sequence[str] | None = None,
    detect_every: int = 1,
    chunk_frames: int = 4,
    fast: bool = False,
    progress: bool = True,
    fps: float | None = None,
    as_video: bool = False,
    cancel: Any = None,
) -> Any:
    """Segment many videos, one Dask task each, into ``OUT/<video name>.zarr``.

    Parameters
    ----------
    videos : iterable of str or Path
        Video files or image folders (local paths, ``file://`` or fsspec URLs such as
        ``s3://bucket/v.mp4`` or ``https://...``). Each store is named after its video's file
        name; videos sharing one in several folders after their folders
        (:func:`~ecoseg.batch.names.store_names`).
    out : str or Path
        Folder or URL for the stores and ``batch-summary.csv``.
    scheduler : None, str or client
        See :func:`connect`: ``None`` starts a local cluster (none where the only tasks check
        URL videos by their bytes, ``jobs.Job.verify``: threads of this process run them), a
        string is a scheduler address.
    workers, threads, processes
        Local cluster shape (see :func:`~ecoseg.batch.cluster.connect`).
    retries : int
        Submissions of a failed video after the first (default 2). A failure certain to come
        again is not retried (:func:`~ecoseg.batch.cluster.retried`: a ``ConfigError``,
        ``CheckpointError``, ``PromptError``, ...: missing weights, a device the worker lacks,
        a video that cannot be decoded); storage errors, a URL that cannot be fetched, a lost
        worker and other failures are.
    engine, model, checkpoint, pretrained, image_size, device, params, auto
        As for :func:`ecoseg.segment`, the same for every video.
    prompts : mapping, str or Path, optional
        Prompt file of each video by video name (sam2 engine; with SAM 3, files whose
        ``"concepts"`` hold exemplar boxes), or a folder holding each video's as
        ``<video name>.json`` under its store's name, as ``ecoseg batch --prompts-dir`` (a
        video with no file there has none).
    concepts : sequence of str, optional
        SAM 3 concept tracking (``model="sam3"``): find these on every frame of every video
        (the same for all; combined with each video's prompt file). ``params`` are then
        :class:`~ecoseg.engine.concept_rules.ConceptSettings` fields. A local image folder
        given concepts is a photo survey, as for :func:`ecoseg.segment`, unless ``as_video``;
        what a survey cannot use (``detect_every``, ``fast``, ``fps``, tracking ``params``)
        is refused before any work (:func:`~ecoseg.engine.concepts.check_survey`).
    detect_every : int
        Concept tracking: the detector runs on every N-th frame.
    chunk_frames : int
        Frames per ``labels`` chunk (one object per chunk on object stores: raise it to write
        fewer, larger objects).
    fast : bool
        sam2 engine and SAM 3 concept tracking: the network in bf16, as for
        :func:`ecoseg.segment`.
    progress : bool
        Print the dashboard link and a campaign progress bar (videos, frames/s, ETA) on stderr.
    fps : float, optional
        Frame rate of the image folders, as for :func:`ecoseg.segment` (default 30); every
        video must then be a local image folder (a video file is timed by its timestamps, and
        a single image has no time axis).
    as_video : bool
        With concepts: track the image folders as videos of frames, not photo surveys (as
        :func:`ecoseg.segment`'s ``as_video``, ``--as-video``).
    cancel : threading.Event or callable, optional
        Once set: each video being segmented stops before its next frame (its store flushed,
        as :func:`ecoseg.segment`'s ``cancel``), no further video starts, and :class:`Cancelled`
        is raised (the summary written, those videos ``failed`` with the frames they hold).
        The same call again resumes them: the campaign ends as an uninterrupted one. With
        no ``scheduler`` the videos run in threads of this process (as many at once as the
        local cluster would have run; no cluster is started); with a Dask client or
        scheduler address the workers see it as a named ``distributed.Event`` set once it is
        (:func:`~ecoseg.batch.cluster.cancel_reaching`); refused (:class:`ConfigError`) with a
        process pool, whose workers it cannot reach.

    Returns
    -------
    pandas.DataFrame
        The summary (:data:`SUMMARY_COLUMNS`), one row per video in input order; also written
        to ``OUT/batch-summary.csv``. ``attrs["summary"]`` is that file's location.

    Raises
    ------
    Cancelled
        ``cancel`` stopped videos before they were finished (see ``cancel``).
    ConfigError, VideoError
        Before any work: no videos, two videos that would write one store, two local video
        files of the same bytes (a copy under another name), a missing local video, a local
        folder with no images (a folder of videos given for its videos), a bad option or
        engine parameter, ``fps`` for a video file, or GPU tasks for a scheduler none of
        whose workers offers a ``GPU`` resource; on a local cluster (``scheduler=None``), a
        device this machine lacks. Failures of single videos are reported in the summary,
        not raised.
    CheckpointError
        Before any work, on a local cluster: network weights neither given (``checkpoint``)
        nor in this machine's weights cache (nothing is downloaded). This machine's device
        and weights are checked only where a video is to be segmented: a campaign whose
        stores are all complete runs again anywhere. A video with no store (segmented for
        certain) has them checked before any video is opened, hashed or fetched (unless
        another store in ``out`` could be its under an earlier run's name: that takes its
        bytes).

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
    if scheduler is None and processes:  # a script's top level, run again by each worker
        check_not_importing_script()
    if isinstance(videos, str | bytes | os.PathLike):  # "T1.mp4" was the videos 'T', '1', ...
        given = short_repr(os.fspath(videos))
        raise ConfigError(f"videos must be a list of videos, got {given} (videos=[{given}])")
    if not isinstance(videos, Iterable):
        raise ConfigError(f"videos must be a list of videos, got {short_repr(videos)}")
    if hasattr(videos, "columns"):  # a table iterates its column names: 'frame' was a video
        raise ConfigError(
            f"videos must be a list of videos, got {short_repr(videos)} (give its column of "
            "video paths: videos=table['video'])"
        )
    videos = list(videos)
    for video in videos:
        check_path_arg(video, "batch: each of videos", "a path or URL of a video")
    videos = [os.fspath(v) for v in videos]
    if not videos:
        raise ConfigError("no videos given")
    check_count(workers, "workers (--workers)")
    check_count(threads, "threads (--threads)")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries (--retries) must be a whole number >= 0, got {retries!r}")
    device = device_name(device)  # "CPU" as "cpu", as segment() takes it (an unknown one refused)
    check_cancel_here(cancel, scheduler, "batch")
    from ecoseg.engine import check_weights_source

    check_weights_source(checkpoint, pretrained)
    out = os.fspath(out)
    check_out_folder(out)
    check_own_tables(out, [SUMMARY_FILE])
    run_names = check_names(videos)  # (before the files are looked at: the names alone refused)
    for video in videos:
        if not is_url(video) and not Path(local_path(video)).exists():
            from ecoseg.io._common import missing_video  # (the io package imports PyAV)

            raise VideoError(missing_video(video))
    check_folders(videos)
    check_count(chunk_frames, "chunk_frames (--chunk-frames)")
    if fps is not None:
        fps = check_folder_rate(fps, videos)
    concept_run = str(model).startswith("sam3") or bool(concepts)
    if not concept_run and detect_every != 1:
        raise ConfigError("detect_every needs concepts (SAM 3 concept tracking, model sam3)")
    check_surveys(videos, concept_run, as_video, concepts, detect_every, fast, fps, params)

    def options_for(names: list[str]) -> dict[str, dict[str, Any]]:
        if concept_run:
            return concept_options(
                names, engine, model, checkpoint, pretrained, image_size, device, params,
                prompts, auto, concepts, detect_every, as_video,
            )  # fmt: skip
        return segment_options(
            names, engine, model, checkpoint, pretrained, image_size, device, params, prompts, auto
        )

    # a video no other store in OUT could be (out's listing) keeps the name check_names gave
    unsettled = other_stores(videos, run_names, out)
    seg = None if unsettled else options_for(run_names)  # (the names final: no file opened)
    known = {}
    here = scheduler is None
    if here:  # before any video is opened or hashed (no copies hashed, no store's name kept)
        known, here = check_machine_first(
            videos, run_names, unsettled, out, seg, options_for, concept_run
        )
    check_same_bytes(videos)
    names = store_names(videos, out)  # (opens a video another store in OUT could be made from)
    if seg is None:
        seg = options_for(names)
    from ecoseg.engine import check_fast

    run_engine = "sam3" if concept_run else seg[names[0]]["engine"]
    check_fast(fast, run_engine)
    for options in seg.values():
        options.update(chunk_frames=chunk_frames, fast=fast)
        if fps is not None:  # absent otherwise: a video file refuses any fps
            options["fps"] = fps
    resources = task_resources(run_engine, device)
    log = logger(progress, "batch", redact_text)
    named = [(v, n) for v, n, r in zip(videos, names, run_names) if n == r != video_name(v)]
    kept = [(v, n) for v, n, r in zip(videos, names, run_names) if n != r]
    for pairs, why in (
        (named, "stores named after their folders (file names used more than once)"),
        (kept, "stores kept under the names an earlier run gave them"),
    ):
        if pairs:  # the stores say which folder, or keep the name they have
            shown = ", ".join(f"{redact_url(v)} -> {n}.zarr" for v, n in pairs[:4])
            more = f" and {len(pairs) - 4} more" if len(pairs) > 4 else ""
            log(f"{why}: {shown}{more}")

    rows: dict[str, dict[str, Any]] = {}
    resuming = []
    jobs = []
    statuses = planned_statuses(out, names, known)  # (on object storage: several at once)
    # a user's folder where a store goes: refused once, before any work (each attempt failed);
    # those read in check_machine_first (their names certain) were checked there
    check_store_places(
        [(v, store_location(out, n), statuses[n]) for v, n in zip(videos, names) if n not in known]
    )
    # a local cluster segments on this machine: its device and weights cache are checked
    # only where a video is to be segmented (stores all complete: the tables again on a
    # laptop with no GPU nor weights), before any store or the output folder is touched;
    # a video with no store is segmented for certain, so then before any video is probed
    # (check_machine_first: before any is opened, where its name is certain)
    if here and any(map(certain_to_segment, statuses.values())):
        check_this_machine(run_engine, seg[names[0]])
        here = False  # (checked)
    probed = probe_urls(names, videos, statuses)  # (concurrently: 2 or 3 requests each)
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
        status = statuses[name]
        if isinstance(status, OSError):  # unreadable (permissions, a storage error): this
            row["error"] = f"{redact_url(store)}: the store cannot be read ({error_text(status)})"
            continue  # video fails, the others are planned
        if isinstance(status, EcosegError):  # a damaged ecoseg store (check_store_places
            log(f"{name}: {redact_text(status)}")  # refused others): its task reports it too
            status = None
        state, frames = (status.state, status.frames) if status else ("unknown", 0)
        row["frames"] = frames  # a store refused below is kept: the frames it holds
        source = status.video if status else None
        if source is not None and source != file_name(video):
            row["error"] = (
                f"{redact_url(store)}: the store was made from another video ({source}); move it "
                "away or rename the video"
            )
            continue
        # a partial store too: its resume would refuse it, after attempts, in segment's words
        made = state in ("complete", "partial")
        if made and (why := other_settings(seg[name], video, status.record)):
            row["error"] = (
                f"{redact_url(store)}: {why}; move the store away (or write to another --out) "
                "to segment this video with these settings"
            )
            continue
        retagged = False
        if name in probed:
            why, broken, retagged = probed[name]
        elif made and not is_url(video):  # (a partial store's URL: its resume checks it)
            why, broken = video_check(video, status.record.video)
        else:
            why, broken = None, None
        if retagged and getattr(status.record.video, "sha256", None):
            # only the ETag differs (a storage that tags every write anew): the bytes tell,
            # fetched once by a task of the campaign (jobs.Job.verify), not by the probe
            jobs.append((name, Job(name, video, store, seg[name], verify=True), None))
            continue
        if why is not None:
            row["error"] = (
                f"{redact_url(store)}: the store was made from another {file_name(video)} ({why}); "
                "move the store away to segment this video anew"
            )
            continue
        if (
            state == "complete"
            and broken
            and (kept := kept_beside(broken, video, store, status, log))
        ):
            row["error"] = kept  # failed: the store is kept, not vouched for
            continue
        if state == "complete":
            row["status"] = "skipped"
            continue
        if state == "partial":
            resuming.append(f"{name}: resuming after {frames} frames")
        jobs.append((name, Job(name, video, store, seg[name]), resources))
    if here and any(not job.verify for _, job, _ in jobs):  # (a partial store resumed)
        check_this_machine(run_engine, seg[names[0]])
    if "://" not in out:
        Path(out).mkdir(parents=True, exist_ok=True)
    for line in resuming:
        log(line)
    skipped = sum(row["status"] == "skipped" for row in rows.values())  # (not refused ones)
    if skipped:
        log(f"{skipped} of {len(videos)} stores complete, skipped")

    if jobs:
        try:
            with (
                _here(len(jobs), workers, threads, resources, cancel, log)
                if scheduler is None and (cancel is not None or all(j.verify for _, j, _ in jobs))
                else connect(
                    scheduler,
                    workers=local_workers(workers, threads, len(jobs), resources),
                    threads=threads,
                    processes=processes,
                    resources=resources if scheduler is None else None,
                    log=log,
                )
            ) as client:
                if resources and is_dask(client):
                    check_gpu_workers(client)
                with cancel_reaching(client, cancel) as reaching:
                    if reaching is not None:  # (not a setting of the store: not in seg)
                        jobs = [
                            (n, replace(job, segment={**job.segment, "cancel": reaching}), r)
                            for n, job, r in jobs
                        ]
                    run_batch(client, jobs, rows, retries, progress, log)
            stopped = [name for name, _, _ in jobs if rows[name]["error"] == CANCELLED]
            if stopped:
                write_summary(rows, names, out)
                raise Cancelled(
                    f"{redact_url(out)}: batch cancelled, {len(stopped)} of {len(videos)} "
                    f"videos not finished ({', '.join(stopped[:3])}"
                    f"{', ...' if len(stopped) > 3 else ''}); the same batch call (or command) "
                    "again resumes them"
                )
        except KeyboardInterrupt:  # the summary says what this run did, not the last run's
            for name, job, _ in jobs:
                if rows[name]["attempts"] == 0:  # not reported finished (nor failed)
                    interrupted(rows[name], job)
            write_summary(rows, names, out)  # (the command says 'ecoseg: interrupted')
            raise

    summary = write_summary(rows, names, out)
    counts = summary["status"].value_counts()
    log(
        ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)
        + f"; summary: {summary.attrs['summary']}"
    )
    return summary


def _here(n: int, workers, threads, resources, cancel, log) -> DaemonPool:
    """Where the tasks of a campaign run, with no scheduler given, when a ``cancel`` is given
    (it reaches threads here as it is: no cluster to start, nor its scheduler to ask once a
    frame, :func:`~ecoseg.batch.cluster.cancel_reaching`) or when its only ones check URL videos
    by their bytes (``jobs.Job.verify``: every store complete, some videos re-tagged; each
    only streams a video through SHA-256, not worth a cluster's seconds of start-up and its
    worker processes): threads of this process, as many at once as the local cluster would
    have run them."""
    if cancel is None:
        resources = None  # (only checks)
        log(f"{n} video(s) to check by their bytes only: checked here, no local cluster started")
    else:
        log(f"{n} video(s) segmented in this process (cancel given): no local cluster started")
    at_once = local_workers(workers, threads, n, resources) * (threads or 1)
    return DaemonPool(min(at_once, n))
