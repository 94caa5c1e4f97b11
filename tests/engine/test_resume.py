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


def test_describe_change_names_what_differs():
    from ecoseg.engine.resume import describe_change

    a = {"detect_every": 1, "nms_iou": 0.1, "score_threshold": 0.5}
    assert describe_change(a, {**a, "detect_every": 4}) == "detect_every: 1 in the store, 4 now"
    prompts = {"concepts": [{"text": "wrasse"}], "objects": [{"id": 2, "class": "a"}]}
    other = {"concepts": [{"text": "Wrasse"}], "objects": [{"id": 2, "class": "b"}]}
    assert describe_change(prompts, other) == (
        "concepts: ['wrasse'] in the store, ['Wrasse'] now; prompts of object 2"
    )
    boxes = {"concepts": [{"text": "wrasse", "exemplars": [{"frame": 1}]}], "objects": []}
    assert describe_change(prompts | {"objects": []}, boxes) == "exemplars of concept 'wrasse'"
    many = {k: k for k in "abcde"}
    assert describe_change(many, {}).endswith("; 2 more")
