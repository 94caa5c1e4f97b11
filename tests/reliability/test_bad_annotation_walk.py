"""What a careful user moving annotations between tools hits: a file of one format given as
another, a video given as the annotation file, a file saved as UTF-16 or with ';' between its
fields, an empty file, a CVAT label the file does not declare, a category id given twice, an
annotation of another video, a negative frame number, a frame number too long for a float,
a class probability, class source or reviewed flag that is no such value or is given twice
to one object otherwise.

Before: a MOT file read as VIAME was refused as ``box (70, 51, 21, 1) is empty or inverted``
(no word of the format), a video as ``line 1: not UTF-8 text (byte 0x9f); save it as UTF-8``,
a UTF-16 MOT file as ``frame '1\\x00' is not a number``, an empty COCO file as ``invalid JSON
at line 1 column 1: Expecting value``; a misspelt CVAT track label became a species of its
own; a category id given to two categories renamed the
first one's animals after the second, a YouTube-VIS annotation of another ``video_id`` was left
out with its animal (exit 0), a negative COCO ``frame_index`` was refused at an annotation
after a warning about the frames, and MOT frame 99999999999999999999 was named as
100000000000000000000. Each is now one line naming the file (and the entry), and
nothing is written.
"""

from __future__ import annotations

import json

import pytest
from reliability_helpers import assert_one_line_error

pytestmark = pytest.mark.bad_input

W, H = 96, 64  # the tiny clip's size

_MOT = "1,3,70,51,21,12,1,-1,-1,-1\n2,3,71,51,21,12,1,-1,-1,-1\n"
_VIAME = (
    "# 1: Detection or Track-id,2: Video or Image Identifier,3: Unique Frame Identifier\n"
    "3,00:00:00.000000,0,10,11,31,23,1,-1,goby,0.9\n"
)
_MOTS = "1 1 1 64 96 PPQ11O10O10O0nKn\n"


def _coco(**change) -> dict:
    image = {"id": 1, "file_name": "frame_000000.png", "width": W, "height": H}
    ann = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3]}
    data = {"images": [image], "annotations": [ann], "categories": [{"id": 1, "name": "crab"}]}
    data.update(change)
    return data


def _ytvis(**change) -> dict:
    video = {"id": 1, "width": W, "height": H, "length": 2}
    ann = {"id": 1, "video_id": 1, "category_id": 1, "bboxes": [[1, 1, 3, 3], None]}
    ann["segmentations"] = [[[1, 1, 4, 1, 4, 4]], None]
    data = {"videos": [video], "annotations": [ann], "categories": [{"id": 1, "name": "crab"}]}
    data.update(change)
    return data


_TWO_CATEGORIES = [{"id": 1, "name": "crab"}, {"id": 1, "name": "goby"}]
_CVAT = "<annotations><version>1.1</version></annotations>"
_CVAT_DECLARED = "<?xml version='1.0' encoding='utf-8'?>\n" + _CVAT  # as CVAT writes it
_CVAT_MISSPELT = (  # a hand-edited label: it became a species of its own, counted apart
    "<annotations><meta><task><size>2</size><labels><label><name>parrotfish</name></label>"
    '</labels></task></meta><track id="0" label="parotfish"><box frame="0" keyframe="1" '
    'outside="0" occluded="0" xtl="1" ytl="1" xbr="4" ybr="4"/></track></annotations>'
)


def _cvat_masks(first: tuple[str, str], second: tuple[str, str]) -> str:
    """A CVAT for video file of object 3 (as ecoseg writes it: a track per mask) on frames 0
    and 1, each mask with one more ``<attribute>`` (name, text)."""
    tracks = "".join(
        f'<track id="{k}" label="crab"><mask frame="{k}" keyframe="1" outside="0" occluded="0" '
        f'rle="0, 4" left="1" top="1" width="2" height="2" z_order="0">'
        f'<attribute name="object_id">3</attribute><attribute name="{name}">{text}</attribute>'
        "</mask></track>"
        for k, (name, text) in enumerate((first, second))
    )
    return f"<annotations><meta><task><size>2</size></task></meta>{tracks}</annotations>"


