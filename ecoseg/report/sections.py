"""The sections of the report page, built from what :mod:`ecoseg.report.read` gathered.

:func:`build_context` reads the stores and tables, draws the figures
(:mod:`ecoseg.report.figures`) and returns plain data for the jinja2 template. Iteration is in a
fixed order everywhere (videos as given, classes sorted), so the same inputs give the same page.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg.errors import EcosegError
from ecoseg.measure.tables import csv_bytes
from ecoseg.provenance import CameraMotion, ModelInfo, VideoSource
from ecoseg.report import figures as F
from ecoseg.report.read import VideoInfo, read_tables, read_video
from ecoseg.report.reproduce import reproduce
from ecoseg.report.species import species_table
from ecoseg.report.stills import frame_rows, trajectory_panels

__all__ = ["MAX_EMBED_BYTES", "MAX_VIDEO_PANELS", "TABLE_INFO", "TABLE_ORDER", "build_context"]

TABLE_ORDER = ("regions", "tracks", "counts", "maxn", "cover")
TABLE_INFO = {
    "regions": "one row per object per frame: area, centroid, box, shape",
    "tracks": "one row per individual: when it was seen, path length, speeds, mean area",
    "counts": "one row per frame and class: individuals in frame",
    "maxn": "one row per video and class: MaxN and when it occurs",
    "cover": "one row per frame and class: fraction of the frame covered",
}
MAX_VIDEO_PANELS = 12  # per-video figures show at most this many videos
MAX_EMBED_BYTES = 24 * 1024 * 1024  # larger CSVs are linked, not embedded


# --------------------------------------------------------------------------- entry
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
    truth = dict(truth or {})
    for v in videos:
        if v.truth is None and v.name in truth:
            v.truth = str(truth[v.name])
            v.truth_shown = str(truth[v.name])
    tables = read_tables(videos, tables, study, progress=progress)
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
        "subtitle": _subtitle(videos, sites),
        "ecoseg_version": __version__,
        "date": _report_date(videos),
        "study": _study_block(study, out),
        "videos": [_provenance_row(v) for v in videos],
        "reproduce": reproduce(videos, study, out, title=title),
        "summary": _summary_rows(videos, tables),
        "unfinished": _unfinished(videos),
        "headline": _headline(videos, tables, sites),
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
            counts[counts["video"].isin(shown_names)],
            colors,
            maxn,
            videos=[v.name for v in shown_videos],
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
    ctx["maxn_table"] = _maxn_table(videos, maxn, classes)

    sizes, ctx["sizes_edge_only"] = _sizes(tables.get("regions"), calibrated, videos)
    figs["sizes"] = _fig(
        F.size_figure, sizes, colors, unit=units["length"], alt="Size-frequency per class"
    )
    ctx["size_stats"] = _class_stats(sizes, "size", classes)
    speeds = _speeds(tables.get("tracks"), calibrated)
    figs["speeds"] = _fig(
        F.speed_figure, speeds, colors, unit=units["speed"], alt="Mean speed per individual"
    )
    ctx["speed_stats"] = _class_stats(speeds, "speed", classes)
    cover = tables.get("cover")
    if cover is not None:
        figs["cover"] = _fig(
            F.cover_figure,
            cover[cover["video"].isin(shown_names)],
            colors,
            videos=[v.name for v in shown_videos],
            alt="Percent cover per class over time, one panel per video",
        )

    panels, missing = trajectory_panels(shown_videos, tables.get("regions"))
    ctx["missing_video"] = missing
    figs["trajectories"] = _fig(
        F.trajectory_figure,
        panels,
        colors,
        palette=True,
        alt="Tracks over a still of each video",
    )
    rows = frame_rows(shown_videos, tables, colors)
    figs["frames"] = _fig(
        F.frames_figure, rows, palette=True, alt="Sample frames with masks overlaid"
    )
    ctx["frame_captions"] = [
        {"video": r["title"], "frames": [f["caption"] for f in r["frames"]]} for r in rows
    ]

    if len(sites) >= 2 and maxn is not None:
        per_video, cover_pv = _site_data(videos, maxn, cover, classes)
        figs["sites"] = _fig(
            F.site_figure, per_video, colors, cover=cover_pv, alt="MaxN and cover by site"
        )
        ctx["site_table"] = _site_table(videos, tables, sites, classes)
    ctx["species"] = species_table(tables.get("tracks"))
    ctx["accuracy"] = _accuracy(videos, progress)
    ctx["tables"] = _table_downloads(tables, study, out)
    sections = [
        ("provenance", "Study and provenance"),
        ("summary", "Per-video summary"),
        ("counts", "Counts over time and MaxN"),
        ("species", "Species identification"),
        ("sizes", "Size-frequency"),
        ("trajectories", "Trajectories"),
        ("speeds", "Speeds"),
        ("cover", "Percent cover"),
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
    }
    sections = [(k, t) for k, t in sections if present.get(k, True)]
    ctx["sections"] = [{"id": k, "title": t, "num": i + 1} for i, (k, t) in enumerate(sections)]
    ctx["num"] = {s["id"]: s["num"] for s in ctx["sections"]}
    return ctx


def _fig(make, *args, alt: str, **kwargs) -> dict[str, str]:
    data = F.png(make, *args, **kwargs)
    return {"src": "data:image/png;base64," + base64.b64encode(data).decode("ascii"), "alt": alt}


# --------------------------------------------------------------------------- header
def _report_date(videos: list[VideoInfo]) -> dict[str, str] | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            t = _dt.datetime.fromtimestamp(int(float(epoch)), _dt.UTC)
        except (ValueError, OverflowError):
            t = None
        if t is not None:
            return {"label": "Report date", "value": t.strftime("%Y-%m-%d")}
    created = sorted(str(v.provenance.created or "") for v in videos)
    created = [c for c in created if c]
    if created:
        return {"label": "Masks made", "value": created[-1][:10]}
    return None


def _subtitle(videos: list[VideoInfo], sites: list[str]) -> str:
    hours = sum(v.duration_s for v in videos)
    n = len(videos)
    parts = [f"{n} video{'s' if n != 1 else ''}", f"{_duration(hours)} of footage"]
    if sites:
        parts.insert(1, f"{len(sites)} site{'s' if len(sites) != 1 else ''}")
    return " · ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _headline(videos, tables, sites) -> list[dict[str, str]]:
    tracks = tables.get("tracks")
    maxn = tables.get("maxn")
    n_ind = len(tracks) if tracks is not None else 0
    seen = set(maxn.loc[maxn["maxn"] > 0, "class"].astype(str)) if maxn is not None else set()
    # tracks nobody named are not one more species
    n_cls, unnamed = len(seen - {"unknown"}), "unknown" in seen
    cards = [
        {"value": str(len(videos)), "label": "videos"},
        {"value": _duration(sum(v.duration_s for v in videos)), "label": "of footage"},
        {"value": str(n_ind), "label": "individuals tracked"},
        {"value": str(n_cls), "label": "classes seen" + (" (and unknown)" if unnamed else "")},
    ]
    if sites:
        cards.insert(1, {"value": str(len(sites)), "label": "sites"})
    return cards


def _study_block(study, out: Path) -> dict | None:
    if study is None:
        return None
    try:
        text = study.path.read_text(encoding="utf-8")
    except OSError:
        text = None
    return {
        "name": study.name,
        "file": study.path.name,
        "description": study.description,
        "text": text,
        "text_uri": None
        if text is None
        else "data:text/yaml;base64," + base64.b64encode(text.encode()).decode("ascii"),
    }


# --------------------------------------------------------------------------- provenance
def _random_weights(v: VideoInfo) -> bool:
    prov = v.provenance
    flags = (
        v.pretrained,
        prov.model.pretrained if prov.model is not None else None,
        (prov.parameters or {}).get("pretrained"),
    )
    return any(flag is False for flag in flags)


def _provenance_row(v: VideoInfo) -> dict[str, Any]:
    prov = v.provenance
    vid = prov.video or VideoSource()
    model = prov.model or ModelInfo()
    engine = prov.engine or "?"
    network = engine in ("sam2", "sam3-concepts")
    if network:
        model_text = str(model.variant or "?")
        if model.image_size:
            model_text += f" at {model.image_size} px"
        if (prov.parameters or {}).get("fast"):
            model_text += ", bf16 (fast)"
        if model.checkpoint_sha256:
            ckpt_text = model.checkpoint_sha256
            ckpt_name = Path(str(model.checkpoint_path or "")).name
        elif _random_weights(v):
            ckpt_text, ckpt_name = "none: random weights (pretrained = false)", ""
        else:
            ckpt_text, ckpt_name = "not recorded (weights cache)", ""
    else:
        model_text, ckpt_text, ckpt_name = "motion tracker, no model", "none (no weights used)", ""
    prompts = prov.prompts or {}
    n_prompted = len(prompts.get("objects", [])) if isinstance(prompts, Mapping) else 0
    prompts_text = f"{n_prompted} prompted object(s)" if n_prompted else "automatic (no prompts)"
    concepts = prompts.get("concepts") if isinstance(prompts, Mapping) else None
    if concepts:
        prompts_text = concepts_text(concepts) + (
            f"; {n_prompted} prompted object(s)" if n_prompted else ""
        )
    params = dict(prov.parameters or {})
    return {
        "name": v.name,
        "video": v.video_shown,
        "sha256": vid.sha256 or "not recorded",
        "frames": vid.frames if vid.frames is not None else v.n_frames,
        "fps": _g(vid.fps),
        "size": "{}×{}".format(*(vid.frame_size or (v.width, v.height))),
        "engine": engine,
        "model": model_text,
        "checkpoint": ckpt_text,
        "checkpoint_is_hash": bool(model.checkpoint_sha256) and network,
        "checkpoint_name": ckpt_name,
        "params": json.dumps(params, sort_keys=True, indent=1) if params else "{} (defaults)",
        "prompts": prompts_text,
        "calibration": _calibration_text(v),
        "camera": _camera_text(prov.camera_motion),
        "camera_too_fast": bool(prov.camera_motion is not None and prov.camera_motion.too_fast),
        "store": v.store_shown,
        "store_version": v.ecoseg_version or "?",
        "complete": v.complete,
        "objects": len(v.objects),
    }


def _camera_text(motion: CameraMotion | None) -> str:
    """The motion tracker's camera measurement: a figure, or a sentence when it was too fast."""
    if motion is None:
        return ""
    if motion.too_fast:
        return motion.summary()
    return f"camera {motion.camera_speed:.1f} px/frame (limit {motion.limit:.1f})"


