"""The site comparison section: MaxN and cover per video and class, and the mean MaxN
per site."""

from __future__ import annotations

from typing import Any

import numpy as np

from ecoseg.measure.counts import looked_for_any
from ecoseg.report._numbers import duration, fixed_decimals

__all__ = ["site_data", "site_table"]


def site_data(videos, maxn, cover, classes):
    """One row per video and class it looked for: its MaxN, and its mean percent cover.

    A class that is not one of a video's (its tables hold no row for it: a concept it was not
    asked for, a species nobody named there) gets no row, so the site means and the dots leave
    that video out rather than counting it as 0 (looked for and not seen). A video that named
    nothing to look for and saw nothing (:func:`~ecoseg.measure.counts.looked_for_any`) looked
    for any animal: 0 of every class.
    """
    import pandas as pd

    rows, cov_rows = [], []
    for v in videos:
        if not v.site:
            continue
        d = maxn[maxn["video"] == v.name].set_index("class")
        anything = looked_for_any(d, "maxn")
        for c in classes:
            if c in d.index or anything:
                m = int(d.loc[c, "maxn"]) if c in d.index else 0
                rows.append({"site": v.site, "video": v.name, "class": c, "maxn": m})
        if cover is not None:
            cv = cover[cover["video"] == v.name]
            nf = max(1, cv["frame"].nunique())
            own = set(cv["class"].astype(str))
            anything = looked_for_any(cv, "cover_fraction")
            for c in classes:
                if c in own or anything:
                    s = float(cv.loc[cv["class"] == c, "cover_fraction"].sum()) / nf * 100
                    cov_rows.append({"site": v.site, "video": v.name, "class": c, "cover_pct": s})
    per_video = pd.DataFrame(rows, columns=["site", "video", "class", "maxn"])
    return per_video, (pd.DataFrame(cov_rows) if cov_rows else None)


def site_table(videos, tables, sites, classes) -> dict[str, Any]:
    """Mean MaxN per site and class over the site's videos that looked for the class.

    A cell is the mean, with ``(n=K)`` when only K of the site's videos looked for the class
    (the others hold no MaxN for it and are left out, not counted as 0), and ``–`` when none
    did. A video that named nothing to look for and saw nothing looked for every class: a 0
    (:func:`~ecoseg.measure.counts.looked_for_any`).
    """
    tracks, maxn = tables.get("tracks"), tables.get("maxn")
    rows = []
    partial = absent = False
    for site in sites:
        vs = [v for v in videos if v.site == site]
        names = {v.name for v in vs}
        anything = {n for n in names if maxn is not None and _saw_nothing(maxn, n)}
        cells = []
        for c in classes:
            if maxn is None:
                cells.append("")
                continue
            d = maxn[(maxn["video"].isin(names)) & (maxn["class"] == c)]
            vals = [int(d.loc[d["video"] == n, "maxn"].iloc[0]) for n in sorted(set(d["video"]))]
            vals += [0] * len(anything - set(d["video"]))  # saw nothing at all: a 0
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
                "individuals": int(tracks["video"].isin(names).sum()) if tracks is not None else 0,
                "cells": cells,
            }
        )
    return {"classes": classes, "rows": rows, "partial": partial, "absent": absent}


def _saw_nothing(maxn, video: str) -> bool:
    """Whether ``video``'s MaxN rows say it named nothing to look for and saw nothing."""
    return looked_for_any(maxn[maxn["video"] == video], "maxn")
