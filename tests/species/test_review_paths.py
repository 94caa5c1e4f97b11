"""ecoseg.species.review is split by concept (the edit log, the check of a command, the writes
of an edit, the old edits a report replays): every name it had is still importable from it and
is the very object of its new module."""

from __future__ import annotations

import importlib

import pytest

import ecoseg.species
import ecoseg.species.review as review

HOMES = {
    "ATTR_KEY": "_edit_log",
    "check_log": "_edit_log",
    "edit_log": "_edit_log",
    "read_meta": "_edit_log",
    "write_meta": "_edit_log",
    "record_classification": "_edit_writes",
    "kept_visual": "_old_edits",
    "refused_merges": "_old_edits",
    "refused_reviews": "_old_edits",
    "unchecked_splits": "_old_edits",
}


@pytest.mark.parametrize("name", sorted(HOMES))
def test_the_old_path_gives_the_new_modules_object(name):
    module = importlib.import_module(f"ecoseg.species.{HOMES[name]}")
    assert getattr(review, name) is getattr(module, name)


def test_every_name_review_had_is_still_there():
    had = {"DroppedEditsWarning", "Review", "apply_edits", "open_for_edit", *HOMES}
    assert had <= set(review.__all__)
    assert all(hasattr(review, name) for name in had)
    assert ecoseg.species.Review is review.Review
    assert ecoseg.species.apply_edits is review.apply_edits
    assert ecoseg.species.edit_log is review.edit_log
