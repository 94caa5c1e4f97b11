"""Edits of a store's log that today's rules refuse, made before ecoseg refused them, found
so a report's reproduce steps can make them again as they were: splits that
:func:`~ecoseg.species.edits.check_split` refuses or whose new part kept a person's name
(:func:`unchecked_splits`, :func:`kept_names`), merges of two different names of one rank or
made before names were ranked (:func:`refused_merges`, :func:`ranked_otherwise`; with
:func:`unmade_merges`, judged once, :func:`old_merges`), reviewed marks of an ``unknown``
track with a suggestion (:func:`refused_reviews`), names that differ only in letter case from
one left beside them (:func:`refused_names`), and classifications that left the tracks of a
concept of exemplars alone unnamed (:func:`kept_visual`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from ecoseg._class_names import class_key, clean_class_name
from ecoseg._warn import warn
from ecoseg.errors import ConfigError, StoreError
from ecoseg.species._edit_log import ATTR_KEY
from ecoseg.species._edit_plan import command_of
from ecoseg.species._edit_record import LABEL_KINDS, Edit
from ecoseg.species._edit_writes import backup_attrs, read_backup
from ecoseg.species.edits import (
    check_review,
    check_split,
    edit_objects,
    named_by_person,
    relabel,
    set_class_for_old_merge,
)

__all__ = [
    "OldMerges",
    "UncheckedMergeWarning",
    "kept_names",
    "kept_visual",
    "old_merges",
    "ranked_otherwise",
    "refused_merges",
    "refused_names",
    "refused_reviews",
    "unchecked_splits",
    "unmade_merges",
]


class UncheckedMergeWarning(UserWarning):
    """A merge of the store's log whose backups are gone (deleted, or damaged) cannot be
    checked against today's rules (:func:`ranked_otherwise`, :func:`unmade_merges`): a
    replay makes it as the log records it, with ``--merge``, which may name the merged track
    otherwise than the old merge did; the warning names the store and the log entry."""


def unchecked_splits(store) -> list[int]:
    """The log numbers of the store's splits that ``--split`` makes otherwise today, so that
    ``--unchecked-split`` makes them again as they were: splits that
    :func:`~ecoseg.species.edits.check_split` refuses (made before ecoseg checked splits, at
    or before the track's first frame: the new id took the whole track, the old one was left
    without pixels; after its last one; of a track present in no frame), and splits whose new
    part kept a name a person gave the track (reviewed, typed with the prompt, a concept's:
    :func:`~ecoseg.species.edits.named_by_person`), which today's split gives it only as
    ``class_suggestion`` (:func:`kept_names`).

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
        found = kept_names(s)

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
        for entry in reversed(log):
            kind = entry.get("kind")
            done = by_number.get(int(entry.get("undoes") or 0), {}) if kind == "undo" else entry
            if done.get("kind") not in LABEL_KINDS:
                continue
            try:
                frames, labels, _, _ = read_backup(s, int(done["n"]))
            except StoreError:
                break  # the frames before it are not known
            edit = Edit.from_dict(done)
            for k, f in enumerate(frames.tolist()):  # a frame of the backup at a time
                frame = np.asarray(labels[k], np.uint32)
                if kind == "undo":  # before it: the frame as the edit it undid left it
                    frame = relabel(frame[None], edit, f)[0]
                ids_in[f] = split_tracks_in(frame)
            if kind == "split":
                track = int(entry["ids"][0])
                had = np.array(sorted(f for f, ids in ids_in.items() if track in ids), np.int64)
                try:
                    check_split(track, int(entry["frame"]), had)
                except ConfigError:
                    found.append(int(entry["n"]))
        return sorted(set(found))


#: The entries of an object table that say a track's class and who gave it.
_CLASS_KEYS = ("class", "class_source", "class_probability", "class_suggestion", "reviewed")


