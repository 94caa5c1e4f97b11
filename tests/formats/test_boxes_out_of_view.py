"""Boxes wholly outside the frame, and objects that no frame shows, in every format.

MOT ground truth keeps people walking out of view, and a tracker may keep a box going a few
frames past the edge: one such box (a box covering pixel centres, none of the frame) refused
the whole file. It is now an animal out of view there: left out, and counted in the one
:class:`BoxesCutWarning` of the boxes cut to the frame; an object whose every box is so is
left out with a :class:`ShapesLeftOutWarning` (it would be an object with no mask), as are
CVAT's tracks with no visible shape and a YouTube-VIS track whose every segmentation is null.
A box that covers no pixel centre wherever it lies (thinner than a pixel between pixel
centres) is still refused as broken, and so is a file whose every box lies outside the frame.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from ecoseg.errors import FormatError
from ecoseg.formats import (
    BoxesCutWarning,
    ShapesLeftOutWarning,
    VideoInfo,
    import_annotations,
    read_annotations,
)
from ecoseg.formats.cvat import ShapesLeftOutWarning as CvatShapesLeftOutWarning

VIDEO = VideoInfo(10, 8, np.arange(3) / 5, {})

# object 1 in view; object 2 in view on frame 0, right of the frame on frame 1; object 3 left
# of the frame (x -9..-5) on frame 1 only
_MOT = "1,1,1,1,3,3,1,-1,-1,-1\n1,2,5,2,3,3,1,-1,-1,-1\n2,2,12,2,3,3,1,-1,-1,-1\n"
_MOT += "2,3,-9,2,4,3,1,-1,-1,-1\n"
_VIAME = "1,,0,1,1,4,4,1,-1,fish,1\n2,,0,5,2,8,5,1,-1,fish,1\n2,,1,12,2,15,5,1,-1,fish,1\n"
_VIAME += "3,,1,-9,2,-5,5,1,-1,fish,1\n"


def _box(k, image, bbox, track):
    return {"id": k, "image_id": image, "category_id": 1, "segmentation": [], "bbox": bbox,
            "attributes": {"track_id": track}}  # fmt: skip


def _coco() -> str:
    images = [{"id": k + 1, "width": 10, "height": 8, "file_name": f"frame_{k:06d}.PNG"}
              for k in range(3)]  # fmt: skip
    anns = [_box(1, 1, [1, 1, 3, 3], 1), _box(2, 1, [5, 2, 3, 3], 2), _box(3, 2, [12, 2, 3, 3], 2),
            _box(4, 2, [-9, 2, 4, 3], 3)]  # fmt: skip
    cats = [{"id": 1, "name": "fish"}]
    return json.dumps({"images": images, "annotations": anns, "categories": cats})


def _track(k, boxes):
    """A YouTube-VIS track of boxes alone (null where absent)."""
    segs = [[] if b is not None else None for b in boxes]
    return {"id": k, "video_id": 1, "category_id": 1, "segmentations": segs, "bboxes": boxes}


def _ytvis(anns) -> str:
    video = {"id": 1, "width": 10, "height": 8, "length": 3}
    cats = [{"id": 1, "name": "fish"}]
    return json.dumps({"videos": [video], "annotations": anns, "categories": cats})


_YTVIS = [_track(1, [[1, 1, 3, 3], None, None]), _track(2, [[5, 2, 3, 3], [12, 2, 3, 3], None]),
          _track(3, [None, [-9, 2, 4, 3], None])]  # fmt: skip


def _cvat_box(frame, x0, x1, y0=1, y1=4, outside=0):
    return (f'<box frame="{frame}" keyframe="1" outside="{outside}" occluded="0" xtl="{x0}" '
            f'ytl="{y0}" xbr="{x1}" ybr="{y1}"/>')  # fmt: skip


_CVAT = (
    "<annotations><meta><task><size>3</size></task></meta>"
    f'<track id="0" label="fish">{_cvat_box(0, 1, 4)}{_cvat_box(1, 1, 4, outside=1)}</track>'
    f'<track id="1" label="fish">{_cvat_box(0, 5, 8, 2, 5)}{_cvat_box(1, 12, 15, 2, 5)}'
    f"{_cvat_box(2, 12, 15, 2, 5, outside=1)}</track>"
    f'<track id="2" label="fish">{_cvat_box(1, -9, -5)}{_cvat_box(2, -9, -5, outside=1)}</track>'
    "</annotations>"
)

CASES = {
    "mot": ("gt.txt", _MOT, "line 4 first"),
    "viame": ("a.csv", _VIAME, "line 4 first"),
    "coco": ("a.json", _coco(), "annotations[3] (id 4) first"),
    "ytvis": ("a.json", _ytvis(_YTVIS), "annotations[2] (id 3) frame 1 first"),
    "cvat": ("a.xml", _CVAT, '<track id="2"> <box frame="1"> first'),
}


@pytest.mark.parametrize("fmt", list(CASES))
def test_a_box_outside_the_frame_is_an_animal_out_of_view(tmp_path, fmt):
    """Each of these files was refused for its box outside the frame."""
    name, text, third = CASES[fmt]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ann = read_annotations(path, fmt, VIDEO)
    assert [(i.frame, i.track) for i in ann.instances] == [(0, 1), (0, 2)]
    assert [t.id for t in ann.tracks] == [1, 2]  # object 3: on no frame
    (cut,) = [str(w.message) for w in seen if w.category is BoxesCutWarning]
    assert cut.startswith(f"{path}: 2 boxes lie outside the 10x8 frame, covering no pixel of it")
    assert "left out, as the animal is out of view there" in cut
    (left,) = [str(w.message) for w in seen if w.category is ShapesLeftOutWarning]
    assert left.startswith(f"{path}: 1 object left out (object 3, {third}): every box of it")
    assert ShapesLeftOutWarning is CvatShapesLeftOutWarning  # one class, as CVAT's tracks


def test_the_import_counts_them_with_the_boxes_it_cuts(tmp_path):
    from ecoseg.store import MaskStore

    gt = tmp_path / "gt.txt"
    gt.write_text(_MOT + "3,1,-3,2,6,4,1,-1,-1,-1\n")  # object 1 half out of view on frame 2
    with pytest.warns(Warning) as seen:
        out = import_annotations(gt, "mot", VIDEO, tmp_path / "t.zarr")
    (cut,) = [str(w.message) for w in seen if w.category is BoxesCutWarning]
    assert cut.startswith(
        f"{gt}: 3 boxes reach past the edge of the 10x8 frame (line 3 first: x 12..15, y 2..5), "
        "2 so far that they cover no pixel of it (line 3 first: x 12..15, y 2..5): left out"
    )
    assert [str(w.message) for w in seen if w.category is ShapesLeftOutWarning]
    store = MaskStore.open(out)
    labels = store.read_labels()
    assert (labels[0] == 2).sum() == 9 and not labels[1].any()
    assert (labels[2] == 1).sum() == 3 * 4  # cut at x = 0
    assert set(np.unique(labels)) == {0, 1, 2}


@pytest.mark.parametrize(
    ("fmt", "name", "text", "named"),
    [
        ("mot", "a.txt", "1,1,1,1,3,3,1,-1,-1,-1\n2,2,12.6,2,0.8,3,1,-1,-1,-1\n", "line 2"),
        ("viame", "a.csv", "1,,0,1,1,4,4,1,-1\n2,,1,1,-5,4,-4.6,1,-1\n", "line 2"),
        (
            "cvat",
            "a.xml",
            _CVAT.replace('xtl="-9" ytl="1" xbr="-5"', 'xtl="-2.4" ytl="1" xbr="-1.6"'),
            '<track id="2"> <box frame="1">',
        ),
    ],
    ids=["mot", "viame", "cvat"],
)
def test_a_box_thinner_than_a_pixel_is_refused_outside_the_frame_too(
    tmp_path, fmt, name, text, named
):
    """It covers no pixel centre wherever it lies: broken, not out of view."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=rf"{named}: the box covers no pixel"):
        read_annotations(tmp_path / name, fmt, VIDEO)


