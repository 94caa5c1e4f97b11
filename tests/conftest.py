"""Fixtures shared by the whole suite."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(scope="module", autouse=True)
def _restore_grad_mode():
    """Give every test module torch's gradient mode as the module before it found it.

    Some modules switch gradients off for their fixtures (as the engines do at inference);
    without this the switch leaked into every later module of the run.
    """
    torch = sys.modules.get("torch")
    before = torch.is_grad_enabled() if torch is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_grad_enabled(True if before is None else before)
