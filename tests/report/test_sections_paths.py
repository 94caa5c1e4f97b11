"""``ecoseg.report.sections`` builds the page from one private module per group of sections;
the names it offered before the split still import from it."""

from __future__ import annotations

import importlib

import pytest

# the names of ecoseg.report.sections before the split, and where each lives now
HOMES = {
    "build_context": "sections",
    "MAX_VIDEO_PANELS": "sections",
    "MAX_EMBED_BYTES": "_tables",
    "TABLE_INFO": "_tables",
    "TABLE_ORDER": "_tables",
}


@pytest.mark.parametrize("name", sorted(HOMES))
def test_old_import_path_gives_the_one_object(name):
    sections = importlib.import_module("ecoseg.report.sections")
    home = importlib.import_module(f"ecoseg.report.{HOMES[name]}")
    assert getattr(sections, name) is getattr(home, name)
    assert name in sections.__all__