@pytest.mark.parametrize("fmt", ["mot", "viame", "cvat"])
def test_a_file_whose_every_box_is_outside_the_frame_is_refused(tmp_path, fmt):
    """Nothing of it is on the video: another video's file (or another frame size's)."""
    name, text, _ = CASES[fmt]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=r"every box lies outside the 1x1 frame \(.* first"):
        read_annotations(path, fmt, VideoInfo(1, 1, np.arange(3) / 5, {}))


def test_a_youtube_vis_track_no_frame_shows_is_left_out_with_a_warning(tmp_path):
    """Every segmentation null (boxes too): it became an object with no mask."""
    null = {"id": 7, "video_id": 1, "category_id": 1, "segmentations": [None, None, None],
            "bboxes": [None, None, None]}  # fmt: skip
    empty = dict(null, id=8, segmentations=[[], None, None])  # a box-only frame without a box
    path = tmp_path / "a.json"
    path.write_text(_ytvis([_track(1, [[1, 1, 3, 3], None, None]), null, empty]))
    with pytest.warns(ShapesLeftOutWarning) as seen:
        ann = read_annotations(path, "ytvis", VIDEO)
    assert [t.id for t in ann.tracks] == [1]
    messages = [str(w.message) for w in seen if w.category is ShapesLeftOutWarning]
    assert (
        f"{path}: 2 objects left out (annotations[1] (id 7); annotations[2] (id 8)): every "
        "frame's segmentation (and box) of it is null, so no frame shows it"
    ) in messages


