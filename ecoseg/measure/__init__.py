"""Measurements: tidy tables of regions, tracks, counts/MaxN and cover from a mask store.

:func:`measure` reads the store's labels once, chunk by chunk, and derives every table from
that one pass. The pure table functions can also be used on their own (the store-level regions table
alone is :func:`ecoseg.measure.regions.regions`):

- :func:`~ecoseg.measure.regions.region_table` - per frame, per object shape statistics of a
  label image or stack (vectorised; agrees with ``skimage.measure.regionprops``);
- :func:`~ecoseg.measure.tracks.track_table` - per object trajectory summary;
- :func:`~ecoseg.measure.counts.counts_table`, :func:`~ecoseg.measure.counts.maxn_table`;
- :func:`~ecoseg.measure.cover.cover_table`;
- :class:`~ecoseg.measure.calibration.Calibration` - mm per pixel;
- :func:`~ecoseg.measure.tables.read_table`, :func:`~ecoseg.measure.tables.write_table`,
  :func:`~ecoseg.measure.tables.combine_tables` - table files and tables of many videos.

Column names carry their units (``area_mm2``, ``mean_speed_mm_s``), ``DataFrame.attrs``
holds ``units`` (column -> unit), ``calibration``, ``store``, ``store_complete``,
``ecoseg_version`` and which store and state of it they were made of (``store_location``,
``store_fingerprint``, and with ``out`` ``store_from_tables``: :mod:`ecoseg.measure._origin`).
Every column is documented in ``docs/tables.md``.

A store whose run was interrupted (``ecoseg segment`` killed before the end) is measured over
the frames it holds, with one :class:`IncompleteStoreWarning` saying so and how to continue it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ecoseg._cancel import check_cancel
from ecoseg._checks import check_path_arg, check_switch
from ecoseg._lazy import make_callable
from ecoseg._paths import (
    check_out_folder,
    check_out_suffix,
    check_outside_store,
)
from ecoseg._warn import warn
from ecoseg.errors import ConfigError
from ecoseg.measure._origin import absolute_location, path_from, store_fingerprint
from ecoseg.measure._tables_lock import tables_lock
from ecoseg.measure._write_tables import (
    FORMATS,
    check_formats,
    interrupted_warning,
    table_targets,
    write_set,
)
from ecoseg.measure.calibration import (
    Calibration,
    as_calibration,
    is_uncalibrated,
    parse_calibration,
    warn_if_replaced,
)
from ecoseg.measure.counts import (
    class_order,
    counts_table,
    looked_for_classes,
    maxn_table,
    warn_case_clashes,
)
from ecoseg.measure.cover import cover_table, roi_mask
from ecoseg.measure.regions import region_table
from ecoseg.measure.tables import INCOMPLETE, TABLES, read_table
from ecoseg.measure.tracks import TIME_COLUMNS, track_table
from ecoseg.provenance import clean_class_name
from ecoseg.store.rerun import resume_hint

__all__ = [
    "TABLES",
    "Calibration",
    "check_has_frames",
    "IncompleteStoreWarning",
    "incomplete_note",
    "no_frames_reason",
    "resume_hint",
    "counts_table",
    "cover_table",
    "maxn_table",
    "measure",
    "observed_frames",
    "parse_calibration",
    "read_table",
    "region_table",
    "track_table",
]


class IncompleteStoreWarning(UserWarning):
    """The measured store's run did not finish: its tables cover only the frames written."""


def incomplete_note(store, what: str = "the tables") -> str | None:
    """Why what is made from ``store`` covers less than its video, or ``None`` for a finished
    store.

    The one wording for a store whose run did not finish: :func:`measure`, :func:`ecoseg.export`,
    :func:`ecoseg.batch.campaign_tables`, :func:`ecoseg.classify` and :func:`ecoseg.evaluate`
    warn with it (:class:`IncompleteStoreWarning`), each naming what it made (``what``, plural:
    "the tables", "the annotations", "the track features", "the metrics"); :func:`ecoseg.report`
    warns with measure's, once per store.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> from ecoseg.store import MaskStore
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> incomplete_note(MaskStore.open(clip.truth)) is None
    True
    >>> s = MaskStore.create("memory://doc-incomplete", height=2, width=2, overwrite=True)
    >>> print(incomplete_note(s))  # doctest: +NORMALIZE_WHITESPACE
    memory://doc-incomplete: its run did not finish, so the tables cover only the 0 frames it
    holds; continue it with `ecoseg segment VIDEO -o memory://doc-incomplete --resume` and the
    run's options
    >>> incomplete_note(s, "the annotations").split(", so ")[1][:35]
    'the annotations cover only the 0 fr'
    """
    if store.complete:
        return None
    writer = _writer(store)
    if writer is not None:  # not interrupted: --resume would be refused by its lock
        return (
            f"{store.path}: its run is still going ({writer}), so {what} cover only the "
            f"{store.n_frames} frames written so far; make them again once it has finished"
        )
    return (
        f"{store.path}: its run did not finish, so {what} cover only the {store.n_frames} "
        f"frames it holds; continue it with {resume_hint(store)}"
    )