CASES = [  # (id, format, file name, content, what the line names)
    ("mot-as-viame", "viame", "t.csv", _MOT, ["looks like MOT text", "--format mot"]),
    ("viame-as-mot", "mot", "t.txt", _VIAME, ["line 2", "looks like a VIAME CSV"]),
    ("mots-as-mot", "mot", "t.txt", _MOTS, ["line 1", "looks like MOTS text"]),
    ("mot-as-mots", "mots", "t.txt", _MOT, ["line 1", "looks like MOT text"]),
    ("coco-as-ytvis", "ytvis", "a.json", json.dumps(_coco()), ["looks like a COCO file"]),
    ("ytvis-as-coco", "coco", "a.json", json.dumps(_ytvis()), ["looks like a YouTube-VIS"]),
    ("cvat-as-coco", "coco", "a.json", _CVAT, ["looks like a CVAT XML file", "--format cvat"]),
    # its XML declaration was taken for a column header row: "remove it" (s59)
    (
        "cvat-as-mot",
        "mot",
        "a.xml",
        _CVAT_DECLARED,
        ["looks like a CVAT XML file", "--format cvat"],
    ),
    ("cvat-as-mots", "mots", "a.xml", _CVAT_DECLARED, ["looks like a CVAT XML file"]),
    ("cvat-as-viame", "viame", "a.xml", _CVAT_DECLARED, ["looks like a CVAT XML file"]),
    # a missing id was named as the id None: "category_id None is not in 'categories'" (s59)
    (
        "coco-no-category-id",
        "coco",
        "a.json",
        json.dumps(_coco(annotations=[{"id": 7, "image_id": 1, "bbox": [1, 1, 3, 3]}])),
        ["annotations[0] (id 7) has no 'category_id'"],
    ),
    (
        "coco-no-image-id",
        "coco",
        "a.json",
        json.dumps(_coco(annotations=[{"id": 7, "category_id": 1, "bbox": [1, 1, 3, 3]}])),
        ["annotations[0] (id 7) has no 'image_id'"],
    ),
    (
        "ytvis-no-category-id",
        "ytvis",
        "a.json",
        json.dumps(_ytvis(annotations=[{"id": 7, "video_id": 1, "bboxes": [[1, 1, 3, 3], None]}])),
        ["annotations[0] (id 7) has no 'category_id'"],
    ),
    ("viame-semicolons", "viame", "t.csv", _VIAME.replace(",", ";"), ["separated by ';'"]),
    ("mot-semicolons", "mot", "t.txt", _MOT.replace(",", ";"), ["separated by ';'"]),
    ("utf16-mot", "mot", "t.txt", _MOT.encode("utf-16-le"), ["UTF-16 text", "save it as UTF-8"]),
    ("utf16-viame", "viame", "t.csv", _VIAME.encode("utf-16"), ["UTF-16 text"]),
    ("video-as-mot", "mot", "v.mp4", b"\0\0\0\x1cftypisom" + bytes(64), ["not a text file"]),
    ("video-as-coco", "coco", "v.mp4", b"\0\0\0\x1cftypisom" + bytes(64), ["not a text file"]),
    ("video-as-cvat", "cvat", "v.mp4", b"\0\0\0\x1cftypisom" + bytes(64), ["not a text file"]),
    (
        "cvat-undeclared-label",
        "cvat",
        "a.xml",
        _CVAT_MISSPELT,
        ['<track id="0">', "label 'parotfish' is not one of the labels", "'parrotfish'"],
    ),
    (  # CVAT writes both from one frame range: <size> was taken without a word
        "cvat-size-and-stop-frame-disagree",
        "cvat",
        "a.xml",
        _CVAT_MISSPELT.replace("parotfish", "parrotfish").replace(
            "<size>2</size>", "<size>2</size><start_frame>0</start_frame><stop_frame>5</stop_frame>"
        ),
        ["<meta>: <size> 2 disagrees with <stop_frame> 5 (which makes 6 task frames"],
    ),
    (  # read through a float: named as frame 100000000000000000000
        "mot-frame-far-past-the-end",
        "mot",
        "t.txt",
        "99999999999999999999,1,1,1,3,3,1,-1,-1,-1\n",
        ["line 1: frame 99999999999999999999 is past the end"],
    ),
    (  # as pandas writes one: refused as "frame 'frame' is not a number", with no hint
        "mot-header-row",
        "mot",
        "t.txt",
        "frame,id,bb_left,bb_top,bb_width,bb_height,conf,x,y,z\n" + _MOT,
        [
            "line 1: frame 'frame' is not a number",
            "line 1 ('frame,id,bb_left,...') looks like "
            "a header row: MOT files have none: remove it",
        ],
    ),
    (
        "mots-header-row",
        "mots",
        "t.txt",
        "frame id class_id img_height img_width rle\n" + _MOTS,
        ["line 1 ('frame id class_id ...') looks like a header row: MOTS files have none"],
    ),
    (  # VIAME's own header lines start with '#' (those are read as comments)
        "viame-header-row",
        "viame",
        "t.csv",
        _VIAME.replace("\n", "\ntrack,time,frame,x0,y0,x1,y1,conf,length,species,c\n", 1),
        ["line 2 ('track,time,frame,...') looks like a header row", "start it with '#'"],
    ),
    ("empty-coco", "coco", "a.json", "", ["the file is empty"]),
    ("empty-ytvis", "ytvis", "a.json", "\n", ["the file is empty"]),
    ("empty-cvat", "cvat", "a.xml", "", ["the file is empty"]),
    (
        "coco-category-id-twice",
        "coco",
        "a.json",
        json.dumps(_coco(categories=_TWO_CATEGORIES)),
        ["categories[1] (id 1, 'goby')", "categories[0]'s ('crab')"],
    ),
    (
        "ytvis-category-id-twice",
        "ytvis",
        "a.json",
        json.dumps(_ytvis(categories=_TWO_CATEGORIES)),
        ["categories[1] (id 1, 'goby')", "categories[0]'s ('crab')"],
    ),
    (
        "ytvis-annotation-of-another-video",
        "ytvis",
        "a.json",
        json.dumps(_ytvis(annotations=[{**_ytvis()["annotations"][0], "video_id": 2}])),
        ["annotations[0] (id 1)", "video_id 2 is not the file's video (id 1)"],
    ),
    (
        "coco-negative-frame-index",
        "coco",
        "a.json",
        json.dumps(
            _coco(
                images=[
                    {"id": 1, "width": W, "height": H, "frame_index": -1},
                    {"id": 2, "width": W, "height": H, "frame_index": 1},
                    {"id": 3, "width": W, "height": H, "frame_index": 2},
                ]
            )
        ),
        ["image id 1", "frame_index -1 is negative"],
    ),
    (  # one object, two class probabilities: the first one was not kept at all
        "coco-two-class-probabilities",
        "coco",
        "a.json",
        json.dumps(
            _coco(
                images=[
                    {"id": 1, "width": W, "height": H, "frame_index": 0},
                    {"id": 2, "width": W, "height": H, "frame_index": 1},
                ],
                annotations=[
                    {**_coco()["annotations"][0], "id": k, "image_id": k}
                    | {"attributes": {"track_id": 4, "class_probability": p}}
                    for k, p in ((1, 0.9), (2, 0.4))
                ],
            )
        ),
        [  # where the first was, said once ("(id 1) (one per object)" until the stop 57 review)
            "annotations[1] (id 2)",
            "class_probability 0.4 of track 4, but 0.9 at annotations[0] (id 1): one class "
            "probability per object",
        ],
    ),
    (  # a store's class probability is in [0, 1] (a percentage, a logit: rescale it)
        "ytvis-class-probability-in-percent",
        "ytvis",
        "a.json",
        json.dumps(_ytvis(annotations=[{**_ytvis()["annotations"][0], "class_probability": 87}])),
        ["annotations[0] (id 1)", "class_probability 87 is not a score in [0, 1]"],
    ),
    (  # ecoseg's mask attributes (CVAT had no class probability): as COCO's, one per object
        "cvat-two-class-probabilities",
        "cvat",
        "a.xml",
        _cvat_masks(("class_probability", "0.9"), ("class_probability", "0.4")),
        [
            '<track id="1"> <mask frame="1">: class_probability 0.4 of object 3, but 0.9 at '
            '<track id="0"> <mask frame="0">: one class_probability per object'
        ],
    ),
    (
        "cvat-class-probability-in-percent",
        "cvat",
        "a.xml",
        _cvat_masks(("class_probability", "87"), ("class_probability", "87")),
        ['<track id="0"> <mask frame="0">: class_probability \'87\' is not a score in [0, 1]'],
    ),
    (  # a store's class sources are a fixed set (its object table refused it, unnamed)
        "cvat-class-source-of-another-word",
        "cvat",
        "a.xml",
        _cvat_masks(("class_source", "classified"), ("class_source", "model")),
        [
            '<track id="1"> <mask frame="1">: class_source \'model\' is not one of prompt, '
            "concept, reviewed, classified, rule, unknown"
        ],
    ),
    (  # COCO and YouTube-VIS carry it too (since stop 58), checked in the same words
        "coco-class-source-of-another-word",
        "coco",
        "a.json",
        json.dumps(
            _coco(
                annotations=[
                    {**_coco()["annotations"][0], "attributes": {"class_source": "Reviewed"}}
                ]
            )
        ),
        [
            "annotations[0] (id 1): class_source 'Reviewed' is not one of prompt, concept, "
            "reviewed, classified, rule, unknown"
        ],
    ),
    (
        "coco-two-class-sources",
        "coco",
        "a.json",
        json.dumps(
            _coco(
                images=[
                    {"id": 1, "width": W, "height": H, "frame_index": 0},
                    {"id": 2, "width": W, "height": H, "frame_index": 1},
                ],
                annotations=[
                    {**_coco()["annotations"][0], "id": k, "image_id": k}
                    | {"attributes": {"track_id": 4, "class_source": source}}
                    for k, source in ((1, "reviewed"), (2, "classified"))
                ],
            )
        ),
        [
            "annotations[1] (id 2): class_source 'classified' of track 4, but 'reviewed' at "
            "annotations[0] (id 1): one class source per object"
        ],
    ),
    (
        "ytvis-class-source-not-a-word",
        "ytvis",
        "a.json",
        json.dumps(_ytvis(annotations=[{**_ytvis()["annotations"][0], "class_source": 3}])),
        [
            "annotations[0] (id 1): class_source 3 is not one of prompt, concept, reviewed, "
            "classified, rule, unknown"
        ],
    ),
    (  # ecoseg's reviewed flag (since stop 59: where the class source does not say it)
        "coco-reviewed-not-a-flag",
        "coco",
        "a.json",
        json.dumps(
            _coco(
                annotations=[
                    {**_coco()["annotations"][0]}
                    | {"attributes": {"class_source": "reviewed", "reviewed": "no"}}
                ]
            )
        ),
        ["annotations[0] (id 1): reviewed 'no' is not true or false"],
    ),
    (
        "ytvis-reviewed-not-a-flag",
        "ytvis",
        "a.json",
        json.dumps(_ytvis(annotations=[{**_ytvis()["annotations"][0], "reviewed": 1}])),
        ["annotations[0] (id 1): reviewed 1 is not true or false"],
    ),
    (
        "cvat-two-reviewed-flags",
        "cvat",
        "a.xml",
        _cvat_masks(("reviewed", "false"), ("reviewed", "true")),
        [
            '<track id="1"> <mask frame="1">: reviewed true of object 3, but false at '
            '<track id="0"> <mask frame="0">: one reviewed flag per object'
        ],
    ),
    (  # VIAME carries the class source as a track attribute since stop 59 (it lost it)
        "viame-class-source-of-another-word",
        "viame",
        "t.csv",
        _VIAME.rstrip("\n") + ",(trk-atr) class_source model\n",
        [
            "line 2: field 12: class_source 'model' is not one of prompt, concept, reviewed, "
            "classified, rule, unknown"
        ],
    ),
    (
        "viame-two-class-sources",
        "viame",
        "t.csv",
        _VIAME.rstrip("\n")
        + ",(trk-atr) class_source reviewed\n"
        + "3,00:00:00.040000,1,10,11,31,23,1,-1,goby,0.9,(trk-atr) class_source classified\n",
        [
            "line 3: (trk-atr) class_source 'classified' of track 3, but 'reviewed' at line 2: "
            "one class source per object"
        ],
    ),
    (
        "viame-reviewed-not-a-flag",
        "viame",
        "t.csv",
        _VIAME.rstrip("\n") + ",(trk-atr) reviewed maybe\n",
        ["line 2: field 12: reviewed 'maybe' is not true or false"],
    ),
]


