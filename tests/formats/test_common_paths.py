"""``ecoseg.formats._common`` was one module of every shared piece of the formats; its pieces
now live in one module per concept, and every name it had still imports from it."""

from __future__ import annotations

import importlib

import pytest

# the names of ecoseg.formats._common before the split, and where each lives now
HOMES = {
    "Track": "_annotation_model",
    "Instance": "_annotation_model",
    "Annotations": "_annotation_model",
    "file_annotations": "_annotation_model",
    "align_frames": "_annotation_model",
    "encode_masks": "_rle",
    "decode_rle": "_rle",
    "rle_runs": "_rle",
    "check_rle": "_rle",
    "rle_boxes": "_rle",
    "rle_area": "_rle",
    "mask_box": "_rle",
    "rasterize": "_painting",
    "paint_frame": "_painting",
    "read_store": "_stores",
    "write_store": "_stores",
    "check_output": "_files",
    "file_sha256": "_files",
    "created": "ecoseg.provenance",  # the one time stamp, shared with the engine
    "read_text": "_files",
    "read_table": "_files",
    "number": "_values",
    "integer": "_values",
    "positive_id": "_values",
    "palette": "davis",
}


@pytest.mark.parametrize("name", sorted(HOMES))
def test_old_import_path_gives_the_one_object(name):
    common = importlib.import_module("ecoseg.formats._common")
    where = HOMES[name]
    home = importlib.import_module(where if "." in where else f"ecoseg.formats.{where}")
    assert getattr(common, name) is getattr(home, name)
    assert name in common.__all__
