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
    "tracks": "one row per individual: when it was seen, path length, speeds, mean area",
    "counts": "one row per frame and class: individuals in frame",
    "maxn": "one row per video and class: MaxN and when it occurs",
    "cover": "one row per frame and class: fraction of the frame covered",
}


MAX_EMBED_BYTES = 24 * 1024 * 1024  # larger CSVs are linked, not embedded


def table_downloads(tables, study, out: Path) -> list[dict[str, Any]]:
    rows = []
    names = [t for t in TABLE_ORDER if t in tables] + sorted(
        t for t in tables if t not in TABLE_ORDER
    )
    for name in names:
        df = tables[name]
        data = _CappedSink(MAX_EMBED_BYTES)  # a linked table's CSV is counted, not held
        write_csv_bytes(df, data)
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
        if data.size <= MAX_EMBED_BYTES:
            row["href"] = EmbeddedCSV(data.parts)
        elif study is not None and (study.output / "tables" / f"{name}.csv").exists():
            target = study.output / "tables" / f"{name}.csv"
            row["href"] = Path(os.path.relpath(target, out.parent)).as_posix()
            row["linked"] = True
        rows.append(row)
    return rows


class _CappedSink(io.RawIOBase):
    """A binary file that counts the bytes written into it and keeps them up to ``cap``."""

    def __init__(self, cap: int):
        super().__init__()
        self.cap, self.size, self._parts = cap, 0, []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.size += len(data)
        if self.size <= self.cap:
            self._parts.append(bytes(data))
        else:
            self._parts.clear()
        return len(data)

    @property
    def parts(self) -> list[bytes]:
        """The bytes written, in the pieces they were written in (none over ``cap``)."""
        return self._parts


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
