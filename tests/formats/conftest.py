"""Shared fixtures of the format tests (helpers live in ``formats_helpers``)."""

from __future__ import annotations

import pytest
from formats_helpers import SAMPLE_TRUTH, SAMPLE_VIDEO

from ecoseg.formats import VideoInfo
from ecoseg.formats._stores import read_store


@pytest.fixture(scope="session")
def sample():
    """(truth store path, video path, VideoInfo, annotations read from the truth store)."""
    info = VideoInfo.of(SAMPLE_VIDEO, record=True)
    return SAMPLE_TRUTH, SAMPLE_VIDEO, info, read_store(SAMPLE_TRUTH)
