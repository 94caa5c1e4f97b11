"""CVAT for video 1.1: the documented schema, field by field, and CVAT's mask RLE.

Schema: https://docs.cvat.ai/docs/other/xml_format/ ("Version 1.1", "Interpolation").
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from formats_helpers import make_store, task_xml

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, export, import_annotations, read_annotations
from ecoseg.formats.cvat import SkippedFramesWarning, cvat_to_mask, mask_to_cvat
from ecoseg.store import MaskStore

TASK_FIELDS = [
    "id",
    "name",
    "size",
    "mode",
    "overlap",
    "bugtracker",
    "flipped",
    "created",
    "updated",
    "start_frame",
    "stop_frame",
    "frame_filter",
    "labels",
    "segments",
    "owner",
    "original_size",
]
MASK_ATTRS = {
    "frame",
    "outside",
    "occluded",
    "keyframe",
    "rle",
    "left",
    "top",
    "width",
    "height",
    "z_order",
}


def decode_runs(runs, w, h):
    """The spec's RLE read independently: alternating background/object runs, row-major."""
    return np.repeat(np.arange(len(runs)) % 2 == 1, runs).reshape(h, w)


def test_documented_schema_field_by_field(sample, tmp_path):
    truth = sample[0]
    path = export(truth, "cvat", tmp_path / "a.xml")
    root = ET.parse(path).getroot()
    store = MaskStore.open(truth)
    labels = store.read_labels()
    n = labels.shape[0]

    assert root.tag == "annotations"
    assert root.findtext("version") == "1.1"
    task = root.find("meta/task")
    assert [child.tag for child in task] == TASK_FIELDS
    assert task.findtext("size") == str(n)
    # every video frame is a task frame: CVAT maps frame k of the task to video frame k
    assert (task.findtext("start_frame"), task.findtext("stop_frame")) == ("0", str(n - 1))
    assert task.findtext("frame_filter") == ""
    assert task.findtext("mode") == "interpolation"
    assert task.findtext("flipped") in ("True", "False")
    assert task.findtext("original_size/width") == "640"
    assert task.findtext("original_size/height") == "360"
    segment = task.find("segments/segment")
    assert [c.tag for c in segment] == ["id", "start", "stop", "url"]
    assert (segment.findtext("start"), segment.findtext("stop")) == ("0", str(n - 1))
    assert [c.tag for c in task.find("owner")] == ["username", "email"]
    assert root.find("meta/dumped") is not None
    label_names = []
    for label in task.findall("labels/label"):
        label_names.append(label.findtext("name"))
        assert label.findtext("type") == "mask"
        score, object_id = label.findall("attributes/attribute")
        for attr in (score, object_id):
            assert [c.tag for c in attr] == [
                "name",
                "mutable",
                "input_type",
                "default_value",
                "values",
            ]
        assert score.findtext("name") == "score" and score.findtext("input_type") == "number"
        assert score.findtext("mutable") == "True"
        assert object_id.findtext("name") == "object_id"
        assert object_id.findtext("input_type") == "text"
    classes = {o["id"]: o["class"] for o in store.objects}
    assert sorted(label_names) == sorted(set(classes.values()))

    # one track per mask, as CVAT writes a mask (dump_as_cvat_interpolation), numbered from 0
    tracks = root.findall("track")
    assert [int(t.get("id")) for t in tracks] == list(range(len(tracks)))
    present: dict[int, list[int]] = {}
    for track in tracks:
        assert list(track.attrib) == ["id", "label", "source", "group_id"]
        assert track.get("source") in ("manual", "auto")
        oid = int(track.get("group_id"))
        assert track.get("label") == classes[oid]
        mask, *end = track
        assert mask.tag == "mask" and set(mask.attrib) == MASK_ATTRS
        for flag in ("outside", "occluded", "keyframe"):
            assert mask.get(flag) in ("0", "1")
        assert (mask.get("outside"), mask.get("keyframe")) == ("0", "1")
        frame = int(mask.get("frame"))
        left, top, w, h = (int(mask.get(k)) for k in ("left", "top", "width", "height"))
        runs = [int(v) for v in mask.get("rle").split(", ")]
        assert sum(runs) == w * h
        expected = labels[frame] == oid
        crop = np.zeros_like(expected)
        crop[top : top + h, left : left + w] = decode_runs(runs, w, h)
        np.testing.assert_array_equal(crop, expected)
        rows, cols = np.nonzero(expected)
        assert (left, top, left + w, top + h) == (
            cols.min(),
            rows.min(),
            cols.max() + 1,
            rows.max() + 1,
        )
        score, object_id = mask.findall("attribute")
        assert score.get("name") == "score" and float(score.text) == 1.0
        assert object_id.get("name") == "object_id" and object_id.text == str(oid)
        if frame + 1 < n:  # the mask ends on the next task frame, as CVAT ends it
            (after,) = end
            assert after.tag == "mask" and set(after.attrib) == MASK_ATTRS
            assert (after.get("frame"), after.get("outside")) == (str(frame + 1), "1")
            assert after.get("rle") == mask.get("rle")  # CVAT's importer reads its rle too
        else:
            assert end == []
        present.setdefault(oid, []).append(frame)
    frames = [int(t[0].get("frame")) for t in tracks]
    assert frames == sorted(frames)  # written as the frames come
    assert present == {
        oid: [t for t in range(n) if (labels[t] == oid).any()]
        for oid in classes
        if (labels == oid).any()
    }


