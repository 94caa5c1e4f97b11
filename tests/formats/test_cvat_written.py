"""CVAT for video 1.1 files as CVAT writes them: rotated boxes, ellipses, tracks of shapes
without an area, masks (which CVAT never tracks) and project exports.

Facts from CVAT's own code (cvat-ai/cvat, ``cvat/apps/dataset_manager/formats/cvat.py``:
``dump_as_cvat_interpolation``, ``load_anno``; ``transformations.py``:
``RotatedBoxesToPolygons``, ``EllipsesToMasks``): a box's ``rotation`` is in degrees and turns
its corners about the box's centre, clockwise on screen; an ellipse is ``cx, cy, rx, ry`` and a
``rotation``; a mask shape is written as a track of its own (a keyframe and, unless that would
reach the task's last frame, an ``outside`` shape one step later), and a mask track is read
back as its first shape; a project export has ``<meta><project>...<tasks><task>`` and a
``task_id`` (and ``subset``) on each track.
"""

from __future__ import annotations

import numpy as np
import pytest

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, read_annotations
from ecoseg.formats._painting import rasterize
from ecoseg.formats.cvat import ShapesLeftOutWarning

META = "<size>4</size><mode>interpolation</mode><start_frame>0</start_frame>"
META += "<stop_frame>3</stop_frame>"
VIDEO = VideoInfo(10, 8, np.arange(4) / 5, {})


def cvat_file(tmp_path, tracks: str):
    """A CVAT for video 1.1 file of a 4-frame 10x8 task holding ``tracks``."""
    path = tmp_path / "annotations.xml"
    path.write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><id>7</id><name>reef</name>{META}<overlap>0</overlap>
    <original_size><width>10</width><height>8</height></original_size></task>
    <dumped>2025-01-01 00:00:00.000000+00:00</dumped></meta>
  {tracks}
</annotations>"""
    )
    return path


def masks_of(ann, track):
    return {i.frame: rasterize(i, 8, 10) for i in ann.instances if i.track == track}


def test_a_rotated_box_is_its_turned_corners(tmp_path):
    """A 6x2 box turned 90 degrees stands 2 wide and 6 high about the same centre (5, 4)."""
    path = cvat_file(
        tmp_path,
        """<track id="0" label="eel" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="2.00" ytl="3.00" xbr="8.00"
         ybr="5.00" rotation="90.00" z_order="0"/>
    <box frame="1" keyframe="1" outside="1" occluded="0" xtl="2.00" ytl="3.00" xbr="8.00"
         ybr="5.00" rotation="90.00" z_order="0"/>
  </track>""",
    )
    ann = read_annotations(path, "cvat", VIDEO)
    (mask,) = masks_of(ann, 1).values()
    expected = np.zeros((8, 10), bool)
    expected[1:7, 4:6] = True
    np.testing.assert_array_equal(mask, expected)


def test_a_box_turned_by_a_whole_turn_stays_a_box(tmp_path):
    path = cvat_file(
        tmp_path,
        """<track id="0" label="eel" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="2" ytl="3" xbr="8" ybr="5"
         rotation="360.00" z_order="0"/></track>""",
    )
    ann = read_annotations(path, "cvat", VIDEO)
    assert {i.box for i in ann.instances} == {(2.0, 3.0, 8.0, 5.0)}


def test_a_turned_box_is_interpolated_turning_the_short_way(tmp_path):
    """CVAT interpolates a box's rotation with its edges (cvat-core ``RectangleTrack``, the
    server's ``simple_interpolation``), the short way round: keyframes on frames 0 and 3,
    60 degrees to 330 (-90, not +270), the box moving 3 right. Frame 1: box (2, 2, 6, 4),
    centre (4, 3), turned 30 degrees; frame 2: box (3, 2, 7, 4) and not turned. Old code held
    frame 0's box (turned boxes were held, plain ones interpolated)."""
    path = cvat_file(
        tmp_path,
        """<track id="0" label="eel" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1" ytl="2" xbr="5" ybr="4"
         rotation="60" z_order="0"/>
    <box frame="3" keyframe="1" outside="0" occluded="0" xtl="4" ytl="2" xbr="8" ybr="4"
         rotation="330" z_order="0"/></track>""",
    )
    ann = read_annotations(path, "cvat", VIDEO)
    one, two = (i for i in ann.instances if i.frame in (1, 2))
    c, s = np.sqrt(3) / 2, 0.5  # cos and sin of 30 degrees, corners (4, 3) + turned (+-2, +-1)
    expected = [
        (4 - 2 * c + s, 3 - 2 * s - c),
        (4 + 2 * c + s, 3 + 2 * s - c),
        (4 + 2 * c - s, 3 + 2 * s + c),
        (4 - 2 * c - s, 3 - 2 * s + c),
    ]
    np.testing.assert_allclose(one.polygons[0], expected, atol=1e-9)
    assert "held to frame 1" in one.where
    flat = np.zeros((8, 10), bool)
    flat[2:4, 3:7] = True
    np.testing.assert_array_equal(rasterize(two, 8, 10), flat)


