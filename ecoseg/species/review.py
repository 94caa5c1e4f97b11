"""Review a mask store: edits written chunk-atomically, an append-only edit log, undo.

Every edit (:class:`~ecoseg.species.edits.Edit`) is written in this order, each step one or
more atomic key writes (zarr writes a key as a temporary file + rename, and a whole object on
object stores):

1. **backup**: the label frames the edit changes, the ``scores`` array and the object table
   before the edit, into ``edits/NNNNN/`` inside the store;
2. **intent**: the store's attributes get ``edit_pending`` (the edit, its number and frames);
3. **rewrite**: every ``labels`` chunk holding a changed frame is rewritten whole, computed
   from the backup (so re-doing it after a crash gives the same bytes); then ``scores``;
4. **commit**: one attribute write sets the new object table, appends the entry to
   ``edits`` (the log) and removes ``edit_pending``.

A process killed anywhere leaves a store that opens and validates. A kill before step 2 leaves
an unused backup that the next edit overwrites; a kill after it leaves ``edit_pending``, and
the next :class:`Review` of the store (``ecoseg edit STORE --resume``, or any edit) completes
the edit from its backup before doing anything else. Undo is an edit too: it writes the
backup of the last edit not yet undone back (same bytes, the codec is deterministic) and
appends an ``undo`` entry, so the log only ever grows. A classification
(:func:`ecoseg.species.classify`) is logged the same way (``kind="classify"``, object table
only), so undo gives the tracks it named their previous classes back.

The object table records the review: a set class or a reviewed mark gives the track
``class_source="reviewed"``, ``class_probability=1.0`` and ``reviewed=True``.

Examples
--------
>>> import numpy as np, tempfile
>>> from ecoseg.store import MaskStore
>>> path = tempfile.mkdtemp() + "/m.zarr"
>>> with MaskStore.create(path, height=2, width=3, chunk_frames=2,
...                       objects=[(1, "unknown", "tracker"), (2, "unknown", "tracker")]) as s:
...     s.append(np.array([[[1, 0, 2], [0, 0, 0]]] * 3), [0.0, 0.1, 0.2])
>>> r = Review(path)
>>> r.merge(1, 2)
>>> r.set_class(1, "wrasse")
>>> [(o["id"], o["class"], o["reviewed"]) for o in r.objects]
[(1, 'wrasse', True)]
>>> r.undo(); r.undo()
>>> sorted(int(v) for v in np.unique(MaskStore.open(path).read_labels()))
[0, 1, 2]
>>> [e["kind"] for e in r.log]
['merge', 'set_class', 'undo', 'undo']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ecoseg.errors import ConfigError, StoreError
from ecoseg.species.edits import (
    LABEL_KINDS,
    Edit,
    edit_objects,
    edit_scores,
    relabel,
    touched_frames,
    with_new_id,
)
from ecoseg.store import ATTRS_KEY

__all__ = [
    "ATTR_KEY",
    "Review",
    "apply_edits",
    "edit_log",
    "open_for_edit",
    "read_meta",
    "record_classification",
    "write_meta",
]

#: The store attribute that holds the store's metadata (object table, edit log).
ATTR_KEY = ATTRS_KEY
_BACKUPS = "edits"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _as_path(store) -> Any:
    from ecoseg.store import MaskStore

    if isinstance(store, MaskStore):
        if store.mode == "a" and not store.closed:
            raise StoreError(
                f"{store.path}: close the store before reviewing it (the review takes the "
                "writer lock itself)"
            )
        return store.location
    return store


@contextmanager
def open_for_edit(store):
    """The store open for writing (the writer lock held), with any pending edit completed."""
    from ecoseg.store import MaskStore

    s = MaskStore.open(_as_path(store), mode="a")
    try:
        _complete_pending(s)
        yield s
    finally:
        s.close()


def read_meta(store) -> dict[str, Any]:
    """The store's metadata attribute as stored (a copy)."""
    return json.loads(json.dumps(store.group.attrs.asdict()[ATTR_KEY]))


def write_meta(store, meta: dict[str, Any]) -> None:
    """One atomic write of the store's attributes (object table, log, pending marker).

    The object table is checked first (:class:`~ecoseg.provenance.ObjectRecord`), so an
    invalid entry is never written.
    """
    from ecoseg.provenance import ObjectRecord

    for entry in meta["objects"]:
        ObjectRecord.from_dict(entry)
    store.group.attrs.update({ATTR_KEY: meta})