def test_rle_matches_the_documented_example():
    """The spec's example mask: 13 x 15 pixels, runs "3, 5, 7, 7, 5, 9, ..."."""
    runs = [
        3,
        5,
        7,
        7,
        5,
        9,
        3,
        11,
        2,
        11,
        2,
        12,
        1,
        12,
        1,
        26,
        1,
        12,
        1,
        12,
        2,
        11,
        3,
        9,
        5,
        7,
        7,
        5,
        3,
    ]
    mask = cvat_to_mask(runs, 707, 888, 13, 15, 1200, 1600, "example")
    np.testing.assert_array_equal(mask[888:903, 707:720], decode_runs(runs, 13, 15))
    assert mask_to_cvat(mask) == (runs, 707, 888, 13, 15)


def test_polygons_boxes_gaps_and_track_zero(tmp_path):
    xml = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
  <meta><task><size>6</size><original_size><width>10</width><height>8</height></original_size>
  </task></meta>
  <track id="0" label="crab" source="manual">
    <box frame="0" xtl="0" ytl="0" xbr="2" ybr="2" outside="0" occluded="0" keyframe="1"/>
    <box frame="2" xtl="2" ytl="2" xbr="4" ybr="4" outside="0" occluded="0" keyframe="1"/>
    <box frame="4" xtl="2" ytl="2" xbr="4" ybr="4" outside="1" occluded="0" keyframe="1"/>
  </track>
  <track id="1" label="sea star" source="manual">
    <polygon frame="3" points="5,1;9,1;9,5;5,5" outside="0" occluded="0" keyframe="1"/>
  </track>
