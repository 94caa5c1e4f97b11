"""ecoseg._store_video: where the video a store was made from is now (report, napari, info,
classify)."""

from __future__ import annotations

from pathlib import Path

from ecoseg._store_video import find_video


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


def test_find_video_in_a_folder_moved_whole(tmp_path, monkeypatch):
    """A study or campaign folder moved (or copied to another machine) with its videos and
    stores: the store records the video's absolute path before the move, and the video is
    neither there nor beside the store (``out/stores/``). It was not found (None: the report
    drew no stills, napari opened no video); now the recorded path's last parts are found
    under the folders above the store, the most parts first, shown from the working folder
    where the store is named so."""
    new = tmp_path / "new" / "study"
    for name in ("a", "b"):
        (new / name).mkdir(parents=True)
        (new / name / "video.mp4").write_bytes(b"")
    store = new / "out" / "stores" / "reef-a.zarr"
    recorded = "/old/place/study/a/video.mp4"
    assert find_video(recorded, store) == new / "a" / "video.mp4"
    assert find_video("/old/place/study/b/video.mp4", store) == new / "b" / "video.mp4"
    assert find_video("/old/place/study/c/video.mp4", store) is None  # not a's nor b's
    (new / "out").mkdir()
    monkeypatch.chdir(new / "out")
    assert find_video(recorded, "stores/reef-a.zarr") == Path("../a/video.mp4")
    assert find_video("a/video.mp4", "stores/reef-a.zarr") == Path("../a/video.mp4")
    assert find_video(recorded, "s3://bucket/stores/reef-a.zarr") is None


def test_find_video_takes_image_folders_and_leaves_urls(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    assert find_video("frames", tmp_path / "s.zarr") == frames
    assert find_video("s3://bucket/T1.mp4", tmp_path / "s.zarr") is None
    assert find_video("T1.mp4", "s3://bucket/T1.zarr") is None
