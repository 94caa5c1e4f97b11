"""``ecoseg info VIDEO``: a video file or image folder is summarised as ``segment`` reads it.

It said ``not a zarr store (No group found in store LocalStore('file://clip.mp4') at path '')``
and exited 2, for a good clip and a cut-off one alike.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
from PIL import Image

from ecoseg.cli import main
from ecoseg.info.video import is_video, video_summary
from ecoseg.io import open_video


def run(capsys, *args):
    code = main(["info", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_video_is_summarised_as_segment_reads_it(capsys, clip, tmp_path):
    ts = shutil.copy(clip.video, tmp_path / "dive.ts")  # named as a recorder names it
    for video in (clip.video, ts):
        code, out, err = run(capsys, video)
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0] == f"{video}: a video, not a mask store (`ecoseg segment` makes one)"
        assert lines[1] == "  frames       16 of 64x48 px (as displayed)"
        assert lines[2] == "  time         0.533 s (0.000 to 0.500 s), 30 fps"
    code, out, _ = run(capsys, clip.video, "--json")
    record = json.loads(out)
    assert code == 0 and record["kind"] == "video" and record["frames"] == 16
    assert record["sha256"] == open_video(clip.video).sha256()  # what a store records
    # a store beside it is still a store
    code, out, _ = run(capsys, clip.truth, clip.video)
    assert code == 0 and "16 of 64x48 px, complete" in out and "a video, not" in out


def test_an_image_folder_is_summarised_with_its_rate(capsys, tmp_path):
    for i in range(3):
        Image.fromarray(np.full((8, 10, 3), 40 * i, np.uint8)).save(tmp_path / f"f{i}.png")
    code, out, _ = run(capsys, tmp_path)
    assert code == 0
    assert out.splitlines()[:2] == [
        f"{tmp_path}: an image folder, not a mask store (`ecoseg segment` makes one)",
        "  frames       3 of 10x8 px (as displayed)",
    ]
    # (`info` takes no --fps: the rate is segment's, and a user typed `info DIR --fps 2`)
    assert "30 fps (images carry no time: segment --fps gives the rate)" in out


def test_an_image_folder_without_frame_numbers_says_it_is_read_in_name_order(capsys, tmp_path):
    """`segment` warns that such images are read as frames in name order; `info`, which says
    what segment would read before a long run, said nothing of it."""
    for name in ("reef B.png", "other.png", "reef A.png"):
        Image.fromarray(np.zeros((8, 10, 3), np.uint8)).save(tmp_path / name)
    code, out, _ = run(capsys, tmp_path)
    assert code == 0
    assert out.splitlines()[-1] == (
        "               its images carry no frame numbers (other.png, reef A.png, reef B.png), "
        "so they are read as frames in name order"
    )
    for i, name in enumerate(("reef A.png", "reef B.png", "other.png")):  # numbered frames:
        (tmp_path / name).rename(tmp_path / f"f{i}.png")  # nothing to say
    assert video_summary(tmp_path).notes == [] and video_summary(tmp_path).frames == 3


def test_a_missing_video_is_not_called_a_missing_store(capsys, clip, tmp_path):
    """`ecoseg info dive.mp4` of a video not there said 'dive.mp4: no such store', as if a
    store had been asked for; it says it as segment does (a store's name is unchanged)."""
    for name in ("dive.mp4", "GX010001.MP4"):
        code, out, err = run(capsys, tmp_path / name)
        assert code == 2 and out == ""
        assert err == f"ecoseg: error: {tmp_path / name}: no such file or directory\n"
    code, _, err = run(capsys, tmp_path / "nope.zarr")
    assert code == 2 and err.endswith("nope.zarr: no such store\n")


def test_a_damaged_video_gets_its_own_reason(capsys, clip, tmp_path):
    cut = tmp_path / "cut.mp4"
    data = clip.video.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    code, out, err = run(capsys, cut)
    assert code == 2 and not out
    assert err.startswith(f"ecoseg: error: {cut}: not a readable video") and err.count("\n") == 1
    code, _, err = run(capsys, clip.video, "--verify")
    assert code == 2 and "a video, not a mask store; --verify and --video check a STORE" in err


def test_is_video(clip, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    assert is_video(clip.video) and not is_video(clip.truth)
    assert not is_video(tmp_path / "notes.txt") and not is_video(tmp_path / "no.mp4")
    assert not is_video("s3://bucket/clip.mp4") and not is_video(tmp_path)  # no images
    summary = video_summary(clip.video)
    assert (summary.frames, summary.width, summary.height) == (16, 64, 48)
