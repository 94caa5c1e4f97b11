"""Splitting a blob along its connected outline, so one animal is not cut into fragments.

A blob's mask at video resolution is cut at half the blob's own contrast
(:mod:`ecoseg.engine.classical`, step 5). For an animal whose body is close to the background's
colour (a green parrotfish over algae) only its contrasting stripes, fins and tail pass that
cut: the mask falls into pieces although the animal is one connected blob. A watershed run on
such a mask (:func:`~ecoseg.engine.classical.splitting.split_touching`) cannot merge pieces that
do not touch, so each piece became a part, then a track of its own that the tracker kept
apart frame after frame (several tracks of one animal at once: MaxN too high).

:func:`split_blob` decides the parts on the blob (the hysteresis region, one connected piece
per animal group, at work resolution) and gives every pixel of the mask to the part it lies in
(or is nearest to): an animal's pieces stay one part, touching animals are still split at the
neck between them.
"""

from __future__ import annotations

import numpy as np

from ecoseg.engine.classical.splitting import split_touching, spread_parts

__all__ = ["split_blob"]


def split_blob(
    mask: np.ndarray,
    blob: np.ndarray,
    factor: int,
    saddle: float = 0.6,
    min_fraction: float = 0.2,
) -> list[np.ndarray]:
    """Split a blob's video-resolution ``mask`` into animals by the shape of the ``blob``.

    Parameters
    ----------
    mask : ndarray of bool, shape (h, w)
        The blob's mask at video resolution (may be in several pieces).
    blob : ndarray of bool, shape (bh, bw)
        The blob at work resolution over the same box (``factor`` video pixels per work pixel;
        the box's last row and column may reach further at video resolution).
    factor : int
        Video pixels per work pixel.
    saddle, min_fraction : float
        As for :func:`~ecoseg.engine.classical.splitting.split_touching`.

    Returns
    -------
    list of ndarray of bool
        The parts' masks, each of shape (h, w), covering ``mask``; ``[mask]`` for one animal.

    Examples
    --------
    >>> yy, xx = np.mgrid[:40, :80]
    >>> body = (np.hypot((yy - 20) / 12, (xx - 30) / 24) < 1)        # one fish, one blob
    >>> stripes = body & (yy % 8 < 3)                                 # all the cut kept of it
    >>> len(split_blob(stripes, body, 1))
    1
    >>> two = (np.hypot(yy - 20, xx - 20) < 10) | (np.hypot(yy - 20, xx - 40) < 10)
    >>> [int(p.sum()) for p in split_blob(two, two, 1)]
    [305, 305]
    """
    mask = np.asarray(mask, bool)
    blob = np.asarray(blob, bool)
    if factor > 1 and blob.sum() < 8:
        return [mask]
    parts = split_touching(blob, saddle, min_fraction)
    if len(parts) < 2:
        return [mask]
    label = np.zeros(blob.shape, np.int32)
    for k, part in enumerate(parts, start=1):
        label[part] = k
    # pixels of the mask outside every part (the blob's rim) go to the nearest part
    return spread_parts(label, mask, factor)
