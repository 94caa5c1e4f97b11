"""What *Review tracks* says, in its buttons' words: the buttons' labels (:data:`BUTTONS`),
an edit named by the button that makes it (:func:`button_words`, also of the parts of an edit
that is none: :func:`pressed`, and in a warning: :func:`in_buttons`), the status line's words
for an edit made (:func:`done_line`) and for one refused before it was made (:func:`refusal`),
and whether an edit changed the masks, so that the layer's undo history starts again
(:func:`changes_masks`, :data:`HISTORY_NOTE`), why an edit's layer was not reloaded
(:func:`left_behind`: closed, or showing another store, while the edit ran), and which other
layers of the store were (:func:`reloaded_too`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecoseg.species._edit_record import Edit

__all__ = [
    "BUTTONS",
    "HISTORY_NOTE",
    "button_words",
    "changes_masks",
    "done_line",
    "in_buttons",
    "left_behind",
    "pressed",
    "refusal",
    "reloaded_too",
]

#: The edit buttons' labels by edit kind: the buttons show them, and refusals name edits by them.
BUTTONS = {
    "set_class": "Set class",
    "merge": "Merge",
    "split": "Split here",
    "delete": "Delete",
    "reviewed": "Reviewed",
    "undo": "Undo",
}


def button_words(edit: Edit) -> str:
    """``edit`` named by the button that makes it, on its tracks: the widget's
    :data:`~ecoseg.species.edits.EditWords`, so a refusal names what a napari user can press
    (neither ``ecoseg edit``'s ``--merge 1,2`` nor the Python ``merge(1, 2)`` is a control here).

    Examples
    --------
    >>> from ecoseg.species import Edit
    >>> button_words(Edit("merge", (1, 2))), button_words(Edit("undo"))
    ('Merge on tracks 1 and 2', 'Undo')
    >>> button_words(Edit("set_class", (2,), cls="damselfish"))
    "Set class 'damselfish' on track 2"
    >>> button_words(Edit("split", (1,), frame=0)), button_words(Edit("reviewed", (4,)))
    ('Split here on track 1 at frame 0', 'Reviewed on track 4')
    """
    return pressed(edit.kind, edit.ids, edit.cls, edit.frame, edit.unchecked)


def pressed(kind: str, ids, cls=None, frame=None, unchecked: bool = False) -> str:
    """:func:`button_words` of an edit's parts, also of one that is no valid
    :class:`~ecoseg.species.edits.Edit` (a class name with a tab: its refusal names the
    button pressed)."""
    button = BUTTONS[kind]
    if kind == "undo":
        return button
    if kind == "merge":
        return f"{button} on tracks {ids[0]} and {ids[1]}"
    if kind == "set_class":
        return f"{button} {cls!r} on track {ids[0]}"
    if kind == "split":  # the button makes checked splits only; a replayed one says so
        return f"{button} on track {ids[0]} at frame {frame}" + " (an unchecked split)" * unchecked
    return f"{button} on track {ids[0]}"  # delete, reviewed


def in_buttons(kept):
    """A warning a worker kept (a ``warnings.WarningMessage``) in the buttons' words: the
    rest of an interrupted command that was dropped names its edits by :func:`button_words`
    (the queue does not say who made the command, so the store's warning names them as
    ``ecoseg edit`` options: ``--delete 99``, no control here); any other warning as it is.

    Examples
    --------
    >>> import warnings
    >>> from ecoseg.species import Edit
    >>> from ecoseg.species.edits import marked_words
    >>> from ecoseg.species.review import DroppedEditsWarning
    >>> said = DroppedEditsWarning(f"dropped ({marked_words(Edit('delete', (99,)))}: no track 99)")
    >>> str(in_buttons(warnings.WarningMessage(said, DroppedEditsWarning, "x.py", 1)).message)
    'dropped (Delete on track 99: no track 99)'
    """
    import warnings

    from ecoseg.species.review import DroppedEditsWarning

    if not isinstance(kept.message, DroppedEditsWarning):
        return kept
    said = kept.message.worded(button_words)
    return warnings.WarningMessage(
        said, kept.category, kept.filename, kept.lineno, kept.file, kept.line, kept.source
    )


#: What the status line adds after an edit that replaced masks painted over by hand.
HISTORY_NOTE = (
    "napari's undo (Ctrl+Z) in the layer starts again here: it cannot take back strokes "
    "painted before this edit; Undo here takes back the edit"
)


def changes_masks(entry: dict, undone: dict) -> bool:
    """Whether an edit (its log entry; for an undo, the entry of the edit it took back)
    changed the store's masks, not only its object table."""
    from ecoseg.species._edit_record import LABEL_KINDS

    return entry.get("kind") in LABEL_KINDS or undone.get("kind") in LABEL_KINDS


def done_line(entry: dict, path, edit: Edit | None = None) -> tuple[str, dict]:
    """The status line's words for one edit's log entry, in the buttons' words
    (:func:`~ecoseg.species._edit_log.done_words`; an undo in the plain words ``ecoseg edit
    --undo`` prints too: the edit it took back and what the store held before it), and (for
    an undo) the entry of the edit it took back (its own ids are empty: the line says which
    edit that was).

    Examples
    --------
    >>> done_line({"n": 2, "kind": "delete", "ids": [3]}, "T1.zarr")
    ('edit 2: Delete on track 3', {})
    """
    from ecoseg.species._edit_log import done_words

    undone = {}
    if entry["kind"] == "undo":
        from ecoseg.species import edit_log

        undone = {e.get("n"): e for e in edit_log(path)}.get(entry.get("undoes"), {})
    log = {entry.get("undoes"): undone}
    return f"edit {entry['n']}: {done_words(entry, button_words, edit, log, path)}", undone


def refusal(exc: Exception, kind: str, ids, store=None, **parts) -> str:
    """The one line refusing an edit the widget could not even make (:class:`Edit`
    refused its parts): named by its button and the store, as a store's refusal is.

    Examples
    --------
    >>> refusal(ValueError("a tab in the name"), "set_class", [2], "T1.zarr", cls="a\\tb")
    "T1.zarr: Set class 'a\\\\tb' on track 2: a tab in the name; nothing was changed"
    """
    reason = " ".join(str(exc).split())  # Edit's refusals do not name the edit themselves
    where = f"{store}: " if store else ""
    return f"{where}{pressed(kind, ids, **parts)}: {reason}; nothing was changed"


def left_behind(layer, path, open_: bool = True, reloaded: bool = False) -> str | None:
    """Why an edit of the store at ``path`` is not reloaded into ``layer``, the layer it was
    pressed on (its ``name`` and ``metadata``): closed while the edit ran (``open_`` False),
    or showing another store now (saved to a new one, or taken out of its store by a run);
    None while it still shows that store (it is reloaded). ``reloaded``: another layer of
    the store is (:func:`reloaded_too` names it).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> layer = SimpleNamespace(name="T1 masks", metadata={"ecoseg": {"store": "a/T1.zarr"}})
    >>> left_behind(layer, "a/T1.zarr") is None
    True
    >>> left_behind(layer, "a/T1.zarr", open_=False)
    "the layer 'T1 masks' was closed while the edit ran: the edit is in T1.zarr, nothing reloaded"
    >>> left_behind(layer, "a/T1.zarr", open_=False, reloaded=True)
    "the layer 'T1 masks' was closed while the edit ran: the edit is in T1.zarr"
    >>> left_behind(layer, "b/T0.zarr")
    "the layer 'T1 masks' shows T1.zarr now, not T0.zarr (changed while the edit ran): not reloaded"
    """
    from pathlib import Path

    shows = (layer.metadata.get("ecoseg") or {}).get("store")
    if open_ and shows is not None and str(shows) == str(path):
        return None
    name = Path(str(path)).name
    if not open_:
        said = f"the layer '{layer.name}' was closed while the edit ran: the edit is in {name}"
        return said if reloaded else f"{said}, nothing reloaded"
    other = None if shows is None else Path(str(shows)).name
    if other == name:  # the same name in another folder: the paths tell them apart
        other, name = str(shows), str(path)
    now = "no store" if other is None else other
    return (
        f"the layer '{layer.name}' shows {now} now, not {name} (changed while the edit ran): "
        "not reloaded"
    )


def reloaded_too(names, path, too: bool = True) -> str:
    """The status line's words for the other layers that show the store at ``path`` (opened
    before the edit, or while it ran), ``names``, reloaded with it (``too``: besides the
    layer the edit was pressed on).

    Examples
    --------
    >>> reloaded_too(["T1 masks [1]"], "a/T1.zarr", too=False)
    "the layer 'T1 masks [1]' showing T1.zarr is reloaded"
    >>> reloaded_too(["b", "c"], "a/T1.zarr")
    "the layers 'b' and 'c' showing T1.zarr are reloaded too"
    """
    from pathlib import Path

    quoted = [f"'{name}'" for name in names]
    which = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    verb = "is" if len(quoted) == 1 else "are"
    said = (
        f"the layer{'s' * (len(quoted) > 1)} {which} showing {Path(str(path)).name} {verb} reloaded"
    )
    return f"{said} too" if too else said
