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
edit too: it takes back one command, every entry of the last command not yet undone (all the
entries one :func:`apply_edits` call wrote carry its ``command`` number; an entry of an older
log, which has none, is its own command), last first: for each it writes the backup back
(same bytes, the codec is deterministic) and appends an ``undo`` entry, so the log only ever
grows. A classification
(:func:`ecoseg.species.classify`) is logged the same way (``kind="classify"``, object table
only), so undo gives the tracks it named their previous classes back.

The object table records the review: a set class or a reviewed mark gives the track
``class_source="reviewed"``, ``class_probability=1.0`` (none for ``unknown``: looked at, no
name) and ``reviewed=True``. One that changes nothing (the track has that class and is
reviewed already: a notebook cell or an ``ecoseg edit`` run again) is neither written nor
logged; an :class:`UnchangedEditWarning` says so.

The parts live in their own modules, all re-exported here: the edit log in the store's
attributes (``_edit_log``; :func:`log_lines`, the log in plain words), what an undo took back
(``_undo_words``: :class:`UndoneEdit`), the check of a whole command before anything is written
(``_edit_plan``), the four steps of writing an edit and a classification (``_edit_writes``), and
the edits made before today's rules (``_old_edits``).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from typing import Any

from ecoseg._warn import warn
from ecoseg.errors import ConfigError, StoreError
from ecoseg.measure.counts import warn_case_clashes
from ecoseg.provenance import ObjectRecord
from ecoseg.species._edit_log import (
    ATTR_KEY,
    check_log,
    edit_log,
    log_lines,
    read_meta,
    write_meta,
)
from ecoseg.species._edit_plan import UnchangedEditWarning, command_of, plan_edits
from ecoseg.species._edit_record import (
    Edit,
    EditWords,
    cli_words,
    in_words,
    marked_words,
    python_call,
    python_words,
)
from ecoseg.species._edit_writes import apply_from_backup, record_classification, write_steps
from ecoseg.species._old_edits import (
    OldMerges,
    UncheckedMergeWarning,
    kept_visual,
    old_merges,
    refused_merges,
    refused_names,
    refused_reviews,
    unchecked_splits,
    unmade_merges,
)
from ecoseg.species._undo_words import UndoneEdit, undone_edit

__all__ = [
    "ATTR_KEY",
    "DroppedEditsWarning",
    "OldMerges",
    "Review",
    "UnchangedEditWarning",
    "UncheckedMergeWarning",
    "UndoneEdit",
    "apply_edits",
    "check_log",
    "edit_log",
    "kept_visual",
    "log_lines",
    "old_merges",
    "open_for_edit",
    "read_meta",
    "record_classification",
    "refused_merges",
    "refused_names",
    "refused_reviews",
    "unchecked_splits",
    "unmade_merges",
    "write_meta",
]


class DroppedEditsWarning(UserWarning):
    """The rest of an interrupted edit command no longer fits the store and was dropped
    (printed by the CLI as one ``ecoseg: warning:`` line).

    The queue does not say who made the command, so its text names the edits as ``ecoseg
    edit`` options, for every caller; a front end that made it otherwise words it its own way
    (:meth:`worded`: napari's *Review tracks* names its buttons).

    Parameters
    ----------
    marked : str
        The text, its edits marked by :func:`~ecoseg.species.edits.marked_words`.
    edits : sequence of Edit
        The edits dropped (empty when the queue itself was not one of edits).
    words : EditWords
        How the text names the edits.

    Examples
    --------
    >>> from ecoseg.species.edits import marked_words
    >>> w = DroppedEditsWarning(f"dropped ({marked_words(Edit('delete', (9,)))}: no track 9)",
    ...                         [Edit("delete", (9,))])
    >>> str(w), str(w.worded(python_words)), [e.kind for e in w.edits]
    ('dropped (--delete 9: no track 9)', 'dropped (delete(9): no track 9)', ['delete'])
    """

    def __init__(self, marked: str, edits: Iterable[Edit] = (), words: EditWords = cli_words):
        super().__init__(in_words(marked, words))
        self.marked = marked
        self.edits = tuple(edits)

    def worded(self, words: EditWords) -> DroppedEditsWarning:
        """This warning with its edits named in ``words``."""
        return type(self)(self.marked, self.edits, words)


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


