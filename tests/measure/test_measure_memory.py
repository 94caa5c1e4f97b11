"""Measuring a long store holds about the tables it returns, not copies of them.

An hour of video with a school of fish is millions of (frame, object) rows; ecologists
measure on laptops. The peak of :func:`regions` and :func:`ecoseg.measure.measure` (Python
allocations, ``tracemalloc``) is bounded by a small multiple of the finished tables' size
(collecting every chunk's stats and copying them into a DataFrame, then sorting a copy of
the table for the tracks, took 3.4 times it), and a CSV file is written a few thousand rows
at a time, not held whole as text and again as bytes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecoseg.measure import measure
from ecoseg.measure import regions as regions_module
from ecoseg.measure.regions import concat_stats, iter_stats, region_stats, regions
from ecoseg.measure.tables import combine_tables, csv_bytes, save_table
from ecoseg.store import MaskStore

FRAMES = 1200


@pytest.fixture(scope="module")
def long_store(tmp_path_factory, long_store_at):
    path = long_store_at(tmp_path_factory.mktemp("mem") / "long.zarr", FRAMES)
    measure(path)  # imports and caches out of the measured peak
    return path


def _nbytes(df: pd.DataFrame) -> int:
    return int(df.memory_usage(deep=True, index=False).sum())


def test_regions_peak_is_about_the_table(long_store, python_peak):
    table, peak = python_peak(lambda: regions(long_store))
    size = _nbytes(table)
    assert len(table) > 10_000
    # the table itself plus one block of chunks' stats and a column in flight; it was 1.6
    # times the table (every chunk's dict held, then copied into the DataFrame)
    assert peak < 1.35 * size, f"peak {peak / 1e6:.1f} MB for a table of {size / 1e6:.1f} MB"


def test_measure_peak_is_about_the_tables(long_store, python_peak):
    tables, peak = python_peak(lambda: measure(long_store))
    size = sum(_nbytes(df) for df in tables.values())
    # it was 3.4 times the tables: the regions table built as in regions() and then sorted
    # into a copy for the tracks table
    assert peak < 2.0 * size, f"peak {peak / 1e6:.1f} MB for tables of {size / 1e6:.1f} MB"


def test_a_long_csv_is_written_without_holding_its_text(long_store, tmp_path, python_peak):
    table = regions(long_store)
    long = table.iloc[np.tile(np.arange(len(table)), 2)].reset_index(drop=True)
    path = tmp_path / "regions.csv"
    _, peak = python_peak(lambda: save_table(long, path, "csv"))
    text = path.stat().st_size
    # a thousand rows at a time; it held the whole text as str and again as bytes
    assert peak < 0.6 * text, f"peak {peak / 1e6:.1f} MB for {text / 1e6:.1f} MB of CSV"
    # the bytes every CSV of ecoseg had: UTF-8, "\n", missing values empty
    want = long.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")
    assert path.read_bytes() == want
    assert csv_bytes(long) == want


def test_regions_equal_one_region_table_of_every_frame(long_store):
    """The table built chunk by chunk is the one of all frames measured at once."""
    store = MaskStore.open(long_store)
    whole = region_stats(store.read_labels(0, store.n_frames))
    chunked = concat_stats(iter_stats(store, chunk_frames=7))
    assert list(chunked) == list(whole)
    for key, values in whole.items():
        assert chunked[key].dtype == values.dtype, key
        np.testing.assert_array_equal(chunked[key], values, err_msg=key)
    table = regions(store)
    for key, values in whole.items():
        np.testing.assert_array_equal(table[key].to_numpy(), values, err_msg=key)
    assert table["frame"].dtype == np.int64 and table["area_px"].dtype == np.int64


def test_concat_stats_of_a_list_and_of_nothing():
    lab = np.zeros((3, 4, 4), np.uint8)
    lab[:, 1:3, 1:3] = 1
    lab[1] = 0  # an empty chunk among full ones
    chunks = [region_stats(lab[i : i + 1]) for i in range(3)]
    out = concat_stats(chunks)
    assert out["area_px"].tolist() == [4, 4] and out["frame"].dtype == np.int64
    assert out["centroid_x_px"].dtype == np.float64
    empty = concat_stats([])
    assert len(empty["frame"]) == 0 and empty["frame"].dtype == np.int64


def test_combined_tables_hold_one_video_name(tmp_path, python_peak):
    rows = 200_000
    table = pd.DataFrame(
        {"frame": np.arange(rows), "class": pd.array(["wrasse"] * rows, dtype="str")}
    )
    out, peak = python_peak(lambda: combine_tables({"bruv-1": {"regions": table}}, {}))
    video = out["regions"]["video"]
    assert video.dtype == object and (video == "bruv-1").all()
    assert len({id(v) for v in video}) == 1  # a reference to one str, not a str per row
    # five metadata columns of a reference (or a float) per row and depth_m in flight; a str
    # per row for the video made it 90 bytes
    assert peak < 64 * rows, f"peak {peak / rows:.0f} bytes per row"


@pytest.mark.parametrize("meta", [{}, {"site": "north", "depth_m": 7.5}])
def test_combined_tables_read_as_before(meta):
    a = pd.DataFrame({"class": ["fish", "crab"], "maxn": [3, 1]})
    b = pd.DataFrame({"class": ["fish"], "maxn": [5]})
    out = combine_tables({"a": {"maxn": a}, "b": {"maxn": b}}, {"a": meta})["maxn"]
    assert out["video"].tolist() == ["a", "a", "b"]
    assert out["site"].tolist() == [meta.get("site")] * 2 + [None]
    assert out["depth_m"].dtype == np.float64
    assert out["depth_m"].isna().tolist() == ["depth_m" not in meta] * 2 + [True]
    assert [out[c].dtype for c in ("video", "site", "transect", "date")] == [object] * 4


def _boxes_store(path, height: int, width: int, frames: int = 12) -> MaskStore:
    """A finished store of large frames (4 a chunk) with three boxes, opened for reading."""
    store = MaskStore.create(
        path,
        height=height,
        width=width,
        chunk_frames=4,
        objects=[{"id": k, "class": "fish"} for k in (1, 2, 3)],
    )
    labels = np.zeros((frames, height, width), np.uint32)
    for i in range(frames):
        labels[i, 50:200, 20 + 10 * i : 300 + 10 * i] = 1
        labels[i, 250:450, 450:750] = 2
        labels[i, 470:500, 5 * i : 5 * i + 40] = 3
    store.append(labels, np.arange(frames) / 30.0)
    store.mark_complete()
    store.close()
    return MaskStore.open(path)


def test_measuring_large_frames_holds_one_chunk_of_labels_at_a_time(tmp_path, python_peak):
    # a 4K chunk of 4 frames is 127 MB, and reading one holds it twice for a moment (decoded,
    # then copied out); the chunk before it was still held then: 3.3 chunks at the peak, now
    # 2.3 (the read's two and the scratch buffer of a quarter chunk)
    store = _boxes_store(tmp_path / "large.zarr", 540, 960)
    chunk = 4 * 540 * 960 * 4
    concat_stats(iter_stats(store))  # imports and caches out of the peak
    stats, peak = python_peak(lambda: concat_stats(iter_stats(store)))
    assert len(stats["frame"]) == 36
    assert peak < 2.7 * chunk, f"peak {peak / chunk:.2f} chunks of labels"


def test_measuring_frames_over_the_read_budget_holds_about_one_frame(
    tmp_path, python_peak, monkeypatch
):
    # a 4K frame is 33 MB, more than half of READ_BYTES: measure reads such frames one at a
    # time, not the 4-frame chunk (127 MB, 5.3 frames at the peak with the scratch buffer)
    store = _boxes_store(tmp_path / "large.zarr", 540, 960)
    frame = 540 * 960 * 4
    chunked = measure(store, chunk_frames=4)  # as read before: a chunk at a time
    monkeypatch.setattr(regions_module, "READ_BYTES", frame * 3 // 2, raising=False)
    measure(store)  # imports and caches out of the peak
    tables, peak = python_peak(lambda: measure(store))
    # the frame read, the scratch buffer of a quarter frame and the small tables
    assert peak < 1.6 * frame, f"peak {peak / frame:.2f} frames of labels"
    assert list(tables) == list(chunked)
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, chunked[name], check_exact=True)
        assert csv_bytes(table) == csv_bytes(chunked[name]), name


def test_a_roi_measured_a_frame_at_a_time_gives_the_chunks_tables(tmp_path, monkeypatch):
    store = _boxes_store(tmp_path / "large.zarr", 540, 960)
    roi = np.zeros((540, 960), bool)
    roi[100:400, 200:600] = True
    roi[460:480, ::3] = True
    chunked = measure(store, chunk_frames=4, roi=roi)
    monkeypatch.setattr(regions_module, "READ_BYTES", 540 * 960 * 4, raising=False)
    assert regions_module.read_step(store) == 1
    tables = measure(store, roi=roi)
    assert chunked["cover"]["cover_fraction"].gt(0).any()
    for name, table in tables.items():
        assert csv_bytes(table) == csv_bytes(chunked[name]), name
    # the ROI's counts of a run of columns equal the int64 cumulative sum's they replace
    _check_roi_rows(roi, runs=True)


def _check_roi_rows(roi: np.ndarray, *, runs: bool, n: int = 4000) -> None:
    """RoiRows(roi) counts what an int64 cumulative sum along the rows counts, exactly."""
    rows = regions_module.RoiRows(roi)
    assert (rows.cum is None) is runs  # held as its runs, or as a count per pixel
    assert rows.area == int(roi.sum())
    H, W = roi.shape
    cum = np.zeros((H, W + 1), np.int64)
    np.cumsum(roi, axis=1, out=cum[:, 1:])
    rng = np.random.default_rng(H * W)
    r, a, b = rng.integers(0, H, n), rng.integers(0, W, n), rng.integers(0, W, n)
    c0, c1 = np.minimum(a, b), np.maximum(a, b)
    got = rows.count(r, c0, c1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, cum[r, c1 + 1] - cum[r, c0])


def test_a_polygon_roi_is_held_as_its_runs_not_a_count_per_pixel():
    # a 4K ROI cost its 8 MB mask and a running count of every pixel (uint16, 16 MB) while a
    # store was measured; a polygon's mask is a run or two a row, and the mask goes once they
    # are found (measure.RoiRows: 50 KB)
    from ecoseg.measure.cover import roi_mask

    polygon = [(200, 150), (3600.5, 100), (3700, 2000.25), (1900, 2100), (150, 1900)]
    mask = roi_mask(polygon, (2160, 3840))
    rows = regions_module.RoiRows(mask)
    held = sum(a.nbytes for a in vars(rows).values() if isinstance(a, np.ndarray))
    assert held < 100_000, f"{held / 2**20:.1f} MB"
    _check_roi_rows(mask, runs=True)
    rng = np.random.default_rng(3)
    _check_roi_rows(rng.random((50, 70)) < 0.5, runs=False)  # many runs: the count instead
    _check_roi_rows(np.zeros((4, 6), bool), runs=True)
    _check_roi_rows(np.ones((3, 40), bool), runs=True)


@pytest.mark.parametrize(
    ("size", "chunk", "step"),
    [
        ((360, 640), 4, 4),
        ((1080, 1920), 4, 4),
        ((1440, 2560), 4, 2),
        ((2160, 3840), 4, 1),
        ((2160, 3840), 1, 1),
        ((360, 640), 16, 16),
        ((1440, 2560), 6, 3),
    ],
)
def test_read_step_keeps_ordinary_frames_a_chunk_at_a_time(size, chunk, step):
    store = MaskStore.create(
        f"memory://step-{size[0]}-{chunk}",
        height=size[0],
        width=size[1],
        chunk_frames=chunk,
        overwrite=True,
    )
    assert regions_module.read_step(store) == step
    assert regions_module.read_step(store, 3) == 3
