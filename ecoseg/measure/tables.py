"""Table files: read, write (deterministic bytes) and combine the measurement tables.

- :func:`read_table` reads a table written by :func:`ecoseg.measure` or :func:`write_table`
  (Parquet or CSV) with its ``attrs`` (units); :func:`read_table_folder` every table of a
  folder ``ecoseg measure`` (or ``ecoseg study``) wrote;
- :func:`write_table` writes ``folder/<name>.parquet`` and ``.csv`` with the same bytes for the
  same table, and returns their sha256 (the study manifest records them);
- :func:`combine_tables` stacks per-video tables into one, with ``video``, ``site``,
  ``transect``, ``date`` and ``depth_m`` columns first (:data:`META_COLUMNS`);
- :func:`csv_bytes` is the CSV text :func:`write_table` writes (the report embeds it),
  :func:`write_csv_bytes` writes it into an open file a few thousand rows at a time;
  :func:`save_table` writes one file in the format every table file of ecoseg has;
- :func:`unclean_class_names` finds the class names of a table file an older ecoseg wrote in
  another spelling than the one :func:`~ecoseg.provenance.clean_class_name` gives;
- :func:`one_spelling` puts a table's class names in that one spelling (what :func:`read_table`
  does to a file, and the report to the DataFrames it is given).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecoseg._checks import check_path_arg
from ecoseg._class_names import set_class_words
from ecoseg._hashing import sha256_file
from ecoseg._warn import warn
from ecoseg.errors import ClassNameWarning, ConfigError
from ecoseg.measure._own_files import check_own_table
from ecoseg.measure.counts import COUNT_UNITS, MAXN_UNITS, maxn_table
from ecoseg.provenance import case_clashes, clean_class_name

__all__ = [
    "INCOMPLETE",
    "META_COLUMNS",
    "TABLES",
    "TEXT_COLUMNS",
    "WHOLE_NUMBER_COLUMNS",
    "combine_tables",
    "csv_bytes",
    "one_spelling",
    "read_table",
    "read_table_folder",
    "save_table",
    "unclean_class_names",
    "write_csv_bytes",
    "write_table",
]

#: Columns :func:`combine_tables` puts first: which video a row is from and where it was filmed.
META_COLUMNS = ("video", "site", "transect", "date", "depth_m")

#: Text columns: :func:`read_table` reads them from a CSV as written (a class ``"NA"`` or
#: ``"0123"``, a transect ``"01"``), never as numbers or missing values; only an empty field
#: (a missing site) is missing.
TEXT_COLUMNS = ("class", "class_source", "video", "site", "transect", "date")

#: The file :func:`ecoseg.measure` leaves in its output folder while it renames its tables
#: into place: found there, the tables beside it are of a run stopped then, not one set.
INCOMPLETE = "tables.incomplete"

#: Names of the tables :func:`ecoseg.measure` returns, in order.
TABLES = ("regions", "tracks", "counts", "maxn", "cover")

#: The whole-number (int64) columns of those tables; their other columns but
#: :data:`TEXT_COLUMNS` are float64 (``maxn``'s ``frame``: nullable Int64). How
#: :func:`read_table` types a CSV of one of them with no rows and no ``tables.json`` beside it
#: (a study's combined tables, a batch's campaign tables).
WHOLE_NUMBER_COLUMNS = (
    "frame", "object_id", "area_px", "bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1",
    "first_frame", "last_frame", "frames_present", "count", "maxn", "cover_px",
)  # fmt: skip

# what pandas reads as missing by default, kept for the numeric columns
_NA_STRINGS = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


#: The files a table is read from (:func:`read_table`).
_SUFFIXES = (".parquet", ".csv")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by :func:`ecoseg.measure` (Parquet or CSV) with its ``attrs``.

    Parquet files carry their attrs; for a CSV they come from ``tables.json`` beside it, and
    so do the column types of a CSV of no rows (a header alone reads as text; a store without
    objects gives such tables); without one, a CSV of no rows of one of :data:`TABLES` (also
    a batch's ``campaign-counts.csv``) takes the types of the columns of those tables
    (:data:`WHOLE_NUMBER_COLUMNS`, else float64). Its :data:`TEXT_COLUMNS` are read as
    written (a class ``"0123"`` or ``"NA"`` stays text).

    Class names are read in the one spelling (:func:`~ecoseg.provenance.clean_class_name`:
    Unicode NFC, one space), also from a table an older ecoseg wrote with a name in two
    spellings (NFC and NFD ``"Ōtaki"``, ``"sea  urchin"``): its rows of ``counts`` and
    ``cover`` for one frame and name are added up (exact: a pixel and a track belong to one
    object); a ``maxn`` table cannot be added up (the most at once of both spellings is not
    known from it): its two rows of one video and name (also when they are already in one
    spelling) are rebuilt from the ``counts`` table beside it (``counts.csv`` beside
    ``maxn.csv``, ``counts.parquet`` beside ``maxn.parquet``; see :func:`one_spelling`) with
    a :class:`~ecoseg.errors.ClassNameWarning` naming the file, and kept apart with one (measure
    the store again) where no counts table beside it covers them.

    Parameters
    ----------
    path : str or Path
        ``<folder>/<table>.parquet`` or ``<folder>/<table>.csv``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ConfigError
        The file does not exist, or is a folder or no ``.parquet`` or ``.csv`` file.
    TypeError
        ``path`` is no path.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> out = tempfile.mkdtemp()
    >>> _ = ecoseg.measure(clip.truth, out)
    >>> read_table(f"{out}/tracks.csv").attrs["units"]["duration_s"]
    's'
    """
    check_path_arg(path, "read_table: path", "a table file (.parquet or .csv)")
    path = Path(path)
    if not path.exists():
        there = [
            f"{path.name}{x}" for x in _SUFFIXES if (path.parent / f"{path.name}{x}").is_file()
        ]
        raise ConfigError(
            f"{path}: no such table" + (f" (did you mean {there[0]}?)" if there else "")
        )
    if path.is_dir():  # IsADirectoryError from pandas
        store = (path / "zarr.json").is_file()
        raise ConfigError(
            f"{path}: is a folder, not a table file (.parquet or .csv); "
            + (
                "a mask store: ecoseg.measure(store) gives its tables"
                if store
                else "ecoseg.measure.tables.read_table_folder(folder) reads the tables of a folder"
            )
        )
    if path.suffix.lower() not in _SUFFIXES:  # a video: a UnicodeDecodeError from pandas
        raise ConfigError(
            f"{path}: not a table file (.parquet or .csv, as ecoseg measure writes them)"
        )
    if path.suffix.lower() == ".parquet":
        df = pd.read_parquet(path, engine="pyarrow")
        return one_spelling(df, path.stem, path, counts=_counts_beside(df, path))
    header = pd.read_csv(path, nrows=0).columns
    text = [c for c in header if c in TEXT_COLUMNS]
    df = pd.read_csv(
        path,
        dtype=dict.fromkeys(text, str),
        keep_default_na=False,
        na_values={c: [""] if c in text else list(_NA_STRINGS) for c in header},
    )
    meta_path = path.with_name("tables.json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta = meta.get("tables", {}).get(path.stem)
    if df.empty:  # a header alone reads as text: the types the table was written with
        dtypes = (meta or {}).get("dtypes") or _known_dtypes(path.stem, header)
        df = df.astype({c: dtypes[c] for c in df.columns if c in dtypes})
    if meta:
        df.attrs.update(meta.get("attrs", {}))
        df.attrs["units"] = meta.get("units", {})
    if "class" in df.columns:
        df["class"] = df["class"].astype(str)
    if path.stem == "maxn" and "frame" in df.columns:
        df["frame"] = df["frame"].astype("Int64")
    return one_spelling(df, path.stem, path, counts=_counts_beside(df, path))


def read_table_folder(folder: str | os.PathLike, who: str = "tables") -> dict[str, pd.DataFrame]:
    """Every table of :data:`TABLES` in a folder ``ecoseg measure -o DIR`` (or a study's
    ``tables/``) wrote, by name, each read by :func:`read_table` (its Parquet file, else its
    CSV): the tables :func:`ecoseg.measure` returned when it wrote them.

    Parameters
    ----------
    folder : str or Path
    who : str
        The caller's name for the folder, said before it in a refusal (``"report: tables"``).

    Raises
    ------
    ConfigError
        One line naming the folder: it is not a folder, holds none of the tables, or holds
        the half-replaced set of a measure that was stopped (``tables.incomplete``).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> out = tempfile.mkdtemp()
    >>> _ = ecoseg.measure(clip.truth, out)
    >>> list(read_table_folder(out))
    ['regions', 'tracks', 'counts', 'maxn', 'cover']
    >>> read_table_folder(clip.video, "report: tables")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: report: tables: .../video.mp4: not a folder; give the folder ...
    """
    path = Path(folder)
    written = "the folder ecoseg measure -o DIR wrote the tables into"
    if not path.is_dir():
        missing = "no such folder" if not path.exists() else "not a folder"
        raise ConfigError(f"{who}: {path}: {missing}; give {written}")
    if (path / INCOMPLETE).is_file():
        raise ConfigError(
            f"{who}: {path}: holds the tables of an ecoseg measure stopped while putting them "
            f"in place ({INCOMPLETE}), not one set; measure the store again"
        )
    files = {}
    for name in TABLES:
        found = [path / f"{name}.{fmt}" for fmt in ("parquet", "csv")]
        found = [f for f in found if f.is_file()]
        if found:
            files[name] = found[0]
    if not files:
        raise ConfigError(
            f"{who}: {path}: no tables in it (regions, tracks, counts, maxn or cover, "
            f".parquet or .csv); give {written}"
        )
    return {name: read_table(file) for name, file in files.items()}


def _known_dtypes(stem: str, columns) -> dict[str, str]:
    """The types of ``columns`` of table ``stem`` (``counts``, ``campaign-counts``) when it is
    one of :data:`TABLES`, else none: int64 for :data:`WHOLE_NUMBER_COLUMNS`, float64 for the
    others but the text columns (left as read)."""
    if stem.removeprefix("campaign-") not in TABLES:
        return {}
    return {
        c: "int64" if c in WHOLE_NUMBER_COLUMNS else "float64"
        for c in columns
        if c not in TEXT_COLUMNS
    }


def _counts_beside(df: pd.DataFrame, path: Path) -> pd.DataFrame | None:
    """The counts table beside ``path`` (same folder and format) when ``df`` is a ``maxn``
    table with two rows of one video and name (:func:`one_spelling` rebuilds them from it);
    ``None`` for any other table, or when there is none."""
    beside = path.with_name(f"counts{path.suffix}")
    if path.stem != "maxn" or not beside.exists() or not _split_names(df):
        return None
    return read_table(beside)


def _split_names(maxn: pd.DataFrame) -> list[str]:
    """The class names with two rows of one video (and site, ...) in ``maxn`` once in the one
    spelling, sorted."""
    if "class" not in maxn.columns:
        return []
    keys = [c for c in META_COLUMNS if c in maxn.columns]
    spelled = maxn.assign(**{"class": maxn["class"].map(clean_class_name)})
    return sorted(set(spelled.loc[spelled.duplicated([*keys, "class"], keep=False), "class"]))


def unclean_class_names(path: str | os.PathLike) -> list[str]:
    """The class names of a table file not in the one spelling ecoseg writes (an older ecoseg
    wrote them as the store held them), sorted; ``[]`` for a table of this version.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_table(pd.DataFrame({"class": ["sea  urchin", "wrasse"]}), folder, "maxn")
    >>> unclean_class_names(f"{folder}/maxn.csv")
    ['sea  urchin']
    """
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        if "class" not in pq.read_schema(path).names:
            return []
        names = pd.read_parquet(path, columns=["class"], engine="pyarrow")["class"]
    else:
        if "class" not in pd.read_csv(path, nrows=0).columns:
            return []
        names = pd.read_csv(path, usecols=["class"], dtype=str, keep_default_na=False)["class"]
    return sorted(n for n in set(names.dropna().astype(str)) if clean_class_name(n) != n)


# the per-class tables: their key columns and the columns added up over two spellings
_PER_CLASS = {
    "counts": (("frame", "class"), ("count",)),
    "cover": (("frame", "class"), ("cover_px", "cover_fraction", "cover_mm2")),
}


def one_spelling(
    df: pd.DataFrame,
    name: str,
    where: Any = None,
    *,
    counts: pd.DataFrame | None = None,
    refuse: bool = False,
) -> pd.DataFrame:
    """``df`` with its class names in the one spelling ecoseg counts, per-class rows merged.

    Every ``class`` is :func:`~ecoseg.provenance.clean_class_name` (Unicode NFC, one space).
    Rows of a ``counts`` or ``cover`` table that then share a frame and a name (and a video,
    site, ...: :data:`META_COLUMNS`) are added up (exact: a pixel and a track belong to one
    object). A ``maxn`` table cannot be added up (the most at once of both spellings is not
    known from it): when it has two rows of one video and name (the one place such a split
    MaxN is found), they are rebuilt from ``counts`` if given and it covers them (with
    :func:`~ecoseg.measure.counts.maxn_table`, as :func:`ecoseg.measure` computes MaxN), with
    a :class:`~ecoseg.errors.ClassNameWarning` saying so; else they are kept apart with a
    :class:`~ecoseg.errors.ClassNameWarning` (``refuse=False``) or refused. ``df`` itself is
    left as it is.

    Parameters
    ----------
    df : pandas.DataFrame
        A measurement table (one without a ``class`` column is returned as it is).
    name : str
        The table's name (``counts``, ``cover``, ``maxn``, ...): what is added up.
    where : str or Path, optional
        What a warning or error names (the file, or the table), default ``table 'name'``.
    counts : pandas.DataFrame, optional
        For a ``maxn`` table: the counts table of the same videos (``frame``, ``time_s``,
        ``class``, ``count``, and a ``video`` column when ``df`` has one), in any spelling.
    refuse : bool
        Raise :class:`~ecoseg.errors.ConfigError` for a split MaxN ``counts`` cannot rebuild,
        instead of warning.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself when its names are already in the one spelling (and a ``maxn`` table has
        one row of a video and name), else a new table with the same columns and ``attrs``.

    Raises
    ------
    ConfigError
        ``refuse`` and a split MaxN that ``counts`` cannot rebuild.

    Examples
    --------
    >>> counts = pd.DataFrame({"frame": [0, 0, 1, 1], "time_s": [0.0, 0.0, 0.5, 0.5],
    ...                        "class": ["sea  urchin", "sea urchin"] * 2, "count": [1, 2, 1, 1]})
    >>> one_spelling(counts, "counts")[["frame", "class", "count"]].values.tolist()
    [[0, 'sea urchin', 3], [1, 'sea urchin', 2]]
    >>> maxn = pd.DataFrame({"class": ["sea  urchin", "sea urchin"], "maxn": [1, 2]})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     one_spelling(maxn, "maxn", counts=counts).values.tolist()
    [['sea urchin', 3]]
    >>> str(caught[0].message)
    "table 'maxn': ... (sea urchin): their MaxN rows were rebuilt from the counts table"
    """
    if "class" not in df.columns:
        return df
    where = where if where is not None else f"table {name!r}"
    keys = [c for c in META_COLUMNS if c in df.columns]
    spelled = df["class"].map(clean_class_name)
    if not spelled.equals(df["class"]):
        attrs = dict(df.attrs)
        df = _added_up(df.assign(**{"class": spelled}), name, keys)
        df.attrs = attrs
    if name != "maxn":
        return df
    split = _split_names(df)
    if not split:
        return df
    told = f"an older ecoseg wrote class names in two spellings of one name ({', '.join(split)})"
    rebuilt = _maxn_from_counts(df, keys, counts) if counts is not None else None
    if rebuilt is not None:
        warn(
            f"{where}: {told}: their MaxN rows were rebuilt from the counts table",
            ClassNameWarning,
        )
        return rebuilt
    if refuse:
        raise ConfigError(
            f"{where} has two rows of one video for {', '.join(split)} (class names an older "
            "ecoseg wrote in two spellings) and no counts table of those videos to rebuild "
            "their MaxN from: give the counts table too, or measure the stores again"
        )
    warn(
        f"{where}: {told}: their MaxN rows are kept apart; measure the store again for one MaxN",
        ClassNameWarning,
    )
    return df


def _added_up(df: pd.DataFrame, name: str, keys: list[str]) -> pd.DataFrame:
    """A respelled ``counts`` or ``cover`` table with the rows of one frame and name added up."""
    by, summed = _PER_CLASS.get(name, ((), ()))
    if not by or not set(by) <= set(df.columns) or not df.duplicated([*keys, *by]).any():
        return df
    columns = list(df.columns)
    group = df.groupby([*keys, *by], sort=False, dropna=False)
    added = [c for c in summed if c in columns]
    kept = group[[c for c in columns if c not in [*keys, *by, *added]]].first()
    return kept.join(group[added].sum(min_count=1)).reset_index()[columns]


def _maxn_from_counts(
    maxn: pd.DataFrame, keys: list[str], counts: pd.DataFrame
) -> pd.DataFrame | None:
    """``maxn`` with each set of rows of one video and name made one, its MaxN (and frame,
    time_s) computed from ``counts`` as :func:`ecoseg.measure` computes it; ``None`` when
    ``counts`` cannot (no rows of that video and name, a column missing, or a column of
    ``maxn`` that MaxN from counts does not give)."""
    video = ["video"] if "video" in keys else []
    if (
        set(maxn.columns) - {*META_COLUMNS, *MAXN_UNITS}
        or not {*video, *COUNT_UNITS} <= set(counts.columns)
        or (not video and "video" in counts.columns and counts["video"].nunique() > 1)
    ):
        return None
    counts = one_spelling(counts, "counts")
    out = maxn.copy()
    twice = out.duplicated([*keys, "class"], keep=False)
    drop = []
    for _, rows in out[twice].groupby([*keys, "class"], sort=False, dropna=False):
        first = rows.iloc[0]
        seen = counts["class"] == first["class"]
        for k in video:
            seen &= counts[k] == first[k]
        if not seen.any():
            return None
        one = maxn_table(counts.loc[seen, list(COUNT_UNITS)]).iloc[0]
        for c in set(MAXN_UNITS) & set(out.columns) - {"class"}:
            out.loc[rows.index[0], c] = one[c]
        drop += list(rows.index[1:])
    out = out.drop(index=drop).reset_index(drop=True)
    out.attrs = dict(maxn.attrs)
    return out


#: Rows formatted at a time when writing a CSV (the cells' text is about 70 bytes each).
_CSV_ROWS = 1000


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The CSV bytes of a table, exactly as :func:`write_table` writes them.

    Examples
    --------
    >>> csv_bytes(pd.DataFrame({"class": ["fish"], "maxn": [3]}))
    b'class,maxn\\nfish,3\\n'
    """
    buffer = io.BytesIO()
    write_csv_bytes(df, buffer)
    return buffer.getvalue()


def write_csv_bytes(df: pd.DataFrame, file) -> None:
    """Write :func:`csv_bytes` of ``df`` into ``file``, an open binary file, a few thousand
    rows at a time: the text of a long video's regions table is several times the table, so
    it is never held whole (nor twice, as text and as bytes).

    Examples
    --------
    >>> import io
    >>> f = io.BytesIO()
    >>> write_csv_bytes(pd.DataFrame({"class": ["fish"], "maxn": [3]}), f)
    >>> f.getvalue()
    b'class,maxn\\nfish,3\\n'
    """
    df.to_csv(
        file,
        index=False,
        lineterminator="\n",
        na_rep="",
        encoding="utf-8",
        mode="wb",
        chunksize=_CSV_ROWS,
    )


def save_table(df: pd.DataFrame, path: str | os.PathLike, fmt: str) -> None:
    """Write ``df`` to ``path`` in format ``fmt`` (``parquet`` or ``csv``), with the bytes every
    table file of ecoseg has (:func:`write_table`, :func:`ecoseg.measure`): the same table gives
    the same file, whichever command wrote it.

    Examples
    --------
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/t.csv"
    >>> save_table(pd.DataFrame({"maxn": [3]}), path, "csv")
    >>> open(path, "rb").read()
    b'maxn\\n3\\n'
    """
    if fmt == "parquet":
        df.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
    elif fmt == "csv":
        with open(path, "wb") as file:
            write_csv_bytes(df, file)
    else:
        raise ConfigError(f"unknown table format {fmt!r} (use parquet or csv)")


def write_table(
    df: pd.DataFrame,
    folder: str | os.PathLike,
    name: str,
    formats: Sequence[str] = ("parquet", "csv"),
) -> dict[str, str]:
    """Write ``df`` as ``folder/name.parquet`` and ``.csv`` with deterministic bytes.

    Each file is written to a temporary name and moved into place, so a reader never sees
    half a table. A file there that ecoseg did not write (its columns do not start with the
    table's first two: a user's own ``counts.csv``) is refused before any file is written,
    naming it (:func:`~ecoseg.measure._own_files.check_own_table`, the check of
    :func:`ecoseg.measure`'s output); an earlier run's file is replaced. A table with no
    columns is refused (nothing to tell such a file from a user's own by).

    Parameters
    ----------
    df : pandas.DataFrame
    folder : str or Path
        Created if needed.
    name : str
        The table name (file stem).
    formats : sequence of {"parquet", "csv"}

    Returns
    -------
    dict of str to str
        The sha256 of each written file by format.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> sha = write_table(pd.DataFrame({"maxn": [3]}), folder, "maxn")
    >>> sorted(sha), read_table(f"{folder}/maxn.parquet")["maxn"].tolist()
    (['csv', 'parquet'], [3])
    >>> _ = open(f"{folder}/maxn.csv", "w").write("site,diver\\nA,Kim\\n")
    >>> write_table(pd.DataFrame({"maxn": [4]}), folder, "maxn")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...maxn.csv: exists and is not a table ecoseg wrote (its first \
line is 'site,diver', not 'maxn,...'); refusing to replace it (move it away or choose another \
output folder)
    """
    folder = Path(folder)
    if len(df.columns) == 0:  # its files' header: nothing to check a file there against
        raise ConfigError(f"{folder / name}: table {name!r} has no columns; nothing written")
    targets = {fmt: folder / f"{name}.{fmt}" for fmt in formats}
    for target in targets.values():  # all first: none of the set replaced, then refused
        check_own_table(
            target, tuple(map(str, df.columns[:2])), writer="ecoseg", with_overwrite=False
        )
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for fmt, target in targets.items():
        tmp = folder / f".{name}.{fmt}.tmp"
        save_table(df, tmp, fmt)
        os.replace(tmp, target)
        written[fmt] = sha256_file(target)
    return written


def combine_tables(
    per_video: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    release: bool = False,
) -> dict[str, Any]:
    """Stack per-video tables into one table each, with study metadata columns first.

    Parameters
    ----------
    per_video : mapping
        ``{video name: {table name: DataFrame}}``, in study order.
    meta : mapping, optional
        ``{video name: {"site": ..., "transect": ..., "date": ..., "depth_m": ...}}``.
    release : bool
        Take each video's tables out of ``per_video`` (its inner dicts are emptied) and let go
        of each column of them once it is stacked: when nothing else holds them, stacking
        holds about one set of tables (the stacked ones and one column), not the videos'
        tables and the stacked ones together. The result is the same.

    Returns
    -------
    dict of DataFrame
        One per table name, rows in video order then in their own order, a fresh
        ``RangeIndex``; ``attrs["units"]`` merged (``depth_m`` in m; a column in different
        units in different videos, ``time_s`` of videos and of photo surveys, ``s or index``).

    Examples
    --------
    >>> import pandas as pd
    >>> a = {"maxn": pd.DataFrame({"class": ["fish"], "maxn": [3]})}
    >>> b = {"maxn": pd.DataFrame({"class": ["fish"], "maxn": [5]})}
    >>> out = combine_tables({"a": a, "b": b}, {"a": {"site": "N"}, "b": {"site": "S"}})
    >>> out["maxn"][["video", "site", "maxn"]].values.tolist()
    [['a', 'N', 3], ['b', 'S', 5]]
    >>> combine_tables({"a": a, "b": b}, release=True)["maxn"]["maxn"].tolist(), a, b
    ([3, 5], {}, {})
    """
    meta = meta or {}
    names = sorted({t for tables in per_video.values() for t in tables})
    out = {}
    for table in names:
        frames, infos = [], []
        units: dict[str, str] = {}
        for video, tables in per_video.items():
            if table not in tables:
                continue
            df = tables.pop(table) if release else tables[table]
            df = df.copy(deep=False)  # copy on write: not a second table
            for column, unit in (df.attrs or {}).get("units", {}).items():
                # a video's time_s in s beside a photo survey's in index: both, not the last
                known = units.get(column)
                if known is None or unit not in known.split(" or "):
                    units[column] = unit if known is None else f"{known} or {unit}"
            info = {"video": video, **{k: None for k in META_COLUMNS[1:]}}
            info.update({k: v for k, v in (meta.get(video) or {}).items() if k in META_COLUMNS})
            dropped = [c for c in META_COLUMNS if c in df.columns]
            if dropped:
                df = df.drop(columns=dropped)
            df.attrs = {}
            frames.append(df)
            infos.append(info)
        if not frames:
            continue
        combined = _stacked(frames, infos)
        del frames
        combined = combined.reset_index(drop=True)
        for col in ("video", "site", "transect", "date"):
            combined[col] = combined[col].astype(object)
        combined["depth_m"] = pd.to_numeric(combined["depth_m"], errors="coerce").astype("float64")
        units = dict(sorted(units.items()))
        units["depth_m"] = "m"
        combined.attrs = {"units": units}
        out[table] = combined
    if "maxn" in out and "class" in out["maxn"].columns:
        _warn_case_clashes(out["maxn"])
    return out


def _stacked(frames: list[pd.DataFrame], infos: list[dict[str, Any]]) -> pd.DataFrame:
    """The ``frames`` (tables without :data:`META_COLUMNS`) stacked, each with its ``info``
    as those columns first: ``pd.concat`` of the frames with the columns inserted.

    Frames of the same columns and dtypes (every video's table of one name, as
    :func:`ecoseg.measure` makes them) are stacked a column at a time, each column dropped
    from the frames once stacked (frees it when the frames alone held it) and the
    metadata columns made at full length; ``frames`` are left without columns then.
    """
    first = frames[0]
    same = first.columns.is_unique and all(
        f.columns.equals(first.columns) and f.dtypes.equals(first.dtypes) for f in frames[1:]
    )
    if len(frames) == 1 or not same:
        for df, info in zip(frames, infos):
            for i, col in enumerate(META_COLUMNS):
                df.insert(i, col, _same_object(info[col], df.index))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    lengths = np.array([len(f) for f in frames])
    ends = np.cumsum(lengths)
    stacked: dict[str, Any] = {}
    for col in META_COLUMNS:
        data = np.empty(int(ends[-1]), object)
        for info, start, end in zip(infos, ends - lengths, ends):
            data[start:end] = info[col]
        stacked[col] = pd.Series(data, dtype=object)
    columns = first.columns
    for col in list(columns):
        stacked[col] = pd.concat([f[col] for f in frames], ignore_index=True)
        for f in frames:
            del f[col]
    for i, col in enumerate(META_COLUMNS):  # the columns as DataFrame.insert makes them
        columns = columns.insert(i, col)
    combined = pd.DataFrame(stacked, copy=False)
    combined.columns = columns
    return combined


def _same_object(value: Any, index: pd.Index) -> pd.Series:
    """An object column of ``value`` at every row: one reference per row to ``value`` itself
    (a text column, which ``combine_tables`` made object, held a str per row)."""
    data = np.empty(len(index), object)
    data[:] = value
    return pd.Series(data, index, dtype=object)


def _warn_case_clashes(maxn: pd.DataFrame) -> None:
    """One warning per set of class names that differ only in case across the videos of a
    combined table (each store's own are warned of when it is measured)."""
    names = maxn["class"].astype(str)
    for group in case_clashes(names.unique().tolist()):
        where = []
        for name in group:
            videos = maxn.loc[names == name, "video"].astype(str).unique().tolist()
            where.append(f"{name!r} (video {', '.join(videos)})")
        warn(
            f"class names {' and '.join(where)} differ only in letter case and are counted as "
            f"{len(group)} species in the combined tables; if they are one, name their tracks "
            f"alike ({set_class_words()})",
            ClassNameWarning,
        )
