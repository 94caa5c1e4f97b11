"""Per-frame, per-object shape statistics of label images (the ``regions`` table).

The core, :func:`region_table`, measures a whole stack of label frames at once without a
Python loop over objects or frames. A stack is decomposed into horizontal *runs* (maximal
stretches of one label along a row); every statistic except the perimeter is an exact
closed-form sum over runs, so the per-pixel work is two comparisons of neighbouring pixels.
The perimeter needs the 3 x 3 neighbourhood of each border pixel, which is gathered only at
border pixels.

Every property follows the definition of :func:`skimage.measure.regionprops` (with the label
image cropped to the object's bounding box, as regionprops does), and the tests check the
agreement on random label images:

* ``area_px``, ``bbox_*``, ``centroid_*``, ``equivalent_diameter_px``: identical up to the last
  bit of the floating-point result;
* ``perimeter_px``: skimage's 4-connectivity weighted border-pixel estimator (Benkrid &
  Crookes), identical histogram of neighbourhood codes, so equal to rounding (< 1e-12);
* ``solidity``: the convex hull is skimage's (hull of the pixels' edge midpoints, every pixel
  centre inside or on it counted); we count those centres with exact integer arithmetic,
  so the convex area is identical;
* ``major_axis_px``, ``minor_axis_px``, ``orientation_rad``, ``eccentricity``: from the
  second central moments, which we compute *exactly* in integer arithmetic (skimage sums
  floats); the results agree to ~1e-12 relative. Where the value is the square root of a
  quantity that is zero in exact arithmetic (``minor_axis_px`` of a one-pixel-wide line,
  ``eccentricity`` of a shape with equal principal moments) skimage's eigenvalue rounding
  noise (~1e-16 of the larger eigenvalue) becomes ~1e-8 after the square root while ours is
  exactly 0: agreement there is 1e-6 of the major axis (minor axis) and 5e-7 absolute
  (eccentricity). ``orientation_rad`` of a shape whose two principal moments are exactly
  equal is taken from skimage's special case (+-pi/4) by an exact test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "REGION_COLUMNS",
    "REGION_MM_COLUMNS",
    "REGION_UNITS",
    "READ_BYTES",
    "RoiRows",
    "read_step",
    "region_stats",
    "region_table",
    "regions",
]

#: Columns of the pure :func:`region_table` (before store columns are added), with units.
REGION_UNITS: dict[str, str] = {
    "frame": "index",
    "object_id": "id",
    "area_px": "px^2",
    "centroid_x_px": "px",
    "centroid_y_px": "px",
    "bbox_x0": "px",
    "bbox_y0": "px",
    "bbox_x1": "px",
    "bbox_y1": "px",
    "perimeter_px": "px",
    "equivalent_diameter_px": "px",
    "major_axis_px": "px",
    "minor_axis_px": "px",
    "orientation_rad": "rad",
    "eccentricity": "1",
    "solidity": "1",
}
REGION_COLUMNS: tuple[str, ...] = tuple(REGION_UNITS)

#: Calibrated columns: name -> (pixel column, power of mm_per_px, unit).
REGION_MM_COLUMNS: dict[str, tuple[str, int, str]] = {
    "area_mm2": ("area_px", 2, "mm^2"),
    "centroid_x_mm": ("centroid_x_px", 1, "mm"),
    "centroid_y_mm": ("centroid_y_px", 1, "mm"),
    "perimeter_mm": ("perimeter_px", 1, "mm"),
    "equivalent_diameter_mm": ("equivalent_diameter_px", 1, "mm"),
    "major_axis_mm": ("major_axis_px", 1, "mm"),
    "minor_axis_mm": ("minor_axis_px", 1, "mm"),
}

# Benkrid & Crookes perimeter weights of the neighbourhood codes 1 (centre) + 2 per
# 4-neighbour + 10 per diagonal neighbour that is a border pixel (other codes weigh 0).
_PERIMETER_CODES = ([5, 7, 15, 17, 25, 27], [21, 33], [13, 23])
_PERIMETER_WEIGHTS = (1.0, math.sqrt(2.0), (1.0 + math.sqrt(2.0)) / 2.0)
_NEIGHBOURS = ((-1, 0, 2), (1, 0, 2), (0, -1, 2), (0, 1, 2))
_NEIGHBOURS += ((-1, -1, 10), (-1, 1, 10), (1, -1, 10), (1, 1, 10))


# --------------------------------------------------------------------------- core
def region_stats(
    labels: np.ndarray,
    *,
    roi: np.ndarray | None = None,
    work: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Shape statistics of every (frame, object) in a stack of label images.

    Parameters
    ----------
    labels : ndarray of int or bool, shape (n, H, W) or (H, W)
        Instance labels, 0 = background (a boolean mask is object 1). Labels are measured
        separately in each frame.
    roi : ndarray of bool, shape (H, W), or RoiRows, optional
        Region of interest; adds ``roi_area_px``, the object's pixels inside it (a
        :class:`RoiRows` of it, made once, spares each call counting it again).
    work : ndarray of bool, optional
        Scratch buffer of at least ``labels.size`` booleans, reused between calls to save
        page faults when measuring a long video chunk by chunk; its content is destroyed.

    Returns
    -------
    dict of str to ndarray
        One entry per column of :data:`REGION_COLUMNS` (``frame`` counts from 0 within the
        stack), rows sorted by frame then object id.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((1, 4, 6), np.uint32); lab[0, 1:3, 1:5] = 7
    >>> s = region_stats(lab)
    >>> int(s["object_id"][0]), int(s["area_px"][0]), float(s["solidity"][0])
    (7, 8, 1.0)
    """
    lab = np.asarray(labels)
    if lab.ndim == 2:
        lab = lab[np.newaxis]
    if lab.ndim != 3:
        raise ValueError(f"labels must be (n, H, W) or (H, W), got shape {lab.shape}")
    if lab.dtype == bool:
        lab = lab.view(np.uint8)  # a binary mask is object 1
    if not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {lab.dtype}")
    if lab.dtype.kind == "i" and lab.size and lab.min() < 0:
        raise ValueError("labels must be >= 0")
    lab = np.ascontiguousarray(lab)
    n, H, W = lab.shape
    if roi is not None and not isinstance(roi, RoiRows):
        roi = RoiRows(roi)
    if roi is not None and roi.shape != (H, W):
        raise ValueError(f"roi of shape {roi.shape} does not match frames of {(H, W)}")

    # ---- runs: maximal horizontal stretches of one label
    if work is None or work.dtype != bool or work.size < lab.size:
        work = np.empty(lab.size, dtype=bool)
    work = work.reshape(-1)
    rows2d = lab.reshape(n * H, W)
    starts = work[: lab.size].reshape(n * H, W)
    starts[:, 0] = True
    np.not_equal(rows2d[:, 1:], rows2d[:, :-1], out=starts[:, 1:])
    sidx = np.flatnonzero(starts)
    del starts
    flat = lab.reshape(-1)
    run_lab = flat[sidx]
    ends = np.empty_like(sidx)
    ends[:-1] = sidx[1:] - 1
    ends[-1:] = flat.size - 1
    fg = run_lab != 0
    sidx, ends, run_lab = sidx[fg], ends[fg], run_lab[fg].astype(np.int64)
    grow = sidx // W  # global row (frame * H + row)
    c0 = sidx - grow * W
    c1 = ends - grow * W
    rframe = grow // H
    rrow = grow - rframe * H
    rlen = c1 - c0 + 1

    # ---- group id per (frame, label); sort runs by (group, row, column)
    base = int(run_lab.max(initial=0)) + 1
    key = rframe * base + run_lab
    ukeys, g = np.unique(key, return_inverse=True)
    G = len(ukeys)
    if G == 0:
        return _empty_stats(roi is not None)
    order = np.argsort(g, kind="stable")  # runs are already in (frame, row, col) order
    run_row = rrow
    g, c0, c1, rrow, rlen = g[order], c0[order], c1[order], rrow[order], rlen[order]
    gstart = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    gend = np.r_[gstart[1:], len(g)] - 1
    obj_frame = rframe[order][gstart]
    obj_label = run_lab[order][gstart]

    # ---- exact integer moments from runs
    def gsum(x):
        return np.add.reduceat(x, gstart)

    area = gsum(rlen)
    s_r = gsum(rlen * rrow)
    s_c = gsum((c0 + c1) * rlen // 2)
    s_rr = gsum(rlen * rrow * rrow)
    s_cc = gsum(_sum_sq(c1) - _sum_sq(c0 - 1))
    s_rc = gsum(rrow * ((c0 + c1) * rlen // 2))
    bbox_r0 = rrow[gstart]
    bbox_r1 = rrow[gend] + 1
    bbox_c0 = np.minimum.reduceat(c0, gstart)
    bbox_c1 = np.maximum.reduceat(c1, gstart) + 1

    out: dict[str, np.ndarray] = {
        "frame": obj_frame,
        "object_id": obj_label,
        "area_px": area,
        "centroid_x_px": s_c / area,
        "centroid_y_px": s_r / area,
        "bbox_x0": bbox_c0,
        "bbox_y0": bbox_r0,
        "bbox_x1": bbox_c1,
        "bbox_y1": bbox_r1,
    }
    out["perimeter_px"] = _perimeter(flat, (n, H, W), sidx, ends, run_row, ukeys, base, work)
    out["equivalent_diameter_px"] = (4 * area / np.pi) ** 0.5
    out.update(_second_moments(area, s_r, s_c, s_rr, s_cc, s_rc))
    out["solidity"] = area / _convex_area(g, rrow, c0, c1, bbox_r0, bbox_r1, H)
    if roi is not None:
        out["roi_area_px"] = gsum(roi.count(rrow, c0, c1))
    return out


class RoiRows:
    """A region of interest (bool, (H, W)) as its running count of pixels along each row, so
    the ROI pixels of a run of columns ``c0..c1`` of a row are one difference.

    Made once per store, not once per chunk of frames: the count is kept in the smallest
    unsigned integer that holds the width (``uint16`` for frames up to 65534 pixels wide, a
    quarter of the int64 count made for every chunk before), and the difference is exact.

    Examples
    --------
    >>> roi = np.zeros((2, 5), bool); roi[1, 1:4] = True
    >>> r = RoiRows(roi)
    >>> r.shape, r.count(np.array([1, 1]), np.array([0, 2]), np.array([1, 4])).tolist()
    ((2, 5), [1, 2])
    """

    def __init__(self, roi: np.ndarray) -> None:
        roi = np.asarray(roi, dtype=bool)
        if roi.ndim != 2:
            raise ValueError(f"roi must be (H, W), got shape {roi.shape}")
        H, W = roi.shape
        dtype = np.uint16 if W < np.iinfo(np.uint16).max else np.uint32
        self.cum = np.zeros((H, W + 1), dtype=dtype)
        np.cumsum(roi, axis=1, dtype=dtype, out=self.cum[:, 1:])
        self.shape = (H, W)

    def count(self, rows: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
        """ROI pixels (int64) of the runs ``c0..c1`` (inclusive) of ``rows``."""
        return self.cum[rows, c1 + 1].astype(np.int64) - self.cum[rows, c0]


def _sum_sq(x: np.ndarray) -> np.ndarray:
    """0^2 + 1^2 + ... + x^2 (0 for x < 0), exact in int64."""
    x = np.maximum(x, 0)
    return x * (x + 1) * (2 * x + 1) // 6


def _empty_stats(with_roi: bool) -> dict[str, np.ndarray]:
    out = {c: np.zeros(0, dtype=np.float64) for c in REGION_COLUMNS}
    for c in ("frame", "object_id", "area_px", "bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1"):
        out[c] = np.zeros(0, dtype=np.int64)
    if with_roi:
        out["roi_area_px"] = np.zeros(0, dtype=np.int64)
    return out


def _second_moments(area, s_r, s_c, s_rr, s_cc, s_rc) -> dict[str, np.ndarray]:
    """Axes, orientation and eccentricity from exact integer power sums.

    ``n_rr = A*S_rr - S_r^2`` etc. are A^2 times the normalised central moments, computed
    with Python integers (no overflow, no rounding) and rounded once.
    """
    A = area.astype(object)
    n_rr = A * s_rr.astype(object) - s_r.astype(object) ** 2
    n_cc = A * s_cc.astype(object) - s_c.astype(object) ** 2
    n_rc = A * s_rc.astype(object) - s_r.astype(object) * s_c.astype(object)
    disc = (n_cc - n_rr) ** 2 + 4 * n_rc**2  # (l1 - l2)^2 * A^4, exact
    det = n_cc * n_rr - n_rc**2  # l1 * l2 * A^4, exact and >= 0
    a2 = (A * A).astype(np.float64)
    trace = (n_cc + n_rr).astype(np.float64)  # (l1 + l2) * A^2
    root = np.sqrt(disc.astype(np.float64))
    big = trace + root  # 2 * l1 * A^2
    with np.errstate(divide="ignore", invalid="ignore"):
        l1 = big / (2 * a2)
        # l2 = det / l1 avoids the cancellation of trace - root
        l2 = np.where(big > 0, 2 * det.astype(np.float64) / (big * a2), 0.0)
        ecc = np.where(big > 0, np.sqrt(np.maximum(2 * root / big, 0.0)), 0.0)
    l2 = np.maximum(l2, 0.0)
    equal = n_rr == n_cc
    orient = 0.5 * np.arctan2(
        (2 * n_rc).astype(np.float64), (n_rr - n_cc).astype(np.float64)
    )  # skimage: 0.5 * atan2(-2 b, c - a) with b = -mu11, a = mu02, c = mu20
    orient = np.where(equal, np.where(n_rc.astype(np.float64) > 0, np.pi / 4, -np.pi / 4), orient)
    return {
        "major_axis_px": 4 * np.sqrt(l1),
        "minor_axis_px": 4 * np.sqrt(l2),
        "orientation_rad": orient.astype(np.float64),
        "eccentricity": ecc.astype(np.float64),
    }


def _perimeter(flat, shape, sidx, ends, rrow, ukeys, base, work) -> np.ndarray:
    """skimage's ``perimeter(image, 4)`` for every (frame, label) group at once."""
    n, H, W = shape
    hw = H * W
    # border pixels: ends of runs (left/right neighbour differs or image edge), pixels whose
    # vertical neighbour differs, and pixels on the top and bottom image rows
    lab3 = flat.reshape(n, H, W)
    dv = work[: n * (H - 1) * W].reshape(n, H - 1, W)
    np.not_equal(lab3[:, 1:, :], lab3[:, :-1, :], out=dv)
    k = np.flatnonzero(dv)
    border = work[: flat.size]
    border.fill(False)
    border[sidx] = True
    border[ends] = True
    above = (k // ((H - 1) * W)) * hw + k % ((H - 1) * W)
    below = above + W
    border[above[flat[above] != 0]] = True
    border[below[flat[below] != 0]] = True
    edge = (rrow == 0) | (rrow == H - 1)
    if edge.any():
        s, e = sidx[edge], ends[edge]
        lens = e - s + 1
        pix = np.repeat(s - np.cumsum(np.r_[0, lens[:-1]]), lens) + np.arange(lens.sum())
        border[pix] = True
    b = np.flatnonzero(border)
    bl = flat[b]
    r = (b % hw) // W
    c = b % W
    code = np.ones(len(b), dtype=np.int64)
    for dr, dc, weight in _NEIGHBOURS:
        valid = np.ones(len(b), dtype=bool)
        if dr:
            valid &= (r > 0) if dr < 0 else (r < H - 1)
        if dc:
            valid &= (c > 0) if dc < 0 else (c < W - 1)
        q = np.where(valid, b + dr * W + dc, b)
        code += weight * (valid & (flat[q] == bl) & border[q])
    gb = np.searchsorted(ukeys, (b // hw) * base + bl)
    hist = np.bincount(gb * 50 + code, minlength=len(ukeys) * 50).reshape(len(ukeys), 50)
    # exact integer counts per weight, then one fixed sum per object: a matrix product's
    # rounding depends on how many objects it holds, so a chunk of frames would change the
    # last bit of a perimeter (and the bytes of the tables) with the chunking
    n = [hist[:, codes].sum(axis=1) for codes in _PERIMETER_CODES]
    w = _PERIMETER_WEIGHTS
    return n[0] * w[0] + n[1] * w[1] + n[2] * w[2]


def _convex_area(g, rrow, c0, c1, r0, r1, H) -> np.ndarray:
    """Pixel count of skimage's ``convex_hull_image`` for every group, exactly.

    The hull is that of the edge midpoints of every pixel; it is determined by the leftmost
    and rightmost pixel of each row. In doubled coordinates (Y = 2 row, X = 2 col) the
    midpoints are integers; the left boundary is the convex minorant of X over Y of the
    left points, the right boundary the concave majorant of the right points. A pixel
    centre (r, c) is counted when ceil(left(2r) / 2) <= c <= floor(right(2r) / 2).
    """
    # leftmost / rightmost pixel of each (group, row); runs are sorted by (g, row, col)
    first = np.r_[True, (g[1:] != g[:-1]) | (rrow[1:] != rrow[:-1])]
    fidx = np.flatnonzero(first)
    lidx = np.r_[fidx[1:], len(g)] - 1
    rg, rr, left, right = g[fidx], rrow[fidx], c0[fidx], c1[lidx]
    G = len(r0)
    span = 2 * H + 4
    lo = _hull_row_bound(rg, rr, 2 * left, -1, span)  # ceil(left boundary / 2) per row
    neg_hi = _hull_row_bound(rg, rr, -2 * right, -1, span)  # -floor(right boundary / 2)
    # integer rows of every group, r0 .. r1 - 1
    heights = r1 - r0
    gid = np.repeat(np.arange(G), heights)
    rows = np.arange(heights.sum()) - np.repeat(np.cumsum(heights) - heights, heights)
    rows += np.repeat(r0, heights)
    count = -neg_hi(gid, rows) - lo(gid, rows) + 1
    return np.bincount(gid, weights=np.maximum(count, 0), minlength=G)


def _hull_row_bound(rg, rr, x2, shift, span):
    """Convex minorant of the points (2r-1, x2), (2r, x2+shift), (2r+1, x2) per group.

    Returns a function (groups, rows) -> ceil(minorant(2 * row) / 2), exact.
    """
    m = len(rg)
    # three points per row, in increasing Y within each group
    G3 = np.repeat(rg, 3)
    Y = (2 * np.repeat(rr, 3) + np.tile(np.array([-1, 0, 1]), m)).astype(np.int64)
    X = np.repeat(x2, 3) + np.tile(np.array([0, shift, 0]), m)
    # merge duplicate Y (bottom of row r and top of row r + 1): keep the smaller X
    dup = np.r_[False, (G3[1:] == G3[:-1]) & (Y[1:] == Y[:-1])]
    di = np.flatnonzero(dup)
    X[di - 1] = np.minimum(X[di - 1], X[di])
    keep = ~dup
    G3, Y, X = G3[keep], Y[keep], X[keep]
    # parallel pruning: drop every point on or above the chord of its neighbours until
    # none is left; such points are never vertices of the minorant, so it is exact. Groups
    # in which nothing was dropped are final and set aside.
    done: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while len(Y) >= 3:
        inner = np.zeros(len(Y), dtype=bool)
        inner[1:-1] = (G3[1:-1] == G3[:-2]) & (G3[1:-1] == G3[2:])
        i = np.flatnonzero(inner)
        p, q = i - 1, i + 1
        drop = (X[i] - X[p]) * (Y[q] - Y[p]) >= (X[q] - X[p]) * (Y[i] - Y[p])
        if not drop.any():
            break
        keep = np.ones(len(Y), dtype=bool)
        keep[i[drop]] = False
        changed = np.zeros(int(G3[-1]) + 1, dtype=bool)
        changed[G3[i[drop]]] = True
        final = ~changed[G3] & keep
        if final.any():
            done.append((G3[final], Y[final], X[final]))
        keep &= changed[G3]
        G3, Y, X = G3[keep], Y[keep], X[keep]
    if done:
        done.append((G3, Y, X))
        G3, Y, X = (np.concatenate(a) for a in zip(*done))
        order = np.lexsort((Y, G3))
        G3, Y, X = G3[order], Y[order], X[order]
    vkey = G3 * span + (Y + 1)

    def bound(groups, rows):
        qy = 2 * rows
        j = np.searchsorted(vkey, groups * span + (qy + 1), side="right") - 1
        y1, y2, x1, x2_ = Y[j], Y[j + 1], X[j], X[j + 1]
        num = x1 * (y2 - y1) + (x2_ - x1) * (qy - y1)
        den = 2 * (y2 - y1)
        return -((-num) // den)

    return bound


# --------------------------------------------------------------------------- table
def region_table(
    labels: np.ndarray,
    *,
    frame_offset: int = 0,
    times: np.ndarray | None = None,
) -> pd.DataFrame:
    """The regions table of a label image or stack: one row per (frame, object).

    Parameters
    ----------
    labels : ndarray of int or bool, shape (n, H, W) or (H, W)
        Instance labels, 0 = background (a boolean mask is object 1).
    frame_offset : int
        Added to the frame index (the stack's first frame in the video).
    times : array of float, shape (n,), optional
        Frame times in seconds; adds a ``time_s`` column.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REGION_COLUMNS` (plus ``time_s`` after ``frame``), sorted by frame and
        object id; ``attrs["units"]`` maps columns to units. See ``docs/tables.md``.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((8, 8), np.uint8); lab[2:6, 1:4] = 1
    >>> df = region_table(lab)
    >>> df[["object_id", "area_px", "centroid_x_px", "centroid_y_px"]].to_dict("records")
    [{'object_id': 1, 'area_px': 12, 'centroid_x_px': 2.0, 'centroid_y_px': 3.5}]
    """
    stats = region_stats(labels)
    if times is not None:
        n = 1 if np.ndim(labels) == 2 else np.shape(labels)[0]
        if np.shape(times) != (n,):
            raise ValueError(f"times of shape {np.shape(times)} do not match {n} frames")
    return _frame_from_stats(stats, frame_offset=frame_offset, times=times)


def _frame_from_stats(stats, *, frame_offset=0, times=None) -> pd.DataFrame:
    frame = np.asarray(stats["frame"], dtype=np.int64)
    if frame_offset:
        frame = frame + int(frame_offset)
    columns = {c: stats[c] for c in REGION_COLUMNS} | {"frame": frame}
    # the table's columns are the stats' arrays, not a copy of them: one long video's table
    # is the largest thing measuring holds, and a second copy of it doubled the peak
    df = pd.DataFrame(columns, copy=False)
    units = dict(REGION_UNITS)
    if times is not None:
        times = np.asarray(times, dtype=np.float64)
        df.insert(1, "time_s", times[np.asarray(stats["frame"], dtype=np.int64)])
        units = {"frame": "index", "time_s": "s", **units}
    df.attrs["units"] = units
    return df


# --------------------------------------------------------------------------- store shell
def save_calibration(store, calibration) -> None:
    """Write ``calibration`` into ``store`` (a writable store object, or a path / read-only
    store object, which is opened for writing and closed again)."""
    from ecoseg.store import MaskStore

    if isinstance(store, MaskStore):
        if store.mode == "a":
            calibration.save(store)
            return
        store = store.location  # open read-only: write through a second handle
    writer = MaskStore.open(store, mode="a")
    try:
        calibration.save(writer)
    finally:
        writer.close()


#: Bytes of label frames read at a time when no ``chunk_frames`` is given: a store's chunk
#: (4 frames as ``ecoseg segment`` writes them) up to 1080p, 2 frames of 1440p, 1 of 4K (a
#: 4-frame 4K chunk is 127 MB; read a frame at a time, measuring holds about one frame).
READ_BYTES = 48 << 20


def read_step(store, chunk_frames: int | None = None) -> int:
    """Frames :func:`iter_stats` reads at a time: ``chunk_frames`` when given, else the
    largest divisor of the store's chunk whose frames fit in :data:`READ_BYTES` (at least 1),
    so every read lies inside one chunk.

    Examples
    --------
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-step", height=2160, width=3840, overwrite=True)
    >>> s.chunk_frames, read_step(s), read_step(s, 3)
    (4, 1, 3)
    """
    from ecoseg._checks import positive_int
    from ecoseg.errors import ConfigError

    if chunk_frames:
        # 2.5 was read 2 at a time, -1 was numpy's ValueError
        return positive_int(chunk_frames, "chunk_frames", where="measure", error=ConfigError)
    chunk = max(1, int(store.chunk_frames))
    frame = max(1, store.height * store.width * 4)  # uint32 labels
    fits = max(1, READ_BYTES // frame)
    return max(d for d in range(1, chunk + 1) if chunk % d == 0 and d <= fits)


def iter_stats(store, *, chunk_frames: int | None = None, roi=None, progress: bool = False):
    """Measure a store chunk by chunk: yields ``region_stats`` dicts with absolute frames.

    Only ``chunk_frames`` label frames (default: :func:`read_step`, the store's chunk or,
    for large frames, a part of it) are in memory at a time; one scratch buffer is reused
    for all reads, and the ROI's row counts are made once.
    """
    n = store.n_frames
    # 0 and None: the store's chunk, fewer frames where they are large
    step = read_step(store, chunk_frames)
    if roi is not None and not isinstance(roi, RoiRows):
        roi = RoiRows(roi)
    work = np.empty(step * store.height * store.width, dtype=bool)
    bar = _progress(n, "measure", progress)
    try:
        for start in range(0, n, step):
            labels = store.read_labels(start, min(start + step, n))
            stats = region_stats(labels, roi=roi, work=work)
            stats["frame"] = stats["frame"] + start
            bar.update(len(labels))
            # let go of these labels before the next are read
            del labels
            yield stats
    finally:
        bar.close()


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="frame", disable=not enabled, leave=False)


#: Rows of per-chunk stats joined into one block as they come (about 2 MB of columns).
_BLOCK_ROWS = 1 << 14


def concat_stats(chunks: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate per-chunk ``region_stats`` dicts, consuming an iterable of them as it goes.

    A chunk of a few frames holds a few dozen rows in some twenty small arrays, whose headers
    weigh more than their numbers: chunks are joined into blocks of ``_BLOCK_ROWS`` rows as
    they come, and each column's blocks into the result one column at a time, so measuring
    a long video (given :func:`iter_stats`, not a list) holds little more than the result.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((2, 4, 4), np.uint8); lab[:, 1:3, 1:3] = 1
    >>> s = concat_stats(region_stats(lab[i : i + 1]) for i in range(2))
    >>> s["area_px"].tolist(), s["frame"].dtype
    ([4, 4], dtype('int64'))
    """
    pending: dict[str, list[np.ndarray]] = {}
    blocks: dict[str, list[np.ndarray]] = {}
    rows = 0
    for chunk in chunks:
        for key, values in chunk.items():
            pending.setdefault(key, []).append(values)
        rows += len(chunk["frame"])
        if rows >= _BLOCK_ROWS:
            _join_pending(pending, blocks)
            rows = 0
    _join_pending(pending, blocks)
    if not blocks:
        return _empty_stats(False)
    # one column at a time, its blocks dropped as soon as it is joined
    return {key: _joined(blocks.pop(key)) for key in list(blocks)}


def _join_pending(pending: dict[str, list[np.ndarray]], blocks: dict[str, list]) -> None:
    for key in list(pending):
        blocks.setdefault(key, []).append(_joined(pending.pop(key)))


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def object_classes(store) -> dict[int, str]:
    """Object id -> class, from the store's object table."""
    return {oid: r.class_name for oid, r in store.object_records().items()}


def class_source_of(obj) -> str:
    """Where an object-table entry's class came from (one of
    :data:`ecoseg.provenance.CLASS_SOURCES`), also for entries written before
    ``class_source`` existed: a class given with the object (a prompt's, the synthetic truth's)
    is ``prompt``, a concept's ``concept``, discovery's colour rules' ``rule``.

    Examples
    --------
    >>> class_source_of({"id": 1, "class": "wrasse", "source": "prompt"})
    'prompt'
    >>> class_source_of({"id": 2, "class": "unknown", "source": "tracker"})
    'unknown'
    >>> class_source_of({"id": 3, "class": "sea_star", "source": "discovered"})
    'rule'
    >>> class_source_of({"id": 4, "class": "sea_star", "source": "truth"})
    'prompt'
    """
    if obj.get("reviewed"):
        return "reviewed"
    found = obj.get("class_source")
    if found and found != "unknown":
        return str(found)
    cls, src = str(obj.get("class") or "unknown"), str(obj.get("source") or "unknown")
    if cls == "unknown":
        return "unknown"
    if found == "unknown" and obj.get("class_probability") is not None:
        return "unknown"  # a classifier left it below its threshold
    return {"concept": "concept", "discovered": "rule"}.get(src, "prompt")


def class_probability_of(obj) -> float:
    """The class probability of an object-table entry (1 when a person named it, NaN when
    nothing says). An ``unknown`` a person looked at has none, whatever an older store
    recorded for it (1; ``ecoseg edit --set-class ID=unknown`` now records none).

    Examples
    --------
    >>> class_probability_of({"id": 1, "class": "wrasse", "reviewed": True})
    1.0
    >>> class_probability_of({"id": 2, "class": "unknown", "reviewed": True,
    ...                       "class_probability": 1.0})
    nan
    >>> class_probability_of({"id": 3, "class": "unknown", "class_source": "unknown",
    ...                       "class_probability": 0.4, "class_suggestion": "wrasse"})
    0.4
    """
    if obj.get("reviewed") and str(obj.get("class") or "unknown") == "unknown":
        return float("nan")  # looked at, no name: no probability of anything
    p = obj.get("class_probability")
    if p is not None:
        return float(p)
    return 1.0 if class_source_of(obj) in ("prompt", "reviewed") else float("nan")


def store_table(store, stats, times, scores, calibration) -> pd.DataFrame:
    """Build the store-level regions table from concatenated stats."""
    df = _frame_from_stats(stats, times=times)
    # object id -> column of the object table (and of ``scores``), vectorised
    table_ids = np.asarray(store.object_ids, dtype=np.int64)
    classes = [r.class_name for r in store.object_records().values()]
    table_cls = np.array([*classes, "unknown"], dtype=object)
    order = np.argsort(table_ids, kind="stable")
    ids = df["object_id"].to_numpy(np.int64)
    pos = np.searchsorted(table_ids[order], ids)
    pos = np.minimum(pos, max(len(order) - 1, 0))
    found = (table_ids[order][pos] == ids) if len(order) else np.zeros(len(ids), bool)
    cidx = np.where(found, order[pos] if len(order) else 0, -1)
    df.insert(3, "class", pd.array(table_cls[cidx].tolist(), dtype=str))
    objects = store.objects
    sources = np.array([class_source_of(o) for o in objects] + ["unknown"], dtype=object)
    probs = np.array([class_probability_of(o) for o in objects] + [np.nan], dtype=np.float64)
    df.insert(4, "class_source", pd.array(sources[cidx].tolist(), dtype=str))
    df.insert(5, "class_probability", probs[cidx])
    frames = df["frame"].to_numpy()
    score = np.full(len(df), np.nan, dtype=np.float64)
    ok = cidx >= 0
    if scores.size and ok.any():
        score[ok] = scores[frames[ok], cidx[ok]]
    df.insert(6, "score", score)
    units = {
        "frame": "index",
        "time_s": "s",
        "object_id": "id",
        "class": "",
        "class_source": "",
        "class_probability": "1",
        "score": "1",
    }
    units.update(REGION_UNITS)
    if calibration is not None:
        for name, (src, power, unit) in REGION_MM_COLUMNS.items():
            df[name] = df[src] * calibration.mm_per_px**power
            units[name] = unit
    df.attrs.update(table_attrs(store, calibration, units, "regions"))
    return df


def table_attrs(store, calibration, units: dict[str, str], table: str) -> dict:
    """The ``DataFrame.attrs`` every measurement table carries."""
    from ecoseg._version import __version__

    return {
        "table": table,
        "units": dict(units),
        "calibration": calibration.to_dict() if calibration is not None else None,
        "store": str(store.path),
        "store_complete": bool(store.complete),
        "ecoseg_version": __version__,
    }


def resolve_calibration(store, calibration):
    """The calibration to use: the given one (validated, its points inside the store's frame,
    as :func:`ecoseg.measure.measure` checks them) or the store's, or None."""
    from ecoseg.measure.calibration import Calibration, as_calibration

    if calibration is not None:
        cal = as_calibration(calibration)
        cal.check_frame(store.width, store.height, store.path)
        return cal
    return Calibration.load(store)


def regions(
    store,
    *,
    calibration=None,
    chunk_frames: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The regions table of a mask store, read chunk by chunk (memory: about the table's own).

    Parameters
    ----------
    store : MaskStore or str or Path
        The mask store.
    calibration : Calibration, float, str or dict, optional
        Overrides the store's calibration for this table (it is *not* saved; use
        :func:`ecoseg.measure.measure` for that). Without one the store's is used; mm
        columns are added when a calibration is known.
    chunk_frames : int, optional
        Frames read at a time (default: :func:`read_step`, the store's chunk, fewer frames
        where they are large).
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (frame, object): frame, time_s, object_id, class, score, the pixel
        statistics of :func:`region_table` and, when calibrated, ``area_mm2``,
        ``centroid_x_mm``, ... (see ``docs/tables.md``). ``attrs``: units, calibration,
        store, ecoseg_version.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> df = regions(clip.truth)
    >>> df.attrs["units"]["area_mm2"]
    'mm^2'
    """
    from ecoseg.store import opened_store

    with opened_store(store) as s:  # one opened from a path is closed again
        cal = resolve_calibration(s, calibration)
        stats = concat_stats(iter_stats(s, chunk_frames=chunk_frames, progress=progress))
        return store_table(s, stats, s.read_time(), s.read_scores(), cal)
