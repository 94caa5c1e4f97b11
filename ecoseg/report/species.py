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
    """Tracks per species and class source, with ``unknown`` apart (None if nothing to say).

    Parameters
    ----------
    tracks : pandas.DataFrame or None
        The (combined) tracks table, with ``class`` and ``class_source`` columns.

    Returns
    -------
    dict or None
        ``columns`` (headings), ``rows`` (``class``, ``cells``, ``total``), ``unknown``
        (tracks nobody or no model named) and ``mean_probability`` of the auto-classified
        tracks; None when no track was reviewed, classified, named by a SAM 3 concept or left
        unknown (every class then is the one its prompt gave).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"class": ["wrasse", "wrasse", "unknown"],
    ...                   "class_source": ["reviewed", "classified", "unknown"],
    ...                   "class_probability": [1.0, 0.8, 0.3]})
    >>> s = species_table(t)
    >>> s["columns"], s["rows"][0]["cells"], s["unknown"]
    (['reviewed', 'auto-classified'], [1, 1], 1)
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
    rows = []
    for name in sorted(set(cls[~unknown].tolist())):
        here = (cls == name) & ~unknown
        rows.append(
            {
                "class": name,
                "cells": [int((here & (src == s)).sum()) for s in used],
                "total": int(here.sum()),
            }
        )
    auto = src == "classified"
    prob = None
    if auto.any() and "class_probability" in tracks.columns:
        prob = float(np.nanmean(tracks["class_probability"].to_numpy(np.float64)[auto]))
    return {
        "columns": [SOURCES[s] for s in used],
        "rows": rows,
        "unknown": int(unknown.sum()),
        "mean_probability": None if prob is None else f"{prob:.2f}",
    }
