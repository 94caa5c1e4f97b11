"""Abundance figures: individuals per class over time (MaxN marked) and MaxN per class and
video."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ecoseg.report._looked import video_classes
from ecoseg.report.figures._panels import photograph_axis, video_names, video_panels
from ecoseg.report.figures._style import WIDTH_IN, legend, message, new_figure

__all__ = [
    "counts_figure",
    "maxn_figure",
    "survey_counts",
    "class_maxn",
    "maxn_marker",
    "frame_duration",
    "held_steps",
]


def counts_figure(
    counts,
    colors: Mapping[str, str],
    maxn=None,
    *,
    videos: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    photos: Mapping[str, Sequence[str]] | None = None,
    ncols=2,
):
    """Number of individuals per class over time, one panel per video, MaxN marked.

    A photo survey's panel (a video of ``photos``, mapped to its photographs' names, one per
    frame) has no time axis: it counts per photograph, a bar per class over each photograph
    (:func:`survey_counts`), not a step line over its images' indices taken for seconds.

    A frame's count is drawn as a step from its time to the next frame's; the last frame's
    to its time plus the video's frame duration (the median step between its frame times),
    not a step of no width at its start.

    ``counts`` has columns video, time_s, class, count; ``maxn`` (optional) video, class,
    maxn, time_s. ``videos`` (default: those in ``counts``) sets the panels and their order.
    A video's classes are those its rows hold (a flat line at 0: looked for, never seen); a
    class of ``classes`` (default: all in ``counts``) without rows there is not one of the
    video's, gets no line and is named in the panel as
    :data:`~ecoseg.report.figures.NOT_LOOKED_FOR` (not for a video that named nothing to look
    for and saw nothing: its rows are 0 of ``unknown``, and it looked for any animal).
    """
    fig, axes, panels = video_panels(counts, videos, classes, ncols)
    ymax = max(1, int(counts["count"].max())) if len(counts) else 1
    used: list[str] = []
    for ax, video, d in panels:
        if photos is not None and video in photos:
            used += [c for c in survey_counts(ax, d, colors, maxn, video, photos[video])]
            ax.set_ylim(0, ymax + 0.6)
            ax.yaxis.get_major_locator().set_params(integer=True)
            continue
        frame_s = frame_duration(d["time_s"])
        for cls in sorted(d["class"].unique()):
            c = d[d["class"] == cls].sort_values("time_s")
            t, n = held_steps(c["time_s"], c["count"], frame_s)
            ax.step(t, n, where="post", color=colors[cls], lw=1.4)
            if cls not in used:
                used.append(cls)
            if (m := class_maxn(maxn, cls, video)) is not None:
                maxn_marker(ax, m["time_s"], m["maxn"], colors[cls])
        ax.set_xlabel("time (s)")
        ax.set_ylabel("individuals in frame")
        ax.set_ylim(0, ymax + 0.6)
        ax.yaxis.get_major_locator().set_params(integer=True)
    legend(fig, colors, sorted(set(used)))
    return fig


def survey_counts(ax, d, colors: Mapping[str, str], maxn, video, names: Sequence[str]):
    """Draw a photo survey's counts on ``ax``: per photograph (x: its index, named by its
    file: :func:`~ecoseg.report.figures._panels.photograph_axis`) a bar per class, MaxN marked over
    its photograph (``maxn`` of ``video``, as :func:`class_maxn`); returns the classes drawn."""
    classes = sorted(d["class"].unique())
    width = 0.8 / max(1, len(classes))
    for k, cls in enumerate(classes):
        c = d[d["class"] == cls]
        x = c["frame"].to_numpy(dtype=float) - 0.4 + width * (k + 0.5)
        ax.bar(x, c["count"].to_numpy(), width=width * 0.9, color=colors[cls])
        if (m := class_maxn(maxn, cls, video)) is not None:
            xm = float(m["frame"]) - 0.4 + width * (k + 0.5)
            maxn_marker(ax, xm, m["maxn"] + 0.3, colors[cls])
    photograph_axis(ax, names, int(d["frame"].max()) + 1 if len(d) else 0)
    ax.set_ylabel("individuals in photograph")
    return classes


def class_maxn(maxn, cls: str, video: str | None = None):
    """The row of class ``cls`` in a ``maxn`` table (columns class, maxn, frame, time_s, as
    :func:`ecoseg.measure` gives; the report's also video: the row of ``video``, where
    given), or None where there is none or its MaxN is 0: nothing to mark (:func:`maxn_marker`).

    Examples
    --------
    >>> import pandas as pd
    >>> maxn = pd.DataFrame({"class": ["urchin", "wrasse"], "maxn": [3, 0], "frame": [4, 0],
    ...                      "time_s": [2.0, 0.0]})
    >>> m = class_maxn(maxn, "urchin")
    >>> int(m["maxn"]), int(m["frame"]), float(m["time_s"])
    (3, 4, 2.0)
    >>> class_maxn(maxn, "wrasse") is None, class_maxn(None, "urchin") is None
    (True, True)
    """
    if maxn is None or not len(maxn):
        return None
    m = maxn[maxn["class"] == cls]
    if video is not None:
        m = m[m["video"] == video]
    return m.iloc[0] if len(m) and m["maxn"].iloc[0] > 0 else None


def maxn_marker(ax, x, y, color: str) -> None:
    """Mark a class's MaxN on ``ax``: a down triangle of ``color``, edged black, at (``x``,
    ``y``); the counts figure's step lines and a survey's bars mark it the same way, and so
    does the napari Measurements widget's plot."""
    ax.plot(
        x,
        y,
        marker="v",
        color=color,
        markersize=7,
        markeredgecolor="black",
        markeredgewidth=0.5,
        linestyle="",
    )