def concepts_text(concepts) -> str:
    """How the provenance's SAM 3 concepts read on the page.

    Examples
    --------
    >>> concepts_text([{"text": "parrotfish", "exemplars": [{"frame": 0, "label": 1}]},
    ...                {"text": "sea urchin"}])
    "concepts: 'parrotfish' (1 exemplar box), 'sea urchin'"
    """
    parts = []
    for c in concepts:
        name = repr(str(c.get("text") or "visual"))
        n = len(c.get("exemplars") or [])
        parts.append(name + (f" ({n} exemplar box{'es' if n != 1 else ''})" if n else ""))
    return "concepts: " + ", ".join(parts)


def _calibration_text(v: VideoInfo) -> str:
    if not v.mm_per_px:
        return "none: lengths in pixels"
    cal = v.calibration or {}
    text = f"{v.mm_per_px:.4g} mm/px"
    how = cal.get("method")
    spec = v.calibration_spec if v.calibration_spec is not None else cal.get("spec")
    if isinstance(spec, str):
        text += f" from {spec}"
    elif how and how != "scale":
        text += f" ({how.replace('_', ' ')})"
    return text


# --------------------------------------------------------------------------- summary
def _summary_rows(videos: list[VideoInfo], tables) -> list[dict[str, Any]]:
    tracks, maxn, cover = tables.get("tracks"), tables.get("maxn"), tables.get("cover")
    rows = []
    for v in videos:
        n_ind = int((tracks["video"] == v.name).sum()) if tracks is not None else 0
        m = maxn[maxn["video"] == v.name] if maxn is not None else None
        maxn_text = (
            ", ".join(
                f"{c} {int(n)}"
                for c, n in sorted(zip(m["class"].astype(str), m["maxn"]))
                if int(n) > 0
            )
            if m is not None
            else ""
        )
        mean_cover = None
        if cover is not None:
            c = cover[cover["video"] == v.name]
            per_frame = c.groupby("frame")["cover_fraction"].sum()  # the frames observed
            mean_cover = float(per_frame.sum() / max(1, len(per_frame)) * 100)
        rows.append(
            {
                "video": v.name,
                "site": v.site or "",
                "transect": v.transect or "",
                "date": v.date or "",
                "depth": _num(v.depth_m, 1),
                "duration": f"{v.duration_s:.1f}",
                "frames": _frames_text(v),
                "size": f"{v.width}×{v.height}",
                "mm_per_px": _g(v.mm_per_px) if v.mm_per_px else "none",
                "individuals": n_ind,
                "maxn": maxn_text or "none",
                "cover": _num(mean_cover, 2),
            }
        )
    return rows


