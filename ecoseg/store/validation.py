"""Validation: JSON metadata, object tables, calibration, whole stores and appended frames.

Pure functions over plain data and arrays; each raises :class:`~ecoseg.errors.StoreError` (or
:class:`~ecoseg.errors.CalibrationError`) with a one-line reason naming the store and frame.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ecoseg._checks import did_you_mean, short_repr
from ecoseg._version import __version__
from ecoseg.errors import CalibrationError, StoreError
from ecoseg.provenance import OBJECT_SOURCES, ObjectRecord, Provenance
from ecoseg.store._util import is_int
from ecoseg.store.identify import array_damage, array_file, expected_shape
from ecoseg.store.layout import ARRAYS, ATTRS_KEY, MAX_ID, STORE_FORMAT, STORE_VERSION
from ecoseg.store.location import Location

__all__ = [
    "ObjectIndex",
    "attributes_json",
    "check_calibration",
    "check_ids",
    "check_labels",
    "check_times",
    "check_finished",
    "json_data",
    "parse_objects",
    "present_ids",
    "score_rows",
    "unfinished_edits",
    "unfinished_note",
    "validate_group",
]


def unfinished_edits(meta: Mapping[str, Any]) -> int:
    """Review edits an interrupted ``ecoseg edit`` left to do (0: none), from a store's
    attributes (the ``edit_pending`` edit and the ``edit_queue`` after it).

    Examples
    --------
    >>> unfinished_edits({}), unfinished_edits({"edit_pending": {"n": 3}, "edit_queue": [{}]})
    (0, 2)
    """
    queue = meta.get("edit_queue")
    return int(bool(meta.get("edit_pending"))) + (len(queue) if isinstance(queue, list) else 0)


def unfinished_note(n: int, path: Any) -> str:
    """The one wording for ``n`` review edits an interrupted ``ecoseg edit`` left unfinished
    in the store at ``path``, with the command that completes them.

    Every place that tells a user about such a store says it in these words, with its own
    lead-in or tail: :func:`check_finished` refuses with it, ``ecoseg edit STORE --log``
    prints it on stderr, ``ecoseg info`` shows it, the napari reader warns with it.

    Parameters
    ----------
    n : int
        How many edits (:func:`unfinished_edits`); 1 or more.
    path : str or Path
        The store; quoted for a shell in the command where it needs it.

    Returns
    -------
    str
        One line, without a full stop.

    Examples
    --------
    >>> print(unfinished_note(1, "out/m.zarr"))
    an interrupted `ecoseg edit` left 1 edit unfinished, so the labels may be half rewritten; \
