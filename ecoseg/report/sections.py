"""The sections of the report page, built from what :mod:`ecoseg.report.read` gathered.

:func:`build_context` reads the stores and tables, draws the figures
(:mod:`ecoseg.report.figures`) and returns plain data for the jinja2 template. Iteration is in a
fixed order everywhere (videos as given, classes sorted), so the same inputs give the same page.
The sections' data come from one private module each: ``_header`` (date, subtitle, headline
cards, study), ``_provenance``, ``_summary`` (per-video rows, MaxN table), ``_sizes`` (sizes and
speeds), ``_sites``, ``_accuracy`` and ``_tables``; numbers are written by ``_numbers``, and
the classes a video looked for are decided by ``_looked`` (tables and figures alike).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecoseg._warn import unsaid, warn
from ecoseg.measure import IncompleteStoreWarning
from ecoseg.report import figures as F
from ecoseg.report._accuracy import accuracy
from ecoseg.report._header import headline, report_date, study_block, subtitle
from ecoseg.report._provenance import provenance_row
from ecoseg.report._sites import site_data, site_table
from ecoseg.report._sizes import class_stats, track_sizes, track_speeds
from ecoseg.report._summary import maxn_table, summary_rows, unfinished
from ecoseg.report._tables import MAX_EMBED_BYTES, TABLE_INFO, TABLE_ORDER, table_downloads
from ecoseg.report.read import read_tables, read_video
from ecoseg.report.reproduce import reproduce
from ecoseg.report.species import species_table
from ecoseg.report.stills import (
    frame_rows,
    sample_labels,
    stills_wanted,
    trajectory_panels,
    video_frames,
)

__all__ = ["MAX_EMBED_BYTES", "MAX_VIDEO_PANELS", "TABLE_INFO", "TABLE_ORDER", "build_context"]

MAX_VIDEO_PANELS = 12  # per-video figures show at most this many videos


def build_context(
    stores: Mapping[str, str],
    *,
    out: Path,
    tables: Mapping[str, Any] | None,
    study=None,
    title: str | None,
    truth: Mapping[str, str] | None,
    shown: Mapping[str, str],
    progress: bool = False,
) -> dict[str, Any]:
    """Collect the report's data and figures for the template (``progress``: bars for
    measuring and evaluating the stores)."""
    from ecoseg._version import __version__

    videos = [read_video(name, path, shown[name], study) for name, path in stores.items()]
    for v in videos:  # once per store, with its tables given or measured now, as measure says
        if v.incomplete is not None:
            warn(v.incomplete, IncompleteStoreWarning)
    truth = dict(truth or {})
    for v in videos:
        if v.truth is None and v.name in truth:
            v.truth = str(truth[v.name])
            v.truth_shown = str(truth[v.name])
    tables = _said(read_tables, videos, tables, progress=progress)
    classes = sorted(
        set().union(
            *(set(tables[t]["class"].astype(str)) for t in ("regions", "maxn") if t in tables),
            *({o.class_name for o in v.objects} for v in videos),
        )
    )
    colors = F.class_colors(classes)
    calibrated = bool(videos) and all(v.mm_per_px for v in videos)
    units = {"length": "mm" if calibrated else "px", "speed": "mm/s" if calibrated else "px/s"}
    uncalibrated = [v.name for v in videos if not v.mm_per_px]

    sites = sorted({v.site for v in videos if v.site})
    ctx: dict[str, Any] = {
        "title": title or (study and (study.title or study.name)) or "ecoseg report",
        "subtitle": subtitle(videos, sites),
        "ecoseg_version": __version__,
        "date": report_date(videos),
        "study": study_block(study, out),
        "videos": [provenance_row(v) for v in videos],
        "reproduce": reproduce(videos, study, out, title=title),
        "summary": summary_rows(videos, tables),
        "unfinished": unfinished(videos),
        "headline": headline(videos, tables, sites),
        "classes": [{"name": c, "color": colors[c]} for c in classes],
        "units": units,
        "calibrated": calibrated,
        "uncalibrated": uncalibrated,
        "figures": {},
        "sites": sites,
        "truncated": max(0, len(videos) - MAX_VIDEO_PANELS),
        "max_panels": MAX_VIDEO_PANELS,
    }
    shown_videos = videos[:MAX_VIDEO_PANELS]
    shown_names = {v.name for v in shown_videos}
    figs = ctx["figures"]
    counts, maxn = tables.get("counts"), tables.get("maxn")
    if counts is not None:
        figs["counts"] = _fig(
            F.counts_figure,
            _rows_of(counts, shown_names),
            colors,
            maxn,
            videos=[v.name for v in shown_videos],
            photos={v.name: v.photos for v in shown_videos if v.provenance.is_survey},
            alt="Individuals in frame over time per class, one panel per video",
        )
    if maxn is not None:
        figs["maxn"] = _fig(
            F.maxn_figure,
            maxn,
            colors,
            videos=[v.name for v in videos],
            alt="MaxN per class and video",
        )
    ctx["maxn_table"] = maxn_table(videos, maxn, classes)

    sizes, ctx["sizes_edge_only"] = track_sizes(tables.get("regions"), calibrated, videos)
    figs["sizes"] = _fig(
        F.size_figure, sizes, colors, unit=units["length"], alt="Size-frequency per class"
    )
    ctx["size_stats"] = class_stats(sizes, "size", classes)
    # a photo survey's instance is in one photograph: no path, no speed, no time axis
    surveys = [v.name for v in videos if v.provenance.is_survey]
    ctx["surveys"] = surveys
    ctx["all_surveys"] = bool(surveys) and len(surveys) == len(videos)
    ctx["surveys_left_out"] = surveys and not ctx["all_surveys"]
    tracks = tables.get("tracks")
    if surveys and tracks is not None:
        tracks = tracks[~tracks["video"].isin(surveys)]
    speeds = track_speeds(tracks, calibrated)
    if not ctx["all_surveys"]:
        figs["speeds"] = _fig(
            F.speed_figure, speeds, colors, unit=units["speed"], alt="Mean speed per track"
        )
    ctx["speed_stats"] = class_stats(speeds, "speed", classes)
    cover = tables.get("cover")
    if cover is not None:
        figs["cover"] = _fig(
            F.cover_figure,
            _rows_of(cover, shown_names),
            colors,
            videos=[v.name for v in shown_videos],
            photos={v.name: v.photos for v in shown_videos if v.provenance.is_survey},
            alt="Percent cover per class over time, one panel per video",
        )

    # the sample frames' labels read ahead of any video frame decoded (sample_labels)
    picked = sample_labels(shown_videos, counts)
    # each video opened once for its still and its sample frames, held at their panels' size
    seen = video_frames(shown_videos, stills_wanted(shown_videos, picked))
    moving = [(v, got) for v, got in zip(shown_videos, seen) if not v.provenance.is_survey]
    if moving:
        panels, missing = trajectory_panels(
            [v for v, _ in moving], tables.get("regions"), [got for _, got in moving]
        )
        figs["trajectories"] = _fig(
            F.trajectory_figure,
            panels,
            colors,
            palette=True,
            alt="Tracks over a still of each video",
        )
        del panels  # every shown video's track points
    else:
        missing = []
    del moving
    ctx["missing_video"] = missing
    rows = frame_rows(shown_videos, tables, colors, picked, seen)
    del picked, seen
    figs["frames"] = _fig(
        F.frames_figure, rows, palette=True, alt="Sample frames with masks overlaid"
    )
    ctx["frame_captions"] = [
        {"video": r["title"], "frames": [f["caption"] for f in r["frames"]]} for r in rows
    ]

    if len(sites) >= 2 and maxn is not None:
        per_video, cover_pv = site_data(videos, maxn, cover, classes)
        figs["sites"] = _fig(
            F.site_figure, per_video, colors, cover=cover_pv, alt="MaxN and cover by site"
        )
        ctx["site_table"] = site_table(videos, tables, sites, classes)
    ctx["species"] = species_table(tables.get("tracks"))
    ctx["accuracy"] = _said(accuracy, videos, progress)
    ctx["tables"] = table_downloads(tables, study, out)
    sections = [
        ("provenance", "Study and provenance"),
        ("summary", "Per-video summary"),
        (
            "counts",
            "Counts per photograph and MaxN" if ctx["all_surveys"] else "Counts over time and MaxN",
        ),
        ("species", "Species identification"),
        ("sizes", "Size-frequency"),
        ("trajectories", "Trajectories"),
        ("speeds", "Speeds"),
        ("cover", "Percent cover per photograph" if ctx["all_surveys"] else "Percent cover"),
        ("frames", "Sample frames with masks"),
        ("sites", "Site comparison"),
        ("accuracy", "Accuracy against ground truth"),
        ("tables", "Tables (CSV)"),
    ]
    present = {
        "counts": "counts" in figs or "maxn" in figs,
        "cover": "cover" in figs,
        "sites": "sites" in figs,
        "accuracy": ctx["accuracy"] is not None,
        "species": ctx["species"] is not None,
        "trajectories": "trajectories" in figs,
        "speeds": not ctx["all_surveys"],
    }
    sections = [(k, t) for k, t in sections if present.get(k, True)]
    ctx["sections"] = [{"id": k, "title": t, "num": i + 1} for i, (k, t) in enumerate(sections)]
    ctx["num"] = {s["id"]: s["num"] for s in ctx["sections"]}
    return ctx


def _rows_of(table, videos):
    """The rows of ``table`` of ``videos``: ``table`` itself when they are all of its rows."""
    shown = table["video"].isin(videos)
    return table if shown.all() else table[shown]


def _fig(make, *args, alt: str, **kwargs) -> dict[str, str]:
    data = F.png(make, *args, **kwargs)
    return {"src": "data:image/png;base64," + base64.b64encode(data).decode("ascii"), "alt": alt}


def _said(read, *args, **kwargs):
    """``read(*args, **kwargs)`` without the :class:`~ecoseg.measure.IncompleteStoreWarning`
    of measuring or evaluating a store (:func:`build_context` gave it once per store); other
    threads' warnings are theirs (:func:`~ecoseg._warn.unsaid`, not a warnings filter)."""
    with unsaid(IncompleteStoreWarning):
        return read(*args, **kwargs)
