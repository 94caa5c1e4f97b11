"""Frames deleted in CVAT are not annotated frames.

CVAT's XML does not list deleted frames; its export leaves them out: a dataset export has no
``images/frame_NNNNNN.*`` for them, and an interpolated track (shapes on every frame, the
interpolated ones ``keyframe="0"``) has no shape on them. The reader used to take such a frame
as annotated: empty ("no animals"), or worse, holding the track's previous shape.
"""

from __future__ import annotations

import json
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from formats_helpers import make_store, task_xml

from ecoseg.errors import FormatError
from ecoseg.formats import UnannotatedFramesWarning, VideoInfo, export, import_annotations
from ecoseg.info.summary import StoreSummary
from ecoseg.metrics import evaluate
from ecoseg.provenance import AnnotatedFrames
from ecoseg.store import MaskStore

N = 10
META = f"<size>{N}</size><start_frame>0</start_frame><stop_frame>{N - 1}</stop_frame>"
BOX = '<box frame="{}" xtl="1" ytl="1" xbr="4" ybr="4" outside="{}" occluded="0" keyframe="{}"/>'


def track(frames, outside_at=None, key=(0,)):
    """A box track on ``frames``, keyframes ``key`` (the others interpolated, keyframe 0)."""
    shapes = "".join(BOX.format(f, 0, int(f in key)) for f in frames)
    if outside_at is not None:
        shapes += BOX.format(outside_at, 1, 1)
    return shapes


def imported(tmp_path, shapes, name="a", images=None):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "annotations.xml").write_text(task_xml(META, shapes))
    if images is not None:
        (folder / "images").mkdir()
        for t in images:
            (folder / "images" / f"frame_{t:06d}.png").write_bytes(b"")
    video = VideoInfo(10, 8, np.arange(N) / 30, {})
    return import_annotations(folder / "annotations.xml", "cvat", video, tmp_path / f"{name}.zarr")


def present(store) -> list[int]:
    labels = MaskStore.open(store).read_labels()
    return [t for t in range(len(labels)) if labels[t].any()]


def test_a_gap_in_an_interpolated_track_is_a_deleted_frame(tmp_path):
    """CVAT wrote frames 0..9 but frame 4 (deleted): not annotated (old code: the box of
    frame 3 held onto frame 4, and nothing recorded)."""
    store = imported(tmp_path, track([0, 1, 2, 3, 5, 6, 7, 8, 9]))
    assert present(store) == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    entry = MaskStore.open(store).provenance["annotated_frames"]
    assert entry == {"start": 0, "step": 1, "count": N, "deleted": [4]}


def test_deleted_frames_at_the_end_of_the_task(tmp_path):
    """A track without an outside shape runs to the end of the task; CVAT wrote it to frame 7
    only because frames 8 and 9 were deleted (old code: held onto 8 and 9)."""
    store = imported(tmp_path, track(range(8)))
    assert present(store) == list(range(8))
    assert MaskStore.open(store).provenance["annotated_frames"]["deleted"] == [8, 9]


def test_a_track_of_keyframes_only_is_still_held(tmp_path):
    """Without interpolated shapes a file need not list every frame: a gap is held, as CVAT
    interpolates it, and no frame is taken as deleted."""
    store = imported(tmp_path, track([0, 5], outside_at=8, key=(0, 5)))
    assert present(store) == list(range(8))
    assert "annotated_frames" not in MaskStore.open(store).provenance


def test_a_frame_without_an_image_in_a_dataset_export_is_deleted(tmp_path):
    """CVAT's dataset export writes no image for a deleted frame: frame 6 has no track on it,
    so only the missing ``images/frame_000006.png`` tells (old code: frame 6 annotated,
    empty)."""
    store = imported(tmp_path, track([0, 1, 2], outside_at=3), images=[0, 1, 2, 3, 4, 5, 7, 8, 9])
    assert MaskStore.open(store).provenance["annotated_frames"]["deleted"] == [6]
    assert present(store) == [0, 1, 2]


