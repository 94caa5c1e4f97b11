"""Fixtures of the batch tests."""

from __future__ import annotations

import shutil

import pytest
from batch_helpers import GOOD, H, N, W

import ecoseg


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Three synthetic clips and one corrupt one (a truncated mp4) in one folder."""
    folder = tmp_path_factory.mktemp("videos")
    truths = {}
    for seed, name in enumerate(GOOD, start=1):
        clip = ecoseg.synth(folder / f"_{name}", frames=N, size=(W, H), seed=seed)
        shutil.move(clip.video, folder / f"{name}.mp4")
        truths[name] = clip.truth
    data = (folder / "north.mp4").read_bytes()
    (folder / "broken.mp4").write_bytes(data[: len(data) // 5])
    return folder, truths