def test_a_youtube_vis_id_left_out_is_still_one_id(tmp_path):
    null = {"id": 9, "video_id": 1, "category_id": 1, "segmentations": [None, None, None]}
    path = tmp_path / "a.json"
    path.write_text(_ytvis([null, dict(null, segmentations=[[[1, 1, 4, 1, 4, 4]], None, None])]))
    # the left-out track's id is still taken: the second is refused, naming it
    with pytest.raises(
        FormatError, match=r"annotations\[1\] \(id 9\): id 9 is given to two annotations"
    ):
        read_annotations(path, "ytvis", VIDEO)


def test_the_refusal_and_the_warning_write_a_box_with_one_function():
    """``_left_out`` and ``_painting`` each had a ``_box_text`` of their own."""
    from ecoseg.formats import _left_out, _painting

    assert not hasattr(_left_out, "_box_text") and not hasattr(_painting, "_box_text")
    assert _left_out.box_text is _painting.box_text
    assert _painting.box_text((650.0, 2, 700.5, 60)) == "x 650..700.5, y 2..60"


def _turned(frame, x0, y0, x1, y1, rotation, outside=0):
    return (f'<box frame="{frame}" keyframe="1" outside="{outside}" occluded="0" xtl="{x0}" '
            f'ytl="{y0}" xbr="{x1}" ybr="{y1}" rotation="{rotation}"/>')  # fmt: skip


# object 2 a turned box in view on frame 0, right of the frame on frame 1; object 3 a long
# thin box turned across the frame's top left corner, beyond it (its corners' box overlaps
# the frame, no pixel centre of the frame is in it) on frame 1 only
_CVAT_TURNED = (
    "<annotations><meta><task><size>3</size></task></meta>"
    f'<track id="0" label="fish">{_cvat_box(0, 1, 4)}{_cvat_box(1, 1, 4, outside=1)}</track>'
    f'<track id="1" label="fish">{_turned(0, 5, 2, 8, 5, 30)}{_turned(1, 12, 2, 15, 5, 30)}'
    f"{_turned(2, 12, 2, 15, 5, 30, outside=1)}</track>"
    f'<track id="2" label="fish">{_turned(1, -6.5, -2.25, 3.5, -0.75, 315)}'
    f"{_turned(2, -6.5, -2.25, 3.5, -0.75, 315, outside=1)}</track>"
    "</annotations>"
)


def test_a_turned_cvat_box_outside_the_frame_is_an_animal_out_of_view(tmp_path):
    """It was refused as a polygon that covers no pixel of the frame, while the same box not
    turned was left out: a turned box follows the rule of boxes."""
    path = tmp_path / "a.xml"
    path.write_text(_CVAT_TURNED, encoding="utf-8")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ann = read_annotations(path, "cvat", VIDEO)
    assert [(i.frame, i.track) for i in ann.instances] == [(0, 1), (0, 2)]
    assert [t.id for t in ann.tracks] == [1, 2]  # object 3: on no frame
    (cut,) = [str(w.message) for w in seen if w.category is BoxesCutWarning]
    assert cut.startswith(f"{path}: 2 boxes lie outside the 10x8 frame, covering no pixel of it")
    (left,) = [str(w.message) for w in seen if w.category is ShapesLeftOutWarning]
    assert left.startswith(
        f'{path}: 1 object left out (object 3, <track id="2"> <box frame="1"> first): every box'
    )
    turned = ann.instances[1]  # the polygon of its corners, with the box they lie in
    assert turned.box == tuple(
        turned.polygons[0].min(0).tolist() + turned.polygons[0].max(0).tolist()
    )


