"""The house rules, checked on the source: module size, one-way imports (counting imports
inside functions), no private names across modules, the layers of docs/architecture.md, and
that page naming every module."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

import ecoseg

PACKAGE = Path(ecoseg.__file__).parent
MAX_LINES = 800


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def tree(name: str) -> ast.Module:
    path = MODULES[name]
    return ast.parse(path.read_text(), str(path))


def from_module(node: ast.ImportFrom, name: str) -> str:
    """The module a ``from ... import`` in module ``name`` reads, a relative one made absolute
    (``from ..engine import x`` in ``ecoseg.io.video`` reads ``ecoseg.engine``)."""
    if not node.level:
        return node.module or ""
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    base = package.rsplit(".", node.level - 1)[0]
    return f"{base}.{node.module}" if node.module else base


def imports(name: str) -> set[str]:
    """Every name ``name`` imports, at any depth: ``a.b`` and, for ``from a import c``,
    ``a.c`` (so a submodule or a package-level name both show); relative imports too."""
    out = set()
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = from_module(node, name)
            out.add(module)
            out.update(f"{module}.{a.name}" for a in node.names)
    return out


def module_edges(name: str) -> set[str]:
    """The ecoseg modules ``name`` imports (a ``from pkg import sub`` counts as ``pkg.sub``)."""
    out = set()
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and (module := from_module(node, name)) in MODULES:
            for a in node.names:
                sub = f"{module}.{a.name}"
                out.add(sub if sub in MODULES else module)
    out.discard(name)
    return out


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


# What a layer never imports (DESIGN.md's dependency rules; docs/architecture.md).
SHELLS = (
    "ecoseg.cli",
    "ecoseg._cli",
    "ecoseg._segment_cli",
    "ecoseg._species_cli",
    "ecoseg._formats_cli",
    "ecoseg._info_cli",
    "ecoseg._campaign_cli",
    "ecoseg.demo",
    "ecoseg.sample",
    "ecoseg.napari",
    "ecoseg.report",
    "ecoseg.batch",
    "ecoseg.study",
    "ecoseg.info",
)
NETWORKS = ("ecoseg.sam2", "ecoseg.sam3")
HEAVY = ("torch", "napari", "dask", "distributed", "transformers")
ANALYSIS = ("ecoseg.synth", "ecoseg.measure", "ecoseg.metrics", "ecoseg.formats", "ecoseg.species")
FORBIDDEN = {
    "ecoseg.io": (*SHELLS, *NETWORKS, "ecoseg.engine", "ecoseg.measure", *HEAVY),
    "ecoseg.store": (*SHELLS, *NETWORKS, "ecoseg.engine", "ecoseg.measure", *HEAVY),
    "ecoseg.prompts": (*SHELLS, *NETWORKS, "ecoseg.engine", "ecoseg.store", *HEAVY),
    "ecoseg.provenance": (*SHELLS, *NETWORKS, "ecoseg.engine", "ecoseg.store", *HEAVY),
    "ecoseg.synth": (*SHELLS, *NETWORKS, "ecoseg.engine", "ecoseg.measure", *HEAVY),
    "ecoseg.sam2": (*SHELLS, "ecoseg.engine", "ecoseg.io", "ecoseg.store", "ecoseg.measure"),
    "ecoseg.sam3": (*SHELLS, "ecoseg.engine", "ecoseg.io", "ecoseg.store", "ecoseg.measure"),
    "ecoseg.measure": (*SHELLS, *NETWORKS, "ecoseg.engine", *HEAVY),
    "ecoseg.metrics": (*SHELLS, *NETWORKS, "ecoseg.engine", *HEAVY),
    "ecoseg.formats": (*SHELLS, *NETWORKS, "ecoseg.engine", *HEAVY),
    "ecoseg.species": (*SHELLS, *NETWORKS, "ecoseg.engine", "torch", "transformers"),
    # layer 4 imports layers 0-2: the analysis packages read what it writes
    "ecoseg.engine": (*SHELLS, *ANALYSIS),
    "ecoseg.report": ("ecoseg.study", "ecoseg.batch", "ecoseg.cli", "ecoseg.napari"),
    "ecoseg.batch": ("ecoseg.study", "ecoseg.report", "ecoseg.cli", "ecoseg.napari"),
    "ecoseg.study": ("ecoseg.cli", "ecoseg.napari"),
    "ecoseg.napari": ("ecoseg.cli", "ecoseg.study", "ecoseg.batch"),
    "ecoseg.info": ("ecoseg.cli", "ecoseg.napari", "ecoseg.study", "ecoseg.batch", *HEAVY),
}

# What the two lowest layers of docs/architecture.md may import at all (of ecoseg): the helpers
# `errors` only, the records the helpers (layer 0) and each other.
HELPERS = (
    "errors",
    "_version",
    "_lazy",
    "_checks",
    "_hashing",
    "_paths",
    "_text",
    "_bundled",
    "_store_video",
    "_device",
    "_warn",
    "_cancel",
    "_progress",
)
RECORDS = (
    "provenance",
    "_record_json",
    "_annotated_frames",
    "_class_names",
    "prompts",
    "_prompt_concepts",
    "_prompt_values",
)
MAY_IMPORT = {
    **{f"ecoseg.{m}": {"ecoseg.errors"} for m in HELPERS},
    "ecoseg._paths": {"ecoseg.errors", "ecoseg._text"},  # a named file's text: _text decodes it
    "ecoseg._cancel": {"ecoseg.errors", "ecoseg._checks"},  # a wrong cancel named: short_repr
    "ecoseg._store_video": {"ecoseg.errors", "ecoseg._bundled"},  # a video by its ecoseg: name
    "ecoseg._device": {"ecoseg.errors", "ecoseg._checks"},  # a refused name's did-you-mean
    **{f"ecoseg.{m}": {f"ecoseg.{n}" for n in (*HELPERS, *RECORDS)} for m in RECORDS},
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_the_size_limit(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines (limit {MAX_LINES})"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package):
    members = [m for m in MODULES if in_package(m, package)]
    assert members, f"{package} is gone: its rule checks nothing (rename it here)"
    for name in members:
        for target in imports(name):
            for bad in FORBIDDEN[package]:
                assert not in_package(target, bad), f"{name} imports {target}"


def test_the_import_rules_see_relative_imports(monkeypatch):
    """The rules are not blind: ``from ..engine import x`` (they read absolute imports only,
    so a relative one broke every import rule unseen), and a private name imported so."""
    source = "def f():\n    from ..engine import segment\n    from .._paths import _helper\n"
    monkeypatch.setitem(globals(), "tree", lambda name: ast.parse(source))
    with pytest.raises(AssertionError, match=r"ecoseg\.io\S* imports ecoseg\.engine"):
        test_imports_run_one_way("ecoseg.io")
    assert "ecoseg.engine" in module_edges("ecoseg.io.video")
    assert "ecoseg._paths" in module_edges("ecoseg.io")  # a package's own __init__
    with pytest.raises(AssertionError, match=r"\['_helper'\] from ecoseg._paths"):
        test_no_private_name_is_imported_from_another_module("ecoseg.io.video")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_nothing_imports_napari_and_only_main_imports_cli(name):
    for target in imports(name):
        if not in_package(name, "ecoseg.napari"):
            assert not in_package(target, "ecoseg.napari"), f"{name} imports {target}"
        if name != "ecoseg.__main__":
            assert not in_package(target, "ecoseg.cli"), f"{name} imports {target}"


@pytest.mark.parametrize("name", sorted(MAY_IMPORT))
def test_the_lowest_layers_import_only_what_they_may(name):
    extra = module_edges(name) - MAY_IMPORT[name]
    assert not extra, f"{name} imports {sorted(extra)}"


def test_no_import_cycle():
    """Tarjan's strongly connected components over explicit imports (inside functions too)."""
    edges = {m: module_edges(m) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_cycle_check_sees_a_cycle(monkeypatch):
    """The checker is not blind: a cycle made up in the graph is found."""
    original = module_edges
    a, b = "ecoseg.errors", "ecoseg.provenance"

    def with_cycle(name):
        return original(name) | ({b} if name == a else set())

    monkeypatch.setitem(globals(), "module_edges", with_cycle)
    with pytest.raises(AssertionError, match="import cycles"):
        test_no_import_cycle()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_name_is_imported_from_another_module(name):
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.ImportFrom) and (module := from_module(node, name)).startswith(
            "ecoseg"
        ):
            private = [
                a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")
            ]
            assert not private, f"{name} imports {private} from {module}"


