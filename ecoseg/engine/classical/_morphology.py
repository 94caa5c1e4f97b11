"""Array helpers of the classical tracker: fast 3x3 binary morphology (numpy slicing; several
times faster than scipy.ndimage here), hole filling, and resampling between work and video
resolution.

Public names in a private module: shared by :mod:`.tracker` and :mod:`.splitting`.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = [
    "CROSS",
    "block_up",
    "dilate3",
    "erode3",
    "fill_holes",
    "fit",
    "label",
    "median",
    "upsample_box",
]

#: 4-connectivity, as :func:`scipy.ndimage.label` uses by default (built once, not per call)
CROSS = ndimage.generate_binary_structure(2, 1)


def label(m: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`scipy.ndimage.label` with 4-connectivity: ``(labels, n)``."""
    return ndimage.label(m, CROSS)


def median(values: np.ndarray) -> float:
    """Median of a non-empty 1-d float array: :func:`numpy.median`'s value, by partitioning.

    The same middle element(s) and the same mean of two in the array's dtype, without
    ``numpy.median``'s general-axis overhead (tens of microseconds a call).

    Examples
    --------
    >>> v = np.array([3.0, 1.0, 4.0, 1.5], np.float32)
    >>> median(v) == float(np.median(v)), median(v[:3]) == float(np.median(v[:3]))
    (True, True)
    """
    n = values.size
    k = n // 2
    if n % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return float((part[k - 1] + part[k]) / 2)


def dilate3(m: np.ndarray) -> np.ndarray:
    """Dilation by a 3x3 square (outside the image counts as background)."""
    r = m.copy()
    r[1:] |= m[:-1]
    r[:-1] |= m[1:]
    out = r.copy()
    out[:, 1:] |= r[:, :-1]
    out[:, :-1] |= r[:, 1:]
    return out


def erode3(m: np.ndarray) -> np.ndarray:
    """Erosion by a 3x3 square (outside the image counts as background)."""
    r = m.copy()
    r[1:] &= m[:-1]
    r[:-1] &= m[1:]
    r[0] = False
    r[-1] = False
    out = r.copy()
    out[:, 1:] &= r[:, :-1]
    out[:, :-1] &= r[:, 1:]
    out[:, 0] = False
    out[:, -1] = False
    return out


def fill_holes(m: np.ndarray) -> np.ndarray:
    """Fill background regions that do not reach the image border.

    Only the bounding box of ``m`` is labelled, inside a ring of background: every pixel outside
    the box reaches the border by a straight line, so this finds the same holes as labelling
    the whole image, on fewer pixels.

    Examples
    --------
    >>> ring = np.zeros((7, 7), bool); ring[1:6, 1:6] = True; ring[3, 3] = False
    >>> int(ring.sum()), int(fill_holes(ring).sum())
    (24, 25)
    >>> int(fill_holes(ring[:, :4]).sum())  # cut at the hole: it reaches the border now
    14
    """
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return m
    cols = np.flatnonzero(m.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box = m[r0:r1, c0:c1]
    background = np.ones((r1 - r0 + 2, c1 - c0 + 2), bool)
    np.logical_not(box, out=background[1:-1, 1:-1])
    lab, n = label(background)
    if n <= 1:  # only the ring and what touches it
        return m
    holes = lab[1:-1, 1:-1] != lab[0, 0]
    holes &= background[1:-1, 1:-1]
    out = m.copy()
    out[r0:r1, c0:c1] |= holes
    return out


def upsample_box(work: np.ndarray, s: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """Bilinear upsampling of ``work`` (work pixels of ``s`` video pixels) onto a video box."""
    if s == 1:
        return work[y0:y1, x0:x1]
    h, w = work.shape
    uy = np.clip((np.arange(y0, y1) + 0.5) / s - 0.5, 0, h - 1)
    ux = np.clip((np.arange(x0, x1) + 0.5) / s - 0.5, 0, w - 1)
    iy0 = np.floor(uy).astype(np.intp)
    ix0 = np.floor(ux).astype(np.intp)
    fy = (uy - iy0).astype(np.float32)[:, None]
    fx = (ux - ix0).astype(np.float32)[None, :]
    iy1 = np.minimum(iy0 + 1, h - 1)
    ix1 = np.minimum(ix0 + 1, w - 1)
    # only the work columns the box reads: the same products, on a strip, not whole rows
    c0, c1 = int(ix0[0]), int(ix1[-1]) + 1
    strip = work[:, c0:c1]
    rows = strip[iy0] * (1 - fy) + strip[iy1] * fy
    return rows[:, ix0 - c0] * (1 - fx) + rows[:, ix1 - c0] * fx


def block_up(mask: np.ndarray, s: int) -> np.ndarray:
    """Each work pixel as an ``s`` x ``s`` block."""
    if s == 1:
        return mask
    return np.repeat(np.repeat(mask, s, 0), s, 1)


def fit(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    """Crop or edge-extend ``arr`` to (h, w) (the frame's last partial work row/column)."""
    if arr.shape[0] < h:
        arr = np.concatenate([arr, np.repeat(arr[-1:], h - arr.shape[0], 0)], 0)
    if arr.shape[1] < w:
        arr = np.concatenate([arr, np.repeat(arr[:, -1:], w - arr.shape[1], 1)], 1)
    return arr[:h, :w]
