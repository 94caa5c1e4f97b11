"""The tables section: each measurement table as a CSV download, embedded in the page
or, when large, linked.

An embedded table is kept as the CSV bytes written (:class:`EmbeddedCSV`) and base64-encoded a
piece at a time as the page is written: the page never holds the CSV as one string, nor its
base64 text (a third larger) and the copies made of it while encoding and writing it.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

from ecoseg.measure.tables import write_csv_bytes

__all__ = ["MAX_EMBED_BYTES", "TABLE_INFO", "TABLE_ORDER", "EmbeddedCSV", "table_downloads"]


TABLE_ORDER = ("regions", "tracks", "counts", "maxn", "cover")


TABLE_INFO = {
    "regions": "one row per object per frame: area, centroid, box, shape",
    "tracks": "one row per track: when it was seen, path length, speeds, mean area",
    "counts": "one row per frame and class: individuals in frame",
    "maxn": "one row per video and class: MaxN and when it occurs",
    "cover": "one row per frame and class: fraction of the frame covered",
}


MAX_EMBED_BYTES = 24 * 1024 * 1024  # larger CSVs are linked, not embedded


def table_downloads(tables, study, out: Path) -> list[dict[str, Any]]:
    """One row of the tables section per table: embedded as its CSV bytes when they fit in
    :data:`MAX_EMBED_BYTES`; else linked to the study's copy (``study.output/tables``) with
    that file's size, or, with no copy, said to be too large. A table's CSV is formatted
    only until it passes the cap: an hour's regions table is never formatted whole here.
    """
    rows = []
    names = [t for t in TABLE_ORDER if t in tables] + sorted(
        t for t in tables if t not in TABLE_ORDER
    )
    for name in names:
        df = tables[name]
        data = _CappedSink(MAX_EMBED_BYTES)
        try:
            write_csv_bytes(df, data)
        except _OverCap:
            data.parts.clear()
        units = (df.attrs or {}).get("units", {})
        columns = [{"name": c, "unit": units.get(c, "")} for c in df.columns]
        row = {
            "name": name,
            "info": TABLE_INFO.get(name, ""),
            "rows": len(df),
            "columns": columns,
            "size": _bytes(data.size),
            "href": None,
            "file": f"{name}.csv",
        }
        target = None if study is None else study.output / "tables" / f"{name}.csv"
        if data.size <= MAX_EMBED_BYTES:
            row["href"] = EmbeddedCSV(data.parts)
        elif target is not None and target.exists():
            row["href"] = Path(os.path.relpath(target, out.parent)).as_posix()
            row["size"] = _bytes(target.stat().st_size)
            row["linked"] = True
        else:
            row["size"] = f"over {_bytes(MAX_EMBED_BYTES)}"
            row["elsewhere"] = (
                "see the study's tables folder" if study is not None else "ecoseg measure writes it"
            )
        rows.append(row)
    return rows


class _OverCap(Exception):
    """Raised by :class:`_CappedSink` at the first write past its cap: stop formatting."""


class _CappedSink(io.RawIOBase):
    """A binary file that keeps the bytes written into it, up to ``cap``: a write past the cap
    raises :class:`_OverCap` (``size`` is then more than ``cap``)."""

    def __init__(self, cap: int):
        super().__init__()
        self.cap, self.size, self.parts = cap, 0, []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.cap:
            raise _OverCap
        self.parts.append(bytes(data))
        return len(data)


class EmbeddedCSV:
    """A CSV as a ``data:`` URI (``data:text/csv;base64,...``), kept as the CSV's bytes.

    Iterating gives the URI's text in pieces (the page's template writes them one by one),
    ``str()`` the whole URI; both the same text as ``"data:text/csv;base64," +
    base64.b64encode(b"".join(parts)).decode("ascii")``.

    Examples
    --------
    >>> uri = EmbeddedCSV([b"class,", b"maxn\\n", b"fish,3\\n"])
    >>> str(uri)
    'data:text/csv;base64,Y2xhc3MsbWF4bgpmaXNoLDMK'
    >>> base64.b64decode(str(uri).split(",", 1)[1])
    b'class,maxn\\nfish,3\\n'
    """

    PREFIX = "data:text/csv;base64,"

    def __init__(self, parts: list[bytes]):
        self._parts = parts

    def __iter__(self):
        yield self.PREFIX
        rest = b""
        for part in self._parts:
            data = rest + part if rest else part
            whole = len(data) - len(data) % 3  # base64 of whole 3-byte groups joins up
            if whole:
                yield base64.b64encode(data[:whole]).decode("ascii")
            rest = data[whole:]
        if rest:
            yield base64.b64encode(rest).decode("ascii")

    def __str__(self) -> str:
        return "".join(self)


def _bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover
