"""Values an import must not take as they come: box edges through pixel centres (rounded
by parity before), scores outside [0, 1] (stored as they were), a CVAT file that says
nothing (a store of frames "with no animals"), and --first-frame named in the CLI's words."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecoseg.cli import main
from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, read_annotations
from ecoseg.formats._annotation_model import Instance
from ecoseg.formats._painting import rasterize

W, H = 16, 8
VIDEO = VideoInfo(width=W, height=H, times=np.arange(4) / 30, record={})


def _cols(mask) -> list[int]:
    return np.nonzero(mask.any(0))[0].tolist()


@pytest.mark.parametrize("x0", [2.5, 3.5, 2.25, 2.75, 3.0])
def test_a_box_moved_one_pixel_moves_its_mask_one_pixel(x0):
    """Old code: round(2.5) = 2 but round(3.5) = 4, so a box at 2.5..4.5 covered columns 2, 3
    and the same box one pixel on covered 4, 5 (moved two pixels)."""
    one = rasterize(Instance(0, 1, box=(x0, 1.0, x0 + 2.0, 3.0)), H, W)
    moved = rasterize(Instance(0, 1, box=(x0 + 1.0, 1.0, x0 + 3.0, 3.0)), H, W)
    assert _cols(moved) == [c + 1 for c in _cols(one)]
    assert (moved[:, 1:] == one[:, :-1]).all()


@pytest.mark.parametrize("x0", [2.5, 3.5, 4.5, 2.2, 2.8])
def test_a_box_covers_the_pixels_its_polygon_covers(x0):
    """A box and the polygon of its corners are one area: a pixel is in either when its
    centre is inside or on the edge (old code: 2.5..4.5 as a box was columns 2, 3, as a
    polygon 2, 3, 4)."""
    box = (x0, 1.5, x0 + 2.0, 4.5)
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
    as_box = rasterize(Instance(0, 1, box=box), H, W)
    as_polygon = rasterize(Instance(0, 1, polygons=(corners,)), H, W)
    assert (as_box == as_polygon).all()


def test_a_mot_box_at_half_pixels_covers_the_pixels_on_its_edges(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,1,3.5,1.5,2,2,1,-1,-1,-1\n")
    ann = read_annotations(path, "mot", VIDEO)
    mask = rasterize(ann.instances[0], H, W)
    assert _cols(mask) == [3, 4, 5]  # old code: [4, 5] here, [2, 3] for left 2.5
    assert np.nonzero(mask.any(1))[0].tolist() == [1, 2, 3]


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def _coco(score) -> str:
    image = {"id": 1, "file_name": "frame_000000.png", "width": W, "height": H}
    ann = {"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "score": score}
    cats = [{"id": 1, "name": "fish"}]
    return json.dumps({"images": [image], "annotations": [ann], "categories": cats})


def _cvat(score: str) -> str:
    return (
        "<annotations><meta><task><size>4</size></task></meta>"
        '<track id="0" label="fish"><box frame="0" keyframe="1" outside="0" occluded="0" '
        f'xtl="1" ytl="1" xbr="4" ybr="4"><attribute name="score">{score}</attribute></box>'
        "</track></annotations>"
    )


def _ytvis(score) -> str:
    video = {"id": 1, "width": W, "height": H, "length": 1}
    ann = {"id": 1, "video_id": 1, "category_id": 1, "segmentations": [[[1, 1, 4, 1, 4, 4]]]}
    ann["bboxes"] = [[1, 1, 3, 3]]
    ann["frame_scores"] = [score]
    return json.dumps(
        {"videos": [video], "annotations": [ann], "categories": [{"id": 1, "name": "fish"}]}
    )


SCORES = [
    ("mot-percent", "mot", "d.txt", "1,1,1,1,3,3,35.0,-1,-1,-1\n", "line 1: conf '35.0'"),
    ("mot-logit", "mot", "d.txt", "1,1,1,1,3,3,-2.3,-1,-1,-1\n", "line 1: conf '-2.3'"),
    ("mot-nan", "mot", "d.txt", "1,1,1,1,3,3,nan,-1,-1,-1\n", "line 1: conf 'nan'"),
    ("coco-percent", "coco", "a.json", _coco(35.0), "annotations[0] (id 5): score 35.0"),
    ("ytvis-percent", "ytvis", "a.json", _ytvis(87), "score 87"),
    ("cvat-percent", "cvat", "a.xml", _cvat("35"), "score '35'"),
    ("viame-percent", "viame", "a.csv", "0,,0,1,1,4,4,35,-1,fish,35\n", "confidence (field 8)"),
]


@pytest.mark.parametrize(
    ("fmt", "name", "text", "culprit"), [c[1:] for c in SCORES], ids=[c[0] for c in SCORES]
)
def test_a_score_outside_0_1_is_refused(tmp_path, fmt, name, text, culprit):
    """Old code: 35.0 (a percentage) or -2.3 (a logit) was stored as the object's score
    (a negative MOT or VIAME conf as 1.0); NaN was refused already."""
    path = _write(tmp_path / name, text)
    with pytest.raises(FormatError) as got:
        read_annotations(path, fmt, VIDEO)
    assert str(path) in str(got.value) and culprit in str(got.value)
    if "nan" not in culprit:
        assert "is not a score in [0, 1]: rescale" in str(got.value)


def test_minus_one_is_still_no_score(tmp_path):
    """-1 is the MOT and VIAME blank: the box has no score (1.0 in the store)."""
    mot = read_annotations(_write(tmp_path / "d.txt", "1,1,1,1,3,3,-1,-1,-1,-1\n"), "mot", VIDEO)
    viame = read_annotations(_write(tmp_path / "v.csv", "0,,0,1,1,4,4,-1,-1\n"), "viame", VIDEO)
    assert mot.instances[0].score is None and viame.instances[0].score is None


def test_scores_0_and_1_are_taken(tmp_path):
    text = "1,1,1,1,3,3,0,-1,-1,-1\n2,1,1,1,3,3,1,-1,-1,-1\n"
    ann = read_annotations(_write(tmp_path / "d.txt", text), "mot", VIDEO)
    assert [i.score for i in ann.instances] == [0.0, 1.0]


@pytest.mark.parametrize(
    "text", ["<annotations/>", "<annotations><version>1.1</version><meta/></annotations>"]
)
def test_a_cvat_file_with_no_meta_and_no_tracks_is_refused(tmp_path, text):
    """Old code: a store with every frame empty, read as 'no animals seen'."""
    path = _write(tmp_path / "a.xml", text)
    with pytest.raises(FormatError, match="no <meta> task and no tracks or images"):
        read_annotations(path, "cvat", VIDEO)


def test_a_cvat_task_with_no_tracks_is_still_a_task_where_nothing_was_seen(tmp_path):
    path = _write(tmp_path / "a.xml", "<annotations><meta><task><size>4</size></task></meta>")
    path.write_text(path.read_text() + "</annotations>")
    assert read_annotations(path, "cvat", VIDEO).instances == ()


@pytest.mark.parametrize(
    ("fmt", "value", "words"),
    [
        ("mot", "1", "--first-frame goes with --format mots, not --format mot"),
        ("mots", "-5", "--first-frame must be a non-negative integer, got -5"),
    ],
)
def test_the_cli_names_first_frame_as_typed(tmp_path, capsys, fmt, value, words):
    """Old code: 'first_frame applies to the mots format only' (the Python name), and
    'first_frame must be ...' for a negative one."""
    path = _write(tmp_path / "d.txt", "")
    argv = ["import", str(path), "--format", fmt, "--video", str(tmp_path / "none.mp4")]
    code = main([*argv, "-o", str(tmp_path / "s.zarr"), "--first-frame", value])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"ecoseg: error: {words}"
    assert not (tmp_path / "s.zarr").exists()


def test_polygon_covers_is_what_the_fill_paints():
    """The check that refuses a polygon covering no pixel answers most polygons from one row's
    crossings; it must agree with the fill that paints them (skimage's), edges on pixel
    centres, flat and self-crossing polygons included."""
    from skimage.draw import polygon as draw_polygon

    from ecoseg.formats._painting import polygon_covers

    rng = np.random.default_rng(7)
    for k in range(3000):
        pts = rng.uniform(-3, W + 3, (int(rng.integers(3, 9)), 2))
        if k % 3 == 0:
            pts = np.round(pts * 2) / 2  # vertices on pixel centres and edges
        if k % 5 == 0:
            pts[:, 1] = pts[:, 1] * 0.05 + rng.uniform(0, H)  # thin slivers
        rows, _ = draw_polygon(pts[:, 1] - 0.5, pts[:, 0] - 0.5, shape=(H, W))
        assert polygon_covers(pts, H, W) == (len(rows) > 0), pts.tolist()


def test_polygon_covers_anywhere_is_what_the_fill_paints_wherever_it_lies():
    """Whether a polygon covers any pixel centre, on the frame or beyond it, agrees with the
    fill's own test of every centre of its box (skimage's ``points_in_poly``, which its fill
    runs), flat polygons and slivers included."""
    from skimage.measure import points_in_poly

    from ecoseg.formats._painting import polygon_covers_anywhere

    rng = np.random.default_rng(3)
    for k in range(2000):
        pts = rng.uniform(-20, 20, (int(rng.integers(3, 9)), 2))
        if k % 3 == 0:
            pts = np.round(pts * 2) / 2  # vertices on pixel centres and edges
        if k % 5 == 0:
            pts[:, 1] = pts[:, 1] * 0.03 + rng.uniform(-5, 5)  # thin slivers
        if k % 11 == 0:  # points on a line
            pts[2:] = pts[0] + np.outer(rng.uniform(0, 2, len(pts) - 2), pts[1] - pts[0])
        edges = pts - 0.5  # pixel centres at integers, as the fill takes them
        low, high = np.floor(edges.min(0)) - 1, np.ceil(edges.max(0)) + 1
        xs, ys = np.meshgrid(np.arange(low[0], high[0] + 1), np.arange(low[1], high[1] + 1))
        fill = points_in_poly(np.stack([xs.ravel(), ys.ravel()], axis=1), edges).any()
        assert polygon_covers_anywhere(pts) == fill, pts.tolist()


@pytest.mark.parametrize(
    ("points", "covers"),
    [
        ([[-30005, 5], [-15005, 15005], [-5, 30005]], False),  # points on a line
        ([[0, 0], [20000, 20000.3], [20000, 20000.4]], False),  # a sliver between centres
        ([[-30005, 5], [-5, 5], [-5, 30005]], True),
        ([[0, 0], [20000, 20000.3], [20000, 20001.4]], True),  # a thin wedge
    ],
)
def test_a_huge_polygon_covers_pixels_only_if_the_fill_paints_some(points, covers):
    """Old code took any polygon spanning more than 2048 x 2048 pixels to cover pixel
    centres (filling it exactly cost its area: 10 s for the sliver), so a flat one beyond
    the frame was an animal out of view, not a broken annotation."""
    from ecoseg.formats._painting import polygon_covers_anywhere

    assert polygon_covers_anywhere(np.array(points, float)) is covers
