"""The record of hand edits (``metadata["ecoseg"]["hand_edits"]``) has one owner,
:mod:`ecoseg.napari._hand_edits`: the writer clears it through :func:`saved` (it popped the
key itself, beside :func:`forget`)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import ecoseg.napari

PACKAGE = Path(ecoseg.napari.__file__).parent


def test_only_hand_edits_touches_the_record():
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "_hand_edits.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "ecoseg.napari._hand_edits":
                names = {alias.name for alias in node.names}
                assert "KEY" not in names, f"{path.name} handles the record of hand edits itself"


def test_saving_forgets_the_record_and_keeps_the_rest(tmp_path):
    from ecoseg.napari._hand_edits import KEY
    from ecoseg.napari._writer import write_labels

    metadata = {"ecoseg": {KEY: {"frames": [0], "strokes": 2}, "fps": 10.0}, "other": 1}
    out = str(tmp_path / "m.zarr")
    write_labels(out, np.ones((1, 3, 3), np.uint8), {"metadata": metadata})
    assert metadata == {"ecoseg": {"fps": 10.0, "store": out}, "other": 1}  # the layer's now
