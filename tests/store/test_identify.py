"""Tests of ecoseg/store/identify.py: what is at a location that is no mask store, said
without zarr's internals, for local paths, fsspec URLs and zarr ``Store`` objects."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import fsspec
import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from ecoseg.errors import StoreError
from ecoseg.store import Location, MaskStore
from ecoseg.store.identify import not_replaceable, plain_error, refusal

DATA = Path(__file__).resolve().parent.parent / "data" / "store_v0"


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


def _foreign_names(path, labels_dtype="u1"):
    """Another tool's group (no attributes) with arrays named like ecoseg's."""
    group = zarr.open_group(path, mode="w")
    group.create_array("labels", shape=(2, 5, 7), dtype=labels_dtype)[:] = 3
    group.create_array("time", shape=(2,), dtype="f8")[:] = [0.0, 1.0]


def _tree(root):
    return sorted((str(p), p.read_bytes()) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "make",
    [
        _foreign_names,
        # ecoseg's labels dtype, but no dimension names or units: still another tool's
        lambda p: _foreign_names(p, labels_dtype="u4"),
        # one array ecoseg's own, one of another tool: not ecoseg's alone
        lambda p: (
            MaskStore.create(p, height=2, width=2).close(),
            (p / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}'),
            zarr.create_array(p / "scores", shape=(4,), dtype="i8", overwrite=True),
        ),
        # only a damaged array: nothing says ecoseg made it
        lambda p: (
            zarr.open_group(p, mode="w"),
            (p / "labels").mkdir(),
            (p / "labels" / "zarr.json").write_text("{"),
        ),
    ],
    ids=["labels-uint8-and-time", "labels-uint32", "foreign-scores", "damaged-only"],
)
def test_another_tools_group_with_ecoseg_array_names_is_not_replaced(tmp_path, make):
    """A group without ecoseg's attributes whose arrays are named ``labels``, ``time``,
    ``scores`` but lack ecoseg's signature (data type, dimension names, ``units``) is someone's
    data: refused with and without overwrite, left as it was. It was taken for an ecoseg
    store killed before its attributes were written, and overwrite deleted it."""
    path = tmp_path / "tool.zarr"
    make(path)
    before = _tree(path)
    refused = (
        f"{path}: a zarr group that is not an ecoseg mask store; ecoseg will not overwrite "
        "it (remove it yourself or choose another output path)"
    )
    assert not_replaceable(Location(path)) == refused
    for overwrite in (False, True):
        with pytest.raises(StoreError) as info:
            MaskStore.create(path, height=2, width=2, overwrite=overwrite)
        assert str(info.value) == refused
    assert _tree(path) == before


def test_broken_off_ecoseg_stores_are_still_replaced(tmp_path):
    """Stores whose making or metadata broke off are still replaced: killed before the
    attributes (as now, and as the pre-package writer left them: tests/data/store_v0), killed
    before the first array, and one with a damaged array besides ecoseg's arrays."""
    stripped = '{"zarr_format": 3, "node_type": "group", "attributes": {}}'
    made = {}
    for name in ("truth", "classical"):
        made[name] = tmp_path / f"{name}.zarr"
        shutil.copytree(DATA / f"{name}.zarr", made[name])
    made["now"] = tmp_path / "now.zarr"
    with MaskStore.create(made["now"], height=2, width=2, objects=[(1, "fish", "prompt")]) as s:
        s.append(np.ones((1, 2, 2), np.uint32), [0.0])
    made["bare"] = tmp_path / "bare.zarr"
    zarr.open_group(made["bare"], mode="w")
    made["damaged-array"] = tmp_path / "damaged-array.zarr"
    MaskStore.create(made["damaged-array"], height=2, width=2).close()
    (made["damaged-array"] / "labels" / "zarr.json").write_text("")
    for path in made.values():
        (path / "zarr.json").write_text(stripped)
        assert not_replaceable(Location(path)) is None, path
        MaskStore.create(path, height=3, width=2, overwrite=True).close()
        assert MaskStore.open(path).height == 3
