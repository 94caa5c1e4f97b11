"""Tests of ecoseg/store/keys.py: keys the writer encodes itself are written as files of a local
store (atomically, as zarr's LocalStore writes them) and through zarr elsewhere; a local store
written that way holds zarr's own bytes (labels chunks, rows, the commit record)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from store_helpers import OBJECTS, frames, times

from ecoseg.store import MaskStore
from ecoseg.store.keys import KeyWriter, put_file


def test_put_file_replaces_a_key_whole_and_leaves_no_partial_file_when_it_fails(tmp_path):
    key = tmp_path / "labels" / "c" / "0" / "0" / "0"
    put_file(key, b"old bytes")
    assert key.read_bytes() == b"old bytes"

    with pytest.raises(TypeError):  # the write fails once the temporary file is open
        put_file(key, object())
    assert key.read_bytes() == b"old bytes"
    assert sorted(p.name for p in key.parent.iterdir()) == ["0"]


def test_put_file_makes_only_the_folders_of_new_keys(tmp_path, monkeypatch):
    """A key whose folder exists is written with no mkdir (nor the stat that follows a failed
    one): commit files and a chunk's folder once made; a new key's folders are made."""
    import os

    made = []
    real = os.mkdir

    def mkdir(path, *args, **kwargs):
        made.append(os.path.relpath(path, tmp_path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    put_file(tmp_path / "labels" / "c" / "0" / "0" / "0", b"new chunk")
    assert os.path.join("labels", "c", "0", "0") in made  # the new key's folders
    made.clear()
    put_file(tmp_path / "labels" / "c" / "0" / "0" / "0", b"again")
    put_file(tmp_path / "zarr.json", b"{}")
    assert made == []
    assert (tmp_path / "labels" / "c" / "0" / "0" / "0").read_bytes() == b"again"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels", "zarr.json"]


def test_local_stores_get_files_and_other_stores_get_keys_through_zarr(tmp_path):
    from numcodecs import Zstd

    local = zarr.open_group(tmp_path / "g.zarr", mode="w", zarr_format=3)
    keys = KeyWriter(local.store_path)
    assert keys.folder == tmp_path / "g.zarr"
    keys.write({"x/c/0": b"1", "y": b"22"})
    assert (tmp_path / "g.zarr" / "x" / "c" / "0").read_bytes() == b"1"
    assert (tmp_path / "g.zarr" / "y").read_bytes() == b"22"
    memory = zarr.open_group("memory://test-keys-memory", mode="w", zarr_format=3)
    array = memory.create_array("a", shape=(2,), dtype="uint8", compressors=zarr.codecs.ZstdCodec())
    keys = KeyWriter(array.store_path)
    assert keys.folder is None
    keys.write({"c/0": Zstd(level=0).encode(np.array([7, 8], np.uint8))})  # the chunk, encoded
    assert array[:].tolist() == [7, 8]


def _files(path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_a_local_store_written_as_files_holds_the_bytes_written_through_zarr(tmp_path, monkeypatch):
    """The same appends, once with the keys written as files and once through zarr (the
    writer's key writers told they have no folder): every file of the two stores is equal,
    the label chunks, the time and score rows and the commit record (zarr.json) included."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # the same creation time in both

    def write(path):
        with MaskStore.create(path, height=6, width=7, objects=OBJECTS) as store:
            for k in range(0, 37, 5):  # commits at 16 and 32 frames, then at the end
                n = min(5, 37 - k)
                store.append(frames(n, start=k), times(n, start=k))
            store.mark_complete()

    write(tmp_path / "files.zarr")
    real = KeyWriter.__init__

    def through_zarr(self, store_path):
        real(self, store_path)
        self.folder = None

    with monkeypatch.context() as patch:
        patch.setattr(KeyWriter, "__init__", through_zarr)
        write(tmp_path / "zarr.zarr")
    files, through = _files(tmp_path / "files.zarr"), _files(tmp_path / "zarr.zarr")
    assert {"labels/c/9/0/0", "time/c/0", "scores/c/0/0", "zarr.json"} <= files.keys()
    assert files == through
    assert MaskStore.open(tmp_path / "files.zarr").n_frames == 37
