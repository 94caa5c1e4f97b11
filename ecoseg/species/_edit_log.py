"""The edit log of :mod:`ecoseg.species.review` in the store's attributes: the attribute
itself read and written whole (:func:`read_meta`, :func:`write_meta`), the checks that refuse a
damaged log (:func:`check_log`), the log as a list (:func:`edit_log`), the edits of it that
stand (:func:`standing_edits`), those of a person (:func:`person_edits`) and those a replay
makes again (:func:`replayed_edits`), and what an applied edit did in its caller's words
(:func:`done_words`), and the log in plain words, each entry marked with what undid it
(:func:`log_lines`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ecoseg.errors import StoreError
from ecoseg.store import ATTRS_KEY

__all__ = [
    "ATTR_KEY",
    "check_log",
    "done_words",
    "edit_log",
    "log_lines",
    "person_edits",
    "read_meta",
    "replayed_edits",
    "standing_edits",
    "utc_now",
    "write_meta",
]

#: The store attribute that holds the store's metadata (object table, edit log).
ATTR_KEY = ATTRS_KEY


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_meta(store) -> dict[str, Any]:
    """The store's metadata attribute as stored (a copy); a damaged edit log is refused."""
    meta = json.loads(json.dumps(store.group.attrs.asdict()[ATTR_KEY]))
    check_log(meta, store.path)
    return meta


