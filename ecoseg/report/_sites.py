"""The site comparison section: MaxN and cover per video and class, and the mean MaxN
per site."""

from __future__ import annotations

from typing import Any

import numpy as np

from ecoseg.report._looked import video_classes
from ecoseg.report._numbers import duration, fixed_decimals

__all__ = ["site_data", "site_table"]


def site_data(videos, maxn, cover, classes):
    """One row per video and class it looked for: its MaxN, and its mean percent cover.

    A class that is not one of a video's (its tables hold no row for it: a concept it was not
    asked for, a species nobody named there) gets no row, so the site means and the dots leave
    that video out rather than counting it as 0 (looked for and not seen). A video that named
    nothing to look for and saw nothing looked for any animal: 0 of every class
    (:func:`~ecoseg.report._looked.video_classes`).
    """
    import pandas as pd

    rows, cov_rows = [], []
    for v in videos:
        if not v.site:
            continue
        d = maxn[maxn["video"] == v.name]
        own = video_classes(d, "maxn", classes)
        d = d.set_index("class")
        for c in classes:
            if c in own:
                m = int(d.loc[c, "maxn"]) if c in d.index else 0
                rows.append({"site": v.site, "video": v.name, "class": c, "maxn": m})
        if cover is not None:
            cv = cover[cover["video"] == v.name]
            nf = max(1, cv["frame"].nunique())
            own = video_classes(cv, "cover_fraction", classes)
            for c in classes:
                if c in own:
                    s = float(cv.loc[cv["class"] == c, "cover_fraction"].sum()) / nf * 100
                    cov_rows.append({"site": v.site, "video": v.name, "class": c, "cover_pct": s})
    per_video = pd.DataFrame(rows, columns=["site", "video", "class", "maxn"])
    return per_video, (pd.DataFrame(cov_rows) if cov_rows else None)


def site_table(videos, tables, sites, classes) -> dict[str, Any]:
    """Mean MaxN per site and class over the site's videos that looked for the class.

    A cell is the mean, with ``(n=K)`` when only K of the site's videos looked for the class
    (the others hold no MaxN for it and are left out, not counted as 0), and ``–`` when none
    did. A video that named nothing to look for and saw nothing looked for every class: a 0
    (:func:`~ecoseg.report._looked.video_classes`).
    """
    tracks, maxn = tables.get("tracks"), tables.get("maxn")
    rows = []
    partial = absent = False
    for site in sites:
        vs = [v for v in videos if v.site == site]
        names = sorted({v.name for v in vs})
        own = {}
        if maxn is not None:
            own = {n: video_classes(maxn[maxn["video"] == n], "maxn", classes) for n in names}
        cells = []
        for c in classes:
            if maxn is None:
                cells.append("")
                continue
            d = maxn[(maxn["video"].isin(names)) & (maxn["class"] == c)]
            # a video without a row for a class it looked for saw nothing at all: a 0
            vals = [_first(d.loc[d["video"] == n, "maxn"]) for n in names if c in own[n]]
            if not vals:
                cells.append("–")
                absent = True
                continue
            cell = fixed_decimals(float(np.mean(vals)), 2)
            if len(vals) < len(vs):
                cell += f" (n={len(vals)})"
                partial = True
            cells.append(cell)
        rows.append(
            {
                "site": site,
                "videos": len(vs),
                "footage": duration(sum(v.duration_s for v in vs)),
                "tracks": int(tracks["video"].isin(names).sum()) if tracks is not None else 0,
                "cells": cells,
            }
        )
    return {"classes": classes, "rows": rows, "partial": partial, "absent": absent}


def _first(values) -> int:
    """The first of a video's MaxN values of a class, 0 where it has none."""
    return int(values.iloc[0]) if len(values) else 0
