"""The trajectory figure: tracks over a still of each video, with a scale bar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ecoseg.report._fit import fit_still
from ecoseg.report.figures._stills import outlined_text, still_axes
from ecoseg.report.figures._style import WIDTH_IN, grid, legend, nice_ceiling, panel_pixels

__all__ = ["TRAJECTORY_COLUMNS", "trajectory_figure"]

#: The trajectory figure's panels side by side (stills are held reduced to their width).
TRAJECTORY_COLUMNS = 2


def trajectory_figure(
    panels: Sequence[Mapping[str, Any]], colors: Mapping[str, str], *, ncols=TRAJECTORY_COLUMNS
):
    """Tracks drawn over a still of each video.

    Each panel is a mapping with keys ``title``, ``still`` (RGB array or None), ``height``,
    ``width``, ``mm_per_px`` (or None), ``note`` (text under the title, or None) and ``tracks``:
    a DataFrame with object_id, class, frame, x, y (pixels); and ``scale`` where the still was
    reduced by :func:`fit_still` (its factor). A still wider than twice its panel's pixels is
    reduced here, before it is brightened.
    """
    n = max(1, len(panels))
    cols = max(1, min(ncols, n))
    aspect = max((p["height"] / max(p["width"], 1) for p in panels), default=0.6)
    panel_w = WIDTH_IN / cols
    fig, axes = grid(n, cols, panel_w * aspect + 0.45)
    used: list[str] = []
    for ax, p in zip(axes, panels):
        still, scale = p.get("still"), p.get("scale", 1)
        if still is not None:  # reduced to the panel before it is brightened
            still, k = fit_still(still, panel_pixels(cols))
            still, scale = _brightened(still, opaque=scale * k > 1), scale * k
        still_axes(ax, still, p["height"], p["width"], scale)
        for cls, xy in _track_points(p["tracks"]):
            c = colors[cls]
            if cls not in used:
                used.append(cls)
            ax.add_artist(_track_line(xy, c))
            ax.plot(*xy[0], "o", color=c, markersize=3.5)
            ax.plot(
                *xy[-1],
                "o",
                markerfacecolor="white",
                markeredgecolor=c,
                markersize=4.5,
            )
        _scale_bar(ax, p["width"], p["height"], p.get("mm_per_px"))
        title = p["title"]
        if p.get("note"):
            title += f"\n{p['note']}"
        ax.set_title(title, loc="left", fontsize=9)
    legend(fig, colors, sorted(used), marker="o")
    return fig


def _brightened(still: np.ndarray, *, opaque: bool) -> np.ndarray:
    """``still`` (RGB uint8) brightened (55 % of it, 45 % white) for tracks to stand out;
    ``opaque``: with an alpha channel (255).

    matplotlib resamples an RGB image in float64 RGBA (its alpha channel of ones is float64),
    an RGBA one of uint8 in float32: the figure of a 4K video, its still reduced to 1280 x
    720, made 77 MB of Python allocations (most in ``savefig``, the peak of a 4K report)
    and makes 52 MB opaque, a pixel in a million 1 level apart. A still drawn as given (not
    reduced: the demo's, ``data/study``'s) is drawn as before.
    """
    h, w = still.shape[:2]
    out = np.empty((h, w, 4 if opaque else 3), np.uint8)
    out[..., :3] = 0.55 * still.astype(np.float32) + 0.45 * 255
    if opaque:
        out[..., 3] = 255
    return out


def _scale_bar(ax, width: int, height: int, mm_per_px: float | None) -> None:
    if not mm_per_px:
        return
    target = width * 0.25 * mm_per_px
    mm = nice_ceiling(target) if target > 0 else 0
    if mm > target * 1.6:
        mm /= 2
    px = mm / mm_per_px
    x0, y0 = width * 0.04, height * 0.93
    ax.plot([x0, x0 + px], [y0, y0], color="white", lw=4, solid_capstyle="butt")
    ax.plot([x0, x0 + px], [y0, y0], color="black", lw=1.6, solid_capstyle="butt")
    label = f"{mm:g} mm" if mm < 1000 else f"{mm / 1000:g} m"
    outlined_text(ax, x0, y0 - height * 0.03, label, ha="left", va="bottom", fontsize=8)


def _track_points(tracks):
    """``(class, xy)`` of each track: its points ``(N, 2)`` in frame order, tracks in the order
    of their object id, then class (as a sorted group-by gives them; rows without either are
    left out). One sorted copy of the points, each track a view of it: a group-by and a
    frame sorted per track copied every point twice."""
    ids, _ = _codes(tracks["object_id"])
    classes, names = _codes(tracks["class"])
    keyed = np.flatnonzero((ids >= 0) & (classes >= 0))  # factorize gives NaN -1
    order = keyed[np.lexsort((tracks["frame"].to_numpy()[keyed], classes[keyed], ids[keyed]))]
    if not len(order):
        return
    ids, classes = ids[order], classes[order]
    xy = np.empty((len(order), 2))
    xy[:, 0] = tracks["x"].to_numpy(dtype=float)[order]
    xy[:, 1] = tracks["y"].to_numpy(dtype=float)[order]
    starts = np.flatnonzero(np.r_[True, (ids[1:] != ids[:-1]) | (classes[1:] != classes[:-1])])
    for a, b in zip(starts, [*starts[1:], len(order)]):
        yield names[classes[a]], xy[a:b]


def _track_line(xy: np.ndarray, color: str):
    """One track's line: drawn as ``ax.plot(x, y, color=color, lw=1.3, alpha=0.95)`` draws it
    (round joins, projecting caps, simplified as a line is), but holding only ``xy`` (a
    Line2D keeps two copies of its points besides)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    return PathPatch(
        Path(xy),
        fill=False,
        edgecolor=color,
        linewidth=1.3,
        alpha=0.95,
        capstyle="projecting",
        joinstyle="round",
        zorder=2,  # a line's: drawn in turn with the start and end marks
    )


def _codes(values):
    """Codes of ``values`` in sorted order (-1 for a missing value) and the values they stand
    for."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=True)
    return codes, list(uniques)
