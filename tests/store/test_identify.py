"""Tests of ecoseg/store/identify.py: what is at a location that is no mask store, said
without zarr's internals, for local paths, fsspec URLs and zarr ``Store`` objects."""

from __future__ import annotations

import re

import fsspec
import pytest
import zarr
from zarr.storage import MemoryStore

from ecoseg.errors import StoreError
from ecoseg.store import Location, MaskStore
from ecoseg.store.identify import plain_error, refusal


def test_plain_error_drops_store_reprs():
    exc = FileNotFoundError("No group found in store LocalStore('file:///a/b c.zarr') at path ''")
    assert plain_error(exc) == "No group found at path ''"
    assert plain_error(ValueError("at file://x.zarr")) == "at x.zarr"


def test_urls_and_store_objects_say_what_is_there():
    fs = fsspec.filesystem("memory")
    fs.pipe("/ident-f", b"hello")
    fs.pipe("/ident-d/notes.txt", b"x")
    fs.pipe("/ident-j/zarr.json", b"{bad")
    zarr.create_array("memory://ident-a", shape=(2,), dtype="i4")
    cases = {
        "memory://ident-f": "memory://ident-f: a file, not a mask store",
        "memory://ident-d": "memory://ident-d: a folder without zarr.json, not a mask store",
        "memory://ident-j": "its zarr.json is not valid JSON (line 1 column 2)",
        "memory://ident-a": "memory://ident-a: a zarr array, not a mask store",
    }
    for url, says in cases.items():
        with pytest.raises(StoreError, match=re.escape(says)):
            MaskStore.open(url)
    store = MemoryStore()
    zarr.create_array(store, shape=(2,), dtype="i4")
    with pytest.raises(StoreError, match="a zarr array, not a mask store"):
        MaskStore.open(store)


def test_when_looking_fails_zarrs_reason_is_kept_in_plain_words(monkeypatch):
    monkeypatch.setattr(Location, "filesystem", lambda self: 1 / 0)  # a URL gone away
    exc = FileNotFoundError("No group found in store FsspecStore('memory://nowhere') at path ''")
    text = refusal(Location("memory://nowhere"), exc)
    assert text == "memory://nowhere: cannot be opened as a zarr group (No group found at path '')"
