"""Outputs that would destroy what a user stored: refused with one line, the file untouched.

``--overwrite`` replaces an earlier output of the same command, never an input store, a video,
a folder of other files or anything the command could not have written.
"""

from __future__ import annotations

import shutil

import pytest
from reliability_helpers import assert_one_line_error


def _tree(path):
    """Every file under ``path`` (or the file itself) with its bytes."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


@pytest.fixture
def store(clip, tmp_path):
    path = tmp_path / "masks.zarr"
    shutil.copytree(clip.truth, path)
    return path


@pytest.mark.bad_input
@pytest.mark.parametrize("fmt", ["coco", "davis"])
def test_export_never_replaces_its_own_store(fmt, store, cli):
    before = _tree(store)
    code, _, err = cli("export", store, "--format", fmt, "-o", store, "--overwrite")
    assert_one_line_error(code, err, str(store), "even with overwrite")
    assert _tree(store) == before


@pytest.mark.bad_input
def test_export_never_replaces_a_folder_of_other_files(store, tmp_path, cli):
    folder = tmp_path / "survey"
    folder.mkdir()
    (folder / "notes.txt").write_text("site A, 12 m")
    for fmt in ("mot", "davis"):
        code, _, err = cli("export", store, "--format", fmt, "-o", folder, "--overwrite")
        assert_one_line_error(code, err, str(folder), "even with overwrite")
    assert (folder / "notes.txt").read_text() == "site A, 12 m"


@pytest.mark.bad_input
def test_davis_export_never_replaces_a_file(store, tmp_path, cli):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    code, _, err = cli("export", store, "--format", "davis", "-o", notes, "--overwrite")
    assert_one_line_error(code, err, str(notes), "not a folder of PNG masks")
    assert notes.read_text() == "keep me"


def test_overwrite_still_replaces_an_earlier_export(store, tmp_path, cli):
    for fmt, out in (("davis", tmp_path / "pngs"), ("coco", tmp_path / "masks.json")):
        assert cli("export", store, "--format", fmt, "-o", out)[0] == 0
        assert cli("export", store, "--format", fmt, "-o", out, "--overwrite")[0] == 0


@pytest.mark.bad_input
def test_evaluate_does_not_overwrite_a_file_without_overwrite(store, clip, tmp_path, cli):
    video = tmp_path / "video.mp4"
    shutil.copy(clip.video, video)
    before = video.read_bytes()
    code, _, err = cli("evaluate", store, "--truth", clip.truth, "-o", video)
    assert_one_line_error(code, err, str(video), "--overwrite")
    assert video.read_bytes() == before
    code, _, err = cli("evaluate", store, "--truth", clip.truth, "-o", tmp_path, "--overwrite")
    assert_one_line_error(code, err, str(tmp_path), "folder")
    out = tmp_path / "metrics.json"
    assert cli("evaluate", store, "--truth", clip.truth, "-o", out)[0] == 0
    assert cli("evaluate", store, "--truth", clip.truth, "-o", out, "--overwrite")[0] == 0


@pytest.mark.bad_input
def test_classify_never_saves_its_model_over_a_video_or_store(store, clip, tmp_path, cli):
    video = tmp_path / "video.mp4"
    shutil.copy(clip.video, video)
    before = video.read_bytes()
    for target in (video, store):
        kept = _tree(target)
        code, _, err = cli(
            "classify", store, "--train", store, "--train-video", video,
            "--save-model", target, "--overwrite",
        )  # fmt: skip
        assert_one_line_error(code, err, str(target), "not an ecoseg species model")
        assert _tree(target) == kept
    assert video.read_bytes() == before


@pytest.mark.bad_input
def test_classify_names_the_training_stores_and_the_video_option(store, clip, cli):
    code, _, err = cli("edit", store, "--reviewed", "1")  # one reviewed track: one species
    assert code == 0, err
    code, _, err = cli("classify", store, "--train", store, "--train-video", clip.video)
    assert_one_line_error(code, err, str(store), "two species")
    video = str(clip.video)
    code, _, err = cli("classify", store, "--train", store, "--train-video", video, video)
    assert_one_line_error(code, err, "--train-video", "2 videos")
    assert cli("edit", store, "--reviewed", "2")[0] == 0  # a second species: training works
    code, _, err = cli(
        "classify", store, "--train", store, "--train-video", video, "--video", video, video
    )
    assert_one_line_error(code, err, "--video: 2 videos")


@pytest.mark.bad_input
@pytest.mark.parametrize("value", ["2", "-0.1", "nan"])
def test_score_threshold_out_of_range(value, clip, tmp_path, cli):
    code, _, err = cli(
        "segment", clip.video, "-o", tmp_path / "m.zarr", "--concepts", "fish",
        "--model", "sam3-reduced", "--random-weights", "--score-threshold", value,
    )  # fmt: skip
    assert_one_line_error(code, err, "--score-threshold")
    assert not (tmp_path / "m.zarr").exists()


@pytest.mark.bad_input
def test_score_threshold_without_concepts_is_refused(clip, tmp_path, cli):
    code, _, err = cli("segment", clip.video, "-o", tmp_path / "m.zarr", "--score-threshold", "0.3")
    assert_one_line_error(code, err, "--score-threshold needs --concepts")


def test_score_threshold_reaches_concept_tracking(clip, tmp_path, cli):
    """On a video, --score-threshold was silently dropped (the store said 0.5)."""
    from ecoseg.store import MaskStore

    out = tmp_path / "m.zarr"
    code, _, err = cli(
        "segment", clip.video, "-o", out, "--concepts", "fish",
        "--model", "sam3-reduced", "--random-weights", "--score-threshold", "0.9",
    )  # fmt: skip
    assert code == 0, err
    assert MaskStore.open(out).provenance_record.parameters["score_threshold"] == 0.9
    code, _, err = cli(
        "segment", clip.video, "-o", tmp_path / "n.zarr", "--concepts", "fish",
        "--model", "sam3-reduced", "--random-weights", "--score-threshold", "0.9",
        "--params", '{"score_threshold": 0.2}',
    )  # fmt: skip
    assert_one_line_error(code, err, "score threshold once")
