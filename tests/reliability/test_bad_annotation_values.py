"""Annotation files whose values a store cannot hold, and an import option named wrongly.

A score above 1 (a detector's percentage, 35.0) or below 0 (a logit) was stored as the
object's score, though a store's scores are probabilities in [0, 1]; a bare CVAT
``<annotations/>`` (no task, no tracks) became a store of frames "with no animals"; and
``--first-frame`` on another format was refused in the Python name (``first_frame``). A VIAME
species confidence in percent picked the class; a shape that covers no pixel (a polygon whose
points lie on a line, a box between pixel centres, a COCO mask whose RLE sets none) and a
YouTube-VIS split whose annotations are withheld were imported as nothing. A file whose every
box lies outside the frame is another video's (one such box among others is an animal out of
view, left out). Each is now one line naming the file and the value (or the option as typed),
and no store is made.
"""

from __future__ import annotations

import json

import pytest
from reliability_helpers import assert_one_line_error

pytestmark = pytest.mark.bad_input

W, H = 96, 64  # the tiny clip's size


def _coco() -> str:
    image = {"id": 1, "file_name": "frame_000000.png", "width": W, "height": H}
    ann = {"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "score": 35.0}
    cats = [{"id": 1, "name": "fish"}]
    return json.dumps({"images": [image], "annotations": [ann], "categories": cats})


def _coco_empty_mask() -> str:  # counts over the frame, no pixel set: it became nothing
    data = json.loads(_coco())
    data["annotations"][0].update(segmentation={"size": [H, W], "counts": [H * W]}, score=1)
    return json.dumps(data)


def _ytvis() -> str:
    video = {"id": 1, "width": W, "height": H, "length": 24}
    ann = {"id": 1, "video_id": 1, "category_id": 1, "frame_scores": [87] + [None] * 23}
    ann["segmentations"] = [[[1, 1, 4, 1, 4, 4]]] + [None] * 23
    cats = [{"id": 1, "name": "fish"}]
    return json.dumps({"videos": [video], "annotations": [ann], "categories": cats})


def _ytvis_withheld() -> str:  # a valid or test split: it became a video with no animals
    data = json.loads(_ytvis())
    del data["annotations"]
    return json.dumps(data)


_CVAT = (
    "<annotations><meta><task><size>24</size></task></meta>"
    '<track id="0" label="fish"><box frame="0" keyframe="1" outside="0" occluded="0" '
    'xtl="1" ytl="1" xbr="4" ybr="4"><attribute name="score">35</attribute></box>'
    "</track></annotations>"
)

_CVAT_FLAT = (  # no <meta>; the polygon's points on a line: it became an object with no mask
    '<annotations><track id="0" label="fish"><polygon frame="0" keyframe="1" outside="0" '
    'points="1,1;4,4;8,8"/></track></annotations>'
)

CASES = [
    ("mot-percent", "mot", "d.txt", "1,1,1,1,3,3,35.0,-1,-1,-1\n", ["line 1: conf '35.0'"]),
    ("mot-logit", "mot", "d.txt", "1,1,1,1,3,3,-2.3,-1,-1,-1\n", ["line 1: conf '-2.3'"]),
    ("mot-nan", "mot", "d.txt", "1,1,1,1,3,3,nan,-1,-1,-1\n", ["line 1: conf 'nan'"]),
    (  # MOT17's DPM detections: read as they are, but a store's scores are probabilities
        "mot-det-raw-score",
        "mot",
        "det.txt",
        "1,-1,1,1,3,3,2.3092,-1,-1,-1\n",
        ["line 1: score 2.3092 is a detector's own score", "rescale"],
    ),
    ("coco-percent", "coco", "a.json", _coco(), ["annotations[0] (id 5): score 35.0"]),
    ("ytvis-percent", "ytvis", "a.json", _ytvis(), ["frame 0: score 87"]),
    (
        "coco-empty-mask",
        "coco",
        "a.json",
        _coco_empty_mask(),
        ["annotations[0] (id 5)", "the mask covers no pixel", "its RLE sets none"],
    ),
    ("cvat-percent", "cvat", "a.xml", _CVAT, ['<box frame="0">', "score '35'"]),
    ("viame-percent", "viame", "a.csv", "0,,0,1,1,4,4,35,-1,fish,1\n", ["field 8", "'35'"]),
    (
        "viame-species",
        "viame",
        "a.csv",
        "0,,0,1,1,4,4,1,-1,fish,87\n",
        ["field 11", "'fish'", "'87'"],
    ),
    (  # a comma in an attribute's value, not quoted: it said "species ' dead' has no confidence"
        "viame-attribute-comma",
        "viame",
        "a.csv",
        "0,,0,1,1,4,4,1,-1,fish,1,(atr) note coral, dead\n",
        ["line 1: field 13", "(atr) note coral", "double quotes"],
    ),
    ("cvat-no-pixel", "cvat", "a.xml", _CVAT_FLAT, ['<polygon frame="0">', "covers no pixel"]),
    ("mot-thin-box", "mot", "d.txt", "1,1,1.6,1,0.8,3,1,-1,-1,-1\n", ["line 1", "covers no pixel"]),
    (  # one box outside is an animal out of view (left out); every box: another video's file
        "mot-every-box-off-frame",
        "mot",
        "d.txt",
        "1,1,200,1,3,3,1,-1,-1,-1\n2,1,203,1,3,3,1,-1,-1,-1\n",
        ["every box lies outside the 96x64 frame", "line 1 first"],
    ),
    ("ytvis-withheld", "ytvis", "a.json", _ytvis_withheld(), ["no 'annotations' list"]),
    ("cvat-bare", "cvat", "a.xml", "<annotations/>", ["no <meta> task and no tracks"]),
]


@pytest.mark.parametrize(
    ("fmt", "name", "text", "culprits"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_an_annotation_file_with_values_a_store_cannot_hold_is_refused(
    clip, tmp_path, cli, fmt, name, text, culprits
):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", fmt, "--video", clip.video, "-o", out)
    assert_one_line_error(code, err, str(path), *culprits)
    assert not out.exists()


@pytest.mark.parametrize(
    ("fmt", "value", "words"),
    [("mot", "1", "--first-frame goes with --format mots"), ("mots", "-1", "got -1")],
    ids=["first-frame-not-mots", "first-frame-negative"],
)
def test_first_frame_is_refused_in_the_commands_words(clip, tmp_path, cli, fmt, value, words):
    path = tmp_path / "d.txt"
    path.write_text("", encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli(
        "import", path, "--format", fmt, "--video", clip.video, "-o", out, "--first-frame", value
    )
    assert_one_line_error(code, err, "--first-frame", words)
    assert "first_frame" not in err and not out.exists()
