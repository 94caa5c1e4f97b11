"""Whether the tables given to :func:`ecoseg.report` (``tables=FOLDER``, or the mapping
:func:`ecoseg.measure` returned) were measured from the stores the report is of
(:func:`check_tables_store`).

``ecoseg.measure`` records in every table (its ``attrs``, and ``ecoseg measure STORE -o DIR``
in ``tables.json`` beside them) the store it measured, as it was given (``store``: a path
absolute or relative to the folder measure ran in, or a URL). Nothing in the tables
fingerprints the store's content (its edit log, its frames), so tables of a store edited
since cannot be told apart from tables of it as it is; only the location is checked.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ecoseg._paths import same_location
from ecoseg.errors import ConfigError

__all__ = ["check_tables_store", "recorded_places"]


def recorded_places(recorded: str, folder: str | os.PathLike) -> list[Any]:
    """Where the store a tables ``folder`` records (``recorded``, as ``ecoseg measure`` was
    given it) may be now: as recorded (a relative path from the current folder), relative
    to the tables folder's parent and by name beside the tables folder (measured from the
    folder that holds both), and, as :func:`ecoseg._store_video.find_video` finds a video
    moved whole with its store, the recorded path's last parts (two or more) under each
    folder above the tables folder (a store moved or copied together with its tables). A URL
    is only where it is recorded.

    Examples
    --------
    >>> [p.as_posix() for p in recorded_places("/old/site-A/a.zarr", "/new/site-A/tables")]
    ['/old/site-A/a.zarr', '/new/site-A/a.zarr', '/new/site-A/site-A/a.zarr', '/site-A/a.zarr']
    """
    if "://" in recorded:
        return [recorded]
    store = Path(recorded)
    here = Path(os.path.abspath(folder)).parent
    places = [store, here / store, here / store.name]  # here / an absolute path: itself
    parts = [p for p in store.parts if p not in (store.anchor, ".", "..")]
    longest = len(parts) - store.is_absolute()  # as find_video's: not the whole path again
    for above in [here, *here.parents]:
        places += [above / Path(*parts[-n:]) for n in range(longest, 1, -1)]
    return list(dict.fromkeys(places))


def check_tables_store(
    tables: Mapping[str, Any], folder: str | os.PathLike | None, stores: Iterable[Any]
) -> None:
    """Refuse, in one line naming both, a tables ``folder`` (read into ``tables``), or with
    ``folder`` None the mapping of tables given, that records a store (``attrs["store"]``)
    that is none of ``stores`` (paths or open stores): the tables of another store would be
    shown as theirs. A store moved or copied together with its tables folder passes
    (:func:`recorded_places`); a mapping's store is where it is recorded (relative to the
    current folder), or the repr of a store opened from a zarr ``Store`` object. Tables that
    record no store (a study's combined tables, an older ecoseg's, tables made by hand) are
    taken as they are.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> counts = pd.DataFrame({"count": [1]})
    >>> counts.attrs["store"] = os.path.join(d, "a.zarr")
    >>> check_tables_store({"counts": counts}, os.path.join(d, "tables"), [f"{d}/a.zarr"])
    >>> check_tables_store({"counts": counts}, os.path.join(d, "tables"), [f"{d}/b.zarr"])
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: report: tables: .../tables: measured from the store .../a.zarr, \
not .../b.zarr; ...
    >>> check_tables_store({"counts": counts}, None, [f"{d}/b.zarr"])
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: report: tables: measured from the store .../a.zarr, not \
.../b.zarr; give the tables ecoseg.measure(.../b.zarr) returned, ...
    """
    stores = list(stores)
    recorded = {
        df.attrs["store"]
        for df in tables.values()
        if isinstance(getattr(df, "attrs", None), dict) and isinstance(df.attrs.get("store"), str)
    }
    objects = {repr(s) for s in stores if not isinstance(s, str | os.PathLike)}
    for store_text in sorted(recorded):
        places = [store_text] if folder is None else recorded_places(store_text, folder)
        if store_text in objects or any(same_location(p, s) for p in places for s in stores):
            continue
        shown = [str(getattr(s, "path", s)) for s in stores]
        given = shown[0] if len(shown) == 1 else f"any of the {len(shown)} stores given"
        if folder is None:
            own = f"ecoseg.measure({shown[0]})" if len(shown) == 1 else "ecoseg.measure"
            where, own = "", f"the tables {own} returned"
        else:
            own = f"ecoseg measure {shown[0]} -o DIR" if len(shown) == 1 else "ecoseg measure"
            where, own = f" {folder}:", f"the folder {own} wrote"
        raise ConfigError(
            f"report: tables:{where} measured from the store {store_text}, not {given}; "
            f"give {own}, or leave tables out to measure the store now"
        )
