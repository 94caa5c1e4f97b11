"""Figures of the field-study report: matplotlib (Agg) in, deterministic PNG bytes out.

Every ``*_figure`` function takes tidy tables (pandas) or arrays and returns a
:class:`matplotlib.figure.Figure`; :func:`png` renders one with a fixed style and without any
timestamp or software tag, so the same data always give the same bytes. Figures are built with
:class:`~matplotlib.figure.Figure` directly (no pyplot state).

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

import gc
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ecoseg.report._fit import fit_labels, fit_still
from ecoseg.report._looked import video_classes

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

DPI = 100
WIDTH_IN = 10.0  # 1000 px at DPI
#: The trajectory figure's panels side by side (stills are held reduced to their width).
TRAJECTORY_COLUMNS = 2
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
_PALETTE = (
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
_NO_DATA = "#8a8f94"


def class_colors(classes: Sequence[str]) -> dict[str, str]:
    """A fixed colour per class: sorted class names take the palette in order.

    Examples
    --------
    >>> class_colors(["wrasse", "parrotfish"])
    {'parrotfish': '#E69F00', 'wrasse': '#D55E00'}
    """
    return {c: _PALETTE[i % len(_PALETTE)] for i, c in enumerate(sorted(set(classes)))}


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


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _grid(n: int, ncols: int, panel_h: float, width: float = WIDTH_IN, **kw):
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig = _figure(width, panel_h * nrows + 0.3)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _legend(fig, colors: Mapping[str, str], used: Sequence[str], *, marker: str = "s") -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colors[c], marker=marker, linestyle="", markersize=8, label=c)
        for c in used
    ]
    if handles:
        fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 6))


def _message(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=_NO_DATA)
    # tick_params, not set_*ticks: axes may share their ticks with panels that have data
    ax.tick_params(left=False, bottom=False, labelleft=False, labelbottom=False)
    ax.grid(False)


def _videos(df) -> list[str]:
    return list(dict.fromkeys(df["video"].tolist())) if len(df) else []


NOT_LOOKED_FOR = "not looked for"


def _titles(ax, video: str, missing: Sequence[str]) -> None:
    """A per-video panel's titles: the video's name on the left and, on the right, the classes
    the video did not look for (none drawn), if any.

    The note is the panel's right-hand title, above the plot (inside it, it hid the lines and
    MaxN marks that reach the top, and a long list ran into the next panel and collapsed the
    layout), wrapped between words to the room beside the video's name. Widths are measured
    as Agg draws them, each word and a space once (a line's width is their sum: Agg lays text
    out by advances; a measure costs about half a millisecond, one per line tried would be
    tens per panel); the panel's width is the figure's share less 0.8 in of y-axis labels, an
    estimate made before the layout places it, 0.2 to 0.45 in under what it gives.
    """
    left = ax.set_title(video, loc="left")
    if not missing:
        return
    from matplotlib.backends.backend_agg import RendererAgg

    fig = ax.get_figure()
    renderer = RendererAgg(1, 1, fig.dpi)
    ncols = ax.get_subplotspec().get_gridspec().ncols
    room = (fig.get_figwidth() / ncols - 0.8) * fig.dpi - left.get_window_extent(renderer).width
    room = max(room - 0.15 * fig.dpi, 1.4 * fig.dpi)  # a gap after the name; at least 1.4 in
    note = ax.set_title("", loc="right", color=_NO_DATA, fontsize=7.5, fontweight="normal")
    font = note.get_fontproperties()
    widths: dict[str, float] = {}

    def width(text: str) -> float:
        if text not in widths:
            widths[text] = renderer.get_text_width_height_descent(text, font, ismath=False)[0]
        return widths[text]

    space = width("a a") - width("aa")
    lines: list[list[str]] = []
    used = 0.0
    for word in f"{NOT_LOOKED_FOR}: {', '.join(missing)}".split():
        if lines and used + space + width(word) <= room:
            lines[-1].append(word)
            used += space + width(word)
        else:
            lines.append([word])
            used = width(word)
    note.set_text("\n".join(" ".join(line) for line in lines))


def _video_panels(table, videos: Sequence[str] | None, classes: Sequence[str] | None, ncols: int):
    """One panel per video (y shared), titled by :func:`_titles`, and ``(axis, video, rows)``
    of each with rows in ``table``; a video without rows says "no individuals detected"."""
    videos = list(videos) if videos is not None else _videos(table)
    classes = sorted(classes) if classes is not None else sorted(table["class"].unique())
    fig, axes = _grid(max(1, len(videos)), ncols, 2.3, sharey=True)
    panels = []
    for ax, video in zip(axes, videos or [None]):
        d = table[table["video"] == video] if video is not None else table.iloc[:0]
        if not len(d):
            _message(ax, "no individuals detected")
            ax.set_title(video or "", loc="left")
            continue
        own = video_classes(d, "count" if "count" in d.columns else "cover_fraction", classes)
        _titles(ax, str(video), [c for c in classes if c not in own])
        panels.append((ax, video, d))
    return fig, axes, panels


# --------------------------------------------------------------------------- counts / MaxN
def counts_figure(
    counts,
    colors: Mapping[str, str],
    maxn=None,
    *,
    videos: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    ncols=2,
):
    """Number of individuals per class over time, one panel per video, MaxN marked.

    ``counts`` has columns video, time_s, class, count; ``maxn`` (optional) video, class,
    maxn, time_s. ``videos`` (default: those in ``counts``) sets the panels and their order.
    A video's classes are those its rows hold (a flat line at 0: looked for, never seen); a
    class of ``classes`` (default: all in ``counts``) without rows there is not one of the
    video's, gets no line and is named in the panel as :data:`NOT_LOOKED_FOR` (not for a
    video that named nothing to look for and saw nothing: its rows are 0 of ``unknown``, and
    it looked for any animal).
    """
    fig, axes, panels = _video_panels(counts, videos, classes, ncols)
    ymax = max(1, int(counts["count"].max())) if len(counts) else 1
    used: list[str] = []
    for ax, video, d in panels:
        for cls in sorted(d["class"].unique()):
            c = d[d["class"] == cls].sort_values("time_s")
            ax.step(c["time_s"], c["count"], where="post", color=colors[cls], lw=1.4)
            if cls not in used:
                used.append(cls)
            if maxn is not None and len(maxn):
                m = maxn[(maxn["video"] == video) & (maxn["class"] == cls)]
                if len(m) and m["maxn"].iloc[0] > 0:
                    ax.plot(
                        m["time_s"].iloc[0],
                        m["maxn"].iloc[0],
                        marker="v",
                        color=colors[cls],
                        markersize=7,
                        markeredgecolor="black",
                        markeredgewidth=0.5,
                        linestyle="",
                    )
        ax.set_xlabel("time (s)")
        ax.set_ylabel("individuals in frame")
        ax.set_ylim(0, ymax + 0.6)
        ax.yaxis.get_major_locator().set_params(integer=True)
    _legend(fig, colors, sorted(used))
    return fig


def maxn_figure(maxn, colors: Mapping[str, str], *, videos: Sequence[str] | None = None):
    """MaxN per class (x) for every video (bars), the conservative abundance of RUV surveys.

    ``videos`` (default: those in ``maxn``) sets the bars and their order. A video without a
    row for a class did not look for it (not one of its classes): it gets no bar there, and
    ``–`` where the value would be, not a 0 (0 is a class looked for and never seen); one
    that named nothing to look for and saw nothing (its one row ``unknown``, 0) looked for any
    animal: 0 for every class (:func:`~ecoseg.report._looked.video_classes`).
    """
    fig = _figure(WIDTH_IN, 3.2)
    ax = fig.subplots()
    videos = list(videos) if videos is not None else _videos(maxn)
    if not len(maxn) or not videos:
        _message(ax, "no individuals detected")
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


# --------------------------------------------------------------------------- sizes / speeds
def size_figure(sizes, colors: Mapping[str, str], *, unit: str, ncols: int = 3):
    """Size-frequency histograms, one panel per class.

    ``sizes`` has one row per individual with columns class and size (in ``unit``).
    """
    classes = sorted(sizes["class"].unique()) if len(sizes) else []
    fig, axes = _grid(max(1, len(classes)), ncols, 2.1)
    if not classes:
        _message(axes[0], "no individuals measured")
        return fig
    values = sizes["size"].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    hi = float(values.max()) if len(values) else 1.0
    bins = np.linspace(0.0, _nice_ceiling(hi), 21)
    for ax, cls in zip(axes, classes):
        v = sizes.loc[sizes["class"] == cls, "size"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        ax.hist(v, bins=bins, color=colors[cls], edgecolor="white", linewidth=0.5)
        ax.set_title(f"{cls}  (n = {len(v)})", loc="left", color=colors[cls])
        ax.set_xlabel(f"body length ({unit})")
        ax.set_ylabel("individuals")
        ax.yaxis.get_major_locator().set_params(integer=True)
        if len(v):
            ax.axvline(float(np.median(v)), color="black", lw=0.8, ls="--")
    return fig


def speed_figure(speeds, colors: Mapping[str, str], *, unit: str):
    """Mean swimming speed of each individual, as a box and points per class.

    ``speeds`` has one row per track with columns class and speed (in ``unit``).
    """
    d = speeds[np.isfinite(speeds["speed"].to_numpy(dtype=float))] if len(speeds) else speeds
    classes = sorted(d["class"].unique()) if len(d) else []
    fig = _figure(WIDTH_IN, 0.8 + 0.45 * max(2, len(classes)))
    ax = fig.subplots()
    if not classes:
        _message(ax, "no tracks long enough to measure a speed")
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
    ax.set_xlabel(f"mean speed of the individual ({unit})")
    ax.set_xlim(left=0)
    ax.grid(axis="y", visible=False)
    return fig


def _nice_ceiling(x: float) -> float:
    if not np.isfinite(x) or x <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(x))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= x:
            return m * exp
    return 10 * exp  # pragma: no cover


# --------------------------------------------------------------------------- cover
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
    classes: it is named in the panel as :data:`NOT_LOOKED_FOR` (a class with rows of 0 was
    looked for and never seen).
    """
    fig, axes, panels = _video_panels(cover, videos, classes, ncols)
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
    _legend(fig, colors, sorted(used))
    return fig