def _writer(store) -> str | None:
    """Who writes ``store`` now from another process (:func:`ecoseg.store.live_writer`)."""
    from ecoseg.store import live_writer

    return live_writer(store.location)


def check_has_frames(store) -> range | list[int]:
    """Refuse a store that holds no frames, or whose provenance's ``annotated_frames`` covers
    none of them (:func:`observed_frames`): nothing was observed, so it has no numbers.

    An empty table would drop the video from a study without a word, and a MaxN of 0 would
    say its animals were looked for and not seen. :func:`measure`, the report and
    :func:`ecoseg.batch.campaign_tables` all refuse such a store with this one line.

    Returns
    -------
    range or list of int
        The frames its annotation covers (:func:`ecoseg.provenance.annotated_frames`: every
        frame, ``range(n_frames)``, for a store that records none), for
        :func:`observed_frames` (``frames=``) to check the masks against without reading the
        entry again.

    Raises
    ------
    StoreError
        Naming the store and, for a run that stopped before its first frame, the command
        that continues it; for an annotation of no frame, its entry.

    Examples
    --------
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-noframes", height=2, width=2, overwrite=True)
    >>> check_has_frames(s)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: memory://doc-noframes: holds no frames, so nothing was observed...
    """
    from ecoseg.errors import StoreError
    from ecoseg.provenance import annotated_frames

    n = store.n_frames
    if n > 0:
        frames = annotated_frames(store.provenance_record, n, store.path)
        if not len(frames):
            e = store.provenance_record.annotated_frames
            said = f"start {e.start}, step {e.step}"
            said += f", count {e.count}" if e.count is not None else ""
            said += f", {len(e.deleted)} deleted" if e.deleted else ""
            raise StoreError(
                f"{store.path}: its provenance's annotated_frames ({said}) covers none "
                f"of its {n} frames, so nobody looked at any and there are no counts, MaxN or "
                "cover to give (a MaxN of 0 would say the animals were looked for and not "
                "seen); fix its annotated_frames entry"
            )
        return frames
    raise StoreError(
        f"{store.path}: holds no frames, so nothing was observed and there are no counts, "
        f"MaxN or cover to give (a MaxN of 0 would say the animals were looked for and not "
        f"seen): {no_frames_reason(store)}"
    )


def no_frames_reason(store) -> str:
    """Why ``store`` holds no frames, and what to do: the tail of every refusal of such a
    store (:func:`check_has_frames`, ``export``'s).

    Examples
    --------
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-no-frames", height=2, width=2, overwrite=True)
    >>> print(no_frames_reason(s))
    its run stopped before its first frame; continue it with `ecoseg segment VIDEO -o \
memory://doc-no-frames --resume` and the run's options
    """
    if store.complete:
        return "its video gave none"
    if (writer := _writer(store)) is not None:
        return f"its run is still going ({writer}) and has written none yet; wait for it"
    return "its run stopped before its first frame; continue it with " + resume_hint(store)


