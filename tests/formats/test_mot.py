"""MOT: trackeval's MOTChallenge reader scores our export against the store's own boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from formats_helpers import make_store, store_boxes

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, export, read_annotations
from ecoseg.store import MaskStore


def hota_of(tracker_file, boxes, n_frames, tmp_path, gt_file=None):
    """HOTA of a MOTChallenge tracker file against ground truth rows made from ``boxes``
    (or the ground-truth file ``gt_file``, its classes not MOT17's: scored without MOT17's
    preprocessing, which keeps class 1, pedestrians, only)."""
    import trackeval

    gt = tmp_path / "gt" / "clip" / "gt"
    gt.mkdir(parents=True)
    rows = [
        f"{t + 1},{oid},{x0},{y0},{x1 - x0},{y1 - y0},1,1,1"
        for (t, oid), (x0, y0, x1, y1) in sorted(boxes.items())
    ]
    (gt / "gt.txt").write_text("\n".join(rows) + "\n" if gt_file is None else gt_file.read_text())
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
        DO_PREPROC=gt_file is None,
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
        # named as the file numbers it (it said frame 8, a number the file does not hold)
        (
            "9,1,2,2,3,3,1,-1,-1,-1",
            r"line 2: frame 9 is past the end of the video \(4 frames, 0\.\.3; the file "
            r"counts them from 1: 1\.\.4\)",
        ),
        ("1,1,3,2,3,3,1,-1,-1,-1", r"line 2: object 1 appears twice on frame 1$"),
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


VIDEO = VideoInfo(20, 10, np.arange(4) / 10, {})


def boxes_of(ann):
    return sorted((i.track, i.frame, i.box) for i in ann.instances)


def test_space_and_tab_separated_files_read_as_comma_separated(tmp_path):
    """trackeval (csv.Sniffer) and motmetrics (sep '\\s+|\\t+|,') read a MOT file whose fields
    are separated by spaces or tabs, as numpy.savetxt writes it; it was refused ('expected at
    least 6 comma-separated values')."""
    rows = ["1,3,2,2,3,3,0.9,-1,-1,-1", "2,3,2.5,2,3,3,0.8,-1,-1,-1"]
    (tmp_path / "comma.txt").write_text("\n".join(rows) + "\n")
    (tmp_path / "space.txt").write_text("\n".join(r.replace(",", " ") for r in rows) + "\n")
    (tmp_path / "tab.txt").write_text("\n".join(r.replace(",", "\t") for r in rows) + "\n")
    (tmp_path / "padded.txt").write_text("\n".join(r.replace(",", ", ") for r in rows) + "\n")
    want = boxes_of(read_annotations(tmp_path / "comma.txt", "mot", VIDEO))
    assert len(want) == 2
    for name in ("space.txt", "tab.txt", "padded.txt"):
        assert boxes_of(read_annotations(tmp_path / name, "mot", VIDEO)) == want


def test_cvat_mot_export_keeps_its_species(tmp_path):
    """CVAT's "MOT 1.1" export (Datumaro's mot_seq writer): gt/gt.txt in the 9-column layout,
    the class column 1 + the label's line in gt/labels.txt, conf 0 for an ignored box,
    visibility as a float. The species were lost ("unknown")."""
    (tmp_path / "gt").mkdir()
    (tmp_path / "gt" / "labels.txt").write_text("grouper\nparrotfish")
    (tmp_path / "gt" / "gt.txt").write_text(
        "1,1,2.0,2.0,3.0,3.0,1,2,1.0\n"
        "2,1,3.0,2.0,3.0,3.0,1,2,0.5\n"
        "1,2,10.0,4.0,2.0,2.0,1,1,1.0\n"
        "2,2,10.0,4.0,2.0,2.0,0,1,1.0\n"
    )
    ann = read_annotations(tmp_path / "gt" / "gt.txt", "mot", VIDEO)
    assert {t.id: t.class_ for t in ann.tracks} == {1: "parrotfish", 2: "grouper"}
    assert sorted((i.track, i.frame) for i in ann.instances) == [(1, 0), (1, 1), (2, 0)]


def test_motchallenge_ground_truth_classes_are_numbered(tmp_path):
    """MOT17's gt.txt has class numbers and no labels.txt: class_<n>, as MOTS's are named."""
    (tmp_path / "gt.txt").write_text("1,1,2,2,3,3,1,1,1\n1,2,8,2,3,3,1,7,0.25\n")
    ann = read_annotations(tmp_path / "gt.txt", "mot", VIDEO)
    assert {t.id: t.class_ for t in ann.tracks} == {1: "class_1", 2: "class_7"}


def test_a_class_labels_txt_does_not_name_is_refused(tmp_path):
    (tmp_path / "labels.txt").write_text("grouper\n")
    (tmp_path / "gt.txt").write_text("1,1,2,2,3,3,1,1,1\n1,2,8,2,3,3,1,3,1\n")
    with pytest.raises(FormatError, match=r"gt\.txt: line 2: class 3 has no name in .*labels"):
        read_annotations(tmp_path / "gt.txt", "mot", VIDEO)


def test_boxes_without_a_track_are_objects_of_their_own(tmp_path):
    """MOTChallenge's det.txt (and CVAT's MOT export of single shapes) writes track id -1; it
    was refused ('object id -1 is outside 1..4294967295')."""
    (tmp_path / "det.txt").write_text(
        "1,-1,2,2,3,3,0.9,-1,-1,-1\n1,-1,8,2,3,3,0.4,-1,-1,-1\n2,-1,2,2,3,3,0.7,-1,-1,-1\n"
    )
    ann = read_annotations(tmp_path / "det.txt", "mot", VIDEO)
    assert [(i.track, i.frame, i.score) for i in ann.instances] == [
        (1, 0, 0.9),
        (2, 0, 0.4),
        (3, 1, 0.7),
    ]
    assert sorted(t.id for t in ann.tracks) == [1, 2, 3]


# MOT17's public detections (MOT17-02 det/det.txt of each detector): DPM's scores are raw
# (above 1, below 0), SDP's and FRCNN's in [0, 1]
_DPM = "1,-1,1.1,1.2,3,4,2.3092,-1,-1,-1\n1,-1,9.5,2,3,4,-0.35166,-1,-1,-1\n"
_SDP = "1,-1,1.1,1.2,3,4,0.99832,-1,-1,-1\n"


def test_mot17_public_detections_keep_their_detector_scores(tmp_path):
    """DPM's det.txt was refused ('conf '2.3092' is not a score in [0, 1]'): in a row without
    a track, conf is the detector's own score."""
    (tmp_path / "det.txt").write_text(_DPM)
    ann = read_annotations(tmp_path / "det.txt", "mot", VIDEO)
    assert [i.score for i in ann.instances] == [2.3092, -0.35166]
    (tmp_path / "tracks.txt").write_text(_DPM.replace(",-1,", ",1,", 1).replace(",-1,9", ",2,9"))
    with pytest.raises(FormatError, match=r"tracks\.txt: line 1: conf '2\.3092' is not a score"):
        read_annotations(tmp_path / "tracks.txt", "mot", VIDEO)  # a tracker's: a probability


def test_a_store_refuses_a_detector_score_outside_0_1_naming_the_line(tmp_path):
    from ecoseg.formats import import_annotations

    (tmp_path / "det.txt").write_text(_DPM)
    with pytest.raises(
        FormatError,
        match=r"det\.txt: line 1: score 2\.3092 is a detector's own score, not a probability in "
        r"\[0, 1\], which a store's scores are",
    ):
        import_annotations(tmp_path / "det.txt", "mot", VIDEO, tmp_path / "d.zarr")
    assert not (tmp_path / "d.zarr").exists()
    (tmp_path / "sdp.txt").write_text(_SDP)  # scores in [0, 1]: stored
    out = import_annotations(tmp_path / "sdp.txt", "mot", VIDEO, tmp_path / "s.zarr")
    with MaskStore.open(out) as store:
        assert store.read_scores()[:, 0].tolist() == [np.float32(0.99832), 0, 0, 0]


def test_a_file_mixing_tracked_and_untracked_boxes_is_refused(tmp_path):
    (tmp_path / "m.txt").write_text("1,4,2,2,3,3,1,-1,-1,-1\n1,-1,8,2,3,3,1,-1,-1,-1\n")
    with pytest.raises(FormatError, match=r"m\.txt: line 2 has track id -1 .* \(line 1 first\)"):
        read_annotations(tmp_path / "m.txt", "mot", VIDEO)


def test_boxes_past_the_frame_edge_are_cut_with_one_warning(tmp_path):
    """MOT ground truth boxes people half out of view (and VIAME / DIVE boxes may reach past
    the edge): the store holds them cut to the frame, and its MOT export gives the cut boxes.
    That was done without a word; one warning now counts them and names the first."""
    from ecoseg.formats import BoxesCutWarning, import_annotations
    from ecoseg.store import MaskStore

    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,-3,2,6,4,1,-1,-1,-1\n1,2,5,1,2,2,1,-1,-1,-1\n2,1,15,8,9,5,1,-1,-1,-1\n")
    with pytest.warns(BoxesCutWarning) as seen:
        out = import_annotations(gt, "mot", VIDEO, tmp_path / "t.zarr")
    assert len(seen) == 1
    assert str(seen[0].message).startswith(
        f"{gt}: 2 boxes reach past the edge of the 20x10 frame (line 1 first: x -3..3, y 2..6)"
    )
    labels = MaskStore.open(out).read_labels()
    assert labels[0, 2:6, 0:3].all() and (labels[0] == 1).sum() == 12  # cut at x = 0
    assert (labels[1] == 1).sum() == 5 * 2  # x 15..20, y 8..10


def _three_species(tmp_path):
    lab = np.zeros((3, 10, 12), np.uint32)
    lab[:, 1:4, 1:4] = 1
    lab[1:, 5:9, 6:11] = 2
    lab[2, 6:8, 1:3] = 3
    classes = {1: "goby", 2: "crab", 3: "unknown"}
    return make_store(lab, classes=classes, path=str(tmp_path / "s.zarr")), classes


def test_the_gt_layout_keeps_classes_through_an_export_and_import(tmp_path):
    store, classes = _three_species(tmp_path)
    video = VideoInfo(width=12, height=10, times=np.arange(3) / 25, record={})
    tracker = read_annotations(export(store, "mot", tmp_path / "t" / "res.txt"), "mot", video)
    assert set(tracker.class_of().values()) == {"unknown"}  # the default layout has no classes
    path = export(store, "mot", tmp_path / "gt" / "gt.txt", mot_layout="gt")
    assert (tmp_path / "gt" / "labels.txt").read_text() == "crab\ngoby\n"
    assert open(path).read().splitlines()[:2] == ["1,1,1,1,3,3,1,2,1", "2,1,1,1,3,3,1,2,1"]
    back = read_annotations(path, "mot", video)
    assert back.class_of() == classes
    assert {(i.frame, i.track): i.box for i in back.instances} == {
        (i.frame, i.track): i.box for i in tracker.instances
    }


def test_the_gt_layout_checks_its_labels_file_as_an_output(tmp_path):
    store, _ = _three_species(tmp_path)
    (tmp_path / "labels.txt").write_text("mine\n")
    with pytest.raises(FormatError, match=r"labels\.txt: already exists"):
        export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
    assert (tmp_path / "labels.txt").read_text() == "mine\n"
    assert not (tmp_path / "gt.txt").exists()
    export(store, "mot", tmp_path / "gt.txt", mot_layout="gt", overwrite=True)
    assert (tmp_path / "labels.txt").read_text() == "crab\ngoby\n"
    with pytest.raises(FormatError, match=r"labels\.txt: the gt layout writes its class names"):
        export(store, "mot", tmp_path / "o" / "labels.txt", mot_layout="gt")
    with pytest.raises(FormatError, match="applies to the mot format, not coco"):
        export(store, "coco", tmp_path / "a.json", mot_layout="gt")
    with pytest.raises(FormatError, match="mot_layout 'truth' is not one of tracker, gt"):
        export(store, "mot", tmp_path / "b.txt", mot_layout="truth")


def test_a_gt_export_that_fails_leaves_the_file_and_its_labels_as_they_were(tmp_path, monkeypatch):
    """A full disk while the class names are written: the earlier gt file and labels.txt stay
    as they were, side by side, and no partial file is left. The names were written after the
    new gt file was in place, so a failure left it beside the old names."""
    from pathlib import Path

    store, _ = _three_species(tmp_path)
    path = export(store, "mot", tmp_path / "gt.txt", mot_layout="gt")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    lab = np.zeros((3, 10, 12), np.uint32)
    lab[:, 2:5, 2:6] = 1  # another box, and another class name
    store2 = make_store(lab, classes={1: "wrasse"}, path=str(tmp_path / "other.zarr"))
    real = Path.write_text

    def full_disk(self, *args, **kwargs):
        if "labels" in self.name:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        export(store2, "mot", path, mot_layout="gt", overwrite=True)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("earlier", [False, True], ids=["new", "over-an-earlier-pair"])
def test_a_gt_file_whose_labels_cannot_be_renamed_in_does_not_land_alone(
    tmp_path, monkeypatch, earlier
):
    """Both files are whole and the rename of labels.txt into place fails (a full disk, a
    file locked on Windows): the gt file was in place already and stayed without its class
    names (beside the earlier names, over an earlier pair). Now neither lands: the new gt file
    is taken out again and an earlier one put back, and nothing else is left."""
    import os

    store, _ = _three_species(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    if earlier:
        lab = np.zeros((3, 10, 12), np.uint32)
        lab[:, 2:5, 2:6] = 1
        first = make_store(lab, classes={1: "wrasse"}, path=str(tmp_path / "first.zarr"))
        export(first, "mot", out / "gt.txt", mot_layout="gt")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = os.replace

    def failing(src, dst, **kwargs):
        if os.fspath(dst).endswith("labels.txt") and ".partial-" in os.fspath(src):
            raise OSError(13, "Permission denied")
        return real(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="Permission denied"):
        export(store, "mot", out / "gt.txt", mot_layout="gt", overwrite=True)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    export(store, "mot", out / "gt.txt", mot_layout="gt", overwrite=True)  # and then they land
    assert sorted(p.name for p in out.iterdir()) == ["gt.txt", "labels.txt"]
    assert (out / "labels.txt").read_text() == "crab\ngoby\n"


def test_trackeval_reads_the_gt_layout_as_ground_truth(tmp_path):
    store, _ = _three_species(tmp_path)
    tracker = Path(export(store, "mot", tmp_path / "res.txt"))
    gt = Path(export(store, "mot", tmp_path / "gt.txt", mot_layout="gt"))
    assert hota_of(tracker, {}, 3, tmp_path / "a", gt_file=gt) == pytest.approx(1.0)
    lines = tracker.read_text().splitlines()  # and the check can fail: an id swapped
    (tmp_path / "swapped.txt").write_text(
        "\n".join([lines[0].replace("1,1,", "1,9,", 1)] + lines[1:])
    )
    assert hota_of(tmp_path / "swapped.txt", {}, 3, tmp_path / "b", gt_file=gt) < 0.99
