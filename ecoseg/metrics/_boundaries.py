"""DAVIS boundary F of many (truth object, predicted object, frame) pairs of two label stacks at
once (:func:`pairs_boundary_f`): the same numbers as :func:`ecoseg.metrics.jf.boundary_f` of
each pair's two masks, without a Python loop over pairs.

Every object's boundary pixels (:func:`boundary_points`) come from one pass over a stack: under
the DAVIS rule a pixel is on object ``i``'s boundary when ``i`` is one of the labels of the
pixel and of its right, lower and lower-right neighbours and not all four are ``i`` (the last
row and column repeat themselves as their missing neighbours). A boundary pixel of one mask
is matched when one of the other mask lies within ``bound_pix``: with integer offsets that is
``dy**2 + dx**2 <= bound_pix**2``, which :func:`_near` decides on a small window per pair
around both boundaries (a row-wise distance, then a minimum over ``2 * bound_pix + 1``
rows), for many pairs as one array.
"""

from __future__ import annotations

import numpy as np

__all__ = ["boundary_points", "pairs_boundary_f"]

_BATCH_PIXELS = 1 << 18  # window pixels of the pairs handled as one array


def boundary_points(labels: np.ndarray) -> tuple[np.ndarray, ...]:
    """Boundary pixels of every object of a stack of label frames, DAVIS's definition.

    Parameters
    ----------
    labels : ndarray of int, shape (n, H, W)
        0 is background.

    Returns
    -------
    frame, object_id, y, x : ndarray of int64
        One row per (object, boundary pixel), sorted by frame, then object id; the pixels
        of one object are those of :func:`ecoseg.metrics.jf.seg2bmap` of its mask.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((1, 4, 4), np.uint32); lab[0, 1:3, 1:3] = 7
    >>> f, i, y, x = boundary_points(lab)
    >>> sorted(zip(y.tolist(), x.tolist())) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 2),
    ...                                         (2, 0), (2, 1), (2, 2)]
    True
    >>> set(i.tolist())
    {7}
    """
    lab = np.asarray(labels)
    n, h, w = lab.shape
    edge = np.zeros(lab.shape, bool)  # the four labels of a pixel are not all the same
    np.not_equal(lab[:, :-1, :], lab[:, 1:, :], out=edge[:, :-1, :])
    edge[:, :, :-1] |= lab[:, :, :-1] != lab[:, :, 1:]
    edge[:, :-1, :-1] |= lab[:, :-1, :-1] != lab[:, 1:, 1:]
    at = np.flatnonzero(edge)  # (flat indices: much faster than a 3-d nonzero)
    f, yx = np.divmod(at, h * w)
    y, x = np.divmod(yx, w)
    right = np.where(x < w - 1, 1, 0)  # the last column and row are their own neighbours
    down = np.where(y < h - 1, w, 0)
    flat = lab.reshape(-1)
    v = np.stack([flat[at], flat[at + right], flat[at + down], flat[at + down + right]])
    v = v.astype(np.int64)
    keep = v != 0  # each distinct object among the four, once
    keep[1] &= v[1] != v[0]
    keep[2] &= (v[2] != v[0]) & (v[2] != v[1])
    keep[3] &= (v[3] != v[0]) & (v[3] != v[1]) & (v[3] != v[2])
    col, row = np.nonzero(keep)
    f, ids, y, x = f[row], v[col, row], y[row], x[row]
    order = np.lexsort((ids, f))
    return f[order], ids[order], y[order], x[order]