def test_an_ellipse_is_the_pixels_whose_centre_is_inside(tmp_path):
    """Centre (5, 4), radii 3 and 1: rows 3 and 4 (centres 0.5 off, so |dx| <= 2.6), columns
    2..7; turned 90 degrees: columns 4 and 5, rows 1..6."""
    path = cvat_file(
        tmp_path,
        """<track id="0" label="urchin" source="manual">
    <ellipse frame="0" keyframe="1" outside="0" occluded="0" cx="5.00" cy="4.00" rx="3.00"
             ry="1.00" z_order="0"/>
    <ellipse frame="2" keyframe="1" outside="0" occluded="0" cx="5.00" cy="4.00" rx="3.00"
             ry="1.00" rotation="90.00" z_order="0"/>
  </track>""",
    )
    ann = read_annotations(path, "cvat", VIDEO)
    masks = masks_of(ann, 1)
    np.testing.assert_array_equal(masks[2], masks[3])  # held after the last, as in CVAT
    flat, upright = np.zeros((8, 10), bool), np.zeros((8, 10), bool)
    flat[3:5, 2:8] = True
    upright[1:7, 4:6] = True
    np.testing.assert_array_equal(masks[0], flat)
    np.testing.assert_array_equal(masks[2], upright)
    assert sorted(masks) == [0, 1, 2, 3]


def test_an_ellipse_is_interpolated_between_its_keyframes(tmp_path):
    """CVAT interpolates an ellipse as a box (cvat-core ``EllipseTrack``, the server's
    ``simple_interpolation``): its points ``cx, cy, cx + rx, cy - ry`` linearly, so centre
    and radii move linearly, and its rotation the short way round. Keyframes on frames 0 and
    3: centre (2, 4) to (5, 4), rx 1 to 4, ry 1, rotation 330 to 60 (+90 through 0). Frame 2:
    centre (4, 4), rx 3, ry 1, rotation 30 (by hand: the pixel centres (x + 0.5, y + 0.5)
    with (u / 3)^2 + v^2 <= 1, u = dx cos 30 + dy sin 30, v = -dx sin 30 + dy cos 30). The
    old code held frame 0's ellipse (a 2x2 square of pixels) on frames 1 and 2."""
    path = cvat_file(
        tmp_path,
        """<track id="0" label="urchin" source="manual">
    <ellipse frame="0" keyframe="1" outside="0" occluded="0" cx="2" cy="4" rx="1" ry="1"
             rotation="330" z_order="0"/>
    <ellipse frame="3" keyframe="1" outside="0" occluded="0" cx="5" cy="4" rx="4" ry="1"
             rotation="60" z_order="0"/></track>""",
    )
    masks = masks_of(read_annotations(path, "cvat", VIDEO), 1)
    expected = np.zeros((8, 10), bool)
    expected[2, 1:3] = True  # pixel (1, 2), centre (1.5, 2.5): u = -2.92, v = -0.05
    expected[3, 2:5] = True
    expected[4, 3:6] = True
    expected[5, 5:7] = True  # pixel (6, 5), centre (6.5, 5.5): u = 2.92, v = 0.05
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    rows, cols = np.mgrid[0:8, 0:10]
    dx, dy = cols + 0.5 - 4, rows + 0.5 - 4
    by_hand = ((dx * c + dy * s) / 3) ** 2 + (-dx * s + dy * c) ** 2 <= 1
    np.testing.assert_array_equal(by_hand, expected)  # the drawing above is that formula
    np.testing.assert_array_equal(masks[2], expected)
    one = np.zeros((8, 10), bool)  # centre (3, 4), rx 2, ry 1, turned 0: rows 3, 4
    one[3:5, 1:5] = True
    np.testing.assert_array_equal(masks[1], one)


def polygon_track(track: int, frames: dict[int, str], keyframes=None) -> str:
    """A polygon track with ``points`` on ``frames`` (keyframes: those in ``keyframes``,
    default all)."""
    shapes = "".join(
        f'<polygon frame="{f}" keyframe="{int(keyframes is None or f in keyframes)}" '
        f'outside="0" occluded="0" points="{pts}" z_order="0"/>'
        for f, pts in frames.items()
    )
    return f'<track id="{track}" label="coral" source="manual">{shapes}</track>'


