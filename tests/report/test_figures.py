"""Report figures: deterministic PNGs, overlays, empty data."""

from __future__ import annotations

import io

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ecoseg.report import figures as F


def counts_table() -> pd.DataFrame:
    t = np.arange(10) / 5.0
    rows = []
    for video, shift in (("v1", 0), ("v2", 2)):
        for cls, base in (("wrasse", 1), ("parrotfish", 0)):
            for i, ti in enumerate(t):
                rows.append(
                    {"video": video, "time_s": ti, "class": cls, "count": base + (i + shift) % 3}
                )
    return pd.DataFrame(rows)


def png_chunks(data: bytes) -> list[bytes]:
    chunks, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunks.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return chunks


def test_class_colors_are_fixed_by_sorted_name():
    a = F.class_colors(["wrasse", "parrotfish", "sea_star"])
    b = F.class_colors(["sea_star", "wrasse", "parrotfish", "wrasse"])
    assert a == b
    assert list(a) == ["parrotfish", "sea_star", "wrasse"]
    assert len(set(a.values())) == 3


def test_png_is_deterministic_and_carries_no_software_or_time():
    colors = F.class_colors(["wrasse", "parrotfish"])
    one = F.png(F.counts_figure, counts_table(), colors)
    two = F.png(F.counts_figure, counts_table(), colors)
    assert one == two
    chunks = png_chunks(one)
    assert b"tIME" not in chunks
    assert b"Software" not in one and b"matplotlib" not in one.lower()


def test_png_ignores_the_callers_matplotlib_settings():
    colors = F.class_colors(["wrasse", "parrotfish"])
    reference = F.png(F.counts_figure, counts_table(), colors)
    with mpl.rc_context({"lines.linewidth": 9, "font.size": 30, "axes.facecolor": "red"}):
        assert F.png(F.counts_figure, counts_table(), colors) == reference
        assert mpl.rcParams["lines.linewidth"] == 9  # and leaves them as they were


def test_different_data_give_a_different_picture():
    colors = F.class_colors(["wrasse", "parrotfish"])
    data = counts_table()
    changed = data.assign(count=data["count"] + (data["class"] == "wrasse") * 2)
    assert F.png(F.counts_figure, data, colors) != F.png(F.counts_figure, changed, colors)


def test_palette_png_decodes_to_the_same_size():
    colors = F.class_colors(["wrasse", "parrotfish"])
    full = Image.open(io.BytesIO(F.png(F.counts_figure, counts_table(), colors)))
    small = Image.open(io.BytesIO(F.png(F.counts_figure, counts_table(), colors, palette=True)))
    assert small.mode == "P" and small.size == full.size
    diff = np.abs(
        np.asarray(full.convert("RGB"), dtype=int) - np.asarray(small.convert("RGB"), dtype=int)
    )
    assert diff.mean() < 3


def test_overlay_blends_inside_and_outlines_the_border():
    image = np.full((9, 9, 3), 100, np.uint8)
    labels = np.zeros((9, 9), np.uint32)
    labels[2:7, 2:7] = 4
    out = F.overlay(image, labels, {4: "#ff0000"}, alpha=0.5)
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert out[0, 0].tolist() == [100, 100, 100]  # background untouched
    assert out[2, 2].tolist() == [255, 0, 0]  # border: solid colour
    assert out[4, 4].tolist() == [178, 50, 50]  # inside: half way
    assert np.array_equal(F.overlay(image, np.zeros_like(labels), {}), image)


def test_unknown_ids_are_drawn_grey():
    labels = np.zeros((5, 5), np.uint32)
    labels[1:4, 1:4] = 9
    out = F.overlay(np.zeros((5, 5, 3), np.uint8), labels, {})
    r, g, b = out[1, 1].tolist()
    assert r == g == b or abs(r - b) < 20


@pytest.mark.parametrize(
    ("make", "args", "kwargs"),
    [
        (F.size_figure, (pd.DataFrame({"class": [], "size": []}), {}), {"unit": "mm"}),
        (F.speed_figure, (pd.DataFrame({"class": [], "speed": []}), {}), {"unit": "mm/s"}),
        (
            F.counts_figure,
            (pd.DataFrame({"video": [], "time_s": [], "class": [], "count": []}), {}),
            {},
        ),
        (F.maxn_figure, (pd.DataFrame({"video": [], "class": [], "maxn": []}), {}), {}),
        (F.frames_figure, ([],), {}),
    ],
)
def test_empty_data_still_give_a_figure(make, args, kwargs):
    data = F.png(make, *args, **kwargs)
    assert Image.open(io.BytesIO(data)).size[0] > 100


def test_trajectories_draw_on_a_blank_background_without_a_video():
    tracks = pd.DataFrame(
        {
            "object_id": [1, 1, 1],
            "class": ["wrasse"] * 3,
            "frame": [0, 1, 2],
            "x": [5, 20, 40.0],
            "y": [10, 12, 30.0],
        }
    )
    panel = {
        "title": "v",
        "note": "video not found",
        "still": None,
        "height": 48,
        "width": 64,
        "mm_per_px": 2.0,
        "tracks": tracks,
    }
    data = F.png(F.trajectory_figure, [panel], F.class_colors(["wrasse"]))
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    color = F.class_colors(["wrasse"])["wrasse"]
    wrasse = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(pixels.astype(int) - wrasse).sum(axis=2) < 30).sum() > 20  # the track is drawn