</annotations>"""
    (tmp_path / "c.xml").write_text(xml)
    video = VideoInfo(10, 8, np.arange(6) / 5, {})
    ann = read_annotations(tmp_path / "c.xml", "cvat", video)
    assert {t.id: t.class_ for t in ann.tracks} == {1: "crab", 2: "sea star"}
    crab = [(i.frame, i.box) for i in ann.instances if i.track == 1]
    assert crab == [(0, (0, 0, 2, 2)), (1, (1, 1, 3, 3)), (2, (2, 2, 4, 4)), (3, (2, 2, 4, 4))]
    assert [i.frame for i in ann.instances if i.track == 2] == [3, 4, 5]  # to the end
    out = import_annotations(tmp_path / "c.xml", "cvat", video, tmp_path / "s.zarr")
    lab = MaskStore.open(out).read_labels()
    assert (lab[3, 1:5, 5:9] == 2).all() and (lab[3] == 2).sum() == 16
    assert (lab[4] == 1).sum() == 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("<width>640</width>", "<width>64</width>"),
            r"<original_size> 64x360, but the video .*video\.mp4 is 640x360",
        ),
        (('frame="3" keyframe', 'frame="300" keyframe'), r'<mask frame="300">: frame 300 is past'),
        (('outside="0"', 'outside="yes"'), r'outside="yes" must be 0 or 1'),
        (("<annotations>", "<annotations><broken>"), "not well-formed XML"),
    ],
)
def test_bad_files_name_the_element(sample, tmp_path, edit, message):
    truth, _, info, _ = sample
    path = export(truth, "cvat", tmp_path / "a.xml")
    text = open(path).read()
    assert edit[0] in text
    (tmp_path / "a.xml").write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(FormatError, match=message):
        read_annotations(tmp_path / "a.xml", "cvat", info)


def test_a_track_id_beyond_uint32_names_the_track(tmp_path):
    """Found only when the store was created, in a message naming the store, not the file."""
    store = make_store(np.ones((1, 3, 3)))
    path = export(store, "cvat", tmp_path / "a.xml")
    text = open(path).read().replace('<track id="0"', '<track id="4294967296"')
    unnamed = re.sub(r' group_id="1"|\s*<attribute name="object_id">1</attribute>', "", text)
    (tmp_path / "a.xml").write_text(unnamed)  # as CVAT writes a mask: its track is its object
    with pytest.raises(FormatError, match=r'a\.xml: <track id="4294967296">: object id 42949'):
        read_annotations(tmp_path / "a.xml", "cvat", VideoInfo(3, 3, np.zeros(1), {}))
    named = text.replace('"object_id">1<', '"object_id">4294967296<')
    (tmp_path / "a.xml").write_text(named)
    where = r'<track id="4294967296"> <mask frame="0">: object id 4294967296 is outside'
    with pytest.raises(FormatError, match=where):
        read_annotations(tmp_path / "a.xml", "cvat", VideoInfo(3, 3, np.zeros(1), {}))


def test_runs_that_do_not_fill_the_box(tmp_path):
    store = make_store(np.ones((1, 3, 3)))
    path = export(store, "cvat", tmp_path / "a.xml")
    text = open(path).read().replace('rle="0, 9"', 'rle="0, 8"')
    (tmp_path / "a.xml").write_text(text)
    with pytest.raises(FormatError, match=r'<track id="0"> <mask frame="0">: rle runs add up to 8'):
        read_annotations(tmp_path / "a.xml", "cvat", VideoInfo(3, 3, np.zeros(1), {}))


BOX = '<box frame="{}" xtl="{}" ytl="0" xbr="{}" ybr="2" outside="{}" occluded="0" keyframe="1"/>'
STEP5 = "<size>4</size><start_frame>10</start_frame><stop_frame>29</stop_frame>"
STEP5 += "<frame_filter>step=5</frame_filter>"


def test_a_stepped_task_is_held_on_its_own_frames_only(tmp_path):
    """A task of every 5th frame from 10 (CVAT writes video frame numbers 10, 15, 20, 25):
    a hand-made track of two boxes is interpolated and held over those frames only, never
    over the frames between, which the annotator never saw (old code: shapes cut at <size>,
    read as a video frame count: only frames 10 and 20)."""
    shapes = BOX.format(10, 0, 2, 0) + BOX.format(20, 4, 6, 0)
    (tmp_path / "t.xml").write_text(task_xml(STEP5, shapes))
    video = VideoInfo(10, 8, np.arange(40) / 30, {})
    with pytest.warns(SkippedFramesWarning, match=r"t\.xml: the task shows one video frame in 5"):
        ann = read_annotations(tmp_path / "t.xml", "cvat", video)
    got = [(i.frame, i.box) for i in ann.instances]
    assert got == [(10, (0, 0, 2, 2)), (15, (2, 0, 4, 2)), (20, (4, 0, 6, 2)), (25, (4, 0, 6, 2))]
    with pytest.warns(SkippedFramesWarning, match="never annotated and are left empty"):
        out = import_annotations(tmp_path / "t.xml", "cvat", video, tmp_path / "s.zarr")
    lab = MaskStore.open(out).read_labels()
    assert [t for t in range(40) if lab[t].any()] == [10, 15, 20, 25]


def test_a_task_from_a_start_frame_holds_to_its_own_end(tmp_path):
    """start_frame 100, 5 frames: a shape at 102 is held to the task's last frame, 104 (old
    code: held only on its own frame, <size> 5 read as the end)."""
    meta = "<size>5</size><start_frame>100</start_frame><stop_frame>104</stop_frame>"
    poly = '<polygon frame="102" points="1,1;5,1;5,5" outside="0" occluded="0" keyframe="1"/>'
    (tmp_path / "t.xml").write_text(task_xml(meta, poly))
    ann = read_annotations(tmp_path / "t.xml", "cvat", VideoInfo(10, 8, np.arange(120) / 30, {}))
    assert [i.frame for i in ann.instances] == [102, 103, 104]


@pytest.mark.filterwarnings("ignore::ecoseg.formats.cvat.SkippedFramesWarning")
def test_an_outside_shape_one_step_past_the_end_ends_the_track(tmp_path):
    """CVAT ends a one-frame shape with an outside shape one step later, also past the end."""
    shapes = BOX.format(25, 0, 2, 0) + BOX.format(30, 0, 2, 1)
    (tmp_path / "t.xml").write_text(task_xml(STEP5, shapes))
    ann = read_annotations(tmp_path / "t.xml", "cvat", VideoInfo(10, 8, np.arange(40) / 30, {}))
    assert [i.frame for i in ann.instances] == [25]


@pytest.mark.filterwarnings("ignore::ecoseg.formats.cvat.SkippedFramesWarning")
@pytest.mark.parametrize(
    ("frame", "outside", "message"),
    [
        (
            12,
            0,
            r'<box frame="12">: frame 12 is not a frame of the task \(<start_frame> 10, '
            r"<frame_filter> step=5: video frames 10, 15, 20, 25\)",
        ),
        (5, 1, "frame 5 is not a frame of the task"),
        (30, 0, r"frame 30 is past the end of the task \(its last frame is 25\)"),
        (35, 1, "frame 35 is past the end of the task"),
    ],
)
def test_a_shape_off_the_task_frames_is_refused(tmp_path, frame, outside, message):
    (tmp_path / "t.xml").write_text(task_xml(STEP5, BOX.format(frame, 0, 2, outside)))
    with pytest.raises(FormatError, match=message):
        read_annotations(tmp_path / "t.xml", "cvat", VideoInfo(10, 8, np.arange(40) / 30, {}))


@pytest.mark.filterwarnings("ignore::ecoseg.formats.cvat.SkippedFramesWarning")
@pytest.mark.parametrize(
    ("size", "frames"), [(2, "10, 15)"), (9, "10, 15, 20, ..., 50)"), (None, "10, 15, 20, ...)")]
)
def test_a_refusal_lists_the_task_frames_it_shows_and_no_other(tmp_path, size, frames):
    """Old code wrote "10, 15, 20..25": read as every frame from 20 to 25, and a task of two
    frames became "10, 15, 20..15"."""
    meta = "<start_frame>10</start_frame><frame_filter>step=5</frame_filter>"
    meta += f"<size>{size}</size>" if size else ""
    (tmp_path / "t.xml").write_text(task_xml(meta, BOX.format(12, 0, 2, 0)))
    with pytest.raises(FormatError) as caught:
        read_annotations(tmp_path / "t.xml", "cvat", VideoInfo(10, 8, np.arange(60) / 30, {}))
    assert str(caught.value).endswith(f"video frames {frames}")


def test_a_frame_filter_other_than_a_step_is_refused(tmp_path):
    meta = "<size>4</size><frame_filter>every=5</frame_filter>"
    (tmp_path / "t.xml").write_text(task_xml(meta, BOX.format(0, 0, 2, 0)))
    with pytest.raises(FormatError, match=r"<frame_filter> 'every=5' is not understood"):
        read_annotations(tmp_path / "t.xml", "cvat", VideoInfo(10, 8, np.arange(8) / 30, {}))


@pytest.mark.parametrize("name", ["ecoseg.formats.cvat", "ecoseg.formats._cvat_shapes"])
def test_the_examples_pass_a_plain_doctest_run_too(name, tmp_path, monkeypatch):
    """``python -m pytest --doctest-modules`` runs them with ELLIPSIS only (pytest's default),
    without the NORMALIZE_WHITESPACE tests/test_docstrings.py adds: an example whose long
    output line was wrapped failed there."""
    import doctest
    import importlib

    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    failed = []
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        out: list[str] = []
        if doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test, out=out.append).failed:
            failed.append("".join(out))
    assert not failed, "\n".join(failed)
