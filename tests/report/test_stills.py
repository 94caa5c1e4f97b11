"""The report's stills: held and drawn by their panel's pixels, not the video's."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ecoseg.report import figures as F
from ecoseg.report import stills
from ecoseg.report._fit import blank_still
from ecoseg.store import MaskStore


class _Reader:
    def __init__(self, height: int, width: int):
        self.shape = (height, width, 3)

    def read(self, i: int):
        return SimpleNamespace(image=np.full(self.shape, 90, np.uint8))

    def close(self) -> None:
        pass


def _video(name: str, height: int, width: int):
    return SimpleNamespace(
        name=name, n_frames=10, height=height, width=width, mm_per_px=None,
        times=np.arange(10) / 30.0,
    )  # fmt: skip


def test_trajectory_panels_hold_a_4k_still_by_its_panels_pixels(monkeypatch):
    # old code: each panel held the video's frame whole (24 MB at 3840 x 2160, one per video
    # until the figure was drawn); now under twice the panel's pixels, with its factor
    monkeypatch.setattr(stills, "open_reader", lambda v: (_Reader(v.height, v.width), None))
    for n in (1, 3):
        videos = [_video(f"v{i}", 2160, 3840) for i in range(n)]
        panels, missing = stills.trajectory_panels(videos, None)
        assert not missing and len(panels) == n
        px = F.panel_pixels(min(n, F.TRAJECTORY_COLUMNS))
        for p in panels:
            h, w, _ = p["still"].shape
            assert px <= w < 2 * px and p["scale"] == 3840 // px
            assert (p["height"], p["width"]) == (2160, 3840)


def test_trajectory_panels_keep_a_small_still_whole(monkeypatch):
    monkeypatch.setattr(stills, "open_reader", lambda v: (_Reader(v.height, v.width), None))
    (panel,), _ = stills.trajectory_panels([_video("v", 360, 640)], None)
    assert panel["still"].shape == (360, 640, 3) and panel["scale"] == 1


def test_a_blank_still_is_what_fit_still_makes_of_a_grey_frame():
    for height, width, px in (
        (2160, 3840, 333),
        (1080, 1920, 1000),
        (359, 641, 100),
        (90, 160, 500),
    ):
        grey = np.full((height, width, 3), 235, np.uint8)
        made, k = blank_still(height, width, px)
        fitted, k_fitted = F.fit_still(grey, px)
        assert k == k_fitted and made.dtype == fitted.dtype and np.array_equal(made, fitted)


def test_sample_frames_without_their_video_hold_one_frame_of_labels(
    tmp_path, python_peak, monkeypatch
):
    # a frame without its video was painted on a grey frame of the video's size (reduced
    # afterwards), its ids found by sorting a copy of its labels, and the frame before was
    # held while the next was read: 6.4 frames at the peak, now 5.5 (reading a frame of a
    # 4-frame chunk decodes the chunk: 4 frames and the one copied out)
    height, width = 1080, 1920
    store = MaskStore.create(
        tmp_path / "s.zarr", height=height, width=width, chunk_frames=4,
        objects=[{"id": k, "class": "fish"} for k in (1, 2, 3)],
    )  # fmt: skip
    labels = np.zeros((8, height, width), np.uint32)
    for i in range(8):
        labels[i, 100:400, 50 + 20 * i : 600 + 20 * i] = 1
        labels[i, 500:900, 900:1500] = 2
        labels[i, 950:1000, 10 * i : 10 * i + 80] = 3
    store.append(labels, np.arange(8) / 30.0)
    store.mark_complete()
    store.close()
    del labels
    v = SimpleNamespace(
        name="v", n_frames=8, height=height, width=width, store_path=str(tmp_path / "s.zarr"),
        classes={1: "fish", 2: "fish", 3: "fish"}, times=np.arange(8) / 30.0,
    )  # fmt: skip
    monkeypatch.setattr(stills, "open_reader", lambda video: (None, "video not found at v.mp4"))
    stills.frame_rows([v], {}, {"fish": "#ff0000"})  # imports out of the peak
    (row,), peak = python_peak(lambda: stills.frame_rows([v], {}, {"fish": "#ff0000"}))
    assert [f["caption"] for f in row["frames"]] == [
        f"frame {i} · {i / 30:.2f} s · 3 objects · no video" for i in (1, 3, 6)
    ]
    frame = height * width * 4
    assert peak < 5.9 * frame, f"peak {peak / frame:.2f} frames of labels"


def test_the_sample_frames_labels_are_read_before_any_video_frame_is_decoded(tmp_path, monkeypatch):
    # a video decoder's freed memory stays with the process, so the 4K labels read after it
    # (a chunk decoded for each sample frame) stacked on top: a 10-frame 4K report peaked at
    # 662 MB RSS, now 470; the trajectories' still was decoded before the sample frames'
    # labels were read
    import ecoseg
    from ecoseg.io.reader import VideoReader

    clip = ecoseg.synth(tmp_path / "clip", seed=2, frames=10, size=(96, 64), n_fish=2)
    events = []
    read_labels, read_frame = MaskStore.read_labels, VideoReader.read

    def labels(self, start=0, stop=None):
        events.append("labels")
        return read_labels(self, start, stop)

    def frame(self, index):
        events.append("frame")
        return read_frame(self, index)

    monkeypatch.setattr(MaskStore, "read_labels", labels)
    monkeypatch.setattr(VideoReader, "read", frame)
    page = ecoseg.report(clip.truth, tmp_path / "report.html")
    assert "no video" not in page.read_text()  # the stills are the video's
    assert events.count("frame") == 1 + stills.SAMPLE_FRAMES
    assert "labels" not in events[events.index("frame") :]


def test_a_report_opens_each_video_once_and_reads_its_frames_in_order(tmp_path, monkeypatch):
    # the trajectories' still and the sample frames each opened the video (indexing every
    # packet of the file and starting a decoder each time): twice per video, now once, its
    # frames read in order (the still among the sample frames) and each decoded once
    import ecoseg
    from ecoseg.io import video
    from ecoseg.io.reader import VideoReader

    clip = ecoseg.synth(tmp_path / "clip", seed=2, frames=10, size=(96, 64), n_fish=2)
    opened, read = [], []
    open_video, read_frame = video.open_video, VideoReader.read

    def spy_open(path, *args, **kwargs):
        opened.append(path)
        return open_video(path, *args, **kwargs)

    def spy_read(self, index):
        read.append(index)
        return read_frame(self, index)

    monkeypatch.setattr(video, "open_video", spy_open)
    monkeypatch.setattr(VideoReader, "read", spy_read)
    page = ecoseg.report(clip.truth, tmp_path / "report.html").read_text()
    assert "no video" not in page and "blank background" not in page
    assert len(opened) == 1
    assert read == sorted(set(read)) and 5 in read  # frame n/2 and the sample frames