# --------------------------------------------------------------------------- images
def overlay(
    image: np.ndarray, labels: np.ndarray, colors: Mapping[int, str], *, alpha: float = 0.45
) -> np.ndarray:
    """Paint instance ``labels`` over an RGB ``image``: translucent fill, solid outline.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W, 3)
    labels : ndarray of int, shape (H, W)
        0 is background.
    colors : mapping of int to colour
        Colour per label id; ids without a colour are drawn grey.
    alpha : float
        Opacity of the fill.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((4, 4, 3), np.uint8)
    >>> lab = np.zeros((4, 4), int)
    >>> lab[1:3, 1:3] = 7
    >>> out = overlay(img, lab, {7: "#ff0000"})
    >>> out[0, 0].tolist(), out[1, 1].tolist()
    ([0, 0, 0], [255, 0, 0])
    """
    from matplotlib.colors import to_rgb
    from skimage.segmentation import find_boundaries

    out = image.astype(np.float32) / 255.0
    ids = np.unique(labels)
    ids = ids[ids != 0]
    if len(ids) == 0:
        return image.copy()
    lut = np.zeros((int(ids.max()) + 1, 3), np.float32)
    for i in ids:
        lut[int(i)] = to_rgb(colors.get(int(i), _NO_DATA))
    lab = labels.astype(np.int64)
    fg = lab > 0
    col = lut[np.where(fg, lab, 0)]
    out[fg] = (1 - alpha) * out[fg] + alpha * col[fg]
    edge = find_boundaries(lab, mode="inner") & fg
    out[edge] = col[edge]
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def panel_pixels(ncols: int) -> int:
    """The pixels across one of ``ncols`` panels side by side on the page (the figure's
    width at :data:`DPI`; the axes get a little less after the layout)."""
    return int(WIDTH_IN * DPI) // max(1, ncols)


