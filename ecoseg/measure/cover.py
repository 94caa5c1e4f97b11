"""Percent cover: the fraction of the frame (or of a region of interest) each class covers.

Cover is computed from per-object pixel counts, which the regions scan produces chunk by
chunk: for the whole frame the object's area, for a region of interest its area inside the
region (exact, from row-wise prefix sums of the ROI over the label runs). A pixel holds one
label, so the fractions of all classes in a frame sum to at most 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ecoseg._checks import number_text, short_repr
from ecoseg.errors import ConfigError
from ecoseg.measure.counts import require_columns, table_frames

__all__ = ["COVER_UNITS", "check_polygon", "class_cover", "cover_table", "roi_mask"]

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
        inside or on it are in the region. A vertex repeated right after itself (also the
        first one repeated at the end, closing the ring) is one vertex.
    shape : (H, W)
        Frame shape.

    Raises
    ------
    ConfigError
        The mask has the wrong shape; the polygon has fewer than 3 distinct vertices, no
        area (all on one line), a zero-area spike (an edge running back along the one before
        it) or edges that cross or touch (a region inside such an outline is not well
        defined); whole numbers of the frame's shape on a frame 2 px wide (a mask or H
        vertices?);
        or the region is empty. Each names the polygon and the vertex or edges at fault.

    Examples
    --------
    >>> roi_mask([(0, 0), (3, 0), (3, 1), (0, 1)], (3, 5)).astype(int)
    array([[1, 1, 1, 1, 0],
           [1, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    >>> roi_mask([(0, 0), (3, 1), (3, 0), (0, 1)], (3, 5))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: roi polygon [(0, 0), (3, 1), (3, 0), (0, 1)] crosses itself: ...
    """
    if roi is None:
        return None
    arr = np.asarray(roi)
    if _mask_or_vertices(arr, shape):
        raise ConfigError(
            f"roi of shape {arr.shape} on frames {shape[0]} x 2 px could be a mask or "
            f"{shape[0]} (x, y) vertices: give a mask as booleans (roi.astype(bool)), or close "
            "the polygon by repeating its first vertex at the end"
        )
    if arr.dtype == bool or (arr.ndim == 2 and arr.shape == tuple(shape) and arr.shape[1] != 2):
        mask = arr.astype(bool)
        if mask.shape != tuple(shape):
            raise ConfigError(f"roi mask of shape {mask.shape} does not match frames {shape}")
    else:
        try:
            pts = np.asarray(roi, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"roi {roi!r} is neither a mask nor (x, y) vertices") from None
        if pts.shape == (4,):  # a box, as a prompt's box is written
            x0, y0, x1, y1 = (number_text(v) for v in pts)
            raise ConfigError(
                f"roi {short_repr(roi)} is 4 numbers, not (x, y) vertices; a box [x0, y0, x1, "
                f"y1] is the polygon [({x0}, {y0}), ({x1}, {y0}), ({x1}, {y1}), ({x0}, {y1})]"
            )
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
            raise ConfigError(
                f"roi polygon needs >= 3 (x, y) vertices, got {short_repr(roi)} (shape {pts.shape})"
            )
        if not np.isfinite(pts).all():
            raise ConfigError("roi polygon has non-finite vertices")
        check_polygon(pts)
        mask = _polygon_mask(pts, shape)
    if not mask.any():
        raise ConfigError("roi is empty (covers no pixel centre of the frame)")
    return mask


def _positive(x) -> bool:
    """``x`` is a finite number above 0 (numpy's too; not text, not a bool)."""
    return (
        isinstance(x, int | float | np.integer | np.floating)
        and not isinstance(x, bool)
        and math.isfinite(x)
        and x > 0
    )


#: Pixel centres tested against a polygon at a time (their coordinates: 4 MB).
_POLYGON_BAND_PX = 1 << 18


