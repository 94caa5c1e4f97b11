"""Fixtures of the store tests."""

from __future__ import annotations

import pytest
from store_helpers import OBJECTS, H, W, frames, times

from ecoseg.store import MaskStore


@pytest.fixture
def store(tmp_path):
    """A writable store of three frames with the objects 1, 4 and 9."""
    s = MaskStore.create(tmp_path / "w.zarr", height=H, width=W, chunk_frames=2, objects=OBJECTS)
    s.append(frames(3), times(3))
    yield s
    s.close()
