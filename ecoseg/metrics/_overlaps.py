"""Overlaps of two label stacks, sparse: pixel counts of every (frame, truth id, predicted id)
combination (:func:`pair_counts`) and the (frame, object) areas of one store (:class:`Presence`)
that :func:`ecoseg.metrics.evaluate` and its tracking and counting scores read."""

from __future__ import annotations

import numpy as np

__all__ = ["Presence", "pair_counts"]


def _compact(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique values, index of each value) for non-negative ints, fast for small ids."""
    if values.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    top = int(values.max())
    if top < (1 << 22):
        present = np.bincount(values, minlength=top + 1) > 0
        uniq = np.flatnonzero(present)
        lut = np.zeros(top + 1, np.int64)
        lut[uniq] = np.arange(len(uniq))
        return uniq.astype(np.int64), lut[values]
    uniq, inv = np.unique(values, return_inverse=True)
    return uniq.astype(np.int64), inv.astype(np.int64)


def pair_counts(truth: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    """Pixel counts of every (frame, truth id, predicted id) combination.

    Parameters
    ----------
    truth, pred : ndarray of int, shape (n, H, W)

    Returns
    -------
    dict
        ``frame``, ``truth``, ``pred``, ``count`` arrays (ids 0 = background; the
        background-background combination is omitted).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[[1, 1, 0, 0]]]); p = np.array([[[0, 5, 5, 0]]])
    >>> {k: v.tolist() for k, v in pair_counts(t, p).items()}
    {'frame': [0, 0, 0], 'truth': [0, 1, 1], 'pred': [5, 0, 5], 'count': [1, 1, 1]}
    """
    truth = np.asarray(truth)
    pred = np.asarray(pred)
    n = truth.shape[0]
    t = truth.reshape(n, -1)
    p = pred.reshape(n, -1)
    f, idx = np.divmod(np.flatnonzero((t != 0) | (p != 0)), t.shape[1])  # a 2-d nonzero is slow
    tv = t[f, idx].astype(np.int64)
    pv = p[f, idx].astype(np.int64)
    tu, ti = _compact(tv)
    pu, pi = _compact(pv)
    nt, np_ = max(len(tu), 1), max(len(pu), 1)
    key = (f.astype(np.int64) * nt + ti) * np_ + pi
    if n * nt * np_ <= 1 << 24:
        cnt = np.bincount(key, minlength=n * nt * np_)
        ukey = np.flatnonzero(cnt)
        cnt = cnt[ukey]
    else:
        ukey, cnt = np.unique(key, return_counts=True)
    fr, rest = np.divmod(ukey, nt * np_)
    tk, pk = np.divmod(rest, np_)
    return {
        "frame": fr.astype(np.int64),
        "truth": tu[tk] if len(tu) else np.zeros(len(ukey), np.int64),
        "pred": pu[pk] if len(pu) else np.zeros(len(ukey), np.int64),
        "count": cnt.astype(np.int64),
    }


class Presence:
    """Sparse (frame, object) areas of one store: sorted keys ``frame * K + index``."""

    def __init__(self, frame, ids, count, table_ids):
        fg = ids > 0
        self.ids = np.union1d(np.asarray(table_ids, np.int64), np.unique(ids[fg]))
        self.ids = self.ids.astype(np.int64)
        self.K = max(len(self.ids), 1)
        key = frame[fg] * self.K + np.searchsorted(self.ids, ids[fg])
        self.keys, inv = np.unique(key, return_inverse=True)
        self.area = np.bincount(inv, weights=count[fg], minlength=len(self.keys))
        self.area = np.rint(self.area).astype(np.int64)
        self.frame, self.index = np.divmod(self.keys, self.K)
        by_obj = np.argsort(self.index, kind="stable")
        self._obj_frames = self.frame[by_obj]
        self._obj_bounds = np.searchsorted(self.index[by_obj], np.arange(len(self.ids) + 1))

    def area_of(self, frame, index) -> np.ndarray:
        """Areas at (frame, object index) pairs (0 where absent)."""
        key = np.asarray(frame, np.int64) * self.K + np.asarray(index, np.int64)
        pos = np.minimum(np.searchsorted(self.keys, key), max(len(self.keys) - 1, 0))
        if len(self.keys) == 0:
            return np.zeros(len(key), np.int64)
        return np.where(self.keys[pos] == key, self.area[pos], 0)

    def frames_of(self, index: int) -> np.ndarray:
        """Sorted frames where object ``index`` is present."""
        return self._obj_frames[self._obj_bounds[index] : self._obj_bounds[index + 1]]

    def present_objects(self) -> np.ndarray:
        """Indices of objects present in at least one frame."""
        return np.unique(self.index)

    def frame_bounds(self, n: int) -> np.ndarray:
        """Row ranges of each frame: rows ``b[t]:b[t+1]`` belong to frame ``t``."""
        return np.searchsorted(self.frame, np.arange(n + 1))
