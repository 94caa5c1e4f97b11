"""The cover figure: percent of the frame covered by each class over time (or per
photograph of a photo survey)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ecoseg.report.figures._panels import photograph_axis, video_panels
from ecoseg.report.figures._style import legend

__all__ = ["cover_figure"]


def cover_figure(
    cover,
    colors: Mapping[str, str],
    *,
    videos: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    photos: Mapping[str, Sequence[str]] | None = None,
    ncols: int = 2,
):
    """Percent of the frame covered by each class over time (stacked), one panel per video.

    ``videos`` (default: those in ``cover``) sets the panels and their order. A class of
    ``classes`` (default: all in ``cover``) without rows for a video is not one of its
    classes: it is named in the panel as :data:`~ecoseg.report.figures.NOT_LOOKED_FOR` (a
    class with rows of 0 was looked for and never seen). A photo survey's panel (a video of
    ``photos``, mapped to its photographs' names) stacks a bar per photograph, not an area
    over its images' indices taken for seconds.
    """
    fig, axes, panels = video_panels(cover, videos, classes, ncols)
    top = 1.0
    used: list[str] = []
    for ax, video, d in panels:
        survey = photos is not None and video in photos
        wide = d.pivot_table(
            index="frame" if survey else "time_s",
            columns="class",
            values="cover_fraction",
            aggfunc="sum",
        ).fillna(0.0)
        wide = wide[sorted(wide.columns)] * 100.0
        if wide.shape[1] and survey:
            bottom = np.zeros(len(wide))
            for c in wide.columns:
                ax.bar(wide.index, wide[c], bottom=bottom, width=0.8, color=colors[c])
                bottom += wide[c].to_numpy()
        elif wide.shape[1]:
            ax.stackplot(
                wide.index.to_numpy(),
                wide.to_numpy().T,
                colors=[colors[c] for c in wide.columns],
                alpha=0.85,
                linewidth=0,
            )
        if wide.shape[1]:
            top = max(top, float(wide.sum(axis=1).max()))
            used += [c for c in wide.columns if c not in used]
        if survey:
            photograph_axis(ax, photos[video], int(d["frame"].max()) + 1)
        else:
            ax.set_xlabel("time (s)")
        ax.set_ylabel("cover (% of photograph)" if survey else "cover (% of frame)")
    for ax in axes:
        ax.set_ylim(0, top * 1.15)
    legend(fig, colors, sorted(used))
    return fig
