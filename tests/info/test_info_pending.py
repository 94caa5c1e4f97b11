"""A store an interrupted ``ecoseg edit`` left half written: ``info`` says so and names the
command that completes it; ``--verify`` counts it as a problem (exit status 1)."""

from __future__ import annotations

import json

import pytest

from ecoseg.cli import main
from ecoseg.info import summary, verify


def test_an_interrupted_edit_is_shown_and_verified(truth, interrupt_edit, capsys):
    assert summary(truth).pending_edits == 0
    interrupt_edit(truth)
    s = summary(truth)
    assert s.pending_edits == 2  # the merge being written and the delete after it
    text = "\n".join(s.lines())
    assert "  edit         an interrupted `ecoseg edit` left 2 edits unfinished" in text
    assert f"`ecoseg edit {truth} --resume`" in text
    problems = verify(truth)
    assert [(p.array, p.kind) for p in problems] == [("edits", "pending")]
    assert main(["info", str(truth), "--verify", "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["pending_edits"] == 2 and record["ok"] is False
    # completing it clears both
    assert main(["edit", str(truth), "--resume"]) == 0
    assert summary(truth).pending_edits == 0 and summary(truth).edits == 2
    assert verify(truth) == []


def test_every_place_says_it_in_the_same_words(clip, tmp_path, interrupt_edit, capsys):
    """``measure``'s refusal (check_finished), ``edit --log``, ``info``, ``info --verify`` and
    the napari warning said it in three wordings ("1 edit(s)" in --log; the path unquoted in
    the commands); now all give :func:`ecoseg.store.unfinished_note`, whose command runs as
    printed even for a path with a space."""
    import shlex
    import shutil

    from ecoseg.errors import StoreError
    from ecoseg.napari._check import edit_warning
    from ecoseg.store import MaskStore, check_finished, unfinished_note

    path = shutil.copytree(clip.truth, tmp_path / "reef 1.zarr")
    interrupt_edit(path)
    note = unfinished_note(2, path)
    assert note.endswith(f"run `ecoseg edit {shlex.quote(str(path))} --resume`")
    assert "left 2 edits unfinished" in note and "'" in note  # quoted: the path has a space
    assert unfinished_note(1, path).count("left 1 edit unfinished") == 1

    with MaskStore.open(path) as store, pytest.raises(StoreError) as refused:
        check_finished(store)
    assert str(refused.value) == f"{path}: {note} first"
    assert edit_warning(path) == str(refused.value)  # napari warns in measure's words
    assert main(["edit", str(path), "--log"]) == 0
    err = capsys.readouterr().err
    assert err == f"{path}: {note} (not in the log yet)\n"
    assert f"  edit         {note}" in summary(path).lines()
    assert [p.detail for p in verify(path)] == [note]
    code = main(["measure", str(path), "-o", str(tmp_path / "tables")])
    assert code != 0 and capsys.readouterr().err.count(note) == 1
