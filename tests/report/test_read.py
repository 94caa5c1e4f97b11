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


def _swap_video(tmp_path):
    """A store whose video beside it was replaced by another clip of the same size and length."""
    import shutil

    clip = synth(tmp_path / "clip", frames=5, size=(64, 48), seed=1)
    other = synth(tmp_path / "other", frames=5, size=(64, 48), seed=2)
    shutil.copyfile(other.video, clip.video)
    return clip


def test_open_reader_refuses_a_same_sized_clip_that_is_not_the_stores(tmp_path, monkeypatch):
    from ecoseg.io.reader import VideoReader
    from ecoseg.report.read import open_reader

    clip = _swap_video(tmp_path)
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    hashed = []
    real = VideoReader.sha256
    monkeypatch.setattr(VideoReader, "sha256", lambda self: hashed.append(1) or real(self))
    for _ in range(3):  # the stills ask several times; the file is hashed once
        reader, reason = open_reader(info)
        assert reader is None
        assert reason == "the video at video.mp4 is not the store's video: the sha256 differs"
    assert len(hashed) == 1


def test_open_reader_accepts_the_stores_own_video(tmp_path):
    from ecoseg.report.read import open_reader

    clip = synth(tmp_path / "clip", frames=5, size=(64, 48), seed=1)
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    reader, reason = open_reader(info)
    assert reason is None and len(reader) == 5
    reader.close()
    assert info.video_refused == ""


def test_report_page_says_why_a_wrong_video_gave_no_stills(tmp_path):
    from ecoseg.report import report

    clip = _swap_video(tmp_path)
    import html

    page = html.unescape(report(clip.truth, tmp_path / "r.html").read_text())
    assert "the video at video.mp4 is not the store's video: the sha256 differs" in page
    assert "blank background" in page
