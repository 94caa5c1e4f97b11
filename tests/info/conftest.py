"""Fixtures of the info tests: a synthetic clip whose truth store each test copies."""

from __future__ import annotations

import shutil

import pytest

from ecoseg.synth import synth


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 16-frame synthetic clip, truth store in chunks of 4 frames (4 labels chunks)."""
    return synth(tmp_path_factory.mktemp("clip"), frames=16, size=(64, 48), chunk_frames=4)


@pytest.fixture(scope="module")
def other_clip(tmp_path_factory):
    """Another clip of the same size and length (another seed): not the store's video."""
    return synth(tmp_path_factory.mktemp("other"), frames=16, size=(64, 48), chunk_frames=4, seed=7)


@pytest.fixture
def truth(clip, tmp_path):
    """A copy of the clip's truth store, free to damage."""
    return shutil.copytree(clip.truth, tmp_path / "truth.zarr")