def test_test_files_have_unique_names():
    """pytest imports test files by base name (no packages under tests/): two alike collide."""
    tests = PACKAGE.parent / "tests"
    names = [p.name for p in tests.rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def warns_directly(name: str) -> list[int]:
    """Lines where module ``name`` calls ``warnings.warn`` itself."""
    return [
        node.lineno
        for node in ast.walk(tree(name))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "warn"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "warnings"
    ]


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"ecoseg._warn"}))
def test_warnings_are_raised_through_one_helper(name):
    """``ecoseg._warn.warn`` names the user's line at any depth; a fixed ``stacklevel`` named
    ecoseg's own line once a layer was added between the public call and the warning."""
    lines = warns_directly(name)
    assert not lines, f"{name} calls warnings.warn on lines {lines}: use ecoseg._warn.warn"


def test_the_warning_rule_sees_a_direct_call(monkeypatch):
    """The rule is not blind: a module calling ``warnings.warn`` is found."""
    source = "import warnings\n\ndef f():\n    warnings.warn('x', UserWarning, stacklevel=3)\n"
    monkeypatch.setitem(globals(), "tree", lambda name: ast.parse(source))
    assert warns_directly("ecoseg.anything") == [4]


#: Python's warnings filters are the process's, not a thread's: library code run in a napari
#: worker, a dask thread or the engine's prefetch thread must not change them
FILTER_CALLS = {"catch_warnings", "simplefilter", "filterwarnings", "resetwarnings"}
#: the command line and the docs' screenshot script (``python -m``), on the main thread only
MAIN_THREAD_ONLY = {"ecoseg.cli", "ecoseg._cli", "ecoseg._segment_cli", "ecoseg.napari._screenshot"}


