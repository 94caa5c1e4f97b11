"""CVAT for images 1.1 files: each ``<image>`` on its video frame, each shape an object.

Ecologists annotate every N-th frame of a video in CVAT as images; the reader used to refuse
such a file ("a CVAT for images file"). As CVAT writes it (``dump_as_cvat_annotation``): an
``<image>`` for every task frame, empty ones included, deleted frames left out; ``id`` and a
``frame_NNNNNN`` name give the video frame; shapes carry no track id.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import ecoseg
from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, import_annotations
from ecoseg.formats._cvat_images import IdentityUnknownWarning
from ecoseg.formats.cvat import ShapesLeftOutWarning, SkippedFramesWarning
from ecoseg.store import MaskStore

W, H, N = 20, 16, 20
META = (
    "<meta><task><id>7</id><size>4</size><mode>annotation</mode><start_frame>0</start_frame>"
    "<stop_frame>15</stop_frame><frame_filter>step=5</frame_filter>"
    f"<original_size><width>{W}</width><height>{H}</height></original_size></task></meta>"
)
BOX = (
    '<box label="{}" source="manual" occluded="0" xtl="{}" ytl="1" xbr="{}" ybr="5" z_order="0"{}/>'
)
# every task frame 0, 5, 10, 15 but 10 (deleted in CVAT); frame 5 holds no animal
SAMPLE = f"""<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>{META}
  <image id="0" name="frame_000000" width="{W}" height="{H}">
    {BOX.format("grouper", 1, 5, ' group_id="1"')}
    {BOX.format("grouper", 8, 12, "")}
    <polygon label="wrasse" source="manual" occluded="0" points="1,8;6,8;6,14;1,14" z_order="0"/>
    <points label="grouper" source="manual" occluded="0" points="3,3" z_order="0"/>
    <tag label="murky" source="manual"/>
  </image>
  <image id="5" name="frame_000005" width="{W}" height="{H}"/>
  <image id="15" name="frame_000015" width="{W}" height="{H}">
    <mask label="grouper" source="manual" occluded="0" rle="0, 4, 0" left="2" top="2"
          width="2" height="2" z_order="0"/>
    <ellipse label="wrasse" source="manual" occluded="0" cx="14" cy="10" rx="3" ry="2"
          z_order="0"/>
  </image>
</annotations>"""


def imported(tmp_path, text, name="a"):
    path = tmp_path / f"{name}.xml"
    path.write_text(text)
    video = VideoInfo(W, H, np.arange(N) / 30, {})
    return import_annotations(path, "cvat", video, tmp_path / f"{name}.zarr")


def objects(store) -> dict[int, list[int]]:
    labels = MaskStore.open(store).read_labels()
    return {t: sorted(set(np.unique(labels[t]).tolist()) - {0}) for t in range(len(labels))}


def test_an_images_file_is_imported_each_shape_on_its_video_frame(tmp_path):
    """Old code: refused ('a CVAT for images file; export CVAT for video 1.1 instead')."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store = imported(tmp_path, SAMPLE)
    kinds = [w.category for w in caught]
    assert kinds.count(IdentityUnknownWarning) == 1
    assert ShapesLeftOutWarning in kinds and SkippedFramesWarning in kinds
    said = str(next(w.message for w in caught if w.category is IdentityUnknownWarning))
    assert "\n" not in said and "counts and MaxN are right" in said
    seen = {t: ids for t, ids in objects(store).items() if ids}
    # three shapes on frame 0 (the points left out), two on frame 15, each its own object
    assert {t: len(ids) for t, ids in seen.items()} == {0: 3, 15: 2}
    assert set(seen[0]).isdisjoint(seen[15])
    prov = MaskStore.open(store).provenance
    assert prov["annotated_frames"] == {"start": 0, "step": 5, "count": 4, "deleted": [10]}


def test_counts_and_maxn_of_an_images_file(tmp_path):
    """Counts per class on the annotated frames only; MaxN as drawn (old code: refused)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = imported(tmp_path, SAMPLE)
        tables = ecoseg.measure(store)
    counts = tables["counts"]
    got = {(int(r.frame), r["class"]): int(r["count"]) for _, r in counts.iterrows()}
    assert set(t for t, _ in got) == {0, 5, 15}  # not 10 (deleted), nor frames between
    assert got[(0, "grouper")] == 2 and got[(0, "wrasse")] == 1
    assert got[(15, "grouper")] == 1 and got[(15, "wrasse")] == 1
    assert got.get((5, "grouper"), 0) == 0
    maxn = {r["class"]: int(r["maxn"]) for _, r in tables["maxn"].iterrows()}
    assert maxn == {"grouper": 2, "wrasse": 1}


def test_shapes_naming_a_track_id_are_one_object(tmp_path):
    """A file whose shapes name their track (track_id 0 on two frames): one object."""
    named = SAMPLE.replace(' group_id="1"', ' track_id="0"').replace(
        'rle="0, 4, 0"', 'rle="0, 4, 0" track_id="0"'
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store = imported(tmp_path, named)
    seen = objects(store)
    assert 1 in seen[0] and 1 in seen[15]  # track 0 is object 1 on both frames
    assert len(seen[0]) == 3 and len(seen[15]) == 2
    # the shapes without a track id are still objects of their own: still said
    assert [w.category for w in caught].count(IdentityUnknownWarning) == 1


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('id="15" name="frame_000015"', 'id="15" name="frame_000016"', "name is video frame 16"),
        ('id="15" name="frame_000015"', 'id="12" name="frame_000012"', "frame 12 is not a frame"),
        ('<image id="5" name="frame_000005"', '<image id="0" name="frame_000000"', "twice"),
    ],
)
def test_an_image_on_no_frame_of_the_task_is_refused(tmp_path, old, new, said):
    with pytest.raises(FormatError, match=said), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imported(tmp_path, SAMPLE.replace(old, new))


def test_an_images_file_without_meta_annotates_the_frames_it_lists(tmp_path):
    text = SAMPLE.replace(META, "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = imported(tmp_path, text)
    prov = MaskStore.open(store).provenance
    assert prov["annotated_frames"] == {"start": 0, "step": 5, "count": 4, "deleted": [10]}
    assert json.dumps(prov)  # a plain record
