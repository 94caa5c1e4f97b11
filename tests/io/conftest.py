"""Fixtures of the io tests: one small lossless H.264 clip and its reference decode."""

from __future__ import annotations

import pytest
from video_helpers import decode_all, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """40-frame 64x48 H.264 mp4 (lossless, B-frames, a keyframe every 8 frames)."""
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


@pytest.fixture(scope="module")
def clip_frames(clip):
    return decode_all(clip)
