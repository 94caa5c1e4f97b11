"""The ``regions`` table: one row per (frame, object) of a label image, a stack or a store.

Its pixel statistics come from :func:`~ecoseg.measure._shapes.region_stats` (one pass over a
stack's runs: how each matches :func:`skimage.measure.regionprops` is said there); this
module makes them a table (:func:`region_table`) and measures a store chunk by chunk
(:func:`regions`): the frames read at a time, the object table's classes, scores, units and
calibration.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ecoseg._cancel import stop_if_cancelled
from ecoseg._checks import check_switch
from ecoseg.measure._shapes import (
    REGION_COLUMNS,
    REGION_UNITS,
    RoiRows,
    empty_stats,
    region_stats,
)

__all__ = [
    "REGION_COLUMNS",
    "REGION_MM_COLUMNS",
    "REGION_UNITS",
    "READ_BYTES",
    "RoiRows",
    "read_step",
    "region_stats",
    "region_table",
    "regions",
]

#: Calibrated columns: name -> (pixel column, power of mm_per_px, unit).
REGION_MM_COLUMNS: dict[str, tuple[str, int, str]] = {
    "area_mm2": ("area_px", 2, "mm^2"),
    "centroid_x_mm": ("centroid_x_px", 1, "mm"),
    "centroid_y_mm": ("centroid_y_px", 1, "mm"),
    "perimeter_mm": ("perimeter_px", 1, "mm"),
    "equivalent_diameter_mm": ("equivalent_diameter_px", 1, "mm"),
    "major_axis_mm": ("major_axis_px", 1, "mm"),
    "minor_axis_mm": ("minor_axis_px", 1, "mm"),
}


# --------------------------------------------------------------------------- table
def region_table(
    labels: np.ndarray,
    *,
    frame_offset: int = 0,
    times: np.ndarray | None = None,
) -> pd.DataFrame:
    """The regions table of a label image or stack: one row per (frame, object).

    Parameters
    ----------
    labels : ndarray of int or bool, shape (n, H, W) or (H, W)
        Instance labels, 0 = background (a boolean mask is object 1).
    frame_offset : int
        Added to the frame index (the stack's first frame in the video).
    times : array of float, shape (n,), optional
        Frame times in seconds; adds a ``time_s`` column.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REGION_COLUMNS` (plus ``time_s`` after ``frame``), sorted by frame and
        object id; ``attrs["units"]`` maps columns to units. See ``docs/tables.md``.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((8, 8), np.uint8); lab[2:6, 1:4] = 1
    >>> df = region_table(lab)
    >>> df[["object_id", "area_px", "centroid_x_px", "centroid_y_px"]].to_dict("records")
    [{'object_id': 1, 'area_px': 12, 'centroid_x_px': 2.0, 'centroid_y_px': 3.5}]
    """
    stats = region_stats(labels)
    if times is not None:
        n = 1 if np.ndim(labels) == 2 else np.shape(labels)[0]
        if np.shape(times) != (n,):
            raise ValueError(f"times of shape {np.shape(times)} do not match {n} frames")
    return _frame_from_stats(stats, frame_offset=frame_offset, times=times)


def _frame_from_stats(stats, *, frame_offset=0, times=None) -> pd.DataFrame:
    frame = np.asarray(stats["frame"], dtype=np.int64)
    if frame_offset:
        frame = frame + int(frame_offset)
    columns = {c: stats[c] for c in REGION_COLUMNS} | {"frame": frame}
    # the table's columns are the stats' arrays, not a copy of them: one long video's table
    # is the largest thing measuring holds, and a second copy of it doubled the peak
    df = pd.DataFrame(columns, copy=False)
    units = dict(REGION_UNITS)
    if times is not None:
        times = np.asarray(times, dtype=np.float64)
        df.insert(1, "time_s", times[np.asarray(stats["frame"], dtype=np.int64)])
        units = {"frame": "index", "time_s": "s", **units}
    df.attrs["units"] = units
    return df


# --------------------------------------------------------------------------- store shell
def save_calibration(store, calibration) -> None:
    """Write ``calibration`` into ``store`` (a writable store object, or a path / read-only
    store object, which is opened for writing and closed again); None clears it."""
    from ecoseg.store import MaskStore

    if isinstance(store, MaskStore):
        if store.mode == "a":
            _save(store, calibration)
            return
        store = store.location  # open read-only: write through a second handle
    writer = MaskStore.open(store, mode="a")
    try:
        _save(writer, calibration)
    finally:
        writer.close()


def _save(store, calibration) -> None:
    if calibration is None:
        store.calibration = None
    else:
        calibration.save(store)


#: Bytes of label frames read at a time when no ``chunk_frames`` is given: a store's chunk
#: (4 frames as ``ecoseg segment`` writes them) up to 1080p, 2 frames of 1440p, 1 of 4K (a
#: 4-frame 4K chunk is 127 MB; read a frame at a time, measuring holds about one frame).
READ_BYTES = 48 << 20


def read_step(store, chunk_frames: int | None = None) -> int:
    """Frames :func:`iter_stats` reads at a time: ``chunk_frames`` when given, else the
    largest divisor of the store's chunk whose frames fit in :data:`READ_BYTES` (at least 1),
    so every read lies inside one chunk.

    Examples
    --------
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-step", height=2160, width=3840, overwrite=True)
    >>> s.chunk_frames, read_step(s), read_step(s, 3)
    (4, 1, 3)
    """
    from ecoseg._checks import positive_int
    from ecoseg.errors import ConfigError

    if chunk_frames is not None:
        # 2.5 was read 2 at a time, -1 was numpy's ValueError, 0 the default without a word
        return positive_int(chunk_frames, "chunk_frames", where="measure", error=ConfigError)
    chunk = max(1, int(store.chunk_frames))
    frame = max(1, store.height * store.width * 4)  # uint32 labels
    fits = max(1, READ_BYTES // frame)
    return max(d for d in range(1, chunk + 1) if chunk % d == 0 and d <= fits)


def iter_stats(
    store,
    *,
    chunk_frames: int | None = None,
    roi=None,
    progress: bool = False,
    cancel=None,
):
    """Measure a store chunk by chunk: yields ``region_stats`` dicts with absolute frames.

    Only ``chunk_frames`` label frames (default: :func:`read_step`, the store's chunk or,
    for large frames, a part of it) are in memory at a time; one scratch buffer is reused
    for all reads, and the ROI's row counts are made once. A set ``cancel`` (a
    ``threading.Event`` or callable) stops it before the next chunk:
    :class:`~ecoseg.errors.Cancelled`, naming the store and the frame
    (:func:`ecoseg._cancel.stop_if_cancelled`).
    """
    n = store.n_frames
    # 0 and None: the store's chunk, fewer frames where they are large
    step = read_step(store, chunk_frames)
    if roi is not None and not isinstance(roi, RoiRows):
        roi = RoiRows(roi)
    work = np.empty(step * store.height * store.width, dtype=bool)
    bar = _progress(n, "measure", progress)
    try:
        for start in range(0, n, step):
            stop_if_cancelled(
                cancel, f"{store.path}: cancelled while measuring its masks (frame {start} of {n})"
            )
            labels = store.read_labels(start, min(start + step, n))
            stats = region_stats(labels, roi=roi, work=work)
            stats["frame"] = stats["frame"] + start
            bar.update(len(labels))
            # let go of these labels before the next are read
            del labels
            yield stats
    finally:
        bar.close()


def _progress(total: int, desc: str, enabled: bool):
    from ecoseg._progress import progress_bar

    return progress_bar(total=total, desc=desc, unit="frame", disable=not enabled, leave=False)


#: Rows of per-chunk stats joined into one block as they come (about 2 MB of columns).
_BLOCK_ROWS = 1 << 14


def concat_stats(chunks: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate per-chunk ``region_stats`` dicts, consuming an iterable of them as it goes.

    A chunk of a few frames holds a few dozen rows in some twenty small arrays, whose headers
    weigh more than their numbers: chunks are joined into blocks of ``_BLOCK_ROWS`` rows as
    they come, and each column's blocks into the result one column at a time, so measuring
    a long video (given :func:`iter_stats`, not a list) holds little more than the result.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((2, 4, 4), np.uint8); lab[:, 1:3, 1:3] = 1
    >>> s = concat_stats(region_stats(lab[i : i + 1]) for i in range(2))
    >>> s["area_px"].tolist(), s["frame"].dtype
    ([4, 4], dtype('int64'))
    """
    pending: dict[str, list[np.ndarray]] = {}
    blocks: dict[str, list[np.ndarray]] = {}
    rows = 0
    for chunk in chunks:
        for key, values in chunk.items():
            pending.setdefault(key, []).append(values)
        rows += len(chunk["frame"])
        if rows >= _BLOCK_ROWS:
            _join_pending(pending, blocks)
            rows = 0
    _join_pending(pending, blocks)
    if not blocks:
        return empty_stats(False)
    # one column at a time, its blocks dropped as soon as it is joined
    return {key: _joined(blocks.pop(key)) for key in list(blocks)}


def _join_pending(pending: dict[str, list[np.ndarray]], blocks: dict[str, list]) -> None:
    for key in list(pending):
        blocks.setdefault(key, []).append(_joined(pending.pop(key)))


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def object_classes(store) -> dict[int, str]:
    """Object id -> class, from the store's object table."""
    return {oid: r.class_name for oid, r in store.object_records().items()}


def class_source_of(obj) -> str:
    """Where an object-table entry's class came from (one of
    :data:`ecoseg.provenance.CLASS_SOURCES`), also for entries written before
    ``class_source`` existed: a class given with the object (a prompt's, the synthetic truth's)
    is ``prompt``, a concept's ``concept``, discovery's colour rules' ``rule``.

    Examples
    --------
    >>> class_source_of({"id": 1, "class": "wrasse", "source": "prompt"})
    'prompt'
    >>> class_source_of({"id": 2, "class": "unknown", "source": "tracker"})
    'unknown'
    >>> class_source_of({"id": 3, "class": "sea_star", "source": "discovered"})
    'rule'
    >>> class_source_of({"id": 4, "class": "sea_star", "source": "truth"})
    'prompt'
    """
    if obj.get("reviewed"):
        return "reviewed"
    found = obj.get("class_source")
    if found and found != "unknown":
        return str(found)
    cls, src = str(obj.get("class") or "unknown"), str(obj.get("source") or "unknown")
    if cls == "unknown":
        return "unknown"
    if found == "unknown" and obj.get("class_probability") is not None:
        return "unknown"  # a classifier left it below its threshold
    return {"concept": "concept", "discovered": "rule"}.get(src, "prompt")


def class_probability_of(obj) -> float:
    """The class probability of an object-table entry (1 when a person named it, NaN when
    nothing says). An ``unknown`` a person looked at has none, whatever an older store
    recorded for it (1; ``ecoseg edit --set-class ID=unknown`` now records none).

    Examples
    --------
    >>> class_probability_of({"id": 1, "class": "wrasse", "reviewed": True})
    1.0
    >>> class_probability_of({"id": 2, "class": "unknown", "reviewed": True,
    ...                       "class_probability": 1.0})
    nan
    >>> class_probability_of({"id": 3, "class": "unknown", "class_source": "unknown",
    ...                       "class_probability": 0.4, "class_suggestion": "wrasse"})
    0.4
    """
    if obj.get("reviewed") and str(obj.get("class") or "unknown") == "unknown":
        return float("nan")  # looked at, no name: no probability of anything
    p = obj.get("class_probability")
    if p is not None:
        return float(p)
    return 1.0 if class_source_of(obj) in ("prompt", "reviewed") else float("nan")


def store_table(store, stats, times, scores, calibration) -> pd.DataFrame:
    """Build the store-level regions table from concatenated stats."""
    df = _frame_from_stats(stats, times=times)
    # object id -> column of the object table (and of ``scores``), vectorised
    table_ids = np.asarray(store.object_ids, dtype=np.int64)
    classes = [r.class_name for r in store.object_records().values()]
    table_cls = np.array([*classes, "unknown"], dtype=object)
    order = np.argsort(table_ids, kind="stable")
    ids = df["object_id"].to_numpy(np.int64)
    pos = np.searchsorted(table_ids[order], ids)
    pos = np.minimum(pos, max(len(order) - 1, 0))
    found = (table_ids[order][pos] == ids) if len(order) else np.zeros(len(ids), bool)
    cidx = np.where(found, order[pos] if len(order) else 0, -1)
    df.insert(3, "class", pd.array(table_cls[cidx].tolist(), dtype=str))
    objects = store.objects
    sources = np.array([class_source_of(o) for o in objects] + ["unknown"], dtype=object)
    probs = np.array([class_probability_of(o) for o in objects] + [np.nan], dtype=np.float64)
    df.insert(4, "class_source", pd.array(sources[cidx].tolist(), dtype=str))
    df.insert(5, "class_probability", probs[cidx])
    frames = df["frame"].to_numpy()
    score = np.full(len(df), np.nan, dtype=np.float64)
    ok = cidx >= 0
    if scores.size and ok.any():
        score[ok] = scores[frames[ok], cidx[ok]]
    df.insert(6, "score", score)
    units = {
        "frame": "index",
        "time_s": "s",
        "object_id": "id",
        "class": "",
        "class_source": "",
        "class_probability": "1",
        "score": "1",
    }
    units.update(REGION_UNITS)
    if calibration is not None:
        for name, (src, power, unit) in REGION_MM_COLUMNS.items():
            df[name] = df[src] * calibration.mm_per_px**power
            units[name] = unit
    df.attrs.update(table_attrs(store, calibration, units, "regions"))
    return df


def table_attrs(store, calibration, units: dict[str, str], table: str) -> dict:
    """The ``DataFrame.attrs`` every measurement table carries."""
    from ecoseg._version import __version__

    return {
        "table": table,
        "units": dict(units),
        "calibration": calibration.to_dict() if calibration is not None else None,
        "store": str(store.path),
        "store_complete": bool(store.complete),
        "ecoseg_version": __version__,
    }


def resolve_calibration(store, calibration):
    """The calibration to use: the given one (validated, its points inside the store's frame,
    as :func:`ecoseg.measure.measure` checks them) or the store's, or None."""
    from ecoseg.measure.calibration import Calibration, as_calibration

    if calibration is not None:
        cal = as_calibration(calibration)
        cal.check_frame(store.width, store.height, store.path)
        return cal
    return Calibration.load(store)


def regions(
    store,
    *,
    calibration=None,
    chunk_frames: int | None = None,
    progress: bool = False,
    cancel=None,
) -> pd.DataFrame:
    """The regions table of a mask store, read chunk by chunk (memory: about the table's own).

    Parameters
    ----------
    store : MaskStore or str or Path
        The mask store.
    calibration : Calibration, float, str or dict, optional
        Overrides the store's calibration for this table (it is *not* saved; use
        :func:`ecoseg.measure.measure` for that). Without one the store's is used; mm
        columns are added when a calibration is known.
    chunk_frames : int, optional
        Frames read at a time (default: :func:`read_step`, the store's chunk, fewer frames
        where they are large).
    progress : bool
        Show a progress bar.
    cancel : threading.Event or callable, optional
        Once set, the table stops before the next chunk of frames: :class:`~ecoseg.errors.Cancelled`
        (naming the store and the frame).

    Returns
    -------
    pandas.DataFrame
        One row per (frame, object): frame, time_s, object_id, class, score, the pixel
        statistics of :func:`region_table` and, when calibrated, ``area_mm2``,
        ``centroid_x_mm``, ... (see ``docs/tables.md``). ``attrs``: units, calibration,
        store, ecoseg_version.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> df = regions(clip.truth)
    >>> df.attrs["units"]["area_mm2"]
    'mm^2'
    """
    from ecoseg.store import opened_store

    progress = check_switch(progress, "regions: progress")  # "no" showed a bar
    with opened_store(store) as s:  # one opened from a path is closed again
        cal = resolve_calibration(s, calibration)
        stats = concat_stats(
            iter_stats(s, chunk_frames=chunk_frames, progress=progress, cancel=cancel)
        )
        return store_table(s, stats, s.read_time(), s.read_scores(), cal)
