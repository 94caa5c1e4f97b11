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
    # the outline (solid) and the fill are a mid grey over the black frame: channels within a
    # few levels of each other, well above black (an id left unpainted stays 0, 0, 0)
    for y, x in ((1, 1), (2, 2)):
        rgb = out[y, x].astype(int)
        assert rgb.max() - rgb.min() < 20 and rgb.min() > 40, (y, x, rgb.tolist())
    assert out[0, 0].tolist() == [0, 0, 0]


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


def test_the_last_frames_count_is_drawn_over_its_frame():
    # old code: a post step ends at the last point, so the last frame's count (3 here, the
    # MaxN) was a vertical tick of no width at 2.5 s; it now holds for one frame (0.5 s, the
    # median step between the frame times), as every other frame's count does
    counts = pd.DataFrame(
        {"video": "v", "time_s": [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0, 4.0],
         "class": ["wrasse"] * 7 + ["parrotfish"] * 2, "count": [1, 1, 2, 2, 1, 1, 3, 0, 1]}
    )  # fmt: skip
    fig = F.counts_figure(counts, F.class_colors(["parrotfish", "wrasse"]))
    (ax,) = fig.axes
    parrotfish, wrasse = (np.asarray(line.get_xydata()) for line in ax.lines)
    # each class's own last frame, held for the video's frame duration
    assert wrasse[-1].tolist() == [3.5, 3.0] and wrasse[-2].tolist() == [3.0, 3.0]
    assert parrotfish[-1].tolist() == [4.5, 1.0] and parrotfish[-2].tolist() == [4.0, 1.0]
    one = F.counts_figure(counts.iloc[:1], F.class_colors(["wrasse"]))  # one frame: as before
    assert np.asarray(one.axes[0].lines[0].get_xydata()).tolist() == [[0.0, 1.0]]


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


