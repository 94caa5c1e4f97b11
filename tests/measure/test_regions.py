"""Tests of ecoseg.measure.regions: vectorised label statistics and the store shell."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.draw import ellipse, line
from skimage.measure import regionprops_table

from ecoseg.measure.regions import REGION_COLUMNS, region_stats, region_table, regions
from ecoseg.store import MaskStore

# our column -> regionprops_table column
SKIMAGE = {
    "area_px": "area",
    "centroid_y_px": "centroid-0",
    "centroid_x_px": "centroid-1",
    "bbox_y0": "bbox-0",
    "bbox_x0": "bbox-1",
    "bbox_y1": "bbox-2",
    "bbox_x1": "bbox-3",
    "perimeter_px": "perimeter",
    "equivalent_diameter_px": "equivalent_diameter_area",
    "major_axis_px": "axis_major_length",
    "minor_axis_px": "axis_minor_length",
    "orientation_rad": "orientation",
    "eccentricity": "eccentricity",
    "solidity": "solidity",
}
PROPS = ("label", *dict.fromkeys(p.split("-")[0] for p in SKIMAGE.values()))
EXACT = ("area_px", "bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")


def random_labels(rng, h=64, w=80, k=10) -> np.ndarray:
    """Touching and overlapping ellipses, holes, lines, stray pixels of an object far away
    (non-connected objects), single pixels and objects cut by the image border."""
    lab = np.zeros((h, w), np.uint32)
    for _ in range(k):
        rr, cc = ellipse(
            rng.integers(-5, h + 5),
            rng.integers(-5, w + 5),
            rng.integers(1, 18),
            rng.integers(1, 18),
            shape=(h, w),
            rotation=rng.uniform(0, np.pi),
        )
        lab[rr, cc] = rng.integers(1, 15)
    rr, cc = line(*rng.integers(0, h, 1), *rng.integers(0, w, 1), *rng.integers(0, h, 1), 0)
    lab[rr, cc] = 15
    lab[rng.random((h, w)) < 0.04] = 0  # holes
    stray = rng.random((h, w)) < 0.01
    lab[stray] = rng.integers(1, 17, stray.sum())  # stray pixels / single-pixel objects
    return lab


def assert_matches_skimage(stats, labels):
    for f in range(labels.shape[0]):
        ref = regionprops_table(labels[f], properties=PROPS)
        sel = stats["frame"] == f
        np.testing.assert_array_equal(stats["object_id"][sel], ref["label"])
        for ours, theirs in SKIMAGE.items():
            a = np.asarray(stats[ours][sel], dtype=np.float64)
            b = np.asarray(ref[theirs], dtype=np.float64)
            if ours in EXACT:
                np.testing.assert_array_equal(a, b, err_msg=ours)
            elif ours == "minor_axis_px":
                # skimage takes the square root of eigenvalue rounding noise (~eps * l1) where
                # the exact minor moment is 0 (a line): tolerance relative to the major axis
                major = np.asarray(ref["axis_major_length"])
                assert (np.abs(a - b) <= 1e-9 * np.abs(b) + 1e-6 * major).all(), ours
            elif ours == "eccentricity":
                # same effect where both moments are equal (a disc): sqrt(eps) absolute
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=5e-7, err_msg=ours)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=ours)


@pytest.mark.parametrize("seed", range(6))
def test_matches_regionprops_on_random_label_stacks(seed):
    rng = np.random.default_rng(seed)
    labels = np.stack([random_labels(rng) for _ in range(3)])
    stats = region_stats(labels)
    assert_matches_skimage(stats, labels)


def test_matches_regionprops_on_large_noisy_object():
    # one object whose rows have random extents: many hull pruning rounds, long border
    rng = np.random.default_rng(7)
    lab = np.zeros((120, 200), np.uint16)
    for r in range(5, 115):
        lab[r, rng.integers(0, 90) : rng.integers(100, 200)] = 3
    lab[rng.random(lab.shape) < 0.1] = 0
    assert_matches_skimage(region_stats(lab), lab[None])


def test_matches_regionprops_on_tiny_shapes():
    lab = np.zeros((12, 14), np.int32)
    lab[0, 0] = 1  # one pixel in a corner
    lab[2, 3:9] = 2  # horizontal line
    lab[4:11, 12] = 3  # vertical line
    rr, cc = line(4, 2, 10, 8)
    lab[rr, cc] = 4  # diagonal line
    lab[11, 13] = 5
    lab[5:7, 5:7] = 6  # 2x2 square
    assert_matches_skimage(region_stats(lab), lab[None])


@pytest.mark.parametrize("r", [5, 12, 30])
def test_disc(r):
    size = 2 * r + 11
    yy, xx = np.mgrid[:size, :size]
    cy, cx = r + 4, r + 6
    disc = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r).astype(np.uint8)
    row = region_table(disc).iloc[0]
    assert row["area_px"] == pytest.approx(math.pi * r * r, rel=0.06)
    assert row["equivalent_diameter_px"] == pytest.approx(2 * r, rel=0.03)
    assert row["centroid_x_px"] == cx and row["centroid_y_px"] == cy
    assert row["eccentricity"] < 0.02
    assert row["major_axis_px"] == pytest.approx(row["minor_axis_px"], rel=1e-3)
    assert row["major_axis_px"] == pytest.approx(2 * r, rel=0.06)
    assert row["perimeter_px"] == pytest.approx(2 * math.pi * r, rel=0.1)
    # the hull lies within the disc of radius r + 1/2 around the centre: every pixel centre
    # it covers is within r + 1 of it
    assert row["area_px"] / (math.pi * (r + 1) ** 2) <= row["solidity"] <= 1
    assert (row["bbox_x0"], row["bbox_x1"]) == (cx - r, cx + r + 1)


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(3, 20),
    w=st.integers(3, 20),
    y0=st.integers(0, 10),
    x0=st.integers(0, 10),
    obj=st.integers(1, 2**32 - 1),
)
def test_rectangle_by_hand(h, w, y0, x0, obj):
    lab = np.zeros((y0 + h + 2, x0 + w + 3), np.uint32)
    lab[y0 : y0 + h, x0 : x0 + w] = obj
    row = region_table(lab).iloc[0]
    assert row["object_id"] == obj
    assert row["area_px"] == h * w
    assert (row["bbox_x0"], row["bbox_y0"], row["bbox_x1"], row["bbox_y1"]) == (
        x0,
        y0,
        x0 + w,
        y0 + h,
    )
    assert row["centroid_x_px"] == pytest.approx(x0 + (w - 1) / 2)
    assert row["centroid_y_px"] == pytest.approx(y0 + (h - 1) / 2)
    # every border pixel has two border 4-neighbours and no border diagonal -> weight 1
    assert row["perimeter_px"] == pytest.approx(2 * (h + w) - 4)
    # variance of a discrete uniform over n values is (n^2 - 1) / 12
    big, small = max(h, w), min(h, w)
    assert row["major_axis_px"] == pytest.approx(4 * math.sqrt((big**2 - 1) / 12))
    assert row["minor_axis_px"] == pytest.approx(4 * math.sqrt((small**2 - 1) / 12))
    assert row["solidity"] == 1.0
    expected = 0.0 if h > w else (-math.pi / 4 if h == w else math.pi / 2)
    assert row["orientation_rad"] == pytest.approx(expected)


def test_same_label_in_several_frames_is_measured_per_frame():
    lab = np.zeros((3, 10, 10), np.uint32)
    lab[0, 1:3, 1:3] = 4
    lab[2, 5:9, 5:9] = 4
    df = region_table(lab, frame_offset=10, times=[1.0, 1.5, 2.0])
    assert df["frame"].tolist() == [10, 12]
    assert df["time_s"].tolist() == [1.0, 2.0]
    assert df["area_px"].tolist() == [4, 16]
    assert df.attrs["units"]["time_s"] == "s"


def test_empty_and_invalid_input():
    df = region_table(np.zeros((2, 5, 5), np.uint8))
    assert len(df) == 0 and tuple(df.columns) == REGION_COLUMNS
    with pytest.raises(ValueError, match=">= 0"):
        region_table(-np.ones((3, 3), np.int16))
    with pytest.raises(ValueError, match="integers"):
        region_table(np.ones((3, 3)))
    with pytest.raises(ValueError, match="shape"):
        region_table(np.ones((1, 2, 3, 3), np.uint8))
    with pytest.raises(ValueError, match="times"):
        region_table(np.ones((2, 3, 3), np.uint8), times=[0.0])
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:4] = True
    assert region_table(mask)[["object_id", "area_px"]].values.tolist() == [[1, 6]]


def test_roi_area_counts_pixels_inside_the_roi():
    rng = np.random.default_rng(3)
    lab = np.stack([random_labels(rng) for _ in range(2)])
    roi = rng.random(lab.shape[1:]) < 0.5
    s = region_stats(lab, roi=roi)
    for f, oid, got in zip(s["frame"], s["object_id"], s["roi_area_px"]):
        assert got == np.count_nonzero((lab[f] == oid) & roi)


def test_scratch_buffer_is_reused_without_changing_results():
    rng = np.random.default_rng(4)
    a = np.stack([random_labels(rng) for _ in range(2)])
    b = np.stack([random_labels(rng) for _ in range(2)])
    work = np.empty(a.size, bool)
    first = region_stats(a, work=work)
    region_stats(b, work=work)
    again = region_stats(a, work=work)
    for k in first:
        np.testing.assert_array_equal(first[k], again[k])


@pytest.mark.parametrize("seed", range(3))
def test_statistics_do_not_depend_on_how_many_frames_are_measured_at_once(seed):
    # measure() reads a store chunk by chunk (the store's chunk or --chunk-frames): every
    # statistic of a frame must be the same bits however many frames share its chunk, or
    # the same store gives other table bytes (the perimeter was a matrix product, whose
    # rounding changed with the number of objects in it)
    rng = np.random.default_rng(seed)
    labels = np.stack([random_labels(rng) for _ in range(20)])
    whole = region_stats(labels)
    parts = [region_stats(labels[i : i + 1]) for i in range(len(labels))]
    for k in whole:
        if k != "frame":
            np.testing.assert_array_equal(whole[k], np.concatenate([p[k] for p in parts]), k)


# --------------------------------------------------------------------------- store shell
def make_store(path, labels, times, objects, calibration=None, chunk_frames=2):
    store = MaskStore.create(
        path,
        height=labels.shape[1],
        width=labels.shape[2],
        chunk_frames=chunk_frames,
        objects=objects,
        calibration=calibration,
    )
    store.append(labels, times)
    store.close()
    return path


def test_store_regions_adds_store_columns_and_mm_units(tmp_path):
    rng = np.random.default_rng(5)
    labels = np.stack([random_labels(rng, k=6) for _ in range(5)])
    ids = np.unique(labels[labels > 0])
    objects = [{"id": int(i), "class": "coral" if i % 2 else "urchin"} for i in ids]
    times = [0.0, 0.04, 0.1, 0.13, 0.2]
    path = make_store(tmp_path / "m.zarr", labels, times, objects, {"mm_per_px": 0.25})
    df = regions(path, chunk_frames=2)
    ref = region_table(labels, times=times)
    pd.testing.assert_frame_equal(
        df[list(ref.columns)].reset_index(drop=True), ref, check_dtype=False, check_like=False
    )
    assert set(df["class"]) == {"coral", "urchin"}
    assert (df["class"] == np.where(df["object_id"] % 2, "coral", "urchin")).all()
    assert (df["score"] == 1.0).all()  # presence scores written by the store
    s = 0.25
    np.testing.assert_allclose(df["area_mm2"], df["area_px"] * s * s)
    for mm, px in [
        ("centroid_x_mm", "centroid_x_px"),
        ("perimeter_mm", "perimeter_px"),
        ("major_axis_mm", "major_axis_px"),
        ("minor_axis_mm", "minor_axis_px"),
        ("equivalent_diameter_mm", "equivalent_diameter_px"),
    ]:
        np.testing.assert_allclose(df[mm], df[px] * s)
    units = df.attrs["units"]
    assert units["area_mm2"] == "mm^2" and units["centroid_y_mm"] == "mm"
    assert df.attrs["calibration"]["mm_per_px"] == 0.25
    # chunking does not change anything
    pd.testing.assert_frame_equal(df, regions(path, chunk_frames=3))


def test_store_regions_without_calibration_has_no_mm_columns(tmp_path):
    labels = np.zeros((2, 8, 8), np.uint32)
    labels[:, 2:4, 2:5] = 1
    path = make_store(tmp_path / "m.zarr", labels, [0.0, 0.5], [{"id": 1, "class": "fish"}])
    df = regions(path)
    assert not [c for c in df.columns if c.endswith(("_mm", "_mm2"))]
    assert df.attrs["calibration"] is None
    # a calibration passed in is used for this table
    df = regions(path, calibration="2")
    assert df["area_mm2"].tolist() == [24.0, 24.0]


def test_store_regions_carry_where_each_class_came_from(tmp_path):
    from ecoseg.measure import measure

    labels = np.zeros((2, 6, 12), np.uint32)
    labels[:, 1:3, 1:3], labels[:, 1:3, 5:7], labels[:, 3:5, 8:11] = 1, 2, 3
    objects = [
        {
            "id": 1,
            "class": "wrasse",
            "source": "tracker",
            "class_source": "classified",
            "class_probability": 0.75,
        },
        {"id": 2, "class": "wrasse", "source": "prompt"},  # older store: no class_source
        {"id": 3, "class": "unknown", "source": "tracker"},
    ]
    path = make_store(tmp_path / "m.zarr", labels, [0.0, 0.5], objects)
    t = measure(path)
    reg = t["regions"].drop_duplicates("object_id").set_index("object_id")
    assert reg["class_source"].to_dict() == {1: "classified", 2: "prompt", 3: "unknown"}
    assert reg.loc[1, "class_probability"] == 0.75 and reg.loc[2, "class_probability"] == 1.0
    assert np.isnan(reg.loc[3, "class_probability"])
    tracks = t["tracks"].set_index("object_id")
    assert tracks["class_source"].to_dict() == reg["class_source"].to_dict()
    assert t["regions"].attrs["units"]["class_probability"] == "1"
    assert t["maxn"]["class"].tolist() == ["wrasse", "unknown"]  # unknown apart, last
