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


#: a SAM 3 download in a Jupyter kernel without ipywidgets (faked: tqdm.auto asks sys.modules
#: whether it runs in one), the hub's download faked drawing the hub's own bar
HUB_CHILD = """
import sys, types
from pathlib import Path
import huggingface_hub
from ecoseg.sam3 import weights

def download(*, repo_id, filename, local_dir, token=None):
    from huggingface_hub.utils import tqdm  # the hub's bar, as its real download draws it

    with tqdm(total=1, desc=filename) as bar:
        bar.update(1)
    (Path(local_dir) / filename).write_bytes(b"{}")
    return str(Path(local_dir) / filename)

huggingface_hub.hf_hub_download = download
weights._network_problem = lambda url, timeout=10.0: None
weights.VOCABULARY_PACKAGES = ()
sys.modules["ipywidgets"] = None
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
shell = type("ZMQInteractiveShell", (), {})()
sys.modules["IPython"] = types.SimpleNamespace(get_ipython=lambda: shell)
print(weights.download("sam3").name)
"""


def test_a_hub_download_in_a_notebook_without_ipywidgets_has_no_warning(tmp_path):
    """The hub draws its bars with ``tqdm.auto``, whose first import in such a kernel printed
    "IProgress not found. Please update jupyter and ipywidgets" (ecoseg's own bars do not)."""
    import subprocess
    import sys

    pytest.importorskip("huggingface_hub")
    env = child_env(ECOSEG_WEIGHTS_DIR=str(tmp_path / "weights"))
    for name in [n for n in env if n == "QT_API" or n.startswith("SPYDER")]:
        del env[name]  # a Qt console draws text bars without a word
    child = subprocess.run(
        [sys.executable, "-W", "default", "-c", HUB_CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0 and child.stdout == "sam3.pt\n", child.stderr
    assert "IProgress" not in child.stderr, child.stderr
    assert "sam3.pt: 100%" in child.stderr  # the hub's text bar, as ecoseg's own
