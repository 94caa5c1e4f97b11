"""Progress bars in a Jupyter kernel without ``ipywidgets`` (``ecoseg._progress``).

``tqdm.auto`` printed "IProgress not found. Please update jupyter and ipywidgets" on the first
bar of a notebook session (``ipywidgets`` is in none of ecoseg's extras) and then drew its text
bar anyway: the text bar is kept, the warning is gone; ``progress=False`` still draws none.
"""

from __future__ import annotations

import os

import pytest
from suite_helpers import child_env

from ecoseg._progress import progress_bar

CELLS = [
    # as on a machine without ipywidgets, whether or not this one has it
    "import sys\nsys.modules['ipywidgets'] = None",
    "import ecoseg\n_ = ecoseg.synth('with-bar', frames=3, size=(64, 48), progress=True)",
    "_ = ecoseg.synth('without-bar', frames=3, size=(64, 48), progress=False)",
]


def stream_text(cell) -> str:
    return "".join(
        out.get("text", "") for out in cell.get("outputs", []) if out["output_type"] == "stream"
    )


def test_a_notebook_without_ipywidgets_shows_text_bars_and_no_warning(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    # the kernel of a notebook, not a Qt console: tqdm.auto takes QT_API (which pytest-qt sets)
    # for a Qt console, where it draws text bars without a word
    for name in [n for n in os.environ if n == "QT_API" or n.startswith("SPYDER")]:
        monkeypatch.delenv(name)
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = nbclient.NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [out for cell in book.cells for out in cell.outputs]
    assert not [out for out in outputs if out["output_type"] == "error"], outputs
    text = "".join(stream_text(cell) for cell in book.cells)
    assert "IProgress" not in text and "Warning" not in text, text
    assert "synth: 100%" in stream_text(book.cells[1]), book.cells[1].outputs  # the text bar
    assert stream_text(book.cells[2]) == ""  # progress=False: no bar


def test_outside_a_notebook_the_bar_is_tqdms_text_bar(capsys):
    import tqdm

    with progress_bar(total=2, desc="frames", unit="frame") as bar:
        bar.update(2)
    assert isinstance(bar, tqdm.tqdm)
    assert "frames: 100%" in capsys.readouterr().err
