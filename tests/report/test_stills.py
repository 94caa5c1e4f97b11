"""The report's stills: held and drawn by their panel's pixels, not the video's."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ecoseg.report import figures as F
from ecoseg.report import stills


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
