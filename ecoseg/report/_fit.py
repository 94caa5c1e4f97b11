"""Stills reduced to the pixels of their panel: a report's figure costs memory by the page,
not by the video (:func:`fit_still`; used by :mod:`ecoseg.report.figures` and
:mod:`ecoseg.report.stills`)."""

from __future__ import annotations

import numpy as np

__all__ = ["blank_still", "fit_labels", "fit_still"]


def fit_still(image: np.ndarray, width_px: int) -> tuple[np.ndarray, int]:
    """``image`` (``(H, W)`` or ``(H, W, C)`` uint8) reduced by the largest whole factor ``k``
    that keeps it at least ``width_px`` wide, and ``k``: each pixel the mean of a ``k x k``
    block (rounded; the blocks at the right and bottom edges hold the pixels there are). An
    image less than twice as wide is returned as it is, with ``k = 1``.

    A still drawn in a panel costs memory by the panel's pixels, not the video's: matplotlib
    resamples an image in float64 RGBA, and a 4K frame brightened or overlaid in float32 is
    hundreds of MB. The reduced still is drawn over the video's pixel coordinates
    (``figures._stills.still_axes``), so tracks, tags and scale bars stay in video pixels.

    Examples
    --------
    >>> frame = np.zeros((2160, 3840, 3), np.uint8)
    >>> small, k = fit_still(frame, 500)
    >>> small.shape, k
    ((309, 549, 3), 7)
    >>> fit_still(frame[:360, :640], 500)[1]
    1
    """
    k = max(1, int(image.shape[1]) // max(1, int(width_px)))
    if k == 1:
        return image, 1
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(image)).reduce(k)), k


def blank_still(height: int, width: int, width_px: int, value: int = 235):
    """What :func:`fit_still` gives for a ``(height, width, 3)`` image of one grey ``value``
    (the background of a frame whose video is not found), made at its reduced size rather
    than reduced from a full-size one: a 4K frame is 25 MB.

    Examples
    --------
    >>> small, k = blank_still(2160, 3840, 500)
    >>> small.shape, k, int(small.max())
    ((309, 549, 3), 7, 235)
    """
    k = max(1, int(width) // max(1, int(width_px)))
    return np.full((-(-int(height) // k), -(-int(width) // k), 3), value, np.uint8), k


def fit_labels(labels: np.ndarray, k: int) -> np.ndarray:
    """``labels`` picked at the centre of each ``k x k`` block :func:`fit_still` averages
    (the same shape as its result; ids are not averaged).

    Examples
    --------
    >>> fit_labels(np.arange(12).reshape(3, 4), 2)
    array([[ 5,  7],
           [ 9, 11]])
    """
    if k == 1:
        return labels
    h, w = labels.shape[:2]
    rows = np.minimum(np.arange(-(-h // k)) * k + k // 2, h - 1)
    cols = np.minimum(np.arange(-(-w // k)) * k + k // 2, w - 1)
    return labels[np.ix_(rows, cols)]