def _video_frames(v: VideoInfo) -> int | None:
    video = v.provenance.video
    frames = video.frames if video is not None else None
    return int(frames) if frames else None


def _frames_text(v: VideoInfo) -> str:
    """Frames the numbers cover; an unfinished run's says of how many and that it stopped."""
    if v.complete:
        return str(v.n_frames)
    total = _video_frames(v)
    return f"{v.n_frames} of {total} (unfinished)" if total else f"{v.n_frames} (unfinished)"


def _unfinished(videos: list[VideoInfo]) -> list[str]:
    """A sentence per store whose run did not finish: the frames and times its numbers cover."""
    lines = []
    for v in videos:
        if v.complete:
            continue
        total = _video_frames(v)
        of = f" of the video's {total}" if total else ""
        span = ""
        if len(v.times):
            span = f" ({float(v.times[0]):.3f}–{float(v.times[-1]):.3f} s)"
        lines.append(
            f"{v.name}: its run did not finish; its numbers cover frames 0–{v.n_frames - 1}"
            f"{span}{of} only"
        )
    return lines


def _maxn_table(videos, maxn, classes) -> dict[str, Any] | None:
    if maxn is None:
        return None
    rows = []
    for v in videos:
        d = maxn[maxn["video"] == v.name].set_index("class")
        cells = []
        for c in classes:
            if c not in d.index:  # not a class of this video: its tables say nothing of it
                cells.append("–")
            elif int(d.loc[c, "maxn"]) > 0:
                cells.append(maxn_cell(d.loc[c, "maxn"], d.loc[c].get("frame"), d.loc[c, "time_s"]))
            else:
                cells.append("0")
        rows.append({"video": v.name, "cells": cells})
    absent = any("–" in r["cells"] for r in rows)
    return {"classes": classes, "rows": rows, "absent": absent}


