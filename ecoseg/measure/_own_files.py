"""The table files ecoseg rewrites, told from a user's own file of the same name
(:func:`check_own_table`): ``ecoseg measure --overwrite`` replaces an earlier run's tables, never
a user's ``counts.csv`` or ``tables.json``, and
:func:`~ecoseg.measure.tables.write_table` (a study's tables) and ``ecoseg batch``'s campaign
tables (:func:`~ecoseg.batch._inputs.check_own_tables`) never a user's file either; each is
refused, naming it and why.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from ecoseg.errors import ConfigError

__all__ = ["check_own_table"]

#: the first two columns of each table ecoseg measure writes (its header starts with them)
_FIRST_COLUMNS = {
    "regions": ("frame", "time_s"),
    "tracks": ("object_id", "class"),
    "counts": ("frame", "time_s"),
    "maxn": ("class", "maxn"),
    "cover": ("frame", "time_s"),
}


def _first_line(path: str | os.PathLike) -> str:
    """The first line of the CSV file ``path`` as its header test reads it: of its first 256
    bytes, without a UTF-8 byte order mark (a spreadsheet's), decoded as UTF-8 (a byte that
    is not: U+FFFD), not stripped; ``""`` for an empty file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.csv"
    >>> _ = path.write_bytes(b"\\xef\\xbb\\xbfsite,diver\\r\\nA,Kim\\n")
    >>> _first_line(path)
    'site,diver\\r'
    """
    with open(path, "rb") as f:
        head = f.read(256).split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf")
    return head.decode("utf-8", "replace")


def _not_ours(path: Path, first: Sequence[str]) -> str | None:
    """Why the file ``path`` is not one ecoseg wrote (a table whose columns start with
    ``first``), or None (it is, or is empty)."""
    if path.stat().st_size == 0:
        return None  # nothing to lose
    suffix = path.suffix
    if path.name == "tables.json":
        try:
            meta = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            return "not JSON"
        if not isinstance(meta, dict) or "tables" not in meta:
            return "no 'tables' key"
        return None
    if suffix == ".csv":
        line = _first_line(path).strip()
        if line.split(",")[: len(first)] == list(first):
            return None
        return f"its first line is {line[:60]!r}, not '{','.join(first)},...'"
    import pyarrow.parquet as pq

    try:
        columns = pq.read_schema(path).names
    except Exception:  # noqa: BLE001 - any unreadable file is not one of ours
        return "not a Parquet file"
    if columns[: len(first)] == list(first):
        return None
    return f"its columns are {', '.join(columns[:3])[:60]!r}, not '{', '.join(first)}, ...'"


def check_own_table(
    path: str | os.PathLike,
    first: Sequence[str] | None = None,
    writer: str = "ecoseg measure",
    *,
    with_overwrite: bool = True,
) -> None:
    """Refuse, even with ``overwrite``, to replace ``path`` (``<table>.csv``,
    ``<table>.parquet`` or ``tables.json`` in the tables folder) when it is not a file
    ``writer`` wrote: a table's header starts with its first columns ``first`` (by default
    those of the table of that name ecoseg measure writes: its first two), ``tables.json``
    is a JSON object with ``tables``; an empty file holds nothing to lose. Nothing there, or
    an earlier run's file, passes. The refusal says "even with overwrite" where ``writer``
    has that option (``with_overwrite``: ``ecoseg measure``'s ``--overwrite``), else only
    that it will not replace the file (a study's tables, which it rewrites on each run).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "counts.csv").write_text("frame,time_s,class,count\\n")
    >>> check_own_table(out / "counts.csv")  # an earlier run's: replaced with overwrite
    >>> _ = (out / "counts.csv").write_text("site,diver,count\\nA,Kim,3\\n")
    >>> check_own_table(out / "counts.csv")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...counts.csv: exists and is not a table ecoseg measure wrote \
(its first line is 'site,diver,count', not 'frame,time_s,...'); refusing to replace it even with \
overwrite (move it away or choose another output folder)
    """
    path = Path(path)
    if not os.path.lexists(path):
        return
    if first is None and path.name != "tables.json":
        first = _FIRST_COLUMNS[path.stem]
    why = "not a file" if not path.is_file() else _not_ours(path, first or ())
    if why is not None:
        raise ConfigError(
            f"{os.fspath(path)}: exists and is not a table {writer} wrote ({why}); "
            f"refusing to replace it{' even with overwrite' if with_overwrite else ''} (move "
            "it away or choose another output folder)"
        )
