"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import sys

import pytest


@pytest.fixture(scope="session", autouse=True)
def _hash_cache_in_tmp(tmp_path_factory):
    """Point the cache of large files' sha256 at a temporary file, never the user's cache dir."""
    before = os.environ.get("ECOSEG_HASH_CACHE")
    os.environ["ECOSEG_HASH_CACHE"] = str(tmp_path_factory.mktemp("hash-cache") / "sha256.json")
    yield
    if before is None:
        os.environ.pop("ECOSEG_HASH_CACHE", None)
    else:
        os.environ["ECOSEG_HASH_CACHE"] = before


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
