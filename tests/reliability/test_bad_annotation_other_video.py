"""Annotation files made for another video (a larger one, a longer one) imported onto this one.

MOT and VIAME files record no frame size: one made for a 192x128 video imported onto its
96x64 copy left out the boxes wholly outside the frame with a warning and exited 0 with a store
holding the animals of the top-left corner only (only a file with *every* box outside was
refused), while a COCO, YouTube-VIS or CVAT file of that video is refused for its recorded
size. Many boxes outside the frame (ten or more, and a quarter of the file's boxes) are now
another video's file, refused in one line naming the file, how many, the first and the span of
the boxes; a few (an animal out of view) are left out with a warning as before. A CVAT task
whose frames go past the video's end was imported without a word (COCO images, YouTube-VIS
frames and DAVIS PNGs past it were refused). Every such refusal ends saying how to proceed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from reliability_helpers import assert_one_line_error

from ecoseg.formats import export

pytestmark = pytest.mark.bad_input

HOW = "Use it with the video it was made for"

# four fish on 24 frames of a 192x128 video: two in its top-left quarter (the 96x64 clip's
# frame), two right of it: 48 of the 96 boxes lie outside the clip's frame
FISH = [(10, 10), (50, 30), (120, 20), (150, 100)]


def _mot() -> str:
    return "".join(
        f"{t + 1},{k},{x + t},{y},12,8,1,-1,-1,-1\n"
        for t in range(24)
        for k, (x, y) in enumerate(FISH, 1)
    )


def _viame() -> str:
    return "".join(
        f"{k},,{t},{x + t},{y},{x + t + 12},{y + 8},1,-1,fish,1\n"
        for t in range(24)
        for k, (x, y) in enumerate(FISH, 1)
    )


CASES = [
    ("mot", "gt.txt", _mot(), "line 3 first: x 120..132, y 20..28"),
    ("viame", "a.csv", _viame(), "line 3 first: x 120..132, y 20..28"),
]


@pytest.mark.parametrize(("fmt", "name", "text", "first"), CASES, ids=[c[0] for c in CASES])
def test_a_box_file_of_a_larger_video_is_refused(clip, tmp_path, cli, fmt, name, text, first):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", fmt, "--video", clip.video, "-o", out)
    assert_one_line_error(
        code,
        err,
        str(path),
        "48 of its 96 boxes lie outside the 96x64 frame",
        first,
        "its boxes span x 10..185, y 10..108",
        "is it the annotation of another video (or of another frame size)?",
        HOW,
    )
    assert not out.exists()


def test_a_cvat_task_longer_than_the_video_is_refused(clip, tmp_path, cli):
    """A task of 30 frames (its shapes on the clip's 24): it was imported without a word."""
    xml = Path(export(clip.truth, "cvat", tmp_path / "a.xml")).read_text(encoding="utf-8")
    assert "<size>24</size>" in xml and "<stop_frame>23</stop_frame>" in xml
    xml = xml.replace("<size>24</size>", "<size>30</size>")
    path = tmp_path / "b.xml"
    path.write_text(xml.replace("<stop_frame>23</stop_frame>", "<stop_frame>29</stop_frame>"))
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", "cvat", "--video", clip.video, "-o", out)
    assert_one_line_error(
        code,
        err,
        str(path),
        "its task frames go on to frame 29, past the end of the video (24 frames, 0..23)",
        HOW,
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("fmt", "name", "row"),
    [("mot", "a.txt", "40,1,2,2,3,3,1,-1,-1,-1"), ("viame", "a.csv", "1,,39,2,2,5,5,1,-1,fish,1")],
    ids=["mot", "viame"],
)
def test_an_animal_past_the_end_says_how_to_proceed(clip, tmp_path, cli, fmt, name, row):
    """It named the line and the video's frames only."""
    path = Path(export(clip.truth, fmt, tmp_path / name))
    path.write_text(path.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", fmt, "--video", clip.video, "-o", out)
    line = assert_one_line_error(code, err, str(path), HOW)
    said = {"mot": r"frame 40 .* \(24 frames, 0\.\.23; the file counts them from 1: 1\.\.24\)"}
    said["viame"] = r"frame 39 is past the end of the video \(24 frames, 0\.\.23\): is it"
    assert re.search(said[fmt], line), line  # the file's number (a MOT row 40 said 39)
    assert not out.exists()


def test_a_one_frame_video_is_said_in_the_singular(tmp_path, cli):
    """An animal or a CVAT task past the end of a 1-frame video said '(1 frames, 0..0)'."""
    from ecoseg.synth import synth

    one = synth(tmp_path / "one", frames=1, size=(96, 64), seed=3)
    mot = tmp_path / "a.txt"
    mot.write_text("1,1,2,2,3,3,1,-1,-1,-1\n2,1,2,2,3,3,1,-1,-1,-1\n", encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", mot, "--format", "mot", "--video", one.video, "-o", out)
    assert "frame 2 is past the end of the video (1 frame, 0..0; the file counts them from 1" in err
    xml = Path(export(one.truth, "cvat", tmp_path / "a.xml")).read_text(encoding="utf-8")
    xml = xml.replace("<size>1</size>", "<size>3</size>")
    path = tmp_path / "b.xml"
    path.write_text(xml.replace("<stop_frame>0</stop_frame>", "<stop_frame>2</stop_frame>"))
    code, _, err = cli("import", path, "--format", "cvat", "--video", one.video, "-o", out)
    assert_one_line_error(
        code, err, "its task frames go on to frame 2, past the end of the video (1 frame, 0..0)"
    )
    assert not out.exists()
