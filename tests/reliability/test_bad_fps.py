"""An image folder's frame rate (``--fps``, ``fps=``, a study's ``fps:``) that cannot be one:
refused in one line before any work, nothing written.

A rate is a finite number of frames per second above 0; it times an image folder only (a video
file is timed by its own timestamps) and not a photo survey (separate photos, no time axis).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg.errors import ConfigError, VideoError

pytestmark = pytest.mark.bad_input

TRACKER = ["--engine", "classical"]


@pytest.fixture
def folder(tmp_path):
    """Four numbered images: a short time-lapse."""
    frames = tmp_path / "timelapse"
    frames.mkdir()
    for i in range(4):
        Image.fromarray(np.full((32, 48, 3), 40 * i, np.uint8)).save(frames / f"img_{i:03d}.png")
    return frames


@pytest.mark.parametrize("rate", ["0", "-5", "nan", "inf", "ten", "1e400"])
def test_segment_refuses_a_rate_that_is_not_one(rate, folder, tmp_path, capsys):
    from ecoseg.cli import main

    out = tmp_path / "m.zarr"
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:  # argparse's exit, in ecoseg's one line
        main(["segment", str(folder), "-o", str(out), "--fps", rate, *TRACKER])
    err = capsys.readouterr().err
    assert_one_line_error(info.value.code, err, "--fps", "frames per second above 0", repr(rate))
    assert not out.exists()


@pytest.mark.parametrize("rate", [0, -2.5, float("nan"), float("-inf"), True, "fast"])
def test_the_library_refuses_a_rate_that_is_not_one(rate, folder, tmp_path):
    with pytest.raises(VideoError) as info:
        ecoseg.segment(folder, out=tmp_path / "m.zarr", fps=rate, progress=False)
    assert_names(info, str(folder), "bad fps", "expected a number > 0")
    assert not (tmp_path / "m.zarr").exists()


def test_segment_refuses_a_rate_for_a_video_file(clip, tmp_path, cli, no_model, good_prompts):
    """A video file is timed by its own timestamps: a rate given for it is refused, in the
    CLI and the library, before any model (the sam2 engine with prompts would build one)."""
    out = tmp_path / "m.zarr"
    args = ["--prompts", good_prompts, "--random-weights", "--fps", "10"]
    code, _, err = cli("segment", clip.video, "-o", out, *args)
    assert_one_line_error(code, err, str(clip.video), "image folders only", "own timestamps")
    with pytest.raises(VideoError, match="image folders only"):
        ecoseg.segment(clip.video, good_prompts, out=out, fps=10, pretrained=False)
    assert not out.exists()


def test_segment_refuses_a_rate_for_a_reader(folder, tmp_path):
    """An opened reader has its rate; a second one beside it is refused, not ignored."""
    reader = ecoseg.open_video(folder, fps=5)
    with pytest.raises(VideoError) as info:
        ecoseg.segment(reader, out=tmp_path / "m.zarr", fps=10, progress=False)
    assert_names(info, str(folder), "open_video(folder, fps=...)")
    assert not (tmp_path / "m.zarr").exists()


def test_a_photo_survey_takes_no_rate(folder, tmp_path, cli, monkeypatch):
    """``--concepts`` on images: separate photos with no time axis (time_s is the image's
    index), refused before SAM 3 is built."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was built before the bad input was reported")

    monkeypatch.setattr(ecoseg.sam3, "build", refuse)
    out = tmp_path / "survey.zarr"
    args = ["--concepts", "coral", "--random-weights", "--fps", "2"]
    code, _, err = cli("segment", folder, "-o", out, *args)
    assert_one_line_error(code, err, str(folder), "--fps", "photo survey", "no time axis")
    assert not out.exists()


def test_batch_refuses_a_rate_for_a_video_file(clip, folder, tmp_path, cli):
    out = tmp_path / "campaign"
    code, _, err = cli("batch", folder, clip.video, "-o", out, "--fps", "10", "--quiet")
    assert_one_line_error(code, err, str(clip.video), "image folders only")
    from ecoseg.batch import batch

    with pytest.raises(ConfigError, match="bad fps 0"):
        batch([folder], out, fps=0, progress=False)
    assert not out.exists()


def test_import_refuses_a_rate_for_a_video_file(clip, tmp_path, cli):
    ann = ecoseg.export(clip.truth, "coco", tmp_path / "ann.json")
    out = tmp_path / "m.zarr"
    code, _, err = cli(
        "import", ann, "--format", "coco", "--video", clip.video, "-o", out, "--fps", "10"
    )
    assert_one_line_error(code, err, str(clip.video), "image folders only")
    assert not out.exists()


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("fps: 0", "fps: must be a number of frames per second above 0, got 0"),
        ("fps: -12.5", "above 0, got -12.5"),
        ("fps: .nan", "above 0, got nan"),
        ("fps: .inf", "above 0, got inf"),
        ("fps: ten", "fps: must be a number of frames per second, got 'ten'"),
        ("fps: true", "got True"),
    ],
)
def test_a_study_refuses_a_rate_that_is_not_one(entry, expected, folder, tmp_path, cli):
    study = tmp_path / "study.yaml"
    study.write_text(f"output: out\nvideos:\n  - path: {folder.name}\n    {entry}\n")
    code, _, err = cli("study", study, "--check")
    assert_one_line_error(code, err, str(study), "videos[0] (timelapse)", expected)


@pytest.mark.parametrize("where", ["video", "defaults"])
def test_a_study_refuses_a_rate_for_a_video_file(where, clip, tmp_path, cli):
    study = tmp_path / "study.yaml"
    entry = f"  - path: {clip.video}\n    name: reef\n"
    if where == "video":
        text = f"output: out\nvideos:\n{entry}    fps: 10\n"
    else:
        text = f"output: out\ndefaults:\n  fps: 10\nvideos:\n{entry}"
    study.write_text(text)
    code, _, err = cli("study", study, "--check")
    assert_one_line_error(code, err, "videos[0] (reef)", "fps: applies to image folders only")


def test_open_video_refuses_a_rate_given_as_text(folder, tmp_path):
    # fps="10" was read as 10 by open_video and segment (synth refused it): text is no number
    for call in (
        lambda: ecoseg.open_video(folder, fps="10"),
        lambda: ecoseg.segment(folder, out=tmp_path / "m.zarr", fps="10", progress=False),
    ):
        with pytest.raises(VideoError) as exc:
            call()
        assert_names(exc, str(folder), "bad fps '10'", "not text (fps=10)")
    assert not (tmp_path / "m.zarr").exists()


@pytest.mark.parametrize("command", ["segment", "batch"])
def test_a_rate_for_a_single_image_calls_it_an_image(command, tmp_path, cli):
    """``--fps`` for one photograph is refused as for a video file, but the photograph was
    called *a video file is timed by its own timestamps*; now it is a single image with no
    time axis, in a study's words (``ecoseg.io._common.not_a_folder``)."""
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.zeros((32, 48, 3), np.uint8)).save(photo)
    out = tmp_path / ("m.zarr" if command == "segment" else "campaign")
    code, _, err = cli(command, photo, "-o", out, "--fps", "5", *TRACKER, "--quiet")
    said = "--fps applies to image folders only; it is a single image (a photograph), which"
    assert_one_line_error(code, err, str(photo), said, "has no time axis")
    assert "video file" not in err
    with pytest.raises(VideoError, match="it is a single image"):
        ecoseg.open_video(photo, fps=5)
    assert not out.exists()
