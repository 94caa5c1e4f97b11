"""Tests for ecoseg/engine/session.py (and _runtime.py): the session (objects added,
corrected and removed mid-video, reverse), snapshots, cancellation of ``propagate``, the
prompts it refuses or cuts, the prefetch decode thread and device-side label resolution.
Runs through :func:`ecoseg.segment` (resume, the backward pass) are in test_storing.py.

Equivalence claims are tested against runs without the interaction (and, for the correction
re-propagated from an earlier frame, against the official predictor).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from ecoseg.engine._runtime import ArrayVideo, label_index, prefetch
from ecoseg.engine.results import labels_from_logits
from ecoseg.engine.session import StreamingSession, propagate
from ecoseg.engine.tracker import TrackerState
from ecoseg.errors import PromptError
from ecoseg.prompts import FramePrompt, ObjectPrompts, Prompts
from ecoseg.sam2.model import SAM2Model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_tracker import (  # noqa: E402  (clip and oracle helpers)
    CountingVideo,
    H,
    W,
    add_official_prompts,
    compare,
    jpeg_folder,
    main_prompts,
    make_clip,
    report,
    video_pair,
)

pytestmark = pytest.mark.filterwarnings("ignore:cannot import name '_C':UserWarning")

CLICK_A = FramePrompt(0, np.array([[25.0, 30.0]]), np.array([1]))
BOX_B = FramePrompt(5, box=np.array([74.0, 35.0, 96.0, 65.0]))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return SAM2Model("sam2.1-tiny", image_size=64).eval()


@pytest.fixture(scope="module")
def clip():
    return make_clip(10)


def by_frame(results):
    return {r.index: r for r in results}


def logits_of(result, oid):
    return result.logits[list(result.object_ids).index(oid)]


def assert_close(a, b, rel=1e-4):
    assert np.abs(a - b).max() <= rel * max(1.0, np.abs(b).max())


def test_session_equals_propagate(model, clip):
    prompts = main_prompts(6)
    ref = by_frame(propagate(model, clip, prompts))
    s = StreamingSession(model, clip, snapshot_every=4)
    for f in reversed(prompts.frames()):
        s.add_prompts(f, prompts.at(f))
    got = by_frame(s.run())
    assert list(got) == list(ref)
    for t in ref:
        assert np.array_equal(got[t].logits, ref[t].logits), t


def test_propagate_takes_a_prompt_file_or_its_json_as_segment_does(model, clip, tmp_path):
    """``ecoseg.engine.propagate(model, video, prompts)`` with the README's prompt JSON as a
    dict was an AttributeError ('dict' object has no attribute 'objects')."""
    data = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[25, 30]]}]}]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    ref = by_frame(propagate(model, clip, Prompts.from_dict(data)))
    for given in (data, path, str(path)):
        got = by_frame(propagate(model, clip, given))
        assert list(got) == list(ref)
        assert all(np.array_equal(got[t].logits, ref[t].logits) for t in ref)
    with pytest.raises(PromptError, match="p2.json"):
        list(propagate(model, clip, tmp_path / "p2.json"))


def test_propagate_takes_a_video_path_as_segment_does(model, tmp_path, monkeypatch):
    """``ecoseg.engine.propagate(model, "clip.mp4", prompts)`` (the README's call, with a path as
    ``ecoseg.segment`` takes it) was a ValueError 'frames must be (H, W, 3) RGB arrays, got
    shape ()', a missing Path a TypeError 'object of type PosixPath has no len()'."""
    import ecoseg
    from ecoseg.errors import VideoError
    from ecoseg.io.reader import VideoReader

    clip = ecoseg.synth(tmp_path / "clip", frames=3, size=(64, 48))
    prompts = Prompts.single(0, points=[[30, 20]])
    with ecoseg.open_video(clip.video) as reader:
        ref = by_frame(propagate(model, reader, prompts))
    closed = []
    close = VideoReader.close
    monkeypatch.setattr(VideoReader, "close", lambda self: (closed.append(1), close(self)))
    for given in (clip.video, str(clip.video)):
        got = by_frame(propagate(model, given, prompts))
        assert list(got) == list(ref) == [0, 1, 2]
        assert all(np.array_equal(got[t].logits, ref[t].logits) for t in ref)
    assert len(closed) == 2  # the reader opened for the path is closed when the results end
    with pytest.raises(VideoError, match="nope.mp4"):
        list(propagate(model, tmp_path / "nope.mp4", prompts))
    with pytest.raises(TypeError, match="video must be a path, an ecoseg.open_video reader"):
        list(propagate(model, 3, prompts))


