"""Writing a set of tables into a folder, all or none, as :func:`ecoseg.measure.measure` does.

:func:`write_tables` writes tables already made (``measure``'s, kept by the napari
*Measurements* widget) without measuring again; ``measure`` itself checks the folder with
:func:`table_targets` before it measures and writes with :func:`write_set`, so both refuse an
existing file and leave a folder as it was on a failure the same way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from ecoseg._checks import check_path_arg, check_switch
from ecoseg._paths import check_out_folder, check_out_suffix, check_overwrite
from ecoseg._warn import warn
from ecoseg.errors import ConfigError, InterruptedTablesWarning
from ecoseg.measure._origin import path_from
from ecoseg.measure._own_files import check_own_table
from ecoseg.measure._tables_lock import tables_lock
from ecoseg.measure.tables import INCOMPLETE, TABLES, save_table

__all__ = [
    "FORMATS",
    "check_formats",
    "interrupted_warning",
    "table_targets",
    "tables_metadata",
    "write_set",
    "write_tables",
]

#: the table file formats, in the order measure writes them by default
FORMATS = ("parquet", "csv")


def write_tables(
    tables: dict[str, pd.DataFrame],
    out,
    *,
    formats: Sequence[str] = FORMATS,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``tables`` (:func:`~ecoseg.measure.measure`'s, of a store) into the folder
    ``out`` exactly as ``measure(store, out)`` writes them, without measuring again.

    The same checks and the same files: ``<table>.<format>`` and ``tables.json``, all or
    none, an existing file refused unless ``overwrite`` (a user's own file named like a
    table even then), one writer into a folder at a time. ``tables`` are left as they are
    (the files record ``store_from_tables``, where the store is seen from ``out``).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ConfigError
        An unknown or no format, a file exists and ``overwrite`` is false (nothing is
        written then), or another measure writes into ``out``.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(96, 64))
    >>> tables = ecoseg.measure(clip.truth)
    >>> out = Path(tempfile.mkdtemp()) / "tables"
    >>> [p.name for p in write_tables(tables, out, formats=["csv"])][:2]
    ['regions.csv', 'tracks.csv']
    >>> write_tables(tables, out, formats=["csv"])
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: ...regions.csv: already exists; pass overwrite=True ...
    """
    formats = check_formats(formats, out)
    overwrite = check_switch(overwrite, "write_tables: overwrite")
    check_path_arg(out, "write_tables: out", "a path to the tables' folder")
    check_out_folder(out)
    check_out_suffix(out, "", f"the tables are a folder ({', '.join(TABLES)})")
    with tables_lock(out):  # one writer into a folder at a time: a second one is refused
        interrupted = (Path(out) / INCOMPLETE).is_file()
        targets = table_targets(out, formats, overwrite or interrupted)  # a half set: replaced
        copies = {}
        for name, df in tables.items():  # a store moved with its tables: still theirs
            copies[name] = df.copy(deep=False)
            copies[name].attrs = {
                **df.attrs,
                "store_from_tables": path_from(out, df.attrs.get("store_location")),
            }
        write_set(copies, targets, Path(out))
    if interrupted:
        interrupted_warning(out)
    return targets


def interrupted_warning(out) -> None:
    """Say that the half set of tables an interrupted measure left in ``out`` was replaced."""
    warn(
        f"{os.fspath(out)}: an earlier measure into it was interrupted while putting its "
        "tables in place; they were not one set and are replaced",
        InterruptedTablesWarning,
    )


def check_formats(formats, out) -> tuple[str, ...]:
    """The table formats asked for, as written in file names: ``"CSV"`` and ``".csv"`` are
    ``"csv"``; none at all for an ``out`` folder is refused (only ``tables.json`` was written
    there, without a word)."""
    given = (formats,) if isinstance(formats, str) else tuple(formats)
    if not given and out is not None:
        raise ConfigError(
            f"measure: formats is empty, so no table file would be written; give one or both "
            f"of {', '.join(FORMATS)}"
        )
    for f in given:
        if not isinstance(f, str) or f.lower().removeprefix(".") not in FORMATS:
            raise ConfigError(f"unknown table format {f!r} (use {', '.join(FORMATS)})")
    return tuple(dict.fromkeys(f.lower().removeprefix(".") for f in given))


def table_targets(out, formats, overwrite) -> list[Path]:
    if out is None:
        return []
    out = Path(out)
    check_out_folder(out)
    paths = [out / f"{name}.{fmt}" for name in TABLES for fmt in formats] + [out / "tables.json"]
    for p in paths:
        check_own_table(p)  # first: --overwrite would not help
        check_overwrite(p, overwrite)
    return paths


def write_set(
    tables: dict[str, pd.DataFrame],
    targets: list[Path],
    out: Path,
    save: Callable[[], None] | None = None,
) -> None:
    """Write the tables all or none: each to a hidden name beside its target first (an
    interrupted or failed run removes them, leaving the folder as it was), then all renamed
    into place with ``tables.incomplete`` beside them meanwhile (a run stopped in those
    milliseconds leaves it, and the next run replaces the half set without --overwrite).
    ``save`` (saving into the store the calibration the tables record) is called once they
    are all written, before the first is renamed: a write that fails leaves the store as
    it was, and a run stopped after the save leaves ``tables.incomplete``."""
    out.mkdir(parents=True, exist_ok=True)
    staged = [path.with_name(f".{path.name}.partial") for path in targets]
    try:
        for path, tmp in zip(targets, staged):
            if path.name == "tables.json":
                meta = tables_metadata(tables)
                tmp.write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n")
            else:
                save_table(tables[path.stem], tmp, path.suffix[1:])
        marker = out / INCOMPLETE
        ours = not marker.exists()  # not an earlier run's, beside its half set
        marker.write_text(
            "ecoseg measure was stopped while putting its tables in place: the tables in this "
            "folder are not one set; measure the store again (no --overwrite needed)\n"
        )
        if save is not None:
            try:
                save()
            except BaseException:  # nothing renamed yet: the folder is as it was
                if ours:
                    marker.unlink(missing_ok=True)
                raise
        for path, tmp in zip(targets, staged):
            os.replace(tmp, path)
        marker.unlink()
    finally:  # disk full, interrupted: no half-written file is left (nor a killed run's)
        names = [f"{t}.{f}" for t in TABLES for f in FORMATS] + ["tables.json"]
        for name in names:
            (out / f".{name}.partial").unlink(missing_ok=True)


def tables_metadata(tables) -> dict:
    first = next(iter(tables.values()))
    return {
        "ecoseg_version": first.attrs.get("ecoseg_version"),
        "store": first.attrs.get("store"),
        "store_location": first.attrs.get("store_location"),
        "store_from_tables": first.attrs.get("store_from_tables"),
        "store_fingerprint": first.attrs.get("store_fingerprint"),
        "store_complete": first.attrs.get("store_complete"),
        "calibration": first.attrs.get("calibration"),
        "tables": {
            name: {
                "rows": len(df),
                "units": df.attrs.get("units", {}),
                # a CSV of no rows says no types: read_table takes them from here
                "dtypes": {str(c): str(t) for c, t in df.dtypes.items()},
                "attrs": {k: v for k, v in df.attrs.items() if k != "units"},
            }
            for name, df in tables.items()
        },
    }
