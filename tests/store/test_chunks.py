"""A chunk missing inside the committed frames is damage, never frames without animals."""

from __future__ import annotations

import json

import fsspec
import numpy as np
import pytest
import zarr
from store_helpers import OBJECTS, frames, memory_url, times, write_store
from zarr.core.sync import sync

from ecoseg.errors import StoreError
from ecoseg.store import ATTRS_KEY, MaskStore
from ecoseg.store.chunks import MissingChunk, missing_chunks

N = 300  # two 256-frame score chunks


@pytest.fixture
def made(tmp_path):
    """A local store made by the writer: 300 frames of 6x7, 4 frames per labels chunk, with
    empty frames (all-zero labels chunks) in the middle."""
    labels = frames(N)
    labels[100:120] = 0  # five all-zero labels chunks (the writer still writes them)
    path = tmp_path / "m.zarr"
    write_store(path, labels, times(N), batch=7)
    return path, labels


def _read(store, name):
    return {
        "labels": store.read_labels,
        "time": store.read_time,
        "scores": store.read_scores,
    }[name]()


@pytest.mark.parametrize(
    ("name", "key", "first", "last"),
    [
        ("labels", "labels/c/26/0/0", 104, 107),  # an all-zero chunk
        ("labels", "labels/c/74/0/0", 296, 299),  # the last one
        ("time", "time/c/0", 0, 299),
        ("scores", "scores/c/1/0", 256, 299),
    ],
)
def test_deleted_chunk_is_a_store_error_naming_the_frames(made, name, key, first, last):
    path, _ = made
    (path / key).unlink()
    store = MaskStore.open(path)  # the metadata is fine
    with pytest.raises(StoreError) as info:
        _read(store, name)
    text = str(info.value)
    assert text == (
        f"{path}: '{name}' frames {first}..{last} cannot be read; the store is damaged "
        f"(chunk {key} is missing)"
    )
    assert store.missing_chunks() == [MissingChunk(name, key, first, last)]


def test_reads_that_do_not_touch_the_missing_chunk_still_read(made):
    path, labels = made
    (path / "labels" / "c" / "26" / "0" / "0").unlink()  # frames 104..107
    store = MaskStore.open(path)
    np.testing.assert_array_equal(store.read_labels(0, 104), labels[:104])
    np.testing.assert_array_equal(store.read_labels(108), labels[108:])
    for start, stop in ((103, 105), (107, 108), (0, None)):
        with pytest.raises(StoreError, match="frames 104..107 cannot be read"):
            store.read_labels(start, stop)
    assert len(store.read_time()) == N and store.read_scores().shape == (N, len(OBJECTS))
    assert store.missing_chunks(0, 104) == [] and len(store.missing_chunks(100, 110)) == 1


def test_a_writer_store_has_every_chunk_also_empty_ones(made):
    path, labels = made
    store = MaskStore.open(path)
    assert store.missing_chunks() == []
    assert not labels[100:120].any()
    assert (path / "labels" / "c" / "26" / "0" / "0").is_file()


def test_missing_chunk_in_a_memory_store():
    url = memory_url()
    write_store(url, frames(12), times(12))
    fs, root = fsspec.core.url_to_fs(url)
    fs.rm(f"{root}/labels/c/1/0/0")
    store = MaskStore.open(url)
    with pytest.raises(StoreError, match=r"'labels' frames 4..7 .*labels/c/1/0/0 is missing"):
        store.read_labels()
    assert store.read_labels(8).shape == (4, 6, 7)


def test_every_spatial_block_of_a_frame_chunk_is_checked():
    # a labels array split in space (written by another tool): all its blocks are checked
    group = zarr.open_group(memory_url(), mode="w", zarr_format=3)
    labels = group.create_array(
        "labels", shape=(6, 4, 5), chunks=(2, 2, 3), dtype="uint32", fill_value=0
    )
    labels = labels.with_config({"write_empty_chunks": True})
    labels[:] = 1
    sync(group.store.delete("labels/c/1/1/1"))
    found = missing_chunks(labels, 0, 6, 6)
    assert found == [MissingChunk("labels", "labels/c/1/1/1", 2, 3)]
    assert missing_chunks(labels, 4, 6, 6) == []
    assert missing_chunks(labels, 0, 6, 2) == []  # past the committed frames: not reported