def _still_axes(ax, still: np.ndarray | None, height: int, width: int, scale: int = 1):
    """``still`` (None: a blank one) in ``ax`` over the video's ``height x width`` pixels;
    ``scale``: the factor :func:`fit_still` reduced it by."""
    if still is None:
        ax.imshow(np.full((height, width, 3), 235, np.uint8))
    elif scale == 1:
        ax.imshow(still)
    else:
        h, w = still.shape[:2]
        ax.imshow(still, extent=(-0.5, scale * w - 0.5, scale * h - 0.5, -0.5))
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#999999")


def _scale_bar(ax, width: int, height: int, mm_per_px: float | None) -> None:
    if not mm_per_px:
        return
    target = width * 0.25 * mm_per_px
    mm = _nice_ceiling(target) if target > 0 else 0
    if mm > target * 1.6:
        mm /= 2
    px = mm / mm_per_px
    x0, y0 = width * 0.04, height * 0.93
    ax.plot([x0, x0 + px], [y0, y0], color="white", lw=4, solid_capstyle="butt")
    ax.plot([x0, x0 + px], [y0, y0], color="black", lw=1.6, solid_capstyle="butt")
    label = f"{mm:g} mm" if mm < 1000 else f"{mm / 1000:g} m"
    _outlined_text(ax, x0, y0 - height * 0.03, label, ha="left", va="bottom", fontsize=8)


