"""Tests of ecoseg/store/location.py: local folders, URLs, zarr Store objects, zip files,
and what may be replaced."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest
import zarr
from store_helpers import (
    OBJECTS,
    H,
    W,
    frames,
    memory_url,
    times,
    write_store,
)

from ecoseg.errors import StoreError
from ecoseg.store import (
    MaskStore,
    open_masks,
)


def test_memory_url(tmp_path):
    url = memory_url()
    labels, ts = frames(7), times(7)
    write_store(url, labels, ts, chunk_frames=3)
    np.testing.assert_array_equal(MaskStore.open(url).read_labels(), labels)
    np.testing.assert_array_equal(open_masks(url).labels.values, labels)
    with pytest.raises(StoreError, match="already exists"):
        MaskStore.create(url, height=H, width=W)
    write_store(url, labels[:2], ts[:2], overwrite=True)
    assert MaskStore.open(url).n_frames == 2


def test_file_url(tmp_path):
    url = (tmp_path / "sub" / "m.zarr").as_uri()
    labels, ts = frames(5), times(5)
    write_store(url, labels, ts)
    assert (tmp_path / "sub" / "m.zarr" / "zarr.json").is_file()
    np.testing.assert_array_equal(open_masks(url).labels.values, labels)


def test_zip_store(tmp_path):
    path = tmp_path / "masks.zip"
    labels, ts = frames(10), times(10)
    write_store(path, labels[:6], ts[:6], chunk_frames=4)
    assert zipfile.is_zipfile(path)
    assert sorted(os.listdir(tmp_path)) == ["masks.zip"]  # no staging folder left
    names = zipfile.ZipFile(path).namelist()
    assert len(names) == len(set(names))  # no duplicate entries
    np.testing.assert_array_equal(MaskStore.open(path).read_labels(), labels[:6])
    # continue writing into the zip
    with MaskStore.open(path, mode="a") as store:
        assert store.n_frames == 6
        store.append(labels[6:], ts[6:])
    assert sorted(os.listdir(tmp_path)) == ["masks.zip"]
    ds = open_masks(path)
    np.testing.assert_array_equal(ds.labels.values, labels)
    np.testing.assert_array_equal(ds.time.values, ts)
    with pytest.raises(StoreError, match="already exists"):
        MaskStore.create(path, height=H, width=W)
    write_store(path, labels[:1], ts[:1], overwrite=True)
    assert MaskStore.open(path).n_frames == 1


def test_zip_not_written_until_close(tmp_path):
    path = tmp_path / "late.zip"
    store = MaskStore.create(path, height=H, width=W, objects=OBJECTS)
    store.append(frames(5), times(5))
    store.flush()
    assert not path.exists()  # a zip archive is packed once, by close()
    store.close()
    assert MaskStore.open(path).n_frames == 5


def test_zarr_store_object():
    store = zarr.storage.MemoryStore()
    labels, ts = frames(5), times(5)
    write_store(store, labels, ts)
    np.testing.assert_array_equal(MaskStore.open(store).read_labels(), labels)
    with pytest.raises(StoreError, match="already exists"):
        MaskStore.create(store, height=H, width=W)


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "m.zarr"
    write_store(path, frames(3), times(3))
    with pytest.raises(StoreError) as err:
        MaskStore.create(path, height=H, width=W)
    message = str(err.value)
    assert str(path) in message and "overwrite" in message and "\n" not in message
    assert MaskStore.open(path).n_frames == 3  # untouched


def test_overwrite_replaces(tmp_path):
    path = tmp_path / "m.zarr"
    write_store(path, frames(9), times(9), chunk_frames=2)
    write_store(path, frames(2, start=5), times(2), chunk_frames=3, overwrite=True)
    back = MaskStore.open(path)
    assert (back.n_frames, back.chunk_frames) == (2, 3)
    np.testing.assert_array_equal(back.read_labels(), frames(2, start=5))
    assert not (path / "labels" / "c" / "4").exists()  # old chunks are gone


def test_overwrite_never_replaces_something_that_is_not_a_store(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "notes.txt").write_text("precious")
    video = tmp_path / "video.mp4"
    video.write_bytes(b"not really a video")
    for path in (folder, video):
        with pytest.raises(StoreError, match="not a zarr store"):
            MaskStore.create(path, height=H, width=W, overwrite=True)
    assert (folder / "notes.txt").read_text() == "precious"
    assert video.read_bytes() == b"not really a video"
