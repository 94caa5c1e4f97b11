"""Tests of ecoseg/store/commit.py: chunk commits, the progress marker, and resuming after
a failure or a killed writer."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import zarr
from store_helpers import (
    OBJECTS,
    H,
    W,
    frames,
    times,
)
from suite_helpers import child_env

from ecoseg.errors import StoreError
from ecoseg.store import (
    ATTRS_KEY,
    COMMIT_FRAMES,
    ChunkCommitter,
    MaskStore,
    open_masks,
)
from ecoseg.store.blosc_chunks import FrameEncoder
from ecoseg.store.row_chunks import RowChunks


@pytest.fixture(params=["frame blocks", "older codec"])
def codec(request, monkeypatch):
    """Stores written now (frames compressed block by block) and stores whose ``labels`` codec
    the block encoder does not write (older settings: zarr compresses copied chunks)."""
    if request.param == "older codec":
        old = zarr.codecs.BloscCodec(cname="zstd", clevel=2, shuffle="noshuffle", blocksize=2**21)
        monkeypatch.setattr("ecoseg.store.maskstore.labels_codec", lambda h, w: old)
    return request.param


@pytest.fixture(params=["rows from memory", "rows through zarr"])
def rows(request, monkeypatch):
    """Time and score rows written as whole chunks from memory (stores created now), and
    through zarr (row codecs that :class:`RowChunks` does not write)."""
    if request.param == "rows through zarr":
        monkeypatch.setattr(RowChunks, "for_array", classmethod(lambda cls, array: None))
    return request.param


@pytest.mark.parametrize("chunk_frames", [1, 3, 4])
def test_appends_of_odd_sizes_across_chunk_boundaries(tmp_path, chunk_frames, codec, rows):
    labels, ts = frames(23), times(23)
    path = tmp_path / "odd.zarr"
    store = MaskStore.create(path, height=H, width=W, chunk_frames=chunk_frames, objects=OBJECTS)
    assert (FrameEncoder.for_array(store.labels) is None) == (codec == "older codec")
    assert (RowChunks.for_array(store.time) is None) == (rows == "rows through zarr")
    at = 0
    for size in [1, 3, 5, 2, 0, 7, 1]:
        store.append(labels[at : at + size], ts[at : at + size])
        at += size
        if size == 5:
            store.flush()  # a partial chunk on disk, later completed
            assert store.n_frames == at
            np.testing.assert_array_equal(store.read_labels(), labels[:at])
    store.append(labels[at:], ts[at:])
    store.close()
    back = MaskStore.open(path)
    assert back.n_frames == 23
    np.testing.assert_array_equal(back.read_labels(), labels)
    np.testing.assert_array_equal(back.read_time(), ts)


def test_commits_every_commit_frames_and_on_flush(tmp_path):
    store = MaskStore.create(
        tmp_path / "c.zarr", height=H, width=W, chunk_frames=4, objects=OBJECTS
    )
    labels, ts = frames(COMMIT_FRAMES + 5), times(COMMIT_FRAMES + 5)
    store.append(labels[:3], ts[:3])
    assert store.n_frames == 0  # buffered, nothing committed
    store.append(labels[3:], ts[3:])
    assert store.n_frames == COMMIT_FRAMES
    assert store.read_labels().shape[0] == COMMIT_FRAMES
    store.flush()
    assert store.n_frames == COMMIT_FRAMES + 5


def test_resume_after_failed_commit(tmp_path, monkeypatch, codec, rows):
    """A crash after chunks were written but before the marker moved loses only those frames."""
    path = tmp_path / "crash.zarr"
    labels, ts = frames(20), times(20)
    scores = np.linspace(0.1, 0.9, 20 * 3).reshape(20, 3).astype(np.float32)
    ref = tmp_path / "ref.zarr"
    with MaskStore.create(ref, height=H, width=W, chunk_frames=4, objects=OBJECTS) as s:
        s.append(labels, ts, scores=scores)

    store = MaskStore.create(path, height=H, width=W, chunk_frames=4, objects=OBJECTS)
    store.append(labels[:6], ts[:6], scores=scores[:6])
    store.flush()  # commits 6 frames (a partial chunk)
    real = ChunkCommitter.write_marker

    def crash(self, frames):
        raise OSError("disk unplugged")

    monkeypatch.setattr(ChunkCommitter, "write_marker", crash)
    store.append(labels[6:15], ts[6:15], scores=scores[6:15])  # chunks 6-7, 8-11 written
    with pytest.raises(StoreError, match="disk unplugged"):
        store.flush()
    with pytest.raises(StoreError, match="committed frames"):
        store.append(labels[15], ts[15])  # the store refuses to go on
    monkeypatch.setattr(ChunkCommitter, "write_marker", real)
    del store

    raw = zarr.open_group(str(path), mode="r")
    assert raw["labels"].shape[0] > 6  # data past the marker is on disk...
    assert open_masks(path).sizes["t"] == 6  # ...but readers see only committed frames
    assert MaskStore.open(path).n_frames == 6

    resumed = MaskStore.open(path, mode="a")
    assert resumed.n_frames == 6
    assert resumed.labels.shape[0] == resumed.time.shape[0] == resumed.scores.shape[0] == 6
    np.testing.assert_array_equal(resumed.read_labels(), labels[:6])
    resumed.append(labels[6:], ts[6:], scores=scores[6:])
    resumed.mark_complete()
    resumed.close()

    got, want = MaskStore.open(path), MaskStore.open(ref)
    np.testing.assert_array_equal(got.read_labels(), want.read_labels())
    np.testing.assert_array_equal(got.read_time(), want.read_time())
    np.testing.assert_array_equal(got.read_scores(), want.read_scores())
    assert got.complete


def test_resume_after_store_discarded_without_close(tmp_path):
    path = tmp_path / "dropped.zarr"
    labels, ts = frames(COMMIT_FRAMES + 7), times(COMMIT_FRAMES + 7)
    store = MaskStore.create(path, height=H, width=W, chunk_frames=4, objects=OBJECTS)
    store.append(labels, ts)
    committed = store.n_frames  # waits for the writes in flight
    assert committed == COMMIT_FRAMES
    del store  # buffered and uncommitted frames are lost, like in a killed process

    resumed = MaskStore.open(path, mode="a")
    assert resumed.n_frames == committed
    resumed.append(labels[committed:], ts[committed:])
    resumed.close()
    np.testing.assert_array_equal(MaskStore.open(path).read_labels(), labels)
    np.testing.assert_array_equal(MaskStore.open(path).read_time(), ts)


def test_resume_keeps_later_objects_at_zero(tmp_path, monkeypatch):
    """Score columns written past the object table by a crashed run do not leak later."""
    path = tmp_path / "cols.zarr"
    store = MaskStore.create(path, height=H, width=W, chunk_frames=2, objects=OBJECTS[:1])
    store.append(frames(4, ids=(1,)), times(4))
    store.flush()

    def crash(self):
        raise OSError("killed")

    monkeypatch.setattr(MaskStore, "_save_meta", crash)  # scores grew, object table not saved
    with pytest.raises(OSError):
        store.add_objects([(4, "wrasse", "prompt")])
    monkeypatch.undo()
    assert store.scores.shape[1] == 2  # the orphan column...
    store.scores[:, 1] = 0.7  # ...holding values from the crashed run
    del store
    resumed = MaskStore.open(path, mode="a")
    assert resumed.scores.shape[1] == 1
    resumed.add_objects([(4, "wrasse", "prompt")])
    resumed.close()
    np.testing.assert_array_equal(MaskStore.open(path).read_scores()[:, 1], 0.0)


CHILD = r"""
import sys
import numpy as np
from ecoseg.store import MaskStore

