"""The reader interface (ecoseg.io.reader): iteration, random access, batches, checks."""

from __future__ import annotations

import numpy as np
import pytest
from video_helpers import (
    H,
    W,
    one_line_naming,
)

from ecoseg.errors import VideoError
from ecoseg.io.video import (
    FrameBatch,
    FrameIndexError,
    open_video,
)


def test_random_reads_inside_an_iteration_do_not_disturb_it(clip, clip_frames):
    v = open_video(clip)
    seen = []
    for f in v:
        seen.append(f.index)
        np.testing.assert_array_equal(f.image, clip_frames[f.index])
        j = (f.index * 17 + 5) % 40
        np.testing.assert_array_equal(v.read(j).image, clip_frames[j])
    assert seen == list(range(40))


def test_read_at_picks_the_frame_on_screen(clip, clip_frames):
    v = open_video(clip)
    assert v.read_at(0.0).index == 0
    assert v.read_at(0.5).index == 15
    assert v.read_at(0.5 - 1e-6).index == 14
    assert v.read_at(v.duration - 1e-6).index == 39
    np.testing.assert_array_equal(v.read_at(1.0).image, clip_frames[30])
    for t in (-0.01, v.duration, 99.0, float("nan")):
        with pytest.raises(FrameIndexError):
            v.read_at(t)


def test_bad_indexes(clip):
    v = open_video(clip)
    for i in (40, -41, 10**9):
        with pytest.raises(IndexError) as info:
            v.read(i)
        one_line_naming(info, "clip.mp4")
    with pytest.raises(TypeError):
        v[1.5]
    with pytest.raises(ValueError):
        v.frames(0, 10, 0)


def test_frames_ranges(clip):
    v = open_video(clip)
    assert [f.index for f in v.frames(0, 10, 3)] == [0, 3, 6, 9]
    assert [f.index for f in v.frames(-3)] == [37, 38, 39]
    assert [f.index for f in v.frames(5, 100, 17)] == [5, 22, 39]
    assert list(v.frames(10, 10)) == []


def test_batches(clip, clip_frames):
    v = open_video(clip)
    batches = list(v.batches(16, start=2))
    assert all(isinstance(b, FrameBatch) for b in batches)
    assert [len(b) for b in batches] == [16, 16, 6]
    b = batches[1]
    assert b.images.shape == (16, H, W, 3) and b.images.dtype == np.uint8
    assert b.index.dtype == np.int64 and b.time.dtype == np.float64
    np.testing.assert_array_equal(b.index, np.arange(18, 34))
    np.testing.assert_allclose(b.time, np.arange(18, 34) / 30)
    np.testing.assert_array_equal(b.images, np.stack(clip_frames[18:34]))
    frames = list(batches[2])
    assert [f.index for f in frames] == list(range(34, 40))
    np.testing.assert_array_equal(frames[-1].image, clip_frames[39])
    assert [len(b) for b in v.batches(7, 0, 10)] == [7, 3]
    with pytest.raises(ValueError):
        v.batches(0)


@pytest.mark.parametrize(
    "crop", [(0, 0, W + 1, H), (-1, 0, 10, 10), (10, 10, 10, 20), (20, 0, 10, 10), (1, 2, 3)]
)
def test_bad_crop(clip, crop):
    with pytest.raises(VideoError) as info:
        open_video(clip, crop=crop)
    assert "crop" in one_line_naming(info, "clip.mp4")


@pytest.mark.parametrize("size", [(0, 10), (-5, 10), (None, None), (10.5, 10), (10,), "64x48"])
def test_bad_size(clip, size):
    with pytest.raises(VideoError) as info:
        open_video(clip, size=size)
    assert "size" in one_line_naming(info, "clip.mp4")


def test_closed_reader(clip):
    with open_video(clip) as v:
        v.read(3)
    with pytest.raises(VideoError) as info:
        v.read(0)
    one_line_naming(info, "clip.mp4")


def test_a_frame_shows_its_image_shape_not_its_pixels(clip):
    # the dataclass repr printed the pixels: a wall of numbers in a notebook
    frame = open_video(clip)[15]
    assert repr(frame) == f"Frame(index=15, time=0.500 s, image=({H}, {W}, 3) uint8)"


@pytest.mark.parametrize("time", ["a", None, "0.5", True])
def test_read_at_names_a_time_that_is_no_number(clip, time):
    # "a" and None were float()'s "could not convert string to float: 'a'" and "float()
    # argument must be ..."; "0.5" and True were read as 0.5 s and 1 s
    with pytest.raises(TypeError) as exc:
        open_video(clip).read_at(time)
    assert str(exc.value) == f"read_at: time must be a number of seconds, got {time!r}"
