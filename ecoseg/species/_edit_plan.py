"""A command of edits checked as a whole before anything is written (:func:`plan_edits`):
every edit against the store and the edits before it, following the object table and the
frames each track is present in through the edits (see :mod:`ecoseg.species.review`). A
naming or reviewed mark that changes nothing (a repeat) is left out of the plan, with an
:class:`UnchangedEditWarning`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ecoseg._class_names import clean_class_name, new_spelling, track_list
from ecoseg._warn import warn
from ecoseg.errors import ConfigError
from ecoseg.species._edit_log import read_meta, standing_edits, utc_now
from ecoseg.species._edit_record import LABEL_KINDS, Edit, EditWords, cli_words, with_new_id
from ecoseg.species._edit_writes import Step, read_backup, undo_objects
from ecoseg.species.edits import (
    check_review,
    check_split,
    check_survey_merge,
    edit_objects,
    present_after,
    touched_frames,
)

__all__ = [
    "UnchangedEditWarning",
    "check_edit_spellings",
    "command_of",
    "gone_before",
    "plan_edits",
    "undo_targets",
]


class UnchangedEditWarning(UserWarning):
    """A ``set_class`` or reviewed mark that changes nothing (the track has that class and is
    reviewed already: a notebook cell or command run again) is not written nor logged again;
    the warning names the store, the edit and the track as it is."""


def _as_is(objects: Sequence[dict], track: int) -> str:
    """How a track's entry stands, for :class:`UnchangedEditWarning`.

    Examples
    --------
    >>> _as_is([{"id": 3, "class": "wrasse", "reviewed": True}], 3)
    "track 3 is 'wrasse' and reviewed already"
    """
    entry = next(o for o in objects if int(o["id"]) == track)
    return f"track {track} is {entry.get('class')!r} and reviewed already"


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


def command_of(entry: dict) -> int:
    """The command an edit-log entry was written by: its ``command`` number (the log number
    of the command's first entry), or for an entry of an older log, which has none, its own
    number (each entry its own command).

    Examples
    --------
    >>> command_of({"n": 4, "kind": "set_class", "command": 3}), command_of({"n": 4})
    (3, 4)
    """
    return int(entry.get("command", entry.get("n", 0)))


def undo_targets(log: Sequence[dict]) -> list[int]:
    """The log numbers the next undo takes back, last first: every entry of the last command
    not yet undone (:func:`command_of`). An undo entry takes back the one entry it names
    (``undoes``), so a command half taken back (a killed undo) has the rest left; undo entries
    are never taken back themselves (an undo after an undo takes back the command before).

    Examples
    --------
    >>> log = [{"n": 1, "kind": "delete"}, {"n": 2, "kind": "set_class", "command": 2},
    ...        {"n": 3, "kind": "set_class", "command": 2}]
    >>> undo_targets(log)
    [3, 2]
    >>> undo_targets(log + [{"n": 4, "kind": "undo", "undoes": 3, "command": 4},
    ...                     {"n": 5, "kind": "undo", "undoes": 2, "command": 4}])
    [1]
    """
    stack = standing_edits(log)
    if not stack:
        return []
    last = command_of(stack[-1])
    out: list[int] = []
    for entry in reversed(stack):
        if command_of(entry) != last:
            break
        out.append(int(entry["n"]))
    return out


def gone_before(log: Sequence[dict], track: int, words: EditWords = cli_words) -> str | None:
    """Why ``track`` is no track of the store (said after "no track N, "), where an edit of
    the ``log`` says: deleted or
    merged into another by an edit not taken back (and how many undos take it back: each
    takes back the last command not yet undone), or made by a split an undo took back;
    None for an id no edit made or removed (it never was a track). Named in ``words``.

    Examples
    --------
    >>> log = [{"n": 1, "kind": "delete", "ids": [9], "command": 1},
    ...        {"n": 2, "kind": "set_class", "ids": [4], "cls": "wrasse", "command": 2}]
    >>> gone_before(log[:1], 9)
    'deleted by edit 1 (--delete 9); --undo takes it back'
    >>> gone_before(log, 9).split("; ")[1]
    '--undo, repeated 2 times, takes it back (and the 1 later command)'
    >>> gone_before(log, 7) is None
    True
    """
    stack = standing_edits(log)
    undo = words(Edit("undo"))
    for k in range(len(stack) - 1, -1, -1):
        entry = stack[k]
        ids = [int(i) for i in entry.get("ids", [])]
        if entry["kind"] == "delete" and ids == [track]:
            how = "deleted"
        elif entry["kind"] == "merge" and len(ids) == 2 and ids[1] == track:
            how = f"merged into track {ids[0]}"
        else:
            continue
        commands = len({command_of(e) for e in stack[k:]})
        back = f"{undo} takes it back"
        if commands > 1:
            later = commands - 1
            back = (  # each undo takes back the last command not yet undone
                f"{undo}, repeated {commands} times, takes it back (and the {later} later "
                f"command{'s' if later > 1 else ''})"
            )
        return f"{how} by edit {entry['n']} ({_named(entry, words)}); {back}"
    standing = {int(e["n"]) for e in stack}
    for entry in log:
        if entry["kind"] == "split" and entry.get("new_id") == track:
            if int(entry["n"]) not in standing:
                undone = next(
                    (e["n"] for e in log if e["kind"] == "undo" and e.get("undoes") == entry["n"]),
                    None,
                )
                by = f" by edit {undone} ({undo})" if undone is not None else ""
                return f"made by edit {entry['n']} ({_named(entry, words)}), taken back{by}"
    return None


def _named(entry: dict, words: EditWords) -> str:
    """A log entry in ``words`` (its kind alone where it is no edit of today's)."""
    try:
        return words(Edit.from_dict(entry))
    except (ConfigError, KeyError, TypeError, ValueError):
        return str(entry.get("kind"))


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


def plan_edits(
    store, edits: Sequence[Edit], *, words: EditWords = cli_words, command: int | None = None
) -> list[Step]:
    """Check every edit of a command against the store and the edits before it, writing
    nothing; returns the steps to write. Raises ConfigError naming the first invalid edit
    (and an edit before it that removed its track, a merge's remedy) in ``words``
    (:data:`~ecoseg.species.edits.EditWords`: the ``ecoseg edit`` options, the Python call,
    a widget's buttons).

    Every entry of the command carries its number ``command`` (by default the log number of
    its first entry; the rest of a killed command keeps the number it began with). An undo
    takes back every entry of the last command not yet undone (:func:`undo_targets`), last
    first, one ``undo`` entry each. A ``set_class`` or reviewed mark that changes nothing
    (the track has that class and is reviewed already) has no step: one
    :class:`UnchangedEditWarning` names those of the command once it is all checked.

    The object table and the frames each track is present in are followed through the
    edits (exactly: :func:`~ecoseg.species.edits.present_after`, and for an undo the state
    before the edit it undoes), so the labels are read once for the whole command.
    """
    meta = read_meta(store)
    log = list(meta.get("edits", []))
    command = len(log) + 1 if command is None else int(command)
    objects = meta["objects"]
    present = _presence(store) if any(e.kind in LABEL_KINDS for e in edits) else None
    photos = store.provenance_record.photos  # a photo survey's image names
    used = {int(o["id"]) for o in objects}  # never reuse the id of a merged or deleted track
    for e in log:
        used.update(int(i) for i in e.get("ids", []))
        used.add(int(e.get("new_id") or 0))
    before: dict[int, tuple[list, dict | None, np.ndarray]] = {}  # this command's edits
    gone: dict[int, str] = {}  # ids this command removed, and how
    steps: list[Step] = []

    def add(edit: Edit, entry: dict, frames: np.ndarray, new_objects, new_present) -> None:
        nonlocal objects, present
        entry.update(command=command, frames=_frame_ranges(frames), time=utc_now())
        before[int(entry["n"])] = (objects, present, frames)
        objects, present = new_objects, new_present
        log.append(entry)
        steps.append(Step(edit, entry, frames, origin=len(planned)))

    planned: list[Edit] = []
    unchanged: list[str] = []  # repeats left out, said once the whole command is checked
    for k, edit in enumerate(edits, 1):
        try:
            if edit.kind == "undo":
                targets = undo_targets(log)
                if not targets:
                    raise ConfigError("nothing to undo")
                for target in targets:
                    done = next(e for e in log if int(e.get("n", 0)) == target)
                    if target in before:
                        old_objects, new_present, frames = before[target]
                    else:
                        frames, labels, _, old_objects = read_backup(store, target)
                        new_present = present
                        if present is not None:
                            new_present = _present_restored(present, frames, labels)
                    new_objects = undo_objects(objects, old_objects, done)
                    entry = {"n": len(log) + 1, "kind": "undo", "undoes": target, "ids": []}
                    add(edit, entry, frames, new_objects, new_present)
                planned.append(edit)
                continue
            ids = {int(o["id"]) for o in objects}
            for oid in edit.ids:
                if oid not in ids:
                    if oid in gone:
                        why = f", {gone[oid]} earlier in this command"
                    else:  # a track an earlier command removed is no typo: say so
                        said = gone_before(log, oid, words)
                        if said is not None:
                            raise ConfigError(f"no track {oid}, {said}")
                        why = ""
                    raise ConfigError(f"no track {oid}{why} (known: {_ids_text(ids)})")
            if edit.kind == "split":
                edit = with_new_id(edit, max(used) + 1)
                if not edit.unchecked:  # a replay of a split made before the rule
                    check_split(edit.ids[0], edit.frame, present.get(edit.ids[0], []))
            if edit.kind == "merge" and photos is not None:
                a, b = edit.ids
                none = np.zeros(0, np.int64)
                check_survey_merge(a, b, present.get(a, none), present.get(b, none), photos)
            check_review(objects, edit, words)
            new_objects = edit_objects(objects, edit, words)
            if edit.kind in ("set_class", "reviewed") and new_objects == objects:
                unchanged.append(f"{words(edit)}: {_as_is(objects, edit.ids[0])}")
                continue  # a repeat: nothing to write, nothing to log (nor to undo)
            frames, new_present = np.zeros(0, np.int64), present
            if edit.kind in LABEL_KINDS:
                frames = touched_frames(present, edit)
                new_present = present_after(present, edit)
            entry = {"n": len(log) + 1, **edit.to_dict()}
            used.update(edit.ids)
            used.add(int(edit.new_id or 0))
            option = words(edit)
            if edit.kind == "merge":
                gone[edit.ids[1]] = f"merged into track {edit.ids[0]} by {option}"
            elif edit.kind == "delete":
                gone[edit.ids[0]] = f"deleted by {option}"
        except ConfigError as exc:
            where = words(edit)
            if len(edits) > 1:
                where = f"edit {k} of {len(edits)} ({where})"
            raise ConfigError(f"{store.path}: {where}: {exc}; nothing was changed") from None
        add(edit, entry, frames, new_objects, new_present)
        planned.append(edit)
    check_edit_spellings(store, edits, meta["objects"], objects, words)
    if unchanged:
        said = "; ".join(unchanged)
        warn(f"{store.path}: {said}; not written nor logged again", UnchangedEditWarning)
    return steps


def check_edit_spellings(
    store, edits: Sequence[Edit], before: Sequence[dict], after: Sequence[dict], words: EditWords
) -> None:
    """Refuse a command whose ``set_class`` gives a name that differs only in letter case
    from one the store holds (``before`` the command) and still holds ``after`` it
    (:func:`ecoseg._class_names.new_spelling`): they would be counted as two species. Respelling
    a name is naming every track of it alike in one command. An unchecked ``set_class`` (a
    replay of one made before the rule, ``--unchecked-set-class``) is not refused."""
    names = [o.get("class") for o in before]
    for k, edit in enumerate(edits, 1):
        if edit.kind != "set_class" or edit.unchecked:
            continue
        there = new_spelling(edit.cls, names, [o.get("class") for o in after])
        if there is None:
            continue
        tracks = [int(o["id"]) for o in after if clean_class_name(o.get("class")) == there]
        listed = track_list(tracks)
        where = words(edit) if len(edits) == 1 else f"edit {k} of {len(edits)} ({words(edit)})"
        raise ConfigError(
            f"{store.path}: {where}: class {edit.cls!r} differs only in case from {there!r} "
            f"already in the store ({listed}); use {there!r}, or name {listed} {edit.cls!r} "
            "too in the same command; nothing was changed"
        )


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
