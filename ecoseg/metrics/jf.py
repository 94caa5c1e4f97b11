"""J&F, the DAVIS benchmark's pieces: region similarity J (mask IoU) and boundary accuracy F
(boundary F-measure within a tolerance of ``bound_th`` of the image diagonal)."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = ["BOUND_TH", "bound_pixels", "boundary_f", "jaccard", "seg2bmap"]

BOUND_TH = 0.008


def seg2bmap(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide boundary map of a binary mask, as the DAVIS benchmark defines it.

    A pixel is on the boundary when it differs from its right, lower or lower-right
    neighbour (the last row compares only to the right, the last column only downwards, and
    the bottom-right pixel is never a boundary).

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((4, 4), bool); m[1:3, 1:3] = True
    >>> seg2bmap(m).astype(int)
    array([[1, 1, 1, 0],
           [1, 0, 1, 0],
           [1, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    seg = np.asarray(mask, dtype=bool)
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ e) | (seg ^ s) | (seg ^ se)
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = False
    return b


def bound_pixels(shape: tuple[int, int], bound_th: float = BOUND_TH) -> int:
    """DAVIS boundary tolerance in pixels: ``ceil(bound_th * diagonal)`` (or ``bound_th``
    itself when it is >= 1)."""
    if bound_th >= 1:
        return int(bound_th)
    return int(math.ceil(bound_th * math.hypot(*shape)))


def jaccard(pred: np.ndarray, truth: np.ndarray) -> float:
    """Region similarity J: IoU of two masks (1 when both are empty).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((4, 4), bool); a[:2] = True
    >>> b = np.zeros((4, 4), bool); b[:3] = True
    >>> jaccard(a, b)
    0.6666666666666666
    """
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    union = np.count_nonzero(pred | truth)
    return 1.0 if union == 0 else float(np.count_nonzero(pred & truth) / union)


def boundary_f(pred: np.ndarray, truth: np.ndarray, bound_pix: int | None = None) -> float:
    """Boundary accuracy F (DAVIS): F-measure of boundary pixels matched within a disk.

    A boundary pixel of one mask is matched when a boundary pixel of the other lies within
    ``bound_pix`` (Euclidean; the same set as a dilation by ``skimage.morphology.disk``).

    Parameters
    ----------
    pred, truth : ndarray of bool, shape (H, W)
    bound_pix : int, optional
        Tolerance in pixels (default: :func:`bound_pixels` of the mask shape).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((20, 20), bool); a[5:15, 5:15] = True
    >>> boundary_f(a, a)
    1.0
    >>> boundary_f(a, np.zeros_like(a))
    0.0
    """
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    if bound_pix is None:
        bound_pix = bound_pixels(pred.shape)
    pb, tb = seg2bmap(pred), seg2bmap(truth)
    n_p, n_t = int(pb.sum()), int(tb.sum())
    if n_p == 0 and n_t == 0:
        return 1.0
    if n_p == 0 or n_t == 0:
        return 0.0  # precision or recall is 0
    # distance of every pixel to the nearest boundary pixel of the other mask
    near_t = ndimage.distance_transform_edt(~tb) <= bound_pix
    near_p = ndimage.distance_transform_edt(~pb) <= bound_pix
    precision = np.count_nonzero(pb & near_t) / n_p
    recall = np.count_nonzero(tb & near_p) / n_t
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))