def measure(
    store,
    out=None,
    *,
    calibration=None,
    roi=None,
    classes: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    overwrite: bool = False,
    chunk_frames: int | None = None,
    progress: bool = False,
    cancel=None,
) -> dict[str, pd.DataFrame]:
    """Measure a mask store into the regions, tracks, counts, maxn and cover tables.

    Parameters
    ----------
    store : MaskStore, str or Path
        The mask store (from ``ecoseg segment`` or ``ecoseg synth``).
    out : str or Path, optional
        Folder to write ``<table>.parquet`` / ``<table>.csv`` and ``tables.json`` (units and
        calibration, for CSV readers) into; created if needed.
    calibration : Calibration, float, str or dict, optional
        mm per pixel (a number, a CLI spec such as ``"scale-bar:0,0,200,0,100"``, or a
        :class:`Calibration`). It is validated before measuring and **saved into the
        store** once the tables are made and, with ``out``, written (a measure that fails,
        on a damaged chunk or a full disk, leaves the store's calibration as it was);
        one that replaces another stored calibration warns
        (:class:`~ecoseg.errors.CalibrationReplacedWarning`, naming both). The stored one's
        mm per pixel as a plain number (as ``ecoseg synth`` or ``ecoseg info`` print it)
        is that calibration: kept as stored, with how it was measured, without a word
        (:meth:`Calibration.saved_over`). ``"none"``
        measures in pixels and clears the store's calibration (warning as well when it had
        one), as ``ecoseg classify --calibration none`` does.
        Default: the calibration already stored with the store (if any).
    roi : array of bool (H, W) or sequence of (x, y), optional
        Region of interest for the cover table (default: the whole frame).
    classes : sequence of str, optional
        Only measure objects of these classes.
    formats : sequence of {"parquet", "csv"}
        File formats written when ``out`` is given.
    overwrite : bool
        Replace existing table files in ``out``. The tables are written all or none: a run
        stopped part-way leaves ``out`` as it was, and one stopped while renaming them into
        place leaves ``tables.incomplete`` beside them; the next run replaces those without
        ``overwrite``, with a :class:`~ecoseg.errors.InterruptedTablesWarning`.
    chunk_frames : int, optional
        Label frames read at a time (default: the store's chunk, fewer frames where they are
        large: :func:`ecoseg.measure.regions.read_step`).
    progress : bool
        Show a progress bar.
    cancel : threading.Event or callable, optional
        Once set (from another thread), measuring stops before the next chunk of frames and
        :class:`~ecoseg.errors.Cancelled` is raised, naming the store and the frame: nothing
        is written (no table, no calibration saved), so the same call again measures anew.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys ``"regions"``, ``"tracks"``, ``"counts"``, ``"maxn"``, ``"cover"``.

    Raises
    ------
    StoreError
        The store is missing or malformed, or holds no frames (:func:`check_has_frames`).
    CalibrationError
        The calibration is zero, negative, not finite or implausible, or its scale-bar ends or
        laser spots lie outside the frame.
    ConfigError
        An unknown class or format, a bad ROI, or an output file exists and ``overwrite`` is
        false (nothing is computed or written then), or another measure into ``out`` is
        running (:mod:`ecoseg.measure._tables_lock`: one at a time; the second is refused
        before it measures anything).
    TypeError
        ``out`` is neither a path nor None (a list).
    Cancelled
        ``cancel`` was set while the store was measured (see ``cancel``).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=5, size=(96, 64))
    >>> tables = measure(clip.truth)
    >>> sorted(tables)
    ['counts', 'cover', 'maxn', 'regions', 'tracks']
    >>> tables["regions"].attrs["units"]["area_mm2"]
    'mm^2'
    """
    from ecoseg.store import check_finished, opened_store

    check_cancel(cancel, "measure")
    formats = check_formats(formats, out)
    overwrite = check_switch(overwrite, "measure: overwrite")  # "no" is true to `if`
    progress = check_switch(progress, "measure: progress")  # "no" showed a bar
    # "none": in pixels, the store's calibration cleared (False: the store's own, kept); a
    # wrong one is said first, before tables that exist (--overwrite would not help)
    new_cal = (
        False
        if is_uncalibrated(calibration)
        else as_calibration(calibration)
        if calibration is not None
        else None
    )
    if out is not None:
        check_path_arg(out, "measure: out", "a path to the tables' folder or None")
    # the store first (a damaged or unfinished one is the more fundamental error), then the
    # tables folder: a user who fixes one does not then meet the other
    with opened_store(store) as opened:  # one opened from a path is closed again
        check_finished(opened)  # no numbers from half an edit
        frames = check_has_frames(opened)  # no numbers, not zeros, from nothing observed
        if out is not None:
            check_outside_store(out, store)
            check_out_folder(out)
            check_out_suffix(out, "", f"the tables are a folder ({', '.join(TABLES)})")
        with tables_lock(out):  # one measure into a folder at a time: a second one is refused
            interrupted = out is not None and (Path(out) / INCOMPLETE).is_file()
            targets = table_targets(out, formats, overwrite or interrupted)  # a half set: replaced
            warn_case_clashes(opened)  # 'parrotfish' and 'Parrotfish': two rows of every table
            tables, save = _tables(
                opened, frames, new_cal, roi, classes, chunk_frames, progress, cancel
            )
            note = incomplete_note(opened)
            # the calibration the tables record is saved into the store as they are put in
            # place, so a failed write (a full disk) leaves the store as it was
            if targets:
                for df in tables.values():  # a store moved with its tables: still theirs
                    df.attrs["store_from_tables"] = path_from(out, df.attrs["store_location"])
                write_set(tables, targets, Path(out), save)
            elif save is not None:
                save()
    if interrupted:
        interrupted_warning(out)
    if note is not None:  # numbers of part of a video: measured, and said so
        warn(note, IncompleteStoreWarning)
    return tables


