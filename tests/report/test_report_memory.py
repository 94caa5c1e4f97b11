"""A report of a long store holds about as much as measuring it: the tables, not copies.

``ecoseg report`` measures the store and draws its figures from the tables; on an hour of
video those are millions of (frame, object) rows. The report's peak (Python allocations,
``tracemalloc``) grew by 1.6 bytes per byte of its tables: the combined tables held a str per
row for the video name, the sizes copied the whole regions table to drop the rows cut by the
frame edge, and the trajectories held a str per row for the class. Now it grows by about 1.3
(the tables, the video columns' references and the track points in the figure).
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np

import ecoseg
from ecoseg.measure import measure
from ecoseg.store import MaskStore

OBJECTS, H, W = 12, 40, 96


def _long_store(path, frames: int) -> str:
    """``frames`` frames of ``OBJECTS`` boxes moving right, one away in each stretch."""
    store = MaskStore.create(
        path,
        height=H,
        width=W,
        chunk_frames=4,
        objects=[{"id": k + 1, "class": ("wrasse", "grouper")[k % 2]} for k in range(OBJECTS)],
        calibration={"mm_per_px": 2.0, "method": "synthetic"},
    )
    step = 100
    for start in range(0, frames, step):
        labels = np.zeros((step, H, W), np.uint32)
        for i in range(step):
            t = start + i
            for k in range(OBJECTS):
                if (t // 50 + k) % 6 == 5:
                    continue  # away for a while
                x = (3 * t + 7 * k) % (W - 6)
                labels[i, 3 * k : 3 * k + 3, x : x + 2 + k % 4] = k + 1
        store.append(labels, (start + np.arange(step)) / 30.0)
    store.mark_complete()
    store.close()
    return str(path)


def _nbytes(tables) -> int:
    return int(sum(df.memory_usage(deep=True, index=False).sum() for df in tables.values()))


def _peak(fn):
    """``fn()`` and the peak of the Python allocations it made, in bytes."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return out, peak


def test_report_peak_grows_with_its_tables(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a script's warnings, not one record per warning
        short, long = (_long_store(tmp_path / f"s{n}.zarr", n) for n in (400, 1600))
        ecoseg.report(short, tmp_path / "warm.html")  # imports, fonts: out of the peaks
        _, peak_short = _peak(lambda: ecoseg.report(short, tmp_path / "short.html"))
        _, peak_long = _peak(lambda: ecoseg.report(long, tmp_path / "long.html"))
        size_short, size_long = _nbytes(measure(short)), _nbytes(measure(long))
    grown = (peak_long - peak_short) / (size_long - size_short)
    # it was 1.6: a str per row in the combined tables and the trajectories, the regions
    # table copied whole for the sizes
    assert grown < 1.45, f"the peak grew {grown:.2f} bytes per byte of tables"
