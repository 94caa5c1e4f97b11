"""A truth store imported from a CVAT task of every N-th frame is scored on its task frames.

The annotator of such a task saw only video frames ``start + k * step``; the frames between are
empty in the store because nobody looked. ``ecoseg import`` records the task frames in the
store's provenance (``annotated_frames``) and ``ecoseg evaluate`` compares only those.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from formats_helpers import make_store, task_xml

from ecoseg.cli import main
from ecoseg.formats import VideoInfo, import_annotations
from ecoseg.formats.cvat import SkippedFramesWarning
from ecoseg.metrics import evaluate
from ecoseg.store import MaskStore

BOX = '<box frame="{}" xtl="{}" ytl="0" xbr="{}" ybr="2" outside="0" occluded="0" keyframe="1"/>'
N = 40  # video frames


def imported(tmp_path, meta: str, shapes: str, name: str) -> str:
    (tmp_path / f"{name}.xml").write_text(task_xml(meta, shapes))
    video = VideoInfo(10, 8, np.arange(N) / 30, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFramesWarning)
        return import_annotations(tmp_path / f"{name}.xml", "cvat", video, tmp_path / name)


STEP5 = "<size>4</size><start_frame>10</start_frame><stop_frame>29</stop_frame>"
STEP5 += "<frame_filter>step=5</frame_filter>"
# one grouper, boxes moving right by 2 px per task frame: 10, 15, 20, 25
STEPPED = "".join(BOX.format(f, 2 * k, 2 * k + 2) for k, f in enumerate((10, 15, 20, 25)))
# the same grouper drawn on every frame 10..25 (no box interpolated between)
EVERY = "".join(BOX.format(f, (f - 10) // 5 * 2, (f - 10) // 5 * 2 + 2) for f in range(10, 26))


@pytest.fixture
def stepped_truth(tmp_path):
    return imported(tmp_path, STEP5, STEPPED, "stepped.zarr")


@pytest.fixture
def tracked(tmp_path, stepped_truth):
    """A tracker's output: the truth on the task frames, and the grouper also on every video
    frame after them (frames 11..39), which the annotator never saw."""
    labels = MaskStore.open(stepped_truth).read_labels().copy()
    for t in range(11, N):
        if not labels[t].any():
            labels[t] = labels[min(t // 5 * 5, 25)]
    return make_store(labels, classes={1: "grouper"}, times=np.arange(N) / 30)


def test_import_records_the_task_frames(stepped_truth):
    """Old code: nothing recorded, the store could not be told from one annotated throughout."""
    store = MaskStore.open(stepped_truth)
    assert store.provenance["annotated_frames"] == {"start": 10, "step": 5, "count": 4}
    assert store.provenance_record.annotated_frames.frames(N) == range(10, 30, 5)


def test_evaluate_scores_the_task_frames_only(stepped_truth, tracked):
    """Old code: the tracker's grouper on the 26 video frames 11..39 that are no task frames
    was 26 false positives (MOTA -5.5, HOTA 0.13, IDF1 0.24); nobody annotated those frames,
    and on the 4 that were annotated the tracker is perfect."""
    r = evaluate(tracked, stepped_truth)
    assert (r["frames"], r["scored_frames"]) == (N, 4)
    assert r["clear"]["fp"] == 0 and r["clear"]["tp"] == 4
    assert r["clear"]["mota"] == 1.0 and r["hota"]["hota"] == pytest.approx(1.0)
    assert r["identity"]["idf1"] == 1.0 and r["jf"]["mean"] == 1.0
    assert r["jf"]["per_object"]["1"]["frames"] == 4
    assert r["counts"]["all"]["mae"] == 0.0
    assert r["note"].startswith("scored on 4 of 40 frames: the truth annotates only those")
    assert "frames 10, 15, 20, 25" in r["note"]


def test_a_truth_of_every_frame_is_scored_on_every_frame(tmp_path, tracked):
    """A task of the whole video (start 0, step 1, 40 frames) records nothing, and masks on
    frames where its truth has none stay false positives, as before: the grouper leaves the
    view after frame 25 (an outside shape at 26) but the tracker keeps it to frame 39."""
    meta = f"<size>{N}</size><start_frame>0</start_frame><stop_frame>{N - 1}</stop_frame>"
    shapes = EVERY + '<box frame="26" xtl="6" ytl="0" xbr="8" ybr="2" outside="1" occluded="0"/>'
    truth = imported(tmp_path, meta, shapes, "full.zarr")
    assert "annotated_frames" not in MaskStore.open(truth).provenance
    r = evaluate(tracked, truth)
    assert (r["frames"], r["scored_frames"]) == (N, N) and "note" not in r
    assert (r["clear"]["tp"], r["clear"]["fp"], r["clear"]["fn"]) == (16, 14, 0)


def test_a_task_from_a_start_frame_is_scored_on_its_frames(tmp_path, tracked):
    """A task of video frames 10..29 (start_frame, no step): frames 0..9 and 30..39 were never
    annotated (old code: the tracker's grouper on 30..39 was 10 false positives)."""
    meta = "<size>20</size><start_frame>10</start_frame><stop_frame>29</stop_frame>"
    truth = imported(tmp_path, meta, EVERY, "part.zarr")
    assert MaskStore.open(truth).provenance["annotated_frames"] == {
        "start": 10,
        "step": 1,
        "count": 20,
    }
    r = evaluate(tracked, truth)
    assert r["scored_frames"] == 20 and r["clear"]["fp"] == 0
    assert r["note"].startswith("scored on 20 of 40 frames")


def test_cli_says_which_frames_were_scored(tmp_path, stepped_truth, tracked, capsys):
    assert main(["evaluate", str(tracked), "--truth", str(stepped_truth)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["scored_frames"] == 4
    assert "scored on 4 of 40 frames: the truth annotates only those" in err


def test_the_warning_says_what_evaluate_does_now(tmp_path):
    """Old text: 'ecoseg evaluate against a store of it counts masks there as false
    positives'."""
    (tmp_path / "t.xml").write_text(task_xml(STEP5, STEPPED))
    video = VideoInfo(10, 8, np.arange(N) / 30, {})
    with pytest.warns(SkippedFramesWarning, match="never annotated") as caught:
        import_annotations(tmp_path / "t.xml", "cvat", video, tmp_path / "s.zarr")
    text = str(caught[0].message)
    assert "an imported store records the annotated frames" in text
    assert "ecoseg evaluate scores only those" in text and "false positives" not in text
    assert "ecoseg measure counts only those" in text and "as empty" not in text
