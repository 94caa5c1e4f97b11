"""Figures of the field-study report: matplotlib (Agg) in, deterministic PNG bytes out.

Every ``*_figure`` function takes tidy tables (pandas) or arrays and returns a
:class:`matplotlib.figure.Figure`; :func:`png` renders one with a fixed style and without any
timestamp or software tag, so the same data always give the same bytes. Figures are built with
:class:`~matplotlib.figure.Figure` directly (no pyplot state).

One module per kind of figure: ``_style`` (the style, colours, PNG bytes and the canvas helpers
the figures share), ``_panels`` (one panel per video and its titles), ``_counts`` (counts over
time and MaxN), ``_cover``, ``_sizes`` (sizes and speeds), ``_stills`` (masks painted over
frames and the sample frames figure), ``_tracks`` (trajectories) and ``_sites`` (the site
comparison); this module names them all.

Examples
--------
>>> import pandas as pd
>>> counts = pd.DataFrame({"video": ["a"] * 3, "time_s": [0.0, 0.5, 1.0],
...                        "class": ["wrasse"] * 3, "count": [0, 2, 1]})
>>> data = png(counts_figure, counts, class_colors(["wrasse"]))
>>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

from ecoseg.report._fit import fit_labels, fit_still
from ecoseg.report.figures._counts import counts_figure, maxn_figure
from ecoseg.report.figures._cover import cover_figure
from ecoseg.report.figures._panels import NOT_LOOKED_FOR
from ecoseg.report.figures._sites import site_figure
from ecoseg.report.figures._sizes import size_figure, speed_figure
from ecoseg.report.figures._stills import frames_figure, overlay
from ecoseg.report.figures._style import DPI, STYLE, class_colors, panel_pixels, png
from ecoseg.report.figures._tracks import TRAJECTORY_COLUMNS, trajectory_figure

__all__ = [
    "STYLE",
    "DPI",
    "NOT_LOOKED_FOR",
    "class_colors",
    "png",
    "overlay",
    "panel_pixels",
    "TRAJECTORY_COLUMNS",
    "fit_still",
    "fit_labels",
    "counts_figure",
    "maxn_figure",
    "size_figure",
    "speed_figure",
    "cover_figure",
    "trajectory_figure",
    "frames_figure",
    "site_figure",
]
