"""ecoseg.metrics was one module and is a package of one module per part: every name it had is
still importable from ``ecoseg.metrics`` and is the very object of its new module."""

from __future__ import annotations

import importlib

import pytest

import ecoseg
import ecoseg.metrics

HOMES = {
    "evaluate": "evaluation",
    "scored_note": "evaluation",
    "BOUND_TH": "jf",
    "bound_pixels": "jf",
    "boundary_f": "jf",
    "jaccard": "jf",
    "seg2bmap": "jf",
    "is_png_folder": "truth",
    "png_frames": "truth",
    "truth_from_pngs": "truth",
    "VoidPixels": "truth",
    "pair_counts": "_overlaps",
}


@pytest.mark.parametrize("name", sorted(HOMES))
def test_the_old_path_gives_the_new_modules_object(name):
    module = importlib.import_module(f"ecoseg.metrics.{HOMES[name]}")
    assert getattr(ecoseg.metrics, name) is getattr(module, name)


def test_every_public_name_is_in_all_and_the_lazy_evaluate_is_the_same():
    assert set(HOMES) <= set(ecoseg.metrics.__all__)
    assert ecoseg.evaluate is ecoseg.metrics.evaluation.evaluate
