"""A report of a long store holds about as much as measuring it: the tables, not copies.

``ecoseg report`` measures the store and draws its figures from the tables; on an hour of
video those are millions of (frame, object) rows. The report's peak (Python allocations,
``tracemalloc``) grew by 1.6 bytes per byte of its tables: the combined tables held a str per
row for the video name, the sizes copied the whole regions table to drop the rows cut by the
frame edge, and the trajectories held a str per row for the class. Now it grows by about 1.3
(the tables, the video columns' references and the track points in the figure).
"""

from __future__ import annotations

import warnings

import ecoseg
from ecoseg.measure import measure


def _nbytes(tables) -> int:
    return int(sum(df.memory_usage(deep=True, index=False).sum() for df in tables.values()))


def test_report_peak_grows_with_its_tables(tmp_path, long_store_at, python_peak):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a script's warnings, not one record per warning
        short, long = (long_store_at(tmp_path / f"s{n}.zarr", n, scores=False) for n in (400, 1600))
        ecoseg.report(short, tmp_path / "warm.html")  # imports, fonts: out of the peaks
        _, peak_short = python_peak(lambda: ecoseg.report(short, tmp_path / "short.html"))
        _, peak_long = python_peak(lambda: ecoseg.report(long, tmp_path / "long.html"))
        size_short, size_long = _nbytes(measure(short)), _nbytes(measure(long))
    grown = (peak_long - peak_short) / (size_long - size_short)
    # it was 1.6: a str per row in the combined tables and the trajectories, the regions
    # table copied whole for the sizes
    assert grown < 1.45, f"the peak grew {grown:.2f} bytes per byte of tables"