def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_entry(entry: Any) -> bool:
    n = entry.get("n") if isinstance(entry, dict) else None
    return (
        isinstance(entry.get("kind") if n is not None else None, str)
        and _is_number(n)
        and _is_number(entry.get("command", n))  # optional: logs before it have none
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
            f"number 'n', a 'kind' (and a whole 'command' number, if any), got "
            f"{json.dumps(edits)[:80]}"
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


def standing_edits(log: Sequence[dict]) -> list[dict]:
    """The entries of ``log`` no undo took back (nor the undo entries), in log order: the
    edits the store holds now. An undo entry takes back the entry it names (``undoes``; one
    of an older log that names none, the last entry standing).

    Examples
    --------
    >>> log = [{"n": 1, "kind": "delete"}, {"n": 2, "kind": "classify"},
    ...        {"n": 3, "kind": "undo", "undoes": 2}]
    >>> [e["n"] for e in standing_edits(log)]
    [1]
    """
    stack: list[dict] = []
    for entry in log:
        if entry.get("kind") == "undo":
            undoes = entry.get("undoes")
            k = next((k for k, e in enumerate(stack) if e.get("n") == undoes), len(stack) - 1)
            if stack:
                del stack[k]
        else:
            stack.append(entry)
    return stack


def _taken_back(log: Sequence[dict]) -> dict[int, int]:
    """The position in ``log`` of each undo entry and of the entry it took back, undo first
    (as :func:`standing_edits` pairs them); an undo that names an entry not in ``log`` (a
    part of a log) is paired with none and left out."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for k, entry in enumerate(log):
        if entry.get("kind") != "undo":
            stack.append(k)
            continue
        undoes = entry.get("undoes")
        if undoes is None:  # an older log's: the last entry standing
            j = len(stack) - 1 if stack else None
        else:
            j = next((j for j, i in enumerate(stack) if log[i].get("n") == undoes), None)
        if j is not None:
            pairs[k] = stack.pop(j)
    return pairs


def log_lines(log: Sequence[dict]) -> list[str]:
    """The edit log in plain words, one line per entry, every entry kept (the log is the
    record), as ``ecoseg edit STORE --log`` prints it: the entry's number and what it did
    (:func:`~ecoseg.species._undo_words.undid_words`, the words an undo says it took back),
    an entry an undo took back marked with that undo (paired as :func:`standing_edits` pairs
    them), so what stands is the unmarked edits; an undo names the edit it took back.
    Public as ``ecoseg.species.log_lines``.

    Parameters
    ----------
    log : sequence of dict
        An edit log, oldest first: :func:`edit_log` of a store, or
        :attr:`~ecoseg.species.Review.log`.

    Returns
    -------
    list of str
        One line per entry, in log order.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> from ecoseg.species import Review, log_lines
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48), n_fish=2,
    ...                     n_invertebrates=0)
    >>> r = Review(clip.truth)
    >>> r.delete(1)
    >>> _ = r.undo()
    >>> for line in log_lines(r.log):
    ...     print(line)
    1  delete of track 1  (undone by edit 2)
    2  undid edit 1

    A log as a list of entries:

    >>> log = [{"n": 1, "kind": "delete", "ids": [2]},
    ...        {"n": 2, "kind": "set_class", "ids": [1], "cls": "wrasse"},
    ...        {"n": 3, "kind": "undo", "ids": [], "undoes": 2}]
    >>> for line in log_lines(log):
    ...     print(line)
    1  delete of track 2
    2  set class of track 1 to wrasse  (undone by edit 3)
    3  undid edit 2
    """
    from ecoseg.species._undo_words import undid_words

    log = list(log)
    undone_by = {taken: undo for undo, taken in _taken_back(log).items()}
    width = max((len(str(e.get("n"))) for e in log), default=0)
    lines = []
    for k, entry in enumerate(log):
        if entry.get("kind") == "undo":
            target = entry.get("undoes")
            if target is None:  # an older log's: the pairing says which
                target = next((log[t].get("n") for t, u in undone_by.items() if u == k), "?")
            said = f"undid edit {target}"
        else:
            said = undid_words(entry)
        if k in undone_by:
            said += f"  (undone by edit {log[undone_by[k]].get('n')})"
        lines.append(f"{entry.get('n')!s:>{width}}  {said}")
    return lines


def replayed_edits(log: Sequence[dict], kept: int = 0) -> list[dict]:
    """The entries of ``log`` a replay makes again, in log order: an edit an undo took back
    and that undo cancel out, as in :func:`standing_edits` (a classification and its
    ``--undo`` are no two steps: the store is as before both, and the replay needs no model
    file for them), so a replay makes the store that holds the same edits; what an undo took
    back is kept, with its undo, only where leaving it out would change a later edit:

    - a stretch of the log of undone edits and their undos that is not whole (an undo of an
      edit outside it: a log edited by hand, a part of a log) is kept as it is;
    - one with a split, before a split the replay makes: a split's new id is one above
      every id the log ever used, so the later split would get another id without it;
    - one among the first ``kept`` entries (with its undo, wherever that is): a report that
      names a later entry by its number (``edit log entry 5``, as ``ecoseg edit STORE --log``
      numbers it) needs the store made again to number it alike, which it does not with
      entries before it left out.

    Examples
    --------
    >>> log = [{"n": 1, "kind": "set_class", "ids": [4], "cls": "goby"},
    ...        {"n": 2, "kind": "classify", "ids": [4, 5]},
    ...        {"n": 3, "kind": "undo", "ids": [], "undoes": 2},
    ...        {"n": 4, "kind": "delete", "ids": [5]}]
    >>> [e["n"] for e in replayed_edits(log)]
    [1, 4]
    >>> split = {"n": 1, "kind": "split", "ids": [2], "frame": 3, "new_id": 6}
    >>> undone = [split, {"n": 2, "kind": "undo", "ids": [], "undoes": 1}]
    >>> [e["n"] for e in replayed_edits(undone)]
    []
    >>> [e["n"] for e in replayed_edits([*undone, {**split, "n": 3, "new_id": 7}])]
    [1, 2, 3]
    >>> [e["n"] for e in replayed_edits(log, kept=2)]  # entry 4 stays entry 4
    [1, 2, 3, 4]
    """
    log = list(log)
    pairs = _taken_back(log)
    gone = set(pairs) | set(pairs.values())
    runs: list[list[int]] = []  # stretches of the log taken back
    for k in range(len(log)):
        if k in gone:
            if runs and runs[-1][-1] == k - 1:
                runs[-1].append(k)
            else:
                runs.append([k])
    keep: set[int] = set()
    later_split = False
    for k in range(len(log) - 1, -1, -1):
        run = next((r for r in runs if r[-1] == k), None)
        if run is not None:
            inside = set(run)
            whole = all(pairs[u] in inside for u in inside if u in pairs) and all(
                u in inside for u, t in pairs.items() if t in inside
            )
            split = any(log[i].get("kind") == "split" for i in run)
            if not whole or (split and later_split):
                keep.update(run)
        if log[k].get("kind") == "split" and (k not in gone or k in keep):
            later_split = True
    keep.update(k for pair in pairs.items() if pair[1] < kept for k in pair)
    return [e for k, e in enumerate(log) if k not in gone or k in keep]


def person_edits(log: Sequence[Any]) -> list[dict]:
    """The edits of ``log`` a person made that the store still holds: the entries no undo
    took back (:func:`standing_edits`) other than a model's naming (``ecoseg classify``,
    ``kind="classify"``). None: nobody reviewed the store, even where its log has entries (a
    classification, edits every one of which was undone). Entries that are not edits (not
    a dict with a ``kind``: a log edited by hand) are left out.

    Examples
    --------
    >>> classified = [{"n": 1, "kind": "classify"}, {"n": 2, "kind": "undo", "undoes": 1}]
    >>> person_edits(classified), person_edits(classified[:1])
    ([], [])
    >>> reviewed = [{"n": 1, "kind": "reviewed", "ids": [4]}]
    >>> person_edits(reviewed), person_edits([*reviewed, {"n": 2, "kind": "undo", "undoes": 1}])
    ([{'n': 1, 'kind': 'reviewed', 'ids': [4]}], [])
    """
    entries = [e for e in log if isinstance(e, dict) and isinstance(e.get("kind"), str)]
    return [e for e in standing_edits(entries) if e["kind"] != "classify"]


def done_words(
    entry: dict,
    words: Callable[[Any], str],
    edit: Any = None,
    log: Mapping[int, dict] | None = None,
    store: Any = None,
) -> str:
    """What an applied edit did, in its caller's words (``words``, an
    :data:`~ecoseg.species.edits.EditWords`: ``ecoseg edit``'s options, the widget's buttons):
    the edit with the class it set, a split's new id; an undo says in plain words, the same
    in every front end, which edit it took back (``log``: the edit log by entry number) and,
    given the ``store`` (its backups), what the store held before that edit
    (:attr:`~ecoseg.species._undo_words.UndoneEdit.words`, as
    :meth:`~ecoseg.species.Review.undo` returns them: ``undid edit 3: set class of track 4
    to parrotfish (was: unknown)``, ``undid edit 5: classify of 12 tracks by model
    species.json (sha256 ...) (was: 12 unknown)``).

    ``entry`` is the edit's log entry; ``edit`` the :class:`~ecoseg.species.edits.Edit` as
    given (an unchecked split or mark is worded so; the log entry does not say it). A
    classification (no edit makes it) or an entry no edit reads back is its kind and ids.

    Examples
    --------
    >>> from ecoseg.species.edits import cli_words
    >>> done_words({"n": 1, "kind": "set_class", "ids": [1], "cls": "blue tang"}, cli_words)
    "--set-class 1='blue tang'"
    >>> done_words({"n": 2, "kind": "split", "ids": [4], "frame": 8, "new_id": 5}, cli_words)
    '--split 4@8 -> new id 5'
    >>> done_words({"n": 4, "kind": "undo", "ids": [], "undoes": 3}, cli_words,
    ...            log={3: {"n": 3, "kind": "merge", "ids": [2, 4]}})
    'undid edit 3: merge of track 4 into track 2'
    """
    if entry["kind"] == "undo":  # its own ids are empty: say which edit it took back
        from ecoseg.species._undo_words import undone_edit

        return undone_edit(entry, log, store).words  # as Review.undo() returns it
    extra = f" -> new id {entry['new_id']}" if entry.get("new_id") else ""
    return f"{words(edit) if edit is not None else _logged(entry, words)}{extra}"


def _logged(entry: dict, words: Callable[[Any], str]) -> str:
    from ecoseg.errors import ConfigError
    from ecoseg.species._edit_record import Edit

    try:
        return words(Edit.from_dict(entry))
    except (ConfigError, KeyError, TypeError, ValueError):
        return f"{entry.get('kind')} {entry.get('ids', [])}"