def _outlined_text(ax, x, y, text, **kw):
    import matplotlib.patheffects as pe

    t = ax.text(x, y, text, color="black", **kw)
    t.set_path_effects([pe.withStroke(linewidth=2.5, foreground="white")])
    return t


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
    fig, axes = _grid(n, cols, panel_w * aspect + 0.45)
    used: list[str] = []
    for ax, p in zip(axes, panels):
        still, scale = p.get("still"), p.get("scale", 1)
        if still is not None:  # reduced to the panel before it is brightened
            still, k = fit_still(still, panel_pixels(cols))
            still, scale = (
                (0.55 * still.astype(np.float32) + 0.45 * 255).astype(np.uint8),
                scale * k,
            )
        else:  # a blank one, as small as a reduced still
            scale = max(1, p["width"] // panel_pixels(cols))
            shape = (-(-p["height"] // scale), -(-p["width"] // scale), 3)
            still = np.full(shape, 235, np.uint8)
        _still_axes(ax, still, p["height"], p["width"], scale)
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
    _legend(fig, colors, sorted(used), marker="o")
    return fig


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


def frames_figure(rows: Sequence[Mapping[str, Any]]):
    """Sample frames with masks overlaid: one row per video, one column per frame.

    Each row is a mapping with ``title`` and ``frames``: a list of mappings with ``image``
    (RGB uint8 with the overlay already painted), ``caption``, ``labels`` (a list of
    ``(x, y, text)`` object tags in the video's pixels) and, where ``image`` was reduced by
    :func:`fit_still`, ``size`` (the video's ``(height, width)``) and ``scale`` (its factor).
    Images wider than twice their panel's pixels are reduced here.
    """
    ncols = max((len(r["frames"]) for r in rows), default=1)
    h = max((_size(f)[0] / _size(f)[1] for r in rows for f in r["frames"]), default=0.6)
    panel_h = WIDTH_IN / max(ncols, 1) * h + 0.45
    fig = _figure(WIDTH_IN, panel_h * max(1, len(rows)) + 0.2)
    axes = fig.subplots(max(1, len(rows)), ncols, squeeze=False)
    for r, row in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(row["frames"]):
                ax.set_visible(False)
                continue
            f = row["frames"][c]
            img, k = fit_still(f["image"], panel_pixels(ncols))
            _still_axes(ax, img, *_size(f), k * f.get("scale", 1))
            for x, y, text in f.get("labels", ()):
                _outlined_text(ax, x, y, text, ha="center", va="center", fontsize=7)
            title = f["caption"] if c else f"{row['title']}\n{f['caption']}"
            ax.set_title(title, loc="left", fontsize=8.5)
    return fig


def _size(frame: Mapping[str, Any]) -> tuple[int, int]:
    h, w = frame.get("size") or frame["image"].shape[:2]
    return int(h), int(w)


# --------------------------------------------------------------------------- sites
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
    fig = _figure(WIDTH_IN, 3.1)
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