run `ecoseg edit out/m.zarr --resume`
    >>> unfinished_note(2, "reef 1.zarr").split("; ")[1]
    "run `ecoseg edit 'reef 1.zarr' --resume`"
    """
    return (
        f"an interrupted `ecoseg edit` left {n} edit{'s' if n != 1 else ''} unfinished, so "
        f"the labels may be half rewritten; run `ecoseg edit {shlex.quote(str(path))} --resume`"
    )


def check_finished(store: Any) -> None:
    """Refuse a store with an unfinished review edit (its labels may be half rewritten), for
    what derives numbers, files or classes from the labels: measure, evaluate, export, report,
    classify, the review queue, study and batch's campaign tables. The napari reader shows such
    a store but gives this message as a warning; ``ecoseg edit`` completes the edit first.

    Parameters
    ----------
    store : MaskStore
        An open store (its attributes are read now, so an edit since it was opened counts;
        typed ``Any`` here: ``maskstore`` imports this module).

    Raises
    ------
    StoreError
        One line: the store, then :func:`unfinished_note` (how many edits are unfinished and
        the command that completes them, ``ecoseg edit STORE --resume``) and "first".

    Examples
    --------
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-finished", height=2, width=2, overwrite=True)
    >>> check_finished(s)
    >>> s.group.attrs["ecoseg"] = {**s.attrs["ecoseg"], "edit_pending": {"n": 3}}  # a killed edit
    >>> check_finished(s)
    Traceback (most recent call last):
    ecoseg.errors.StoreError: memory://doc-finished: an interrupted `ecoseg edit` left 1 edit ...
    """
    n = unfinished_edits(store.attrs.get(ATTRS_KEY, {}))
    if n:
        raise StoreError(f"{store.path}: {unfinished_note(n, store.path)} first")


def present_ids(labels: np.ndarray) -> np.ndarray:
    """Sorted non-zero values present in a label array.

    Runs in O(n) for label images (it only sorts the values found where neighbouring pixels
    differ), several times faster than ``np.unique`` on large frames.

    Parameters
    ----------
    labels : ndarray of int
        Any shape.

    Returns
    -------
    ndarray of int64
        The distinct non-zero values, ascending.

    Examples
    --------
    >>> present_ids(np.array([[0, 5, 5], [5, 2, 0]], np.uint32))
    array([2, 5])
    """
    flat = np.asarray(labels).ravel()
    if flat.size == 0:
        return np.zeros(0, np.int64)
    change = np.flatnonzero(flat[1:] != flat[:-1])
    values = np.unique(np.concatenate((flat[:1], flat[change + 1])))
    return values[values != 0].astype(np.int64)


def json_data(value: Any, where: str) -> Any:
    """``value`` as plain JSON data (numpy scalars become Python numbers), or StoreError."""
    if isinstance(value, np.generic) and not isinstance(value, np.void):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StoreError(f"{where}: {value} is not JSON data (use null for missing values)")
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StoreError(
                    f"{where}: key {key!r} is not a string (JSON objects need str keys)"
                )
            out[key] = json_data(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, list | tuple):
        return [json_data(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise StoreError(
        f"{where}: a {type(value).__name__} is not JSON data "
        "(store strings, numbers, booleans, lists and dicts only)"
    )


def check_calibration(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CalibrationError(f"{where}: calibration must be a dict such as {{'mm_per_px': 0.5}}")
    try:
        cal = json_data(value, f"{where}: calibration")
    except StoreError as exc:
        raise CalibrationError(str(exc)) from None
    mm = cal.get("mm_per_px")
    if mm is not None and (
        isinstance(mm, bool) or not isinstance(mm, int | float) or not 0 < mm < math.inf
    ):
        raise CalibrationError(
            f"{where}: calibration mm_per_px must be a positive number, got {mm!r}"
        )
    return cal


def parse_objects(objects: Iterable, known: set[int], where: str) -> list[ObjectRecord]:
    """Validate object-table entries (records, dicts or (id, class, source) tuples).

    Examples
    --------
    >>> [r.to_dict() for r in parse_objects([(2, "wrasse", "prompt")], {1}, "m.zarr")]
    [{'id': 2, 'class': 'wrasse', 'source': 'prompt'}]
    """
    if isinstance(objects, Mapping) or isinstance(objects, str | bytes):
        raise StoreError(f"{where}: objects must be a list of dicts or (id, class, source) tuples")
    if isinstance(objects, tuple) and objects and isinstance(objects[0], int | np.integer):
        # one (id, class, source) for the list: its id was named as an entry that is none
        raise StoreError(
            f"{where}: objects must be a list of dicts or (id, class, source) tuples, got one "
            f"entry {short_repr(objects)}: give [{short_repr(objects)}]"
        )
    known = set(known)
    out = []
    for entry in objects:
        if isinstance(entry, ObjectRecord):
            record = entry
        else:
            record = _object_record(entry, where)
        if not 0 < record.id <= MAX_ID:
            raise StoreError(f"{where}: object id {record.id} is outside 1..{MAX_ID}")
        if record.id in known:
            raise StoreError(f"{where}: duplicate object id {record.id}")
        known.add(record.id)
        out.append(record)
    return out


def _object_record(entry: Any, where: str) -> ObjectRecord:
    if isinstance(entry, Mapping):
        obj = dict(entry)
    elif isinstance(entry, list | tuple) and 1 <= len(entry) <= 3:
        obj = dict(zip(("id", "class", "source"), entry))
    else:
        raise StoreError(f"{where}: object entry {entry!r} is not a dict or (id, class, source)")
    oid = obj.get("id")
    if isinstance(oid, bool) or not isinstance(oid, int | np.integer):
        raise StoreError(f"{where}: object id must be an integer, got {oid!r}")
    oid = int(oid)
    source = obj.get("source") or "unknown"
    if source not in OBJECT_SOURCES:  # 'promt' was written as the object's source
        raise StoreError(
            f"{where}: object {oid}: unknown source {short_repr(source)}"
            f"{did_you_mean(str(source), OBJECT_SOURCES)}; known: {', '.join(OBJECT_SOURCES)}"
        )
    extra = {k: v for k, v in obj.items() if k not in ("id", "class", "source")}
    data = {
        "id": oid,
        "class": str(obj.get("class") or "unknown"),
        "source": source,
        **json_data(extra, f"{where} object {oid}"),
    }
    try:
        return ObjectRecord.from_dict(data)
    except StoreError as exc:
        raise StoreError(f"{where}: {exc}") from None


def _json_kind(value: Any) -> str:
    """The JSON name of ``value``'s type, for messages.

    Examples
    --------
    >>> _json_kind("x"), _json_kind({}), _json_kind(None), _json_kind(2.5)
    ('string', 'object', 'null', 'number')
    """
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "list"
    return "null" if value is None else "number"


def validate_group(group, loc: Location) -> dict[str, Any]:
    """Check a zarr group is an ecoseg store of a supported version; return its metadata.

    The metadata is the group's ``ecoseg`` attribute with the object table as a list of
    :class:`~ecoseg.provenance.ObjectRecord` and the provenance as a
    :class:`~ecoseg.provenance.Provenance` (keys in their stored order).
    """
    if group.metadata.zarr_format != 3:
        raise StoreError(
            f"{loc}: a zarr v{group.metadata.zarr_format} group; ecoseg stores are zarr v3"
        )
    meta = group.attrs.asdict().get(ATTRS_KEY)
    if not isinstance(meta, Mapping) or meta.get("format") != STORE_FORMAT:
        raise StoreError(
            f"{loc}: not an ecoseg mask store (a zarr group without '{ATTRS_KEY}' attributes "
            f"of format {STORE_FORMAT!r})"
        )
    meta = json.loads(json.dumps(meta))
    version = meta.get("version")
    if not is_int(version):
        raise StoreError(f"{loc}: invalid store version {version!r}")
    if version > STORE_VERSION:
        raise StoreError(
            f"{loc}: store version {version} was written by a newer ecoseg "
            f"({meta.get('ecoseg_version', '?')}); this ecoseg {__version__} reads version "
            f"{STORE_VERSION}: upgrade ecoseg"
        )
    if version < STORE_VERSION:
        raise StoreError(
            f"{loc}: store version {version} is older than this ecoseg {__version__} supports "
            f"(version {STORE_VERSION}); re-create the store"
        )
    import zarr

    arrays = {}
    for name, (dtype, dims, _) in ARRAYS.items():
        try:
            arr = group[name]
        except Exception as exc:  # missing, damaged metadata, unknown (e.g. pickle) codec, ...
            raise StoreError(array_damage(loc, name, len(dims), exc)) from None
        if not isinstance(arr, zarr.Array):
            raise StoreError(f"{loc}: the store has no '{name}' array (a group of that name)")
        if arr.dtype != dtype or arr.ndim != len(dims):
            raise StoreError(
                f"{loc}: '{name}' must be a {len(dims)}-d {dtype} array {dims}, found a "
                f"{arr.ndim}-d {arr.dtype} array"
            )
        if not all(c > 0 for c in arr.chunks):  # zarr opens it; reading divides by it
            raise StoreError(
                f"{array_file(loc, name)}: damaged (chunk shape {list(arr.chunks)}: "
                f"{expected_shape(len(dims), 1)})"
            )
        found = tuple(arr.metadata.dimension_names or ())
        if found != dims:
            raise StoreError(f"{loc}: '{name}' has dimension names {found}, expected {dims}")
        arrays[name] = arr
    n = meta.get("frames_written")
    if not is_int(n) or n < 0:
        raise StoreError(f"{loc}: the progress marker 'frames_written' is missing or invalid")
    for name, arr in arrays.items():
        if arr.shape[0] < n:
            raise StoreError(
                f"{loc}: '{name}' holds {arr.shape[0]} frames but the progress marker says "
                f"{n} were written"
            )
    objects = meta.get("objects")
    if objects is None:
        raise StoreError(f"{loc}: the object table is missing")
    if not isinstance(objects, list):  # (it said 'missing' for one edited into a string)
        raise StoreError(
            f"{loc}: the object table ('objects') is a JSON {_json_kind(objects)}, not a list"
        )
    if not isinstance(meta.get("complete", False), bool):  # "yes", 1: taken as finished
        raise StoreError(
            f"{loc}: 'complete' is {meta['complete']!r}, not true or false (the store's "
            "attributes were edited by hand?)"
        )
    try:
        records = parse_objects(objects, set(), str(loc))
    except StoreError as exc:
        raise StoreError(f"{exc} (in the object table)") from None
    if arrays["scores"].shape[1] < len(objects):
        raise StoreError(
            f"{loc}: 'scores' has {arrays['scores'].shape[1]} object columns but the object "
            f"table lists {len(objects)} objects"
        )
    if not isinstance(meta.get("provenance", {}), Mapping):
        raise StoreError(f"{loc}: provenance is not a JSON object")
    cal = meta.get("calibration")
    if cal is not None and not isinstance(cal, Mapping):
        raise StoreError(f"{loc}: calibration is not a JSON object")
    check_calibration(cal, f"{loc} (stored calibration)")
    provenance = Provenance.from_dict(meta.get("provenance"))
    made = provenance.video.frame_size if provenance.video is not None else None
    size = (arrays["labels"].shape[2], arrays["labels"].shape[1])
    if made is not None and made != size:
        raise StoreError(
            f"{loc}: 'labels' frames are {size[0]}x{size[1]} but the video they were "
            f"made from is {made[0]}x{made[1]}"
        )
    meta["objects"] = records
    meta.setdefault("complete", False)
    meta["provenance"] = provenance  # where it was, or at the end (as before)
    meta.setdefault("calibration", None)
    return meta


# ---------------------------------------------------------------------------- appended frames
class ObjectIndex:
    """Object ids in ``scores`` column order, with fast id -> column lookups.

    Examples
    --------
    >>> index = ObjectIndex([4, 1, 2])
    >>> index.columns(np.array([1, 4])).tolist(), index.column_of[2], index.dense_top
    ([1, 0], 2, 2)
    """

    def __init__(self, ids: Iterable[int]):
        self.ids = np.array(list(ids), dtype=np.int64)
        self.column_of = {int(oid): col for col, oid in enumerate(self.ids)}
        order = np.argsort(self.ids, kind="stable")
        self.sorted_ids, self.sorted_cols = self.ids[order], order
        # largest m with 1..m all registered: label images below it need no id lookup
        dense = self.sorted_ids == np.arange(1, len(order) + 1)
        self.dense_top = int(np.argmin(dense)) if not dense.all() else len(order)

    def __len__(self) -> int:
        return len(self.ids)

    def columns(self, ids: np.ndarray) -> np.ndarray:
        """The ``scores`` columns of registered ``ids``."""
        return self.sorted_cols[np.searchsorted(self.sorted_ids, ids)]


def check_labels(path: str, labels: Any, start: int, height: int, width: int) -> np.ndarray:
    """Label frames as a (n, H, W) uint32 array, or StoreError naming the frame.

    Examples
    --------
    >>> check_labels("m.zarr", np.ones((2, 3), np.int64), 0, 2, 3).dtype
    dtype('uint32')
    """
    arr = np.asarray(labels)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (height, width):
        raise StoreError(
            f"{path}: frame {start}: labels of shape {arr.shape} do not fit the store's "
            f"frames of height {height} and width {width}"
        )
    if arr.dtype == np.uint32:
        return arr
    if arr.dtype.kind not in "iu":  # a bool mask would store id 1 wherever it is True
        hint = " (a bool mask: labels = mask * object_id)" if arr.dtype == bool else ""
        raise StoreError(
            f"{path}: frame {start}: labels must be an integer array of object ids, got "
            f"{arr.dtype}{hint}"
        )
    if arr.size:
        lo = arr.min(axis=(1, 2))
        hi = arr.max(axis=(1, 2))
        bad = np.flatnonzero((lo < 0) | (hi > MAX_ID))
        if bad.size:
            i = int(bad[0])
            value = lo[i] if lo[i] < 0 else hi[i]
            raise StoreError(
                f"{path}: frame {start + i}: label value {value} is outside 0..{MAX_ID}"
            )
    return arr.astype(np.uint32)


def check_times(path: str, time: Any, n: int, start: int, last: float | None) -> np.ndarray:
    """``n`` finite frame times (s) increasing after ``last``, or StoreError naming the frame.

    Examples
    --------
    >>> check_times("m.zarr", [0.5, 0.6], 2, 3, 0.4).tolist()
    [0.5, 0.6]
    """
    try:
        times = np.atleast_1d(np.asarray(time, dtype=np.float64))
    except (TypeError, ValueError):
        raise StoreError(f"{path}: frame {start}: time must be numbers (s)") from None
    if times.shape != (n,):
        raise StoreError(f"{path}: frame {start}: {n} label frames but {times.size} times")
    if n == 1:  # one frame (as engines append): the same checks on a float, no array passes
        t = float(times[0])
        if not math.isfinite(t):
            raise StoreError(f"{path}: frame {start}: time {t} is not finite")
        if last is not None and t <= last:
            raise StoreError(
                f"{path}: frame {start}: time {t:.6g} s is not after the previous frame's "
                f"{last:.6g} s (times must increase)"
            )
        return times
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        i = int(bad[0])
        raise StoreError(f"{path}: frame {start + i}: time {times[i]} is not finite")
    prev = np.concatenate(([-np.inf if last is None else last], times))
    bad = np.flatnonzero(np.diff(prev) <= 0)
    if bad.size:
        i = int(bad[0])
        raise StoreError(
            f"{path}: frame {start + i}: time {times[i]:.6g} s is not after the previous "
            f"frame's {prev[i]:.6g} s (times must increase)"
        )
    return times


def check_ids(
    path: str,
    index: ObjectIndex,
    labels: np.ndarray,
    start: int,
    times,
    per_frame: bool,
    top: np.ndarray | None = None,
) -> list[np.ndarray] | None:
    """Every label value is a registered id; the ids on each frame if ``per_frame``.

    ``top``: each frame's largest value where the caller has it already.

    Examples
    --------
    >>> check_ids("m.zarr", ObjectIndex([1, 2]), np.array([[[0, 2]]]), 0, [0.0], True)
    [array([2])]
    """
    if not per_frame:
        # fast path: ids 1..m all registered and no frame holds a value above m
        if top is None:
            top = labels.max(axis=(1, 2))
        if top.max() <= index.dense_top:
            return None
        suspects = np.flatnonzero(top > index.dense_top)
    else:
        suspects = range(labels.shape[0])
    present = []
    for i in suspects:
        ids = present_ids(labels[i])
        unknown = ids[~np.isin(ids, index.ids)]
        if unknown.size:
            raise StoreError(
                f"{path}: frame {start + i} (t={times[i]:.3f} s): label {unknown[0]} "
                "is not a registered object id (register it with add_objects first)"
            )
        present.append(ids)
    return present if per_frame else None


# score types set as they are (their float32 value is the same taken one by one or in a list)
_FLOATS = (float, np.float32, np.float64)


def score_rows(path: str, index: ObjectIndex, scores, present, n: int, start: int, times):
    """Scores (n, objects) float32 from ``None`` (presence), an array or ``{id: score}``.

    Examples
    --------
    >>> score_rows("m.zarr", ObjectIndex([1, 2]), {2: 0.5}, None, 1, 0, [0.0]).tolist()
    [[0.0, 0.5]]
    """
    k = len(index)
    rows = np.zeros((n, k), np.float32)
    if scores is None:
        for i, ids in enumerate(present):
            rows[i, index.columns(ids)] = 1.0
        return rows
    if isinstance(scores, Mapping):
        columns, numbers = [], []  # plain float scores, set in one assignment
        for oid, value in scores.items():
            col = index.column_of.get(int(oid)) if is_int(oid) else None
            if col is None:
                raise StoreError(
                    f"{path}: frame {start}: score given for object {oid!r}, which is "
                    "not registered (add_objects first)"
                )
            if type(value) in _FLOATS:  # one number for every frame
                columns.append(col)
                numbers.append(value)
                continue
            try:
                rows[:, col] = np.asarray(value, dtype=np.float32)
            except (TypeError, ValueError):
                raise StoreError(
                    f"{path}: frame {start}: score of object {oid} must be a number or "
                    f"{n} numbers, got {value!r}"
                ) from None
        rows[:, columns] = numbers
    else:
        try:
            arr = np.asarray(scores, dtype=np.float32)
        except (TypeError, ValueError):
            raise StoreError(f"{path}: frame {start}: scores must be numbers") from None
        if arr.shape == (k,) and n == 1:
            arr = arr[None]
        if arr.shape != (n, k):
            raise StoreError(
                f"{path}: frame {start}: scores of shape {arr.shape}, expected "
                f"{(n, k)} (frames, objects in object_ids order)"
            )
        rows[:] = arr
    if not np.isfinite(rows).all():
        bad = np.argwhere(~np.isfinite(rows))
        i, j = (int(v) for v in bad[0])
        raise StoreError(
            f"{path}: frame {start + i} (t={times[i]:.3f} s): score of object "
            f"{int(index.ids[j])} is not finite"
        )
    return rows


def attributes_json(meta: Mapping[str, Any], objects: list | None = None) -> dict[str, Any]:
    """The store's attributes as JSON: records become their dicts (``objects``: precomputed).

    Examples
    --------
    >>> attributes_json({"objects": [ObjectRecord(1)], "provenance": Provenance(engine="x")})
    {'objects': [{'id': 1, 'class': 'unknown', 'source': 'unknown'}], 'provenance': \
{'engine': 'x'}}
    """
    out = dict(meta)
    if objects is None:
        objects = [r.to_dict() for r in out["objects"]]
    out["objects"] = objects
    out["provenance"] = out["provenance"].to_dict()
    return out
