"""How every figure of the report is drawn: the style, the class colours, the PNG bytes
(:func:`png`: the same data give the same bytes) and the canvas helpers the figures share
(a figure, a grid of panels, a legend, a panel's message, the pixels across a panel)."""

from __future__ import annotations

import gc
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "DPI",
    "WIDTH_IN",
    "STYLE",
    "PALETTE",
    "NO_DATA",
    "class_colors",
    "png",
    "new_figure",
    "grid",
    "legend",
    "message",
    "nice_ceiling",
    "panel_pixels",
]

DPI = 100


WIDTH_IN = 10.0  # 1000 px at DPI


STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dde3e8",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "#555555",
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "image.interpolation": "antialiased",
    "svg.hashsalt": "ecoseg",
    "path.simplify": True,
}


# colour-blind-friendly qualitative palette (Okabe-Ito, then Tol's muted)
# (warm colours first: they stand out on blue-green water in the overlays)
PALETTE = (
    "#E69F00",
    "#D55E00",
    "#CC79A7",
    "#0072B2",
    "#009E73",
    "#56B4E9",
    "#882255",
    "#8E7A00",
    "#332288",
    "#44AA99",
    "#999933",
    "#AA4499",
)


NO_DATA = "#8a8f94"


def class_colors(classes: Sequence[str]) -> dict[str, str]:
    """A fixed colour per class: sorted class names take the palette in order.

    Examples
    --------
    >>> class_colors(["wrasse", "parrotfish"])
    {'parrotfish': '#E69F00', 'wrasse': '#D55E00'}
    """
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(sorted(set(classes)))}


def png(make: Callable[..., Any], *args: Any, palette: bool = False, **kwargs: Any) -> bytes:
    """Build a figure with ``make(*args, **kwargs)`` under :data:`STYLE` and return PNG bytes.

    The PNG carries no software tag or date, so its bytes depend only on the data.
    ``palette=True`` stores it with a 256-colour palette (median cut, no dithering): about a
    third of the bytes for figures made of video frames, with no visible loss at report size.
    """
    import matplotlib as mpl

    with mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(STYLE)
        fig = make(*args, **kwargs)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    # a figure is a cycle of objects: its data copies and pixel buffer wait for the garbage
    # collector, and a long video's track points would pile up under the next figure
    del fig
    gc.collect()
    if not palette:
        return buf.getvalue()
    from PIL import Image

    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    small = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def grid(n: int, ncols: int, panel_h: float, width: float = WIDTH_IN, **kw):
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig = new_figure(width, panel_h * nrows + 0.3)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def legend(fig, colors: Mapping[str, str], used: Sequence[str], *, marker: str = "s") -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colors[c], marker=marker, linestyle="", markersize=8, label=c)
        for c in used
    ]
    if handles:
        fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 6))


def message(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=NO_DATA)
    # tick_params, not set_*ticks: axes may share their ticks with panels that have data
    ax.tick_params(left=False, bottom=False, labelleft=False, labelbottom=False)
    ax.grid(False)


def nice_ceiling(x: float) -> float:
    if not np.isfinite(x) or x <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(x))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= x:
            return m * exp
    return 10 * exp  # pragma: no cover


def panel_pixels(ncols: int) -> int:
    """The pixels across one of ``ncols`` panels side by side on the page (the figure's
    width at :data:`DPI`; the axes get a little less after the layout)."""
    return int(WIDTH_IN * DPI) // max(1, ncols)