def test_a_polygon_is_interpolated_between_its_keyframes(tmp_path):
    """CVAT moves a polygon towards the next keyframe's (cvat-core ``PolyTrack``, the
    server's ``polyshape_interpolation``): a square of 4 vertices to one of 5 (a vertex (6, 2)
    added on its right). Perimeter fractions (closed by the first point): 0, 1/4, 1/2, 3/4, 1
    and 0, .227, .387, .547, .773, 1; each square vertex paired with the nearest fraction
    (the 3rd, 1/2, with .547, (4, 4)), the unpaired (6, 2) with the nearest square vertex, the
    3rd (4, 4); half way (frame 2 of 0 and 4) the pair (4, 4)-(6, 2) is at (5, 3), 1.41 from
    (4, 4), more than the limit sqrt(8) / 4, so both are kept. The old code held the square
    on frames 1..3."""
    square, five = "0,0;4,0;4,4;0,4", "0,0;4,0;6,2;4,4;0,4"
    video = VideoInfo(10, 8, np.arange(5) / 5, {})
    path = cvat_file(tmp_path, polygon_track(0, {0: square, 4: five}))
    path.write_text(
        path.read_text()
        .replace("<size>4</size>", "<size>5</size>")
        .replace("<stop_frame>3</stop_frame>", "<stop_frame>4</stop_frame>")
    )
    ann = read_annotations(path, "cvat", video)
    half = next(i for i in ann.instances if i.frame == 2)
    np.testing.assert_allclose(half.polygons[0], [[0, 0], [4, 0], [5, 3], [4, 4], [0, 4]])
    assert "held to frame 2" in half.where


def test_a_moving_polygon_moves_between_its_keyframes(tmp_path):
    """Keyframes on frames 0 and 3, a 3x3 square moving 3 right: each vertex moves 1 a frame
    (one vertex paired with each), so frame 1 covers columns 2..4 (it held columns 1..3)."""
    path = cvat_file(tmp_path, polygon_track(0, {0: "1,1;4,1;4,4;1,4", 3: "4,1;7,1;7,4;4,4"}))
    masks = masks_of(read_annotations(path, "cvat", VIDEO), 1)
    expected = np.zeros((8, 10), bool)
    expected[1:4, 2:5] = True
    np.testing.assert_array_equal(masks[1], expected)
    np.testing.assert_array_equal(masks[2], np.roll(expected, 1, axis=1))


def test_a_track_moves_towards_its_outside_shape(tmp_path):
    """CVAT interpolates towards the next keyframe whether it is ``outside`` or not (cvat-core
    ``Track.getPosition``, the server's ``get_interpolated_shapes``): marking an animal gone
    between two keyframes keeps the position there in the outside shape. A box (1, 2, 5, 4)
    on frame 0, outside on frame 2 at (3, 2, 7, 4): frame 1 is (2, 2, 6, 4), nothing on 2 and
    3 (the old code held frame 0's box on frame 1). An outside shape with no coordinates
    holds the shape before up to it, as before."""
    path = cvat_file(
        tmp_path,
        """<track id="0" label="eel" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1" ytl="2" xbr="5" ybr="4"/>
    <box frame="2" keyframe="1" outside="1" occluded="0" xtl="3" ytl="2" xbr="7" ybr="4"/>
    </track><track id="1" label="eel" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1" ytl="2" xbr="5" ybr="4"/>
    <box frame="2" keyframe="1" outside="1" occluded="0"/></track>""",
    )
    ann = read_annotations(path, "cvat", VIDEO)
    boxes = {(i.track, i.frame): i.box for i in ann.instances}
    assert boxes == {
        (1, 0): (1.0, 2.0, 5.0, 4.0),
        (1, 1): (2.0, 2.0, 6.0, 4.0),
        (2, 0): (1.0, 2.0, 5.0, 4.0),
        (2, 1): (1.0, 2.0, 5.0, 4.0),
    }


def test_an_ellipse_off_the_frame_is_refused_naming_it(tmp_path):
    path = cvat_file(
        tmp_path,
        """<track id="0" label="urchin" source="manual">
    <ellipse frame="1" keyframe="1" outside="0" occluded="0" cx="50" cy="40" rx="3" ry="1"
             z_order="0"/></track>""",
    )
    with pytest.raises(FormatError, match=r'<ellipse frame="1">: the ellipse covers no pixel'):
        read_annotations(path, "cvat", VIDEO)


