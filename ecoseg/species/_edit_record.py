"""An edit as data, and the words that name it: the :class:`Edit` record (checked as it is
made; plain JSON for the edit log and a command's queue) and its words, the
:class:`~ecoseg.species.review.Review` call (:func:`python_words`), the ``ecoseg edit`` options
(:func:`cli_words`, parsed back by :func:`parse_edit_args`) or a shell's own
(:data:`EditWords`), or worded later, by whoever shows the text (:func:`marked_words`,
:func:`in_words`). Part of :mod:`ecoseg.species.edits`, which re-exports every name; what an
edit does to labels, scores and the object table is there.

Examples
--------
>>> e = parse_edit_args(set_class=["4=blue tang"], merge=["3,7"])
>>> [cli_words(x) for x in e], python_words(e[1])
(["--set-class 4='blue tang'", '--merge 3,7'], 'merge(3, 7)')
"""

from __future__ import annotations

import json
import re
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
    "cli_words",
    "in_words",
    "marked_words",
    "parse_edit_args",
    "python_call",
    "python_words",
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
        or before its last one, see :func:`~ecoseg.species.edits.check_split`).
    new_id : int, optional
        ``split``: the new track's id (chosen by the store shell: one above the largest id).
    unchecked : bool
        ``split``: made as ecoseg made splits before it checked them
        (:func:`~ecoseg.species.edits.check_split`), so at or before the track's first frame
        (the new id takes the whole track) or after its last one, and before a person's name
        stopped passing to the new part (it keeps the track's class and source, see
        :func:`~ecoseg.species.edits.edit_objects`); for replaying such an edit log (``ecoseg
        edit --unchecked-split``). ``reviewed``: made as before
        :func:`~ecoseg.species.edits.check_review`, on an ``unknown`` track with a
        ``class_suggestion`` (``ecoseg edit --unchecked-reviewed``). ``merge``: made as
        before ecoseg ranked names and refused to merge two different names a person gave as
        surely (the first track's class kept, see :func:`~ecoseg.species.edits.edit_objects`;
        ``ecoseg edit --unchecked-merge``). ``set_class``: made as before ecoseg refused a
        name that differs only in letter case from one in the store
        (:func:`ecoseg._class_names.new_spelling`; written with a
        :class:`~ecoseg.errors.ClassNameWarning`, ``ecoseg edit --unchecked-set-class``). Not
        part of the log entry: the entry is the one the edit wrote then.

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
        # the messages below are worded to follow the edit's own words (the ``ecoseg edit``
        # option or the Review call that a shell puts before them), so they do not name the
        # kind again: "--merge 4,4: merge: cannot merge track 4 ..." said it twice
        ids = tuple(_whole(i, "a track id") for i in self.ids)
        object.__setattr__(self, "ids", ids)
        for key in ("frame", "new_id"):  # numpy integers from a table are plain ints in the log
            if getattr(self, key) is not None:
                what = {"frame": "the frame", "new_id": "the new track id"}[key]
                object.__setattr__(self, key, _whole(getattr(self, key), what))
        need = {"merge": 2, "undo": 0}.get(self.kind, 1)
        if len(ids) != need:
            raise ConfigError(f"a {self.kind} edit takes {need} track id(s), got {list(ids)}")
        if self.kind == "set_class" and _missing(self.cls):
            # a reviewer's blank answer in a DataFrame column: None, or NaN once pandas made it
            # one; refused (no name is no edit), with what to pass instead
            raise ConfigError(
                f"no class name for track {ids[0]} ({short_repr(self.cls)}: a blank answer?): "
                "pass its species, 'unknown' to mark it looked at without a name, or skip the "
                "track to keep its class"
            )
        if self.kind == "set_class" and not isinstance(self.cls, str):
            # a list or a number from a notebook was stored as the species "['wrasse']", "3"
            raise ConfigError(f"the class name must be text, got {short_repr(self.cls)}")
        if self.cls is not None:
            object.__setattr__(self, "cls", str(self.cls))
        if any(i <= 0 for i in ids):
            raise ConfigError(f"track ids are positive, got {list(ids)}")
        if self.kind == "merge" and ids[0] == ids[1]:
            raise ConfigError("a track cannot be merged with itself")
        if self.kind == "set_class" and not (self.cls and str(self.cls).strip()):
            raise ConfigError("the class name is empty")
        if self.kind == "set_class" and any(unicodedata.category(c) == "Cc" for c in str(self.cls)):
            # a newline or NUL in a species name splits or cuts table rows and one-line output
            raise ConfigError(
                f"the class name {str(self.cls)!r} has a control character (newline, tab, NUL, ...)"
            )
        if self.kind == "set_class":  # one spelling: NFC, single spaces (as stored, counted)
            object.__setattr__(self, "cls", clean_class_name(self.cls))
        if self.kind == "split" and (self.frame is None or int(self.frame) < 0):
            raise ConfigError("the split frame must be >= 0")
        if self.unchecked and self.kind not in ("split", "reviewed", "merge", "set_class"):
            raise ConfigError(
                f"a {self.kind} edit is always checked (only a split, a merge, a set_class or "
                "a reviewed mark can be not)"
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
        >>> Edit("merge", (3, 7), unchecked=True).cli_args()
        ['--unchecked-merge', '3,7']
        >>> Edit("set_class", (4,), cls="Wrasse", unchecked=True).cli_args()
        ['--unchecked-set-class', '4=Wrasse']
        """
        if self.kind == "undo":
            return ["--undo"]
        if self.kind == "set_class":
            flag = "--unchecked-set-class" if self.unchecked else "--set-class"
            return [flag, f"{self.ids[0]}={self.cls}"]
        if self.kind == "merge":
            flag = "--unchecked-merge" if self.unchecked else "--merge"
            return [flag, f"{self.ids[0]},{self.ids[1]}"]
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
                raise ConfigError("no new track id chosen")
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
        flag = "--unchecked-set-class" if edit.unchecked else "--set-class"
        return f"{flag} {edit.ids[0]}={shlex.quote(str(edit.cls))}"
    return shlex.join(edit.cli_args())


def marked_words(edit: Edit) -> str:
    """``edit`` as a mark that :func:`in_words` words later (an :data:`EditWords`): for a
    message made before it is known who reads it, so that each front end can name its edits
    in its own words (the rest of an interrupted command: the queue does not say who made it).

    Examples
    --------
    >>> marked_words(Edit("delete", (9,)))
    '\\x00{"ids":[9],"kind":"delete"}\\x00'
    """
    # NUL: no class name (nor any other part of an edit) holds a control character
    return f"\x00{json.dumps(edit.queued(), sort_keys=True, separators=(',', ':'))}\x00"


_MARK = re.compile("\x00([^\x00]*)\x00")


def in_words(text: str, words: EditWords) -> str:
    """``text`` with each edit marked by :func:`marked_words` named in ``words``.

    Examples
    --------
    >>> said = f"{marked_words(Edit('merge', (3, 7)))}: no track 7"
    >>> in_words(said, cli_words), in_words(said, python_words)
    ('--merge 3,7: no track 7', 'merge(3, 7): no track 7')
    """
    return _MARK.sub(lambda m: words(Edit.from_dict(json.loads(m[1]))), text)


def _whole(value: Any, what: str) -> int:
    """``value`` as an int: an integer (numpy too), a whole float or integer text; anything
    else (2.5, "abc", True) is a ConfigError naming ``what``.

    Examples
    --------
    >>> _whole(np.int64(5), "frame"), _whole("7", "id"), _whole(3.0, "id")
    (5, 7, 3)
    >>> _whole(2.5, "the frame")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: the frame must be a whole number, got 2.5
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


def parse_edit_args(
    set_class: Sequence[str] = (),
    merge: Sequence[str] = (),
    split: Sequence[str] = (),
    delete: Sequence[str] = (),
    reviewed: Sequence[str] = (),
    unchecked_split: Sequence[str] = (),
    unchecked_reviewed: Sequence[str] = (),
    unchecked_merge: Sequence[str] = (),
    unchecked_set_class: Sequence[str] = (),
) -> list[Edit]:
    """Edits from the CLI's ``--set-class 4=parrotfish --merge 3,7 --split 5@120 --delete 9``
    (and ``--unchecked-split 5@3``, a split as it was made before splits were checked;
    ``--unchecked-reviewed 4``, a reviewed mark as made before
    :func:`~ecoseg.species.edits.check_review`; ``--unchecked-merge 3,7``, a merge as made
    before names were ranked and two different names a person gave refused;
    ``--unchecked-set-class 4=Parrotfish``, a name set as before one differing only in letter
    case from one in the store was refused).

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
        "--unchecked-merge": "two track ids A,B",
        "--split": "ID@FRAME",
        "--unchecked-split": "ID@FRAME",
        "--delete": "a track id",
        "--reviewed": "a track id",
        "--unchecked-reviewed": "a track id",
    }
    named = [(text, False) for text in set_class]
    for text, unchecked in [*named, *((text, True) for text in unchecked_set_class)]:
        flag = "--unchecked-set-class" if unchecked else "--set-class"
        oid, sep, name = str(text).partition("=")
        try:
            ident = int(oid)
        except ValueError:
            ident = -1
        if sep and ident > 0 and not name.strip():  # said in words: a one-line error
            blank = " (only whitespace after '=')" if name else ""
            raise ConfigError(  # the value as typed: its spaces shown between the quotes
                f"{flag} {text!r}: empty class name for track {ident}{blank}; expected "
                "ID=CLASS (e.g. 4=parrotfish)"
            )
        if not sep or ident <= 0:
            raise ConfigError(f"{flag} {text!r}: expected ID=CLASS (e.g. 4=parrotfish)")
        edits.append(Edit("set_class", (ident,), cls=name.strip(), unchecked=unchecked))
    for text in merge:
        edits.append(Edit("merge", tuple(ints(text, ",", 2, "--merge"))))
    for text in unchecked_merge:
        ids = tuple(ints(text, ",", 2, "--unchecked-merge"))
        edits.append(Edit("merge", ids, unchecked=True))
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


def _missing(value: Any) -> bool:
    """Whether ``value`` is a missing value: ``None``, NaN or pandas' ``NA`` (a blank cell)."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    import pandas as pd

    return bool(pd.api.types.is_scalar(value) and pd.isna(value))
