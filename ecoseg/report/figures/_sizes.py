"""Size and speed figures: size-frequency histograms per class and each track's mean
speed per class."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ecoseg.report.figures._style import WIDTH_IN, grid, message, new_figure, nice_ceiling

__all__ = ["size_figure", "speed_figure"]


def size_figure(sizes, colors: Mapping[str, str], *, unit: str, ncols: int = 3):
    """Size-frequency histograms, one panel per class.

    ``sizes`` has one row per track with columns class and size (in ``unit``).
    """
    classes = sorted(sizes["class"].unique()) if len(sizes) else []
    fig, axes = grid(max(1, len(classes)), ncols, 2.1)
    if not classes:
        message(axes[0], "no tracks measured")
        return fig
    values = sizes["size"].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    hi = float(values.max()) if len(values) else 1.0
    bins = np.linspace(0.0, nice_ceiling(hi), 21)
    for ax, cls in zip(axes, classes):
        v = sizes.loc[sizes["class"] == cls, "size"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        ax.hist(v, bins=bins, color=colors[cls], edgecolor="white", linewidth=0.5)
        ax.set_title(f"{cls}  (n = {len(v)})", loc="left", color=colors[cls])
        ax.set_xlabel(f"body length ({unit})")
        ax.set_ylabel("tracks")
        ax.yaxis.get_major_locator().set_params(integer=True)
        if len(v):
            ax.axvline(float(np.median(v)), color="black", lw=0.8, ls="--")
    return fig


def speed_figure(speeds, colors: Mapping[str, str], *, unit: str):
    """Mean swimming speed of each track, as a box and points per class.

    ``speeds`` has one row per track with columns class and speed (in ``unit``).
    """
    d = speeds[np.isfinite(speeds["speed"].to_numpy(dtype=float))] if len(speeds) else speeds
    classes = sorted(d["class"].unique()) if len(d) else []
    fig = new_figure(WIDTH_IN, 0.8 + 0.45 * max(2, len(classes)))
    ax = fig.subplots()
    if not classes:
        message(ax, "no tracks long enough to measure a speed")
        return fig
    data = [d.loc[d["class"] == c, "speed"].to_numpy(dtype=float) for c in classes]
    pos = np.arange(len(classes))
    box = ax.boxplot(
        data,
        positions=pos,
        orientation="horizontal",
        widths=0.55,
        patch_artist=True,
        showfliers=False,
        medianprops={"color": "black"},
    )
    rng = np.random.default_rng(0)
    for i, (cls, v) in enumerate(zip(classes, data)):
        box["boxes"][i].set_facecolor(colors[cls] + "55")
        box["boxes"][i].set_edgecolor(colors[cls])
        jitter = rng.uniform(-0.18, 0.18, len(v))
        ax.plot(v, i + jitter, "o", color=colors[cls], markersize=4, alpha=0.85)
    ax.set_yticks(pos, [f"{c} (n = {len(v)})" for c, v in zip(classes, data)])
    ax.set_xlabel(f"mean speed of the track ({unit})")
    ax.set_xlim(left=0)
    ax.grid(axis="y", visible=False)
    return fig
