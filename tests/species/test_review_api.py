"""What a Python user of the review API sees: the edit log in plain words (``log_lines``),
what ``Review.undo()`` took back (:class:`UndoneEdit`, in the words ``ecoseg edit --undo``
prints) and ``truth_classes``, all reachable from ``ecoseg.species``."""

from __future__ import annotations

from species_helpers import tracker_store

import ecoseg.species
from ecoseg.cli import main
from ecoseg.species import Review, edit_log


def test_the_log_in_plain_words_is_public_and_what_edit_log_prints(tmp_path, capsys):
    """Only the private ``_edit_log.log_lines`` said the log in words; ``edit_log`` and
    ``Review.log`` give raw entries."""
    from ecoseg.species import log_lines

    path = tmp_path / "m.zarr"
    tracker_store(path)
    r = Review(path)
    r.set_class(3, "wrasse")
    r.delete(2)
    r.undo()
    capsys.readouterr()
    assert main(["edit", str(path), "--log"]) == 0
    assert log_lines(r.log) == capsys.readouterr().out.splitlines()
    assert log_lines(edit_log(path))[1] == "2  delete of track 2  (undone by edit 3)"
    assert "log_lines" in ecoseg.species.__all__


def test_python_undo_returns_what_it_took_back_in_the_cli_words(tmp_path, capsys):
    """``Review.undo()`` returned None: a notebook could not see what it took back. It
    returns one record per edit of the command, last first, worded as ``--undo`` prints."""
    from ecoseg.species import UndoneEdit

    here, there = tmp_path / "py.zarr", tmp_path / "cli.zarr"
    for path in (here, there):
        tracker_store(path)
        assert main(["edit", str(path), "--set-class", "3=wrasse", "--delete", "1"]) == 0
    capsys.readouterr()
    undone = Review(here).undo()
    assert main(["edit", str(there), "--undo"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert all(isinstance(u, UndoneEdit) for u in undone)
    assert [f"edit {u.entry['n']}: {u.words}" for u in undone] == printed
    assert printed[0] == "edit 3: undid edit 2: delete of track 1 (was: unknown)"
    log = edit_log(here)
    assert [u.entry for u in undone] == log[2:]
    assert [u.undone for u in undone] == [log[1], log[0]]  # last first


def test_truth_classes_is_reexported_with_the_package():
    from ecoseg.species.truth import truth_classes

    assert ecoseg.species.truth_classes is truth_classes
    assert "truth_classes" in ecoseg.species.__all__