def test_objects_added_later_get_written_score_chunks(tmp_path):
    # a discovery run: no objects for 300 frames, then one; then the 65th object opens a new
    # block of score columns: the committed frames' chunks of the new columns are written
    path = tmp_path / "d.zarr"
    store = MaskStore.create(path, height=6, width=7, chunk_frames=4)
    store.append(np.zeros((300, 6, 7), np.uint32), times(300))
    store.flush()
    store.add_objects([(1, "fish", "discovered")])
    store.append(frames(10, ids=(1,)), times(10, 300))
    store.flush()
    store.add_objects([(i, "fish", "discovered") for i in range(2, 66)])
    store.append(frames(10, ids=(65,)), times(10, 310))
    store.close()
    store = MaskStore.open(path)
    assert store.missing_chunks() == []
    assert {p.relative_to(path / "scores").as_posix() for p in (path / "scores/c").rglob("*")} >= {
        "c/0/0",
        "c/0/1",
        "c/1/0",
        "c/1/1",
    }
    scores = store.read_scores()
    assert scores.shape == (320, 65)
    assert not scores[:300].any() and scores[300:310, 0].any() and scores[310:, 64].any()


def test_all_zero_writes_keep_their_chunks(tmp_path):
    # a review edit writes scores through the store's arrays: an all-zero chunk is written,
    # not deleted (zarr's default would delete it, and it would read as damage)
    path = tmp_path / "e.zarr"
    write_store(path, frames(8), times(8))
    with MaskStore.open(path, mode="a") as store:
        store.scores[:8, :3] = 0
        store.labels[0:4] = 0
    assert (path / "scores" / "c" / "0" / "0").is_file()
    assert (path / "labels" / "c" / "0" / "0" / "0").is_file()
    store = MaskStore.open(path)
    assert not store.read_scores().any() and not store.read_labels(0, 4).any()


def _forget_all_chunks(path):
    """Make a store look written before the writers wrote every chunk."""
    doc = json.loads((path / "zarr.json").read_text())
    del doc["attributes"][ATTRS_KEY]["all_chunks"]
    (path / "zarr.json").write_text(json.dumps(doc))


def test_older_stores_may_lack_score_chunks_and_lone_zero_times(tmp_path):
    path = tmp_path / "old.zarr"
    write_store(path, frames(8), times(8))
    (path / "scores" / "c" / "0" / "0").unlink()
    _forget_all_chunks(path)
    store = MaskStore.open(path)
    assert not store.read_scores().any()  # older writers skipped all-zero score chunks
    (path / "time" / "c" / "0").unlink()  # holding 8 times, not all 0.0: damage
    with pytest.raises(StoreError, match="'time' frames 0..7 .*time/c/0 is missing"):
        MaskStore.open(path).read_time()
    (path / "labels" / "c" / "1" / "0" / "0").unlink()  # labels chunks: always written
    with pytest.raises(StoreError, match="'labels' frames 4..7"):
        MaskStore.open(path).read_labels()

    one = tmp_path / "one.zarr"
    write_store(one, frames(1), np.array([0.0]))
    (one / "time" / "c" / "0").unlink()  # an older writer skipped a lone time of 0.0
    _forget_all_chunks(one)
    assert MaskStore.open(one).read_time().tolist() == [0.0]


def test_new_stores_promise_every_chunk(tmp_path):
    store = MaskStore.create(tmp_path / "n.zarr", height=2, width=2)
    assert store.attrs[ATTRS_KEY]["all_chunks"] is True
    store.close()


@pytest.mark.parametrize(
    ("created", "frames_now", "chunk_now"),
    [
        ("2026-01-02T10:00:01+00:00", 12, 4),  # another run's store of the same shape
        ("2026-01-02T10:00:00+00:00", 5, 4),  # fewer frames: a store never loses any
        ("2026-01-02T10:00:00+00:00", 12, 3),  # other chunks
    ],
)
def test_a_handle_on_a_store_replaced_since_says_so(tmp_path, created, frames_now, chunk_now):
    """``segment(..., overwrite=True)`` replaces a store a notebook still has open: its
    reads say so, not that the store is damaged."""
    path = tmp_path / "r.zarr"

    def make(n, created, chunk, ids):
        objects = [{"id": i, "class": "wrasse", "source": "prompt"} for i in ids]
        with MaskStore.create(
            path,
            height=6,
            width=7,
            chunk_frames=chunk,
            objects=objects,
            provenance={"created": created},
            overwrite=True,
        ) as s:
            s.append(frames(n, ids=ids), times(n))
            s.mark_complete()

    make(12, "2026-01-02T10:00:00+00:00", 4, (1, 4, 9))
    old = MaskStore.open(path)
    make(frames_now, created, chunk_now, ())  # no objects: no score chunks
    with pytest.raises(StoreError) as info:
        old.read_scores()
    assert str(info.value) == (
        f"{path}: the store was replaced since it was opened (e.g. by a run with "
        "overwrite=True); open it again"
    )
    assert MaskStore.open(path).n_frames == frames_now  # opened again, it reads
