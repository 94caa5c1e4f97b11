"""Shared pieces of the format readers and writers, one concept per private module:

- :mod:`~ecoseg.formats._annotation_model`: the in-memory annotation model (:class:`Track`,
  :class:`Instance`, :class:`Annotations`) and :func:`align_frames`;
- :mod:`~ecoseg.formats._rle`: RLE and box helpers (pycocotools);
- :mod:`~ecoseg.formats._painting`: instances drawn as masks and label images;
- :mod:`~ecoseg.formats._stores`: reading a store into annotations and writing annotations
  into a store;
- :mod:`~ecoseg.formats._files`: output paths, file hashes, time stamps, UTF-8 text and tables;
- :mod:`~ecoseg.formats._values`: numbers, integers, object ids and scores of a file's fields;
- the DAVIS palette: :func:`ecoseg.formats.davis.palette`.

This module names them all, so ``from ecoseg.formats._common import NAME`` keeps working.

Conventions
-----------
Boxes are ``(x0, y0, x1, y1)`` in pixel *edges*: pixel ``(row, col)`` covers
``[col, col + 1) x [row, row + 1)``, so the box of a one-pixel mask at column 4, row 7 is
``(4, 7, 5, 8)`` and ``x1 - x0`` is the width in pixels (as COCO's ``[x, y, w, h]`` and MOT's
``bb_width``). Polygons use the same coordinates; a pixel belongs to a polygon, or to a box
drawn as a mask, when its centre ``(col + 0.5, row + 0.5)`` is inside or on its edge
(:func:`~ecoseg.formats._painting.box_pixels`). Masks travel as COCO compressed RLE dicts
(``{"size": [h, w], "counts": str}``), encoded and decoded by pycocotools only.
"""

from __future__ import annotations

from ecoseg.formats._annotation_model import (
    Annotations,
    Instance,
    Track,
    align_frames,
    file_annotations,
)
from ecoseg.formats._files import check_output, file_sha256, read_table, read_text
from ecoseg.formats._painting import paint_frame, rasterize
from ecoseg.formats._rle import (
    check_rle,
    decode_rle,
    encode_masks,
    mask_box,
    rle_area,
    rle_boxes,
    rle_runs,
)
from ecoseg.formats._stores import read_store, write_store
from ecoseg.formats._values import integer, number, positive_id
from ecoseg.formats.davis import palette
from ecoseg.provenance import created

__all__ = [
    "Track",
    "Instance",
    "Annotations",
    "file_annotations",
    "encode_masks",
    "decode_rle",
    "rle_runs",
    "check_rle",
    "rle_boxes",
    "rle_area",
    "mask_box",
    "rasterize",
    "paint_frame",
    "read_store",
    "write_store",
    "align_frames",
    "check_output",
    "file_sha256",
    "created",
    "palette",
    "number",
    "integer",
    "positive_id",
    "read_text",
    "read_table",
]