def _polygon_mask(pts: np.ndarray, shape) -> np.ndarray:
    """The pixels whose centres are inside or on the polygon ``pts`` ((x, y) vertices), tested
    by skimage's ``points_in_poly`` a band of rows of the polygon's box at a time: the mask
    of skimage's ``polygon2mask`` (tests/measure/test_cover.py compares them), whose lists
    of the coordinates of every pixel inside took about 90 bytes a pixel (620 MB for most
    of a 4K frame); this holds the mask and one band's coordinates."""
    from skimage.measure import points_in_poly

    H, W = shape
    mask = np.zeros((H, W), dtype=bool)
    x, y = pts[:, 0], pts[:, 1]
    r0, r1 = max(0, math.ceil(y.min())), min(H - 1, math.floor(y.max()))
    c0, c1 = max(0, math.ceil(x.min())), min(W - 1, math.floor(x.max()))
    if r0 > r1 or c0 > c1:
        return mask
    verts = np.ascontiguousarray(pts, dtype=np.float64)
    cols = np.arange(c0, c1 + 1, dtype=np.float64)
    step = max(1, _POLYGON_BAND_PX // len(cols))
    for top in range(r0, r1 + 1, step):
        rows = np.arange(top, min(top + step, r1 + 1), dtype=np.float64)
        centres = np.empty((len(rows), len(cols), 2))
        centres[..., 0] = cols
        centres[..., 1] = rows[:, None]
        inside = points_in_poly(centres.reshape(-1, 2), verts)
        mask[top : top + len(rows), c0 : c1 + 1] = inside.reshape(len(rows), len(cols))
    return mask


def _mask_or_vertices(arr: np.ndarray, shape) -> bool:
    """Whether ``arr`` could as well be a mask as vertices: whole numbers (not booleans) of
    the frame's shape, on a frame 2 px wide (half-pixel vertices are vertices)."""
    if arr.dtype == bool or arr.ndim != 2 or arr.shape != tuple(shape) or shape[1] != 2:
        return False
    return np.issubdtype(arr.dtype, np.number) and bool((arr == np.round(arr)).all())


def check_polygon(pts: np.ndarray) -> None:
    """Refuse a region-of-interest polygon whose inside is not well defined, in one line naming
    it and the vertex or edges at fault: fewer than 3 distinct vertices, no area (every
    vertex on one line), a zero-area spike (an edge that runs back along the one before it:
    the pixel centres on it would be left out), or two edges that cross or touch (a crossing
    outline's inside depends on the fill rule). A vertex repeated right after itself, and the
    first repeated at the end, count once. Coordinates are compared exactly.

    Parameters
    ----------
    pts : ndarray, shape (n, 2)
        The (x, y) vertices, finite.

    Examples
    --------
    >>> check_polygon(np.array([[0, 0], [4, 0], [4, 3], [0, 3], [0, 0]]))
    >>> check_polygon(np.array([[0, 0], [4, 0], [4, 3], [6, 3], [4, 3], [0, 3]]))
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: roi polygon [(0, 0), (4, 0), (4, 3), (6, 3), (4, 3), (0, 3)] has \
a zero-area spike at vertex 3 (6, 3): the edges on either side of it run back along each other
    """

    def xy(p) -> str:
        return f"({float(p[0]):g}, {float(p[1]):g})"

    shown = pts if len(pts) <= 8 else pts[:3]
    named = f"roi polygon [{', '.join(xy(p) for p in shown)}"
    named += "]" if len(pts) <= 8 else f", ... {xy(pts[-1])}] ({len(pts)} vertices)"
    keep = np.ones(len(pts), bool)
    keep[1:] = (pts[1:] != pts[:-1]).any(axis=1)
    idx = np.flatnonzero(keep)  # the vertices named in messages count as given
    while len(idx) > 1 and (pts[idx[-1]] == pts[idx[0]]).all():
        idx = idx[:-1]
    p = pts[idx]
    n = len(p)
    if n < 3:
        raise ConfigError(f"{named} needs >= 3 distinct vertices, it has {n}")
    if not _orient(p[0], p[1], p).any():
        raise ConfigError(f"{named} has no area: its vertices all lie on one line")
    before, after = p - np.roll(p, 1, axis=0), np.roll(p, -1, axis=0) - p
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    back = (cross == 0) & ((before * after).sum(axis=1) < 0)
    if back.any():
        k = int(np.flatnonzero(back)[0])
        raise ConfigError(
            f"{named} has a zero-area spike at vertex {idx[k]} {xy(p[k])}: the edges on "
            "either side of it run back along each other"
        )
    a, b = p, np.roll(p, -1, axis=0)  # edge i runs from a[i] to b[i]
    for i in range(n - 2):
        j = np.arange(i + 2, n if i else n - 1)  # the edges that share no vertex with i
        c, e = a[j], b[j]
        o1, o2 = _orient(a[i], b[i], c), _orient(a[i], b[i], e)
        o3, o4 = _orient(c, e, a[i]), _orient(c, e, b[i])
        on = [
            ((o1 == 0) & _within(a[i], b[i], c), c),
            ((o2 == 0) & _within(a[i], b[i], e), e),
            ((o3 == 0) & _within(c, e, a[i]), np.broadcast_to(a[i], c.shape)),
            ((o4 == 0) & _within(c, e, b[i]), np.broadcast_to(b[i], c.shape)),
        ]
        proper = (o1 * o2 < 0) & (o3 * o4 < 0)
        hit = np.flatnonzero(proper | on[0][0] | on[1][0] | on[2][0] | on[3][0])
        if not len(hit):
            continue
        h, m = int(hit[0]), int(j[hit[0]])
        if proper[h]:  # where the two edges cross
            at = c[h] + o1[h] / (o1[h] - o2[h]) * (e[h] - c[h])
        else:  # the vertex that lies on the other edge
            at = next(q[h] for touches, q in on if touches[h])
        raise ConfigError(
            f"{named} crosses itself: its edges {idx[i]}-{idx[(i + 1) % n]} and "
            f"{idx[m]}-{idx[(m + 1) % n]} (between those vertices) meet at {xy(at)}, and which "
            "pixels are inside such an outline is not well defined; draw it without "
            "crossing, or give several regions as one boolean mask"
        )


def _orient(p, q, r) -> np.ndarray:
    """Twice the signed area of the triangles ``p``, ``q``, ``r`` (0: on one line)."""
    p, q, r = (np.asarray(v, np.float64) for v in (p, q, r))
    return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (
        r[..., 0] - p[..., 0]
    )


def _within(p, q, r) -> np.ndarray:
    """Whether ``r`` lies in the box of the segment ``p``-``q`` (on it, when on its line)."""
    p, q, r = (np.asarray(v, np.float64) for v in (p, q, r))
    lo, hi = np.minimum(p, q), np.maximum(p, q)
    return ((r >= lo) & (r <= hi)).all(axis=-1)


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
    require_columns(regions, ["frame", "class", area_column], "cover_table: regions")
    times = np.asarray(times, dtype=np.float64)
    n = len(times)
    if not _positive(frame_area_px):
        raise ValueError(f"cover_table: frame_area_px must be positive, got {frame_area_px!r}")
    if mm_per_px is not None and not _positive(mm_per_px):  # -1 gave positive areas, NaN none
        raise ValueError(
            f"cover_table: mm_per_px must be a positive number or None, got {mm_per_px!r}"
        )
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
