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


def _cvat(images) -> str:
    shapes = '<box label="brain coral" xtl="1" ytl="1" xbr="4" ybr="3"/>'
    listed = "".join(
        f'<image id="{k}" name="{name}" width="8" height="6">{shapes}</image>'
        for k, name in enumerate(images)
    )
    return f"<annotations><version>1.1</version>{listed}</annotations>"


def _ytvis(images) -> dict:
    n = len(images)
    return {
        "videos": [{"id": 1, "width": 8, "height": 6, "length": n, "file_names": images}],
        "categories": [{"id": 1, "name": "brain coral"}],
        "annotations": [
            {
                "id": 1,
                "video_id": 1,
                "category_id": 1,
                "bboxes": [[1, 1, 3, 2]] * n,
                "segmentations": [[[1, 1, 4, 1, 4, 3, 1, 3]]] * n,
            }
        ],
    }


OTHER_FORMATS = [
    ("cvat", "annotations.xml", _cvat, ['<image id="1">', "'east.png'", "not an image"]),
    ("ytvis", "v.json", _ytvis, ["videos[0] file_names[1]: 'east.png'", "not an image"]),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("fmt", "name", "make", "culprits"), OTHER_FORMATS, ids=[c[0] for c in OTHER_FORMATS]
)
def test_a_cvat_or_ytvis_file_that_does_not_fit_the_photographs_is_refused(
    tmp_path, cli, fmt, name, make, culprits
):
    """CVAT images and YouTube-VIS files name their images too: matched by name as COCO's,
    an image not in the folder is refused as COCO's is (it was placed by its id or position,
    on whichever photograph was there)."""
    folder = tmp_path / "quadrats"
    folder.mkdir()
    for photo in NAMES:
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(folder / photo)
    path = tmp_path / name
    made = make(["north.png", "east.png"])
    path.write_text(made if isinstance(made, str) else json.dumps(made), encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", fmt, "--video", folder, "-o", out)
    assert_one_line_error(code, err, str(path), *culprits)
    assert not out.exists()


def test_a_name_two_photographs_spell_alike_is_refused(tmp_path):
    """Names match in another letter case (a Windows disk, a tool that upper-cases them) only
    where one photograph is so spelled. A folder never has two (its reader refuses
    ``North.png`` beside ``north.png``), but a VideoInfo given in Python may: which
    ``NORTH.png`` is cannot be told, and both spellings are named."""
    from ecoseg.errors import FormatError
    from ecoseg.formats import VideoInfo, read_annotations

    path = tmp_path / "cvat.json"
    path.write_text(json.dumps(_coco(["North.png", "NORTH.png"])), encoding="utf-8")
    video = VideoInfo(8, 6, np.arange(2.0), {}, images=("North.png", "north.png"))
    with pytest.raises(FormatError) as err:
        read_annotations(path, "coco", video)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    assert "image id 2: 'NORTH.png'" in message and "'North.png' and 'north.png'" in message
