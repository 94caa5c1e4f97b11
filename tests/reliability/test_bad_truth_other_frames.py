"""A report's truth of another frame size or frame count (the truth of another clip).

``ecoseg evaluate`` refuses such a pair in one line; ``ecoseg report --truth`` (and a study's
``truth:``) wrote the page with "could not evaluate: ..." in the accuracy table and exited 0,
with no word on the terminal. It now refuses the pair before any work in evaluate's line, exit
2, and writes no page.
"""

from __future__ import annotations

import numpy as np
import pytest
from reliability_helpers import assert_names, assert_one_line_error
from suite_helpers import labels_store

from ecoseg.errors import StoreError

pytestmark = pytest.mark.bad_input


@pytest.fixture(scope="module")
def run(clip, tmp_path_factory):
    """The clip's classical run (24 frames of 96x64)."""
    import ecoseg

    out = tmp_path_factory.mktemp("run") / "masks.zarr"
    return str(ecoseg.segment(clip.video, out=out, engine="classical", progress=False))


def _truth(path, frames, width, height):
    labels = np.zeros((frames, height, width), np.uint32)
    labels[:, 5:15, 10:30] = 1
    return str(labels_store(path, labels, {1: "fish"}))


@pytest.mark.parametrize(
    ("frames", "width", "height", "said"),
    [(24, 80, 64, "frames are 96x64"), (30, 96, 64, "has 24 frames")],
    ids=["other size", "other count"],
)
def test_report_refuses_a_truth_of_other_frames(run, tmp_path, cli, frames, width, height, said):
    truth = _truth(tmp_path / "other.zarr", frames, width, height)
    page = tmp_path / "report.html"
    code, _, err = cli("report", run, "--truth", truth, "-o", page, "--quiet")
    assert_one_line_error(code, err, run, said, f"but the truth {truth} has")
    assert not page.exists()


def test_report_refuses_a_study_truth_of_other_frames(clip, run, tmp_path):
    import ecoseg
    from ecoseg.study import load_study

    truth = _truth(tmp_path / "other.zarr", 30, 96, 64)
    study_file = tmp_path / "study.yaml"
    study_file.write_text(f"videos:\n  - path: {clip.video}\n    name: masks\n    truth: {truth}\n")
    page = tmp_path / "report.html"
    with pytest.raises(StoreError) as exc:
        ecoseg.report(run, page, study=load_study(study_file), progress=False)
    assert_names(exc, run, "has 24 frames", f"but the truth {truth} has 30")
    assert not page.exists()


def test_a_study_run_names_the_truth_line_of_other_frames(clip, tmp_path, cli):
    truth = _truth(tmp_path / "other.zarr", 30, 96, 64)
    study_file = tmp_path / "study.yaml"
    study_file.write_text(
        f"output: out\nvideos:\n  - path: {clip.video}\n    name: a\n    truth: {truth}\n"
    )
    code, _, err = cli("study", study_file, "--quiet")
    assert_one_line_error(
        code, err, f"{study_file}: line 5: videos[0] (a):", "has 24 frames", "has 30"
    )
    assert not (tmp_path / "out" / "report.html").exists()


def test_study_check_refuses_a_truth_of_other_frames_in_the_run_s_words(clip, tmp_path, cli):
    """``study --check`` said "ok" of a ``truth:`` of 30 frames for a video of 24; a run
    refused it only at the report step, after segmenting and measuring every video. Now the
    check refuses it in the run's line, naming the ``truth:`` line, and nothing is written."""
    truth = _truth(tmp_path / "other.zarr", 30, 96, 64)
    study_file = tmp_path / "study.yaml"
    study_file.write_text(
        f"output: out\nvideos:\n  - path: {clip.video}\n    name: a\n    truth: {truth}\n"
    )
    code, _, err = cli("study", study_file, "--check")
    store = tmp_path / "out" / "stores" / "a.zarr"
    assert_one_line_error(
        code, err, f"{study_file}: line 5: videos[0] (a): {store}: has 24 frames", "has 30"
    )
    assert not (tmp_path / "out").exists()


def test_a_study_run_refuses_a_truth_of_another_size_before_segmenting(clip, tmp_path, cli):
    truth = _truth(tmp_path / "other.zarr", 24, 80, 64)
    study_file = tmp_path / "study.yaml"
    study_file.write_text(
        f"output: out\nvideos:\n  - path: {clip.video}\n    name: a\n    truth: {truth}\n"
    )
    code, _, err = cli("study", study_file, "--quiet")
    assert_one_line_error(
        code, err, f"{study_file}: line 5: videos[0] (a):", "frames are 96x64", "has 80x64"
    )
    assert not (tmp_path / "out" / "stores" / "a.zarr").exists()  # nothing segmented
