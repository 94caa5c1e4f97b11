"""Helpers of the reliability suite (imported by its test modules)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from suite_helpers import child_env as suite_env

import ecoseg

_PROGRESS = re.compile(r"^[\w ()]+:\s+\d+%\|")
ROOT = Path(ecoseg.__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    env = suite_env()
    env.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    return env


def run_cli(*args, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    """Run ``python -m ecoseg ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "ecoseg", *map(str, args)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=cwd,
        timeout=timeout,
    )


def assert_one_line_error(code: int, err: str, *culprits: str, status: int | None = 2) -> str:
    """The CLI failed with one ``ecoseg: error:`` line naming every culprit, no traceback."""
    assert code != 0
    if status is not None:
        assert code == status, err
    # progress bars (tqdm, redrawn with carriage returns) may come before the error line
    lines = [
        line for line in re.split(r"[\r\n]+", err) if line.strip() and not _PROGRESS.match(line)
    ]
    assert len(lines) == 1, err
    assert lines[0].startswith("ecoseg: error: "), err
    assert "Traceback" not in err
    for culprit in culprits:
        assert culprit in lines[0], (culprit, lines[0])
    return lines[0]


def assert_names(exc_info, *culprits: str) -> str:
    """The exception message is one line and names every culprit."""
    text = str(exc_info.value)
    assert "\n" not in text, text
    for culprit in culprits:
        assert culprit in text, (culprit, text)
    return text


def file_tree(path):
    """Every file under ``path`` (or the file itself) with its bytes."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


#: Where a refusal holds even with --overwrite, it is said first, also without it: the line
#: said ``already exists; pass overwrite=True (--overwrite) to replace it``, and --overwrite
#: was then refused too.
OVERWRITE = pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["", "overwrite"])

#: every command that writes an output a user names (``-o``)
COMMANDS_WITH_OUTPUTS = [
    "segment", "measure", "evaluate", "export", "import", "report", "synth", "demo", "classify",
]  # fmt: skip