def maxn_cell(maxn, frame, time_s) -> str:
    """A MaxN table cell: the value, when (ms: frame steps of any rate stay apart) and where.

    Examples
    --------
    >>> maxn_cell(3, 2, 0.07)
    '3 at 0.070 s (frame 2)'
    >>> maxn_cell(1, None, 12.5)
    '1 at 12.500 s'
    """
    text = f"{int(maxn)} at {float(time_s):.3f} s"
    try:
        return text + f" (frame {int(frame)})"
    except (TypeError, ValueError):  # no frame column (tables made elsewhere), or <NA>
        return text


# --------------------------------------------------------------------------- sizes / speeds
def _col(df, *names: str) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    return None


def _sizes(regions, calibrated: bool, videos: Sequence[VideoInfo] = ()):
    """Body length per individual: the median major axis over the frames it was seen whole.

    A mask cut by the frame edge (its bounding box touches it) measures only the visible
    part, so those rows are left out; an individual never seen whole is left out and counted
    (the second value) rather than entered at a part of its length.
    """
    import pandas as pd

    empty = pd.DataFrame({"video": [], "object_id": [], "class": [], "size": []})
    if regions is None or not len(regions):
        return empty, 0
    col = _col(regions, "major_axis_mm") if calibrated else None
    col = col or _col(regions, "major_axis_px", "equivalent_diameter_px")
    if col is None:
        return empty, 0
    keys = ["video", "object_id", "class"]
    edges = ("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")
    frame = {v.name: (v.width, v.height) for v in videos}
    rows = regions
    if all(c in regions.columns for c in edges) and frame:
        w = regions["video"].map(lambda n: frame.get(n, (np.nan, np.nan))[0]).to_numpy(float)
        h = regions["video"].map(lambda n: frame.get(n, (np.nan, np.nan))[1]).to_numpy(float)
        cut = (
            (regions["bbox_x0"].to_numpy() <= 0)
            | (regions["bbox_y0"].to_numpy() <= 0)
            | (regions["bbox_x1"].to_numpy() >= w)
            | (regions["bbox_y1"].to_numpy() >= h)
        )
        rows = regions.loc[~cut]
    g = rows.groupby(keys, sort=True, observed=True)[col].median()
    everyone = regions.groupby(keys, sort=True, observed=True).ngroups
    return g.reset_index().rename(columns={col: "size"}), int(everyone - len(g))


