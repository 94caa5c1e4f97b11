"""Masks as COCO compressed RLE, and boxes: encoding, decoding and checking RLE
(pycocotools), a mask's box and area.

Masks travel as COCO compressed RLE dicts (``{"size": [h, w], "counts": str}``), encoded and
decoded by pycocotools only; boxes are ``(x0, y0, x1, y1)`` in pixel edges (see
:mod:`ecoseg.formats._common`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ecoseg.errors import FormatError
from ecoseg.formats._values import size_differs

__all__ = [
    "encode_masks",
    "decode_rle",
    "rle_runs",
    "check_rle",
    "rle_boxes",
    "rle_area",
    "mask_box",
]


def encode_masks(masks: np.ndarray) -> list[dict]:
    """Compressed COCO RLE of each of (N, H, W) boolean masks (pycocotools).

    Examples
    --------
    >>> m = np.zeros((1, 3, 4), bool); m[0, 1, 2] = True
    >>> encode_masks(m)[0]
    {'size': [3, 4], 'counts': '714'}
    """
    from pycocotools import mask as mask_utils

    masks = np.asarray(masks, dtype=bool)
    if masks.shape[0] == 0:
        return []
    encoded = mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))
    return [
        {"size": [int(s) for s in r["size"]], "counts": r["counts"].decode("ascii")}
        for r in encoded
    ]


def decode_rle(rle: Mapping, height: int, width: int, where: str) -> np.ndarray:
    """Boolean (H, W) mask of a COCO RLE (compressed string or uncompressed counts list).

    Raises
    ------
    FormatError
        The RLE is malformed or its size is not ``[height, width]``.

    Examples
    --------
    >>> decode_rle({"size": [3, 4], "counts": "714"}, 3, 4, "x").nonzero()
    (array([1]), array([2]))
    """
    from pycocotools import mask as mask_utils

    if not isinstance(rle, Mapping) or "size" not in rle or "counts" not in rle:
        raise FormatError(f"{where}: a mask must be an RLE object with 'size' and 'counts'")
    size = rle["size"]
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: RLE size {size!r} is not [height, width]") from None
    if (h, w) != (height, width):
        raise size_differs(where, f"mask size {w}x{h}", width, height)
    counts = rle["counts"]
    try:
        if isinstance(counts, list):
            _check_runs(np.array([int(c) for c in counts], np.int64), h, w, where)
            coded = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
        elif isinstance(counts, str | bytes):
            check_rle(counts, h, w, where)  # pycocotools leaves a short mask's tail unset
            coded = {
                "size": [h, w],
                "counts": counts.encode() if isinstance(counts, str) else counts,
            }
        else:
            raise ValueError(f"counts of type {type(counts).__name__}")
        mask = mask_utils.decode(coded)
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{where}: RLE cannot be decoded ({exc})") from None
    return np.asarray(mask, dtype=bool).reshape(h, w)


def rle_runs(counts: str | bytes) -> np.ndarray:
    """Run lengths (int64) of a compressed COCO RLE string.

    Each run is a signed number written 5 bits per character (character code - 48; bit 0x20:
    more characters follow; bit 0x10 of the last character: negative); from the fourth run on,
    the number is the difference to the run two places before.

    Raises
    ------
    ValueError
        A character outside the RLE alphabet ('0'..'o') or a run left unfinished.

    Examples
    --------
    >>> rle_runs("714").tolist()
    [7, 1, 4]
    """
    raw = counts.encode("latin-1", "replace") if isinstance(counts, str) else bytes(counts)
    codes = np.frombuffer(raw, np.uint8).astype(np.int64) - 48
    if codes.size == 0:
        return np.zeros(0, np.int64)
    bad = np.flatnonzero((codes < 0) | (codes > 63))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"character {raw[k : k + 1].decode('latin-1')!r} at {k} is not RLE")
    last = (codes & 0x20) == 0  # the character that ends a run
    if not last[-1]:
        raise ValueError("the last run is cut off")
    ends = np.flatnonzero(last)
    starts = np.concatenate(([0], ends[:-1] + 1))
    group = np.repeat(np.arange(ends.size), ends - starts + 1)
    place = np.arange(codes.size) - starts[group]
    if place.max() > 11:  # no run of a mask fits 60 bits
        raise ValueError("a run is too long")
    values = np.zeros(ends.size, np.int64)
    np.add.at(values, group, (codes & 0x1F) << (5 * place))
    negative = (codes[ends] & 0x10) != 0
    values[negative] -= np.left_shift(1, 5 * (ends - starts + 1)[negative])
    for first in (1, 2):  # runs 3, 5, ... and 4, 6, ... are differences two places back
        chain = values[first::2]  # a view
        if chain.size > 1:
            chain[1:] = chain[0] + np.cumsum(chain[1:])
    return values


def check_rle(counts: str | bytes, height: int, width: int, where: str) -> None:
    """Refuse a compressed RLE string whose runs are malformed, negative or do not add up to
    ``height x width`` pixels (a truncated line or file), naming ``where``.

    Examples
    --------
    >>> check_rle("714", 3, 4, "x")
    >>> check_rle("71", 3, 4, "gt.txt: line 2")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: gt.txt: line 2: RLE cannot be decoded (its runs add up to 8 ...
    """
    try:
        runs = rle_runs(counts)
    except ValueError as exc:
        raise FormatError(f"{where}: RLE cannot be decoded ({exc})") from None
    _check_runs(runs, height, width, where)


def _check_runs(runs: np.ndarray, height: int, width: int, where: str) -> None:
    """Refuse run lengths that are negative or do not add up to ``height x width``."""
    if runs.size and runs.min() < 0:
        raise FormatError(f"{where}: RLE cannot be decoded (a run is negative)")
    total = int(runs.sum())
    if total != height * width:
        hint = "; cut short?" if total < height * width else ""
        raise FormatError(
            f"{where}: RLE cannot be decoded (its runs add up to {total} pixels, not "
            f"{height}x{width} = {height * width}{hint})"
        )


def rle_boxes(rles: list[dict]) -> list[tuple[float, float, float, float]]:
    """``(x0, y0, x1, y1)`` boxes (pixel edges) of compressed RLEs (pycocotools ``toBbox``)."""
    from pycocotools import mask as mask_utils

    if not rles:
        return []
    coded = [{"size": r["size"], "counts": r["counts"].encode()} for r in rles]
    boxes = np.atleast_2d(mask_utils.toBbox(coded))
    return [(x, y, x + w, y + h) for x, y, w, h in boxes.tolist()]


def rle_area(rle: dict) -> int:
    """Pixel count of a compressed RLE (pycocotools ``area``).

    One RLE per call, by design: ``area`` of a list builds a throwaway uint8 array of the
    list's length, which numpy 2 refuses past 255 RLEs (``OverflowError``); its uint32 result
    is right, so chunks of 255 would be too, but a call costs ~4 us a mask, mostly parsing the
    RLE (measured on 3000 box-like masks), so batching saves nothing worth the code.

    Examples
    --------
    >>> rle_area({"size": [3, 4], "counts": "714"})
    1
    """
    from pycocotools import mask as mask_utils

    return int(mask_utils.area({"size": rle["size"], "counts": rle["counts"].encode()}))


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Box (pixel edges) of a boolean mask, None if it is empty.

    Examples
    --------
    >>> m = np.zeros((5, 6), bool); m[1:3, 2] = True
    >>> mask_box(m)
    (2, 1, 3, 3)
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
