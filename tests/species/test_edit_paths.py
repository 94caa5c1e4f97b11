"""ecoseg.species.edits is split along its seam: the edit as data and the words that name it
live in ``_edit_record``; every name edits had is still importable from it and is the very
object of its new module."""

from __future__ import annotations

import pytest

import ecoseg.species._edit_record as record
import ecoseg.species.edits as edits

MOVED = (
    "KINDS",
    "LABEL_KINDS",
    "Edit",
    "EditWords",
    "cli_words",
    "parse_edit_args",
    "python_call",
    "python_words",
    "with_new_id",
)
HAD = {
    *MOVED,
    "check_review",
    "check_split",
    "edit_objects",
    "edit_scores",
    "named_by_person",
    "present_after",
    "relabel",
    "set_class_for_old_merge",
    "touched_frames",
}


@pytest.mark.parametrize("name", MOVED)
def test_the_old_path_gives_the_new_modules_object(name):
    assert getattr(edits, name) is getattr(record, name)


def test_every_name_edits_had_is_still_there():
    assert HAD <= set(edits.__all__)  # (names added since, e.g. in_words, may join them)
    assert all(hasattr(edits, name) for name in HAD)
