"""The record of hand edits (``metadata["ecoseg"]["hand_edits"]``) has one owner,
:mod:`ecoseg.napari._hand_edits`: the writer clears it through :func:`saved` (it popped the
key itself, beside :func:`forget`)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import ecoseg.napari

PACKAGE = Path(ecoseg.napari.__file__).parent


def handles_the_record(source: str) -> list[int]:
    """Lines where ``source`` handles the record itself: it imports ``KEY`` from
    ``_hand_edits``, reads ``_hand_edits.KEY``, or spells the key (``"hand_edits"``)."""
    from ecoseg.napari._hand_edits import KEY

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "ecoseg.napari._hand_edits":
            if "KEY" in {alias.name for alias in node.names}:
                lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "KEY":
            if isinstance(node.value, ast.Name) and node.value.id == "_hand_edits":
                lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and node.value == KEY:
            lines.append(node.lineno)
    return lines


def test_only_hand_edits_touches_the_record():
    paths = [p for p in sorted(PACKAGE.glob("*.py")) if p.name != "_hand_edits.py"]
    assert len(paths) > 5, paths
    for path in paths:
        lines = handles_the_record(path.read_text(encoding="utf-8"))
        assert not lines, f"{path.name} handles the record of hand edits itself, lines {lines}"


def test_the_record_rule_sees_a_module_handling_it():
    """The rule is not blind: it read only an import of ``KEY``, and a module popping
    ``meta["hand_edits"]`` by its name passed."""
    assert handles_the_record("from ecoseg.napari._hand_edits import KEY, saved\n") == [1]
    assert handles_the_record("def f(meta):\n    meta.pop('hand_edits', None)\n") == [2]
    assert handles_the_record("x = _hand_edits.KEY\n") == [1]
    assert handles_the_record('"""The hand_edits record."""\nfrom a import saved\n') == []


def test_saving_forgets_the_record_and_keeps_the_rest(tmp_path):
    from ecoseg.napari._hand_edits import KEY
    from ecoseg.napari._writer import write_labels

    metadata = {"ecoseg": {KEY: {"frames": [0], "strokes": 2}, "fps": 10.0}, "other": 1}
    out = str(tmp_path / "m.zarr")
    write_labels(out, np.ones((1, 3, 3), np.uint8), {"metadata": metadata})
    assert metadata == {"ecoseg": {"fps": 10.0, "store": out}, "other": 1}  # the layer's now
