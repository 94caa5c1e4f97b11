"""Review edits as data, and their pure effect on label images, score columns and the object
table.

An :class:`Edit` says *what* a reviewer did (set a class, merge, split, delete, mark reviewed,
undo; the record and the words that name it live in ``_edit_record``, re-exported here);
:func:`relabel` applies it to a stack of label frames, :func:`edit_scores` to the store's
score columns and :func:`edit_objects` to the object table (who named a track:
:func:`named_by_person`). They are pure functions of their inputs and idempotent for the label
edits (applying an edit twice gives the result of applying it once), which is what lets an
interrupted edit be completed from the stored backup (see :mod:`ecoseg.species.review`).

Examples
--------
>>> import numpy as np
>>> lab = np.array([[[1, 2, 0]], [[1, 2, 3]]], np.uint32)  # 2 frames, 1 x 3 pixels
>>> relabel(lab, Edit("merge", (1, 2))).ravel().tolist()
[1, 1, 0, 1, 1, 3]
>>> relabel(lab, Edit("split", (2,), frame=1, new_id=9)).ravel().tolist()
[1, 2, 0, 1, 9, 3]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ecoseg.errors import ConfigError
from ecoseg.provenance import clean_class_name
from ecoseg.species._edit_record import (
    KINDS,
    LABEL_KINDS,
    Edit,
    EditWords,
    cli_words,
    in_words,
    marked_words,
    parse_edit_args,
    python_call,
    python_words,
    with_new_id,
)

__all__ = [
    "KINDS",
    "LABEL_KINDS",
    "Edit",
    "EditWords",
    "check_review",
    "check_split",
    "check_survey_merge",
    "cli_words",
    "edit_objects",
    "edit_scores",
    "in_words",
    "marked_words",
    "named_by_person",
    "parse_edit_args",
    "present_after",
    "python_words",
    "python_call",
    "relabel",
    "set_class_for_old_merge",
    "touched_frames",
    "with_new_id",
]


def relabel(labels: np.ndarray, edit: Edit, first_frame: int = 0) -> np.ndarray:
    """The label frames after ``edit`` (a new array; the input is not changed).

    Parameters
    ----------
    labels : ndarray of uint32, shape (n, H, W)
        Frames ``first_frame .. first_frame + n - 1`` of the store.
    edit : Edit
    first_frame : int
        Index of ``labels[0]`` in the video (a split acts from ``edit.frame`` on).

    Examples
    --------
    >>> lab = np.array([[[5, 0]], [[5, 5]]], np.uint32)
    >>> relabel(lab, Edit("delete", (5,))).ravel().tolist()
    [0, 0, 0, 0]
    >>> relabel(lab, Edit("split", (5,), frame=11, new_id=6), first_frame=10).ravel().tolist()
    [5, 0, 6, 6]
    """
    out = np.array(labels, dtype=np.uint32, copy=True)
    mapping = edit.mapping()
    if not mapping:
        return out
    start = 0
    if edit.kind == "split":
        start = max(0, int(edit.frame) - int(first_frame))
    view = out[start:]
    for old, new in mapping.items():
        view[view == old] = new
    return out


def touched_frames(present: Mapping[int, np.ndarray], edit: Edit) -> np.ndarray:
    """Frames whose labels ``edit`` changes, given the frames each id is present in.

    Examples
    --------
    >>> touched_frames({3: np.array([0, 1]), 7: np.array([1, 4])}, Edit("merge", (3, 7)))
    array([1, 4])
    """
    if edit.kind not in LABEL_KINDS:
        return np.zeros(0, np.int64)
    src = edit.ids[1] if edit.kind == "merge" else edit.ids[0]
    frames = np.asarray(present.get(src, np.zeros(0, np.int64)), np.int64)
    if edit.kind == "split":
        frames = frames[frames >= int(edit.frame)]
    return np.unique(frames)


def check_split(track: int, frame: int, present: np.ndarray) -> None:
    """Refuse a split that would not cut ``track`` in two (the one rule for every caller).

    A split at ``frame`` gives the part of the track from ``frame`` on a new id, so the frame
    must be after the first frame the track is present in (else the new track takes it all
    and the old one is left empty) and at or before its last one (else nothing moves).

    Parameters
    ----------
    track : int
    frame : int
        The first frame of the new track.
    present : ndarray of int
        The frames the track is present in, ascending.

    Raises
    ------
    ConfigError
        One line naming the track, its first and last frames.

    Examples
    --------
    >>> check_split(5, 3, np.array([2, 3, 4]))  # frames 3-4 become a new track
    >>> check_split(5, 2, np.array([2, 3, 4]))
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: cannot split track 5 at frame 2: it is present from frame 2 ...
    """
    present = np.asarray(present, np.int64)
    if not len(present):
        raise ConfigError(f"cannot split track {track}: it is present in no frame")
    first, last = int(present[0]), int(present[-1])
    if first == last:  # it read "the split frame must be after 2 and at most 2"
        raise ConfigError(
            f"cannot split track {track}: it is present in frame {first} only (as every "
            "instance of a photo survey is in one photograph), so there is nothing to cut"
        )
    if not first < int(frame) <= last:
        raise ConfigError(
            f"cannot split track {track} at frame {frame}: it is present from frame {first} "
            f"to frame {last}, so the split frame must be after {first} and at most {last}"
        )


def check_survey_merge(
    a: int, b: int, present_a: np.ndarray, present_b: np.ndarray, photos: Sequence[str]
) -> None:
    """Refuse to merge instances of two photographs of a photo survey (``--concepts`` on
    images): each photograph is its own sample, so an instance in one is not the same animal
    as one in another, and a merged "track" would give a path, a speed and a count of one
    animal across quadrats. Instances of one photograph merge (one animal found as two).

    Parameters
    ----------
    a, b : int
        The merge's tracks (``b`` into ``a``).
    present_a, present_b : ndarray of int
        The frames (photographs) each is present in.
    photos : sequence of str
        The survey's image names, frame by frame (its provenance's ``images``).

    Raises
    ------
    ConfigError
        One line naming both tracks and their photographs.

    Examples
    --------
    >>> check_survey_merge(4, 5, np.array([0]), np.array([0]), ["q1.png", "q2.png"])
    >>> check_survey_merge(4, 9, np.array([0]), np.array([1]), ["q1.png", "q2.png"])
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: cannot merge track 9 into track 4: they are in different ...
    """
    frames = np.union1d(np.asarray(present_a, np.int64), np.asarray(present_b, np.int64))
    if len(frames) < 2:
        return

    def shown(present) -> str:
        names = [photos[f] if 0 <= f < len(photos) else f"frame {f}" for f in present]
        return ", ".join(names) if names else "no photograph"

    raise ConfigError(
        f"cannot merge track {b} into track {a}: they are in different photographs of a photo "
        f"survey (track {a} in {shown(present_a)}, track {b} in {shown(present_b)}), and an "
        "instance in one photograph is not the same animal as one in another; merge instances "
        "of one photograph, or delete a duplicate"
    )


def check_review(
    objects: Sequence[Mapping[str, Any]], edit: Edit, words: EditWords = cli_words
) -> None:
    """Refuse to mark reviewed an ``unknown`` track that holds a ``class_suggestion``.

    Such a track is one ``classify`` left below its threshold (its best guess kept as the
    suggestion) or the new part of a split of a reviewed track (the other part's name). A
    reviewed mark confirms the class a track *has*, so it would store ``unknown`` as a
    person's word (``class_source="reviewed"``): ``classify`` would never name the track
    again and the suggestion the reviewer saw would not be the class. The refusal names the
    ``set_class`` edits, in ``words`` (:data:`EditWords`), that say what was meant: the
    suggestion, or ``unknown`` for a track looked at and left unnamed. An ``unknown`` track
    without a suggestion can be marked reviewed (looked at, no name). An ``unchecked`` edit
    (a replay of one made before this rule, :func:`~ecoseg.species.review.refused_reviews`)
    is not refused.

    Examples
    --------
    >>> objs = [{"id": 5, "class": "unknown", "class_source": "unknown",
    ...          "class_probability": 0.42, "class_suggestion": "wrasse"}]
    >>> check_review(objs, Edit("reviewed", (5,)))
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: track 5 is unknown, with the suggestion 'wrasse' (p=0.42): ...
    >>> check_review([{"id": 5, "class": "unknown"}], Edit("reviewed", (5,)))  # no suggestion
    """
    if edit.kind != "reviewed" or edit.unchecked:
        return
    entry = next((o for o in objects if int(o["id"]) == edit.ids[0]), None)
    if entry is None or clean_class_name(entry.get("class")) != "unknown":
        return
    suggestion = entry.get("class_suggestion")
    if suggestion is None or clean_class_name(suggestion) == "unknown":
        return
    suggestion = clean_class_name(suggestion)
    p = entry.get("class_probability")
    sure = f" (p={float(p):.2f})" if isinstance(p, int | float) and p == p else ""
    track = edit.ids[0]
    raise ConfigError(
        f"track {track} is unknown, with the suggestion {suggestion!r}{sure}: marking it "
        f"reviewed would confirm 'unknown', not the suggestion; name it instead "
        f"({words(Edit('set_class', (track,), cls=suggestion))} to take the suggestion, "
        f"{words(Edit('set_class', (track,), cls='unknown'))} to leave it unnamed as looked at)"
    )


def present_after(present: Mapping[int, np.ndarray], edit: Edit) -> dict[int, np.ndarray]:
    """The frames each id is present in after a label ``edit`` (a new dict; arrays shared).

    Exact, so a series of edits can be checked, and the frames each one changes found,
    without reading the labels again.

    Examples
    --------
    >>> p = {3: np.array([0, 1]), 7: np.array([1, 4])}
    >>> {k: v.tolist() for k, v in present_after(p, Edit("merge", (3, 7))).items()}
    {3: [0, 1, 4]}
    >>> e = Edit("split", (7,), frame=2, new_id=8)
    >>> {k: v.tolist() for k, v in present_after(p, e).items()}
    {3: [0, 1], 7: [1], 8: [4]}
    """
    out = dict(present)
    empty = np.zeros(0, np.int64)
    if edit.kind == "merge":
        keep, gone = edit.ids
        out[keep] = np.union1d(out.get(keep, empty), out.pop(gone, empty)).astype(np.int64)
    elif edit.kind == "delete":
        out.pop(edit.ids[0], None)
    elif edit.kind == "split":
        frames = np.asarray(out.pop(edit.ids[0], empty), np.int64)
        cut = frames >= int(edit.frame)
        if (~cut).any():
            out[edit.ids[0]] = frames[~cut]
        if cut.any():
            out[int(edit.new_id)] = frames[cut]
    return out


def edit_scores(scores: np.ndarray, ids: Sequence[int], edit: Edit) -> tuple[np.ndarray, list[int]]:
    """The score columns and their ids after a label edit.

    Merge keeps the first id with the larger score of the two per frame and drops the second
    column; delete drops the column; split copies the column to the new id from the split
    frame on and zeroes the old one there.

    Examples
    --------
    >>> s = np.array([[0.9, 0.0], [0.5, 0.7]], np.float32)
    >>> new, ids = edit_scores(s, [3, 7], Edit("merge", (3, 7)))
    >>> new.tolist(), ids
    ([[0.8999999761581421], [0.699999988079071]], [3])
    >>> new, ids = edit_scores(s, [3, 7], Edit("split", (3,), frame=1, new_id=8))
    >>> new[:, [0, 2]].tolist(), ids
    ([[0.8999999761581421, 0.0], [0.0, 0.5]], [3, 7, 8])
    """
    scores = np.asarray(scores, np.float32)
    ids = [int(i) for i in ids]
    col = {oid: k for k, oid in enumerate(ids)}
    if edit.kind == "merge":
        keep, gone = edit.ids
        out = scores.copy()
        out[:, col[keep]] = np.maximum(out[:, col[keep]], out[:, col[gone]])
        cols = [k for k in range(len(ids)) if k != col[gone]]
        return out[:, cols], [ids[k] for k in cols]
    if edit.kind == "delete":
        cols = [k for k in range(len(ids)) if k != col[edit.ids[0]]]
        return scores[:, cols].copy(), [ids[k] for k in cols]
    if edit.kind == "split":
        k, f = col[edit.ids[0]], int(edit.frame)
        new = np.zeros(len(scores), np.float32)
        new[f:] = scores[f:, k]
        out = np.concatenate([scores, new[:, None]], axis=1)
        out[f:, k] = 0.0
        return out, [*ids, int(edit.new_id)]
    return scores.copy(), ids


def edit_objects(
    objects: Sequence[Mapping[str, Any]], edit: Edit, words: EditWords = cli_words
) -> list[dict[str, Any]]:
    """The object table (list of dicts) after ``edit``.

    A set class or reviewed mark sets ``class_source="reviewed"`` and ``reviewed=True``
    (and ``class_probability=1.0`` for a species, none for ``unknown``: looked at, no name;
    a model's ``class_suggestion`` is dropped by a set class);
    merge keeps the first track's entry (marked reviewed when a person gave its class,
    reviewed or typed with a prompt or a concept: an ``unknown`` one or a model's or the
    colour rules' guess stays for ``classify`` to name) and drops the second; a split adds
    the new track, not reviewed, with the old one's class, except that a name a person gave
    (:func:`named_by_person`: reviewed, typed with the prompt, a concept's) is only the new
    one's ``class_suggestion`` (the new track is another animal: ``unknown`` until a person
    or ``classify`` names it; a split made ``unchecked``, as ecoseg made splits before, keeps
    the name and its source); delete drops the entry. A merge of
    two tracks a person named differently is refused, its remedy (the ``set_class`` edits
    that name them alike) worded by ``words`` (:data:`EditWords`: the ``ecoseg edit``
    options, the Review call, a widget's buttons), unless it is made ``unchecked`` (a
    replay of a merge made before names were ranked or such merges refused,
    ``--unchecked-merge``): then it is made as ecoseg made merges before it ranked names,
    the first track's entry kept whatever the second one's name, its class (unless
    ``unknown``) marked reviewed.

    Examples
    --------
    >>> objs = [{"id": 4, "class": "unknown", "source": "tracker"}]
    >>> edit_objects(objs, Edit("set_class", (4,), cls="parrotfish"))[0]["class_source"]
    'reviewed'
    """

    out = [dict(o) for o in objects]
    index = {int(o["id"]): k for k, o in enumerate(out)}
    for oid in edit.ids[:1] if edit.kind != "merge" else edit.ids:
        if oid not in index:
            # worded to follow the edit's own words a shell puts before it (as Edit's checks)
            raise ConfigError(f"no track {oid} in the object table")

    def review(entry: dict[str, Any]) -> None:
        entry["reviewed"] = True
        entry["class_source"] = "reviewed"
        # a person's name is sure (1.0); ``unknown`` is no name, so no probability of one
        # (looked at, no name: a 1.0 there read as a sure species in the review queue)
        if clean_class_name(entry.get("class")) == "unknown":
            entry.pop("class_probability", None)
        else:
            entry["class_probability"] = 1.0

    if edit.kind == "set_class":
        entry = out[index[edit.ids[0]]]
        entry["class"] = clean_class_name(edit.cls)
        entry.pop("class_suggestion", None)  # a model's guess is no suggestion once named
        review(entry)
    elif edit.kind == "reviewed":
        review(out[index[edit.ids[0]]])
    elif edit.kind == "merge":
        kept, gone = out[index[edit.ids[0]]], out[index[edit.ids[1]]]
        if edit.unchecked:  # as ecoseg merged before it ranked names: the first track's
            if clean_class_name(kept.get("class")) != "unknown":  # class kept, confirmed
                review(kept)
            del out[index[edit.ids[1]]]
            return out
        ours, theirs = _persons_name(kept), _persons_name(gone)
        if _names_clash(ours, theirs):  # two words of a person's

            def name_it(track: int, name: str) -> str:
                return words(Edit("set_class", (track,), cls=name))

            how = {3: "both reviewed by a person", 2: "both named with their prompts"}
            raise ConfigError(
                f"track {edit.ids[0]} is {ours[1]!r} and track {edit.ids[1]} {theirs[1]!r}, "
                f"{how.get(ours[0], 'both found by concepts a person named')}; name them "
                f"alike first ({name_it(edit.ids[1], ours[1])} or "
                f"{name_it(edit.ids[0], theirs[1])})"
            )
        chosen = gone if theirs[0] > ours[0] else kept
        if theirs[0] > ours[0]:  # a surer name outranks: review > prompt > concept > guess
            kept["class"] = theirs[1]
            kept.pop("class_suggestion", None)
        # a person's name (reviewed, a prompt's, a concept's) is confirmed; a guess (a
        # model's, the colour rules') stays a guess, for classify to name the whole track again
        if not _a_guess(chosen):
            review(kept)
        del out[index[edit.ids[1]]]
    elif edit.kind == "delete":
        del out[index[edit.ids[0]]]
    elif edit.kind == "split":
        if int(edit.new_id) in index:
            raise ConfigError(f"the new track id {edit.new_id} is already a track")
        old = out[index[edit.ids[0]]]
        new = {k: v for k, v in old.items() if k not in ("reviewed",)}
        new["id"] = int(edit.new_id)
        new["reviewed"] = False
        # a name a person gave (reviewed, typed with the prompt or a concept) is the name of
        # the animal the track began on; the new part is another one (an unchecked split:
        # as ecoseg made splits before, which kept the name and its source)
        if named_by_person(old) and not edit.unchecked:
            name = clean_class_name(old.get("class"))
            new.update({"class": "unknown", "class_source": "unknown"})
            new.pop("class_probability", None)
            new.pop("class_suggestion", None)
            if name != "unknown":
                new["class_suggestion"] = name
        new["split_from"] = edit.ids[0]
        out.append(new)
    return out


def _persons_name(obj: Mapping[str, Any]) -> tuple[int, str]:
    """How surely a person gave an object-table entry's class, and the class: 3 reviewed,
    2 typed with the prompt of this very animal, 1 a concept's (a person's word, the model's
    match), 0 a guess (a model's, the colour rules', a concept of exemplars alone) or unknown."""
    from ecoseg.measure.regions import class_source_of

    name = clean_class_name(obj.get("class"))
    source = class_source_of(obj)
    rank = {"reviewed": 3, "prompt": 2, "concept": 1}.get(source, 0)
    if name == "unknown" or (source == "concept" and name == "visual"):  # no name typed
        rank = 0
    return rank, name


def named_by_person(obj: Mapping[str, Any]) -> bool:
    """Whether a person gave an object-table entry its class: reviewed (also an ``unknown``
    a person looked at), typed with the animal's prompt, or a concept's name; not a model's
    or the colour rules' guess, nor a concept of exemplars alone (class ``visual``: no name
    was typed, the model's match is the guess). ``classify`` never renames such a track, and
    a split gives its new part (another animal) the name only as ``class_suggestion``.

    Examples
    --------
    >>> named_by_person({"id": 1, "class": "wrasse", "source": "prompt"})
    True
    >>> named_by_person({"id": 2, "class": "visual", "source": "concept",
    ...                  "class_source": "concept"})
    False
    >>> named_by_person({"id": 3, "class": "unknown", "reviewed": True})
    True
    """
    from ecoseg.measure.regions import class_source_of

    source = class_source_of(obj)
    if source == "concept" and clean_class_name(obj.get("class")) == "visual":
        return False
    return source in ("reviewed", "prompt", "concept")


def _a_guess(obj: Mapping[str, Any]) -> bool:
    """Whether an entry's class is no name a person gave: ``unknown``, a model's, the colour
    rules' or a concept of exemplars alone (``visual``)."""
    from ecoseg.measure.regions import class_source_of

    name, source = clean_class_name(obj.get("class")), class_source_of(obj)
    return (
        name == "unknown"
        or source in ("classified", "rule")
        or (source == "concept" and name == "visual")
    )


def _names_clash(ours: tuple[int, str], theirs: tuple[int, str]) -> bool:
    """Two different names given as surely (:func:`_persons_name`): a merge of them is refused."""
    return ours[0] == theirs[0] > 0 and ours[1] != theirs[1]


def set_class_for_old_merge(objects: Sequence[Mapping[str, Any]], edit: Edit) -> Edit | None:
    """The ``set_class`` edit that, made just before an old ``merge``, lets it go through
    today with the name it gave the merged track; None when the merge needs none.

    Before ``edit_objects`` refused to merge two different names of one rank (both
    reviewed, both typed with their prompts, or both concepts'), such a merge kept the
    first track's name (every ecoseg that took it did) and marked it reviewed. Given the
    object table before the merge (its backup's ``objects_before``), the returned edit names
    a track so the two no longer clash and the first track's name wins as before: the first
    track itself (reviewed, it then outranks the other) or, when both were reviewed, the
    second one (which the merge removes). Either way the merged track's entry is the one
    the old merge left. :func:`~ecoseg.species.review.refused_merges` lists such merges by
    it; a report's replay makes them with ``--unchecked-merge`` (one log entry), not with
    this edit before the merge (two).

    Examples
    --------
    >>> objs = [{"id": 1, "class": "parrotfish", "source": "prompt"},
    ...         {"id": 2, "class": "wrasse", "source": "prompt"}]
    >>> set_class_for_old_merge(objs, Edit("merge", (1, 2))).cli_args()
    ['--set-class', '1=parrotfish']
    >>> old = set_class_for_old_merge(objs, Edit("merge", (1, 2)))
    >>> merged = edit_objects(edit_objects(objs, old), Edit("merge", (1, 2)))
    >>> merged == edit_objects(objs[:1], Edit("reviewed", (1,)))  # as the old merge left it
    True
    >>> set_class_for_old_merge(objs[:1] + [{"id": 2, "class": "parrotfish"}],
    ...                         Edit("merge", (1, 2))) is None
    True
    """
    if edit.kind != "merge":
        return None
    by_id = {int(o["id"]): o for o in objects}
    if edit.ids[0] not in by_id or edit.ids[1] not in by_id:
        return None
    ours, theirs = _persons_name(by_id[edit.ids[0]]), _persons_name(by_id[edit.ids[1]])
    if not _names_clash(ours, theirs):
        return None
    track = edit.ids[1] if ours[0] == 3 else edit.ids[0]
    return Edit("set_class", (track,), cls=ours[1])
