"""Field studies: one YAML file names the videos, their metadata and how to process them.

A study file is read with :func:`load_study` (``yaml.SafeLoader`` only, so no tag can construct
Python objects) and validated in full before any work starts. :func:`run_study` (``ecoseg study
STUDY.yaml``) then makes one mask store per video, the measurement tables combined across videos
(with video/site/transect/date/depth columns) and a self-contained HTML report, all under the
study's output folder::

    output/
      stores/<video>.zarr        one mask store per video
      tables/<table>.parquet     regions, tracks, counts, maxn, cover (+ .csv), all videos
      tables/videos/<video>/     the per-video tables the combined ones are built from
      species_models/<sha>.json  a copy of each species model the study classified with
      report.html                the report (ecoseg.report)
      ecoseg-study.json          fingerprints of everything above (the manifest)

Re-running is incremental. Every store is made from a fingerprint of what determines its
content (video sha256, engine, model variant, checkpoint sha256, image size, parameters,
prompt file content); a finished store whose fingerprint is unchanged is kept. Per-video tables
have a fingerprint of their store plus the calibration, so changing a calibration re-measures
that video without segmenting it again. Combined tables and the report are rewritten only when
something they are made of changed, and their bytes are deterministic. A video moved away
after its store was finished is not needed: its store is kept and the tables and the report
are made from it.

Example study file (paths are relative to the study file)::

    name: North vs South reef, March 2024
    output: out
    defaults:
      engine: classical
      calibration: 0.5            # mm per pixel, or "scale-bar:x0,y0,x1,y1,LENGTH_MM"
    videos:
      - path: videos/north.mp4
        site: North
        transect: T1
        date: 2024-03-12
        depth_m: 6.5
      - path: videos/south.mp4
        site: South
        transect: T1
        calibration: "lasers:100,80,140,80,100"
        truth: truth/south.zarr    # optional ground truth: adds an accuracy section

The package: :mod:`~ecoseg.study.config` (the study file; its parts in private modules beside
it), :mod:`~ecoseg.study.records` (the :class:`Study` and :class:`VideoSpec` it is read into),
:mod:`~ecoseg.study.manifest` (fingerprints), :mod:`~ecoseg.study.moved` (videos moved
away: their finished stores kept) and :mod:`~ecoseg.study.runner` (:func:`run_study`).
Videos are segmented (:mod:`~ecoseg.study.segmenting`) by the task ``ecoseg batch`` runs
(:mod:`ecoseg.batch.jobs`), tables are written and combined by
:mod:`ecoseg.measure.tables`, and the report is :func:`ecoseg.report`.
"""

from __future__ import annotations

from ecoseg.study.config import load_study
from ecoseg.study.manifest import MANIFEST
from ecoseg.study.records import Study, VideoSpec
from ecoseg.study.runner import TABLES, StudyResult, run_study

__all__ = [
    "MANIFEST",
    "TABLES",
    "Study",
    "StudyResult",
    "VideoSpec",
    "load_study",
    "run_study",
]
