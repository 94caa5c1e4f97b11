"""Instances drawn as masks: one instance's mask from its RLE, polygons or box
(:func:`rasterize`), and a frame's label image (:func:`paint_frame`).

A pixel belongs to a polygon when its centre ``(col + 0.5, row + 0.5)`` is inside (see
:mod:`ecoseg.formats._common`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ecoseg.formats._annotation_model import Instance
from ecoseg.formats._rle import decode_rle

__all__ = ["rasterize", "paint_frame"]


def rasterize(inst: Instance, height: int, width: int) -> np.ndarray:
    """The instance's mask: its RLE, else its polygons (pixel centres inside), else its box."""
    if inst.rle is not None:
        return decode_rle(inst.rle, height, width, inst.where)
    mask = np.zeros((height, width), bool)
    if inst.polygons:
        from skimage.draw import polygon as draw_polygon

        for poly in inst.polygons:
            # pixel centres sit at integer + 0.5 in edge coordinates; skimage tests integers
            rr, cc = draw_polygon(poly[:, 1] - 0.5, poly[:, 0] - 0.5, shape=(height, width))
            mask[rr, cc] = True
        return mask
    if inst.box is not None:
        x0, y0, x1, y1 = inst.box
        c0, r0 = max(0, round(x0)), max(0, round(y0))
        c1, r1 = min(width, round(x1)), min(height, round(y1))
        mask[r0:r1, c0:c1] = True
    return mask


def paint_frame(instances: Iterable[Instance], height: int, width: int) -> np.ndarray:
    """Label image (uint32) of one frame's instances.

    Larger objects are painted first, so where masks or boxes overlap the smaller object stays
    visible (a box-only format then gives the covered object a smaller box).
    """
    labels = np.zeros((height, width), np.uint32)
    items = []
    for inst in instances:
        mask = rasterize(inst, height, width)
        items.append((int(mask.sum()), inst.track, mask))
    for _, track, mask in sorted(items, key=lambda item: (-item[0], item[1])):
        labels[mask] = track
    return labels
