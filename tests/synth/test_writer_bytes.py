"""``video.mp4`` of a synthetic clip: the same frames give the same bytes on any machine.

The encoding may depend on the frames (and the libx264/FFmpeg build) only: not on how many
cores the machine has, nor on which SIMD code its processor runs. (The frames themselves come
from numpy's vectorised maths and can differ in a few pixels on another processor; see
:mod:`ecoseg.synth`.)
"""

from __future__ import annotations

import ctypes
import glob
import os
from pathlib import Path

import pytest

from ecoseg.synth import synth, writer

# 128 rows: left to itself, x264 cuts such a picture into one slice per core (up to 2)
CLIP = dict(seed=3, frames=4, size=(64, 128), n_fish=2, n_invertebrates=1)


def _x264_settings(video: Path) -> str:
    """The settings x264 writes into its stream (``threads=... sliced_threads=...``)."""
    data = video.read_bytes()
    start = data.find(b"threads=")
    return data[start : data.find(b" nr=", start)].decode()


def test_bytes_do_not_depend_on_the_number_of_cores(tmp_path):
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if len(cores) < 2:
        pytest.skip("needs at least 2 usable cores to compare with 1")
    every = synth(tmp_path / "every", **CLIP).video
    try:  # the encoder threads start from this thread and inherit its cores
        os.sched_setaffinity(0, {min(cores)})
        one = synth(tmp_path / "one", **CLIP).video
    finally:
        os.sched_setaffinity(0, cores)
    assert os.sched_getaffinity(0) == cores
    assert _x264_settings(one) == _x264_settings(every)
    assert one.read_bytes() == every.read_bytes()


def _libavutil():
    """PyAV's own libavutil (the copy its wheel bundles), or None where it cannot be found."""
    import av

    here = Path(av.__file__).parent
    for pattern in ("../av.libs/libavutil*.so*", ".dylibs/libavutil*.dylib"):
        found = sorted(glob.glob(str(here / pattern)))
        if found:
            return ctypes.CDLL(found[0])
    return None


def test_bytes_do_not_depend_on_the_processors_simd_code(tmp_path, monkeypatch):
    """Another processor runs other SIMD code (or none): FFmpeg's colour conversion and x264
    forced onto their plain C code must give the bytes the SIMD code gives here."""
    avutil = _libavutil()
    if avutil is None:
        pytest.skip("PyAV's bundled libavutil not found (not a wheel install)")
    detected = avutil.av_get_cpu_flags()
    simd = synth(tmp_path / "simd", **CLIP).video
    options = dict(writer.ENCODER_OPTIONS)
    options["x264-params"] += ":asm=0"  # x264's C code only
    monkeypatch.setattr(writer, "ENCODER_OPTIONS", options)
    avutil.av_force_cpu_flags(0)  # process-wide: every FFmpeg context made from now on
    try:
        plain = synth(tmp_path / "plain", **CLIP).video
    finally:
        avutil.av_force_cpu_flags(-1)  # detect the processor's features again
    assert avutil.av_get_cpu_flags() == detected
    assert plain.read_bytes() == simd.read_bytes()


def test_the_encoder_settings_are_written_into_the_stream(tmp_path):
    video = synth(tmp_path / "c", seed=1, frames=2, size=(640, 360), n_fish=1).video
    assert _x264_settings(video).startswith("threads=1 lookahead_threads=1 sliced_threads=0")
