"""Field campaigns at scale: many videos as Dask tasks, outputs on any fsspec storage.

:func:`batch` (``ecoseg batch VIDEO... -o OUT``) segments every video into its own mask store,
``OUT/<video name>.zarr`` (videos sharing a file name in several folders are named after those
folders, ``OUT/site-a__GX010001.zarr``, and a store keeps its name on every run:
:mod:`~ecoseg.batch.names`), as one Dask task per video:

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

Fault handling: a task that fails (lost worker, storage error, a video URL that cannot be
fetched) is submitted again up to ``retries`` times, resuming whatever its store holds, and then
reported; a failure certain to come again (bad settings or prompts, missing weights, a device
the worker lacks, a video that cannot be decoded: :func:`~ecoseg.batch.cluster.retried`) is
reported after its first attempt. The summary table
(one row per video: ``video``, ``store``, ``status`` in {done, skipped, failed}, ``attempts``,
``frames``, ``seconds``, ``error``) is returned and written to ``OUT/batch-summary.csv``.
Re-running the same command skips complete stores without touching them and resumes partial
ones, so a campaign killed at any point loses no finished video. Every store equals what a
serial :func:`ecoseg.segment` of the same video gives.

:func:`campaign_tables` computes per-frame counts and cover of many stores at once with
:mod:`dask.array` over their zarr ``labels`` arrays (chunk by chunk, on the same cluster);
:func:`~ecoseg.batch.scores.campaign_scores` scores them against their truths, one row per
video (``ecoseg batch --truth-dir``).

The package is split by concept: :mod:`~ecoseg.batch.urls` (locations, credential redaction),
:mod:`~ecoseg.batch.names` (store names), :mod:`~ecoseg.batch.cluster` (Dask clients, cluster
size, task runner),
:mod:`~ecoseg.batch.jobs` (the segmentation task shared with :mod:`ecoseg.study`),
:mod:`~ecoseg.batch.campaign` (:func:`batch`; its plan in ``_plan``, its run and summary in
``_summary``) and :mod:`~ecoseg.batch.tables`
(:func:`campaign_tables`).
"""

from __future__ import annotations

from ecoseg.batch.campaign import STATUSES, SUMMARY_COLUMNS, SUMMARY_FILE, batch
from ecoseg.batch.cluster import connect, run_tasks, task_resources
from ecoseg.batch.jobs import Job, StoreStatus, run_job, store_status
from ecoseg.batch.tables import campaign_tables, write_tables
from ecoseg.batch.urls import redact_text, redact_url, store_location, video_name

__all__ = [
    "STATUSES",
    "SUMMARY_COLUMNS",
    "SUMMARY_FILE",
    "Job",
    "StoreStatus",
    "batch",
    "campaign_tables",
    "connect",
    "redact_text",
    "redact_url",
    "run_job",
    "run_tasks",
    "store_location",
    "store_status",
    "task_resources",
    "video_name",
    "write_tables",
]
