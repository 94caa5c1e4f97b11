"""The cover figure: percent of the frame covered by each class over time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ecoseg.report.figures._panels import video_panels
from ecoseg.report.figures._style import legend

__all__ = ["cover_figure"]


def cover_figure(
    cover,
    colors: Mapping[str, str],
    *,
    videos: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    ncols: int = 2,
):
    """Percent of the frame covered by each class over time (stacked), one panel per video.

    ``videos`` (default: those in ``cover``) sets the panels and their order. A class of
    ``classes`` (default: all in ``cover``) without rows for a video is not one of its
    classes: it is named in the panel as :data:`~ecoseg.report.figures.NOT_LOOKED_FOR` (a
    class with rows of 0 was looked for and never seen).
    """
    fig, axes, panels = video_panels(cover, videos, classes, ncols)
    top = 1.0
    used: list[str] = []
    for ax, _, d in panels:
        wide = d.pivot_table(
            index="time_s", columns="class", values="cover_fraction", aggfunc="sum"
        ).fillna(0.0)
        wide = wide[sorted(wide.columns)] * 100.0
        if wide.shape[1]:
            ax.stackplot(
                wide.index.to_numpy(),
                wide.to_numpy().T,
                colors=[colors[c] for c in wide.columns],
                alpha=0.85,
                linewidth=0,
            )
            top = max(top, float(wide.sum(axis=1).max()))
            used += [c for c in wide.columns if c not in used]
        ax.set_xlabel("time (s)")
        ax.set_ylabel("cover (% of frame)")
    for ax in axes:
        ax.set_ylim(0, top * 1.15)
    legend(fig, colors, sorted(used))
    return fig