def frame(i):
    out = np.zeros((16, 16), np.uint32)
    out[i % 14 : i % 14 + 2, (3 * i) % 13 : (3 * i) % 13 + 3] = 1 + i % 3
    return out

if __name__ == "__main__":
    objects = [(1, "a", "tracker"), (2, "b", "tracker"), (3, "c", "tracker")]
    store = MaskStore.create(sys.argv[1], height=16, width=16, chunk_frames=3, objects=objects)
    i = 0
    while True:
        store.append(frame(i), 0.04 * i)
        i += 1
"""


def test_resume_after_a_killed_process(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(CHILD)
    path = tmp_path / "killed.zarr"
    child = subprocess.Popen([sys.executable, str(script), str(path)], env=child_env())
    marker = 0
    try:
        deadline = time.monotonic() + 60
        while marker < 3 * COMMIT_FRAMES and time.monotonic() < deadline:
            try:
                meta = json.loads((path / "zarr.json").read_text())["attributes"][ATTRS_KEY]
                marker = meta["frames_written"]
            except (OSError, ValueError, KeyError):
                pass
            assert child.poll() is None, "the writer process died on its own"
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert marker >= 3 * COMMIT_FRAMES

    namespace: dict = {}
    exec(CHILD, namespace)  # the same frame() as the child
    frame = namespace["frame"]
    store = MaskStore.open(path, mode="a")
    n = store.n_frames
    assert n >= marker
    assert not list(path.rglob("*.partial"))
    np.testing.assert_array_equal(store.read_labels(), np.stack([frame(i) for i in range(n)]))
    np.testing.assert_allclose(store.read_time(), 0.04 * np.arange(n))
    for i in range(n, n + 10):
        store.append(frame(i), 0.04 * i)
    store.close()
    back = MaskStore.open(path)
    np.testing.assert_array_equal(back.read_labels(), np.stack([frame(i) for i in range(n + 10)]))
    expected_scores = np.zeros((n + 10, 3), np.float32)
    expected_scores[np.arange(n + 10), np.arange(n + 10) % 3] = 1.0
    np.testing.assert_array_equal(back.read_scores(), expected_scores)


def test_a_caller_may_reuse_its_array_after_append(tmp_path, codec):
    """Frames are compressed (or copied) before append returns: an engine that overwrites
    one label buffer every frame stores every frame as it was."""
    labels, ts = frames(9), times(9)
    buffer = np.zeros_like(labels[0])
    ones = np.ones(len(OBJECTS), np.float32)
    with MaskStore.create(tmp_path / "r.zarr", height=H, width=W, objects=OBJECTS) as store:
        for i in range(9):
            buffer[:] = labels[i]
            store.append(buffer, ts[i], scores=ones if i % 2 else None)
        buffer[:] = 0
    np.testing.assert_array_equal(MaskStore.open(tmp_path / "r.zarr").read_labels(), labels)


def test_the_commit_record_is_zarrs_own_json_of_the_group_without_a_deep_copy(
    tmp_path, monkeypatch
):
    """Each commit writes the group's ``zarr.json`` byte for byte as zarr serializes the
    group's metadata (``to_buffer_dict``), yet deep-copies that metadata (``to_dict``, ~0.2 ms
    for a store's attributes) only once per writer, not once per commit."""
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.group import GroupMetadata

    calls = []
    real = GroupMetadata.to_dict

    def to_dict(self):
        calls.append(1)
        return real(self)

    path = tmp_path / "m.zarr"
    with MaskStore.create(path, height=H, width=W, objects=OBJECTS) as store:
        monkeypatch.setattr(GroupMetadata, "to_dict", to_dict)
        for k in range(0, 3 * COMMIT_FRAMES, 4):
            store.append(frames(4, start=k), times(4, start=k))
            store.flush()  # a commit each time
            written = (path / "zarr.json").read_bytes()
            monkeypatch.setattr(GroupMetadata, "to_dict", real)
            zarrs = store._group.metadata.to_buffer_dict(default_buffer_prototype())
            monkeypatch.setattr(GroupMetadata, "to_dict", to_dict)
            assert written == zarrs["zarr.json"].to_bytes()
            assert json.loads(written)["attributes"][ATTRS_KEY]["frames_written"] == k + 4
    assert len(calls) == 1


