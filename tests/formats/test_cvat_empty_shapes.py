"""CVAT shapes that cannot become pixels, in files without a ``<meta>`` section (hand-made or
cut down; CVAT's own exports have one, and the rules are the same there).

A polygon whose points lie on a line, a box smaller than a pixel between pixel centres, a mask
whose runs set no pixel: each was imported as an object with no mask (or a frame without the
animal) and nothing was said. They are refused, naming the file and the shape, as an ellipse
that covers no pixel already was. A track with no visible shape (all its shapes
``outside="1"``, or none) became an object with no mask: it is left out with the warning that
names tracks of points and polylines. (A box wholly outside the frame is an animal out of
view there, left out as in every format: tests/formats/test_boxes_out_of_view.py.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, read_annotations
from ecoseg.formats.cvat import ShapesLeftOutWarning

VIDEO = VideoInfo(10, 8, np.arange(4) / 5, {})
GOOD = '<box frame="0" keyframe="1" outside="0" occluded="0" xtl="1" ytl="1" xbr="4" ybr="4"/>'


def no_meta(tmp_path, body: str):
    path = tmp_path / "annotations.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<annotations>\n  <version>1.1</version>\n{body}\n</annotations>'
    )
    return path


@pytest.mark.parametrize(
    ("shape", "what"),
    [
        ('<polygon frame="1" keyframe="1" outside="0" points="1,1;4,4;8,8"/>', "polygon"),
        (
            '<box frame="1" keyframe="1" outside="0" xtl="2.6" ytl="2.6" xbr="3.4" ybr="3.4"/>',
            "box",
        ),
        (
            '<box frame="1" keyframe="1" outside="0" xtl="2.6" ytl="2.6" xbr="3.4" ybr="3.4" '
            'rotation="30"/>',
            "box",
        ),
        (
            '<mask frame="1" keyframe="1" outside="0" rle="6" left="1" top="1" width="3" '
            'height="2"/>',
            "mask",
        ),
    ],
    ids=["flat-polygon", "sub-pixel-box", "sub-pixel-rotated-box", "empty-mask"],
)
def test_a_shape_that_covers_no_pixel_is_refused_naming_it(tmp_path, shape, what):
    path = no_meta(
        tmp_path,
        f'<track id="0" label="crab">{GOOD}</track>\n<track id="1" label="goby">{shape}</track>',
    )
    message = rf'annotations\.xml: <track id="1"> <{what} frame="1">: the {what} covers no pixel'
    with pytest.raises(FormatError, match=message):
        read_annotations(path, "cvat", VIDEO)


def test_an_image_shape_that_covers_no_pixel_is_refused_naming_it(tmp_path):
    path = no_meta(
        tmp_path,
        '<image id="0" name="frame_000000"><polygon label="goby" points="1,1;4,4;8,8"/></image>',
    )
    with pytest.raises(FormatError, match=r'<image id="0"> <polygon> #1: the polygon covers no'):
        read_annotations(path, "cvat", VIDEO)


def test_a_shape_over_one_pixel_centre_is_kept(tmp_path):
    # the refusal is for shapes that cover nothing: one pixel centre inside is an animal
    path = no_meta(
        tmp_path,
        '<track id="0" label="goby"><box frame="0" keyframe="1" outside="0" xtl="2.4" '
        'ytl="2.4" xbr="2.6" ybr="2.6"/></track>',
    )
    ann = read_annotations(path, "cvat", VIDEO)
    assert [(i.frame, i.track) for i in ann.instances] == [(0, 1)]


def test_a_track_with_no_visible_shape_is_left_out_with_a_warning(tmp_path):
    path = no_meta(
        tmp_path,
        f'<track id="0" label="crab">{GOOD}</track>\n'
        '<track id="1" label="goby"><box frame="1" keyframe="1" outside="1" xtl="1" ytl="1" '
        'xbr="3" ybr="3"/></track>\n<track id="2" label="eel"></track>\n'
        '<track id="3" label="ray"><points frame="0" keyframe="1" outside="0" points="2,2"/>'
        "</track>",
    )
    with pytest.warns(ShapesLeftOutWarning) as caught:
        ann = read_annotations(path, "cvat", VIDEO)
    (message,) = [str(w.message) for w in caught]
    assert "3 tracks left out (1 of <points>, 2 with no visible shape)" in message
    assert [(t.id, t.class_) for t in ann.tracks] == [(1, "crab")]  # no goby, eel: no mask


def test_a_file_of_drawn_shapes_reads_without_a_warning(tmp_path):
    path = no_meta(tmp_path, f'<track id="0" label="crab">{GOOD}</track>')
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShapesLeftOutWarning)
        ann = read_annotations(path, "cvat", VIDEO)
    assert [t.class_ for t in ann.tracks] == ["crab"]
