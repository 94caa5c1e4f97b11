"""How :mod:`ecoseg.species.review` writes an edit, in the four steps of its module doc: the
backup of what the edit changes (``edits/NNNNN`` in the store), the intent, the rewrite of the
labels chunks and scores computed from the backup (so a killed edit is completed with the same
bytes), and the commit; also an undo and a classification (:func:`record_classification`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ecoseg.errors import StoreError
from ecoseg.species._edit_log import read_meta, utc_now, write_meta
from ecoseg.species._edit_record import LABEL_KINDS, Edit
from ecoseg.species.edits import edit_objects, edit_scores, relabel

__all__ = [
    "Step",
    "apply_from_backup",
    "backup_attrs",
    "calibration_undone",
    "read_backup",
    "record_classification",
    "undo_calibration",
    "undo_objects",
    "write_steps",
]

_BACKUPS = "edits"
_SAME = object()  # record_classification: the calibration before is the one stored now


@dataclass(frozen=True)
class Step:
    """One log entry of a command, checked: the edit that makes it (an undo makes one entry
    per entry it takes back), its log entry, the label frames it changes, and ``origin``, the
    place of its edit in the command."""

    edit: Edit
    entry: dict
    frames: np.ndarray
    origin: int = 0


def _write_backup(
    store, number: int, frames: np.ndarray, objects: list, edit: dict, progress: bool = False
) -> None:
    """Step 1: what the edit is about to change, into ``edits/NNNNN`` (``progress``: a bar of
    the label frames backed up)."""
    from ecoseg.store import labels_codec  # the labels codec (same bytes on undo)
    from ecoseg.store.chunks import read_checked

    # the scores of the tracks in the object table now: not read_scores(), whose column count
    # is the one the store was opened with (a split earlier in the command added a column);
    # checked, as read_scores() is: a missing chunk would be backed up and rewritten as zeros,
    # the damage gone from the store and from `ecoseg info --verify`
    n, k = store.n_frames, len(objects)
    scores = (
        np.asarray(
            read_checked(store.scores, 0, n, n, store.all_chunks, store.path)[:, :k], np.float32
        )
        if n and k
        else np.zeros((n, k))
    )
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
    with _bar(f"edit {number}: backup", len(frames), progress) as bar:
        while k < len(frames):  # read each labels chunk once
            start = int(frames[k]) - int(frames[k]) % step
            block = store.read_labels(start, start + step)
            stop = k + int(np.searchsorted(frames[k:], start + step))
            arr[k:stop] = block[frames[k:stop] - start]
            bar.update(stop - k)
            k = stop
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


def read_backup(store, number: int) -> tuple[np.ndarray, object, np.ndarray, list]:
    """The backup of edit ``number``: its frames, labels, scores and object table before it.

    The labels are the backup's zarr array (one frame per chunk), read when indexed: a merge
    of two tracks present for minutes holds thousands of full frames, which are read a chunk
    of the store at a time, never all at once.
    """
    try:
        g = store.group[f"{_BACKUPS}/{number:05d}"]
        frames = np.asarray(g["frames"][...], np.int64)
        labels = g["labels"]
        if labels.shape != (len(frames), store.height, store.width):
            raise ValueError(f"labels of shape {labels.shape} for {len(frames)} frames")
        scores = np.asarray(g["scores"][...], np.float32)
        objects = list(g.attrs.asdict()["objects_before"])
    except Exception as exc:
        raise StoreError(
            f"{store.path}: the backup of edit {number} is missing or damaged ({exc}); the edit "
            "cannot be completed or undone"
        ) from None
    return frames, labels, scores, objects


def backup_attrs(store, number: int) -> dict:
    try:
        return dict(store.group[f"{_BACKUPS}/{number:05d}"].attrs.asdict())
    except Exception as exc:
        raise StoreError(
            f"{store.path}: the backup of edit {number} is missing or damaged ({exc})"
        ) from None


def _rewrite_labels(store, frames: np.ndarray, backup, change=None, bar=None) -> None:
    """Step 3: rewrite each labels chunk that holds a changed frame, whole: the frames of the
    backup (``backup[k]`` is frame ``frames[k]`` before the edit), ``change(frame_labels,
    frame)`` applied to each (none: an undo puts them back), read a chunk at a time."""
    if not len(frames):
        return
    step, n = store.chunk_frames, store.n_frames
    by_chunk: dict[int, list[int]] = {}
    for k, f in enumerate(frames.tolist()):
        by_chunk.setdefault(f // step, []).append(k)
    for c, ks in sorted(by_chunk.items()):
        c0, c1 = c * step, min((c + 1) * step, n)
        block = np.array(store.labels[c0:c1], dtype=np.uint32)
        old = np.asarray(backup[ks[0] : ks[-1] + 1], np.uint32)  # frames are sorted
        for k in ks:
            f = int(frames[k])
            frame = old[k - ks[0]]
            block[f - c0] = frame if change is None else change(frame, f)
        _write_chunk(store, c0, block)
        if bar is not None:
            bar.update(len(ks))


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


def undo_objects(now: list[dict], before: list[dict], done: dict) -> list[dict]:
    """The object table after undoing ``done``: the tracks it touched get their entries from
    before it back, the others keep what happened since (a later classification), in the old
    table's order."""
    touched = {int(i) for i in done.get("ids", [])} | {int(done.get("new_id") or 0)}
    by_id = {int(o["id"]): o for o in now}
    return [by_id.get(int(o["id"]), o) if int(o["id"]) not in touched else o for o in before]


