"""Tests of ecoseg.measure.cover: cover fractions per frame and class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecoseg.errors import ConfigError
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


def test_cover_table_pure():
    reg = pd.DataFrame({"frame": [0, 1, 1], "class": ["a", "a", "b"], "area_px": [2, 3, 5]})
    cov = cover_table(reg, [0.0, 1.0], frame_area_px=10, classes=["a", "b", "c"])
    assert cov["cover_fraction"].tolist() == [0.2, 0.0, 0.0, 0.3, 0.5, 0.0]
    with pytest.raises(ValueError, match="positive"):
        cover_table(reg, [0.0, 1.0], frame_area_px=0)
