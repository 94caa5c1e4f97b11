"""ecoseg._paths: finding a store's video (report and napari) and paths shown relative."""

from __future__ import annotations

from pathlib import Path

from ecoseg._paths import find_video, relpath


def test_find_video_tries_recorded_path_then_beside_the_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "field").mkdir()
    video = tmp_path / "field" / "T1.mp4"
    video.write_bytes(b"")
    store = tmp_path / "field" / "T1.zarr"
    assert find_video(str(video), store) == video  # absolute, where it was
    assert find_video("field/T1.mp4", store) == Path("field/T1.mp4")  # from here
    assert find_video("T1.mp4", store) == video  # relative to the store's folder
    assert find_video("/gone/elsewhere/T1.mp4", store) == video  # moved with the store
    assert find_video("/gone/T9.mp4", store) is None
    assert find_video(None, store) is None and find_video("", store) is None


def test_find_video_takes_image_folders_and_leaves_urls(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    assert find_video("frames", tmp_path / "s.zarr") == frames
    assert find_video("s3://bucket/T1.mp4", tmp_path / "s.zarr") is None
    assert find_video("T1.mp4", "s3://bucket/T1.zarr") is None


def test_relpath_for_display():
    assert relpath("/a/b/c.zarr", "/a") == "b/c.zarr"
    assert relpath("rel/c.zarr", "/a") == "rel/c.zarr"
