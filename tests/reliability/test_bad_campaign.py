"""Bad campaign inputs to ``ecoseg batch``: refused in one line before any work.

A copy of a video under another name was segmented twice and its animals counted twice in the
campaign tables; a folder of videos given for its videos (or an empty folder) was reported
failed only after every retry of its task, as a folder with no images.
"""

from __future__ import annotations

import os
import shutil

import pytest
from reliability_helpers import assert_one_line_error

import ecoseg
from ecoseg.batch import batch
from ecoseg.errors import ConfigError, VideoError

pytestmark = pytest.mark.bad_input


def test_cli_a_copy_of_a_video_under_another_name_is_refused(clip, tmp_path, cli):
    field = tmp_path / "field"
    (field / "siteA").mkdir(parents=True)
    (field / "siteB").mkdir()
    shutil.copy(clip.video, field / "siteA" / "T6.mp4")
    shutil.copy(clip.video, field / "siteB" / "T6 copie é.mp4")
    out = tmp_path / "out"
    code, stdout, err = cli(
        "batch", field / "siteA" / "T6.mp4", field / "siteB" / "T6 copie é.mp4", "-o", out,
        "--quiet",
    )  # fmt: skip
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and err.startswith("ecoseg: error: ")
    a, b = field / "siteA" / "T6.mp4", field / "siteB" / "T6 copie é.mp4"
    assert f"{a} and {b} are the same video (the same bytes)" in err
    assert "counted twice" in err
    assert not out.exists()


def test_a_linked_copy_is_refused_and_files_of_one_size_are_not(clip, tmp_path):
    a = tmp_path / "T1.mp4"
    shutil.copy(clip.video, a)
    os.symlink(a, tmp_path / "T1-link.mp4")
    with pytest.raises(ConfigError, match="T1-link.mp4 are the same video"):
        batch([a, tmp_path / "T1-link.mp4"], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    # same size, other bytes: two videos (refused here for the empty folder only)
    other = bytearray(a.read_bytes())
    other[-1] ^= 0xFF
    (tmp_path / "T2.mp4").write_bytes(bytes(other))
    (tmp_path / "T3").mkdir()
    with pytest.raises(VideoError, match="T3: folder has no images"):
        batch([a, tmp_path / "T2.mp4", tmp_path / "T3"], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_cli_a_folder_of_videos_is_refused_naming_what_to_give(clip, tmp_path, cli):
    field = tmp_path / "field"
    (field / "2024-03" / "siteA").mkdir(parents=True)
    shutil.copy(clip.video, field / "2024-03" / "siteA" / "T1.mp4")
    out = tmp_path / "out"
    code, stdout, err = cli("batch", field, "-o", out, "--quiet")
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1
    assert f"{field}: folder has no images, but 1 video file(s)" in err
    assert os.path.join("2024-03", "siteA", "T1.mp4") in err
    assert f"give the video files, not their folder (e.g. {field / '**' / '*.mp4'}" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("model", "extra"),
    [("sam2.1-tyni", ["--auto"]), ("sam3-large", [])],
    ids=["sam2", "sam3"],
)
def test_cli_an_unknown_model_is_refused_in_segments_words(model, extra, clip, tmp_path, cli):
    """``batch --model sam2.1-tyni`` said ``unknown SAM 2 variant 'sam2.1-tyni' (see `ecoseg
    weights list`)``, its own words; ``segment`` and a study file say the network's, with the
    valid names."""
    code, _, err = cli("segment", clip.video, "-o", tmp_path / "m.zarr", "--model", model, *extra)
    said = assert_one_line_error(code, err, f"unknown SAM {model[3]} ", repr(model), "valid names")
    out = tmp_path / "out"
    code, _, err = cli("batch", clip.video, "-o", out, "--model", model, *extra)
    assert assert_one_line_error(code, err) == said
    assert not out.exists() and not (tmp_path / "m.zarr").exists()


def test_a_model_that_is_no_name_is_refused_as_segment_refuses_it(clip, tmp_path):
    """``ecoseg.batch(..., model=["sam2.1-tiny"])`` raised ``TypeError: unhashable type:
    'list'`` from its own check of the name."""
    with pytest.raises(ConfigError) as refused:
        ecoseg.segment(clip.video, out=tmp_path / "m.zarr", model=["sam2.1-tiny"], auto=True)
    assert str(refused.value).startswith("unknown SAM 2 variant ['sam2.1-tiny']; valid names")
    with pytest.raises(ConfigError) as batch_refused:
        batch([clip.video], tmp_path / "out", model=["sam2.1-tiny"], auto=True, progress=False)
    assert str(batch_refused.value) == str(refused.value)
    assert not (tmp_path / "out").exists()