@pytest.mark.parametrize(
    ("fmt", "name", "content", "culprits"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_file_a_careful_user_could_hand_over_is_refused_in_one_line(
    clip, tmp_path, cli, fmt, name, content, culprits
):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", fmt, "--video", clip.video, "-o", out)
    assert_one_line_error(code, err, str(path), *culprits)
    assert not out.exists()


@pytest.mark.parametrize(
    "stamp",
    ["00:99:00", "12:30", "00:60:00.000", "00:01:75.000", "00:00:60"],
    ids=["minutes-99", "no-hours", "minutes-60", "seconds-75", "seconds-60"],
)
def test_a_malformed_viame_time_stamp_aligned_by_time_is_named_as_such(clip, tmp_path, cli, stamp):
    # before: "line 2: has no time; align by index instead", as for an image name; seconds
    # of 60 or more were read on (00:01:75.000 as 135 s, 00:00:60 as 60 s)
    path = tmp_path / "t.csv"
    path.write_text(_VIAME.replace("00:00:00.000000", stamp), encoding="utf-8")
    out = tmp_path / "t.zarr"
    args = ("import", path, "--format", "viame", "--align", "time", "--video", clip.video)
    code, _, err = cli(*args, "-o", out)
    assert_one_line_error(
        code,
        err,
        str(path),
        f"line 2: time stamp (field 2) '{stamp}' is malformed",
        "expected HH:MM:SS.ffffff",
    )
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["mot", "mots", "viame"])
def test_a_video_given_as_a_text_annotation_file_gets_no_header_row_hint(clip, tmp_path, cli, fmt):
    # before: the first "line" of the video (its ftyp box: NUL bytes, then brand names
    # separated by spaces) was quoted with its NUL bytes and called a header row to remove
    path = tmp_path / "dive.mp4"
    path.write_bytes(b"\0\0\0\x20ftypisom\0\0\x02\0isom iso2 avc1 mp41\0\0\0\x08free" + bytes(64))
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", fmt, "--video", clip.video, "-o", out)
    line = assert_one_line_error(code, err, str(path), "not a text file")
    assert "header row" not in line and "\0" not in line
    assert not out.exists()
