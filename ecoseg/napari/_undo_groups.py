"""One *Undo* press takes back one press of an edit button in *Review tracks*.

*Set class* and *Reviewed* on several selected tracks write one edit-log entry per track (the
store's log is per track: ``ecoseg edit`` and :func:`ecoseg.species.apply_edits` undo one
entry at a time). The widget remembers which entries each of its presses wrote
(:class:`UndoGroups`), and its *Undo* takes back as many entries as the last press not yet
undone wrote, in one all-or-nothing command. The memory is the widget's: an edit made
elsewhere after the press (the command line, another viewer) comes first in the log, and
then *Undo* takes back that one entry, as before; a new widget undoes one entry a press.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["UndoGroups", "not_undone"]


def not_undone(log: Sequence[Mapping]) -> list[int]:
    """The numbers of the edit-log entries not yet undone, oldest first: the last is the one
    the next undo takes back (an undo takes back the last edit not yet undone).

    Examples
    --------
    >>> log = [{"n": 1, "kind": "delete"}, {"n": 2, "kind": "set_class"},
    ...        {"n": 3, "kind": "undo", "undoes": 2}, {"n": 4, "kind": "merge"}]
    >>> not_undone(log)
    [1, 4]
    """
    stack: list[int] = []
    for entry in log:
        if entry.get("kind") == "undo":
            if stack:
                stack.pop()
        else:
            stack.append(int(entry["n"]))
    return stack


class UndoGroups:
    """The edit-log entries each press of an edit button wrote, by store.

    Examples
    --------
    >>> groups = UndoGroups()
    >>> groups.add("m.zarr", [{"n": 1, "kind": "set_class"}])  # one entry: nothing to group
    >>> groups.add("m.zarr", [{"n": 2, "kind": "set_class"}, {"n": 3, "kind": "set_class"}])
    >>> log = [{"n": n, "kind": "set_class"} for n in (1, 2, 3)]
    >>> groups.undos("m.zarr", log)  # the last press wrote two entries
    2
    >>> groups.undos("m.zarr", log + [{"n": 4, "kind": "delete"}])  # an edit made since
    1
    """

    def __init__(self) -> None:
        self._groups: dict[str, list[tuple[int, ...]]] = {}

    def add(self, store, entries: Iterable[Mapping]) -> None:
        """Remember the log entries one press wrote on ``store`` (a path or URL)."""
        numbers = tuple(int(e["n"]) for e in entries if e.get("kind") != "undo")
        if len(numbers) > 1:
            self._groups.setdefault(str(store), []).append(numbers)

    def undos(self, store, log: Sequence[Mapping]) -> int:
        """How many undos take back the last press not yet undone (1: a single entry, or an
        edit this widget did not make)."""
        stack = not_undone(log)
        for numbers in reversed(self._groups.get(str(store), [])):
            if tuple(stack[-len(numbers) :]) == numbers:
                return len(numbers)
        return 1