def _speeds(tracks, calibrated: bool):
    import pandas as pd

    empty = pd.DataFrame({"video": [], "object_id": [], "class": [], "speed": []})
    if tracks is None or not len(tracks):
        return empty
    col = _col(tracks, "mean_speed_mm_s") if calibrated else None
    col = col or _col(tracks, "mean_speed_px_s")
    if col is None:
        return empty
    out = tracks[["video", "object_id", "class", col]].rename(columns={col: "speed"})
    return out.reset_index(drop=True)


def _class_stats(df, value: str, classes) -> list[dict[str, str]]:
    rows = []
    for c in classes:
        v = df.loc[df["class"] == c, value].to_numpy(dtype=float) if len(df) else np.array([])
        v = v[np.isfinite(v)]
        if not len(v):
            continue
        rows.append(
            {
                "class": c,
                "n": str(len(v)),
                "median": _num(float(np.median(v)), 1),
                "range": f"{_num(float(v.min()), 1)}–{_num(float(v.max()), 1)}",
            }
        )
    return rows


# --------------------------------------------------------------------------- sites
def _site_data(videos, maxn, cover, classes):
    """One row per video and class it looked for: its MaxN, and its mean percent cover.

    A class that is not one of a video's (its tables hold no row for it: a concept it was not
    asked for, a species nobody named there) gets no row, so the site means and the dots leave
    that video out rather than counting it as 0 (looked for and not seen).
    """
    import pandas as pd

    rows, cov_rows = [], []
    for v in videos:
        if not v.site:
            continue
        d = maxn[maxn["video"] == v.name].set_index("class")
        for c in classes:
            if c in d.index:
                rows.append(
                    {"site": v.site, "video": v.name, "class": c, "maxn": int(d.loc[c, "maxn"])}
                )
        if cover is not None:
            cv = cover[cover["video"] == v.name]
            nf = max(1, cv["frame"].nunique())
            own = set(cv["class"].astype(str))
            for c in classes:
                if c in own:
                    s = float(cv.loc[cv["class"] == c, "cover_fraction"].sum()) / nf * 100
                    cov_rows.append({"site": v.site, "video": v.name, "class": c, "cover_pct": s})
    per_video = pd.DataFrame(rows, columns=["site", "video", "class", "maxn"])
    return per_video, (pd.DataFrame(cov_rows) if cov_rows else None)


