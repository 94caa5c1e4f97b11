"""The edit log of :mod:`ecoseg.species.review` in the store's attributes: the attribute
itself read and written whole (:func:`read_meta`, :func:`write_meta`), the checks that refuse a
damaged log (:func:`check_log`), the log as a list (:func:`edit_log`), the edits of it that
stand (:func:`standing_edits`) and those of a person (:func:`person_edits`), and what an
applied edit did in its caller's words (:func:`done_words`)."""

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
    "person_edits",
    "read_meta",
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
    (:func:`~ecoseg.species._undo_words.undid_words`: ``undid edit 3: set class of track 4
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
        from ecoseg.species._undo_words import undid_words, undone_state

        target = entry.get("undoes")
        undone = (log or {}).get(target, {})
        state = undone_state(store, target) if store is not None and target else None
        said = undid_words(undone, state and state.objects_before, state)
        return f"undid edit {target}: {said}"
    extra = f" -> new id {entry['new_id']}" if entry.get("new_id") else ""
    return f"{words(edit) if edit is not None else _logged(entry, words)}{extra}"


def _logged(entry: dict, words: Callable[[Any], str]) -> str:
    from ecoseg.errors import ConfigError
    from ecoseg.species._edit_record import Edit

    try:
        return words(Edit.from_dict(entry))
    except (ConfigError, KeyError, TypeError, ValueError):
        return f"{entry.get('kind')} {entry.get('ids', [])}"
