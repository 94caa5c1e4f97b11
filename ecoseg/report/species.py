"""The report's *Species identification* section: how each species' tracks were named."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SOURCES", "species_table"]

#: Columns of the section: class_source values -> heading.
SOURCES = {
    "reviewed": "reviewed",
    "classified": "auto-classified",
    "prompt": "named with the prompt",
    "concept": "concept prompt",
    "rule": "colour rules",
}


def species_table(tracks) -> dict[str, Any] | None:
    """Tracks per video, species and class source, with ``unknown`` apart (None: nothing to say).

    Each video is a group of its own: a video is reviewed or classified on its own, and a
    species that is not one of a video's classes (a concept it was not asked for) has no row
    there rather than a pooled total that mixes in videos that never looked for it.

    Parameters
    ----------
    tracks : pandas.DataFrame or None
        The (combined) tracks table, with ``class`` and ``class_source`` columns and, for
        several videos, ``video`` (groups in the order videos first occur).

    Returns
    -------
    dict or None
        ``columns`` (headings), ``groups``: one per video, each ``video`` (None without a
        ``video`` column), ``rows`` (``class``, ``cells``, ``total``) and ``unknown`` (tracks
        nobody or no model named); ``videos`` (how many) and ``mean_probability`` of the
        auto-classified tracks of all videos (None where none records one); None when no
        track was reviewed, classified, named by a SAM 3 concept or left unknown (every class
        then is the one its prompt gave).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"video": ["a", "a", "b"], "class": ["wrasse", "wrasse", "unknown"],
    ...                   "class_source": ["reviewed", "classified", "unknown"],
    ...                   "class_probability": [1.0, 0.8, 0.3]})
    >>> s = species_table(t)
    >>> s["columns"], [(g["video"], len(g["rows"]), g["unknown"]) for g in s["groups"]]
    (['reviewed', 'auto-classified'], [('a', 1, 0), ('b', 0, 1)])
    >>> s["groups"][0]["rows"][0]["cells"]
    [1, 1]
    """
    if tracks is None or "class_source" not in getattr(tracks, "columns", ()):
        return None
    cls = tracks["class"].astype(str).to_numpy()
    src = tracks["class_source"].astype(str).to_numpy()
    unknown = (cls == "unknown") | (src == "unknown")
    named = (src == "reviewed") | (src == "classified") | (src == "concept")
    if not named.any() and not unknown.any():
        return None
    used = [s for s in SOURCES if ((src == s) & ~unknown).any()]
    if "video" in tracks.columns:
        video = tracks["video"].astype(str).to_numpy()
        names: list[str | None] = list(dict.fromkeys(video.tolist()))
    else:
        video, names = np.full(len(tracks), None, object), [None]
    groups = []
    for name in names:
        mine = video == name
        rows = []
        for c in sorted(set(cls[mine & ~unknown].tolist())):
            here = mine & (cls == c) & ~unknown
            rows.append(
                {
                    "class": c,
                    "cells": [int((here & (src == s)).sum()) for s in used],
                    "total": int(here.sum()),
                }
            )
        groups.append({"video": name, "rows": rows, "unknown": int((mine & unknown).sum())})
    auto = src == "classified"
    prob = None
    if auto.any() and "class_probability" in tracks.columns:
        values = tracks["class_probability"].to_numpy(np.float64)[auto]
        values = values[~np.isnan(values)]
        # none recorded: no mean to show (np.nanmean warned "Mean of empty slice", and the
        # page said "mean probability nan")
        prob = float(values.mean()) if values.size else None
    return {
        "columns": [SOURCES[s] for s in used],
        "groups": groups,
        "videos": len(groups),
        "mean_probability": None if prob is None else f"{prob:.2f}",
    }