def pairs_boundary_f(truth, pred, frame, truth_id, pred_id, bound_pix: int) -> np.ndarray:
    """Boundary F of ``pred[frame] == pred_id`` against ``truth[frame] == truth_id``, per pair.

    Parameters
    ----------
    truth, pred : ndarray of int, shape (n, H, W)
        Label stacks of the same frames.
    frame, truth_id, pred_id : array of int, shape (m,)
        The pairs: a frame of the stacks (0 .. n - 1) and an object id (> 0) of each.
    bound_pix : int
        Tolerance in pixels.

    Returns
    -------
    ndarray of float64, shape (m,)
        Exactly ``boundary_f(pred[k] == p, truth[k] == t, bound_pix)`` of each pair.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.zeros((1, 20, 20), np.uint32); t[0, 5:15, 5:15] = 1
    >>> p = np.zeros_like(t); p[0, 5:15, 7:17] = 3
    >>> pairs_boundary_f(t, p, [0, 0], [1, 1], [3, 4], 1).tolist()  # no object 4: F = 0
    [0.55, 0.0]
    >>> from ecoseg.metrics.jf import boundary_f
    >>> boundary_f(p[0] == 3, t[0] == 1, 1)
    0.55
    """
    frame = np.asarray(frame, np.int64)
    truth_id = np.asarray(truth_id, np.int64)
    pred_id = np.asarray(pred_id, np.int64)
    out = np.zeros(len(frame))
    if len(frame) == 0:
        return out
    used = np.unique(frame)  # boundaries of the frames that have a pair only
    t_pts = _points_of(truth, used, frame, truth_id)
    p_pts = _points_of(pred, used, frame, pred_id)
    n_t, n_p = t_pts[1] - t_pts[0], p_pts[1] - p_pts[0]
    out[(n_t == 0) & (n_p == 0)] = 1.0  # neither has a boundary; one without: F = 0
    both = np.flatnonzero((n_t > 0) & (n_p > 0))
    if both.size == 0:
        return out
    hit_p, hit_t = _matched(t_pts, p_pts, both, int(bound_pix))
    precision = hit_p / n_p[both]
    recall = hit_t / n_t[both]
    total = precision + recall
    safe = np.where(total == 0, 1.0, total)
    out[both] = np.where(total == 0, 0.0, 2 * precision * recall / safe)
    return out


def _points_of(labels, used, frame, ids):
    """(first, end, y, x): the rows ``first[i]:end[i]`` of (y, x) are the boundary of pair
    ``i``'s object."""
    lab = np.asarray(labels)
    stack = lab if len(used) == len(lab) else lab[used]
    f, oid, y, x = boundary_points(stack)
    f = used[f]  # sorted still: used is increasing
    key = f * (1 << 32) + oid  # ids are uint32
    want = frame * (1 << 32) + ids
    return np.searchsorted(key, want, "left"), np.searchsorted(key, want, "right"), y, x


def _matched(t_pts, p_pts, pairs, r):
    """Per pair (indices ``pairs``, each with boundary pixels on both sides): predicted
    boundary pixels within ``r`` of the truth's, and truth boundary pixels within ``r`` of
    the prediction's."""
    t_first, p_first = t_pts[0][pairs], p_pts[0][pairs]
    t_owner, t_rows = _rows(t_first, t_pts[1][pairs])  # owner: sorted, every pair present
    p_owner, p_rows = _rows(p_first, p_pts[1][pairs])
    ty, tx, py, px = t_pts[2][t_rows], t_pts[3][t_rows], p_pts[2][p_rows], p_pts[3][p_rows]
    # the window of a pair: where each side's box, grown by r, meets the other's (a pixel
    # outside is farther than r from every boundary pixel of the other side), within the box
    # of both
    t_box, p_box = _boxes(t_owner, ty, tx), _boxes(p_owner, py, px)
    lo = [np.maximum(np.maximum(a, b) - r, np.minimum(a, b)) for a, b in zip(t_box[:2], p_box[:2])]
    hi = [np.minimum(np.minimum(a, b) + r, np.maximum(a, b)) for a, b in zip(t_box[2:], p_box[2:])]
    y0, x0 = lo
    hh, ww = hi[0] - y0 + 1, hi[1] - x0 + 1
    meet = (hh > 0) & (ww > 0)
    batch = np.full(len(pairs), -1)  # the pairs whose windows meet, in batches
    batch[meet] = _batches(hh[meet], ww[meet])
    t_in = _inside(t_owner, ty, tx, y0, x0, hh, ww)
    p_in = _inside(p_owner, py, px, y0, x0, hh, ww)
    hit_p, hit_t = np.zeros(len(pairs), np.int64), np.zeros(len(pairs), np.int64)
    for b in range(int(batch.max()) + 1):
        mine = np.flatnonzero(batch == b)
        slot = np.cumsum(batch == b) - 1  # pair -> its place in the batch
        shape = (len(mine), int(hh[mine].max()), int(ww[mine].max()))
        tr = np.flatnonzero(t_in & (batch[t_owner] == b))
        pr = np.flatnonzero(p_in & (batch[p_owner] == b))
        t_at = (slot[t_owner[tr]], ty[tr] - y0[t_owner[tr]], tx[tr] - x0[t_owner[tr]])
        p_at = (slot[p_owner[pr]], py[pr] - y0[p_owner[pr]], px[pr] - x0[p_owner[pr]])
        t_map, p_map = np.zeros(shape, bool), np.zeros(shape, bool)
        t_map[t_at] = True
        p_map[p_at] = True
        hit_p[mine] = np.bincount(p_at[0], _near(t_map, r)[p_at], len(mine)).astype(np.int64)
        hit_t[mine] = np.bincount(t_at[0], _near(p_map, r)[t_at], len(mine)).astype(np.int64)
    return hit_p, hit_t


