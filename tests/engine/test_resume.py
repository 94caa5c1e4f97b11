"""Tests for ecoseg/engine/resume.py: the tracker's resume state beside a mask store."""

from __future__ import annotations

import pytest

from ecoseg.engine.resume import (
    RESUME_SUFFIX,
    load_resume_state,
    remove_resume_state,
    resume_location,
    save_resume_state,
)
from ecoseg.engine.tracker import ObjectTrack, TrackerState

IDENTITY = {"video": {"sha256": "ab"}, "prompts": {"objects": []}, "model": {"variant": "t"}}


def _state(next_frame: int = 5) -> TrackerState:
    return TrackerState(next_frame, False, 20, [ObjectTrack(3)])


def test_location_keeps_the_old_file_name(tmp_path):
    """Stores left by older releases have their resume state under this name."""
    assert RESUME_SUFFIX == "ecoseg-resume.ckpt"
    assert resume_location(tmp_path / "m.zarr") == f"{tmp_path / 'm.zarr'}.ecoseg-resume.ckpt"
    assert resume_location(str(tmp_path / "m.zip")) is None
    assert resume_location(object()) is None


def test_save_load_remove_roundtrip(tmp_path):
    where = resume_location(tmp_path / "m.zarr")
    save_resume_state(where, _state(5), IDENTITY)
    got = load_resume_state(where, IDENTITY, max_frame=5)
    assert got is not None and got.next_frame == 5 and [o.id for o in got.objects] == [3]
    assert not list(tmp_path.glob("*.partial"))  # written atomically
    remove_resume_state(where)
    assert load_resume_state(where, IDENTITY, max_frame=5) is None
    remove_resume_state(where)  # nothing there: no error
    remove_resume_state(None)


@pytest.mark.parametrize(
    "identity, max_frame",
    [
        ({**IDENTITY, "video": {"sha256": "other"}}, 5),  # made for another video
        ({**IDENTITY, "model": {"variant": "large"}}, 5),  # or another model
        (IDENTITY, 4),  # ahead of what the store holds
    ],
)
def test_a_state_for_another_run_is_ignored(tmp_path, identity, max_frame):
    where = resume_location(tmp_path / "m.zarr")
    save_resume_state(where, _state(5), IDENTITY)
    assert load_resume_state(where, identity, max_frame=max_frame) is None
    assert load_resume_state(where, IDENTITY, max_frame=5) is not None


def test_a_damaged_file_is_ignored(tmp_path):
    where = resume_location(tmp_path / "m.zarr")
    save_resume_state(where, _state(5), IDENTITY)
    blob = (tmp_path / f"m.zarr.{RESUME_SUFFIX}").read_bytes()
    (tmp_path / f"m.zarr.{RESUME_SUFFIX}").write_bytes(blob[:-7])
    assert load_resume_state(where, IDENTITY, max_frame=5) is None
    assert load_resume_state(None, IDENTITY, max_frame=5) is None