def test_add_object_mid_video_keeps_other_outputs(model, clip):
    alone = by_frame(propagate(model, clip, Prompts((ObjectPrompts(1, "a", (CLICK_A,)),))))

    def add_b(session, frame, tracked):
        if frame.index == 5:
            out = session.add_object(2, 5, BOX_B)
            assert out.object_ids.tolist() == [2] and out.logits.shape == (1, H, W)

    s = StreamingSession(model, clip)
    s.add_prompts(0, [(1, CLICK_A)])
    got = by_frame(s.run(on_frame=add_b))
    assert sorted(got) == list(range(10))
    for t, r in got.items():
        assert r.object_ids.tolist() == ([1] if t < 5 else [1, 2])
        assert_close(logits_of(r, 1), alone[t].logits[0])
    # the new object's track starts at its prompt: what it gets alone from frame 5 on
    b_alone = by_frame(propagate(model, clip, Prompts((ObjectPrompts(2, "b", (BOX_B,)),))))
    assert sorted(b_alone) == list(range(5, 10))
    for t in b_alone:
        assert_close(logits_of(got[t], 2), b_alone[t].logits[0])
    with pytest.raises(PromptError, match="object 2: already tracked"):
        s.add_object(2, 13, BOX_B)


def test_remove_object(model, clip):
    prompts = main_prompts(5)  # only the frame-0 prompts are kept below
    prompts = Prompts(tuple(ObjectPrompts(o.id, o.class_, o.prompts[:1]) for o in prompts.objects))
    alone = by_frame(propagate(model, clip, Prompts(prompts.objects[1:])))
    s = StreamingSession(model, clip)
    s.add_prompts(0, prompts.at(0))
    first = list(s.run(stop=6))
    s.remove_object(1)
    rest = by_frame(s.run())
    assert all(r.object_ids.tolist() == [1, 2] for r in first)
    assert sorted(rest) == list(range(6, 10))
    for t, r in rest.items():
        assert r.object_ids.tolist() == [2]
        assert_close(r.logits[0], alone[t].logits[0])
    with pytest.raises(PromptError, match="object 1: no such object"):
        s.remove_object(1)


def test_correction_on_earlier_frame_rewinds_exactly(model, clip):
    """Clicks on frame 6 after tracking to the end give what clicking there right after
    tracking frame 6 gives (snapshot + replay), then tracking on from frame 7."""
    fix = FramePrompt(6, np.array([[41.0, 38.0], [60.0, 10.0]]), np.array([1, 0]))
    direct = StreamingSession(model, clip)
    direct.add_prompts(0, main_prompts().at(0))
    list(direct.run(stop=7))
    want_fix = direct.add_prompts(6, [(1, fix)])
    want = by_frame(direct.run())

    s = StreamingSession(model, clip, snapshot_every=4)
    s.add_prompts(0, main_prompts().at(0))
    first = by_frame(s.run())
    assert s.position == 10
    got_fix = s.add_prompts(6, [(1, fix)])
    assert s.position == 7
    got = by_frame(s.run())
    assert np.array_equal(got_fix.logits, want_fix.logits)
    assert sorted(got) == sorted(want) == list(range(7, 10))
    for t in want:
        assert np.array_equal(got[t].logits, want[t].logits), t
    # and the clicks changed the mask on frame 6
    assert not np.allclose(got_fix.logits[0], first[6].logits[0], atol=1e-3)
    # re-running from an earlier frame rewinds as well and reproduces the same outputs
    again = by_frame(s.run(start=9))
    for t in again:
        assert np.array_equal(again[t].logits, want[t].logits), t


