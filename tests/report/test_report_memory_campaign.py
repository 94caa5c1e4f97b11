"""A report of several stores holds their tables once, and its embedded CSVs once.

``ecoseg report STORE1 STORE2 ...`` measures every store and stacks the tables into one table
each (a ``video`` column first). It held every store's tables while stacking them into the
combined ones: twice the tables at its peak. Now each store's tables let go of a column once
it is stacked (:func:`ecoseg.measure.tables.combine_tables` with ``release=True``).

An embedded table's CSV was held whole, joined again, base64-encoded (a third larger), decoded
to text and prefixed, about 3.7 times the CSV at once, then copied again by the template and
by the file's encoding as the page was written. It is now kept as the bytes written and
base64-encoded a piece at a time as the page is written.
"""

from __future__ import annotations

import base64
import warnings

from ecoseg.measure import measure
from ecoseg.measure.tables import csv_bytes
from ecoseg.report._tables import table_downloads
from ecoseg.report.read import read_tables, read_video


def _nbytes(tables) -> int:
    return int(sum(df.memory_usage(deep=True, index=False).sum() for df in tables.values()))


def test_several_stores_are_measured_into_about_one_set_of_tables(
    tmp_path, long_store_at, python_peak
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        short, long = (long_store_at(tmp_path / f"s{n}.zarr", n, scores=False) for n in (400, 1600))

        def combined(store):  # one store as three videos of a campaign
            videos = [read_video(name, store, name) for name in ("a", "b", "c")]
            return python_peak(lambda: read_tables(videos, None))

        combined(short)  # imports: out of the peaks
        _, peak_short = combined(short)
        _, peak_long = combined(long)
        # the stores' own tables (the combined ones' video column is one str, counted per row)
        size = 3 * (_nbytes(measure(long)) - _nbytes(measure(short)))
    grown = (peak_long - peak_short) / size
    # it was 2.1: every store's tables held while the combined ones were stacked from them;
    # now the stores measured before the last one and the last one's measuring
    assert grown < 1.5, f"the peak grew {grown:.2f} bytes per byte of the stores' tables"


def test_an_embedded_csv_is_held_once_not_as_text(long_store_at, tmp_path, python_peak):
    def section(frames):  # the tables section as the page writes it: its href piece by piece
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            store = long_store_at(tmp_path / f"s{frames}.zarr", frames, scores=False)
            regions = measure(store)["regions"]

        def page():
            (row,) = table_downloads({"regions": regions}, None, tmp_path / "r.html")
            return sum(len(piece) for piece in row["href"])

        page()  # imports: out of the peak
        written, peak = python_peak(page)
        size = len(csv_bytes(regions))
        assert written == len("data:text/csv;base64,") + len(base64.b64encode(b"x" * size))
        return size, peak

    (small, peak_short), (big, peak_long) = section(400), section(1600)
    grown = (peak_long - peak_short) / (big - small)
    # it was 3.7 (the CSV, joined, base64, text and prefixed text at once), and the template
    # and the file made two more copies of the text while writing it; now the CSV's bytes
    assert grown < 1.3, f"the tables section held {grown:.2f} bytes per byte of its CSV"
