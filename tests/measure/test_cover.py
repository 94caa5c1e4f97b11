"""Tests of ecoseg.measure.cover: cover fractions per frame and class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecoseg.errors import ConfigError
from ecoseg.measure import cover as cover_module
from ecoseg.measure import measure
from ecoseg.measure.cover import class_cover, cover_table, roi_mask
from ecoseg.store import MaskStore


def cover(store, **kwargs):
    """The cover table of a store (``measure.cover`` no longer has its own function)."""
    return measure(store, **kwargs)["cover"]


CLASSES = ["coral", "sponge", "urchin"]


def make_store(path, seed=0, n=5, h=40, w=50):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 9, size=(n, h, w)).astype(np.uint32)
    labels[labels > 6] = 0
    objects = [{"id": i, "class": CLASSES[i % 3]} for i in range(1, 7)]
    store = MaskStore.create(path, height=h, width=w, chunk_frames=2, objects=objects)
    store.append(labels, np.arange(n) * 0.25)
    store.close()
    return labels, {i: i % 3 for i in range(1, 7)}


def as_matrix(cov: pd.DataFrame, column: str) -> np.ndarray:
    table = cov.pivot(index="frame", columns="class", values=column)
    return table[CLASSES].to_numpy()


def test_cover_equals_label_fractions(tmp_path):
    labels, class_of = make_store(tmp_path / "m.zarr")
    cov = measure(tmp_path / "m.zarr")["cover"]
    expected = class_cover(labels, class_of, 3)
    np.testing.assert_array_equal(as_matrix(cov, "cover_px"), expected)
    np.testing.assert_allclose(as_matrix(cov, "cover_fraction"), expected / (40 * 50))
    assert (cov.groupby("frame")["cover_fraction"].sum() <= 1 + 1e-12).all()
    assert cov.attrs["cover_area_px"] == 2000 and cov.attrs["roi"] == "frame"
    assert "cover_mm2" not in cov


def test_cover_in_a_roi_mask_and_polygon(tmp_path):
    labels, class_of = make_store(tmp_path / "m.zarr", seed=1)
    mask = np.zeros((40, 50), bool)
    mask[5:30, 10:45] = True
    cov = measure(tmp_path / "m.zarr", roi=mask)["cover"]
    expected = class_cover(labels, class_of, 3, roi=mask)
    np.testing.assert_array_equal(as_matrix(cov, "cover_px"), expected)
    np.testing.assert_allclose(as_matrix(cov, "cover_fraction"), expected / mask.sum())
    # the same rectangle as a polygon (x, y) through the pixel centres
    poly = [(10, 5), (44, 5), (44, 29), (10, 29)]
    pd.testing.assert_frame_equal(measure(tmp_path / "m.zarr", roi=poly)["cover"], cov)


@pytest.mark.parametrize("band", [1, 7, 1 << 18])
def test_a_polygon_roi_is_skimages_polygon2mask(monkeypatch, band):
    """The polygon is rasterised a band of rows at a time; the mask is polygon2mask's, pixel
    for pixel (centres on an edge or a vertex included), however the rows are banded."""
    from skimage.draw import polygon2mask

    monkeypatch.setattr(cover_module, "_POLYGON_BAND_PX", band)
    rng = np.random.default_rng(3)
    compared = 0
    for k in range(300):
        h, w = (int(v) for v in rng.integers(2, 30, 2))
        n = int(rng.integers(3, 9))
        # star-shaped around a point (no crossing); whole, half and free coordinates, some
        # vertices outside the frame
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(1, 1.4 * max(h, w), n)
        centre = rng.uniform(-2, [w + 2, h + 2])
        pts = centre + radii[:, None] * np.c_[np.cos(angles), np.sin(angles)]
        pts = [np.round(pts), np.round(2 * pts) / 2, pts][k % 3]
        try:
            got = roi_mask(pts, (h, w))
        except ConfigError:  # refused: degenerate after rounding, or no pixel inside
            continue
        np.testing.assert_array_equal(got, polygon2mask((h, w), pts[:, ::-1]), err_msg=str(k))
        compared += 1
    assert compared > 150


def test_a_polygon_roi_over_a_large_frame_is_not_listed_pixel_by_pixel(python_peak):
    """polygon2mask listed the coordinates of every pixel inside as Python integers: 130 MB
    of Python allocations for most of a 1080p frame (620 MB at 4K), to make a 2 MB mask."""
    shape = (1080, 1920)
    poly = [(100, 75), (1800.5, 50), (1850, 1000.25), (950, 1050), (75, 950)]
    mask, peak = python_peak(lambda: roi_mask(poly, shape))
    assert mask.sum() > 0.75 * mask.size
    assert peak < 8 * mask.size, f"peak {peak / 1e6:.1f} MB for a {mask.nbytes / 1e6:.1f} MB mask"


def test_cover_with_calibration_and_class_filter(tmp_path):
    labels, class_of = make_store(tmp_path / "m.zarr", seed=2)
    cov = measure(tmp_path / "m.zarr", calibration=0.5, classes=["sponge"])["cover"]
    assert set(cov["class"]) == {"sponge"}
    np.testing.assert_allclose(cov["cover_mm2"], cov["cover_px"] * 0.25)
    np.testing.assert_array_equal(cov["cover_px"], class_cover(labels, class_of, 3)[:, 1])


def test_roi_errors():
    with pytest.raises(ConfigError, match="does not match"):
        roi_mask(np.ones((3, 3), bool), (4, 4))
    with pytest.raises(ConfigError, match=">= 3"):
        roi_mask([(0, 0), (1, 1)], (4, 4))
    with pytest.raises(ConfigError, match="empty"):
        roi_mask(np.zeros((4, 4), bool), (4, 4))
    with pytest.raises(ConfigError, match="empty"):
        roi_mask([(10, 10), (12, 10), (12, 12)], (4, 4))
    assert roi_mask(None, (4, 4)) is None


@pytest.mark.parametrize(
    ("roi", "words"),
    [
        # old code: the centres on the line between the vertices were left out (3 pixels)
        ([(0, 0), (3, 0), (6, 0)], r"\[\(0, 0\), \(3, 0\), \(6, 0\)\] has no area: .* one line"),
        ([(1, 1), (6, 1), (6, 1), (1, 1)], r"needs >= 3 distinct vertices, it has 2"),
        # a square with a spike out to (7, 2) and back: (5, 2), (6, 2) were left out
        (
            [(1, 1), (4, 1), (4, 2), (7, 2), (4, 2), (4, 4), (1, 4)],
            r"has a zero-area spike at vertex 3 \(7, 2\)",
        ),
        # a bow tie: its two lobes by the even-odd rule, unsaid
        (
            [(1, 1), (5, 4), (5, 1), (1, 4)],
            r"crosses itself: its edges 0-1 and 2-3 .* at \(3, 2.5\)",
        ),
        ([(0, 0), (4, 0), (4, 4), (2, 0), (0, 4)], r"its edges 0-1 and 2-3 .* meet at \(2, 0\)"),
    ],
)
def test_a_degenerate_or_crossing_polygon_is_refused_naming_it(roi, words):
    with pytest.raises(ConfigError, match="^roi polygon .*" + words):
        roi_mask(roi, (6, 8))


def test_a_polygon_closed_by_its_first_vertex_or_with_a_repeated_one_is_the_same():
    square = [(1, 1), (4, 1), (4, 4), (1, 4)]
    want = roi_mask(square, (6, 8))
    np.testing.assert_array_equal(roi_mask([*square, (1, 1)], (6, 8)), want)
    np.testing.assert_array_equal(roi_mask([(1, 1), (4, 1), (4, 1), (4, 4), (1, 4)], (6, 8)), want)
    assert want.sum() == 16


def test_numbers_of_a_2_px_wide_frame_are_no_guess_between_mask_and_polygon():
    # old code: a 0/1 mask of shape (6, 2) was read as a polygon of 6 vertices
    with pytest.raises(ConfigError, match=r"could be a mask or 6 \(x, y\) vertices"):
        roi_mask(np.ones((6, 2), np.uint8), (6, 2))
    assert roi_mask(np.ones((6, 2), bool), (6, 2)).all()
    closed = [(0, 0), (1, 0), (1, 5), (0, 5), (0, 0)]  # its first vertex again at the end
    assert roi_mask(closed, (6, 2)).all()


def test_cover_table_pure():
    reg = pd.DataFrame({"frame": [0, 1, 1], "class": ["a", "a", "b"], "area_px": [2, 3, 5]})
    cov = cover_table(reg, [0.0, 1.0], frame_area_px=10, classes=["a", "b", "c"])
    assert cov["cover_fraction"].tolist() == [0.2, 0.0, 0.0, 0.3, 0.5, 0.0]
    with pytest.raises(ValueError, match="positive"):
        cover_table(reg, [0.0, 1.0], frame_area_px=0)