def test_rewind_replays_objects_added_meanwhile(model, clip):
    """Objects added mid-stream between the snapshot and the corrected frame survive a rewind."""

    def add_b(session, frame, tracked):
        if frame.index == 5:
            session.add_object(2, 5, BOX_B)

    def session(events):
        s = StreamingSession(model, clip, snapshot_every=4)
        s.add_prompts(0, [(1, CLICK_A)])
        return s, events

    s, _ = session(None)
    list(s.run(stop=8, on_frame=add_b))
    fix = FramePrompt(7, np.array([[40.0, 36.0]]), np.array([1]))
    want_fix = s.add_prompts(7, [(1, fix)])
    want = by_frame(s.run())

    s2, _ = session(None)
    list(s2.run(on_frame=add_b))
    got_fix = s2.add_prompts(7, [(1, fix)])
    got = by_frame(s2.run())
    assert np.array_equal(got_fix.logits, want_fix.logits)
    for t in want:
        assert got[t].object_ids.tolist() == [1, 2]
        assert np.array_equal(got[t].logits, want[t].logits), t


def test_a_correction_names_the_objects_it_forgets(model, clip):
    """Object 2, added on frame 5, and its removal on frame 8 are forgotten by a correction on
    frame 3, and a warning says so; a correction after them forgets nothing and says nothing."""
    import warnings

    from ecoseg.engine.session import ForgottenEditsWarning

    def add_b(session, frame, tracked):
        if frame.index == 5:
            session.add_object(2, 5, BOX_B)

    s = StreamingSession(model, clip, snapshot_every=4)
    s.add_prompts(0, [(1, CLICK_A)])
    list(s.run(stop=9, on_frame=add_b))
    s.remove_object(2)
    fix = FramePrompt(8, np.array([[40.0, 36.0]]), np.array([1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForgottenEditsWarning)
        s.add_prompts(8, [(1, fix)])  # after both: nothing forgotten
    fix = FramePrompt(3, np.array([[40.0, 36.0]]), np.array([1]))
    with pytest.warns(ForgottenEditsWarning) as caught:
        s.add_prompts(3, [(1, fix)])
    assert caught[0].filename == __file__  # the caller's line, not torch's decorator
    message = str(caught[0].message)
    assert "frame 3" in message and "object 2 on frame 5" in message
    assert "the removal of object 2" in message
    assert all(r.object_ids.tolist() == [1] for r in s.run())


@pytest.mark.oracle
def test_rewound_correction_matches_official(tmp_path):
    """Official: track all 12 frames, click on frame 6, propagate from frame 7. Ours: the same
    with a bounded session (rewind through a snapshot)."""
    pytest.importorskip("sam2")
    frames = make_clip(12)
    folder = jpeg_folder(tmp_path / "clip", frames)
    official, ours = video_pair("sam2.1-tiny")
    prompts = main_prompts()
    fix = FramePrompt(6, np.array([[41.0, 38.0]]), np.array([1]))
    ref = {}
    with torch.inference_mode():
        state = official.init_state(video_path=str(folder))
        add_official_prompts(official, state, prompts, 0)
        for _ in official.propagate_in_video(state):
            pass
        _, _, masks = official.add_new_points_or_box(
            state, 6, 1, points=fix.points, labels=fix.labels
        )
        ref["fix"] = masks[:1, 0].numpy()
        for t, _, masks in official.propagate_in_video(state, start_frame_idx=7):
            ref[t] = masks[:, 0].numpy()

    from ecoseg.io.video import open_video

    s = StreamingSession(ours, open_video(folder), snapshot_every=4)
    s.add_prompts(0, prompts.at(0))
    list(s.run())
    got = {"fix": s.add_prompts(6, [(1, fix)]).logits}
    got.update((r.index, r.logits) for r in s.run())
    stats = compare(ref, got)
    report("sam2.1-tiny correction on an earlier frame (rewind), then onwards", stats)
    import sam2_oracle

    assert sam2_oracle.agrees(stats), stats


def test_reverse_session(model, clip):
    late = Prompts((ObjectPrompts(4, "x", (FramePrompt(6, box=np.array([30, 20, 60, 50])),)),))
    ref = list(propagate(model, clip, late, reverse=True))
    assert [r.index for r in ref] == [6, 5, 4, 3, 2, 1, 0]
    s = StreamingSession(model, clip, reverse=True, snapshot_every=2)
    s.add_prompts(6, late.at(6))
    got = list(s.run())
    assert [r.index for r in got] == [6, 5, 4, 3, 2, 1, 0]
    for a, b in zip(got, ref, strict=True):
        assert np.array_equal(a.logits, b.logits)
    # backwards correction on frame 3 after reaching frame 0 rewinds too
    fix = FramePrompt(3, np.array([[45.0, 35.0]]), np.array([1]))
    s.add_prompts(3, [(4, fix)])
    assert [r.index for r in s.run()] == [2, 1, 0]


def test_leaving_and_reentering_keeps_id(model, clip, monkeypatch):
    """Frames where the object-score head says "absent" report the object with score < 0.5
    and no pixels; when it says "present" again the object comes back under its id."""
    absent = {4, 5, 6}
    forced = {"logit": 8.0}
    decoder = model.sam_mask_decoder
    original = decoder.forward

    def forward(*args, **kwargs):
        out = original(*args, **kwargs)
        return out._replace(
            object_score_logits=torch.full_like(out.object_score_logits, forced["logit"])
        )

    monkeypatch.setattr(decoder, "forward", forward)

    def before_next(session, frame, tracked):
        forced["logit"] = -8.0 if frame.index + 1 in absent else 8.0

    s = StreamingSession(model, clip)
    s.add_prompts(0, [(3, CLICK_A)])
    results = list(s.run(on_frame=before_next))
    assert [r.index for r in results] == list(range(10))
    for r in results:
        assert r.object_ids.tolist() == [3]
        labels = r.label_image()
        if r.index in absent:
            assert r.scores[0] < 0.5 and not (labels == 3).any()
        else:
            assert r.scores[0] > 0.5 and (r.logits[0] > 0).any()
            assert (labels == 3).any()


def test_label_index_matches_numpy_rule():
    rng = np.random.default_rng(1)
    for n in (0, 1, 3, 6):
        logits = rng.normal(size=(n, 9, 11)).round(1).astype(np.float32)  # ties happen
        scores = rng.choice([0.2, 0.5, 0.9], size=n).astype(np.float32)
        ids = np.array([7, 3, 12, 40, 41, 2][:n])
        index = label_index(torch.from_numpy(logits), torch.from_numpy(scores)).numpy()
        got = np.concatenate([[0], ids])[index]
        assert np.array_equal(got, labels_from_logits(ids, logits, scores))


def test_labels_output_equals_logits_output(model, clip):
    prompts = main_prompts(3)
    a = list(propagate(model, clip[:5], prompts))
    b = list(propagate(model, clip[:5], prompts, output="labels"))
    for ra, rb in zip(a, b, strict=True):
        assert rb.logits is None and rb.labels.dtype == np.uint32
        assert np.array_equal(rb.labels, ra.label_image())
        assert np.array_equal(rb.scores, ra.scores)


def test_compiled_session_equals_eager(model, clip):
    """``compile=`` traces the image encoder and memory attention with torch.compile; the
    ``"eager"`` backend (no code generation, so it runs on any machine) must give the same
    masks. On CUDA ``compile=True`` uses inductor (benchmarks/engine_vs_sam2.py, configuration
    ``ecoseg-bf16-compiled``; run on an H200: docs/performance.md)."""
    prompts = main_prompts(3)
    a = list(propagate(model, clip[:4], prompts))
    b = list(propagate(model, clip[:4], prompts, compile="eager"))
    for ra, rb in zip(a, b, strict=True):
        np.testing.assert_allclose(rb.logits, ra.logits, rtol=0, atol=1e-5)


class ThreadVideo(CountingVideo):
    """Frames made on demand, recording the decoding thread; frame ``bad`` fails."""

    def __init__(self, n, bad=None):
        super().__init__(n)
        self.bad = bad
        self.threads: set[str] = set()

    def frames(self, start=0, stop=None):
        for frame in super().frames(start, stop):
            self.threads.add(threading.current_thread().name)
            if frame.index == self.bad:
                raise OSError(f"frame {frame.index}: corrupt packet")
            yield frame


def test_decoding_runs_in_a_background_thread(model):
    video = ThreadVideo(6)
    results = list(propagate(model, video, Prompts.single(0, points=[[30, 20]])))
    assert len(results) == 6 and "ecoseg-decode" in video.threads
    with pytest.raises(OSError, match="frame 3: corrupt packet"):
        list(propagate(model, ThreadVideo(6, bad=3), Prompts.single(0, points=[[30, 20]])))


def test_prefetch_zero_decodes_in_the_calling_thread(model):
    video = ThreadVideo(6)
    threaded = list(propagate(model, ThreadVideo(6), Prompts.single(0, points=[[30, 20]])))
    inline = list(propagate(model, video, Prompts.single(0, points=[[30, 20]]), prefetch=0))
    assert "ecoseg-decode" not in video.threads and threading.current_thread().name in video.threads
    for a, b in zip(threaded, inline, strict=True):
        np.testing.assert_array_equal(a.logits, b.logits)
    with pytest.raises(OSError, match="frame 3: corrupt packet"):
        list(
            propagate(
                model, ThreadVideo(6, bad=3), Prompts.single(0, points=[[30, 20]]), prefetch=0
            )
        )


def test_fast_runs_in_bf16_unless_autocast_says_otherwise(model, monkeypatch):
    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: True)  # any machine
    frames = [np.full((48, 64, 3), 100, np.uint8)] * 2
    assert StreamingSession(model, frames, fast=True).autocast is True
    assert StreamingSession(model, frames, fast=True, autocast=False).autocast is False
    assert StreamingSession(model, frames).autocast is (model.device.type == "cuda")


def test_prefetch_iterator_stops_early_and_reraises():
    def gen():
        yield 1
        raise ValueError("boom")

    it = prefetch(gen())
    assert next(it) == 1
    with pytest.raises(ValueError, match="boom"):
        next(it)
    it = prefetch(iter(range(1000)), maxsize=2)
    assert next(it) == 0
    it.close()  # the worker thread is told to stop


def test_cancel_stops_propagation(model, clip):
    stop = threading.Event()
    seen = []
    for r in propagate(model, clip, main_prompts(5)):
        seen.append(r.index)
        if r.index == 3:
            stop.set()
    assert seen == list(range(10))
    seen = []
    snaps = []
    for r in propagate(model, clip, main_prompts(5), cancel=stop, on_snapshot=snaps.append):
        seen.append(r.index)
    assert seen == []
    calls = iter(range(100))
    got = [
        r.index
        for r in propagate(
            model, clip, main_prompts(5), cancel=lambda: next(calls) >= 4, on_snapshot=snaps.append
        )
    ]
    assert got == [0, 1, 2, 3] and snaps[-1].next_frame == 4


def test_snapshot_roundtrip_and_bounded(model, clip):
    prompts = main_prompts(4)
    ref = by_frame(propagate(model, clip, prompts))
    states = []
    s = StreamingSession(model, clip, snapshot_every=2, max_snapshots=3, on_snapshot=states.append)
    for f in reversed(prompts.frames()):
        s.add_prompts(f, prompts.at(f))
    list(s.run())
    assert len(s._snapshots) <= 3 and s._every > 2  # thinned, bounded
    mid = next(st for st in states if st.next_frame == 8)
    data = mid.to_bytes()
    assert 0 < mid.nbytes() <= len(data)
    restored = TrackerState.from_bytes(data)
    got = by_frame(propagate(model, clip, prompts, resume=restored))
    assert sorted(got) == list(range(8, 10))
    for t in got:
        assert np.array_equal(got[t].logits, ref[t].logits), t
    with pytest.raises(ValueError, match="tracker state"):
        TrackerState.from_bytes(_torch_bytes({"format": "other"}))


def _torch_bytes(obj) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_a_box_past_the_frames_edge_is_cut_with_a_warning(model, clip):
    """``add_prompts`` refused a box reaching past the frame's edge ("prompt outside the
    video") where ``propagate`` and prompt files cut it to the frame; it cuts it too, with
    the same warning, and tracks as from the cut box."""
    past = FramePrompt(0, box=np.array([70.0, -5.0, W + 20.0, 40.0]))
    cut = FramePrompt(0, box=np.array([70.0, 0.0, W, 40.0]))
    s = StreamingSession(model, clip)
    with pytest.warns(UserWarning, match=rf"object 3, frame 0: .* cut to \[70.0, 0.0, {W}"):
        got = s.add_prompts(0, [(3, past)])
    ref = StreamingSession(model, clip).add_prompts(0, [(3, cut)])
    assert np.array_equal(got.logits, ref.logits)
    with pytest.raises(PromptError, match=r"object 3, frame 0: box .* is outside the"):
        s.add_prompts(0, [(3, FramePrompt(0, box=np.array([W + 1.0, 0, W + 9.0, 9])))])


@pytest.mark.parametrize("x, y", [(W, 10.0), (10.0, H), (-0.5, 10.0)])
def test_add_prompts_refuses_a_click_that_prompts_validate_refuses(model, clip, x, y):
    """A click on the right or bottom edge (``x == width``) went through ``add_prompts`` (the
    napari route) while ``Prompts.validate`` (prompt files) refused it: a click names a
    pixel, as SAM 2's ``+ 0.5`` to the pixel centre has it, so both now refuse ``x == width``
    with the same message (one check, ``check_points``)."""
    click = FramePrompt(0, np.array([[x, y]]), np.array([1]))
    said = rf"^object 3, frame 0: point \({x:g}, {y:g}\) is outside the {W}x{H} frame$"
    with pytest.raises(PromptError, match=said):
        Prompts((ObjectPrompts(3, "fish", (click,)),)).validate(W, H, 10)
    with pytest.raises(PromptError, match=said):
        StreamingSession(model, clip).add_prompts(0, [(3, click)])
    inside = FramePrompt(0, np.array([[W - 0.5, H - 0.5]]), np.array([1]))
    assert StreamingSession(model, clip).add_prompts(0, [(3, inside)]).object_ids.tolist() == [3]


def test_a_frame_outside_the_video_is_refused_alike_on_every_route(model, clip):
    """The frame check stood four times (``Prompts.validate`` for objects and for concept
    exemplars, the session's ``add_prompts``, ``propagate`` of prompts without ``validate``):
    one check now (``check_frame``), with one message after each route's ``where``."""
    from types import SimpleNamespace

    from ecoseg._prompt_values import check_frame
    from ecoseg.prompts import Concept, Exemplar, validate_concepts

    n = len(clip)
    said = rf"frame index out of range \(video has {n} frames\)$"
    click = FramePrompt(n, np.array([[10.0, 10.0]]), np.array([1]))
    with pytest.raises(PromptError, match=rf"^p.json: object 3, frame {n}: {said}"):
        Prompts((ObjectPrompts(3, "fish", (click,)),)).validate(W, H, n, source="p.json")
    exemplar = Concept("wrasse", (Exemplar(n, (0, 0, 9, 9)),))
    with pytest.raises(PromptError, match=rf"^concept 'wrasse', exemplar on frame {n}: {said}"):
        validate_concepts([exemplar], W, H, n)
    for frame in (n, -1):
        with pytest.raises(PromptError, match=rf"^frame {frame}: {said}"):
            StreamingSession(model, clip).add_prompts(frame, [(3, click)])
        with pytest.raises(PromptError, match=rf"^here: {said}"):
            check_frame(frame, n, "here")
    plain = SimpleNamespace(objects=[SimpleNamespace(id=3, prompts=[click])])  # no validate
    with pytest.raises(PromptError, match=rf"^object 3, frame {n}: {said}"):
        next(propagate(model, clip, plain))
    check_frame(n - 1, n, "here")
    check_frame(10**6, None, "here")  # the length is not known: any frame


@pytest.mark.parametrize(
    ("start", "stop"), [(0, None), (-2, None), (3.0, 99), (np.int64(1), -1), (4, 2), (-99, 2)]
)
def test_an_array_video_takes_frame_ranges_as_the_video_readers_do(start, stop):
    # it ran range(start, stop) as given: frame -2 came back as index -2 at time -0.2 s, a stop
    # past the end raised IndexError, 3.0 a TypeError from range
    video = ArrayVideo([np.full((4, 6, 3), i, np.uint8) for i in range(5)], fps=10.0)
    got = [(f.index, f.time, int(f.image[0, 0, 0])) for f in video.frames(start, stop)]
    want = list(range(5))[slice(None if start is None else int(start), stop)]
    assert got == [(i, i / 10.0, i) for i in want]


@pytest.mark.parametrize("start", [0.5, "1", True])
def test_an_array_video_refuses_what_is_no_frame_number(start):
    video = ArrayVideo([np.zeros((4, 6, 3), np.uint8)] * 3)
    with pytest.raises(TypeError, match="start must be a whole frame number or None, got"):
        video.frames(start)
