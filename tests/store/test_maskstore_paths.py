"""MaskStore is one class in three modules (making and resuming in ``maskstore``, what it tells
and reads in ``_reading``, how it writes in ``_writing``): the old paths give the same objects."""

from __future__ import annotations

import pytest

import ecoseg.store
import ecoseg.store.maskstore
from ecoseg.store._reading import ReadingMixin
from ecoseg.store._writing import WritingMixin

READING = ["read_labels", "read_time", "read_scores", "missing_chunks", "object_records"]
WRITING = ["add_objects", "update_objects", "append", "flush", "mark_complete"]
WRITING += ["set_provenance", "close", "discard"]
PROPERTIES = ["path", "n_frames", "object_ids", "provenance", "calibration", "attrs"]


def test_the_old_paths_give_one_class():
    assert ecoseg.store.MaskStore is ecoseg.store.maskstore.MaskStore
    assert issubclass(ecoseg.store.MaskStore, ReadingMixin)
    assert issubclass(ecoseg.store.MaskStore, WritingMixin)


@pytest.mark.parametrize(
    ("name", "home"), [(n, ReadingMixin) for n in READING] + [(n, WritingMixin) for n in WRITING]
)
def test_each_method_is_the_one_of_its_new_module(name, home):
    assert getattr(ecoseg.store.MaskStore, name) is home.__dict__[name]


@pytest.mark.parametrize("name", PROPERTIES)
def test_each_property_is_the_reading_modules(name):
    assert getattr(ecoseg.store.MaskStore, name) is ReadingMixin.__dict__[name]


def test_create_still_finds_the_codec_where_tests_patch_it():
    """tests/store/test_commit.py patches ``ecoseg.store.maskstore.labels_codec``."""
    assert ecoseg.store.maskstore.labels_codec is ecoseg.store.labels_codec