def kept_names(store) -> list[int]:
    """The log numbers of the store's splits whose new part kept the name a person gave the
    track (reviewed, typed with the prompt, a concept's), as ecoseg's splits did before
    today's split gave it only as ``class_suggestion``, ``unknown`` until named (first a
    reviewed track's name, later also a prompt's and a concept's). Replayed with
    ``--split`` the new part would be counted as ``unknown``, not as that species; the
    ``--unchecked-split`` that :func:`unchecked_splits` lists them for keeps the name.

    The new part's entry is read from the object table just after the split (the backup of
    the next edit, or the store's table after the last one) and compared with what today's
    split and an unchecked one make of the table before it (the split's backup); attributes
    only, no labels are read. A split undone by the next entry leaves nothing to compare;
    a split whose backups are missing or damaged cannot be judged; neither is listed.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> kept_names(clip.truth)
    []
    """
    from ecoseg.store import opened_store

    found = []
    with opened_store(store) as s:
        meta = s.attrs.get(ATTR_KEY, {})
        log = list(meta.get("edits", []))
        for k, entry in enumerate(log):
            if entry.get("kind") != "split":
                continue
            after = log[k + 1] if k + 1 < len(log) else None
            if after is not None and after.get("kind") == "undo":
                continue  # undone at once: the replay's split is undone too
            try:
                split = Edit.from_dict(entry)
                before = backup_attrs(s, int(entry["n"]))["objects_before"]
                table = (
                    meta["objects"]
                    if after is None
                    else backup_attrs(s, int(after["n"]))["objects_before"]
                )
                made = _class_of(table, split.new_id)
                today = _class_of(edit_objects(before, split), split.new_id)
                old = _class_of(edit_objects(before, replace(split, unchecked=True)), split.new_id)
            except (StoreError, ConfigError, KeyError, TypeError, ValueError):
                continue
            if made == old != today:
                found.append(int(entry["n"]))
    return found


def _class_of(objects, track) -> dict:
    """The class entries of ``track`` in an object table (KeyError when it has none)."""
    entry = next((o for o in objects if int(o["id"]) == int(track)), None)
    if entry is None:
        raise KeyError(track)
    return {key: entry.get(key) for key in _CLASS_KEYS}


def refused_merges(store) -> list[int]:
    """The log numbers of the store's merges that ``--merge`` refuses or makes otherwise
    today, made before ecoseg ranked names or refused two different names of one rank;
    ``--unchecked-merge`` makes them again as they were, one log entry each, as a report's
    replay does.

    Two kinds are listed: merges of two different names of one rank (today refused), and
    merges that named the merged track as ecoseg's merges did before they ranked names (the
    first track's class kept, confirmed) where today's merge names it otherwise (a person's
    name on the second track outranks a model's guess on the first; a guess stays a guess)
    (:func:`ranked_otherwise`).

    Until stop 59 it gave a dict, log number -> the ``set_class`` edit that lets the merge go
    through (:func:`~ecoseg.species.edits.set_class_for_old_merge`, which still gives it); a
    replay of such a merge no longer makes one, and nothing else used the edits.

    The names are the object table before the merge, kept in its backup (attributes only; no
    labels are read). A merge whose backup is missing or damaged cannot be judged and is
    not listed.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> refused_merges(clip.truth)
    []
    """
    return _refused(store, _judged_merges(store))


def _refused(store, judged: _JudgedMerges) -> list[int]:
    """:func:`refused_merges` of a store whose merges ``judged`` judged."""
    found = list(judged.ranked_otherwise)
    for n, objects, merge in _logged_with_objects(store, "merge"):
        try:
            if set_class_for_old_merge(objects, merge) is not None:  # the names clash
                found.append(n)
        except (StoreError, ConfigError, KeyError, TypeError, ValueError):  # damaged table
            continue
    return sorted(set(found))


def ranked_otherwise(store) -> list[int]:
    """The log numbers of the store's merges that named the merged track as ecoseg's merges
    did before they ranked names (the first track's class kept whatever the second one's,
    confirmed unless ``unknown``: ``--unchecked-merge``) where today's ``--merge`` names it
    otherwise, so a replay by today's rules would give the track another class.

    The merged track's entry is read from the object table just after the merge (the backup
    of the next entry, or the store's table after the last one) and compared with what
    today's merge and an unchecked one make of the table before it (the merge's backup);
    attributes only, no labels are read. A merge undone by the next entry leaves nothing to
    compare (the replay makes neither); one whose backups are missing or damaged is not
    listed, nor one that neither rule made (:func:`unmade_merges`).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> ranked_otherwise(clip.truth)
    []
    """
    return _judged_merges(store).ranked_otherwise


def unmade_merges(store) -> list[int]:
    """The log numbers of the store's merges that named the merged track as neither today's
    ``--merge`` nor ``--unchecked-merge`` names it (made by an ecoseg between the two rules,
    or before merges left an ``unknown`` track unreviewed): no step makes them as they were,
    and a replay, which makes them with ``--merge``, may name the track otherwise; its step
    says so (:func:`ecoseg.report.reproduce.review_steps`). Judged as
    :func:`ranked_otherwise` judges them; a merge whose backups are missing or damaged cannot
    be judged, is not listed, and is made with ``--merge`` as the log records it, which an
    :class:`UncheckedMergeWarning` says, one per merge (here only, so a report that asks
    both functions warns once).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> unmade_merges(clip.truth)
    []
    """
    return _unmade(_judged_merges(store))


