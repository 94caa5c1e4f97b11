"""The report's tables section: CSV downloads embedded whole, or counted and linked."""

from __future__ import annotations

import base64
from types import SimpleNamespace

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


def test_a_table_over_the_cap_is_said_too_large_not_embedded(tmp_path, monkeypatch):
    df = _table(4000)
    size = len(csv_bytes(df))
    monkeypatch.setattr(_tables, "MAX_EMBED_BYTES", size - 1)
    (row,) = _tables.table_downloads({"regions": df}, None, tmp_path / "r.html")
    assert row["href"] is None  # no study folder holds a copy to link to
    assert row["size"] == f"over {(size - 1) / 1024:.1f} KB"
    assert row["elsewhere"] == "ecoseg measure writes it"
    monkeypatch.setattr(_tables, "MAX_EMBED_BYTES", size)
    (row,) = _tables.table_downloads({"regions": df}, None, tmp_path / "r.html")
    assert base64.b64decode(str(row["href"]).split(",", 1)[1]) == csv_bytes(df)


def test_a_table_over_the_cap_is_formatted_only_past_the_cap(tmp_path, monkeypatch):
    written = []

    class Sink(_tables._CappedSink):
        def write(self, data):
            written.append(len(data))
            return super().write(data)

    monkeypatch.setattr(_tables, "_CappedSink", Sink)
    monkeypatch.setattr(_tables, "MAX_EMBED_BYTES", 1000)
    df = _table(200_000)
    (row,) = _tables.table_downloads({"regions": df}, None, tmp_path / "r.html")
    assert row["href"] is None
    assert sum(written) < len(csv_bytes(df)) // 4  # stopped soon after the cap


def test_a_table_over_the_cap_links_the_studys_copy_with_its_size(tmp_path, monkeypatch):
    df = _table(4000)
    study = SimpleNamespace(output=tmp_path / "study")
    monkeypatch.setattr(_tables, "MAX_EMBED_BYTES", 1000)
    (row,) = _tables.table_downloads({"regions": df}, study, tmp_path / "out" / "r.html")
    assert row["href"] is None and row["elsewhere"] == "see the study's tables folder"
    (study.output / "tables").mkdir(parents=True)
    (study.output / "tables" / "regions.csv").write_bytes(csv_bytes(df))
    (row,) = _tables.table_downloads({"regions": df}, study, tmp_path / "out" / "r.html")
    assert row["href"] == "../study/tables/regions.csv" and row["linked"]
    assert row["size"] == f"{len(csv_bytes(df)) / 1024:.1f} KB"
