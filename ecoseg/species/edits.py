"""Review edits as data, and their pure effect on label images and score columns.

An :class:`Edit` says *what* a reviewer did (set a class, merge, split, delete, mark reviewed,
undo); :func:`relabel` applies it to a stack of label frames and :func:`edit_scores` to the
store's score columns. Both are pure functions of their inputs and idempotent for the label
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

import shlex
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ecoseg._checks import short_repr
from ecoseg.errors import ConfigError
from ecoseg.provenance import clean_class_name

__all__ = [
    "KINDS",
    "LABEL_KINDS",
    "Edit",
    "EditWords",
    "check_review",
    "check_split",
    "cli_words",
    "edit_objects",
    "edit_scores",
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

#: Every kind of edit.
KINDS = ("set_class", "merge", "split", "delete", "reviewed", "undo")
#: Edits that change the labels array (the others change only the object table).
LABEL_KINDS = ("merge", "split", "delete")


@dataclass(frozen=True)
class Edit:
    """One review edit.

    Attributes
    ----------
    kind : {"set_class", "merge", "split", "delete", "reviewed", "undo"}
    ids : tuple of int
        ``set_class``/``delete``/``reviewed``/``split``: the track; ``merge``: ``(keep, gone)``,
        the second track takes the first one's id; ``undo``: empty.
    cls : str, optional
        The class for ``set_class``.
    frame : int, optional
        ``split``: the first frame of the new track (after the track's first frame and at
        or before its last one, see :func:`check_split`).
    new_id : int, optional
        ``split``: the new track's id (chosen by the store shell: one above the largest id).
    unchecked : bool
        ``split``: made as ecoseg made splits before it checked them (:func:`check_split`),
        so at or before the track's first frame (the new id takes the whole track) or after
        its last one, and before a person's name stopped passing to the new part (it keeps
        the track's class and source, see :func:`edit_objects`); for replaying such an edit
        log (``ecoseg edit --unchecked-split``).
        ``reviewed``: made as before :func:`check_review`, on an ``unknown`` track with a
        ``class_suggestion`` (``ecoseg edit --unchecked-reviewed``). Not part of the log
        entry: the entry is the one the edit wrote then.

    Examples
    --------
    >>> Edit("set_class", (4,), cls="parrotfish").to_dict()["cls"]
    'parrotfish'
    >>> Edit.from_dict(Edit("merge", (3, 7)).to_dict()) == Edit("merge", (3, 7))
    True
    """

    kind: str
    ids: tuple[int, ...] = ()
    cls: str | None = None
    frame: int | None = None
    new_id: int | None = None
    unchecked: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(f"unknown edit {self.kind!r} (use one of {', '.join(KINDS)})")
        ids = tuple(_whole(i, f"{self.kind}: track id") for i in self.ids)
        object.__setattr__(self, "ids", ids)
        for key in ("frame", "new_id"):  # numpy integers from a table are plain ints in the log
            if getattr(self, key) is not None:
                object.__setattr__(self, key, _whole(getattr(self, key), f"{self.kind}: {key}"))
        need = {"merge": 2, "undo": 0}.get(self.kind, 1)
        if len(ids) != need:
            raise ConfigError(f"a {self.kind} edit takes {need} track id(s), got {list(ids)}")
        if self.kind == "set_class" and not isinstance(self.cls, str | None):
            # a list or a number from a notebook was stored as the species "['wrasse']", "3"
            raise ConfigError(
                f"set_class of track {ids[0]}: the class name must be text, "
                f"got {short_repr(self.cls)}"
            )
        if self.cls is not None:
            object.__setattr__(self, "cls", str(self.cls))
        if any(i <= 0 for i in ids):
            raise ConfigError(f"{self.kind}: track ids are positive, got {list(ids)}")
        if self.kind == "merge" and ids[0] == ids[1]:
            raise ConfigError(f"merge: cannot merge track {ids[0]} with itself")
        if self.kind == "set_class" and not (self.cls and str(self.cls).strip()):
            raise ConfigError(f"set_class of track {ids[0]}: the class name is empty")
        if self.kind == "set_class" and any(unicodedata.category(c) == "Cc" for c in str(self.cls)):
            # a newline or NUL in a species name splits or cuts table rows and one-line output
            raise ConfigError(
                f"set_class of track {ids[0]}: the class name {str(self.cls)!r} has a control "
                "character (newline, tab, NUL, ...)"
            )
        if self.kind == "set_class":  # one spelling: NFC, single spaces (as stored, counted)
            object.__setattr__(self, "cls", clean_class_name(self.cls))
        if self.kind == "split" and (self.frame is None or int(self.frame) < 0):
            raise ConfigError(f"split of track {ids[0]}: needs a frame >= 0")
        if self.unchecked and self.kind not in ("split", "reviewed"):
            raise ConfigError(
                f"a {self.kind} edit is always checked (only a split or a reviewed mark can be not)"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        out: dict[str, Any] = {"kind": self.kind, "ids": list(self.ids)}
        for key in ("cls", "frame", "new_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def cli_args(self) -> list[str]:
        """The ``ecoseg edit`` options that make this edit (the inverse of
        :func:`parse_edit_args`; a split's new id is chosen again, the same way).

        Examples
        --------
        >>> Edit("split", (5,), frame=120, new_id=11).cli_args()
        ['--split', '5@120']
        >>> Edit("set_class", (4,), cls="blue tang").cli_args()
        ['--set-class', '4=blue tang']
        >>> Edit("split", (5,), frame=3, unchecked=True).cli_args()
        ['--unchecked-split', '5@3']
        >>> Edit("reviewed", (4,), unchecked=True).cli_args()
        ['--unchecked-reviewed', '4']
        """
        if self.kind == "undo":
            return ["--undo"]
        if self.kind == "set_class":
            return ["--set-class", f"{self.ids[0]}={self.cls}"]
        if self.kind == "merge":
            return ["--merge", f"{self.ids[0]},{self.ids[1]}"]
        if self.kind == "split":
            flag = "--unchecked-split" if self.unchecked else "--split"
            return [flag, f"{self.ids[0]}@{self.frame}"]
        if self.kind == "reviewed" and self.unchecked:
            return ["--unchecked-reviewed", str(self.ids[0])]
        return [f"--{self.kind}", str(self.ids[0])]  # delete, reviewed

    def queued(self) -> dict[str, Any]:
        """Plain JSON data of an edit a command still has to make (its ``edit_queue``):
        :meth:`to_dict` and, for an edit made unchecked, ``"unchecked": true`` (the log entry
        leaves it out; a queue without it completed such a split as a checked one, which
        refused it and dropped the rest of the command).

        Examples
        --------
        >>> e = Edit("split", (5,), frame=0, unchecked=True)
        >>> e.queued()["unchecked"], Edit.from_dict(e.queued()) == e, "unchecked" in e.to_dict()
        (True, True, False)
        """
        return {**self.to_dict(), **({"unchecked": True} if self.unchecked else {})}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Edit:
        """The edit written by :meth:`to_dict` (or :meth:`queued`)."""
        return cls(
            kind=str(data["kind"]),
            ids=tuple(data.get("ids", ())),
            cls=None if data.get("cls") is None else str(data["cls"]),  # as logged before
            frame=data.get("frame"),
            new_id=data.get("new_id"),
            unchecked=data.get("unchecked") is True,
        )

    def mapping(self) -> dict[int, int]:
        """Label value -> new value of a label edit (before/after ``frame`` for a split)."""
        if self.kind == "merge":
            return {self.ids[1]: self.ids[0]}
        if self.kind == "delete":
            return {self.ids[0]: 0}
        if self.kind == "split":
            if self.new_id is None:
                raise ConfigError(f"split of track {self.ids[0]}: no new id chosen")
            return {self.ids[0]: int(self.new_id)}
        return {}


#: How a message names an edit: in the words its user made it with. :func:`python_words`
#: (the :class:`~ecoseg.species.review.Review` call), :func:`cli_words` (the ``ecoseg edit``
#: options), or a shell's own (napari's *Review tracks* widget names its buttons).
EditWords = Callable[[Edit], str]


def python_words(edit: Edit) -> str:
    """``edit`` as the :class:`~ecoseg.species.review.Review` call that makes it (an
    :data:`EditWords`; a split made as before splits were checked adds ``, unchecked``).

    Examples
    --------
    >>> python_words(Edit("set_class", (4,), cls="blue tang"))
    "set_class(4, 'blue tang')"
    >>> python_words(Edit("split", (5,), frame=120)), python_words(Edit("undo"))
    ('split(5, 120)', 'undo()')
    >>> python_words(Edit("reviewed", (3,)))
    'mark_reviewed(3)'
    >>> python_words(Edit("split", (5,), frame=3, unchecked=True))
    'split(5, 3), unchecked'
    """
    args = [*edit.ids, *(v for v in (edit.cls, edit.frame) if v is not None)]
    return python_call(edit.kind, args) + ", unchecked" * edit.unchecked


def python_call(kind: str, args: Sequence[Any]) -> str:
    """The :class:`~ecoseg.species.review.Review` call of an edit of ``kind`` on ``args``, also
    for one that is no valid :class:`Edit` (its refusal names the call made).

    Examples
    --------
    >>> python_call("reviewed", [3]), python_call("merge", [2, 2])
    ('mark_reviewed(3)', 'merge(2, 2)')
    """
    method = {"reviewed": "mark_reviewed"}.get(kind, kind)
    return f"{method}({', '.join(repr(a) for a in args)})"


def cli_words(edit: Edit) -> str:
    """``edit`` as the ``ecoseg edit`` options that make it, as typed in a shell (an
    :data:`EditWords`; a class name is quoted where the shell needs it).

    Examples
    --------
    >>> cli_words(Edit("set_class", (4,), cls="blue tang")), cli_words(Edit("merge", (3, 7)))
    ("--set-class 4='blue tang'", '--merge 3,7')
    >>> cli_words(Edit("split", (5,), frame=3, unchecked=True)), cli_words(Edit("undo"))
    ('--unchecked-split 5@3', '--undo')
    """
    if edit.kind == "set_class":
        return f"--set-class {edit.ids[0]}={shlex.quote(str(edit.cls))}"
    return shlex.join(edit.cli_args())


def _whole(value: Any, what: str) -> int:
    """``value`` as an int: an integer (numpy too), a whole float or integer text; anything
    else (2.5, "abc", True) is a ConfigError naming ``what``.

    Examples
    --------
    >>> _whole(np.int64(5), "frame"), _whole("7", "id"), _whole(3.0, "id")
    (5, 7, 3)
    >>> _whole(2.5, "split: frame")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: split: frame must be a whole number, got 2.5
    """
    if isinstance(value, bool | np.bool_):
        raise ConfigError(f"{what} must be a whole number, got {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{what} must be a whole number, got {value!r}")


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
    if not first < int(frame) <= last:
        raise ConfigError(
            f"cannot split track {track} at frame {frame}: it is present from frame {first} "
            f"to frame {last}, so the split frame must be after {first} and at most {last}"
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
    options, the Review call, a widget's buttons).

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
            raise ConfigError(f"{edit.kind}: no track {oid} in the object table")

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
            raise ConfigError(f"split: id {edit.new_id} is already a track")
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
    the old merge left.

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


def parse_edit_args(
    set_class: Sequence[str] = (),
    merge: Sequence[str] = (),
    split: Sequence[str] = (),
    delete: Sequence[str] = (),
    reviewed: Sequence[str] = (),
    unchecked_split: Sequence[str] = (),
    unchecked_reviewed: Sequence[str] = (),
) -> list[Edit]:
    """Edits from the CLI's ``--set-class 4=parrotfish --merge 3,7 --split 5@120 --delete 9``
    (and ``--unchecked-split 5@3``, a split as it was made before splits were checked;
    ``--unchecked-reviewed 4``, a reviewed mark as made before :func:`check_review`).

    Examples
    --------
    >>> [e.kind for e in parse_edit_args(["4=parrotfish"], ["3,7"], ["5@120"], ["9"])]
    ['set_class', 'merge', 'split', 'delete']
    """
    edits: list[Edit] = []

    def ints(text: str, sep: str, n: int, what: str) -> list[int]:
        parts = [p.strip() for p in str(text).split(sep)]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != n:
            raise ConfigError(f"{what} {text!r}: expected {what_format[what]}")
        return values

    what_format = {
        "--merge": "two track ids A,B",
        "--split": "ID@FRAME",
        "--unchecked-split": "ID@FRAME",
        "--delete": "a track id",
        "--reviewed": "a track id",
        "--unchecked-reviewed": "a track id",
    }
    for text in set_class:
        oid, sep, name = str(text).partition("=")
        try:
            ident = int(oid)
        except ValueError:
            ident = -1
        if not sep or ident <= 0 or not name.strip():
            raise ConfigError(f"--set-class {text!r}: expected ID=CLASS (e.g. 4=parrotfish)")
        edits.append(Edit("set_class", (ident,), cls=name.strip()))
    for text in merge:
        edits.append(Edit("merge", tuple(ints(text, ",", 2, "--merge"))))
    for text in split:
        oid, frame = ints(text, "@", 2, "--split")
        edits.append(Edit("split", (oid,), frame=frame))
    for text in unchecked_split:
        oid, frame = ints(text, "@", 2, "--unchecked-split")
        edits.append(Edit("split", (oid,), frame=frame, unchecked=True))
    for text in delete:
        edits.append(Edit("delete", tuple(ints(text, ",", 1, "--delete"))))
    for text in reviewed:
        edits.append(Edit("reviewed", tuple(ints(text, ",", 1, "--reviewed"))))
    for text in unchecked_reviewed:
        ids = tuple(ints(text, ",", 1, "--unchecked-reviewed"))
        edits.append(Edit("reviewed", ids, unchecked=True))
    return edits


def with_new_id(edit: Edit, new_id: int) -> Edit:
    """The split ``edit`` with its new track id filled in."""
    return replace(edit, new_id=int(new_id))
