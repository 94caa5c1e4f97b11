"""Tests for ecoseg/engine/resume.py: the tracker's resume state beside a mask store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from ecoseg.engine.resume import (
    RESUME_SUFFIX,
    load_resume_state,
    remove_resume_state,
    resume_location,
    save_resume_state,
)
from ecoseg.engine.tracker_state import FrameOutput, ObjectTrack, TrackerState

IDENTITY = {"video": {"sha256": "ab"}, "prompts": {"objects": []}, "model": {"variant": "t"}}

#: A resume state written by ``save_resume_state(where, _full_state(), IDENTITY)`` of ecoseg
#: before the tracker's records moved from ``ecoseg.engine.tracker`` to
#: ``ecoseg.engine.tracker_state`` (commit 11ff3a3).
OLD_RESUME_FILE = Path(__file__).resolve().parents[1] / "data" / "resume_v1.ecoseg-resume.ckpt"


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


def _output(frame: int, seed: int, *, dropped: bool = False) -> FrameOutput:
    """A small output with known values; ``dropped``: its logits and memory left the window."""
    values = torch.arange(seed, seed + 16, dtype=torch.float32)
    return FrameOutput(
        frame,
        None if dropped else values.reshape(1, 4, 4) / 8,
        values[:8] - 3,
        values[:1] / 4,
        None if dropped else (values[:8].reshape(2, 2, 2) / 16).to(torch.bfloat16),
    )


def _full_state() -> TrackerState:
    """Two objects, conditioning and recent outputs (one out of the memory window), spans."""
    first = ObjectTrack(3, {0: _output(0, 1)}, {3: _output(3, 2, dropped=True), 4: _output(4, 5)})
    first.spans = [[0, 4, False]]
    second = ObjectTrack(7, {2: _output(2, 9)}, {4: _output(4, 11)}, [[2, 4, False]])
    return TrackerState(5, False, 20, [first, second])


def _same(a: TrackerState, b: TrackerState) -> None:
    assert (a.next_frame, a.reverse, a.num_frames) == (b.next_frame, b.reverse, b.num_frames)
    assert [t.id for t in a.objects] == [t.id for t in b.objects]
    for ta, tb in zip(a.objects, b.objects, strict=True):
        assert ta.spans == tb.spans
        for part in ("cond", "recent"):
            oa, ob = getattr(ta, part), getattr(tb, part)
            assert list(oa) == list(ob)
            for f in oa:
                assert oa[f].frame == ob[f].frame == f
                for name in ("mask_logits", "obj_ptr", "score", "memory"):
                    x, y = getattr(oa[f], name), getattr(ob[f], name)
                    assert (x is None) == (y is None), (part, f, name)
                    if x is not None:
                        assert x.dtype == y.dtype and torch.equal(x, y), (part, f, name)


def test_a_resume_file_written_before_the_records_moved_still_loads(tmp_path):
    """The file records no class or module path (plain tensors, numbers and lists), so a
    store's resume state left by an older release resumes where the classes now live."""
    where = resume_location(tmp_path / "m.zarr")
    shutil.copyfile(OLD_RESUME_FILE, where)
    got = load_resume_state(where, IDENTITY, max_frame=5)
    assert got is not None
    _same(got, _full_state())


def test_a_full_state_roundtrips_through_a_resume_file(tmp_path):
    where = resume_location(tmp_path / "m.zarr")
    save_resume_state(where, _full_state(), IDENTITY)
    _same(load_resume_state(where, IDENTITY, max_frame=5), _full_state())


def test_the_records_are_still_importable_from_their_old_modules():
    """``ecoseg.engine.tracker`` and ``ecoseg.engine.propagation`` re-export the records."""
    from ecoseg.engine import propagation, tracker, tracker_state

    for name in tracker_state.__all__:
        assert getattr(tracker, name) is getattr(tracker_state, name), name
        assert name in tracker.__all__, name
        assert getattr(propagation, name) is getattr(tracker_state, name), name


def test_a_replaced_video_of_the_same_path_is_named_so():
    """A video replaced by another file of the same path was 'made from another video
    (k/L.mp4), not k/L.mp4'."""
    from ecoseg.engine.resume import check_resumable
    from ecoseg.errors import StoreError
    from ecoseg.provenance import Provenance

    old = Provenance.from_dict({"video": {"path": "k/L.mp4", "sha256": "aa"}})
    with pytest.raises(StoreError) as same:
        check_resumable("m.zarr", old, {"video": {"path": "k/L.mp4", "sha256": "bb"}})
    assert str(same.value).startswith(
        "m.zarr: cannot resume: the store was made from another video of that name (k/L.mp4: "
        "the sha256 differs; the file was replaced); resume with that video, or pass"
    )
    with pytest.raises(StoreError, match=r"another video \(k/L\.mp4\), not k/M\.mp4; resume"):
        check_resumable("m.zarr", old, {"video": {"path": "k/M.mp4", "sha256": "bb"}})