def test_tracks_of_points_and_polylines_are_left_out_with_a_warning(tmp_path):
    """A fish measured with a polyline and counted with a point in the same task as a boxed
    crab: the crab is imported, the others named in one warning (the file was refused)."""
    path = cvat_file(
        tmp_path,
        """<track id="0" label="grouper" source="manual">
    <polyline frame="0" keyframe="1" outside="0" occluded="0" points="1.00,1.00;6.00,2.00"
              z_order="0"/></track>
  <track id="1" label="crab" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1" ytl="1" xbr="3" ybr="3"
         z_order="0"><attribute name="score">0.5</attribute></box></track>
  <track id="2" label="goby" source="manual">
    <points frame="1" keyframe="1" outside="0" occluded="0" points="4.00,4.00" z_order="0"/>
  </track>
  <tag frame="0" label="turbid" source="manual"></tag>""",
    )
    with pytest.warns(ShapesLeftOutWarning, match=r"2 tracks left out \(1 of <polyline>, 1 of"):
        ann = read_annotations(path, "cvat", VIDEO)
    assert [(t.id, t.class_) for t in ann.tracks] == [(2, "crab")]
    assert [i.frame for i in ann.instances] == [0, 1, 2, 3]


def test_a_mask_as_cvat_writes_it_lies_on_its_frame_only(tmp_path):
    """CVAT writes a mask on the last-but-one task frame as a track of one keyframe with no
    ``outside`` shape (it would reach the last frame); CVAT reads it as that one mask, and so
    does ecoseg (it was held onto the last frame)."""
    path = cvat_file(
        tmp_path,
        """<track id="0" label="sponge" source="manual">
    <mask frame="0" keyframe="1" outside="0" occluded="0" rle="0, 4" left="1" top="1"
          width="2" height="2" z_order="0"/>
    <mask frame="1" keyframe="1" outside="1" occluded="0" rle="0, 4" left="1" top="1"
          width="2" height="2" z_order="0"/></track>
  <track id="1" label="sponge" source="manual">
    <mask frame="2" keyframe="1" outside="0" occluded="0" rle="1, 3" left="5" top="5"
          width="2" height="2" z_order="0"/></track>""",
    )
    ann = read_annotations(path, "cvat", VIDEO)
    assert sorted((i.track, i.frame) for i in ann.instances) == [(1, 0), (2, 2)]
    assert masks_of(ann, 2)[2].sum() == 3


def project_file(tmp_path, tracks: str):
    """A CVAT project export (CVAT for video 1.1) of two tasks: task 5 a 10x8 video shown every
    2nd frame, task 6 another video."""
    path = tmp_path / "annotations.xml"
    path.write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><project><id>2</id><name>reef survey</name>
    <tasks>
      <task><id>5</id><name>transect A</name><size>3</size><mode>interpolation</mode>
        <start_frame>0</start_frame><stop_frame>4</stop_frame>
        <frame_filter>step=2</frame_filter>
        <original_size><width>10</width><height>8</height></original_size></task>
      <task><id>6</id><name>transect B</name><size>4</size><mode>interpolation</mode>
        <start_frame>0</start_frame><stop_frame>3</stop_frame><frame_filter></frame_filter>
        <original_size><width>10</width><height>8</height></original_size></task>
    </tasks></project></meta>
  {tracks}
</annotations>"""
    )
    return path


BOX = (
    '<box frame="{f}" keyframe="1" outside="0" occluded="0" xtl="1" ytl="1" xbr="3" ybr="3" '
    'z_order="0"/>'
)


def test_a_project_export_of_one_tasks_tracks_reads_that_tasks_frames(tmp_path):
    """Task 5 shows frames 0, 2, 4: a box on frame 0 is held on those only (the task's
    settings were not found: it was held on every frame 0..4)."""
    path = project_file(
        tmp_path,
        f'<track id="0" label="crab" source="manual" task_id="5" subset="default">'
        f"{BOX.format(f=0)}</track>",
    )
    with pytest.warns(Warning, match="one video frame in 2"):
        ann = read_annotations(path, "cvat", VideoInfo(10, 8, np.arange(5) / 5, {}))
    assert [i.frame for i in ann.instances] == [0, 2, 4]


def test_a_project_export_of_several_tasks_is_refused_naming_them(tmp_path):
    """Tracks of two videos were laid over each other on one."""
    path = project_file(
        tmp_path,
        f'<track id="0" label="crab" source="manual" task_id="5" subset="default">'
        f"{BOX.format(f=0)}</track>"
        f'<track id="1" label="crab" source="manual" task_id="6" subset="default">'
        f"{BOX.format(f=1)}</track>",
    )
    with pytest.raises(FormatError, match=r"the tracks of 2 tasks \(task_id 5, 6\); a store is"):
        read_annotations(path, "cvat", VIDEO)
