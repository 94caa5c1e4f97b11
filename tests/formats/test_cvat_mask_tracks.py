"""CVAT keeps one mask per track: ecoseg writes each mask as a ``<track>`` of its own, its
object named by the ``object_id`` attribute (and ``group_id``), so a file uploaded into CVAT
keeps every mask on its frame and every object's identity, and comes back through CVAT's own
export into the same objects.

Facts from CVAT's code (cvat-ai/cvat ``cvat/apps/dataset_manager/formats/cvat.py`` and
``bindings.py``), which :func:`through_cvat` plays here: ``load_anno`` keeps a track's
keyframe shapes only and turns a track of masks into its *first* mask, a shape on that frame
with the track's label and that mask's attributes, but group 0 (the shape's own group, which
the XML does not give, not the track's ``group_id``); ``_import_shape`` keeps the attributes
that the task's label declares. ``dump_as_cvat_interpolation`` writes each shape as a track of
its own, numbered after the real tracks from 0, ``group_id`` only when the group is not 0, a
keyframe and an ``outside`` copy (attributes and ``rle`` included) on the frame one step later
when that is before the task's ``stop_frame``.

Old code: one ``<track>`` per object holding all its masks: through CVAT, each object kept
its first mask only.
"""

from __future__ import annotations

import copy
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from formats_helpers import make_store, present_scores

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, export, import_annotations, read_annotations
from ecoseg.store import MaskStore

T, H, W = 6, 8, 10


def reef_store() -> str:
    """Objects 2 (crab: frames 0-2, gone on 3, back on 4-5) and 7 (grouper: frames 1-5,
    moving), with scores that differ frame by frame."""
    labels = np.zeros((T, H, W), np.uint32)
    for t in (0, 1, 2, 4, 5):
        labels[t, 1:3, 1 : 3 + t % 3] = 2
    for t in range(1, T):
        labels[t, 4:7, t : t + 3] = 7
    scores = np.round(np.linspace(0.5, 0.99, T * 2).reshape(T, 2), 3).astype(np.float32)
    return make_store(labels, classes={2: "crab", 7: "grouper"}, scores=scores)


def through_cvat(path, out):
    """``path`` uploaded into a CVAT task whose labels are those the file declares, and the
    task exported again as "CVAT for video 1.1" (module docstring: CVAT's rules)."""
    root = ET.parse(path).getroot()
    task = root.find("meta/task")
    declared = {
        label.findtext("name"): {a.findtext("name") for a in label.findall("attributes/attribute")}
        for label in task.findall("labels/label")
    }
    step = int((task.findtext("frame_filter") or "step=1").split("=")[1])
    stop = int(task.findtext("stop_frame"))
    shapes = []
    for track in root.findall("track"):
        first = next(s for s in track if s.get("keyframe") == "1")
        assert first.tag == "mask"
        shapes.append((track.get("label"), first))
        root.remove(track)
    for k, (label, mask) in enumerate(shapes):
        kept = [a for a in mask.findall("attribute") if a.get("name") in declared[label]]
        track = ET.SubElement(root, "track", {"id": str(k), "label": label, "source": "file"})
        frame = int(mask.get("frame"))
        ends = [(frame + step, "1")] if frame + step < stop else []
        for f, outside in [(frame, "0"), *ends]:
            el = ET.SubElement(track, "mask", dict(mask.attrib, frame=str(f), outside=outside))
            el.extend(copy.deepcopy(kept))
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out


def imported(tmp_path, path, name="back") -> MaskStore:
    video = VideoInfo(W, H, np.arange(T) * 0.04, {})
    return MaskStore.open(import_annotations(path, "cvat", video, tmp_path / f"{name}.zarr"))


def same_objects(back: MaskStore, store: str) -> None:
    orig = MaskStore.open(store)
    np.testing.assert_array_equal(back.read_labels(), orig.read_labels())
    assert {o["id"]: o["class"] for o in back.objects} == {
        o["id"]: o["class"] for o in orig.objects
    }
    got, want = present_scores(back.path), present_scores(store)
    assert got.keys() == want.keys()
    np.testing.assert_allclose([got[k] for k in want], list(want.values()), rtol=1e-6)


def test_every_mask_comes_back_through_cvat_into_its_object(tmp_path):
    """Old code: through CVAT, object 2 had its frame-0 mask only and object 7 its frame-1
    mask only."""
    store = reef_store()
    out = export(store, "cvat", tmp_path / "a.xml")
    back = imported(tmp_path, through_cvat(out, tmp_path / "cvat.xml"))
    same_objects(back, store)


def test_our_round_trip_stays_lossless(tmp_path):
    store = reef_store()
    same_objects(imported(tmp_path, export(store, "cvat", tmp_path / "a.xml")), store)


