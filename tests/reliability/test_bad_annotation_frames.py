"""Annotation files whose frames do not fit the video: imported without a word before.

A YouTube-VIS track whose per-frame lists were cut short lost its last frames (an object seen
only there was dropped); a COCO file with no images, or a YouTube-VIS video of length 0,
became a store of frames "with no animals"; COCO images, YouTube-VIS frames and DAVIS PNGs
past the video's end (with no animal on them) were dropped, though the file was plainly made
for another video. A CVAT task whose frames cover none of the video's (it starts past the
end, lists no frame, or every frame was deleted) became a store that ``ecoseg measure``
refuses, as nobody looked at any of its frames. Each is now one line naming the file and what
does not fit, and no store is made.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from reliability_helpers import assert_one_line_error

from ecoseg.formats import export

pytestmark = pytest.mark.bad_input


@pytest.fixture(scope="module")
def exported(clip, tmp_path_factory):
    """The tiny clip's truth as a COCO file, a YouTube-VIS file and a DAVIS folder."""
    folder = tmp_path_factory.mktemp("exported")
    return {
        fmt: Path(export(clip.truth, fmt, folder / name))
        for fmt, name in (("coco", "t.json"), ("ytvis", "t.vis.json"), ("davis", "pngs"))
    }


def _cut_short(doc):
    """The last two frames of every track's lists gone (a file cut by hand, a bad merge)."""
    for a in doc["annotations"]:
        a["segmentations"] = a["segmentations"][:-2]


def _longer(doc):
    """A video of 30 frames, where the clip has 24 (another video's file)."""
    doc["videos"][0]["length"] = 30
    for a in doc["annotations"]:
        for key in ("segmentations", "bboxes", "areas", "frame_scores"):
            a[key] += [None] * 6


def _length_0(doc):
    doc["videos"][0].update(length=0, file_names=[], timestamps_s=[])
    doc["annotations"] = []


def _no_images(doc):
    doc["images"], doc["annotations"] = [], []


def _image_past_the_end(doc):
    doc["images"].append(dict(doc["images"][-1], id=99, file_name="frame_000024.png"))
    doc["images"][-1]["frame_index"] = 24


CASES = [
    ("ytvis-cut-short", "ytvis", _cut_short, ["(id 1): 'segmentations' has 22 entries", "24"]),
    ("ytvis-longer", "ytvis", _longer, ["its frames go on to frame 29", "24 frames, 0..23"]),
    ("ytvis-length-0", "ytvis", _length_0, ["videos[0] (id 1): lists no frames (length 0)"]),
    ("coco-no-images", "coco", _no_images, ["'images' is empty"]),
    ("coco-past-the-end", "coco", _image_past_the_end, ["its images go on to frame 24"]),
]


@pytest.mark.parametrize(
    ("fmt", "damage", "culprits"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_json_file_whose_frames_do_not_fit_is_refused(
    clip, exported, tmp_path, cli, fmt, damage, culprits
):
    doc = json.loads(exported[fmt].read_text(encoding="utf-8"))
    damage(doc)
    path = tmp_path / exported[fmt].name
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", fmt, "--video", clip.video, "-o", out)
    assert_one_line_error(code, err, str(path), *culprits)
    assert not out.exists()


def test_a_davis_png_past_the_end_is_refused_even_when_empty(clip, exported, tmp_path, cli):
    """An empty PNG past the video's end was dropped (one with an animal was refused)."""
    pngs = tmp_path / "pngs"
    shutil.copytree(exported["davis"], pngs)
    shutil.copy(pngs / "00000.png", pngs / "00024.png")
    _blank(pngs / "00024.png")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", pngs, "--format", "davis", "--video", clip.video, "-o", out)
    assert_one_line_error(code, err, str(pngs), "its PNG masks go on to frame 24")
    assert not out.exists()


def _blank(png) -> None:
    """Make an indexed PNG all background, keeping its palette."""
    import numpy as np
    from PIL import Image

    image = Image.open(png)
    blank = Image.fromarray(np.zeros((image.height, image.width), np.uint8), mode="P")
    blank.putpalette(image.getpalette())
    blank.save(png)


_META = (
    '<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task>'
    "{}<original_size><width>96</width><height>64</height></original_size></task></meta>"
    "{}</annotations>"
)
_IMAGE = '<image id="100" name="frame_000100.png" width="96" height="64"></image>'

COVER_NONE = [
    (
        "task-past-the-end",
        "<start_frame>100</start_frame>",
        "",
        "its task frames (100, 101, 102, ...) cover none of the video's 24 frames (0..23)",
    ),
    (
        "image-task-past-the-end",
        "<start_frame>100</start_frame>",
        _IMAGE,
        "its task frames (100, 101, 102, ...) cover none of the video's 24 frames (0..23)",
    ),
    (  # refused alone: the warning that the task shows one frame in 5 came first
        "stepped-task-past-the-end",
        "<start_frame>100</start_frame><frame_filter>step=5</frame_filter>",
        "",
        "its task frames (100, 105, 110, ...) cover none of the video's 24 frames (0..23)",
    ),
    (
        "task-from-the-frame-after-the-last",
        "<start_frame>24</start_frame>",
        "",
        "its task frames (24, 25, 26, ...) cover none of the video's 24 frames (0..23)",
    ),
    (
        "task-of-no-frames",
        "<size>0</size>",
        "",
        "lists no task frames (a count of 0): it covers none of the video's 24 frames (0..23)",
    ),
]


@pytest.mark.parametrize(
    ("meta", "body", "culprit"), [c[1:] for c in COVER_NONE], ids=[c[0] for c in COVER_NONE]
)
def test_a_cvat_task_that_covers_none_of_the_videos_frames_is_refused(
    clip, tmp_path, cli, meta, body, culprit
):
    """It made a store whose annotated frames are none of its frames: ``ecoseg measure`` then
    refused it (``annotated_frames ... covers none of its 24 frames``)."""
    path = tmp_path / "task.xml"
    path.write_text(_META.format(meta, body), encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", "cvat", "--video", clip.video, "-o", out)
    line = assert_one_line_error(code, err, str(path), culprit, "nobody looked at any")
    assert ("another video" in line) == ("start_frame" in meta)  # past the end: whose?
    assert not out.exists()


def test_a_cvat_task_whose_every_frame_was_deleted_is_refused(clip, tmp_path, cli):
    """A dataset export (annotations.xml beside images/) with no image of any task frame:
    every task frame was deleted in CVAT, and the store it made covered none."""
    (tmp_path / "task" / "images").mkdir(parents=True)
    (tmp_path / "task" / "images" / "frame_000005.png").write_bytes(b"")
    path = tmp_path / "task" / "annotations.xml"
    path.write_text(_META.format("<size>3</size>", ""), encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", "cvat", "--video", clip.video, "-o", out)
    assert_one_line_error(
        code, err, str(path), "its task frames (0, 1, 2) were all deleted in CVAT", "24 frames"
    )
    assert not out.exists()
