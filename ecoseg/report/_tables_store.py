"""Whether the tables given to :func:`ecoseg.report` (``tables=FOLDER``, or the mapping
:func:`ecoseg.measure` returned) were measured from the stores the report is of
(:func:`check_tables_store`).

``ecoseg.measure`` records in every table (its ``attrs``, and ``ecoseg measure STORE -o DIR``
in ``tables.json`` beside them) the store it measured (:mod:`ecoseg.measure._origin`): as it
was given (``store``, shown in messages), where it is from any folder (``store_location``,
absolute, or a URL), where it is from the tables folder (``store_from_tables``), and what of it
the tables are made of (``store_fingerprint``: its run, object table, edit log, frames and
calibration). Tables of an older ecoseg record only ``store``: a relative one is taken from
the current folder, and their store's content is not checked.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecoseg._paths import same_location
from ecoseg.errors import ConfigError

__all__ = ["MeasuredFrom", "check_tables_store", "recorded_places"]


@dataclass(frozen=True)
class MeasuredFrom:
    """The store a table records (:mod:`ecoseg.measure._origin`): ``store`` as measure was
    given it, ``location`` (absolute, or a URL; None: an older ecoseg's tables, or a store
    opened from a zarr ``Store`` object), ``from_tables`` (relative to the folder the tables
    were written into) and ``fingerprint`` (None: not recorded)."""

    store: str
    location: str | None = None
    from_tables: str | None = None
    fingerprint: str | None = None

    @classmethod
    def of(cls, table: Any) -> MeasuredFrom | None:
        """What ``table`` (a DataFrame) records, or None: no store (made by hand, a study's
        combined tables)."""
        attrs = getattr(table, "attrs", None)
        if not isinstance(attrs, dict) or not isinstance(attrs.get("store"), str):
            return None
        text = {k: attrs.get(f"store_{k}") for k in ("location", "from_tables", "fingerprint")}
        return cls(
            attrs["store"], **{k: v if isinstance(v, str) else None for k, v in text.items()}
        )

    def shown(self) -> str:
        """The store as a message names it: as measure was given it, a relative path as
        from the current folder (``../site-A/t.zarr``, not the ``t.zarr`` measure was given
        in ``site-A``).

        Examples
        --------
        >>> import os
        >>> MeasuredFrom("t.zarr", os.path.abspath("../site-A/t.zarr")).shown()
        '../site-A/t.zarr'
        >>> MeasuredFrom("t.zarr").shown()  # an older ecoseg's: as it was given
        't.zarr'
        """
        if self.location is None or "://" in self.store or os.path.isabs(self.store):
            return self.store
        try:
            return os.path.relpath(self.location)
        except ValueError:  # another drive (Windows)
            return self.location

    def places(self, folder: str | os.PathLike | None) -> list[Any]:
        """Where the store may be now, read from the tables ``folder`` (None: a mapping of
        tables): where measure found it (``location``; an older ecoseg's ``store``: from the
        current folder), where it is from ``folder`` as it was from the folder measure wrote
        into (the two moved or copied together), and :func:`recorded_places`."""
        where = self.location or self.store
        if folder is None:
            return [where]
        beside = (
            [os.path.normpath(Path(folder).resolve() / self.from_tables)]
            if self.from_tables
            else []
        )
        return [*beside, *recorded_places(where, folder)]


def recorded_places(recorded: str, folder: str | os.PathLike) -> list[Any]:
    """Where the store a tables ``folder`` records (``recorded``: where measure found it, or
    as an older ecoseg's measure was given it) may be now: as recorded (an older ecoseg's
    relative path: from the current folder), relative to the tables folder's parent and by
    name beside the tables folder (measured from the folder that holds both), and, as
    :func:`ecoseg._store_video.find_video` finds a video moved whole with its store, the
    recorded path's last parts (two or more) under each folder above the tables folder (a
    store moved or copied together with its tables). A URL is only where it is recorded.

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
    shown as theirs; and tables whose store changed since they were measured (its
    fingerprint, :func:`ecoseg.measure._origin.store_fingerprint`: edited, classified,
    calibrated, segmented again or resumed): their numbers would be shown as the store's
    now. A store moved or copied together with its tables folder passes
    (:meth:`MeasuredFrom.places`). Tables that record no store (a study's combined tables, an
    older ecoseg's, tables made by hand) are taken as they are, and so is the content of a
    store whose tables record no fingerprint (an older ecoseg's).

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
    recorded = {m for m in map(MeasuredFrom.of, tables.values()) if m is not None}
    objects = {repr(s): s for s in stores if not isinstance(s, str | os.PathLike)}
    for measured in sorted(recorded, key=lambda m: (m.store, str(m.location))):
        places = measured.places(folder)
        found = objects.get(measured.store)
        found = found or next((s for s in stores for p in places if same_location(p, s)), None)
        if found is None:
            shown = [str(getattr(s, "path", s)) for s in stores]
            given = shown[0] if len(shown) == 1 else f"any of the {len(shown)} stores given"
            raise ConfigError(
                f"report: tables:{_where(folder)} measured from the store {measured.shown()}, "
                f"not {given}; give {_own(folder, shown)}, or leave tables out to measure the "
                "store now"
            )
        _check_fingerprint(measured, found, folder)


def _where(folder) -> str:
    return "" if folder is None else f" {folder}:"


def _own(folder, shown: list[str]) -> str:
    """The tables the report of ``shown`` stores takes: measure's of them."""
    if folder is None:
        own = f"ecoseg.measure({shown[0]})" if len(shown) == 1 else "ecoseg.measure"
        return f"the tables {own} returned"
    own = f"ecoseg measure {shown[0]} -o DIR" if len(shown) == 1 else "ecoseg measure"
    return f"the folder {own} wrote"


def _check_fingerprint(measured: MeasuredFrom, store: Any, folder) -> None:
    """Refuse the tables of ``measured`` when ``store`` (where it is now) holds another
    content than they were measured from."""
    from ecoseg.measure._origin import is_fingerprint, store_fingerprint
    from ecoseg.measure.calibration import Calibration
    from ecoseg.store import check_finished, opened_store

    if not is_fingerprint(measured.fingerprint):  # an older (or later) ecoseg's: not compared
        return
    with opened_store(store) as s:
        check_finished(s)  # half an edit: measure's refusal, the more fundamental one
        cal = Calibration.load(s)
        now = store_fingerprint(s, cal.to_dict() if cal is not None else None)
    if now == measured.fingerprint:
        return
    shown = str(getattr(store, "path", store))
    again = (
        f"ecoseg.measure({shown})"
        if folder is None
        else f"ecoseg measure {shown} -o {folder} --overwrite"
    )
    raise ConfigError(
        f"report: tables:{_where(folder)} measured from the store {shown} as it was before it "
        "changed (edited, classified, calibrated, segmented again or resumed since), so its "
        f"numbers are not the store's now; measure it again ({again}), or leave tables out "
        "to measure the store now"
    )