def edit_log(store) -> list[dict[str, Any]]:
    """The store's edit log: one dict per edit, oldest first (empty if never edited).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> edit_log(clip.truth)
    []
    """
    from ecoseg.measure.regions import opened_store

    with opened_store(store) as s:  # a path: opened and closed here; a MaskStore: left open
        return list(s.attrs.get(ATTR_KEY, {}).get("edits", []))


def _presence(store) -> dict[int, np.ndarray]:
    """Frames each id is present in (one pass over the labels, chunk by chunk)."""
    from ecoseg.store import present_ids

    found: dict[int, list[int]] = {}
    n, step = store.n_frames, store.chunk_frames
    for start in range(0, n, step):
        block = store.read_labels(start, min(start + step, n))
        for k, frame in enumerate(block):
            for oid in present_ids(frame).tolist():
                found.setdefault(int(oid), []).append(start + k)
    return {k: np.asarray(v, np.int64) for k, v in found.items()}


def _write_backup(store, number: int, frames: np.ndarray, objects: list, edit: dict) -> None:
    """Step 1: what the edit is about to change, into ``edits/NNNNN``."""
    from ecoseg.store import labels_codec  # the labels codec (same bytes on undo)

    g = store.group.require_group(_BACKUPS).require_group(f"{number:05d}")
    h, w = store.height, store.width
    arr = g.create_array(
        "labels",
        shape=(len(frames), h, w),
        chunks=(1, h, w),
        dtype=np.uint32,
        fill_value=0,
        compressors=labels_codec(h, w),
        overwrite=True,
    )
    step, k = store.chunk_frames, 0
    while k < len(frames):  # read each labels chunk once
        start = int(frames[k]) - int(frames[k]) % step
        block = store.read_labels(start, start + step)
        stop = k + int(np.searchsorted(frames[k:], start + step))
        arr[k:stop] = block[frames[k:stop] - start]
        k = stop
    scores = store.read_scores()
    sc = g.create_array(
        "scores",
        shape=scores.shape,
        chunks=(max(1, min(4096, scores.shape[0])), max(1, scores.shape[1])),
        dtype=np.float32,
        fill_value=0,
        overwrite=True,
    )
    if scores.size:
        sc[...] = scores
    frames_arr = g.create_array(
        "frames",
        shape=(len(frames),),
        chunks=(max(1, len(frames)),),
        dtype=np.int64,
        fill_value=0,
        overwrite=True,
    )
    if len(frames):
        frames_arr[...] = frames
    g.attrs.update({"objects_before": objects, "edit": edit})


