"""``ecoseg.prompts`` is public: every name it offers, its own or from the private module of
value checks, imports from it as before (the checks moving between private modules does not
change what a script imports).

The names pinned are :data:`PUBLIC` (its ``__all__``, the contract) and every name the
package, tests, benchmarks, notebooks and docs import from it (``from ecoseg.prompts import
...`` or ``ecoseg.prompts.NAME``), found by reading them, so a new import is pinned without
editing this file.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: where code that imports from ecoseg.prompts lives
FOLDERS = ("ecoseg", "tests", "benchmarks", "notebooks", "docs", "data")
SUFFIXES = {".py", ".md", ".ipynb"}
PUBLIC = (
    "Concept",
    "Exemplar",
    "FramePrompt",
    "ObjectPrompts",
    "Prompts",
    "check_concept_names",
    "combine_concepts",
    "load_prompts",
    "name_key",
)

_FROM = re.compile(r"from\s+ecoseg\.prompts\s+import\s+(\([^)]*\)|[^\n]*)")
_DOTTED = re.compile(r"\becoseg\.prompts\.([A-Za-z_]\w*)")


def imported_names(text: str) -> set[str]:
    """The names ``text`` (Python, Markdown or a notebook's code) imports from ecoseg.prompts."""
    names = set(_DOTTED.findall(text))
    for m in _FROM.finditer(text):
        for line in m.group(1).strip("()").splitlines():
            for part in line.split("#")[0].split(","):
                name = part.split(" as ")[0].strip()
                if name:
                    names.add(name)
    return names


def _text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":  # the cells' code, not the JSON that quotes it
        cells = json.loads(text)["cells"]
        return "\n".join("".join(c["source"]) for c in cells)
    return text


def _importers() -> dict[str, str]:
    """Each name imported from ecoseg.prompts outside it -> the first file importing it."""
    skip = {ROOT / "ecoseg" / "prompts.py", Path(__file__).resolve()}
    paths = [ROOT / "README.md"]
    for folder in FOLDERS:
        paths += sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES)
    found: dict[str, str] = {}
    for path in paths:
        if path.is_file() and path not in skip:
            for name in sorted(imported_names(_text(path))):
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


IMPORTERS = _importers()
NAMES = sorted(set(PUBLIC) | set(IMPORTERS))


@pytest.mark.parametrize("name", NAMES)
def test_name_imports_from_ecoseg_prompts(name):
    module = importlib.import_module("ecoseg.prompts")
    where = IMPORTERS.get(name, "ecoseg.prompts.__all__")
    assert hasattr(module, name), f"{where} imports {name} from ecoseg.prompts: it is gone"


def test_every_form_of_import_is_read():
    text = """from ecoseg.prompts import Concept, Prompts as P  # noqa: E402
from ecoseg.prompts import (
    load_prompts,  # the file
    parse_concepts,
)
see :func:`ecoseg.prompts.validate_concepts` and ecoseg.prompts.FramePrompt.to_dict"""
    assert imported_names(text) == {
        "Concept",
        "Prompts",
        "load_prompts",
        "parse_concepts",
        "validate_concepts",
        "FramePrompt",
    }


def test_the_package_is_read():
    """A scan that read nothing would pin only ``__all__``."""
    session = imported_names(_text(ROOT / "ecoseg" / "engine" / "concept_session.py"))
    assert session and session <= set(IMPORTERS)


def test_all_is_the_public_contract():
    assert sorted(importlib.import_module("ecoseg.prompts").__all__) == sorted(PUBLIC)
