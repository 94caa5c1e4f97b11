"""MOT: trackeval's MOTChallenge reader scores our export against the store's own boxes."""

from __future__ import annotations

import numpy as np
import pytest
from formats_helpers import make_store, store_boxes

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, export, read_annotations


def hota_of(tracker_file, boxes, n_frames, tmp_path):
    """HOTA of a MOTChallenge tracker file against ground truth rows made from ``boxes``."""
    import trackeval

    gt = tmp_path / "gt" / "clip" / "gt"
    gt.mkdir(parents=True)
    rows = [
        f"{t + 1},{oid},{x0},{y0},{x1 - x0},{y1 - y0},1,1,1"
        for (t, oid), (x0, y0, x1, y1) in sorted(boxes.items())
    ]
    (gt / "gt.txt").write_text("\n".join(rows) + "\n")
    trk = tmp_path / "trackers" / "ecoseg" / "data"
    trk.mkdir(parents=True)
    (trk / "clip.txt").write_text(tracker_file.read_text())
    eval_config = trackeval.Evaluator.get_default_eval_config()
    eval_config.update(
        USE_PARALLEL=False,
        PRINT_RESULTS=False,
        PRINT_CONFIG=False,
        TIME_PROGRESS=False,
        OUTPUT_SUMMARY=False,
        OUTPUT_DETAILED=False,
        PLOT_CURVES=False,
        OUTPUT_EMPTY_CLASSES=False,
        DISPLAY_LESS_PROGRESS=True,
    )
    data_config = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    data_config.update(
        GT_FOLDER=str(tmp_path / "gt"),
        TRACKERS_FOLDER=str(tmp_path / "trackers"),
        TRACKERS_TO_EVAL=["ecoseg"],
        SKIP_SPLIT_FOL=True,
        SEQ_INFO={"clip": n_frames},
        PRINT_CONFIG=False,
        OUTPUT_FOLDER=str(tmp_path / "out"),
    )
    evaluator = trackeval.Evaluator(eval_config)
    dataset = trackeval.datasets.MotChallenge2DBox(data_config)
    metric = trackeval.metrics.HOTA({"PRINT_CONFIG": False})
    results, _ = evaluator.evaluate([dataset], [metric])
    hota = results["MotChallenge2DBox"]["ecoseg"]["clip"]["pedestrian"]["HOTA"]
    return float(np.mean(hota["HOTA"]))


def test_trackeval_scores_our_export_hota_1(sample, tmp_path):
    truth = sample[0]
    path = export(truth, "mot", tmp_path / "ours.txt")
    boxes = store_boxes(truth)
    assert hota_of(tmp_path / "ours.txt", boxes, 150, tmp_path / "a") == pytest.approx(1.0)
    # and the check can fail: one object's id swapped half way scores below 1
    lines = (tmp_path / "ours.txt").read_text().splitlines()
    swapped = [
        line.replace(",1,", ",99,", 1) if int(line.split(",")[0]) > 75 else line for line in lines
    ]
    (tmp_path / "swapped.txt").write_text("\n".join(swapped) + "\n")
    assert hota_of(tmp_path / "swapped.txt", boxes, 150, tmp_path / "b") < 0.99
    assert path.endswith("ours.txt")


def test_rows_are_motchallenge(tmp_path):
    lab = np.zeros((2, 6, 8), np.uint32)
    lab[1, 2:5, 3:4] = 7
    store = make_store(lab, scores=np.array([[0.0], [0.5]], np.float32))
    path = export(store, "mot", tmp_path / "m.txt")
    assert open(path).read() == "2,7,3,2,1,3,0.5,-1,-1,-1\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1,1,2,2,3", r"line 2: expected at least 6"),
        ("1,1,2,x,3,3,1,-1,-1,-1", r"line 2: box value 'x' is not a number"),
        ("9,1,2,2,3,3,1,-1,-1,-1", r"line 2: frame 8 is past the end of the video \(4 frames"),
        ("1,1,50,2,3,3,1,-1,-1,-1", r"line 2: box \(50, 2, 3, 3\) lies outside the 20x10 frame"),
        ("0,1,2,2,3,3,1,-1,-1,-1", r"line 2: frame 0 \(MOT frames count from 1\)"),
        # was read as frame 2 (the fraction dropped)
        ("2.5,1,2,2,3,3,1,-1,-1,-1", r"line 2: frame '2\.5' is not an integer"),
    ],
)
def test_bad_lines_are_named(tmp_path, line, message):
    (tmp_path / "m.txt").write_text("1,1,2,2,3,3,1,-1,-1,-1\n" + line + "\n")
    video = VideoInfo(20, 10, np.arange(4) / 10, {})
    with pytest.raises(FormatError, match=message):
        read_annotations(tmp_path / "m.txt", "mot", video)