def frame_duration(times) -> float:
    """The median step between a video's distinct frame ``times`` (0 for fewer than two).

    Examples
    --------
    >>> frame_duration([0.0, 0.5, 0.5, 1.0, 2.5])
    0.5
    >>> frame_duration([3.0])
    0.0
    """
    steps = np.diff(np.unique(np.asarray(times, dtype=float)))
    return float(np.median(steps)) if len(steps) else 0.0


def held_steps(times, counts, frame_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The points of a ``where="post"`` step line of ``counts`` at ``times`` whose last count
    is held over its frame (``frame_s`` long), as every other count is, not drawn as a step of
    no width; unchanged when ``frame_s`` is 0 or there are no points. The report's counts
    figure and the napari Measure widget's plot draw with it.

    Examples
    --------
    >>> t, n = held_steps([0.0, 0.5], [1, 3], 0.5)
    >>> t.tolist(), n.tolist()
    ([0.0, 0.5, 1.0], [1, 3, 3])
    """
    t, n = np.asarray(times, dtype=float), np.asarray(counts)
    if len(t) and frame_s:
        t, n = np.r_[t, t[-1] + frame_s], np.r_[n, n[-1]]
    return t, n


def maxn_figure(maxn, colors: Mapping[str, str], *, videos: Sequence[str] | None = None):
    """MaxN per class (x) for every video (bars), the conservative abundance of RUV surveys.

    ``videos`` (default: those in ``maxn``) sets the bars and their order. A video without a
    row for a class did not look for it (not one of its classes): it gets no bar there, and
    ``–`` where the value would be, not a 0 (0 is a class looked for and never seen); one
    that named nothing to look for and saw nothing (its one row ``unknown``, 0) looked for any
    animal: 0 for every class (:func:`~ecoseg.report._looked.video_classes`).
    """
    fig = new_figure(WIDTH_IN, 3.2)
    ax = fig.subplots()
    videos = list(videos) if videos is not None else video_names(maxn)
    if not len(maxn) or not videos:
        message(ax, "no individuals detected")
        return fig
    classes = sorted(maxn["class"].unique())
    group = min(0.8, 0.16 * len(videos))
    width = group / len(videos)
    shades = _shades(len(videos))
    top = max(1.0, float(maxn["maxn"].max()))
    for j, video in enumerate(videos):
        d = maxn[maxn["video"] == video]
        own = video_classes(d, "maxn", classes)
        d = d.set_index("class")
        values = np.array([float(d["maxn"].get(c, 0.0)) if c in own else np.nan for c in classes])
        x = np.arange(len(classes)) - group / 2 + width * (j + 0.5)
        drawn = np.isfinite(values)
        ax.bar(
            x[drawn],
            values[drawn],
            width=width * 0.9,
            color=shades[j],
            label=video,
            edgecolor="white",
        )
        for xi, v in zip(x, values):
            label, y = (f"{v:g}", v) if np.isfinite(v) else ("–", 0.0)
            ax.text(xi, y + top * 0.015, label, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(np.arange(len(classes)), classes)
    for tick, cls in zip(ax.get_xticklabels(), classes):
        tick.set_color(colors.get(cls, "black"))
    ax.set_ylabel("MaxN (individuals)")
    ax.set_ylim(0, top * 1.15)
    ax.set_xlim(-0.6, len(classes) - 0.4)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="x", visible=False)
    fig.legend(loc="outside upper center", ncols=min(6, len(videos)))
    return fig


def _shades(n: int) -> list[str]:
    from matplotlib.colors import to_hex

    greys = np.linspace(0.25, 0.75, max(n, 2))
    base = np.array([0.16, 0.35, 0.52])  # deep sea blue
    return [to_hex(base + (1 - base) * (g - 0.25) / 0.6) for g in greys[:n]]