def changes_filters(name: str) -> list[int]:
    """Lines where module ``name`` calls ``warnings.catch_warnings`` or sets a filter."""
    return [
        node.lineno
        for node in ast.walk(tree(name))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in FILTER_CALLS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "warnings"
    ]


@pytest.mark.parametrize("name", sorted(set(MODULES) - MAIN_THREAD_ONLY))
def test_library_code_changes_no_warnings_filter(name):
    """``warnings.catch_warnings()`` + ``simplefilter("ignore", X)`` in a worker thread hid
    every thread's X meanwhile and, on leaving, put back the filters it found (undoing those
    set meanwhile): leave ecoseg's own warnings unsaid (``ecoseg._warn.unsaid``, per thread),
    avoid numpy's (``np.errstate`` is per thread), or keep a thread's own (napari/_warned)."""
    lines = changes_filters(name)
    assert not lines, f"{name} changes Python's warnings filters on lines {lines}"


def test_the_filter_rule_sees_a_catch_warnings(monkeypatch):
    """The rule is not blind (docstring examples, not code, are left alone)."""
    source = (
        'def f():\n    """>>> warnings.simplefilter("always")"""\n'
        "    with warnings.catch_warnings():\n        warnings.simplefilter('ignore')\n"
    )
    monkeypatch.setitem(globals(), "tree", lambda name: ast.parse(source))
    assert changes_filters("ecoseg.anything") == [3, 4]


ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"


def _at(path: str) -> re.Pattern:
    """``path`` (``store/commit.py``, ``engine/classical/``) as a whole path, ``ecoseg/`` or
    nothing before it (``_segment_cli.py`` does not name ``cli.py``)."""
    end = "" if path.endswith("/") else r"(?![\w/])"
    return re.compile(r"(?<![\w/])(?:ecoseg/)?" + re.escape(path) + end)


def named_in(doc: str, path: Path) -> bool:
    """Whether ``doc`` names the module file ``path`` (relative to ``ecoseg/``): by its path
    (``store/commit.py``), a package by its folder (``engine/classical/``), or a module by its
    bare name in backticks (`` `hiera` ``) on a line that names its folder (``sam2/``), or
    anywhere for a top-level module (`` `_checks` ``)."""
    parts = path.with_suffix("").parts
    folder = "/".join(parts[:-1])
    if _at(path.as_posix()).search(doc):
        return True
    if parts[-1] == "__init__":
        return not folder or bool(_at(folder + "/").search(doc))
    stem = re.compile(f"`{re.escape(parts[-1])}`")
    if not folder:
        return bool(stem.search(doc))
    return any(_at(folder + "/").search(line) and stem.search(line) for line in doc.splitlines())


def test_every_module_is_placed_in_the_architecture_page():
    """A new module gets its line in docs/architecture.md, so the map stays the house."""
    doc = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [
        p.relative_to(PACKAGE).as_posix()
        for p in MODULES.values()
        if not named_in(doc, p.relative_to(PACKAGE))
    ]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_the_architecture_page_rule_sees_a_missing_module():
    """The rule is not blind: what a page does not name, or names elsewhere, is missing."""
    doc = "| the store | `store/maskstore.py`, `_checks` |\n| SAM 2 | `sam2/` (`hiera`) |\n"
    assert named_in(doc, Path("store/maskstore.py"))
    assert named_in(doc, Path("_checks.py"))
    assert named_in(doc, Path("sam2/hiera.py"))
    assert named_in(doc, Path("sam2/__init__.py"))
    assert not named_in(doc, Path("store/commit.py"))
    assert not named_in(doc, Path("maskstore.py"))  # only as store's
    assert not named_in(doc, Path("sam3/hiera.py"))  # `hiera` is on sam2's line
    assert not named_in(doc, Path("sam3/__init__.py"))
    assert not named_in(doc, Path("checks.py"))  # `_checks` is another module
    assert not named_in("`_segment_cli.py`", Path("cli.py"))