@pytest.mark.parametrize(
    "layout",
    [
        {"chunk_key_encoding": {"name": "default", "separator": "."}},
        {"chunk_key_encoding": {"name": "v2", "separator": "/"}},
        {"chunk_key_encoding": {"name": "v2", "separator": "."}},
        {"config": {"order": "F"}},
    ],
    ids=["dot keys", "v2 keys", "v2 dot keys", "order F"],
)
def test_chunks_the_writer_encodes_read_back_through_zarr_whatever_keys_or_order(tmp_path, layout):
    """Every key the writer encodes itself is the array's own (any chunk key encoding), and a
    zarr v3 chunk's bytes are in C order whatever the array's (memory) order, so the writer
    encodes label, time and score chunks of all such arrays and zarr reads back what it wrote."""
    from ecoseg.store.blosc_frames import read_frames
    from ecoseg.store.layout import labels_codec

    n, ids = 23, (1, 4, 9)
    labels, ts = frames(n), times(n)
    scores = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    g = zarr.open_group(tmp_path / "s.zarr", mode="w", zarr_format=3)
    arrays = [
        g.create_array(name, shape=(0, *rest), chunks=chunks, dtype=dtype, fill_value=0, **extra)
        for name, rest, chunks, dtype, extra in [
            ("labels", (H, W), (4, H, W), "uint32", {"compressors": labels_codec(H, W)}),
            ("time", (), (8,), "float64", {}),
            ("scores", (len(ids),), (8, 64), "float32", {}),
        ]
        for extra in [{**extra, **layout}]
    ]
    assert FrameEncoder.for_array(arrays[0]) is not None  # the writer encodes every chunk
    assert all(RowChunks.for_array(a) is not None for a in arrays[1:])
    c = ChunkCommitter(g, *arrays, "s.zarr", 0, lambda k: {"frames_written": k})
    c.n_objects = len(ids)
    for i in range(0, n, 5):
        c.buffer(labels[i : i + 5], ts[i : i + 5], scores[i : i + 5])
    c.flush()
    c.shutdown()
    back = zarr.open_group(tmp_path / "s.zarr", mode="r")
    for got in (back, dict(zip(("labels", "time", "scores"), arrays, strict=True))):
        np.testing.assert_array_equal(got["labels"][:], labels)
        np.testing.assert_array_equal(got["time"][:], ts)
        np.testing.assert_array_equal(got["scores"][:], scores)
    for a in (back["labels"], arrays[0]):
        np.testing.assert_array_equal(read_frames(a, 3, 9), labels[3:9])