def test_a_file_whose_every_turned_box_is_outside_the_frame_is_refused(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text(_CVAT_TURNED, encoding="utf-8")
    with pytest.raises(FormatError, match=r"every box lies outside the 1x1 frame \(.* first"):
        read_annotations(path, "cvat", VideoInfo(1, 1, np.arange(3) / 5, {}))


def test_a_viame_outline_outside_the_frame_is_an_animal_out_of_view(tmp_path):
    """A row's ``(poly)`` is its pixels: one wholly outside the frame, in a box outside it,
    was refused as a polygon that covers no pixel of the frame."""
    path = tmp_path / "a.csv"
    path.write_text(_VIAME + "3,,2,-9,2,-5,5,1,-1,fish,1,(poly) -9 2 -5 2 -5 5\n")
    with pytest.warns(BoxesCutWarning, match="3 boxes lie outside the 10x8 frame"):
        ann = read_annotations(path, "viame", VIDEO)
    assert [(i.frame, i.track) for i in ann.instances] == [(0, 1), (0, 2)]


def test_a_huge_flat_viame_outline_beyond_the_frame_is_refused(tmp_path):
    """An outline 30000 pixels across whose points lie on a line covers no pixel anywhere: a
    broken annotation, refused. Old code took any outline spanning more than 2048 x 2048
    pixels to cover some, so it was left out as an animal out of view; a real one of that
    size still is."""
    flat = "3,,2,-30005,5,-5,30005,1,-1,fish,1,(poly) -30005 5 -15005 15005 -5 30005\n"
    path = tmp_path / "a.csv"
    path.write_text(_VIAME + flat)
    with pytest.raises(FormatError, match=r"line 5: the polygon covers no pixel of the 10x8"):
        read_annotations(path, "viame", VIDEO)
    path.write_text(_VIAME + flat.replace("-15005 15005", "-5 5"))
    with pytest.warns(BoxesCutWarning, match="3 boxes lie outside the 10x8 frame"):
        ann = read_annotations(path, "viame", VIDEO)
    assert [(i.frame, i.track) for i in ann.instances] == [(0, 1), (0, 2)]


def _in_and_out(inside: int, outside: int) -> str:
    """A MOT file of one fish in view on ``inside`` frames and one right of the 10x8 frame on
    ``outside`` frames."""
    rows = [f"{t + 1},1,1,1,3,3,1,-1,-1,-1\n" for t in range(inside)]
    return "".join(rows + [f"{t + 1},2,12,2,3,3,1,-1,-1,-1\n" for t in range(outside)])


@pytest.mark.parametrize(("inside", "outside"), [(1, 9), (31, 10)], ids=["nine", "a-few-in-41"])
def test_a_few_boxes_outside_are_left_out(tmp_path, inside, outside):
    """Fewer than ten, or under a quarter of the file's boxes: animals out of view."""
    path = tmp_path / "gt.txt"
    path.write_text(_in_and_out(inside, outside))
    with pytest.warns(BoxesCutWarning, match=f"{outside} boxes lie outside the 10x8 frame"):
        ann = read_annotations(path, "mot", VideoInfo(10, 8, np.arange(40) / 5, {}))
    assert len(ann.instances) == inside


@pytest.mark.parametrize(("inside", "outside"), [(30, 10), (2, 12)], ids=["a-quarter", "most"])
def test_many_boxes_outside_are_another_videos_file(tmp_path, inside, outside):
    """Ten or more, and a quarter of the file's boxes or more: it was imported with the
    animals in view only, and exit 0."""
    path = tmp_path / "gt.txt"
    path.write_text(_in_and_out(inside, outside))
    with pytest.raises(FormatError) as caught:
        read_annotations(path, "mot", VideoInfo(10, 8, np.arange(40) / 5, {}))
    assert str(caught.value) == (
        f"{path}: {outside} of its {inside + outside} boxes lie outside the 10x8 frame (line "
        f"{inside + 1} first: x 12..15, y 2..5; its boxes span x 1..15, y 1..5): is it the "
        "annotation of another video (or of another frame size)? Use it with the video it "
        "was made for"
    )
