"""Tests of ecoseg/store/identify.py: what is at a location that is no mask store, said
without zarr's internals, for local paths, fsspec URLs and zarr ``Store`` objects."""

from __future__ import annotations

import re
import zipfile

import fsspec
import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from ecoseg.errors import StoreError
from ecoseg.store import Location, MaskStore
from ecoseg.store.identify import not_replaceable, plain_error, refusal


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


def test_another_tools_zarr_is_not_replaced_at_urls_in_zips_and_store_objects(tmp_path):
    """``not_replaceable``: a zarr group or array that is no ecoseg store, wherever it lives,
    is refused; an ecoseg store (and nothing) is not. A plain zip archive was replaced."""
    zarr.open_group("memory://ident-other", mode="w").attrs["site"] = "A"
    MaskStore.create("memory://ident-ours", height=2, width=2, overwrite=True).close()
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("notes.txt", "x")
    MaskStore.create(tmp_path / "ours.zip", height=2, width=2).close()
    objects = MemoryStore()
    zarr.create_array(objects, shape=(2,), dtype="i4")
    refused = [
        ("memory://ident-other", "a zarr group"),
        (tmp_path / "other.zip", "a zip archive"),
        (objects, "a zarr array"),
    ]
    for where, what in refused:
        text = not_replaceable(Location(where))
        assert text == (
            f"{Location(where)}: {what} that is not an ecoseg mask store; ecoseg will not "
            "overwrite it (remove it yourself or choose another output path)"
        )
        with pytest.raises(StoreError, match=re.escape(what)):
            MaskStore.create(where, height=2, width=2, overwrite=True)
    for where in ("memory://ident-ours", tmp_path / "ours.zip", "memory://ident-none"):
        assert not_replaceable(Location(where)) is None
        MaskStore.create(where, height=2, width=2, overwrite=True).close()


def test_a_damaged_array_is_named_in_zips_and_at_urls(tmp_path):
    """``array_damage``: the array's metadata file named, what is wrong said (not the JSON
    library's ``Expecting value: line 1 column 1 (char 0)``), in a zip store and at a URL."""
    with MaskStore.create(tmp_path / "reef.zip", height=2, width=2) as store:
        store.append(np.zeros((1, 2, 2), np.uint32), [0.0])
    with zipfile.ZipFile(tmp_path / "reef.zip") as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["labels/zarr.json"] = b""
    with zipfile.ZipFile(tmp_path / "reef.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with pytest.raises(StoreError) as info:
        MaskStore.open(tmp_path / "reef.zip")
    assert str(info.value) == f"{tmp_path / 'reef.zip'}/labels/zarr.json: damaged (empty)"
    MaskStore.create("memory://ident-dam", height=2, width=2, overwrite=True).close()
    fsspec.filesystem("memory").pipe("/ident-dam/time/zarr.json", b"{")
    with pytest.raises(StoreError) as info:
        MaskStore.open("memory://ident-dam")
    assert str(info.value) == "memory://ident-dam/time/zarr.json: damaged (not valid JSON)"


def test_an_ecoseg_store_is_still_replaced(tmp_path):
    """A store ecoseg wrote, one whose run was killed before its attributes were written, and
    one whose zarr.json was damaged: overwrite replaces each (they hold ecoseg's arrays, its
    embeddings and review backups, and nothing else)."""
    good, killed, damaged = (tmp_path / f"{name}.zarr" for name in ("good", "killed", "damaged"))
    for path in (good, killed, damaged):
        MaskStore.create(path, height=2, width=2).close()
    (killed / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group", "attributes": {}}')
    zarr.open_group(damaged / "edits" / "00001", mode="w")  # a review's backups
    zarr.create_array(damaged / "embeddings", shape=(1, 4), dtype="f2")
    (damaged / "zarr.json").write_text('{"zarr_format": 3, "node_ty')
    for path in (good, killed, damaged):
        assert not_replaceable(Location(path)) is None
        MaskStore.create(path, height=3, width=2, overwrite=True).close()
        assert MaskStore.open(path).height == 3