def _complete_pending(store) -> bool:
    """Finish what a killed process left half done: the edit in ``edit_pending``, then the
    rest of its command (``edit_queue``); True if there was anything."""
    meta = read_meta(store)
    pending, queue = meta.get("edit_pending"), meta.get("edit_queue")
    if pending:
        meta = apply_from_backup(store, meta, pending)
    if queue:
        edits: list[Edit] = []
        try:
            edits = [Edit.from_dict(e) for e in queue]
            # the rest of a command, not the resumer's own edits: named later, by whoever
            # shows the warning (the queue does not say who made the command)
            steps = plan_edits(
                store,
                edits,
                words=marked_words,
                command=_command_left(meta),  # the rest keeps its command's number (old: its own)
            )
        except ConfigError as exc:  # only if the store was changed by other means since
            meta.pop("edit_queue", None)
            write_meta(store, meta)
            said = f"{store.path}: the rest of an interrupted edit command was dropped ({exc})"
            warn(DroppedEditsWarning(said, edits), DroppedEditsWarning)
        else:
            write_steps(store, steps)
    return bool(pending or queue)


def _command_left(meta: dict) -> int | None:
    """The number of the command a killed process left half done: its last logged entry's;
    None (the rest is numbered as a command of its own) when that entry has no ``command``
    (an ecoseg before command numbers began the command: each of its entries is its own
    command, and the rest must not join the last one's).

    Examples
    --------
    >>> _command_left({"edits": [{"n": 1, "command": 1}, {"n": 2, "command": 1}]})
    1
    >>> _command_left({"edits": [{"n": 1}, {"n": 2}]}) is None
    True
    """
    log = meta.get("edits", [])
    return command_of(log[-1]) if log and "command" in log[-1] else None