def _backup(store, number: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    try:
        g = store.group[f"{_BACKUPS}/{number:05d}"]
        frames = np.asarray(g["frames"][...], np.int64)
        labels = np.asarray(g["labels"][...], np.uint32)
        scores = np.asarray(g["scores"][...], np.float32)
        objects = list(g.attrs.asdict()["objects_before"])
    except Exception as exc:
        raise StoreError(
            f"{store.path}: the backup of edit {number} is missing or damaged ({exc}); the edit "
            "cannot be completed or undone"
        ) from None
    return frames, labels, scores, objects


def _backup_attrs(store, number: int) -> dict:
    try:
        return dict(store.group[f"{_BACKUPS}/{number:05d}"].attrs.asdict())
    except Exception as exc:
        raise StoreError(
            f"{store.path}: the backup of edit {number} is missing or damaged ({exc})"
        ) from None


def _rewrite_labels(store, frames: np.ndarray, new_frames: np.ndarray) -> None:
    """Step 3: rewrite each labels chunk that holds a changed frame, whole."""
    if not len(frames):
        return
    step, n = store.chunk_frames, store.n_frames
    by_chunk: dict[int, list[int]] = {}
    for k, f in enumerate(frames.tolist()):
        by_chunk.setdefault(f // step, []).append(k)
    for c, ks in sorted(by_chunk.items()):
        c0, c1 = c * step, min((c + 1) * step, n)
        block = np.array(store.labels[c0:c1], dtype=np.uint32)
        for k in ks:
            block[int(frames[k]) - c0] = new_frames[k]
        _write_chunk(store, c0, block)


def _write_chunk(store, start: int, block: np.ndarray) -> None:
    """One whole labels chunk (one atomic key write)."""
    store.labels[start : start + len(block)] = block


def _write_scores(store, scores: np.ndarray) -> None:
    """Step 3: the score columns after the edit (extra columns are cut after the commit)."""
    arr = store.scores
    n, k = scores.shape
    if arr.shape[1] < k:
        arr.resize((arr.shape[0], k))
    if n and k:
        arr[:n, :k] = scores


def _trim_scores(store, k: int) -> None:
    arr = store.scores
    if arr.shape[1] > k:
        if arr.shape[0]:
            arr[:, k:] = 0
        arr.resize((arr.shape[0], k))


def _apply_from_backup(store, meta: dict, entry: dict) -> dict:
    """Steps 3 and 4 of a pending edit (or undo), computed from its backup; returns meta."""
    meta = dict(meta)
    if entry["kind"] == "undo":
        target = int(entry["undoes"])
        frames, labels, scores, objects = _backup(store, target)
        new_labels, new_scores = labels, scores
        # the tracks the edit touched get their old entries back; the others keep what
        # happened since (a later classification), in the old table's order
        done = next(e for e in meta.get("edits", []) if int(e.get("n", 0)) == target)
        touched = {int(i) for i in done.get("ids", [])} | {int(done.get("new_id") or 0)}
        now = {int(o["id"]): o for o in meta["objects"]}
        new_objects = [
            now.get(int(o["id"]), o) if int(o["id"]) not in touched else o for o in objects
        ]
        if done["kind"] == "classify":  # the record of the classification before it
            before = _backup_attrs(store, target).get("classification_before")
            meta.pop("classification", None)
            if before is not None:
                meta["classification"] = before
    elif entry["kind"] == "classify":
        frames, new_labels, new_scores, _ = _backup(store, int(entry["n"]))
        new_objects = _backup_attrs(store, int(entry["n"]))["objects_after"]
        meta["classification"] = entry["classification"]
    else:
        edit = Edit.from_dict(entry)
        frames, labels, scores, objects = _backup(store, int(entry["n"]))
        new_labels = (
            np.stack(
                [relabel(labels[k : k + 1], edit, int(f))[0] for k, f in enumerate(frames.tolist())]
            )
            if len(frames)
            else labels
        )
        ids = [int(o["id"]) for o in objects]
        if edit.kind in LABEL_KINDS:
            new_scores, _ = edit_scores(scores, ids, edit)
        else:
            new_scores = scores
        new_objects = edit_objects(objects, edit)
    _rewrite_labels(store, frames, new_labels)
    _write_scores(store, new_scores)
    meta["objects"] = new_objects
    meta["edits"] = [*meta.get("edits", []), entry]
    meta.pop("edit_pending", None)
    write_meta(store, meta)
    _trim_scores(store, len(new_objects))
    return meta


def _complete_pending(store) -> bool:
    """Finish an edit a killed process left half done; True if there was one."""
    meta = read_meta(store)
    pending = meta.get("edit_pending")
    if not pending:
        return False
    _apply_from_backup(store, meta, pending)
    return True


def _undo_target(log: Sequence[dict]) -> int | None:
    stack: list[int] = []
    for entry in log:
        if entry["kind"] == "undo":
            if stack:
                stack.pop()
        else:
            stack.append(int(entry["n"]))
    return stack[-1] if stack else None


def _apply(store, edit: Edit, note: str | None = None) -> dict:
    """Apply one edit to an open, writable store (all four steps); returns its log entry."""
    meta = read_meta(store)
    log = meta.get("edits", [])
    number = len(log) + 1
    objects = meta["objects"]
    ids = {int(o["id"]) for o in objects}
    if edit.kind == "undo":
        target = _undo_target(log)
        if target is None:
            raise ConfigError(f"{store.path}: nothing to undo")
        frames, _, _, _ = _backup(store, target)
        entry = {
            "n": number,
            "kind": "undo",
            "undoes": target,
            "ids": [],
            "frames": _frame_ranges(frames),
            "time": _now(),
        }
        meta["edit_pending"] = entry
        write_meta(store, meta)
        _apply_from_backup(store, meta, entry)
        return entry
    for oid in edit.ids:
        if oid not in ids:
            raise ConfigError(f"{store.path}: no track {oid} (known: {_ids_text(ids)})")
    if edit.kind == "split":
        used = set(ids)  # never reuse the id of a merged or deleted track
        for e in log:
            used.update(int(i) for i in e.get("ids", []))
            if e.get("new_id"):
                used.add(int(e["new_id"]))
        edit = with_new_id(edit, max(used) + 1)
        if int(edit.frame) >= store.n_frames:
            raise ConfigError(
                f"{store.path}: cannot split track {edit.ids[0]} at frame {edit.frame}: the "
                f"store has {store.n_frames} frames"
            )
    edit_objects(objects, edit)  # raises on a bad edit before anything is written
    present = _presence(store) if edit.kind in LABEL_KINDS else {}
    frames = touched_frames(present, edit)
    if edit.kind == "split" and not len(frames):
        raise ConfigError(
            f"{store.path}: track {edit.ids[0]} is not present from frame {edit.frame} on; "
            "nothing to split"
        )
    entry = {"n": number, **edit.to_dict(), "frames": _frame_ranges(frames), "time": _now()}
    if note:
        entry["note"] = note
    _write_backup(store, number, frames, objects, entry)
    meta["edit_pending"] = entry
    write_meta(store, meta)
    _apply_from_backup(store, meta, entry)
    return entry


def record_classification(store, objects: list[dict], classification: dict) -> dict:
    """Write a classification's object table as one undoable edit-log entry.

    ``store`` is open for writing (:func:`open_for_edit`); ``objects`` is the whole object
    table after the classification and ``classification`` its record (model hash, classes,
    threshold). The table before it is backed up like any edit's, so :meth:`Review.undo`
    gives every track it changed its previous class, probability and source back. Returns
    the log entry (``kind="classify"``, ``ids`` the tracks whose entry changed).
    """
    meta = read_meta(store)
    log = meta.get("edits", [])
    before = {int(o["id"]): o for o in meta["objects"]}
    changed = [int(o["id"]) for o in objects if before.get(int(o["id"])) != o]
    if [int(o["id"]) for o in objects] != list(before):
        raise StoreError(f"{store.path}: a classification may not add or drop tracks")
    number = len(log) + 1
    entry = {
        "n": number,
        "kind": "classify",
        "ids": changed,
        "frames": [],
        "classification": classification,
        "time": _now(),
    }
    _write_backup(store, number, np.zeros(0, np.int64), meta["objects"], entry)
    store.group[f"{_BACKUPS}/{number:05d}"].attrs.update(
        {"objects_after": objects, "classification_before": meta.get("classification")}
    )
    meta["edit_pending"] = entry
    write_meta(store, meta)
    _apply_from_backup(store, meta, entry)
    return entry


def _frame_ranges(frames: np.ndarray) -> list[list[int]]:
    """Sorted frames as [first, last] ranges (compact for the log)."""
    out: list[list[int]] = []
    for f in frames.tolist():
        if out and out[-1][1] == f - 1:
            out[-1][1] = f
        else:
            out.append([f, f])
    return out


def _ids_text(ids: Iterable[int]) -> str:
    ids = sorted(ids)
    text = ", ".join(str(i) for i in ids[:12])
    return text + (", ..." if len(ids) > 12 else "") if ids else "none"


def apply_edits(store, edits: Iterable[Edit]) -> list[dict]:
    """Apply edits in order to a store (path or closed store); returns their log entries.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48), n_fish=2,
    ...                     n_invertebrates=0)
    >>> [e["kind"] for e in apply_edits(clip.truth, [Edit("reviewed", (1,))])]
    ['reviewed']
    """
    out = []
    with open_for_edit(store) as s:
        for edit in edits:
            out.append(_apply(s, edit))
    return out


class Review:
    """Review edits on one mask store (each edit is written at once; see the module doc).

    Parameters
    ----------
    store : str, Path, URL or MaskStore
        The store (a MaskStore must not be open for writing).
    """

    def __init__(self, store):
        self._where = _as_path(store)
        with open_for_edit(self._where):  # validates and completes a pending edit
            pass

    def apply(self, edit: Edit) -> dict:
        """Apply one :class:`~ecoseg.species.edits.Edit`; returns its log entry."""
        return apply_edits(self._where, [edit])[0]

    def set_class(self, track: int, name: str) -> None:
        """Name the species of a track (marks it reviewed)."""
        self.apply(Edit("set_class", (track,), cls=name))

    def merge(self, keep: int, gone: int) -> None:
        """Merge track ``gone`` into ``keep`` (``gone``'s pixels take ``keep``'s id)."""
        self.apply(Edit("merge", (keep, gone)))

    def split(self, track: int, frame: int) -> int:
        """Give ``track`` a new id from ``frame`` on; returns the new id."""
        return int(self.apply(Edit("split", (track,), frame=frame))["new_id"])

    def delete(self, track: int) -> None:
        """Remove a false track (its pixels become background)."""
        self.apply(Edit("delete", (track,)))

    def mark_reviewed(self, track: int) -> None:
        """Confirm a track's current class."""
        self.apply(Edit("reviewed", (track,)))

    def undo(self) -> None:
        """Undo the last edit not yet undone (the labels get their old bytes back)."""
        self.apply(Edit("undo"))

    @property
    def objects(self) -> list[dict[str, Any]]:
        """The object table now."""
        from ecoseg.measure.regions import opened_store

        with opened_store(self._where) as store:
            return store.objects

    @property
    def log(self) -> list[dict[str, Any]]:
        """The edit log, oldest first."""
        return edit_log(self._where)