def _unmade(judged: _JudgedMerges) -> list[int]:
    """:func:`unmade_merges` of the merges ``judged`` judged (warns of those it could not)."""
    for n, merge in judged.unjudged:
        warn(
            f"{judged.store}: edit log entry {n}, --merge {','.join(map(str, merge.ids))}, "
            "cannot be checked against today's rules (its backup or the next entry's is "
            "missing or damaged) and is replayed as recorded, with --merge",
            UncheckedMergeWarning,
        )
    return judged.unmade


@dataclass(frozen=True)
class OldMerges:
    """A store's merges a replay makes otherwise than ``--merge`` today (:func:`old_merges`)."""

    #: the log numbers :func:`refused_merges` lists (replayed with ``--unchecked-merge``)
    refused: list[int]
    #: the log numbers :func:`unmade_merges` lists (replayed with ``--merge``, said so)
    unmade: list[int]


def old_merges(store) -> OldMerges:
    """:func:`refused_merges` and :func:`unmade_merges` of a store, its merges judged once
    (each alone reads every merge's backups again), with the same warnings as
    :func:`unmade_merges`; what a report's reproduce steps ask for.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> old_merges(clip.truth)
    OldMerges(refused=[], unmade=[])
    """
    judged = _judged_merges(store)
    return OldMerges(_refused(store, judged), _unmade(judged))


@dataclass(frozen=True)
class _JudgedMerges:
    """The store's merges as :func:`_judged_merges` judged them."""

    #: where the store is, for the warning's words
    store: str
    #: the log numbers :func:`ranked_otherwise` lists
    ranked_otherwise: list[int]
    #: the log numbers :func:`unmade_merges` lists
    unmade: list[int]
    #: log number and merge of those whose backups are missing or damaged
    unjudged: list[tuple[int, Edit]]


def _judged_merges(store) -> _JudgedMerges:
    """The store's merges judged on the object tables just before and just after them."""
    from ecoseg.store import opened_store

    unranked: list[int] = []
    neither: list[int] = []
    unjudged: list[tuple[int, Edit]] = []
    with opened_store(store) as s:
        meta = s.attrs.get(ATTR_KEY, {})
        log = list(meta.get("edits", []))
        for k, entry in enumerate(log):
            if entry.get("kind") != "merge":
                continue
            after = log[k + 1] if k + 1 < len(log) else None
            if after is not None and after.get("kind") == "undo":
                continue  # undone at once: the replay makes neither
            try:
                merge = Edit.from_dict(entry)
                n = int(entry["n"])
            except (ConfigError, KeyError, TypeError, ValueError):
                continue  # a damaged log entry
            try:
                before = backup_attrs(s, n)["objects_before"]
                table = (
                    meta["objects"]
                    if after is None
                    else backup_attrs(s, int(after["n"]))["objects_before"]
                )
            except (StoreError, KeyError, TypeError, ValueError):
                unjudged.append((n, merge))  # its backups deleted or damaged
                continue
            try:
                made = _class_of(table, merge.ids[0])
                old = _class_of(edit_objects(before, replace(merge, unchecked=True)), merge.ids[0])
                today = _class_of(edit_objects(before, merge), merge.ids[0])
            except (ConfigError, KeyError, TypeError, ValueError):
                continue  # damaged, or refused today (two names of one rank: listed as such)
            if made == old != today:
                unranked.append(n)
            elif made not in (old, today):
                neither.append(n)
    return _JudgedMerges(str(s.path), unranked, neither, unjudged)


def refused_reviews(store) -> list[int]:
    """The log numbers of the store's reviewed marks that ``--reviewed`` refuses today
    (:func:`~ecoseg.species.edits.check_review`: an ``unknown`` track with a
    ``class_suggestion``, marked before ecoseg refused it); ``--unchecked-reviewed`` makes
    them again as they were.

    The track is judged on the object table before the mark, kept in its backup (attributes
    only; no labels are read). A mark whose backup is missing or damaged is not listed.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> refused_reviews(clip.truth)
    []
    """
    found: list[int] = []
    for n, objects, mark in _logged_with_objects(store, "reviewed"):
        try:
            check_review(objects, mark)
        except ConfigError:
            found.append(n)
        except (KeyError, TypeError, ValueError):  # a damaged object table
            continue
    return found


