"""Helpers shared by test modules of several areas (``tests/`` is on ``sys.path`` through its
``conftest.py``, so any test module imports them as ``suite_helpers``)."""

from __future__ import annotations

import os
from pathlib import Path

#: the checkout the suite runs: its ``ecoseg`` package, ``data/`` and ``notebooks/``
REPO = Path(__file__).resolve().parents[1]


def child_env(**extra: str) -> dict[str, str]:
    """``os.environ`` with ``extra`` set, for a child Python process that must import this
    checkout's ``ecoseg`` whether or not it is installed: the checkout first on
    ``PYTHONPATH``, before any path the parent's environment had there."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env
