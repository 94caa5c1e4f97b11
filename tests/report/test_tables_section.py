"""The report's tables section: CSV downloads embedded whole, or counted and linked."""

from __future__ import annotations

import base64

import pandas as pd

from ecoseg.measure.tables import csv_bytes
from ecoseg.report import _tables


def _table(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"frame": range(rows), "class": ["wrasse", None] * (rows // 2)})


def test_a_small_table_is_embedded_as_its_csv_bytes(tmp_path):
    df = _table(10)
    (row,) = _tables.table_downloads({"counts": df}, None, tmp_path / "r.html")
    data = base64.b64decode(str(row["href"]).split(",", 1)[1])
    assert data == csv_bytes(df) and b"\n1,\n" in data
    assert row["size"] == f"{len(data)} B" and row["rows"] == 10


def test_a_table_over_the_cap_is_sized_not_embedded(tmp_path, monkeypatch):
    df = _table(4000)
    size = len(csv_bytes(df))
    monkeypatch.setattr(_tables, "MAX_EMBED_BYTES", size - 1)
    (row,) = _tables.table_downloads({"regions": df}, None, tmp_path / "r.html")
    assert row["href"] is None  # no study folder holds a copy to link to
    assert row["size"] == f"{size / 1024:.1f} KB"
    monkeypatch.setattr(_tables, "MAX_EMBED_BYTES", size)
    (row,) = _tables.table_downloads({"regions": df}, None, tmp_path / "r.html")
    assert base64.b64decode(str(row["href"]).split(",", 1)[1]) == csv_bytes(df)