def _long_tracks(n_tracks: int, points: int) -> pd.DataFrame:
    """Tracks that wind round and cross themselves and each other, with a gap (NaN) each."""
    t = np.arange(points, dtype=float)
    parts = []
    for k in range(n_tracks):
        x = 32 + 28 * np.sin(t / (37.0 + k) + k)
        y = 24 + 20 * np.sin(t / (23.0 + 3 * k))
        x[points // 3] = np.nan
        parts.append(
            pd.DataFrame(
                {
                    "object_id": k + 1,
                    "class": ("wrasse", "parrotfish")[k % 2],
                    "frame": t.astype(int)[::-1],  # rows out of frame order
                    "x": x[::-1],
                    "y": y[::-1],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _panel(tracks, still=None) -> dict:
    return {
        "title": "v",
        "note": None,
        "still": still,
        "height": 48,
        "width": 64,
        "mm_per_px": None,
        "tracks": tracks,
    }


def test_track_lines_draw_the_pixels_a_plotted_line_draws(monkeypatch):
    # the lines are paths that hold their points once; they must look exactly as
    # ax.plot(x, y, color=c, lw=1.3, alpha=0.95) drew them (joins, caps, simplification, order
    # with the start and end marks, gaps)
    from matplotlib.lines import Line2D

    tracks = pd.concat([_long_tracks(3, 400), _long_tracks(1, 1).assign(object_id=9)])
    still = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    colors = F.class_colors(["parrotfish", "wrasse"])
    drawn = F.png(F.trajectory_figure, [_panel(tracks, still)], colors)
    monkeypatch.setattr(
        "ecoseg.report.figures._tracks._track_line",
        lambda xy, c: Line2D(xy[:, 0], xy[:, 1], color=c, lw=1.3, alpha=0.95),
    )
    assert drawn == F.png(F.trajectory_figure, [_panel(tracks, still)], colors)


def test_trajectory_figure_holds_each_track_point_once():
    # old code: a group-by and a frame sorted per track, then a Line2D per track holding its
    # points twice more (its x and y as given, and the two together): 35 bytes per point
    # held, a peak of 80 while building (now 19 and 58)
    import tracemalloc

    tracks = _long_tracks(10, 20_000)
    panels, colors = [_panel(tracks)], F.class_colors(["parrotfish", "wrasse"])
    with mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(F.STYLE)
        F.trajectory_figure(panels, colors)  # imports, fonts: out of the count
        tracemalloc.start()
        try:
            fig = F.trajectory_figure(panels, colors)
            held, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert fig.axes
    assert held / len(tracks) < 26, f"{held / len(tracks):.1f} bytes held per track point"
    assert peak / len(tracks) < 70, f"a peak of {peak / len(tracks):.1f} bytes per track point"


def _shown(monkeypatch) -> list:
    """The images handed to ``imshow`` (array, extent) while a figure is drawn."""
    from matplotlib.axes import Axes

    shown, imshow = [], Axes.imshow

    def record(ax, image, *args, **kwargs):
        out = imshow(ax, image, *args, **kwargs)
        shown.append((np.asarray(image).shape, out, ax))
        return out

    monkeypatch.setattr(Axes, "imshow", record)
    return shown


def _4k_panel() -> dict:
    tracks = pd.DataFrame(
        {"object_id": [1, 1], "class": ["wrasse"] * 2, "frame": [0, 1], "x": [100.0, 3700.0],
         "y": [100.0, 2000.0]}
    )  # fmt: skip
    still = np.full((2160, 3840, 3), 90, np.uint8)
    return {**_panel(tracks, still), "height": 2160, "width": 3840}


def test_a_4k_still_reaches_matplotlib_no_larger_than_its_panel(monkeypatch):
    # old code: the 3840 x 2160 still was brightened in float32 and handed to imshow whole
    # (matplotlib resampled it in float64 RGBA: ~465 MB above the level before, for a panel
    # of 500 to 1000 pixels); now reduced to under twice the panel's pixels, drawn over the
    # video's pixels so the tracks stay where they were (a blank still is no image at all)
    shown = _shown(monkeypatch)
    colors = F.class_colors(["wrasse"])
    blank = {**_4k_panel(), "still": None}  # a video not found: a blank still
    F.png(F.trajectory_figure, [_4k_panel(), blank], colors)
    frame = {"image": np.full((2160, 3840, 3), 90, np.uint8), "caption": "c", "labels": []}
    F.png(F.frames_figure, [{"title": "v", "frames": [frame] * 3}])
    assert len(shown) == 4
    for i, ((h, w, _), image, ax) in enumerate(shown):
        panel = F.panel_pixels(2 if i < 1 else 3)
        assert w < 2 * panel and h < 2 * panel
        k = 3840 // panel  # the last block (a part of one) ends past the video's last pixel
        assert image.get_extent() == pytest.approx((-0.5, 3839.5, 2159.5, -0.5), abs=k)
        assert (ax.get_xlim(), ax.get_ylim()) == ((-0.5, 3839.5), (2159.5, -0.5))


def test_a_blank_still_is_the_axes_grey_not_an_image(monkeypatch, python_peak):
    # old code: a grey image at the reduced size (720 x 1280 for a 4K video), which
    # matplotlib resampled in float64 RGBA: 77 MB of Python allocations for the figure of a
    # video not found (now 0.5); the pixels are the same
    from matplotlib.figure import Figure

    from ecoseg.report.figures._stills import still_axes

    def page(still):
        def make():
            fig = Figure(figsize=(3, 2), dpi=F.DPI)
            still_axes(fig.subplots(), still, 48, 64)
            return fig

        return F.png(make)

    assert page(None) == page(np.full((48, 64, 3), 235, np.uint8))
    shown = _shown(monkeypatch)
    colors = F.class_colors(["wrasse"])
    blank = {**_4k_panel(), "still": None}
    F.png(F.trajectory_figure, [blank], colors)  # imports, fonts: out of the count
    _, peak = python_peak(lambda: F.png(F.trajectory_figure, [blank], colors))
    assert not shown
    assert peak < 5e6, f"{peak / 1e6:.1f} MB for a blank panel"


def test_a_reduced_still_is_resampled_in_float32_not_float64(monkeypatch, python_peak):
    # old code: the 1280 x 720 still of a 4K frame went to imshow as RGB, which matplotlib
    # made float64 RGBA to resample: 84 bytes of Python allocations per still pixel for the
    # figure (77 MB); with its alpha channel (255) it stays float32 (57 bytes, 52 MB) and
    # draws the same picture (1 pixel in a million 1 level apart)
    rng = np.random.default_rng(4)
    small = rng.integers(0, 256, (45, 80, 3), dtype=np.uint8)
    frame = np.asarray(Image.fromarray(small).resize((3840, 2160), Image.BICUBIC))
    panel, colors = {**_4k_panel(), "still": frame}, F.class_colors(["wrasse"])
    F.png(F.trajectory_figure, [panel], colors)  # imports, fonts: out of the count
    shown = _shown(monkeypatch)
    drawn, peak = python_peak(lambda: F.png(F.trajectory_figure, [panel], colors))
    ((h, w, channels), image, _), *_ = shown
    assert channels == 4 and image.get_array()[..., 3].min() == 255
    assert peak / (h * w) < 68, f"{peak / (h * w):.1f} bytes per still pixel"
    rgb = np.asarray(Image.open(io.BytesIO(drawn)).convert("RGB")).astype(int)
    from matplotlib.axes import Axes

    imshow = Axes.imshow  # the still as RGB, as the old code gave it
    monkeypatch.setattr(Axes, "imshow", lambda ax, im, *a, **k: imshow(ax, im[..., :3], *a, **k))
    old = np.asarray(
        Image.open(io.BytesIO(F.png(F.trajectory_figure, [panel], colors))).convert("RGB")
    )
    assert (np.abs(rgb - old).max(axis=2) > 1).mean() < 1e-5


def test_stills_no_larger_than_twice_their_panel_are_drawn_as_given(monkeypatch):
    # the demo's and data/study's clips (640 x 360 and smaller): the figures must stay
    # pixel-identical, so no reduction at all, not a reduction by 1
    rng = np.random.default_rng(1)
    still = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    reduced, k = F.fit_still(still, F.panel_pixels(2))
    assert reduced is still and k == 1
    tracks = _long_tracks(2, 50)
    panel = {**_panel(tracks, still), "height": 360, "width": 640}
    frames = [{"title": "v", "frames": [{"image": still, "caption": "c", "labels": []}] * 3}]
    colors = F.class_colors(["parrotfish", "wrasse"])
    drawn = F.png(F.trajectory_figure, [panel], colors), F.png(F.frames_figure, frames)
    for where in ("_tracks", "_stills"):  # the figures that reduce stills
        monkeypatch.setattr(
            f"ecoseg.report.figures.{where}.fit_still", lambda image, width_px: (image, 1)
        )
    assert drawn == (F.png(F.trajectory_figure, [panel], colors), F.png(F.frames_figure, frames))


def test_fit_still_averages_blocks_and_labels_are_picked_at_their_centres():
    image = np.zeros((40, 100), np.uint8)
    image[:, 50:] = 200
    image[0, 0] = 100  # one pixel of a 3 x 3 block: 100 / 9, rounded
    small, k = F.fit_still(image, 30)
    assert k == 3 and small.shape == (14, 34)
    assert small[0, 0] == 11 and small[5, 20] == 200 and small[5, 5] == 0
    assert small[5, 16] == round(200 / 3)  # columns 48, 49, 50
    labels = np.zeros((40, 100), np.int32)
    labels[10:20, 30:60] = 7
    picked = F.fit_labels(labels, k)
    assert picked.shape == small.shape and picked.dtype == labels.dtype
    assert set(np.unique(picked)) == {0, 7}
    # block i's centre is row (column) 3 i + 1: rows 10 and 19 are in the object, 7 and 22 not
    assert picked[3, 10] == picked[6, 10] == 7 and picked[2, 10] == picked[7, 10] == 0
