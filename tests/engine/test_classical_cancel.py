"""``ecoseg.segment(..., engine="classical", cancel=...)``: the motion tracker stops before the
next frame, raises :class:`Cancelled` with its partial store, and ``resume=True`` continues it
to the uninterrupted store (labels, times, scores, object table, the camera's measured motion
and its warning); ``track(..., cancel=...)`` checks once per frame and stops its prefetch."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import ecoseg
from ecoseg.engine.classical import track
from ecoseg.engine.classical.motion import FastCameraWarning
from ecoseg.errors import Cancelled
from ecoseg.store import MaskStore

FRAMES = 40
#: a short warm-up, so results (and frames in the store) come before the end of the clip
SETTINGS = dict(engine="classical", params={"warmup": 8}, progress=False)


@pytest.fixture(scope="module")
def pan(tmp_path_factory):
    """A fast pan (the camera-motion warning fires) with fish to track, and its store from
    an uninterrupted run."""
    folder = tmp_path_factory.mktemp("classical-cancel")
    clip = ecoseg.synth(folder / "clip", seed=1, frames=FRAMES, size=(320, 180), camera="fast-pan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = ecoseg.segment(clip.video, out=folder / "full.zarr", **SETTINGS)
    assert _fast_camera(caught) == 1
    return clip.video, full


def _fast_camera(caught) -> int:
    return sum(issubclass(w.category, FastCameraWarning) for w in caught)


def _assert_same_store(path, reference) -> None:
    a, b = MaskStore.open(reference), MaskStore.open(path)
    try:
        assert b.complete and b.n_frames == a.n_frames == FRAMES
        np.testing.assert_array_equal(b.read_labels(), a.read_labels())
        np.testing.assert_array_equal(b.read_time(), a.read_time())
        np.testing.assert_array_equal(b.read_scores(), a.read_scores())
        assert b.objects == a.objects and len(a.objects) > 0
        motion = b.provenance_record.camera_motion
        assert motion is not None and motion.too_fast
        assert motion == a.provenance_record.camera_motion
    finally:
        a.close()
        b.close()


def _resume(video, out) -> None:
    """Resume ``out``, checking that the finishing run warns about the camera once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ecoseg.segment(video, out=out, resume=True, **SETTINGS)
    assert _fast_camera(caught) == 1


def test_cancel_after_a_frame_then_resume_gives_the_uninterrupted_store(pan, tmp_path):
    video, full = pan
    stop = threading.Event()

    def progress(done, total):  # the caller's stop button, pressed after frame 20
        if done == 20:
            stop.set()

    out = tmp_path / "cut.zarr"
    settings = {**SETTINGS, "progress": progress}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(
            Cancelled,
            match=r"cut\.zarr: cancelled after \d+ frames; resume=True \(--resume\) continues it$",
        ):
            ecoseg.segment(video, out=out, cancel=stop, **settings)
    assert _fast_camera(caught) == 0  # the camera is measured over the whole video
    cut = MaskStore.open(out)
    # the frames held back for linking when it stopped are dropped, not padded or guessed
    assert 20 <= cut.n_frames < FRAMES and not cut.complete
    assert cut.provenance_record.camera_motion is None
    assert {o["id"] for o in cut.objects} <= {o["id"] for o in MaskStore.open(full).objects}
    cut.close()
    _resume(video, out)
    _assert_same_store(out, full)


def test_cancel_before_the_first_frame_leaves_an_empty_store_that_resumes(pan, tmp_path):
    video, full = pan
    out = tmp_path / "none.zarr"
    with pytest.raises(Cancelled, match="cancelled after 0 frames"):
        ecoseg.segment(video, out=out, cancel=lambda: True, **SETTINGS)
    cut = MaskStore.open(out)
    assert cut.n_frames == 0 and not cut.complete
    cut.close()
    _resume(video, out)
    _assert_same_store(out, full)


def _after(checks: int):
    """A cancel that is set once it has been asked ``checks`` times (before frame ``checks``)."""
    calls = iter(range(10_000))
    return lambda: next(calls) >= checks


def test_cancel_twice_then_resume(pan, tmp_path):
    """A resumed run that is cancelled again (during its re-tracking of the stored frames,
    then after new ones) still ends in the uninterrupted store."""
    video, full = pan
    out = tmp_path / "twice.zarr"
    stored = []
    for checks in (30, 12):
        with pytest.raises(Cancelled):
            ecoseg.segment(video, out=out, resume=True, cancel=_after(checks), **SETTINGS)
        with MaskStore.open(out) as cut:
            stored.append(cut.n_frames)
    assert 12 < stored[0] == stored[1] < 30  # the second stopped before the stored frames
    _resume(video, out)
    _assert_same_store(out, full)


def test_cancel_is_checked_once_per_frame_and_stops_the_prefetch(pan):
    from ecoseg.io.video import open_video

    video, _ = pan
    calls = []

    def never():
        calls.append(1)
        return False

    with open_video(video) as reader, warnings.catch_warnings():
        warnings.simplefilter("ignore", FastCameraWarning)
        assert len(list(track(reader, warmup=8, cancel=never))) == FRAMES
    assert len(calls) == FRAMES

    calls.clear()
    with open_video(video) as reader:
        run = track(reader, warmup=8, cancel=lambda: len(calls) > 10 or calls.append(1))
        results = list(run)
        # stopped before frame 11: the results of frames 0..10 that were final, no more
        assert 0 < len(results) < 11 and [r.index for r in results] == list(range(len(results)))
        assert run.camera_motion is None
        live = [t.name for t in threading.enumerate() if t.name == "ecoseg-classical-prefetch"]
        assert not live


@pytest.mark.parametrize("length", [True, False], ids=["reader", "frames-without-length"])
def test_segment_classical_cancel_then_call_again_gives_the_uninterrupted_store(
    length, pan, tmp_path
):
    """The store writer takes ``cancel`` as ``segment`` does: Cancelled, the store flushed and
    not complete; another call on the store continues it (also where the video's length is
    not known, so the cancelled run is told by its missing camera measurement)."""
    from ecoseg.engine.classical import segment_classical
    from ecoseg.io.video import open_video

    video, full = pan
    out = tmp_path / "writer.zarr"

    def write(**kwargs) -> int:
        store = MaskStore.open(out, mode="a") if out.exists() else None
        with open_video(video) as reader, warnings.catch_warnings():
            warnings.simplefilter("ignore", FastCameraWarning)
            if store is None:
                store = MaskStore.create(out, height=reader.height, width=reader.width)
            frames = reader if length else (frame for frame in reader)
            try:
                return segment_classical(frames, store, params={"warmup": 8}, **kwargs)
            finally:
                store.close()

    with pytest.raises(Cancelled, match=r"writer\.zarr: cancelled after \d+ frames"):
        write(cancel=_after(20))
    with MaskStore.open(out) as cut:
        committed = cut.n_frames
        assert 0 < committed < 20 and not cut.complete  # the held-back results dropped
        assert cut.provenance_record.camera_motion is None
    assert write() == FRAMES - committed
    _assert_same_store(out, full)
