"""ecoseg.report.read: what the report (and ``ecoseg info``) read from a store."""

from __future__ import annotations

from ecoseg._version import __version__
from ecoseg.report.read import read_video
from ecoseg.synth import synth


def test_read_video_has_the_writers_version_and_the_chunking(tmp_path):
    clip = synth(tmp_path / "clip", frames=5, size=(64, 48), chunk_frames=2)
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    assert info.ecoseg_version == __version__  # was "" (read from the wrong attribute level)
    assert info.chunk_frames == 2
