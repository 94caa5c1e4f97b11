"""species/ reads and writes stores and tables: never torch, the engines or the shells, and
measure/ never imports species/ (no cycle), counting imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import ecoseg

PACKAGE = Path(ecoseg.__file__).parent
FORBIDDEN = {
    "species": (
        "torch",
        "ecoseg.engine",
        "ecoseg.sam2",
        "ecoseg.sam3",
        "ecoseg.study",
        "ecoseg.report",
        "ecoseg.batch",
        "ecoseg.cli",
        "ecoseg.napari",
    ),
    "measure": ("ecoseg.species",),
    "store": ("ecoseg.species",),
}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_species_imports_run_one_way():
    for package, bad in FORBIDDEN.items():
        for path in sorted((PACKAGE / package).rglob("*.py")):
            for name in imported(path):
                assert not any(name == b or name.startswith(b + ".") for b in bad), (
                    f"{path.relative_to(PACKAGE)} imports {name}"
                )


def test_package_imports_edit_record_names_where_they_live():
    """``ecoseg.species.edits`` re-exports the Edit record and its words for users; the
    package itself imports them from ``_edit_record``, where they live (no module goes
    through a re-export)."""
    import ecoseg.species._edit_record as record

    moved = set(record.__all__)
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "species" / "edits.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "ecoseg.species.edits":
                through = sorted(moved & {a.name for a in node.names})
                assert not through, (
                    f"{path.relative_to(PACKAGE)} imports {through} through ecoseg.species.edits"
                )
