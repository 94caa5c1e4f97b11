"""The size-frequency and speed sections: body length and mean speed per track,
and their statistics per class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ecoseg.report._numbers import fixed_decimals
from ecoseg.report.read import VideoInfo

__all__ = ["class_stats", "track_sizes", "track_speeds"]


def _col(df, *names: str) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    return None


def track_sizes(regions, calibrated: bool, videos: Sequence[VideoInfo] = ()):
    """Body length per track: the median major axis over the frames it was seen whole.

    A mask cut by the frame edge (its bounding box touches it) measures only the visible
    part, so those rows are left out; a track never seen whole is left out and counted
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
    rows = regions[[*keys, col]]  # the columns a size needs, not a copy of the whole table
    if all(c in regions.columns for c in edges) and frame:
        w = regions["video"].map({n: float(s[0]) for n, s in frame.items()}).to_numpy(float)
        h = regions["video"].map({n: float(s[1]) for n, s in frame.items()}).to_numpy(float)
        cut = (
            (regions["bbox_x0"].to_numpy() <= 0)
            | (regions["bbox_y0"].to_numpy() <= 0)
            | (regions["bbox_x1"].to_numpy() >= w)
            | (regions["bbox_y1"].to_numpy() >= h)
        )
        rows = rows.loc[~cut]
    g = rows.groupby(keys, sort=True, observed=True)[col].median()
    everyone = regions[keys].groupby(keys, sort=True, observed=True).ngroups
    return g.reset_index().rename(columns={col: "size"}), int(everyone - len(g))


def track_speeds(tracks, calibrated: bool):
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


def class_stats(df, value: str, classes) -> list[dict[str, str]]:
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
                "median": fixed_decimals(float(np.median(v)), 1),
                "range": f"{fixed_decimals(float(v.min()), 1)}–{fixed_decimals(float(v.max()), 1)}",
            }
        )
    return rows
