"""open_video (ecoseg.io.video): one entry point, one-line errors for bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest
from video_helpers import (
    one_line_naming,
)

from ecoseg.errors import VideoError
from ecoseg.io.video import (
    open_video,
)


def test_missing_empty_and_not_video(tmp_path, clip):
    cases = {
        "missing.mp4": None,
        "empty.mp4": b"",
        "text.mp4": b"this is not a video, just words\n" * 40,
        "noise.mov": np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes(),
        "truncated.mp4": clip.read_bytes()[:1500],  # the index (moov) is at the end: lost
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(VideoError) as info:
            open_video(path)
        msg = one_line_naming(info, name)
        # a camera file cut before its index says so; other damage does not claim it
        assert ("the moov box, is missing" in msg) == (name == "truncated.mp4"), msg


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path, clip):
    path = tmp_path / "locked.mp4"
    path.write_bytes(clip.read_bytes())
    path.chmod(0)
    with pytest.raises(VideoError) as info:
        open_video(path)
    one_line_naming(info, "locked.mp4")


def test_fps_is_refused_for_video_files(clip):
    with pytest.raises(VideoError) as info:
        open_video(clip, fps=25)
    one_line_naming(info, "clip.mp4")