def undo_calibration(meta: dict, saved: dict) -> dict:
    """The store's metadata ``meta`` after an undo of a classification whose backup
    attributes are ``saved``: the calibration it replaced (``calibration_before``) back,
    where the store still has the one it saved (``calibration_after``); one saved since
    (``ecoseg measure --calibration``, a study) is not the classification's to take back,
    and is kept (:func:`calibration_undone` says which). A backup of an ecoseg before it
    recorded them: as it is.

    Examples
    --------
    >>> saved = {"calibration_before": None, "calibration_after": {"mm_per_px": 0.5}}
    >>> undo_calibration({"calibration": {"mm_per_px": 0.5}}, saved)
    {}
    >>> undo_calibration({"calibration": {"mm_per_px": 0.2}}, saved)  # saved since: kept
    {'calibration': {'mm_per_px': 0.2}}
    """
    if calibration_undone(meta.get("calibration"), saved) is not True:
        return meta
    meta = {k: v for k, v in meta.items() if k != "calibration"}
    if saved["calibration_before"]:
        meta["calibration"] = saved["calibration_before"]
    return meta


def calibration_undone(now, saved: dict) -> bool | None:
    """Whether an undo of the classification whose backup attributes are ``saved`` gives
    the store, whose calibration is ``now``, its calibration from before back: True where
    the classification changed it and the store has the one it saved; False where it
    changed it and another has been saved since (kept); None where it changed none (or its
    backup is of an ecoseg before it recorded them).

    Examples
    --------
    >>> saved = {"calibration_before": {"mm_per_px": 1.0}, "calibration_after": None}
    >>> calibration_undone(None, saved), calibration_undone({"mm_per_px": 2.0}, saved)
    (True, False)
    >>> calibration_undone(None, {"calibration_before": None, "calibration_after": None})
    """
    if "calibration_before" not in saved or "calibration_after" not in saved:
        return None
    before, after = saved["calibration_before"] or None, saved["calibration_after"] or None
    if before == after:
        return None
    return (now or None) == after


def apply_from_backup(store, meta: dict, entry: dict, bar=None) -> dict:
    """Steps 3 and 4 of a pending edit (or undo), computed from its backup; returns meta.
    ``bar``: a progress bar that counts the label frames rewritten."""
    meta = dict(meta)
    if entry["kind"] == "undo":
        target = int(entry["undoes"])
        frames, labels, scores, objects = read_backup(store, target)
        change, new_scores = None, scores
        # the tracks the edit touched get their old entries back; the others keep what
        # happened since (a later classification), in the old table's order
        done = next(e for e in meta.get("edits", []) if int(e.get("n", 0)) == target)
        new_objects = undo_objects(meta["objects"], objects, done)
        if done["kind"] == "classify":  # the record of the classification before it
            saved = backup_attrs(store, target)
            before = saved.get("classification_before")
            meta.pop("classification", None)
            if before is not None:
                meta["classification"] = before
            meta = undo_calibration(meta, saved)
    elif entry["kind"] == "classify":
        frames, labels, new_scores, _ = read_backup(store, int(entry["n"]))  # no frames
        change = None
        new_objects = backup_attrs(store, int(entry["n"]))["objects_after"]
        meta["classification"] = entry["classification"]
    else:
        edit = Edit.from_dict(entry)
        frames, labels, scores, objects = read_backup(store, int(entry["n"]))
        if backup_attrs(store, int(entry["n"])).get("unchecked") is True:
            # made as before: a split's new part keeps the track's name, a merge of two
            # names a person gave keeps the first one's
            edit = replace(edit, unchecked=True)

        def change(frame: np.ndarray, f: int, edit: Edit = edit) -> np.ndarray:
            return relabel(frame[None], edit, f)[0]

        ids = [int(o["id"]) for o in objects]
        if edit.kind in LABEL_KINDS:
            new_scores, _ = edit_scores(scores, ids, edit)
        else:
            new_scores = scores
        new_objects = edit_objects(objects, edit)
    _rewrite_labels(store, frames, labels, change, bar)
    _write_scores(store, new_scores)
    meta["objects"] = new_objects
    meta["edits"] = [*meta.get("edits", []), entry]
    meta.pop("edit_pending", None)
    write_meta(store, meta)
    _trim_scores(store, len(new_objects))
    return meta


