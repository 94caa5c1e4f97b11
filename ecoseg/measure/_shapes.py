"""Shape statistics of every (frame, object) in a stack of label images, from its runs
(the pixel columns of the ``regions`` table; :mod:`ecoseg.measure.regions` makes the table
and measures a store with them).

:func:`region_stats` measures a whole stack of label frames at once without a
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

import numpy as np

__all__ = ["REGION_COLUMNS", "REGION_UNITS", "RoiRows", "empty_stats", "region_stats"]

#: Columns of :func:`region_stats` (and of the pure ``regions.region_table``, before the store's
#: columns are added), with units.
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

# Benkrid & Crookes perimeter weights of the neighbourhood codes 1 (centre) + 2 per
# 4-neighbour + 10 per diagonal neighbour that is a border pixel (other codes weigh 0).
_PERIMETER_CODES = ([5, 7, 15, 17, 25, 27], [21, 33], [13, 23])
_PERIMETER_WEIGHTS = (1.0, math.sqrt(2.0), (1.0 + math.sqrt(2.0)) / 2.0)
_NEIGHBOURS = ((-1, 0, 2), (1, 0, 2), (0, -1, 2), (0, 1, 2))
_NEIGHBOURS += ((-1, -1, 10), (-1, 1, 10), (1, -1, 10), (1, 1, 10))


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
        return empty_stats(roi is not None)
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
    """A region of interest (bool, (H, W)) as its runs of pixels along each row, so the ROI
    pixels of a run of columns ``c0..c1`` of a row are a difference of two running counts.

    Made once per store, not once per chunk of frames. A polygon's mask is a run or two a row
    (50 KB at 4K, where a running count of every pixel, ``uint16``, was 16 MB); a mask of more
    runs than that count would weigh keeps the count (``cum``, the smallest unsigned integer
    that holds the width). Exact either way. ``area``: the ROI's pixels.

    Examples
    --------
    >>> roi = np.zeros((2, 5), bool); roi[1, 1:4] = True
    >>> r = RoiRows(roi)
    >>> r.shape, r.area, r.count(np.array([1, 1]), np.array([0, 2]), np.array([1, 4])).tolist()
    ((2, 5), 3, [1, 2])
    """

    def __init__(self, roi: np.ndarray) -> None:
        roi = np.asarray(roi, dtype=bool)
        if roi.ndim != 2:
            raise ValueError(f"roi must be (H, W), got shape {roi.shape}")
        H, W = roi.shape
        self.shape = (H, W)
        self.area = int(np.count_nonzero(roi))
        dtype = np.uint16 if W < np.iinfo(np.uint16).max else np.uint32
        # where each row's runs start and end (exclusive), in positions row * (W + 1) + column:
        # the column between rows keeps a run from running on into the next row
        edges = np.flatnonzero(np.diff(roi, axis=1, prepend=False, append=False))
        self.cum = None
        if 3 * 8 * len(edges) // 2 > np.dtype(dtype).itemsize * H * (W + 1):
            self.cum = np.zeros((H, W + 1), dtype=dtype)
            np.cumsum(roi, axis=1, dtype=dtype, out=self.cum[:, 1:])
            return
        # a run of no pixels at -1 first, so every position >= 0 has a run starting before it
        self._starts = np.r_[-1, edges[0::2]].astype(np.int64)
        self._ends = np.r_[-1, edges[1::2]].astype(np.int64)
        self._before = np.r_[0, 0, np.cumsum(self._ends[1:-1] - self._starts[1:-1])]

    def count(self, rows: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
        """ROI pixels (int64) of the runs ``c0..c1`` (inclusive) of ``rows``."""
        if self.cum is not None:
            return self.cum[rows, c1 + 1].astype(np.int64) - self.cum[rows, c0]
        at = np.asarray(rows, dtype=np.int64) * (self.shape[1] + 1)
        return self._upto(at + c1 + 1) - self._upto(at + c0)

    def _upto(self, q: np.ndarray) -> np.ndarray:
        """ROI pixels at positions before ``q`` (all rows before it included)."""
        k = np.searchsorted(self._starts, q) - 1  # the last run starting before q
        return self._before[k] + np.minimum(q, self._ends[k]) - self._starts[k]


def _sum_sq(x: np.ndarray) -> np.ndarray:
    """0^2 + 1^2 + ... + x^2 (0 for x < 0), exact in int64."""
    x = np.maximum(x, 0)
    return x * (x + 1) * (2 * x + 1) // 6


def empty_stats(with_roi: bool) -> dict[str, np.ndarray]:
    """What :func:`region_stats` returns for labels without an object: every column empty
    (``roi_area_px`` too with ``with_roi``).

    Examples
    --------
    >>> s = empty_stats(True)
    >>> len(s["area_px"]), s["area_px"].dtype, "roi_area_px" in s
    (0, dtype('int64'), True)
    """
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