def test_one_track_per_mask_as_cvat_writes_a_mask(tmp_path):
    """Old code: two tracks (ids 2 and 7), each with the masks of every frame of its object."""
    store = reef_store()
    root = ET.parse(export(store, "cvat", tmp_path / "a.xml")).getroot()
    tracks = root.findall("track")
    labels = MaskStore.open(store).read_labels()
    assert len(tracks) == sum(len(set(np.unique(lab)) - {0}) for lab in labels) == 10
    for k, track in enumerate(tracks):
        oid = int(track.get("group_id"))
        assert track.get("id") == str(k)
        assert track.get("label") == {2: "crab", 7: "grouper"}[oid]
        shown, *end = track
        frame = int(shown.get("frame"))
        assert shown.get("outside") == "0" and shown.get("keyframe") == "1"
        attrs = {a.get("name"): a.text for a in shown.findall("attribute")}
        assert attrs["object_id"] == str(oid) and float(attrs["score"]) > 0
        if frame < T - 1:
            (gone,) = end
            assert (gone.get("frame"), gone.get("outside")) == (str(frame + 1), "1")
        else:
            assert end == []


OLD_LAYOUT = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
  <meta><task><size>4</size><mode>interpolation</mode><start_frame>0</start_frame>
    <stop_frame>3</stop_frame><frame_filter></frame_filter>
    <original_size><width>10</width><height>8</height></original_size></task></meta>
  <track id="3" label="crab" source="auto">
    <mask frame="0" keyframe="1" outside="0" occluded="0" rle="0, 4" left="1" top="1" width="2"
      height="2" z_order="0"><attribute name="score">0.5</attribute></mask>
    <mask frame="1" keyframe="1" outside="0" occluded="0" rle="0, 4" left="2" top="1" width="2"
      height="2" z_order="0"><attribute name="score">0.75</attribute></mask>
    <mask frame="2" keyframe="1" outside="1" occluded="0" rle="0, 4" left="2" top="1" width="2"
      height="2" z_order="0" />
    <mask frame="3" keyframe="1" outside="0" occluded="0" rle="0, 2" left="5" top="5" width="2"
      height="1" z_order="0"><attribute name="score">0.25</attribute></mask>
  </track>
  <track id="5" label="grouper" source="auto">
    <mask frame="1" keyframe="1" outside="0" occluded="0" rle="1, 1" left="0" top="6" width="2"
      height="1" z_order="0"><attribute name="score">1.0</attribute></mask>
  </track>
</annotations>"""


def test_files_of_one_track_per_object_still_import(tmp_path):
    """The layout ecoseg wrote before: a track is an object, with a mask on each frame."""
    path = tmp_path / "old.xml"
    path.write_text(OLD_LAYOUT)
    ann = read_annotations(path, "cvat", VideoInfo(W, H, np.arange(4) * 0.04, {}))
    assert {t.id: t.class_ for t in ann.tracks} == {3: "crab", 5: "grouper"}
    got = sorted((i.frame, i.track, i.score) for i in ann.instances)
    assert got == [(0, 3, 0.5), (1, 3, 0.75), (1, 5, 1.0), (3, 3, 0.25)]


def test_a_mask_drawn_in_cvat_is_a_new_object(tmp_path):
    """A mask added in CVAT has no object_id: a new object, after the named ones (old code:
    every track its own object, by track id: objects 1 (crab), 2 (grouper) and 11)."""
    store = reef_store()
    path = through_cvat(export(store, "cvat", tmp_path / "a.xml"), tmp_path / "cvat.xml")
    text = path.read_text().replace(
        "</annotations>",
        '<track id="10" label="crab" source="manual"><mask frame="3" keyframe="1" outside="0" '
        'occluded="0" rle="0, 1" left="9" top="0" width="1" height="1" z_order="0" />'
        "</track></annotations>",
    )
    path.write_text(text)
    back = imported(tmp_path, path)
    assert {o["id"]: o["class"] for o in back.objects} == {2: "crab", 7: "grouper", 8: "crab"}
    labels = back.read_labels()
    assert labels[3, 0, 9] == 8 and (labels == 8).sum() == 1
    np.testing.assert_array_equal(
        np.where(labels == 8, 0, labels), MaskStore.open(store).read_labels()
    )


def test_masks_grouped_in_cvat_stay_objects_of_their_own(tmp_path):
    """CVAT groups masks of one frame (parts of a thing) with ``group_id``: not read as the
    object (it would put one object twice on a frame), each track its object as before."""
    path = tmp_path / "g.xml"
    grouped = OLD_LAYOUT.replace('source="auto">', 'source="auto" group_id="9">')
    path.write_text(grouped)
    ann = read_annotations(path, "cvat", VideoInfo(W, H, np.arange(4) * 0.04, {}))
    assert {t.id: t.class_ for t in ann.tracks} == {3: "crab", 5: "grouper"}


def test_one_object_with_two_labels_is_refused(tmp_path):
    store = reef_store()
    path = tmp_path / "a.xml"
    export(store, "cvat", path)
    text = path.read_text()
    k = text.rindex('label="crab"')
    path.write_text(text[:k] + 'label="grouper"' + text[k + len('label="crab"') :])
    with warnings.catch_warnings(), pytest.raises(FormatError, match="object 2 is labelled"):
        read_annotations(path, "cvat", VideoInfo(W, H, np.arange(T) * 0.04, {}))
