"""Percent cover: the fraction of the frame (or of a region of interest) each class covers.

Cover is computed from per-object pixel counts, which the regions scan produces chunk by
chunk: for the whole frame the object's area, for a region of interest its area inside the
region (exact, from row-wise prefix sums of the ROI over the label runs). A pixel holds one
label, so the fractions of all classes in a frame sum to at most 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ecoseg.errors import ConfigError
from ecoseg.measure.counts import table_frames

__all__ = ["COVER_UNITS", "class_cover", "cover_table", "roi_mask"]

COVER_UNITS = {
    "frame": "index",
    "time_s": "s",
    "class": "",
    "cover_px": "px^2",
    "cover_fraction": "1",
}


def roi_mask(roi, shape: tuple[int, int]) -> np.ndarray | None:
    """A boolean (H, W) region-of-interest mask from a mask or a polygon.

    Parameters
    ----------
    roi : None, array of bool (H, W) or sequence of (x, y) vertices
        A polygon is given in video pixel coordinates (x = column, y = row); pixel centres
        inside or on it are in the region.
    shape : (H, W)
        Frame shape.

    Raises
    ------
    ConfigError
        The mask has the wrong shape, the polygon has fewer than 3 vertices, or the region
        is empty.

    Examples
    --------
    >>> roi_mask([(0, 0), (3, 0), (3, 1), (0, 1)], (3, 5)).astype(int)
    array([[1, 1, 1, 1, 0],
           [1, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    if roi is None:
        return None
    arr = np.asarray(roi)
    if arr.dtype == bool or (arr.ndim == 2 and arr.shape == tuple(shape) and arr.shape[1] != 2):
        mask = arr.astype(bool)
        if mask.shape != tuple(shape):
            raise ConfigError(f"roi mask of shape {mask.shape} does not match frames {shape}")
    else:
        from skimage.draw import polygon2mask

        try:
            pts = np.asarray(roi, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"roi {roi!r} is neither a mask nor (x, y) vertices") from None
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
            raise ConfigError(f"roi polygon needs >= 3 (x, y) vertices, got shape {pts.shape}")
        if not np.isfinite(pts).all():
            raise ConfigError("roi polygon has non-finite vertices")
        mask = polygon2mask(tuple(shape), pts[:, ::-1])
    if not mask.any():
        raise ConfigError("roi is empty (covers no pixel centre of the frame)")
    return mask


def class_cover(
    labels: np.ndarray, class_of: dict[int, int], n_classes: int, roi: np.ndarray | None = None
) -> np.ndarray:
    """Pixels of each class in each frame of a label stack, by one ``bincount``.

    Parameters
    ----------
    labels : ndarray of int, shape (n, H, W)
    class_of : dict
        Object id -> class index (0 .. n_classes - 1); ids not in it are ignored.
    n_classes : int
    roi : ndarray of bool (H, W), optional

    Returns
    -------
    ndarray of int64, shape (n, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.array([[[1, 1, 2, 0]]])
    >>> class_cover(lab, {1: 0, 2: 1}, 2)
    array([[2, 1]])
    """
    lab = np.asarray(labels)
    if lab.ndim == 2:
        lab = lab[None]
    n = lab.shape[0]
    flat = lab.reshape(n, -1)
    if roi is not None:
        flat = flat[:, np.asarray(roi, bool).reshape(-1)]
    ids, inv = np.unique(flat, return_inverse=True)
    cidx = np.array([class_of.get(int(i), -1) if i else -1 for i in ids], dtype=np.int64)
    k = cidx[inv.reshape(flat.shape)]
    frame = np.broadcast_to(np.arange(n)[:, None], k.shape)
    ok = k >= 0
    out = np.bincount(frame[ok] * n_classes + k[ok], minlength=n * n_classes)
    return out.reshape(n, n_classes).astype(np.int64)


def cover_table(
    regions: pd.DataFrame,
    times: Sequence[float] | np.ndarray,
    *,
    frame_area_px: int,
    classes: Sequence[str] | None = None,
    area_column: str = "area_px",
    mm_per_px: float | None = None,
    frames: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Cover per frame and class from per-object pixel counts.

    Parameters
    ----------
    regions : pandas.DataFrame
        Needs ``frame``, ``class`` and ``area_column``.
    times : array of float, shape (n_frames,)
    frame_area_px : int
        Pixels of the reference area: H x W, or the ROI's pixel count.
    classes : sequence of str, optional
        Classes to report (default: those in ``regions``); absent ones get 0.
    area_column : str
        ``"area_px"`` (whole frame) or the ROI pixel count column.
    mm_per_px : float, optional
        Adds ``cover_mm2``.
    frames : sequence of int, optional
        The frames observed, in order (default: every frame), as in
        :func:`~ecoseg.measure.counts.counts_table`.

    Returns
    -------
    pandas.DataFrame
        ``frame``, ``time_s``, ``class``, ``cover_px``, ``cover_fraction`` (= cover_px /
        frame_area_px) [, ``cover_mm2``]; every frame (of ``frames``) x every class.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"frame": [0, 0], "class": ["coral", "coral"], "area_px": [5, 15]})
    >>> cover_table(reg, [0.0], frame_area_px=100)["cover_fraction"].tolist()
    [0.2]
    """
    times = np.asarray(times, dtype=np.float64)
    n = len(times)
    if frame_area_px <= 0:
        raise ValueError(f"frame_area_px must be positive, got {frame_area_px}")
    cls_col = regions["class"].astype(str).to_numpy()
    if classes is None:
        classes = sorted(set(cls_col.tolist()))
    classes = [str(c) for c in classes]
    index = {c: k for k, c in enumerate(classes)}
    nc = len(classes)
    k = np.array([index.get(c, -1) for c in cls_col], dtype=np.int64)
    frame = regions["frame"].to_numpy(np.int64)
    ok = k >= 0
    px = np.bincount(
        frame[ok] * nc + k[ok],
        weights=regions[area_column].to_numpy(np.float64)[ok],
        minlength=n * nc,
    )
    rows = table_frames(n, frames)
    px = np.rint(px.reshape(n, nc)[rows].ravel()).astype(np.int64)
    out = pd.DataFrame(
        {
            "frame": np.repeat(rows, nc),
            "time_s": np.repeat(times[rows], nc),
            "class": pd.array(classes * len(rows), dtype=str),
            "cover_px": px,
            "cover_fraction": px / float(frame_area_px),
        }
    )
    units = dict(COVER_UNITS)
    if mm_per_px is not None:
        out["cover_mm2"] = px * float(mm_per_px) ** 2
        units["cover_mm2"] = "mm^2"
    out.attrs.update({k: v for k, v in regions.attrs.items() if k not in ("units", "table")})
    out.attrs["table"] = "cover"
    out.attrs["units"] = units
    out.attrs["cover_area_px"] = int(frame_area_px)
    return out