def write_steps(store, steps: Sequence[Step], *, progress: bool = False) -> None:
    """Write checked steps, each in the four steps of :mod:`ecoseg.species.review`'s doc. The
    intent of each also records the edits of the command still to come (``edit_queue``), so a
    killed command is completed as a whole by the next
    :func:`~ecoseg.species.review.open_for_edit`. ``progress``: bars on stderr for a step that
    changes label frames, over its backup and then its rewrite of them."""
    for k, step in enumerate(steps):
        meta = read_meta(store)
        number = int(step.entry["n"])
        if number != len(meta.get("edits", [])) + 1:  # the lock is held: cannot happen
            raise StoreError(f"{store.path}: the edit log changed while edits were written")
        bars = progress and len(step.frames) > 0
        if step.edit.kind != "undo":
            _write_backup(store, number, step.frames, meta["objects"], step.entry, bars)
            if step.edit.unchecked:  # the log entry does not say it (it is the old edit's)
                store.group[f"{_BACKUPS}/{number:05d}"].attrs.update({"unchecked": True})
        meta["edit_pending"] = step.entry
        meta.pop("edit_queue", None)
        # the edits still to come, once each: the rest of an undo half done is one undo
        # again (it takes back what is left of its command, see ``undo_targets``)
        rest = {s.origin: s.edit for s in reversed(steps[k + 1 :])}
        if rest:
            meta["edit_queue"] = [rest[o].queued() for o in sorted(rest)]
        write_meta(store, meta)
        with _bar(f"edit {number}: rewrite", len(step.frames), bars) as bar:
            apply_from_backup(store, meta, step.entry, bar)


def _bar(desc: str, total: int, enabled: bool):
    """A progress bar over label frames on stderr (a no-op when not ``enabled``)."""
    from ecoseg._progress import progress_bar

    return progress_bar(total=total, desc=desc, unit="frame", disable=not enabled, leave=False)


def record_classification(
    store, objects: list[dict], classification: dict, calibration_before=_SAME
) -> dict | None:
    """Write a classification's object table as one undoable edit-log entry.

    ``store`` is open for writing (:func:`open_for_edit`); ``objects`` is the whole object
    table after the classification and ``classification`` its record (model hash, classes,
    threshold). The table before it is backed up like any edit's, so :meth:`Review.undo`
    gives every track it changed its previous class, probability and source back.
    ``calibration_before`` is the store's calibration before the classification saved its
    own (``classify(..., calibration=...)``; by default the one stored now: unchanged); the
    backup keeps both, so the undo puts the old one back too (:func:`undo_calibration`).
    Returns the log entry (``kind="classify"``, ``ids`` the tracks whose entry changed), or
    ``None`` when neither a track's entry nor the calibration changed: then nothing is
    written, so the next ``--undo`` still undoes the last edit that changed something.
    """
    meta = read_meta(store)
    log = meta.get("edits", [])
    before = {int(o["id"]): o for o in meta["objects"]}
    changed = [int(o["id"]) for o in objects if before.get(int(o["id"])) != o]
    if [int(o["id"]) for o in objects] != list(before):
        raise StoreError(f"{store.path}: a classification may not add or drop tracks")
    calibration_after = meta.get("calibration") or None
    if calibration_before is _SAME:
        calibration_before = calibration_after
    calibration_before = calibration_before or None
    if not changed and calibration_before == calibration_after:
        return None
    number = len(log) + 1
    entry = {
        "n": number,
        "kind": "classify",
        "ids": changed,
        "command": number,
        "frames": [],
        "classification": classification,
        "time": utc_now(),
    }
    _write_backup(store, number, np.zeros(0, np.int64), meta["objects"], entry)
    store.group[f"{_BACKUPS}/{number:05d}"].attrs.update(
        {
            "objects_after": objects,
            "classification_before": meta.get("classification"),
            "calibration_before": calibration_before,
            "calibration_after": calibration_after,
        }
    )
    meta["edit_pending"] = entry
    write_meta(store, meta)
    apply_from_backup(store, meta, entry)
    return entry
