"""A store an interrupted ``ecoseg edit`` left half written: ``info`` says so and names the
command that completes it; ``--verify`` counts it as a problem (exit status 1)."""

from __future__ import annotations

import json

from ecoseg.cli import main
from ecoseg.info import summary, verify


def test_an_interrupted_edit_is_shown_and_verified(truth, interrupt_edit, capsys):
    assert summary(truth).pending_edits == 0
    interrupt_edit(truth)
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
