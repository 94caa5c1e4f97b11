"""The shells import one way (study -> report -> measure -> store), counting imports inside
functions: no module of report/, measure/ or batch/ imports ecoseg.study, and so on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ecoseg

PACKAGE = Path(ecoseg.__file__).parent

# package -> ecoseg modules it must never import (directly, at any depth of the code)
FORBIDDEN = {
    "report": ("ecoseg.study", "ecoseg.batch", "ecoseg.cli", "ecoseg.napari"),
    "measure": ("ecoseg.study", "ecoseg.batch", "ecoseg.report", "ecoseg.cli", "ecoseg.napari"),
    "batch": ("ecoseg.study", "ecoseg.report", "ecoseg.cli", "ecoseg.napari"),
    "study": ("ecoseg.cli", "ecoseg.napari"),
}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package):
    files = sorted((PACKAGE / package).rglob("*.py"))
    assert files, package
    for path in files:
        for name in imported(path):
            for bad in FORBIDDEN[package]:
                assert name != bad and not name.startswith(bad + "."), (
                    f"{path.relative_to(PACKAGE)} imports {name}"
                )


@pytest.mark.parametrize("package", ["report", "measure", "batch", "study"])
def test_no_private_name_is_imported_from_another_module(package):
    for path in sorted((PACKAGE / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ecoseg"):
                private = [
                    a.name
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
                assert not private, f"{path.relative_to(PACKAGE)} imports {private}"