def _boxes(owner, y, x):
    """(y0, x0, y1, x1), inclusive, of each owner's pixels (rows grouped by owner, every
    owner present)."""
    cut = np.searchsorted(owner, np.arange(owner[-1] + 1))
    return (
        np.minimum.reduceat(y, cut),
        np.minimum.reduceat(x, cut),
        np.maximum.reduceat(y, cut),
        np.maximum.reduceat(x, cut),
    )


def _inside(owner, y, x, y0, x0, hh, ww):
    """Whether each pixel lies in its owner's window."""
    dy, dx = y - y0[owner], x - x0[owner]
    return (dy >= 0) & (dy < hh[owner]) & (dx >= 0) & (dx < ww[owner])


def _batches(hh, ww) -> np.ndarray:
    """Batch of each window (heights ``hh``, widths ``ww``): windows of similar size
    together, at most :data:`_BATCH_PIXELS` pixels per batch once padded to its largest
    (or one window alone)."""
    order = np.argsort(hh * ww, kind="stable")
    batch = np.zeros(len(hh), np.int64)
    start, b = 0, 0
    while start < len(order):
        rest = order[start:]
        padded = np.maximum.accumulate(hh[rest]) * np.maximum.accumulate(ww[rest])
        size = padded * np.arange(1, len(rest) + 1)
        stop = start + max(1, int(np.searchsorted(size, _BATCH_PIXELS, "right")))
        batch[order[start:stop]] = b
        start, b = stop, b + 1
    return batch


def _rows(first, end):
    """(owner, row) of the concatenated ranges ``first[i]:end[i]``."""
    counts = end - first
    owner = np.repeat(np.arange(len(first)), counts)
    offsets = np.cumsum(counts) - counts
    return owner, np.arange(counts.sum()) - np.repeat(offsets, counts) + np.repeat(first, counts)


def _near(marks: np.ndarray, r: int) -> np.ndarray:
    """Pixels within Euclidean distance ``r`` of a marked pixel of the same slice (axis 0):
    ``min over dy of (dy**2 + dx(y + dy)**2) <= r**2`` with ``dx`` the distance to the
    nearest mark along the row, exact in integers."""
    g, h, w = marks.shape
    r = min(r, h + w)  # beyond the window's diagonal every pixel is near (and int32 holds r**2)
    cols = np.ascontiguousarray(marks.transpose(2, 0, 1))  # (x, slice, y): the scans along
    # x run on whole planes
    x = np.arange(w, dtype=np.int32)[:, None, None]
    far = w + r + 2
    left = np.maximum.accumulate(np.where(cols, x, np.int32(-far)), axis=0)
    right = np.minimum.accumulate(np.where(cols, x, np.int32(w - 1 + far))[::-1], axis=0)[::-1]
    dx = np.minimum(np.minimum(x - left, right - x), r + 1)
    d2 = dx * dx
    best = d2.copy()
    for dy in range(1, min(r, h - 1) + 1):
        np.minimum(best[:, :, dy:], d2[:, :, :-dy] + dy * dy, out=best[:, :, dy:])
        np.minimum(best[:, :, :-dy], d2[:, :, dy:] + dy * dy, out=best[:, :, :-dy])
    return (best <= r * r).transpose(1, 2, 0)
