"""COCO RLE through pycocotools with more than 255 masks at once.

pycocotools' ``mask.area`` of a list of RLEs makes a throwaway ``np.array((n,),
dtype=np.uint8)`` before it fills its uint32 result (``_mask.pyx``), which numpy 2 refuses for
``n`` over 255 (``OverflowError: Python integer 256 out of bounds for uint8``). So
:func:`~ecoseg.formats._rle.rle_area` gives it one RLE at a time (a dict, not a list: ~4 us a
mask, where parsing the RLE costs most); ``encode``, ``decode`` and ``toBbox`` have no such
array and take whole lists. The areas, boxes and empty masks of 300 masks are checked against
the masks themselves here, so a one-call ``mask.area`` over a list would fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Annotations, Instance, Track
from ecoseg.formats._painting import refuse_empty_shapes
from ecoseg.formats._rle import encode_masks, mask_box, rle_area, rle_boxes

N = 300  # past pycocotools' 255


def _masks() -> np.ndarray:
    masks = np.zeros((N, 12, 16), bool)
    for k in range(N):
        top, left = k % 7, k % 11
        masks[k, top : top + 1 + k % 5, left : left + 1 + k % 4] = True
    masks[N - 1] = False  # the last one empty
    return masks


def test_areas_boxes_and_empty_masks_of_more_than_255_rles():
    masks = _masks()
    rles = encode_masks(masks)
    assert len(rles) == N
    assert [rle_area(r) for r in rles] == masks.sum(axis=(1, 2)).tolist()
    boxes = rle_boxes(rles)
    assert boxes[:-1] == [tuple(float(v) for v in mask_box(m)) for m in masks[:-1]]
    ann = Annotations(
        width=16,
        height=12,
        n_frames=1,
        source="a.json",
        tracks=tuple(Track(k + 1) for k in range(N)),
        instances=tuple(Instance(0, k + 1, rle=r, where=f"mask {k}") for k, r in enumerate(rles)),
    )
    with pytest.raises(FormatError, match=f"a.json: mask {N - 1}: the mask covers no pixel"):
        refuse_empty_shapes(ann)  # the empty one, and none before it
