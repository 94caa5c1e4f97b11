"""CVAT's mask encoding (``ecoseg.formats._cvat_rle``): the runs the export writes, read from a
store's COCO RLE without decoding the frame, are the decoded mask's runs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ecoseg.errors import FormatError
from ecoseg.formats import cvat
from ecoseg.formats._cvat_rle import mask_to_cvat, rle_to_cvat
from ecoseg.formats._rle import decode_rle, encode_masks


def _random_masks(rng, count: int):
    """Masks of every kind a store holds: blobs, scattered pixels, columns that wrap into the
    next one, edges and corners of the frame, the whole frame, one pixel."""
    h, w = 13, 17
    masks = [np.ones((h, w), bool), np.eye(h, w, dtype=bool)]
    for corner in ((0, 0), (h - 1, w - 1), (0, w - 1), (h - 1, 0)):
        m = np.zeros((h, w), bool)
        m[corner] = True
        masks.append(m)
    for _ in range(count):
        m = rng.random((h, w)) < rng.uniform(0.02, 0.9)
        if rng.random() < 0.5:  # a blob, maybe cut by the frame's edges
            m = np.zeros((h, w), bool)
            y, x = rng.integers(-3, h), rng.integers(-3, w)
            m[max(0, y) : y + rng.integers(1, 12), max(0, x) : x + rng.integers(1, 12)] = True
        if m.any():
            masks.append(m)
    return masks


def test_runs_from_the_rle_are_the_decoded_masks_runs():
    """rle_to_cvat reads CVAT's runs from the COCO runs, without decoding the frame: the same
    runs and box as mask_to_cvat of the decoded mask (what the export wrote before)."""

    rng = np.random.default_rng(7)
    for m in _random_masks(rng, 400):
        rle = encode_masks(m[None])[0]
        assert rle_to_cvat(rle, *m.shape, "x") == mask_to_cvat(m)
        assert rle_to_cvat(rle, *m.shape, "x") == mask_to_cvat(decode_rle(rle, *m.shape, "x"))


@pytest.mark.parametrize(
    "rle",
    [
        {"size": [4, 5], "counts": "7"},  # runs short of the frame
        {"size": [4, 5], "counts": "0\x7f"},  # outside the alphabet
        {"size": [4, 5], "counts": "7`"},  # cut off
        {"size": [5, 4], "counts": "714:"},  # another size
        {"size": [4, 5], "counts": [7, 1, 12]},  # a counts list: decoded
        {"size": [4, 5]},  # no counts
    ],
)
def test_runs_from_a_malformed_rle_are_what_decoding_says(rle):

    try:
        expected = mask_to_cvat(decode_rle(rle, 4, 5, "frame 2 object 3"))
    except FormatError as exc:
        with pytest.raises(FormatError, match=re.escape(str(exc))):
            rle_to_cvat(rle, 4, 5, "frame 2 object 3")
    else:
        assert rle_to_cvat(rle, 4, 5, "frame 2 object 3") == expected


def test_the_cvat_module_still_names_what_moved_out_of_it():
    """mask_to_cvat and rle_to_cvat moved to formats/_cvat_rle.py, the task frames to
    formats/_cvat_task.py; ``ecoseg.formats.cvat`` still names them all."""
    from ecoseg.formats import _cvat_task

    assert cvat.mask_to_cvat is mask_to_cvat and cvat.rle_to_cvat is rle_to_cvat
    for name in ("TaskFrames", "task_frames", "project_task", "deleted_frames"):
        assert getattr(cvat, name) is getattr(_cvat_task, name)
