"""Helpers of the reliability suite (imported by its test modules)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
