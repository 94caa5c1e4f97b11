"""The notebooks in notebooks/ run top to bottom (so they never rot) and are stored stripped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from suite_helpers import child_env

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
NAMES = ("measurements", "quickstart", "report", "species")


def test_the_notebooks_are_there():
    assert sorted(p.stem for p in NOTEBOOKS) == sorted(NAMES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    book = json.loads(path.read_text())
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # the kernel imports this checkout's ecoseg even when it is not installed
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks write into tempfile.mkdtemp()
    # as a user runs them: the hash cache in the user cache folder (here one of the test's own),
    # which notebooks/README.md says these small clips leave untouched
    monkeypatch.delenv("ECOSEG_HASH_CACHE", raising=False)
    user_cache = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    # a notebook's kernel, not a Qt console (pytest-qt sets QT_API, which tqdm.auto takes for one)
    for name in [n for n in os.environ if n == "QT_API" or n.startswith("SPYDER")]:
        monkeypatch.delenv(name)
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        out
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    text = "".join(
        out.get("text", "")
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )
    assert "IProgress" not in text  # tqdm.auto's warning of a kernel without ipywidgets
    # ecoseg wrote nothing into the user's cache folder (the hash cache, the weights)
    assert not (user_cache / "ecoseg").exists(), sorted((user_cache / "ecoseg").rglob("*"))