def refused_names(store) -> list[int]:
    """The log numbers of the store's ``set_class`` edits that a replay's ``--set-class``
    may refuse: a name that differs only in letter case from one the store held beside it
    (:func:`ecoseg._class_names.new_spelling`), given before ecoseg refused such a name (it
    was written, with a :class:`~ecoseg.errors.ClassNameWarning`), or respelt by a later
    command; ``--unchecked-set-class`` makes them again as they were.

    A replay joins the commands of the log between two classifications into one ``ecoseg
    edit``, which refuses a name beside another spelling after it, so an edit is listed when
    the object table just after its own command or after any later one holds another
    spelling of its name: the next entry's backup (a classification's: the table after it),
    or the store's table after the last entry; before an undo, which keeps no backup, the
    table before the command's last entry with the name that entry set. The new spelling of
    a command that respells every track of a name, as ``--set-class`` allows, is not listed
    while no later table holds the old one beside it. Attributes only, no labels are read; a
    table whose backup is missing or damaged is not read.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> refused_names(clip.truth)
    []
    """
    from ecoseg.store import opened_store

    with opened_store(store) as s:
        meta = s.attrs.get(ATTR_KEY, {})
        log = list(meta.get("edits", []))
        if not any(e.get("kind") == "set_class" for e in log):
            return []

        def table(entry: dict, key: str = "objects_before") -> list:
            try:
                return list(backup_attrs(s, int(entry["n"]))[key])
            except (StoreError, KeyError, TypeError, ValueError):
                return []

        found: list[int] = []
        spellings: dict[str, set[str]] = {}  # in the tables after this entry's command on
        for k in range(len(log) - 1, -1, -1):
            entry, after = log[k], (log[k + 1] if k + 1 < len(log) else None)
            try:
                ends = after is None or command_of(after) != command_of(entry)
            except (KeyError, TypeError, ValueError):
                ends = True
            if ends:  # the table just after its command
                if entry.get("kind") == "classify":
                    objects = table(entry, "objects_after")
                elif after is None:
                    objects = list(meta.get("objects", []))
                elif after.get("kind") != "undo":
                    objects = table(after)
                else:
                    objects = [*table(entry), {"class": entry.get("cls")}]
                for o in objects:
                    name = o.get("class") if isinstance(o, dict) else None
                    if name is not None:
                        spellings.setdefault(class_key(name), set()).add(clean_class_name(name))
            if entry.get("kind") == "set_class" and entry.get("cls") is not None:
                name = clean_class_name(entry["cls"])
                if spellings.get(class_key(name), set()) - {name}:
                    try:
                        found.append(int(entry["n"]))
                    except (KeyError, TypeError, ValueError):
                        continue
        return sorted(found)


def kept_visual(store) -> list[int]:
    """The log numbers of the store's classifications that left the tracks of a concept of
    exemplars alone (class ``visual``, no name typed) as they were, as ``classify`` did before
    it named them like any other guess; ``ecoseg classify --keep-visual`` makes them again so.

    A classification's record says whether it named them (``names_visual``; one recorded
    before has no such key, or one replayed with ``--keep-visual`` says false). It is listed
    when it did not and the object table before it (its backup's attributes; no labels are
    read) holds such a track, which ``classify`` would name today. One whose backup is
    missing or damaged cannot be judged and is not listed.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> kept_visual(clip.truth)
    []
    """
    from ecoseg.measure.regions import class_source_of
    from ecoseg.store import opened_store

    found: list[int] = []
    with opened_store(store) as s:
        for entry in s.attrs.get(ATTR_KEY, {}).get("edits", []):
            record = entry.get("classification")
            if entry.get("kind") != "classify" or not isinstance(record, dict):
                continue
            if record.get("names_visual") is True:
                continue
            try:
                objects = backup_attrs(s, int(entry["n"]))["objects_before"]
                if any(class_source_of(o) == "concept" and not named_by_person(o) for o in objects):
                    found.append(int(entry["n"]))
            except (StoreError, KeyError, TypeError, ValueError):  # a damaged backup
                continue
    return found


def _logged_with_objects(store, kind: str) -> Iterator[tuple[int, list, Edit]]:
    """The store's logged edits of ``kind``: log number, the object table before the edit
    (from its backup's attributes; no labels are read) and the edit. An entry whose backup is
    missing or damaged, or that is no edit, cannot be judged and is left out."""
    from ecoseg.store import opened_store

    with opened_store(store) as s:
        for entry in s.attrs.get(ATTR_KEY, {}).get("edits", []):
            if entry.get("kind") != kind:
                continue
            try:
                objects = backup_attrs(s, int(entry["n"]))["objects_before"]
                edit = Edit.from_dict(entry)
            except (StoreError, ConfigError, KeyError, TypeError, ValueError):
                continue
            yield int(entry["n"]), objects, edit
