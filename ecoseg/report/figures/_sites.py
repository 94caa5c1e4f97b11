"""The site comparison figure: MaxN (and cover) per class by site."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ecoseg.report.figures._style import WIDTH_IN, new_figure

__all__ = ["site_figure"]


def site_figure(per_video, colors: Mapping[str, str], *, cover=None):
    """Per-site comparison: MaxN per class (bars: site mean, dots: videos), and mean cover.

    ``per_video`` has one row per video and class it looked for, with columns site, video,
    class, maxn; ``cover`` (optional) one row per video and class with site, class, cover_pct.
    A video without a row for a class is left out of that class's site mean (not a 0); a site
    none of whose videos looked for a class has no bar for it.
    """
    sites = sorted(per_video["site"].unique())
    classes = sorted(per_video["class"].unique())
    panels = 2 if cover is not None and len(cover) else 1
    fig = new_figure(WIDTH_IN, 3.1)
    axes = np.atleast_1d(fig.subplots(1, panels))
    hatches = ("", "//", "..", "xx", "\\\\", "oo")
    width = 0.8 / max(1, len(sites))
    rng = np.random.default_rng(0)

    def bars(ax, table, value, ylabel):
        for j, site in enumerate(sites):
            d = table[table["site"] == site]
            x = np.arange(len(classes)) - 0.4 + width * (j + 0.5)
            means = np.array([float(d.loc[d["class"] == c, value].mean()) for c in classes])
            drawn = np.isfinite(means)  # no bar where none of the site's videos looked for it
            ax.bar(
                x[drawn],
                means[drawn],
                width=width * 0.9,
                color=[colors[c] for c, k in zip(classes, drawn) if k],
                alpha=0.55,
                edgecolor="black",
                linewidth=0.6,
                hatch=hatches[j % len(hatches)],
                label=site,
            )
            for xi, c in zip(x, classes):
                v = d.loc[d["class"] == c, value].to_numpy(dtype=float)
                ax.plot(
                    xi + rng.uniform(-width * 0.2, width * 0.2, len(v)),
                    v,
                    "o",
                    color="black",
                    markersize=3,
                )
        ax.set_xticks(np.arange(len(classes)), classes, rotation=20, ha="right")
        ax.set_ylabel(ylabel)
        ax.grid(axis="x", visible=False)

    bars(axes[0], per_video, "maxn", "MaxN per video (individuals)")
    axes[0].set_title("MaxN by site", loc="left")
    axes[0].yaxis.get_major_locator().set_params(integer=True)
    if panels == 2:
        bars(axes[1], cover, "cover_pct", "mean cover (% of frame)")
        axes[1].set_title("Cover by site", loc="left")
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor="white", edgecolor="black", hatch=hatches[j % len(hatches)], label=s)
        for j, s in enumerate(sites)
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=min(len(sites), 6), title=None)
    return fig