def _tables(
    store, frames, new_cal, roi, classes, chunk_frames, progress, cancel=None
) -> tuple[dict[str, pd.DataFrame], Callable[[], None] | None]:
    """The tables of :func:`measure` from an open store checked by :func:`check_has_frames`
    (``frames``: what it returned; ``new_cal``: the calibration to measure with; False: the
    store's calibration cleared, measured in pixels), and what saves that calibration into
    the store (``None``: it holds it), called once the tables are in place."""
    from ecoseg.measure.regions import (
        RoiRows,
        concat_stats,
        iter_stats,
        object_classes,
        save_calibration,
        store_table,
        table_attrs,
    )

    # a concept looked for and not found still gets its rows (counts and MaxN of 0), and so
    # does a store that named nothing and found nothing: 0 of `unknown` (looked_for_classes)
    known = looked_for_classes(object_classes(store).values(), store.provenance_record.prompts)
    if classes is not None:
        classes = [
            clean_class_name(c) for c in ([classes] if isinstance(classes, str) else classes)
        ]
        if not classes:  # tables of no class: every MaxN table empty, without a word
            raise ConfigError(
                "measure: classes is empty, so nothing would be counted; give None for every "
                f"class, or names of {store.path}'s classes ({', '.join(known) or '-'})"
            )
        unknown = [c for c in classes if c not in known]
        if unknown:
            loose = {_loose(k): k for k in known}  # 'Wrasse', 'sea star' for 'sea_star'
            meant = loose.get(_loose(unknown[0]))
            raise ConfigError(
                f"unknown class {unknown[0]!r} in {store.path} (known: {', '.join(known) or '-'})"
                + (f"; did you mean {meant!r}?" if meant else "")
            )
    shape = (store.height, store.width)
    # the ROI as its runs of pixels a row (a polygon's: 50 KB at 4K, its mask 8 MB)
    mask = roi_mask(roi, shape)
    roi_rows = RoiRows(mask) if mask is not None else None
    del mask
    # the calibration measured with, and whether it is saved into the store (once the tables
    # are in place, so a measure refused or failed, a damaged chunk or a full disk, leaves
    # the store as it was)
    if new_cal is False:
        cal, save = None, bool(store.calibration)  # one without is left as it is
    elif new_cal is not None:
        new_cal.check_frame(store.width, store.height, store.path)
        stored = Calibration.load(store)
        cal = new_cal.saved_over(stored)  # its own mm/px typed back: kept as it was measured
        save = cal is not stored
    else:
        cal, save = Calibration.load(store), False

    # the chunks' stats are joined as they come and become the regions table's columns:
    # measuring holds about the tables it returns (tests/measure/test_measure_memory.py)
    stats = concat_stats(
        iter_stats(store, chunk_frames=chunk_frames, roi=roi_rows, progress=progress, cancel=cancel)
    )
    times = store.read_time()
    reg = store_table(store, stats, times, store.read_scores(), cal)
    observed = observed_frames(store, reg, frames)  # no count of 0 on a frame nobody saw
    if roi_rows is not None:
        roi_px = stats.get("roi_area_px", np.zeros(0, np.int64))
    else:
        roi_px = reg["area_px"].to_numpy()
    del stats
    report_classes = class_order(known, reg["class"].astype(str).unique())
    if classes is not None:
        keep = reg["class"].isin(classes).to_numpy()
        reg = reg.loc[keep].reset_index(drop=True)
        roi_px = np.asarray(roi_px)[keep]
        report_classes = classes

    survey = store.provenance_record.is_survey
    tracks = track_table(reg, calibration=cal, survey=survey)
    counts = counts_table(reg, times, report_classes, frames=observed)
    maxn = maxn_table(counts)
    cov_src = pd.DataFrame({"frame": reg["frame"], "class": reg["class"], "px": roi_px}, copy=False)
    cov = cover_table(
        cov_src,
        times,
        frame_area_px=roi_rows.area if roi_rows is not None else shape[0] * shape[1],
        classes=report_classes,
        area_column="px",
        mm_per_px=cal.mm_per_px if cal is not None else None,
        frames=observed,
    )
    tables = {"regions": reg, "tracks": tracks, "counts": counts, "maxn": maxn, "cover": cov}
    # where the store is from any folder, and what of it the tables are made of (the
    # calibration measured with is the one saved into it): checked by ecoseg.report
    origin = {
        "store_location": absolute_location(store),
        "store_fingerprint": store_fingerprint(store, cal.to_dict() if cal is not None else None),
    }
    for name, df in tables.items():
        units = df.attrs.get("units", {})
        if survey:  # time_s is a photograph's index (docs/tables.md), not seconds
            units = {c: "index" if c in TIME_COLUMNS else u for c, u in units.items()}
        extra = {"cover_area_px": cov.attrs["cover_area_px"]} if name == "cover" else {}
        df.attrs.clear()
        df.attrs.update(table_attrs(store, cal, units, name), **origin)
        if name == "cover":
            df.attrs.update(extra, roi="frame" if roi_rows is None else "roi")
        if classes is not None:
            df.attrs["classes"] = list(classes)

    def saved() -> None:
        warn_if_replaced(store, cal)
        save_calibration(store, cal)

    return tables, (saved if save else None)


