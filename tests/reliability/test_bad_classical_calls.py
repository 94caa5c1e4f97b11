"""Bad calls of the motion tracker's Python API (docs/classical.md) from a notebook: a path
where frames are wanted, a store's path where an open store is, parameters of the wrong type,
a frame rate of zero. One line naming the argument, never an ``AttributeError`` from deep in
the tracker or a silently wrong time; and a refused frame does not spoil the tracker."""

from __future__ import annotations

import numpy as np
import pytest
from reliability_helpers import assert_names

from ecoseg.engine.classical import ClassicalParams, ClassicalTracker, segment_classical, track
from ecoseg.errors import ConfigError, ShortVideoWarning, VideoError
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input

FRAMES = np.full((6, 48, 64, 3), 60, np.uint8)


@pytest.mark.parametrize("call", ["track", "segment_classical"])
def test_a_video_path_given_for_frames_says_to_open_it(clip, tmp_path, call):
    # was "frame 0: expected a Frame, ..., got str": the path's letters taken as frames
    store = MaskStore.create(tmp_path / "m.zarr", height=64, width=96)
    calls = {
        "track": lambda: track(str(clip.video)),
        "segment_classical": lambda: segment_classical(clip.video, store),
    }
    with pytest.raises(TypeError) as exc:
        calls[call]()
    assert_names(exc, repr(str(clip.video)), "is a path, not frames", "open_video")
    assert store.n_frames == 0


@pytest.mark.parametrize("video", [None, 5])
def test_what_is_no_frames_is_named(video):
    # None was "'NoneType' object is not iterable", raised on the first result only
    with pytest.raises(TypeError) as exc:
        track(video)
    assert_names(exc, "track: video must be", type(video).__name__)


def test_a_store_path_given_for_a_store_says_to_create_it(tmp_path):
    # was AttributeError: 'str' object has no attribute 'n_frames'
    with pytest.raises(TypeError) as exc:
        segment_classical(FRAMES, str(tmp_path / "m.zarr"))
    assert_names(exc, "segment_classical: store must be a MaskStore", "MaskStore.create", "str")
    assert not (tmp_path / "m.zarr").exists()


@pytest.mark.parametrize("call", ["track", "segment_classical", "ClassicalTracker"])
@pytest.mark.parametrize("params", [5, "threshold=4"])
def test_params_of_the_wrong_type_are_named(tmp_path, call, params):
    # was AttributeError: 'int' object has no attribute 'work_width' (a dict, for
    # ClassicalTracker, too)
    calls = {
        "track": lambda: list(track(FRAMES, params=params)),
        "segment_classical": lambda: segment_classical(
            FRAMES, MaskStore.create(tmp_path / "m.zarr", height=48, width=64), params=params
        ),
        "ClassicalTracker": lambda: ClassicalTracker(48, 64, params),
    }
    with pytest.raises(TypeError) as exc:
        calls[call]()
    assert_names(exc, "params must be ClassicalParams", type(params).__name__, repr(params))


def test_the_tracker_takes_a_dict_of_parameters():
    assert ClassicalTracker(48, 64, {"threshold": 4.5}).params.threshold == 4.5


@pytest.mark.parametrize("fps", [0, -30, float("nan"), float("inf"), "30", True])
def test_a_frame_rate_that_is_no_rate_is_named(fps):
    # 0 fell back to 30 frames per second and -30 gave negative times, without a word
    with pytest.raises(ConfigError) as exc:
        track(FRAMES, fps=fps)
    assert_names(exc, "track: fps must be a positive number", repr(fps))


def test_a_refused_frame_leaves_the_tracker_usable():
    # the refused frame's index was kept, so the right frame 0 was then refused as "out of
    # order" ("frame 0 comes after frame 0")
    tracker = ClassicalTracker(48, 64, ClassicalParams(warmup=2, min_hits=1))
    with pytest.raises(VideoError) as exc:
        tracker.push(0, 0.0, FRAMES[0, :40])
    assert_names(exc, "frame 0", "(40, 64, 3)")
    results = tracker.push(0, 0.0, FRAMES[0]) + tracker.push(1, 1 / 30, FRAMES[1])
    assert [r.index for r in results + tracker.finish()] == [0, 1]


@pytest.mark.parametrize("frames", [1, 2])
def test_a_video_shorter_than_min_hits_says_it_can_find_no_animal(tmp_path, frames):
    # a 1-frame video (or one photograph) gave a store of no objects without a word
    import ecoseg

    clip = ecoseg.synth(tmp_path / "c", frames=frames, size=(64, 48), seed=1)
    with pytest.warns(ShortVideoWarning) as caught:
        ecoseg.segment(clip.video, out=tmp_path / "m.zarr", progress=False)
    assert MaskStore.open(tmp_path / "m.zarr").n_frames == frames
    (message,) = [str(w.message) for w in caught if w.category is ShortVideoWarning]
    assert message.startswith(f"{clip.video}: {frames} frame{'s' if frames > 1 else ''}: ")
    assert "3 frames in a row (min_hits)" in message and "\n" not in message


def test_a_video_of_min_hits_frames_is_not_said_too_short(tmp_path, recwarn):
    import ecoseg

    clip = ecoseg.synth(tmp_path / "c", frames=2, size=(64, 48), seed=1)
    ecoseg.segment(clip.video, out=tmp_path / "m.zarr", params={"min_hits": 2}, progress=False)
    assert not [w for w in recwarn if w.category is ShortVideoWarning]


def test_the_command_names_a_one_frame_video_too_short(tmp_path, capsys):
    from ecoseg.cli import main
    from ecoseg.synth import synth

    clip = synth(tmp_path / "one", frames=1, size=(64, 48), seed=1)
    assert main(["segment", str(clip.video), "-o", str(tmp_path / "m.zarr"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"ecoseg: warning: {clip.video}: 1 frame: the motion tracker ")
    assert err.count("\n") == 1
