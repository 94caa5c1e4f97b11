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

A command of several edits (:func:`apply_edits`, ``ecoseg edit`` with several options) is
checked as a whole before step 1 of its first edit: every edit against the store and against
the edits before it (a merge into a track an earlier edit deleted, a split of a track an
earlier split made, an undo with nothing left to undo), following the object table and the
frames each track is present in through the edits. One invalid edit raises
:class:`~ecoseg.errors.ConfigError` naming it, and nothing is written. A split must cut the
track in two (:func:`~ecoseg.species.edits.check_split`).

A process killed anywhere leaves a store that opens and validates. A kill before step 2 leaves
an unused backup that the next edit overwrites; a kill after it leaves ``edit_pending``, and
the next :class:`Review` of the store (``ecoseg edit STORE --resume``, or any edit) completes
the edit from its backup before doing anything else. The intent of each edit of a command also
records the edits still to come (``edit_queue``, kept until the last one's intent), so the
completion carries on with them: a killed command ends all done, never half. Undo is an
edit too: it writes the backup of the last edit not yet undone back (same bytes, the codec is
deterministic) and appends an ``undo`` entry, so the log only ever grows. A classification
(:func:`ecoseg.species.classify`) is logged the same way (``kind="classify"``, object table
only), so undo gives the tracks it named their previous classes back.

The object table records the review: a set class or a reviewed mark gives the track
``class_source="reviewed"``, ``class_probability=1.0`` and ``reviewed=True``.
"""

from __future__ import annotations

import json
import shlex
import warnings
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ecoseg.errors import ConfigError, StoreError
from ecoseg.measure.counts import warn_case_clashes
from ecoseg.species.edits import (
    LABEL_KINDS,
    Edit,
    check_split,
    edit_objects,
    edit_scores,
    present_after,
    relabel,
    set_class_for_old_merge,
    touched_frames,
    with_new_id,
)
from ecoseg.store import ATTRS_KEY

__all__ = [
    "ATTR_KEY",
    "DroppedEditsWarning",
    "Review",
    "apply_edits",
    "check_log",
    "edit_log",
    "open_for_edit",
    "read_meta",
    "record_classification",
    "refused_merges",
    "unchecked_splits",
    "write_meta",
]

#: The store attribute that holds the store's metadata (object table, edit log).
ATTR_KEY = ATTRS_KEY
_BACKUPS = "edits"


class DroppedEditsWarning(UserWarning):
    """The rest of an interrupted edit command no longer fits the store and was dropped
    (printed by the CLI as one ``ecoseg: warning:`` line)."""


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
    """The store's metadata attribute as stored (a copy); a damaged edit log is refused."""
    meta = json.loads(json.dumps(store.group.attrs.asdict()[ATTR_KEY]))
    check_log(meta, store.path)
    return meta


def _is_entry(entry: Any) -> bool:
    n = entry.get("n") if isinstance(entry, dict) else None
    return isinstance(entry.get("kind") if n is not None else None, str) and (
        isinstance(n, int) and not isinstance(n, bool)
    )


def check_log(meta: dict[str, Any], where: Any) -> None:
    """Refuse an edit log, pending edit or edit queue that is not what :func:`apply_edits`
    writes (edited by hand, another tool): a StoreError naming the store and the key, not a
    traceback, before anything is written.

    Examples
    --------
    >>> check_log({"edits": [{"n": 1, "kind": "delete", "ids": [2]}]}, "m.zarr")
    >>> check_log({"edits": "x"}, "m.zarr")
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: m.zarr: the edit log ('edits') is damaged: ...
    """
    edits = meta.get("edits", [])
    if not isinstance(edits, list) or not all(_is_entry(e) for e in edits):
        raise StoreError(
            f"{where}: the edit log ('edits') is damaged: expected a list of edits with a "
            f"number 'n' and a 'kind', got {json.dumps(edits)[:80]}"
        )
    pending = meta.get("edit_pending")
    if pending is not None and not _is_entry(pending):
        raise StoreError(
            f"{where}: the pending edit ('edit_pending') is damaged: expected an edit with a "
            f"number 'n' and a 'kind', got {json.dumps(pending)[:80]}"
        )
    queue = meta.get("edit_queue")
    if queue is not None and not (
        isinstance(queue, list) and all(isinstance(e, dict) for e in queue)
    ):
        raise StoreError(
            f"{where}: the edit queue ('edit_queue') is damaged: expected a list of edits, "
            f"got {json.dumps(queue)[:80]}"
        )


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
    from ecoseg.store import opened_store

    with opened_store(store) as s:  # a path: opened and closed here; a MaskStore: left open
        meta = s.attrs.get(ATTR_KEY, {})
        check_log(meta, s.path)
        return list(meta.get("edits", []))


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


def unchecked_splits(store) -> list[int]:
    """The log numbers of the store's splits that :func:`~ecoseg.species.edits.check_split`
    refuses today: made before ecoseg checked splits, at or before the track's first frame
    (the new id took the whole track, the old one was left without pixels), after its last
    one, or of a track present in no frame. Replayed with ``--split`` they are refused;
    ``--unchecked-split`` makes them again as they were.

    Each split is judged on the frames its track was present in just before it: the labels
    now, with every later label edit taken back from its backup (an undo by re-applying the
    edit it undid). One pass over the labels, only for a log with a split in it. Splits
    before a missing or damaged backup cannot be judged and are not listed.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> unchecked_splits(clip.truth)
    []
    """
    from ecoseg.store import opened_store

    with opened_store(store) as s:
        log = list(s.attrs.get(ATTR_KEY, {}).get("edits", []))
        tracks = sorted({int(e["ids"][0]) for e in log if e.get("kind") == "split"})
        if not tracks:
            return []

        def split_tracks_in(frame: np.ndarray) -> set[int]:
            return {t for t in tracks if (frame == t).any()}

        ids_in: dict[int, set[int]] = {}  # frame -> the split tracks present in it
        n, step = s.n_frames, s.chunk_frames
        for start in range(0, n, step):
            block = s.read_labels(start, min(start + step, n))
            flat = block.reshape(len(block), -1)
            for t in tracks:
                for k in np.flatnonzero((flat == t).any(axis=1)).tolist():
                    ids_in.setdefault(start + k, set()).add(t)
        by_number = {int(e.get("n", 0)): e for e in log}
        found = []
        for entry in reversed(log):
            kind = entry.get("kind")
            done = by_number.get(int(entry.get("undoes") or 0), {}) if kind == "undo" else entry
            if done.get("kind") not in LABEL_KINDS:
                continue
            try:
                frames, labels, _, _ = _backup(s, int(done["n"]))
            except StoreError:
                break  # the frames before it are not known
            if kind == "undo":  # before it: the frames as the edit it undid left them
                edit = Edit.from_dict(done)
                labels = [relabel(labels[k : k + 1], edit, f)[0] for k, f in enumerate(frames)]
            for f, frame in zip(frames.tolist(), labels):
                ids_in[f] = split_tracks_in(frame)
            if kind == "split":
                track = int(entry["ids"][0])
                had = np.array(sorted(f for f, ids in ids_in.items() if track in ids), np.int64)
                try:
                    check_split(track, int(entry["frame"]), had)
                except ConfigError:
                    found.append(int(entry["n"]))
        return sorted(found)


def refused_merges(store) -> dict[int, Edit]:
    """The merges of the store's edit log that ``--merge`` refuses today (two different names
    of one rank, made before ecoseg refused them), each with the ``set_class`` edit that,
    made just before it, lets it go through with the name it gave the merged track
    (:func:`~ecoseg.species.edits.set_class_for_old_merge`): log number -> that edit.

    The names are the object table before the merge, kept in its backup (attributes only; no
    labels are read). A merge whose backup is missing or damaged cannot be judged and is
    not listed.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> refused_merges(clip.truth)
    {}
    """
    from ecoseg.store import opened_store

    found: dict[int, Edit] = {}
    with opened_store(store) as s:
        for entry in s.attrs.get(ATTR_KEY, {}).get("edits", []):
            if entry.get("kind") != "merge":
                continue
            try:
                objects = _backup_attrs(s, int(entry["n"]))["objects_before"]
                edit = set_class_for_old_merge(objects, Edit.from_dict(entry))
            except (StoreError, ConfigError, KeyError, TypeError, ValueError):
                continue
            if edit is not None:
                found[int(entry["n"])] = edit
    return found


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
    # the scores of the tracks in the object table now: not read_scores(), whose column count
    # is the one the store was opened with (a split earlier in the command added a column)
    n, k = store.n_frames, len(objects)
    scores = np.asarray(store.scores[:n, :k], np.float32) if n and k else np.zeros((n, k))
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


def _undo_objects(now: list[dict], before: list[dict], done: dict) -> list[dict]:
    """The object table after undoing ``done``: the tracks it touched get their entries from
    before it back, the others keep what happened since (a later classification), in the old
    table's order."""
    touched = {int(i) for i in done.get("ids", [])} | {int(done.get("new_id") or 0)}
    by_id = {int(o["id"]): o for o in now}
    return [by_id.get(int(o["id"]), o) if int(o["id"]) not in touched else o for o in before]


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
        new_objects = _undo_objects(meta["objects"], objects, done)
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
    """Finish what a killed process left half done: the edit in ``edit_pending``, then the
    rest of its command (``edit_queue``); True if there was anything."""
    meta = read_meta(store)
    pending, queue = meta.get("edit_pending"), meta.get("edit_queue")
    if pending:
        meta = _apply_from_backup(store, meta, pending)
    if queue:
        try:
            steps = _plan(store, [Edit.from_dict(e) for e in queue])
        except ConfigError as exc:  # only if the store was changed by other means since
            meta.pop("edit_queue", None)
            write_meta(store, meta)
            warnings.warn(
                f"{store.path}: the rest of an interrupted edit command was dropped ({exc})",
                DroppedEditsWarning,
                stacklevel=2,
            )
        else:
            _write_steps(store, steps)
    return bool(pending or queue)


def _undo_target(log: Sequence[dict]) -> int | None:
    stack: list[int] = []
    for entry in log:
        if entry["kind"] == "undo":
            if stack:
                stack.pop()
        else:
            stack.append(int(entry["n"]))
    return stack[-1] if stack else None


@dataclass(frozen=True)
class _Step:
    """One edit of a command, checked: its log entry and the label frames it changes."""

    edit: Edit
    entry: dict
    frames: np.ndarray


def _present_restored(
    present: dict[int, np.ndarray], frames: np.ndarray, labels: np.ndarray
) -> dict[int, np.ndarray]:
    """The frames each id is present in after ``frames`` get ``labels`` back (an undo)."""
    from ecoseg.store import present_ids

    out = {oid: f[~np.isin(f, frames)] for oid, f in present.items()}
    back: dict[int, list[int]] = {}
    for k, frame in enumerate(frames.tolist()):
        for oid in present_ids(labels[k]).tolist():
            back.setdefault(int(oid), []).append(frame)
    for oid, f in back.items():
        out[oid] = np.union1d(out.get(oid, np.zeros(0, np.int64)), f).astype(np.int64)
    return {oid: f for oid, f in out.items() if len(f)}


def _plan(store, edits: Sequence[Edit]) -> list[_Step]:
    """Check every edit of a command against the store and the edits before it, writing
    nothing; returns the steps to write. Raises ConfigError naming the first invalid edit.

    The object table and the frames each track is present in are followed through the
    edits (exactly: :func:`~ecoseg.species.edits.present_after`, and for an undo the state
    before the edit it undoes), so the labels are read once for the whole command.
    """
    meta = read_meta(store)
    log = list(meta.get("edits", []))
    objects = meta["objects"]
    present = _presence(store) if any(e.kind in LABEL_KINDS for e in edits) else None
    used = {int(o["id"]) for o in objects}  # never reuse the id of a merged or deleted track
    for e in log:
        used.update(int(i) for i in e.get("ids", []))
        used.add(int(e.get("new_id") or 0))
    before: dict[int, tuple[list, dict | None, np.ndarray]] = {}  # this command's edits
    gone: dict[int, str] = {}  # ids this command removed, and how
    steps: list[_Step] = []
    for k, edit in enumerate(edits, 1):
        number = len(log) + 1
        try:
            if edit.kind == "undo":
                target = _undo_target(log)
                if target is None:
                    raise ConfigError("nothing to undo")
                done = next(e for e in log if int(e.get("n", 0)) == target)
                if target in before:
                    old_objects, new_present, frames = before[target]
                else:
                    frames, labels, _, old_objects = _backup(store, target)
                    new_present = present
                    if present is not None:
                        new_present = _present_restored(present, frames, labels)
                new_objects = _undo_objects(objects, old_objects, done)
                entry = {"n": number, "kind": "undo", "undoes": target, "ids": []}
            else:
                ids = {int(o["id"]) for o in objects}
                for oid in edit.ids:
                    if oid not in ids:
                        why = f", {gone[oid]} earlier in this command" if oid in gone else ""
                        raise ConfigError(f"no track {oid}{why} (known: {_ids_text(ids)})")
                if edit.kind == "split":
                    edit = with_new_id(edit, max(used) + 1)
                    if not edit.unchecked:  # a replay of a split made before the rule
                        check_split(edit.ids[0], edit.frame, present.get(edit.ids[0], []))
                new_objects = edit_objects(objects, edit)
                frames, new_present = np.zeros(0, np.int64), present
                if edit.kind in LABEL_KINDS:
                    frames = touched_frames(present, edit)
                    new_present = present_after(present, edit)
                entry = {"n": number, **edit.to_dict()}
                used.update(edit.ids)
                used.add(int(edit.new_id or 0))
                option = shlex.join(edit.cli_args())
                if edit.kind == "merge":
                    gone[edit.ids[1]] = f"merged into track {edit.ids[0]} by {option}"
                elif edit.kind == "delete":
                    gone[edit.ids[0]] = f"deleted by {option}"
        except ConfigError as exc:
            where = shlex.join(edit.cli_args())
            if len(edits) > 1:
                where = f"edit {k} of {len(edits)} ({where})"
            raise ConfigError(f"{store.path}: {where}: {exc}; nothing was changed") from None
        entry.update(frames=_frame_ranges(frames), time=_now())
        before[number] = (objects, present, frames)
        objects, present = new_objects, new_present
        log.append(entry)
        steps.append(_Step(edit, entry, frames))
    return steps


def _write_steps(store, steps: Sequence[_Step]) -> None:
    """Write checked steps, each in the four steps of the module doc. The intent of each also
    records the edits of the command still to come (``edit_queue``), so a killed command is
    completed as a whole by the next :func:`open_for_edit`."""
    for k, step in enumerate(steps):
        meta = read_meta(store)
        number = int(step.entry["n"])
        if number != len(meta.get("edits", [])) + 1:  # the lock is held: cannot happen
            raise StoreError(f"{store.path}: the edit log changed while edits were written")
        if step.edit.kind != "undo":
            _write_backup(store, number, step.frames, meta["objects"], step.entry)
        meta["edit_pending"] = step.entry
        meta.pop("edit_queue", None)
        if k + 1 < len(steps):
            meta["edit_queue"] = [s.edit.to_dict() for s in steps[k + 1 :]]
        write_meta(store, meta)
        _apply_from_backup(store, meta, step.entry)


def record_classification(store, objects: list[dict], classification: dict) -> dict | None:
    """Write a classification's object table as one undoable edit-log entry.

    ``store`` is open for writing (:func:`open_for_edit`); ``objects`` is the whole object
    table after the classification and ``classification`` its record (model hash, classes,
    threshold). The table before it is backed up like any edit's, so :meth:`Review.undo`
    gives every track it changed its previous class, probability and source back. Returns
    the log entry (``kind="classify"``, ``ids`` the tracks whose entry changed), or ``None``
    when no track's entry changed: then nothing is written, so the next ``--undo`` still
    undoes the last edit that changed something.
    """
    meta = read_meta(store)
    log = meta.get("edits", [])
    before = {int(o["id"]): o for o in meta["objects"]}
    changed = [int(o["id"]) for o in objects if before.get(int(o["id"])) != o]
    if [int(o["id"]) for o in objects] != list(before):
        raise StoreError(f"{store.path}: a classification may not add or drop tracks")
    if not changed:
        return None
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

    All or nothing: every edit is checked against the store and the edits before it first;
    the first invalid one raises :class:`~ecoseg.errors.ConfigError` naming it (as its
    ``ecoseg edit`` option) and nothing is written.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48), n_fish=2,
    ...                     n_invertebrates=0)
    >>> [e["kind"] for e in apply_edits(clip.truth, [Edit("reviewed", (1,))])]
    ['reviewed']
    >>> apply_edits(clip.truth, [Edit("delete", (1,)), Edit("merge", (1, 2))])
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: ...: edit 2 of 2 (--merge 1,2): no track 1, deleted by ...
    >>> len(edit_log(clip.truth))  # the delete was not written either
    1
    """
    edits = list(edits)
    with open_for_edit(store) as s:
        steps = _plan(s, edits)  # all checked before anything is written
        _write_steps(s, steps)
    named = {e.cls for e in edits if e.kind == "set_class"}
    if named:  # the names as written: read back
        from ecoseg.store import MaskStore

        with MaskStore.open(_as_path(store)) as s:
            warn_case_clashes(s, named)
    return [step.entry for step in steps]


class Review:
    """Review edits on one mask store (each edit is written at once; see the module doc).

    Parameters
    ----------
    store : str, Path, URL or MaskStore
        The store (a MaskStore must not be open for writing).

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
    >>> r
    <Review '.../m.zarr': 2 objects, 4 edits>
    >>> [e["kind"] for e in r.log]
    ['merge', 'set_class', 'undo', 'undo']
    """

    def __init__(self, store):
        self._where = _as_path(store)
        with open_for_edit(self._where):  # validates and completes a pending edit
            pass

    def __repr__(self) -> str:
        return f"<Review {str(self._where)!r}: {len(self.objects)} objects, {len(self.log)} edits>"

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
        from ecoseg.store import opened_store

        with opened_store(self._where) as store:
            return store.objects

    @property
    def log(self) -> list[dict[str, Any]]:
        """The edit log, oldest first."""
        return edit_log(self._where)
