"""Every numpydoc Examples section in ecoseg runs, one test per module.

An example that cannot run here says why, on the line itself, and is counted::

    >>> model = ecoseg.sam2.build("sam2.1-large")  # requires: weights  # doctest: +SKIP

The allowed reasons are :data:`REASONS`; :func:`test_skipped_examples_are_counted` holds the
count per reason (a skip without a reason, or a new one, fails it). napari modules are skipped
when Qt cannot start, with that reason. Examples run with ``NORMALIZE_WHITESPACE`` and
``ELLIPSIS``, in the module's own namespace, from a scratch working folder; pyproject.toml's
``doctest_optionflags`` are the same flags, so a plain ``pytest --doctest-modules ecoseg`` runs
them alike (:func:`test_plain_doctest_runs_examples_alike`).
"""

from __future__ import annotations

import ast
import doctest
import importlib
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ecoseg"
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

#: why an example may be skipped; every skipped example names one of these
REASONS = {
    "weights": "needs the real SAM 2 weights (downloaded by the user, not on the test machine)",
    "gpu": "needs a CUDA device",
    "data": "needs files a user has (a study folder, a long video)",
    "slow": "runs a whole pipeline (tens of seconds on a CPU); tested elsewhere",
    "cluster": "starts a Dask cluster",
}

#: modules being moved by another engineer at the time of writing; their examples are fixed
#: when the moves land on main
XFAIL: dict[str, str] = {}

#: skipped examples per reason, over the whole package: change it with the examples. Skips
#: without a reason count under "unexplained: <module>" (only modules in XFAIL have them).
EXPECTED_SKIPS = {
    "slow": 1,
    "data": 2,
    "cluster": 1,
}

_REQUIRES = re.compile(r"#\s*requires:\s*([\w|-]+)")


def _all_names() -> list[str]:
    """Module names of every file under ecoseg/, in sorted path order."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


MODULES = [name for name in _all_names() if not name.endswith(".__main__")]


def _needs_qt(name: str) -> bool:
    return name == "ecoseg.napari" or name.startswith("ecoseg.napari.")


def _qt_problem() -> str | None:
    try:
        from qtpy.QtWidgets import QApplication  # noqa: F401
    except Exception as e:  # no binding, or no display library
        return f"Qt unavailable ({type(e).__name__}: {e})"
    return None


def _skip_reason(example: doctest.Example) -> str | None:
    match = _REQUIRES.search(example.source)
    return match.group(1) if match else None


def _params():
    for name in MODULES:
        marks = []
        if name in XFAIL:
            marks.append(pytest.mark.xfail(reason=XFAIL[name], strict=False))
        yield pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("name", list(_params()))
def test_examples_run(name, tmp_path, monkeypatch):
    if _needs_qt(name) and (problem := _qt_problem()):
        pytest.skip(f"napari module {name}: {problem}")
    module = importlib.import_module(name)
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module, name) if t.examples]
    failures: list[str] = []
    for test in sorted(tests, key=lambda t: t.name):
        for example in test.examples:
            if example.options.get(doctest.SKIP) and _skip_reason(example) not in REASONS:
                failures.append(
                    f"{test.name}, line {example.lineno + 1}: a skipped example must say why "
                    f"('# requires: {'|'.join(REASONS)}' before '# doctest: +SKIP')"
                )
        out: list[str] = []
        runner = doctest.DocTestRunner(optionflags=FLAGS)
        test.globs = dict(test.globs)
        result = runner.run(test, out=out.append, clear_globs=True)
        if result.failed:
            failures.append("".join(out))
    assert not failures, f"{name}: {len(failures)} failing docstring(s)\n" + "\n".join(failures)


def _docstrings(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=True)
            if doc and ">>>" in doc:
                yield getattr(node, "name", path.stem), doc


def test_skipped_examples_are_counted():
    parser = doctest.DocTestParser()
    found: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for path, name in zip(sorted(PACKAGE.rglob("*.py")), _all_names(), strict=True):
        for owner, doc in _docstrings(path):
            for example in parser.get_examples(doc):
                if example.options.get(doctest.SKIP):
                    reason = _skip_reason(example) or f"unexplained: {name}"
                    found[reason] += 1
                    where.setdefault(reason, []).append(
                        f"{path.relative_to(PACKAGE.parent)}:{owner}"
                    )
    summary = ", ".join(f"{k}: {v} ({'; '.join(where[k])})" for k, v in sorted(found.items()))
    assert dict(found) == EXPECTED_SKIPS, f"skipped examples: {summary or 'none'}"
    unexplained = {k.split(": ", 1)[1] for k in found if k.startswith("unexplained: ")}
    assert unexplained <= set(XFAIL), f"skips without a reason outside XFAIL: {summary}"
    assert {k for k in found if not k.startswith("unexplained: ")} <= set(REASONS), summary


def test_plain_doctest_runs_examples_alike():
    """A maintainer's plain ``python -m pytest --doctest-modules ecoseg`` ran the Examples
    without this runner's flags, and those whose output wraps or elides (``...``) failed;
    pyproject.toml gives pytest's doctest the same flags."""
    with open(PACKAGE.parent / "pyproject.toml", "rb") as file:
        options = tomllib.load(file)["tool"]["pytest"]["ini_options"]
    names = options.get("doctest_optionflags", [])
    assert sum(doctest.OPTIONFLAGS_BY_NAME[name] for name in set(names)) == FLAGS, names