def _site_table(videos, tables, sites, classes) -> dict[str, Any]:
    """Mean MaxN per site and class over the site's videos that looked for the class.

    A cell is the mean, with ``(n=K)`` when only K of the site's videos looked for the class
    (the others hold no MaxN for it and are left out, not counted as 0), and ``–`` when none
    did.
    """
    tracks, maxn = tables.get("tracks"), tables.get("maxn")
    rows = []
    partial = absent = False
    for site in sites:
        vs = [v for v in videos if v.site == site]
        names = {v.name for v in vs}
        cells = []
        for c in classes:
            if maxn is None:
                cells.append("")
                continue
            d = maxn[(maxn["video"].isin(names)) & (maxn["class"] == c)]
            vals = [int(d.loc[d["video"] == n, "maxn"].iloc[0]) for n in sorted(set(d["video"]))]
            if not vals:
                cells.append("–")
                absent = True
                continue
            cell = _num(float(np.mean(vals)), 2)
            if len(vals) < len(vs):
                cell += f" (n={len(vals)})"
                partial = True
            cells.append(cell)
        rows.append(
            {
                "site": site,
                "videos": len(vs),
                "footage": _duration(sum(v.duration_s for v in vs)),
                "individuals": int(tracks["video"].isin(names).sum()) if tracks is not None else 0,
                "cells": cells,
            }
        )
    return {"classes": classes, "rows": rows, "partial": partial, "absent": absent}


# --------------------------------------------------------------------------- accuracy
_HEADLINE_METRICS = (
    (("jf", "mean"), "J&F"),
    (("jf", "j_mean"), "J"),
    (("jf", "f_mean"), "F"),
    (("hota", "hota"), "HOTA"),
    (("hota", "deta"), "DetA"),
    (("hota", "assa"), "AssA"),
    (("identity", "idf1"), "IDF1"),
    (("clear", "mota"), "MOTA"),
)


def _accuracy(videos: list[VideoInfo], progress: bool = False) -> dict[str, Any] | None:
    with_truth = [v for v in videos if v.truth]
    if not with_truth:
        return None
    from ecoseg.metrics import evaluate

    columns = []
    results = []
    for v in with_truth:
        try:
            metrics = evaluate(v.store_path, v.truth, progress=progress)
        except EcosegError as exc:
            results.append((v, None, " ".join(str(exc).split())))
            continue
        results.append((v, metrics, None))
        for path, label in _HEADLINE_METRICS:
            if _dig(metrics, path) is not None and label not in columns:
                columns.append(label)
    rows = []
    for v, metrics, error in results:
        cells = []
        for path, label in _HEADLINE_METRICS:
            if label in columns:
                cells.append(_num(_dig(metrics, path), 3) if metrics else "")
        rows.append(
            {
                "video": v.name,
                "truth": v.truth_shown or v.truth,
                "cells": cells,
                "error": error,
                "note": metrics.get("note") if metrics else None,
                "details": json.dumps(_plain(metrics), sort_keys=True, indent=1)
                if metrics
                else None,
            }
        )
    return {"columns": columns, "rows": rows}


def _dig(d, path):
    for k in path:
        if not isinstance(d, Mapping) or k not in d:
            return None
        d = d[k]
    return float(d) if isinstance(d, int | float) and not isinstance(d, bool) else None


def _plain(obj):
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


# --------------------------------------------------------------------------- tables
def _table_downloads(tables, study, out: Path) -> list[dict[str, Any]]:
    rows = []
    names = [t for t in TABLE_ORDER if t in tables] + sorted(
        t for t in tables if t not in TABLE_ORDER
    )
    for name in names:
        df = tables[name]
        data = csv_bytes(df)
        units = (df.attrs or {}).get("units", {})
        columns = [{"name": c, "unit": units.get(c, "")} for c in df.columns]
        row = {
            "name": name,
            "info": TABLE_INFO.get(name, ""),
            "rows": len(df),
            "columns": columns,
            "size": _bytes(len(data)),
            "href": None,
            "file": f"{name}.csv",
        }
        if len(data) <= MAX_EMBED_BYTES:
            row["href"] = "data:text/csv;base64," + base64.b64encode(data).decode("ascii")
        elif study is not None and (study.output / "tables" / f"{name}.csv").exists():
            target = study.output / "tables" / f"{name}.csv"
            row["href"] = Path(os.path.relpath(target, out.parent)).as_posix()
            row["linked"] = True
        rows.append(row)
    return rows


def _bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _g(x) -> str:
    """Up to 4 significant digits, no trailing zeros (30.0 -> '30', 29.97 -> '29.97')."""
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):
        return "?"


def _num(x, digits: int) -> str:
    if x is None:
        return ""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(x):
        return ""
    return f"{x:.{digits}f}"
