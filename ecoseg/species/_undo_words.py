"""What an undo took back, in plain words (:func:`undid_words`), the same for every kind of
edit and in every front end (``ecoseg edit --undo``, napari's *Review tracks* **Undo**): the
edit it took back and what the store held before it (``was: ...``), read from the edit's
backup (:func:`undone_state`); one edit an undo took back as a record (:class:`UndoneEdit`,
what :meth:`ecoseg.species.Review.undo` returns, made by :func:`undone_edit`, whose words
:func:`ecoseg.species._edit_log.done_words` prints).

Examples
--------
>>> undid_words({"n": 3, "kind": "set_class", "ids": [4], "cls": "parrotfish"},
...             [{"id": 4, "class": "unknown"}])
'set class of track 4 to parrotfish (was: unknown)'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["UndoneEdit", "UndoneState", "undid_words", "undone_edit", "undone_state"]


@dataclass(frozen=True)
class UndoneState:
    """What the backup of an edit an undo took back says: the object table before the edit
    (None: not read) and, for a classification that saved a calibration, whether the undo
    gave the store its calibration from before back (``calibration_back``: True, named
    ``calibration_before``; False: another was saved since and is kept; None: it saved none)."""

    objects_before: list[dict] | None = None
    calibration_back: bool | None = None
    calibration_before: dict | None = None


@dataclass(frozen=True)
class UndoneEdit:
    """One edit an undo took back (:meth:`~ecoseg.species.Review.undo` returns one per edit
    of the command it took back, last first).

    Attributes
    ----------
    entry : dict
        The undo's own log entry (``kind="undo"``; ``undoes``: the number of the edit it took
        back), as :attr:`~ecoseg.species.Review.log` holds it.
    undone : dict
        The log entry of the edit it took back (empty if the log has none of that number).
    words : str
        What it took back in plain words, as ``ecoseg edit --undo`` prints it after
        ``edit N:`` (:func:`undid_words`): ``undid edit 3: set class of track 4 to
        parrotfish (was: unknown)``.
    """

    entry: dict
    undone: dict
    words: str


def undone_edit(
    entry: Mapping[str, Any], log: Mapping[Any, dict] | None = None, store: Any = None
) -> UndoneEdit:
    """The :class:`UndoneEdit` of an undo's log entry: the edit it took back, from ``log``
    (the edit log by entry number), and, given the ``store`` (its backups), what the store
    held before that edit in its words (:func:`undone_state`).

    Examples
    --------
    >>> undo = {"n": 4, "kind": "undo", "ids": [], "undoes": 3}
    >>> undone_edit(undo, {3: {"n": 3, "kind": "delete", "ids": [7]}}).words
    'undid edit 3: delete of track 7'
    """
    target = entry.get("undoes")
    undone = dict((log or {}).get(target, {}))
    state = undone_state(store, target) if store is not None and target else None
    said = undid_words(undone, state and state.objects_before, state)
    return UndoneEdit(dict(entry), undone, f"undid edit {target}: {said}")


def undone_state(store: Any, number: Any) -> UndoneState:
    """:class:`UndoneState` of edit ``number``, after an undo took it back, from its backup in
    ``store`` (a path or an open store); an empty one where the backup cannot be read (the
    words then leave out what it held)."""
    from ecoseg.store import opened_store

    try:
        with opened_store(store) as s:
            g = s.group[f"edits/{int(number):05d}"]
            saved = dict(g.attrs.asdict())
            now = s.calibration
    except Exception:  # the words are a courtesy: the undo is written already
        return UndoneState()
    objects = saved.get("objects_before")
    back = None
    if "calibration_before" in saved and "calibration_after" in saved:
        before, after = saved["calibration_before"] or None, saved["calibration_after"] or None
        if before != after:  # it saved one: back where the store has the old one now
            back = (now or None) == before
    return UndoneState(
        objects if isinstance(objects, list) else None, back, saved.get("calibration_before")
    )


def _calibration_text(cal: Mapping | None) -> str:
    from ecoseg.measure.calibration import Calibration

    try:
        return str(Calibration.from_dict(cal)) if cal else "none (pixels)"
    except Exception:
        return str(cal)


def undid_words(
    undone: Mapping[str, Any],
    objects_before: Sequence[Mapping[str, Any]] | None = None,
    state: UndoneState | None = None,
) -> str:
    """The edit (a log entry, ``undone``) an undo took back, in plain words, and what it
    changed from (``was: ...``, from ``objects_before``, the object table before the edit,
    where given); a classification names its tracks, its model and, from ``state``
    (:func:`undone_state`), the calibration the undo gave back or kept.

    Examples
    --------
    >>> before = [{"id": 3, "class": "wrasse"}, {"id": 7, "class": "unknown"}]
    >>> undid_words({"kind": "merge", "ids": [3, 7]}, before)
    'merge of track 7 into track 3 (was: track 3 wrasse, track 7 unknown)'
    >>> undid_words({"kind": "split", "ids": [3], "frame": 9, "new_id": 8}, before)
    'split of track 3 at frame 9 into new track 8 (was: one track, wrasse)'
    >>> undid_words({"kind": "reviewed", "ids": [7]}, before)
    'mark track 7 reviewed (was: not reviewed, unknown)'
    >>> guess = [{"id": 4, "class": "wrasse", "class_source": "classified"}]
    >>> undid_words({"kind": "set_class", "ids": [4], "cls": "wrasse"}, guess)
    'set class of track 4 to wrasse (was: wrasse, classified, not reviewed)'
    >>> undid_words({"kind": "delete", "ids": [7]})
    'delete of track 7'
    >>> undid_words({"kind": "classify", "ids": [3, 7], "classification": {
    ...     "model_sha256": "ab12" * 16, "model_file": "species.json"}}, before)
    'classify of 2 tracks by model species.json (sha256 ab12ab12ab12) (was: 1 unknown, 1 wrasse)'
    """
    from ecoseg.provenance import clean_class_name

    kind = undone.get("kind")
    ids = [int(i) for i in undone.get("ids", []) if isinstance(i, int)]
    known = objects_before is not None
    was = {int(o["id"]): o for o in objects_before or [] if isinstance(o, Mapping) and "id" in o}

    def name(track: int) -> str:
        return clean_class_name(was[track].get("class")) if track in was else "no track"

    if kind == "set_class" and ids:
        said, before = f"set class of track {ids[0]} to {undone.get('cls')}", name(ids[0])
        if ids[0] in was and before == clean_class_name(undone.get("cls")):
            # it confirmed a guess of that name: "(was: wrasse)" read as no change at all
            old = was[ids[0]]
            mark = "reviewed" if old.get("reviewed") else "not reviewed"
            before = f"{before}, {old.get('class_source') or 'no class source'}, {mark}"
    elif kind == "reviewed" and ids:
        mark = "reviewed" if was.get(ids[0], {}).get("reviewed") else "not reviewed"
        said, before = f"mark track {ids[0]} reviewed", f"{mark}, {name(ids[0])}"
    elif kind == "merge" and len(ids) == 2:
        said = f"merge of track {ids[1]} into track {ids[0]}"
        before = f"track {ids[0]} {name(ids[0])}, track {ids[1]} {name(ids[1])}"
    elif kind == "split" and ids:
        said = (
            f"split of track {ids[0]} at frame {undone.get('frame')} into new track "
            f"{undone.get('new_id')}"
        )
        before = f"one track, {name(ids[0])}"
    elif kind == "delete" and ids:
        said, before = f"delete of track {ids[0]}", name(ids[0])
    elif kind == "classify":
        said, before = _classify_words(undone, ids), None
        if known:
            counts = Counter(name(i) for i in ids)
            before = ", ".join(f"{n} {c}" for c, n in sorted(counts.items())) or None
    else:  # no edit of today's
        said, before = f"{kind} {ids}", None
    text = f"{said} (was: {before})" if known and before is not None else said
    if kind == "classify" and state is not None and state.calibration_back is not None:
        if state.calibration_back:
            text += f"; calibration back to {_calibration_text(state.calibration_before)}"
        else:
            text += "; the calibration it saved was replaced since, and is kept"
    return text


def _classify_words(undone: Mapping[str, Any], ids: list[int]) -> str:
    """``classify of N tracks by model FILE (sha256 FIRST-12)``, from the entry's record: the
    shipped model by its name (``ecoseg:species_model.json``) also where an older ecoseg
    recorded its path, as a report's step names it
    (:func:`~ecoseg.species.model.portable_model_name`)."""
    from ecoseg.species.model import portable_model_name

    record = undone.get("classification") or {}
    sha = record.get("model_sha256") if isinstance(record, Mapping) else None
    file = record.get("model_file") if isinstance(record, Mapping) else None
    file = portable_model_name(file, sha) or file
    model = [str(file)] if isinstance(file, str) and file else []
    if isinstance(sha, str) and sha:
        model.append(f"(sha256 {sha[:12]})" if model else f"sha256 {sha[:12]}")
    by = f" by model {' '.join(model)}" if model else ""
    tracks = f"{len(ids)} track{'s' if len(ids) != 1 else ''}"
    return f"classify of {tracks}{by}"
