"""An image folder's frame rate (``segment --fps``, ``ecoseg.segment(fps=...)``): the times it
gives the frames, the speeds and durations measured from them, and resuming at that rate.

Images carry no time, so a folder was always timed at 30 fps by the command line; a time-lapse
or frames extracted at another rate got wrong times, speeds and durations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import ecoseg
from ecoseg.cli import main
from ecoseg.errors import StoreError
from ecoseg.io.folder import DEFAULT_FPS
from ecoseg.store import MaskStore

TRACKER = '{"warmup": 4, "min_hits": 1, "threshold": 3.0}'  # finds the fish of a short clip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A synthetic clip's 24 frames as numbered PNG images."""
    root = tmp_path_factory.mktemp("timelapse")
    clip = ecoseg.synth(root / "clip", frames=24, size=(96, 64), seed=1)
    frames = root / "frames"
    frames.mkdir()
    for frame in ecoseg.open_video(clip.video):
        Image.fromarray(frame.image).save(frames / f"frame_{frame.index:04d}.png")
    return frames


def _segment(*args) -> int:
    return main(["segment", *map(str, args), "--params", TRACKER])


def test_a_folder_at_fps_10_is_timed_at_i_over_10_and_its_speeds_scale(folder, tmp_path):
    assert _segment(folder, "-o", tmp_path / "ten.zarr", "--fps", "10") == 0
    assert _segment(folder, "-o", tmp_path / "default.zarr") == 0
    ten, default = (MaskStore.open(tmp_path / f"{n}.zarr") for n in ("ten", "default"))
    np.testing.assert_allclose(ten.read_time(), np.arange(24) / 10, rtol=0, atol=1e-12)
    np.testing.assert_allclose(default.read_time(), np.arange(24) / DEFAULT_FPS, atol=1e-12)
    video = ten.provenance["video"]
    assert video["fps"] == 10.0 and video["image_folder"] is True
    # the same masks (the tracker counts frames), only the clock differs
    np.testing.assert_array_equal(ten.read_labels(), default.read_labels())

    a, b = (ecoseg.measure(s.path)["tracks"].set_index("object_id") for s in (ten, default))
    moving = a.index[a["path_length_px"] > 0]
    assert len(moving) >= 3  # the clip's fish were tracked
    ratio = DEFAULT_FPS / 10  # each frame step lasts 3x longer at 10 fps
    pd.testing.assert_series_equal(a["duration_s"], b["duration_s"] * ratio)
    for column in ("mean_speed_px_s", "max_speed_px_s"):
        pd.testing.assert_series_equal(a.loc[moving, column], b.loc[moving, column] / ratio)
    pd.testing.assert_series_equal(a["path_length_px"], b["path_length_px"])


def test_the_command_says_a_folder_without_fps_is_timed_at_the_default(folder, tmp_path, capsys):
    """A time-lapse segmented without --fps was timed at 30 fps without a word: every time,
    duration and speed of its tables was wrong, and nothing on the screen said so."""
    capsys.readouterr()
    assert _segment(folder, "-o", tmp_path / "default.zarr", "--quiet") == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "times: frame i at i / 30 s (30 fps, the default: images carry no time; --fps N gives "
        "their real rate)"
    ]
    assert _segment(folder, "-o", tmp_path / "ten.zarr", "--fps", "10", "--quiet") == 0
    assert capsys.readouterr().out == f"masks: {tmp_path / 'ten.zarr'}\n"  # a rate given


def test_the_library_takes_the_rate_of_a_folder_it_opens(folder, tmp_path):
    out = ecoseg.segment(folder, out=tmp_path / "m.zarr", fps=2.5, progress=False)
    np.testing.assert_allclose(MaskStore.open(out).read_time(), np.arange(24) / 2.5)
    np.testing.assert_allclose(ecoseg.open_masks(out)["time"].values, np.arange(24) / 2.5)


class _Stop(Exception):
    pass


def _stop_after(done, total):
    if done == 12:
        raise _Stop  # as a killed run: a partial store


def test_a_store_resumes_only_at_the_rate_that_made_it(folder, tmp_path, capsys):
    out = tmp_path / "m.zarr"
    params = {"warmup": 4, "min_hits": 1, "threshold": 3.0}
    with pytest.raises(_Stop):
        ecoseg.segment(folder, out=out, fps=10, params=params, progress=_stop_after)
    before = MaskStore.open(out).read_labels()
    assert 0 < len(before) < 24
    capsys.readouterr()
    assert _segment(folder, "-o", out, "--resume") == 2  # the default rate: refused
    err = capsys.readouterr().err.strip()
    assert "cannot resume: the image folder's frame rate" in err
    assert "the store's 10 fps, now 30" in err and len(err.splitlines()) == 1
    with pytest.raises(StoreError, match="frame rate .* the store's 10 fps, now 12"):
        ecoseg.segment(folder, out=out, fps=12, resume=True, params=params, progress=False)
    np.testing.assert_array_equal(MaskStore.open(out).read_labels(), before)  # untouched

    assert _segment(folder, "-o", out, "--fps", "10", "--resume") == 0
    done = MaskStore.open(out)
    assert done.complete and done.n_frames == 24
    np.testing.assert_allclose(done.read_time(), np.arange(24) / 10, atol=1e-12)
