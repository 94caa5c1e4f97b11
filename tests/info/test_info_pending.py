"""A store an interrupted ``ecoseg edit`` left half written: ``info`` says so and names the
command that completes it; ``--verify`` counts it as a problem (exit status 1)."""

from __future__ import annotations

import json
import sys

import pytest

from ecoseg.cli import main
from ecoseg.info import summary, verify
from ecoseg.species import apply_edits
from ecoseg.species.edits import Edit
from ecoseg.store import MaskStore


def _interrupt_edit(path, monkeypatch) -> None:
    """Kill ``--merge A,B --delete C`` at its first labels chunk (after the intent)."""
    review = sys.modules["ecoseg.species.review"]
    calls = {"n": 0}
    write = review._write_chunk

    def killed(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return write(*args, **kwargs)

    ids = [int(i) for i in MaskStore.open(path).object_ids[:3]]
    monkeypatch.setattr(review, "_write_chunk", killed)
    with pytest.raises(KeyboardInterrupt):
        apply_edits(path, [Edit("merge", (ids[0], ids[1])), Edit("delete", (ids[2],))])
    monkeypatch.undo()


def test_an_interrupted_edit_is_shown_and_verified(truth, monkeypatch, capsys):
    assert summary(truth).pending_edits == 0
    _interrupt_edit(truth, monkeypatch)
    s = summary(truth)
    assert s.pending_edits == 2  # the merge being written and the delete after it
    text = "\n".join(s.lines())
    assert "INTERRUPTED: 2 edits unfinished" in text
    assert f"ecoseg edit {truth} --resume" in text
    problems = verify(truth)
    assert [(p.array, p.kind) for p in problems] == [("edits", "pending")]
    assert main(["info", str(truth), "--verify", "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["pending_edits"] == 2 and record["ok"] is False
    # completing it clears both
    assert main(["edit", str(truth), "--resume"]) == 0
    assert summary(truth).pending_edits == 0 and summary(truth).edits == 2
    assert verify(truth) == []
