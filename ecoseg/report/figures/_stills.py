"""Stills in figures: masks painted over a frame (:func:`overlay`), a still drawn over the
video's pixel coordinates, outlined tags, and the sample frames figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ecoseg.report._fit import fit_still
from ecoseg.report.figures._style import NO_DATA, WIDTH_IN, new_figure, panel_pixels

__all__ = ["BLANK", "overlay", "still_axes", "outlined_text", "frames_figure"]

#: The grey of a blank still (a frame whose video is not found): RGB 235, 235, 235.
BLANK = "#ebebeb"


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
        lut[int(i)] = to_rgb(colors.get(int(i), NO_DATA))
    lab = labels.astype(np.int64)
    fg = lab > 0
    col = lut[np.where(fg, lab, 0)]
    out[fg] = (1 - alpha) * out[fg] + alpha * col[fg]
    edge = find_boundaries(lab, mode="inner") & fg
    out[edge] = col[edge]
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def still_axes(ax, still: np.ndarray | None, height: int, width: int, scale: int = 1):
    """``still`` (None: a blank one, the axes filled with :data:`BLANK`: the pixels of a
    grey image, without matplotlib resampling one) in ``ax`` over the video's
    ``height x width`` pixels; ``scale``: the factor :func:`fit_still` reduced it by."""
    if still is None:
        ax.set_facecolor(BLANK)
        ax.set_aspect("equal")  # as imshow sets it
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


def outlined_text(ax, x, y, text, **kw):
    import matplotlib.patheffects as pe

    t = ax.text(x, y, text, color="black", **kw)
    t.set_path_effects([pe.withStroke(linewidth=2.5, foreground="white")])
    return t


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
    fig = new_figure(WIDTH_IN, panel_h * max(1, len(rows)) + 0.2)
    axes = fig.subplots(max(1, len(rows)), ncols, squeeze=False)
    for r, row in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(row["frames"]):
                ax.set_visible(False)
                continue
            f = row["frames"][c]
            img, k = fit_still(f["image"], panel_pixels(ncols))
            still_axes(ax, img, *_size(f), k * f.get("scale", 1))
            for x, y, text in f.get("labels", ()):
                outlined_text(ax, x, y, text, ha="center", va="center", fontsize=7)
            title = f["caption"] if c else f"{row['title']}\n{f['caption']}"
            ax.set_title(title, loc="left", fontsize=8.5)
    return fig


def _size(frame: Mapping[str, Any]) -> tuple[int, int]:
    h, w = frame.get("size") or frame["image"].shape[:2]
    return int(h), int(w)
