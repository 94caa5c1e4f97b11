"""An image folder whose names carry no frame numbers, read as a video.

``ecoseg segment`` and ``import`` read such a folder (``other.png``, ``reef A.png``) in name
order without a word, and a stray image among numbered frames (``cover.png`` beside
``f_001.png``) became a frame where its name sorts, shifting every frame after it. Both now
warn once, naming the folder and the images (:func:`ecoseg.io.folder.unnumbered_note`). A
photo survey's photographs have no frame order: their free names stay without a word, and
so does opening the folder to show a survey store (report, napari, info).
"""

from __future__ import annotations

import re
import warnings

import pytest
from suite_helpers import photo_folder

from ecoseg.io import VideoWarning, open_video

FREE = ("other.png", "reef A.png", "reef B.png", "reef C.png")


def _warnings(err: str) -> list[str]:
    """The warning lines about frame numbers (noise images also move the camera)."""
    lines = re.split(r"[\r\n]+", err)
    return [s for s in lines if s.startswith("ecoseg: warning:") and "frame number" in s]


@pytest.mark.bad_input
def test_a_folder_without_frame_numbers_is_said_to_be_read_in_name_order(tmp_path, cli):
    folder = photo_folder(tmp_path / "quadrats", 0, names=FREE)
    code, out, err = cli("segment", folder, "-o", tmp_path / "m.zarr", "--engine", "classical")
    assert code == 0, err
    said = _warnings(err)
    assert len(said) == 1, err
    assert said[0] == (
        f"ecoseg: warning: {folder}: its images carry no frame numbers (other.png, reef A.png, "
        "reef B.png, ...), so they are read as frames in name order"
    )


@pytest.mark.bad_input
def test_a_stray_image_among_numbered_frames_is_named_with_the_frame_it_becomes(tmp_path, cli):
    names = ("f_001.png", "f_002.png", "f_003.png", "cover.png")
    folder = photo_folder(tmp_path / "frames", 0, names=names)
    code, out, err = cli("segment", folder, "-o", tmp_path / "m.zarr", "--engine", "classical")
    assert code == 0, err
    said = _warnings(err)
    assert len(said) == 1, err
    assert f"{folder}: 1 of its 4 images carries no frame number (cover.png)" in said[0]
    assert "(frame 0)" in said[0] and "move it out of the folder" in said[0]


def test_numbered_frames_and_a_survey_store_shown_again_say_nothing(tmp_path):
    numbered = photo_folder(tmp_path / "f", 0, names=("f_001.png", "f_002.png", "f10.png"))
    free = photo_folder(tmp_path / "q", 1, names=FREE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", VideoWarning)
        from ecoseg.io.video import as_reader

        as_reader(numbered).close()
        open_video(free).close()  # as the report, napari and info open a survey's folder
    with pytest.warns(VideoWarning, match="no frame numbers"):
        as_reader(free).close()