def apply_edits(
    store, edits: Iterable[Edit], *, words: EditWords = python_words, progress: bool = False
) -> list[dict]:
    """Apply edits in order to a store (path or closed store); returns their log entries
    (none for a ``set_class`` or reviewed mark that changes nothing: see
    :class:`UnchangedEditWarning`).

    All or nothing: every edit is checked against the store and the edits before it first;
    the first invalid one raises :class:`~ecoseg.errors.ConfigError` naming it and nothing
    is written. ``words`` names edits in the refusal (:data:`~ecoseg.species.edits.EditWords`):
    as the :class:`Review` call (:func:`~ecoseg.species.edits.python_words`), as ``ecoseg
    edit`` options (:func:`~ecoseg.species.edits.cli_words`) or in a shell's own words.
    ``progress``: progress bars on stderr while an edit backs up and rewrites label frames
    (a merge, split or delete of a track present for minutes rewrites thousands of them).

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
    ecoseg.errors.ConfigError: ...: edit 2 of 2 (merge(1, 2)): no track 1, deleted by delete(1) ...
    >>> len(edit_log(clip.truth))  # the delete was not written either
    1
    """
    edits = list(edits)
    with open_for_edit(store) as s:
        steps = plan_edits(s, edits, words=words)  # all checked before anything is written
        write_steps(s, steps, progress=progress)
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
    >>> [(o.id, o.class_name, o.reviewed) for o in r.objects]
    [(1, 'wrasse', True)]
    >>> [u.words for u in r.undo()]
    ['undid edit 2: set class of track 1 to wrasse (was: unknown)']
    >>> r.undo()[0].undone["kind"]
    'merge'
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

    def apply(self, edit: Edit, *, words: EditWords = python_words) -> dict | list[dict] | None:
        """Apply one :class:`~ecoseg.species.edits.Edit`; returns its log entry, None for a
        repeat that changes nothing (:class:`UnchangedEditWarning`) (a refusal names edits in
        ``words``, as :func:`apply_edits`: by default the Review call). An undo
        (``Edit("undo")``) writes one ``undo`` entry per edit of the command it takes back,
        so it returns a list of them, last edit first, each naming its edit in ``undoes``
        (:meth:`undo` gives the same in words).

        Examples
        --------
        >>> import ecoseg, tempfile
        >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48), n_fish=3,
        ...                     n_invertebrates=0)  # fish 1 and 3 in view (2 is not listed)
        >>> r = Review(clip.truth)
        >>> apply_edits(clip.truth, [Edit("reviewed", (1,)), Edit("reviewed", (3,))])[0]["n"]
        1
        >>> r.apply(Edit("delete", (1,)))["kind"]
        'delete'
        >>> r.apply(Edit("undo"))[0]["undoes"]
        3
        >>> [e["undoes"] for e in r.apply(Edit("undo"))]  # the command of two edits
        [2, 1]
        """
        entries = apply_edits(self._where, [edit], words=words)
        if edit.kind == "undo":
            return entries
        return entries[0] if entries else None

    def _edit(self, kind: str, *ids, **kwargs) -> Edit:
        """The :class:`Edit` of a call; one it refuses (a merge of a track with itself, a
        name with a newline) names the store and the call, as the store's checks do."""
        try:
            return Edit(kind, ids, **kwargs)
        except ConfigError as exc:
            call = python_call(kind, (*ids, *kwargs.values()))
            raise ConfigError(f"{self._where}: {call}: {exc}; nothing was changed") from None

    def set_class(self, track: int, name: str) -> None:
        """Name the species of a track (marks it reviewed); the same name again on a reviewed
        track changes nothing and is not logged again (an :class:`UnchangedEditWarning`).
        ``"unknown"`` marks it looked at without a name; a missing name (``None``, NaN,
        ``pd.NA``: a blank answer in a table) is refused, naming the track: skip that track."""
        self.apply(self._edit("set_class", track, cls=name))

    def merge(self, keep: int, gone: int) -> None:
        """Merge track ``gone`` into ``keep`` (``gone``'s pixels take ``keep``'s id)."""
        self.apply(self._edit("merge", keep, gone))

    def split(self, track: int, frame: int) -> int:
        """Give ``track`` a new id from ``frame`` on; returns the new id."""
        return int(self.apply(self._edit("split", track, frame=frame))["new_id"])

    def delete(self, track: int) -> None:
        """Remove a false track (its pixels become background)."""
        self.apply(self._edit("delete", track))

    def mark_reviewed(self, track: int) -> None:
        """Confirm a track's current class (an ``unknown`` track that holds a
        ``class_suggestion`` is refused: name it with :meth:`set_class`, see
        :func:`~ecoseg.species.edits.check_review`); a track reviewed already is left as it
        is, not logged again (an :class:`UnchangedEditWarning`)."""
        self.apply(self._edit("reviewed", track))

    def undo(self) -> list[UndoneEdit]:
        """Undo the last command not yet undone, every edit of it (the labels get their old
        bytes back); returns what it took back, one
        :class:`~ecoseg.species._undo_words.UndoneEdit` per edit, last first, in the words
        ``ecoseg edit --undo`` prints (``undid edit 2: set class of track 1 to wrasse (was:
        unknown)``)."""
        entries = self.apply(Edit("undo"))
        log = {e.get("n"): e for e in self.log}
        return [undone_edit(e, log, self._where) for e in entries]

    @property
    def objects(self) -> list[ObjectRecord]:
        """The object table now, one :class:`~ecoseg.provenance.ObjectRecord` per track (a
        frozen record: ``id``, ``class_name`` (the stored ``class``), ``source``,
        ``class_source``, ``class_probability``, ``reviewed``, ``class_suggestion``; the other
        keys in ``extra``); a list of the stored JSON dicts until stop 62."""
        from ecoseg.store import opened_store

        with opened_store(self._where) as store:
            return list(store.object_records().values())

    @property
    def log(self) -> list[dict[str, Any]]:
        """The edit log, oldest first."""
        return edit_log(self._where)
