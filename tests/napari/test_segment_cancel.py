"""*Cancel* in Segment & track stops SAM 2 and SAM 3 video runs through their engines' own
cancel, as ``ecoseg segment(..., cancel=...)`` does: the frame being made when it is pressed is
kept and painted, nothing after it is computed. ``run_job``'s loop watched the cancel itself
and dropped that frame (and the widget's worker quit, leaving frames the engine still handed
out unpainted); the motion tracker too stops by its own cancel, as ``segment``'s."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from napari_helpers import SAMPLE_FISH, click, random_sam2, random_sam3_job, wait_done
from suite_helpers import random_concept_params

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")
pytest.importorskip("torch")

from ecoseg.napari._jobs import Job, run_job  # noqa: E402

#: SAM 3 concept tracking with random weights that starts tracks (as test_segment_find.py),
#: each frame handed out two frames later (hot start)
CONCEPT_PARAMS = random_concept_params(4)


class _Made:
    """The frames an engine computes (``frames``), recorded by a wrapper of its per-frame
    step; ``during(t)`` runs inside the step of frame ``t``, before it is computed."""

    def __init__(self, monkeypatch, owner, name, during):
        self.frames: list[int] = []
        real = getattr(owner, name)

        def step(engine, t, *args, **kwargs):
            self.frames.append(int(t))
            during(int(t))
            return real(engine, t, *args, **kwargs)

        monkeypatch.setattr(owner, name, step)


def _sam2_made(monkeypatch, during):
    from ecoseg.engine.session import StreamingSession

    return _Made(monkeypatch, StreamingSession, "_track", during)


def _sam3_made(monkeypatch, during):
    from ecoseg.engine.concept_tracker import ConceptTracker

    return _Made(monkeypatch, ConceptTracker, "step", during)


def _segment_frames(tmp_path, video, cancel, **settings) -> np.ndarray:
    """The label images ``ecoseg.segment`` leaves in its store when ``cancel`` stops it."""
    import ecoseg
    from ecoseg.errors import Cancelled
    from ecoseg.store import MaskStore

    out = tmp_path / "segment.zarr"
    with pytest.raises(Cancelled):
        ecoseg.segment(video, out=out, device="cpu", progress=False, cancel=cancel, **settings)
    with MaskStore.open(out) as store:
        return store.read_labels(0, store.n_frames)


def test_a_cancelled_sam2_job_keeps_the_frame_being_made_as_segment_does(monkeypatch, tmp_path):
    """Cancel pressed while SAM 2 tracks frame 1: frame 1 is handed out and frame 2 is never
    tracked; the frames are those a cancelled ``segment`` leaves in its store. The job dropped
    frame 1."""
    from ecoseg.prompts import Prompts
    from ecoseg.sample import sample

    video = str(sample().video)
    t, y, x = SAMPLE_FISH
    prompts = Prompts.single(t, points=[[x, y]])
    cancel = [threading.Event()]
    made = _sam2_made(monkeypatch, lambda f: f == 1 and cancel[0].set())
    job = Job(video, prompts=prompts, pretrained=False, image_size=128, device="cpu")
    cancel[0] = job.cancel
    updates = list(run_job(job))
    assert [u.index for u in updates] == [0, 1] and made.frames == [0, 1]
    assert all(u.object_ids == (1,) for u in updates)
    cancel[0], made.frames[:] = threading.Event(), []
    stored = _segment_frames(
        tmp_path, video, cancel[0], prompts=prompts, pretrained=False, image_size=128
    )
    assert made.frames == [0, 1]
    np.testing.assert_array_equal(np.stack([u.labels for u in updates]), stored)


def test_a_cancelled_sam3_job_keeps_what_its_engine_hands_out_as_segment_does(
    monkeypatch, tmp_path
):
    """Cancel pressed while SAM 3 steps frame 3 (frames come out two frames later: hot
    start): frame 1, handed out by that step, is kept, frames 2 and 3 are not (the engine
    drops what its hot start holds, as in ``segment``) and frame 4 is never computed. The job
    dropped frame 1."""
    from ecoseg.sample import sample

    video = str(sample().video)
    cancel = [threading.Event()]
    made = _sam3_made(monkeypatch, lambda f: f == 3 and cancel[0].set())
    job = random_sam3_job(video)
    cancel[0] = job.cancel
    updates = list(run_job(job))
    assert [u.index for u in updates] == [0, 1] and made.frames == [0, 1, 2, 3]
    cancel[0], made.frames[:] = threading.Event(), []
    stored = _segment_frames(
        tmp_path,
        video,
        cancel[0],
        model="sam3-reduced",
        concepts=["parrotfish"],
        params=dict(CONCEPT_PARAMS),
        pretrained=False,
        image_size=112,
    )
    assert made.frames == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.stack([u.labels for u in updates]), stored)


def test_a_cancelled_motion_tracker_job_stops_as_segment_does(monkeypatch, tmp_path):
    """Cancel pressed while the motion tracker reads frame 5, before it hands out a frame (it
    holds frames back for linking): it reads no further frame (its own ``cancel``, as
    ``segment``'s) and hands out the frames a cancelled ``segment`` stores. ``run_job``'s loop
    looked at the cancel only when a frame came out, so the tracker read on."""
    import ecoseg
    from ecoseg.engine.classical.tracker import ClassicalTracker
    from ecoseg.errors import Cancelled
    from ecoseg.sample import sample
    from ecoseg.store import MaskStore

    video = str(sample().video)
    read, stop = [], [threading.Event()]
    real = ClassicalTracker.push

    def push(tracker, index, time, image):
        read.append(int(index))
        if index == 5:
            stop[0].set()  # as Cancel pressed while frame 5 is tracked
        return real(tracker, index, time, image)

    monkeypatch.setattr(ClassicalTracker, "push", push)
    job = Job(video, engine="classical")
    stop[0] = job.cancel
    made = {u.index: u.labels for u in run_job(job)}
    assert read == list(range(6)), read

    read.clear()
    stop[0] = threading.Event()
    out = tmp_path / "segment.zarr"
    with pytest.raises(Cancelled):
        ecoseg.segment(video, out=out, engine="classical", progress=False, cancel=stop[0])
    assert read == list(range(6)), read
    with MaskStore.open(out) as store:
        kept = store.read_labels(0, store.n_frames) if store.n_frames else []
    assert sorted(made) == list(range(len(kept)))
    assert all(np.array_equal(made[t], kept[t]) for t in range(len(kept)))


@pytest.fixture
def widget(segment_widget):
    """The Segment & track widget on the sample video (``segment_widget`` in conftest.py)."""
    return segment_widget


def _painted(w) -> list[int]:
    """The frames the run painted into the masks layer (with or without objects on them)."""
    from ecoseg.napari._layers import META_KEY

    return sorted(w.viewer.layers["ecoseg masks"].metadata[META_KEY].get("scores", {}))


def test_cancel_in_the_widget_paints_the_sam2_frame_being_made(widget, qtbot, monkeypatch):
    """*Cancel* pressed while SAM 2 tracks frame 1, its results handed out one frame behind
    as on a GPU (frame 0 once frame 1 is queued): frames 0 and 1 are painted, as ``segment``
    stores them, and frame 2 is never tracked. The widget painted neither (the job dropped
    frame 0, handed out after the Cancel; its worker quit before frame 1 came)."""
    from ecoseg.engine.session import StreamingSession

    real = StreamingSession.run
    monkeypatch.setattr(StreamingSession, "run", lambda s, *a, **k: real(s, *a, **k, pipeline=True))
    pressed = threading.Event()
    made = _sam2_made(monkeypatch, lambda f: f == 1 and pressed.wait(60))
    w = widget
    random_sam2(w, until=-1)
    click(w, SAMPLE_FISH)
    w.run()
    assert w._worker is not None, w.status.text()
    qtbot.waitUntil(lambda: made.frames == [0, 1], timeout=120_000)
    w.cancel()  # while frame 1 is tracked
    pressed.set()
    wait_done(qtbot, w)
    assert made.frames == [0, 1]
    assert _painted(w) == [0, 1] and w.frames_done == 2
    assert w.status.text() == "cancelled: 2 frames tracked into 'ecoseg masks' (1 object)"


def test_cancel_in_the_widget_paints_what_sam3_hands_out(widget, qtbot, monkeypatch):
    """*Cancel* pressed while SAM 3 steps frame 3: frame 1, which that step hands out (hot
    start), is painted and frame 4 is never computed. The widget dropped frame 1."""
    pressed = threading.Event()
    made = _sam3_made(monkeypatch, lambda f: f == 3 and pressed.wait(60))
    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.model_combo.setCurrentText("sam3-reduced")
    w.random_check.setChecked(True)
    w.device_combo.setCurrentIndex(w.device_combo.findData("cpu"))
    w.size_spin.setValue(112)
    w.until_spin.setValue(-1)
    w.find.find_edit.setText("parrotfish")
    w.concept_params = dict(CONCEPT_PARAMS)
    w.run()
    assert w._worker is not None, w.status.text()
    qtbot.waitUntil(lambda: made.frames == [0, 1, 2, 3], timeout=120_000)
    w.cancel()  # while frame 3 is stepped
    pressed.set()
    wait_done(qtbot, w)
    assert made.frames == [0, 1, 2, 3] and _painted(w) == [0, 1] and w.frames_done == 2
    assert w.status.text().startswith("cancelled: 2 frames tracked into 'ecoseg masks'")