def observed_frames(
    store, regions: pd.DataFrame | None = None, frames: range | list[int] | None = None
) -> range | list[int]:
    """The frames of ``store`` whose counts and cover are observations: every frame, or those
    its annotation covers (a truth store imported from a CVAT task of every 5th frame records
    them in its provenance's ``annotated_frames``; nobody looked at the frames between, so
    they have no count, not a count of 0). ``frames``: those already read from its entry
    (what :func:`check_has_frames` returns), else it is read here.

    Raises
    ------
    StoreError
        The ``annotated_frames`` entry is malformed, or an object of ``regions`` (a regions
        table of the store) has a mask on a frame the entry says nobody annotated.

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-observed", height=2, width=2, overwrite=True,
    ...     provenance={"annotated_frames": {"start": 0, "step": 5, "count": 2}})
    >>> s.append(np.zeros((7, 2, 2), np.uint32), np.arange(7) / 10); s.close()
    >>> observed_frames(MaskStore.open("memory://doc-observed"))
    range(0, 7, 5)
    """
    from ecoseg.errors import StoreError
    from ecoseg.provenance import annotated_frames, describe_frames

    n = store.n_frames
    if frames is None:
        frames = annotated_frames(store.provenance_record, n, store.path)
    if regions is None or frames == range(n) or not len(regions):
        return frames
    outside = ~regions["frame"].isin(list(frames)).to_numpy()
    if outside.any():
        row = regions.loc[outside].iloc[0]
        entry = store.provenance_record.annotated_frames
        deleted = " (deleted in CVAT)" if int(row["frame"]) in entry.deleted else ""
        raise StoreError(
            f"{store.path}: frame {row['frame']}{deleted}: object {row['object_id']} has a "
            f"mask, but the store's provenance says only frames "
            f"{describe_frames(entry.frames(n), n)} were annotated; fix its annotated_frames "
            "entry or the masks"
        )
    return frames


def _loose(name: str) -> str:
    """A class name as typed loosely: any case, ``_`` or ``-`` for a space."""
    return " ".join(name.casefold().replace("_", " ").replace("-", " ").split())


make_callable(__name__, "measure")  # ecoseg.measure is this package and the function