def test_a_shape_on_a_frame_without_an_image_is_refused(tmp_path):
    with pytest.raises(FormatError, match=r'<box frame="6">: frame 6 has no image in .*images'):
        imported(tmp_path, track([5, 6, 7], key=(5, 6, 7)), images=[0, 1, 2, 3, 4, 5, 7, 8, 9])


def test_evaluate_does_not_score_a_deleted_frame(tmp_path):
    """A tracker's box on deleted frame 4 is no error (old code: the truth held frame 3's
    box there; a prediction empty there was a miss, fn 1)."""
    truth = imported(tmp_path, track([0, 1, 2, 3, 5, 6, 7, 8, 9]))
    labels = MaskStore.open(truth).read_labels().copy()
    labels[4] = 0
    labels[4, 5:, 5:] = 2  # something else on the deleted frame
    r = evaluate(make_store(labels, times=np.arange(N) / 30), truth)
    assert r["scored_frames"] == 9 and (r["clear"]["fn"], r["clear"]["fp"]) == (0, 0)
    assert r["jf"]["mean"] == 1.0


def test_exports_keep_deleted_frames_unannotated(tmp_path):
    truth = imported(tmp_path, track([0, 1, 2, 3, 5, 6, 7, 8, 9]))
    with pytest.warns(UnannotatedFramesWarning, match="cannot say which frames were deleted"):
        xml = export(truth, "cvat", tmp_path / "back.xml")
    root = ET.parse(xml).getroot()
    assert root.findtext("meta/task/size") == str(N)
    shapes = {int(m.get("frame")): m.get("outside") for m in root.iter("mask")}
    assert shapes[4] == "1" and shapes[5] == "0"  # the track ends on the deleted frame
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnannotatedFramesWarning)
        coco = json.loads(open(export(truth, "coco", tmp_path / "c.json")).read())
        davis = export(truth, "davis", tmp_path / "pngs")
    assert [im["frame_index"] for im in coco["images"]] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert not (tmp_path / "pngs" / "00004.png").exists()
    assert (tmp_path / "pngs" / "00005.png").exists() and davis


def test_a_mask_on_a_deleted_frame_is_refused_on_export(tmp_path):
    truth = imported(tmp_path, track([0, 1, 2, 3, 5, 6, 7, 8, 9]))
    labels = MaskStore.open(truth).read_labels()
    labels[4] = labels[3]  # a mask drawn on the deleted frame after the import
    prov = {"engine": "import", "annotated_frames": MaskStore.open(truth).provenance[
        "annotated_frames"]}  # fmt: skip
    changed = str(tmp_path / "changed.zarr")
    objects = [{"id": 1, "class": "grouper", "source": "imported"}]
    with MaskStore.create(changed, height=8, width=10, objects=objects, provenance=prov) as st:
        st.append(labels, np.arange(N) / 30)
        st.mark_complete()
    with pytest.raises(FormatError, match=r"frame 4.*less 1 deleted in CVAT \(4\)"):
        export(changed, "coco", tmp_path / "c.json")


def test_the_entry_reads_and_shows_its_deleted_frames():
    entry = AnnotatedFrames.from_dict({"start": 0, "step": 2, "count": 5, "deleted": [4, 2]})
    assert entry.valid and entry.kept(10) == [0, 6, 8]
    assert entry.to_dict() == {"start": 0, "step": 2, "count": 5, "deleted": [2, 4]}
    assert not AnnotatedFrames.from_dict({"start": 0, "deleted": ["4"]}).valid
    s = StoreSummary(
        "t.zarr", 10, 8, 10, True, 0.3, 0.0, 0.3, 1, 1,
        annotated_frames={"start": 0, "step": 1, "count": 10, "deleted": [4]},
    )  # fmt: skip
    assert "(10 of 10, every frame from 0) less 1 deleted in CVAT (4) only" in s._annotated()
