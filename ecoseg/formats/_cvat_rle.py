"""CVAT's mask encoding: a mask as run lengths over its box, for the CVAT export.

CVAT writes a mask as ``rle`` plus its box (``left``, ``top``, ``width``, ``height``): the
alternating run lengths of background and object pixels over the box, starting with
background, in row-major order. :func:`mask_to_cvat` encodes a mask array;
:func:`rle_to_cvat` a store's COCO RLE, from its runs, without decoding the frame. Reading
CVAT's ``rle`` back is :func:`ecoseg.formats._cvat_shapes.cvat_to_mask`.
"""

from __future__ import annotations

import numpy as np

from ecoseg.formats._rle import decode_rle


def mask_to_cvat(mask: np.ndarray) -> tuple[list[int], int, int, int, int]:
    """CVAT's run lengths of a non-empty mask over its box: ``(runs, left, top, w, h)``.

    Examples
    --------
    >>> m = np.zeros((4, 5), bool); m[1, 1:3] = True; m[2, 2] = True
    >>> mask_to_cvat(m)
    ([0, 2, 1, 1], 1, 1, 2, 2)
    """
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, left = int(rows[0]), int(cols[0])
    h, w = int(rows[-1]) - top + 1, int(cols[-1]) - left + 1
    return _box_runs(mask[top : top + h, left : left + w]), left, top, w, h


def _box_runs(crop: np.ndarray) -> list[int]:
    """CVAT's run lengths of a mask's box (row-major, starting with background)."""
    flat = crop.ravel().astype(np.int8)
    edges = np.concatenate(([0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]))
    runs = np.diff(edges).tolist()
    if flat[0]:
        runs = [0, *runs]  # runs start with background
    return [int(r) for r in runs]


def rle_to_cvat(rle, height: int, width: int, where: str) -> tuple[list[int], int, int, int, int]:
    """:func:`mask_to_cvat` of a COCO RLE mask, read from its runs without decoding the frame
    (a well-formed compressed RLE of a non-empty mask; anything else is decoded by
    :func:`~ecoseg.formats._rle.decode_rle`, which names what is wrong).

    Examples
    --------
    >>> m = np.zeros((4, 5), bool); m[1, 1:3] = True; m[2, 2] = True
    >>> from ecoseg.formats._rle import encode_masks
    >>> rle_to_cvat(encode_masks(m[None])[0], 4, 5, "x") == mask_to_cvat(m)
    True
    """
    runs = _counts(rle, height, width)
    if runs is None:  # not the common case: checked and decoded whole
        return mask_to_cvat(decode_rle(rle, height, width, where))
    # each object run (odd places) as the column-major pixels [start, end) of the frame
    spans = []
    at = 0
    for k, n in enumerate(runs):
        if k % 2 and n:
            spans.append((at, at + n))
        at += n
    left, right = spans[0][0] // height, (spans[-1][1] - 1) // height
    top = min(a % height if a // height == (b - 1) // height else 0 for a, b in spans)
    bottom = max(
        (b - 1) % height if a // height == (b - 1) // height else height - 1 for a, b in spans
    )
    w, h = right - left + 1, bottom - top + 1
    crop = np.zeros(w * height, bool)  # the box's columns, whole, column-major
    for a, b in spans:
        crop[a - left * height : b - left * height] = True
    box = crop.reshape(w, height)[:, top : bottom + 1].T
    return _box_runs(box), left, top, w, h


def _counts(rle, height: int, width: int) -> list[int] | None:
    """The run lengths of a compressed COCO RLE string of a ``height`` x ``width`` mask with
    at least one pixel set, decoded as pycocotools does; None for anything else (another
    size, a counts list, a character outside the alphabet, a cut-off or negative run, runs
    that do not cover the frame, no pixel set)."""
    try:
        counts, size = rle["counts"], rle["size"]
        if not isinstance(counts, str) or [int(v) for v in size] != [height, width]:
            return None
    except (TypeError, KeyError, ValueError):
        return None
    runs: list[int] = []
    p, end = 0, len(counts)
    while p < end:
        x = k = 0
        more = True
        while more:
            if p == end:
                return None  # cut off
            c = ord(counts[p]) - 48
            if not 0 <= c <= 63:
                return None
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        if x < 0 or k > 12:
            return None
        runs.append(x)
    if sum(runs) != height * width or not any(runs[1::2]):
        return None
    return runs
