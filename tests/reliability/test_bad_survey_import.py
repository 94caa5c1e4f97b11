"""A COCO file of a folder's photographs that does not fit the folder.

Its images are matched to the folder's photographs by name (they were placed by image id
order, so a tool's own order put one photograph's annotations on another): an image whose
name is not in the folder, where the file's other images are, and two images of one
photograph, are refused in one line naming the file and the image.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from reliability_helpers import assert_one_line_error

pytestmark = pytest.mark.bad_input

NAMES = ["north.png", "south.png"]


def _coco(images) -> dict:
    return {
        "images": [
            {"id": k, "file_name": name, "width": 8, "height": 6}
            for k, name in enumerate(images, 1)
        ],
        "categories": [{"id": 1, "name": "brain coral"}],
        "annotations": [
            {"id": k, "image_id": k, "category_id": 1, "bbox": [1, 1, 3, 2]}
            for k in range(1, len(images) + 1)
        ],
    }


CASES = [
    ("not-in-the-folder", ["north.png", "east.png"], ["image id 2: 'east.png'", "not an image"]),
    ("one-photo-twice", ["north.png", "north.png"], ["image id 2: 'north.png' (frame 0)"]),
]


@pytest.mark.parametrize(("images", "culprits"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_coco_file_that_does_not_fit_the_photographs_is_refused(tmp_path, cli, images, culprits):
    folder = tmp_path / "quadrats"
    folder.mkdir()
    for name in NAMES:
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(folder / name)
    path = tmp_path / "cvat.json"
    path.write_text(json.dumps(_coco(images)), encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", "coco", "--video", folder, "-o", out)
    assert_one_line_error(code, err, str(path), *culprits)
    assert not out.exists()
