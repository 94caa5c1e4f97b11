"""The field-study report: one self-contained HTML file a reviewer can read without ecoseg.

:func:`report` (``ecoseg report STORE... -o report.html``) turns mask stores (and their tables,
and optionally the study that made them) into a single HTML page with every figure embedded as
a PNG ``data:`` URI, the CSS inline and the tables as downloadable CSV, so nothing is fetched
from anywhere when it is opened. Sections: study and provenance, per-video summary, counts
over time and MaxN, size-frequency, trajectories, speeds, percent cover, sample frames with
masks, per-site comparison (two or more sites), accuracy against ground truth (when given) and
the tables.

The page is deterministic: the same inputs give the same bytes. The only date shown is
``SOURCE_DATE_EPOCH`` when set (else the day the newest store was made), figures are PNGs
without timestamps drawn with a fixed matplotlib style, and paths are shown relative to the
study (or as given), never as absolute temporary paths.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ecoseg._bundled import local_path
from ecoseg._checks import check_path_arg, check_switch, short_repr
from ecoseg._lazy import make_callable
from ecoseg._paths import (
    check_distinct_stores,
    check_out_parent,
    check_out_suffix,
    check_outside_store,
    check_overwrite,
    check_text_replaceable,
)
from ecoseg.errors import ConfigError

__all__ = ["report", "render_html"]


make_callable(__name__, "report")  # ecoseg.report is this package and the function


def report(
    stores: str | os.PathLike | Sequence[str | os.PathLike] | Mapping[str, Any] | None,
    out: str | os.PathLike,
    *,
    tables: Mapping[str, Any] | str | os.PathLike | None = None,
    study: Any = None,
    title: str | None = None,
    truth: Mapping[str, Any] | Sequence[Any] | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Write a self-contained HTML report of one or more mask stores.

    Parameters
    ----------
    stores : path, sequence of paths, or mapping of name to path
        The mask stores, one per video (an open :class:`~ecoseg.MaskStore` as well as a
        path). Names default to the store folder's name without ``.zarr``. ``None`` takes
        the stores of ``study``.
    out : str or Path
        The HTML file to write (its folder is created).
    tables : dict of DataFrame, or str or Path, optional
        Measurement tables: as :func:`ecoseg.measure` returns them (one store), or combined
        across the stores (with a ``video`` column, as written by
        :func:`ecoseg.study.run_study`); or the folder they were written into (``ecoseg
        measure STORE -o DIR``, a study's ``tables/``), read by
        :func:`~ecoseg.measure.tables.read_table_folder`. Default: measure each store now;
        with a study, the study's own store of a video (``study.store_path(video)``, where
        ``ecoseg study`` writes it) is measured with the study's calibration, saved into it
        first as ``ecoseg study`` saves it (none: the store's cleared, measured in pixels).
        Any other store is never written into: one that bears the name of a study video
        (``a.zarr`` of an ``ecoseg segment`` run elsewhere) is measured as it is when it
        holds the calibration the study gives that video, and refused otherwise.
    study : Study, optional
        The study the stores belong to, loaded (:func:`ecoseg.study.load_study`): adds
        site/transect/date/depth, calibration, ground truth, and the study file itself to the
        page; a store's video is its entry of the same name.
    title : str, optional
        Page title (default: the study's title or name).
    truth : mapping or sequence, optional
        Ground-truth store per video (mapping by name, or a sequence aligned with ``stores``);
        adds the accuracy section. A study's ``truth:`` entries are used as well.
    overwrite : bool
        Replace ``out`` if it exists.
    progress : bool
        Show progress bars (on stderr) while the stores are measured and evaluated.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ConfigError
        No store, truth stores that do not match the stores, ``study`` is not a loaded study,
        ``tables`` is no dict of tables nor a folder of them, a folder of tables (or
        tables ``ecoseg.measure`` returned) measured from a store that is none of ``stores``
        (one line naming both; a store moved or copied together with its tables folder passes:
        :func:`~ecoseg.report._tables_store.check_tables_store`),
        a store to measure that is not the study's but bears the name of a study video whose
        calibration it does not hold (one line naming it and the study's store of that name;
        measuring it would save the study's calibration into it: ``ecoseg measure STORE
        --calibration SPEC`` calibrates it, if that is meant; nothing is measured),
        ``out`` is a folder or a binary file (a video), is named as another kind of file
        (``r.csv``: :func:`ecoseg._paths.check_out_suffix`), cannot be made, or exists and
        ``overwrite`` is false.
    StoreError
        A store is missing or malformed, an interrupted ``ecoseg edit`` left it half written
        (:func:`ecoseg.store.check_finished`; also with ``tables`` given), it holds no
        frames (:func:`ecoseg.measure.check_has_frames`), or a store and its truth (given
        or the study's) look swapped or have other frame sizes or counts
        (:func:`ecoseg.metrics.check_pair`); nothing is written.
    TypeError
        ``out`` is not a path (``None``).

    Warns
    -----
    IncompleteStoreWarning
        Once per store whose run did not finish, with ``tables`` given or measured now, in
        ``measure``'s words (:func:`ecoseg.measure.incomplete_note`); the page says it too.
    CalibrationReplacedWarning
        Once per study's own store measured now whose calibration the study's replaces (one
        set by hand), naming the store and both, in ``ecoseg measure``'s words.

    Examples
    --------
    >>> import ecoseg, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=12, size=(96, 64))
    >>> store = ecoseg.segment(clip.video, out=os.path.join(d, "masks.zarr"), progress=False)
    >>> page = ecoseg.report(store, os.path.join(d, "report.html"))
    >>> page.read_text().startswith("<!DOCTYPE html>")
    True
    """
    from ecoseg.store import check_opens

    check_path_arg(out, "report: out", "a path to the report file (e.g. report.html)")
    out_given, out = out, Path(out)  # (Path drops a trailing "/": out/ wrote a file 'out')
    if study is not None and not hasattr(study, "videos"):
        raise ConfigError(
            f"report: study={short_repr(study)} is not a loaded study; pass "
            "ecoseg.study.load_study(path) (the report does not read study files)"
        )
    named = _named_stores(stores, study)
    for store in named.values():  # the inputs before the output: a missing store is named
        check_opens(store)  # before a page that exists, a folder or a binary file at out
    truth_map = _truth_map(truth, named)
    pairs = {**truth_map, **_study_truths(study, named)}  # (a study's truth is the one used)
    if pairs:  # swapped, or of another frame size or count: refused before any work
        from ecoseg.metrics import check_pair

        for name, truth_store in pairs.items():
            check_pair(named[name], truth_store)
    study_truth = [v.truth for v in study.videos if v.truth is not None] if study else []
    if out.is_dir():  # even with overwrite: a folder is never replaced by a page
        raise ConfigError(f"{out}: is a folder; give the report's file name (e.g. report.html)")
    check_out_parent(out)
    check_text_replaceable(out)  # first: overwrite would not help
    for store in [*named.values(), *truth_map.values(), *study_truth]:
        check_outside_store(out, store)  # not into a store it reads (its zarr.json, a zip store)
    what = "a report is an HTML page"  # r.csv, out/ (a file 'out'): nor would overwrite
    check_out_suffix(out_given, ".html", what, file_name="report.html")
    check_overwrite(out, overwrite)
    progress = check_switch(progress, "report: progress")  # "no" showed a bar
    if isinstance(tables, str | os.PathLike):  # the folder ecoseg measure wrote them into
        from ecoseg.measure.tables import read_table_folder
        from ecoseg.report._tables_store import check_tables_store

        folder, tables = tables, read_table_folder(tables, "report: tables")
        check_tables_store(tables, folder, named.values())  # not another store's tables
    elif isinstance(tables, Mapping):  # ecoseg.measure's: recorded where it was given
        from ecoseg.report._tables_store import check_tables_store

        check_tables_store(tables, None, named.values())
    template, ctx = _page(
        named, out=out, tables=tables, study=study, title=title, truth=truth_map, progress=progress
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        # written as rendered: the page (its embedded tables and figures) is never held whole,
        # nor again as bytes; the same bytes as render_html(...).encode("utf-8")
        with open(tmp, "w", encoding="utf-8", newline="") as file:
            file.writelines(template.generate(**ctx))
        os.replace(tmp, out)
    except BaseException:  # disk full, interrupted, out turned into a folder: no .tmp left
        tmp.unlink(missing_ok=True)
        raise
    return out


def render_html(
    stores: Mapping[str, Any],
    *,
    out: Path,
    tables: Mapping[str, Any] | None = None,
    study: Any = None,
    title: str | None = None,
    truth: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> str:
    """The report page as a string (see :func:`report`); ``stores`` maps name to path."""
    template, ctx = _page(
        stores, out=out, tables=tables, study=study, title=title, truth=truth, progress=progress
    )
    return template.render(**ctx)


def _page(stores, *, out, tables, study, title, truth, progress) -> tuple[Any, dict[str, Any]]:
    """The page's jinja2 template and the data it is rendered with."""
    import jinja2

    from ecoseg.report.read import shown_paths
    from ecoseg.report.sections import build_context

    names = list(stores)
    shown = dict(zip(names, shown_paths([str(stores[n]) for n in names], study, out)))
    ctx = build_context(
        {n: str(stores[n]) for n in names},
        out=out,
        tables=tables,
        study=study,
        title=title,
        truth=truth,
        shown=shown,
        progress=progress,
    )
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ecoseg.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2"), ctx


def _named_stores(stores, study) -> dict[str, Any]:
    if stores is None:
        if study is None:
            raise ConfigError("report: give at least one store (or a study)")
        return {v.name: study.store_path(v) for v in study.videos}
    from ecoseg.report.read import store_names
    from ecoseg.store import MaskStore

    def where(store):  # an open store, as measure and export take it: where it lives
        return store.location if isinstance(store, MaskStore) else store

    if isinstance(stores, Mapping):
        named = {str(k): where(v) for k, v in stores.items()}
    else:
        if isinstance(stores, str | os.PathLike | MaskStore):
            stores = [stores]
        stores = [where(s) for s in stores]
        check_distinct_stores(stores, "report")
        names = store_names(stores)
        if names is None:
            paths = [str(s).rstrip("/").removesuffix(".zarr") for s in stores]
            a, b = [s for s, n in zip(stores, paths) if paths.count(n) > 1][:2]
            raise ConfigError(f"report: {a} and {b} would get the same name; rename one")
        named = dict(zip(names, stores))
    if not named:
        raise ConfigError("report: give at least one store")
    return named


def _study_truths(study, named: Mapping[str, Any]) -> dict[str, Any]:
    """The ``truth:`` store a study gives each of the ``named`` stores' videos."""
    if study is None:
        return {}
    return {v.name: v.truth for v in study.videos if v.truth is not None and v.name in named}


def _truth_map(truth, named: Mapping[str, Any]) -> dict[str, Any]:
    if truth is None:
        return {}
    if isinstance(truth, Mapping):
        unknown = sorted(set(truth) - set(named))
        if unknown:
            raise ConfigError(f"report: truth given for unknown video(s): {', '.join(unknown)}")
        return {n: local_path(t) for n, t in truth.items()}
    if isinstance(truth, str | os.PathLike):
        truth = [truth]
    truth = list(truth)
    if len(truth) != len(named):
        raise ConfigError(
            f"report: {len(truth)} truth store(s) for {len(named)} store(s); give one per store"
        )
    # the bundled sample's truth may be given by its name, ecoseg:sample/truth.zarr
    return {n: local_path(t) for n, t in zip(named, truth) if t is not None}
