"""Tests of ecoseg/store/maskstore.py and the xarray view: the zarr v3 mask store."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecoseg
from ecoseg.errors import CalibrationError, StoreError
from ecoseg.store import (
    ATTRS_KEY,
    COMMIT_FRAMES,
    STORE_FORMAT,
    STORE_VERSION,
    ChunkCommitter,
    MaskStore,
    open_masks,
    present_ids,
)

H, W = 6, 7
OBJECTS = [
    {"id": 1, "class": "parrotfish", "source": "prompt"},
    {"id": 4, "class": "wrasse", "source": "discovered"},
    {"id": 9, "class": "sea_star", "source": "truth"},
]


def frames(n: int, start: int = 0, ids=(1, 4, 9), h: int = H, w: int = W) -> np.ndarray:
    """Deterministic label frames: each object a small box that moves; some frames lack some."""
    out = np.zeros((n, h, w), np.uint32)
    for k in range(n):
        t = start + k
        for j, oid in enumerate(ids):
            if (t + j) % 5 == 4:  # absent on some frames
                continue
            y, x = (t + 2 * j) % (h - 1), (3 * t + j) % (w - 1)
            out[k, y : y + 2, x : x + 2] = oid
    return out


def times(n: int, start: int = 0) -> np.ndarray:
    return np.array([0.04 * (start + k) + 0.001 * ((start + k) % 3) for k in range(n)])


def presence(labels: np.ndarray, ids) -> np.ndarray:
    out = [[float(np.any(f == i)) for i in ids] for f in labels]
    return np.array(out, np.float32).reshape(len(labels), len(ids))


def memory_url() -> str:
    return f"memory://ecoseg-test-{uuid.uuid4().hex}"


def write_store(path, labels, ts, chunk_frames=4, objects=OBJECTS, batch=3, **kw) -> MaskStore:
    store = MaskStore.create(
        path,
        height=labels.shape[1],
        width=labels.shape[2],
        chunk_frames=chunk_frames,
        objects=objects,
        **kw,
    )
    for i in range(0, len(labels), batch):
        store.append(labels[i : i + batch], ts[i : i + batch])
    store.close()
    return store


# ------------------------------------------------------------------------------ round trips
def test_round_trip_maskstore(tmp_path):
    path = tmp_path / "masks.zarr"
    labels, ts = frames(11), times(11)
    prov = {"engine": "classical", "video": {"path": "v.mp4", "fps": 25.0}, "n": np.int64(3)}
    cal = {"mm_per_px": 0.5, "method": "scale_bar"}
    with MaskStore.create(
        path, height=H, width=W, chunk_frames=4, objects=OBJECTS, provenance=prov, calibration=cal
    ) as store:
        store.append(labels[:5], ts[:5])
        store.append(labels[5], ts[5])  # a single (H, W) frame and a scalar time
        store.append(labels[6:], ts[6:])
        store.mark_complete()

    store = MaskStore.open(path)
    assert (store.height, store.width, store.chunk_frames) == (H, W, 4)
    assert store.n_frames == len(store) == 11
    assert store.complete
    assert store.objects == OBJECTS
    np.testing.assert_array_equal(store.object_ids, [1, 4, 9])
    assert store.provenance == {
        "engine": "classical",
        "video": {"path": "v.mp4", "fps": 25.0},
        "n": 3,
    }
    assert store.calibration == cal
    got = store.read_labels()
    assert got.dtype == np.uint32
    np.testing.assert_array_equal(got, labels)
    np.testing.assert_array_equal(store.read_labels(3, 7), labels[3:7])
    np.testing.assert_array_equal(store.read_labels(-2), labels[-2:])
    assert store.read_time().dtype == np.float64
    np.testing.assert_array_equal(store.read_time(), ts)
    scores = store.read_scores()
    assert scores.dtype == np.float32 and scores.shape == (11, 3)
    np.testing.assert_array_equal(scores, presence(labels, [1, 4, 9]))
    assert store.path in repr(store) and "11 frames" in repr(store)
    # the raw zarr layout
    attrs = store.attrs
    assert attrs[ATTRS_KEY]["format"] == STORE_FORMAT
    assert attrs[ATTRS_KEY]["version"] == STORE_VERSION
    assert attrs[ATTRS_KEY]["frames_written"] == 11
    with pytest.raises(TypeError):
        attrs["x"] = 1  # read-only mapping
    group = zarr.open_group(str(path), mode="r")
    assert group.metadata.zarr_format == 3
    assert group["labels"].metadata.dimension_names == ("t", "y", "x")
    assert group["labels"].chunks == (4, H, W)
    assert group["time"].metadata.dimension_names == ("t",)
    assert group["scores"].metadata.dimension_names == ("t", "object")
    assert group["labels"].attrs["units"] == "instance id"
    assert group["labels"].shape == (11, H, W)  # cut to length on close


def test_round_trip_open_masks(tmp_path):
    path = tmp_path / "m.zarr"
    labels, ts = frames(9), times(9)
    write_store(path, labels, ts, chunk_frames=2, calibration={"mm_per_px": 0.25})
    ds = open_masks(path)
    assert isinstance(ds, xr.Dataset)
    assert dict(ds.labels.sizes) == {"t": 9, "y": H, "x": W}
    assert ds.labels.dims == ("t", "y", "x") and ds.scores.dims == ("t", "object")
    assert ds.labels.dtype == np.uint32 and ds.scores.dtype == np.float32
    assert not ds.labels.variable._in_memory  # lazy
    np.testing.assert_array_equal(ds.labels[4].values, labels[4])
    np.testing.assert_array_equal(ds.labels.values, labels)
    np.testing.assert_array_equal(ds.scores.values, presence(labels, [1, 4, 9]))
    np.testing.assert_array_equal(ds.t.values, np.arange(9))
    np.testing.assert_array_equal(ds.time.values, ts)
    assert ds.time.dims == ("t",) and ds.time.attrs["units"] == "s"
    np.testing.assert_array_equal(ds.object.values, [1, 4, 9])
    assert list(ds.object_class.values) == ["parrotfish", "wrasse", "sea_star"]
    assert list(ds.object_source.values) == ["prompt", "discovered", "truth"]
    assert ds.labels.attrs["units"] == "instance id" and ds.scores.attrs["units"] == "1"
    assert ds.attrs["calibration"] == {"mm_per_px": 0.25}
    assert ds.attrs["mm_per_px"] == 0.25
    assert ds.attrs["objects"] == OBJECTS
    assert ds.attrs["ecoseg_version"] == ecoseg.__version__
    assert ds.attrs["store_version"] == STORE_VERSION
    assert ds.attrs["provenance"] == {}
    # selecting by time works through the coordinate
    assert int(ds.labels.sel(t=3).max()) == int(labels[3].max())
    assert ecoseg.open_masks is open_masks


def test_open_masks_without_the_zarr_backend(tmp_path, monkeypatch):
    path = tmp_path / "m.zarr"
    labels, ts = frames(5), times(5)
    write_store(path, labels, ts)

    def refuse(*args, **kwargs):
        raise ValueError("backend unavailable")

    monkeypatch.setattr(xr, "open_dataset", refuse)
    ds = open_masks(path)
    assert not ds.labels.variable._in_memory
    np.testing.assert_array_equal(ds.labels[1:3].values, labels[1:3])
    np.testing.assert_array_equal(ds.time.values, ts)
    np.testing.assert_array_equal(ds.scores.values, presence(labels, [1, 4, 9]))


@pytest.mark.parametrize("chunk_frames", [1, 3, 4])
def test_appends_of_odd_sizes_across_chunk_boundaries(tmp_path, chunk_frames):
    labels, ts = frames(23), times(23)
    path = tmp_path / "odd.zarr"
    store = MaskStore.create(path, height=H, width=W, chunk_frames=chunk_frames, objects=OBJECTS)
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


def test_objects_added_midway(tmp_path):
    path = tmp_path / "grow.zarr"
    first = frames(6, ids=(1, 4))
    store = MaskStore.create(path, height=H, width=W, chunk_frames=4, objects=OBJECTS[:2])
    store.append(first[:5], times(5))
    assert store.read_scores().shape[1] == 2
    store.add_objects([(9, "sea_star", "discovered"), {"id": 12, "class": "crab"}])
    assert store.objects[-1] == {"id": 12, "class": "crab", "source": "unknown"}
    later = frames(4, start=6)
    store.append(first[5:], times(1, start=5))  # written after the objects were added
    store.append(later, times(4, start=6), scores={9: [0.5, 0.6, 0.7, 0.8], 4: 0.9})
    store.close()

    back = MaskStore.open(path)
    scores = back.read_scores()
    assert scores.shape == (10, 4)
    np.testing.assert_array_equal(back.object_ids, [1, 4, 9, 12])
    np.testing.assert_array_equal(scores[:6, :2], presence(first, [1, 4]))
    np.testing.assert_array_equal(scores[:6, 2:], 0.0)  # before the objects existed
    np.testing.assert_allclose(scores[6:, 2], [0.5, 0.6, 0.7, 0.8])
    np.testing.assert_allclose(scores[6:, 1], 0.9)
    np.testing.assert_array_equal(scores[6:, [0, 3]], 0.0)  # not in the dict
    ds = open_masks(path)
    assert ds.sizes["object"] == 4
    assert list(ds.object_class.values) == ["parrotfish", "wrasse", "sea_star", "crab"]


def test_score_arrays_in_object_order(tmp_path):
    path = tmp_path / "s.zarr"
    labels = frames(3)
    given_scores = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], np.float32)
    with MaskStore.create(path, height=H, width=W, objects=OBJECTS) as store:
        store.append(labels[:2], times(2), scores=given_scores[:2])
        store.append(labels[2], times(1, start=2), scores=given_scores[2])  # (n_objects,)
    np.testing.assert_array_equal(MaskStore.open(path).read_scores(), given_scores)


def test_integer_dtypes_and_large_ids(tmp_path):
    path = tmp_path / "ints.zarr"
    big = 2**32 - 1
    with MaskStore.create(
        path, height=2, width=3, objects=[(big, "x", "truth"), (2, "y", "truth")]
    ) as s:
        s.append(np.array([[[0, 2, 2], [0, 0, 0]]], np.uint8), [0.0])
        s.append(np.array([[[0, 0, 0], [big, big, 2]]], np.int64), [0.5])
    back = MaskStore.open(path)
    np.testing.assert_array_equal(back.read_labels()[1, 1], [big, big, 2])
    np.testing.assert_array_equal(back.read_scores(), [[0, 1], [1, 1]])


def test_present_ids():
    a = np.array([[0, 3, 3, 0], [7, 7, 0, 3]], np.uint32)
    np.testing.assert_array_equal(present_ids(a), [3, 7])
    assert present_ids(np.zeros((0, 4), np.uint32)).size == 0
    assert present_ids(np.zeros((3, 4), np.uint32)).size == 0
    assert present_ids(np.array([5])).tolist() == [5]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=0, max_size=300))
def test_present_ids_matches_unique(values):
    a = np.array(values, np.uint32)
    expected = np.unique(a)
    np.testing.assert_array_equal(present_ids(a), expected[expected != 0])


# ------------------------------------------------------------------------------ locations
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


# ------------------------------------------------------------------------------ overwriting
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


# ------------------------------------------------------------------------------ resume
def test_resume_after_failed_commit(tmp_path, monkeypatch):
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


def test_arrays_of_different_lengths_past_the_marker_still_open(tmp_path):
    # a process killed between resizing `labels` and `time` leaves arrays of unequal length
    path = tmp_path / "torn.zarr"
    labels, ts = frames(6), times(6)
    with MaskStore.create(path, height=H, width=W, chunk_frames=2, objects=OBJECTS) as store:
        store.append(labels, ts)
    zarr.open_array(path / "time", mode="r+").resize((20,))
    zarr.open_array(path / "scores", mode="r+").resize((13, len(OBJECTS)))
    ds = open_masks(path)
    assert ds.sizes["t"] == 6
    np.testing.assert_array_equal(ds.labels.values, labels)
    np.testing.assert_array_equal(ds.time.values, ts)


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
    env = dict(os.environ)
    root = str(Path(ecoseg.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    child = subprocess.Popen([sys.executable, str(script), str(path)], env=env)
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


# ------------------------------------------------------------------------------ validation
def make_group(path, *, attrs=None, labels=("uint32", ("t", "y", "x")), time_len=3, n=3):
    """A zarr v3 group shaped like a store, with parts broken on request."""
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    if labels is not None:
        dtype, dims = labels
        group.create_array(
            "labels",
            shape=(n, 4, 5)[: len(dims)],
            dtype=dtype,
            chunks=(1, 4, 5)[: len(dims)],
            dimension_names=dims,
        )
    group.create_array("time", shape=(time_len,), dtype="float64", dimension_names=("t",))
    group.create_array("scores", shape=(n, 1), dtype="float32", dimension_names=("t", "object"))
    meta = {
        "format": STORE_FORMAT,
        "version": STORE_VERSION,
        "frames_written": n,
        "complete": True,
        "objects": [{"id": 1, "class": "a", "source": "truth"}],
        "provenance": {},
        "calibration": None,
    }
    if attrs is not None:
        meta.update(attrs)
    group.attrs[ATTRS_KEY] = meta
    return path


def test_open_valid_hand_made_group(tmp_path):
    store = MaskStore.open(make_group(tmp_path / "ok.zarr"))
    assert store.n_frames == 3 and store.read_labels().shape == (3, 4, 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attrs": {"version": STORE_VERSION + 1}}, "newer ecoseg"),
        ({"attrs": {"version": 0}}, "older than"),
        ({"attrs": {"version": "1"}}, "invalid store version"),
        ({"attrs": {"format": "something-else"}}, "not an ecoseg mask store"),
        ({"labels": None}, "no 'labels' array"),
        ({"labels": ("int32", ("t", "y", "x"))}, "'labels' must be a 3-d uint32"),
        ({"labels": ("uint32", ("t", "x"))}, "'labels' must be a 3-d uint32"),
        ({"labels": ("uint32", ("t", "row", "col"))}, "dimension names"),
        ({"time_len": 2}, "'time' holds 2 frames but the progress marker says 3"),
        ({"attrs": {"frames_written": -1}}, "progress marker"),
        ({"attrs": {"objects": [{"id": 1}, {"id": 1}]}}, "duplicate object id 1"),
        ({"attrs": {"objects": [{"id": 1}, {"id": 2}]}}, "1 object columns but the object table"),
    ],
)
def test_validation_errors(tmp_path, kwargs, message):
    path = make_group(tmp_path / "bad.zarr", **kwargs)
    with pytest.raises(StoreError, match=message) as err:
        MaskStore.open(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        MaskStore.open(tmp_path / "missing.zarr")
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.txt").write_text("hi")
    with pytest.raises(StoreError, match="not a zarr store"):
        MaskStore.open(folder)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(StoreError, match="not a zarr store"):
        MaskStore.open(text)
    fake_zip = tmp_path / "fake.zip"
    fake_zip.write_text("no zip")
    with pytest.raises(StoreError, match="not a zarr store"):
        MaskStore.open(fake_zip)
    with pytest.raises(StoreError, match="no such store"):
        open_masks(memory_url())


def test_zarr_group_without_ecoseg_attrs(tmp_path):
    path = tmp_path / "plain.zarr"
    zarr.open_group(str(path), mode="w", zarr_format=3).attrs["other"] = 1
    with pytest.raises(StoreError, match="not an ecoseg mask store"):
        MaskStore.open(path)


def test_zarr_v2_group(tmp_path):
    path = tmp_path / "v2.zarr"
    zarr.open_group(str(path), mode="w", zarr_format=2)
    with pytest.raises(StoreError, match="zarr v2 group"):
        MaskStore.open(path)


def test_bad_open_mode(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        MaskStore.open(make_group(tmp_path / "ok.zarr"), mode="w")


# ------------------------------------------------------------------------------ write errors
@pytest.fixture
def store(tmp_path):
    s = MaskStore.create(tmp_path / "w.zarr", height=H, width=W, chunk_frames=2, objects=OBJECTS)
    s.append(frames(3), times(3))
    yield s
    s.close()


def test_append_wrong_shape(store):
    with pytest.raises(StoreError, match=r"frame 3: labels of shape \(1, 5, 7\)"):
        store.append(np.zeros((1, 5, W), np.uint32), [1.0])
    with pytest.raises(StoreError, match="frame 3"):
        store.append(np.zeros((2, 2, H, W), np.uint32), [1.0, 2.0])


def test_append_bad_dtype_and_values(store):
    with pytest.raises(StoreError, match="integer array"):
        store.append(np.zeros((H, W), np.float32), 1.0)
    bad = np.zeros((2, H, W), np.int64)
    bad[1, 0, 0] = -3
    with pytest.raises(StoreError, match="frame 4: label value -3"):
        store.append(bad, [1.0, 2.0])
    bad[1, 0, 0] = 2**32
    with pytest.raises(StoreError, match="frame 4: label value 4294967296"):
        store.append(bad, [1.0, 2.0])


def test_append_time_errors(store):
    last = float(times(3)[-1])
    with pytest.raises(StoreError, match=r"frame 3: time .* is not after the previous"):
        store.append(frames(1), [last])
    with pytest.raises(StoreError, match=r"frame 4: time 0\.5 s is not after"):
        store.append(frames(2), [0.6, 0.5])
    with pytest.raises(StoreError, match="frame 3: time nan is not finite"):
        store.append(frames(1), [math.nan])
    with pytest.raises(StoreError, match="2 label frames but 1 times"):
        store.append(frames(2), [5.0])
    with pytest.raises(StoreError, match="time must be numbers"):
        store.append(frames(1), ["soon"])


def test_append_unknown_label(store):
    labels = frames(3, start=3)
    labels[2, 0, 0] = 77
    with pytest.raises(StoreError, match=r"frame 5 \(t=.* s\): label 77 is not a registered"):
        store.append(labels, times(3, start=3))
    with pytest.raises(StoreError, match="label 77"):  # also with explicit scores (fast path)
        store.append(labels, times(3, start=3), scores={1: 1.0})


def test_append_score_errors(store):
    with pytest.raises(StoreError, match=r"scores of shape \(1, 2\), expected \(1, 3\)"):
        store.append(frames(1, start=3), times(1, start=3), scores=np.ones((1, 2)))
    with pytest.raises(StoreError, match="object 5, which is not registered"):
        store.append(frames(1, start=3), times(1, start=3), scores={5: 1.0})
    with pytest.raises(StoreError, match="score of object 4 is not finite"):
        store.append(frames(1, start=3), times(1, start=3), scores={4: math.inf})
    with pytest.raises(StoreError, match="score of object 1 must be a number or 1 numbers"):
        store.append(frames(1, start=3), times(1, start=3), scores={1: [0.1, 0.2]})


def test_failed_appends_store_nothing(store):
    for bad in (
        lambda: store.append(frames(2, start=3), [9.0, 8.0]),
        lambda: store.append(np.full((1, H, W), 99, np.uint32), [9.0]),
    ):
        with pytest.raises(StoreError):
            bad()
    store.append(frames(2, start=3), times(2, start=3))
    store.flush()
    np.testing.assert_array_equal(store.read_labels(), frames(5))


def test_add_objects_errors(store):
    with pytest.raises(StoreError, match="duplicate object id 4"):
        store.add_objects([(4, "again", "prompt")])
    with pytest.raises(StoreError, match="duplicate object id 20"):
        store.add_objects([(20, "a", "prompt"), (20, "b", "prompt")])
    for bad in (0, -1, 2**32, True, "7", 2.0):
        with pytest.raises(StoreError, match="object id"):
            store.add_objects([{"id": bad, "class": "x"}])
    with pytest.raises(StoreError, match="list of dicts"):
        store.add_objects({"id": 3})
    np.testing.assert_array_equal(store.object_ids, [1, 4, 9])  # nothing half-added


def test_provenance_must_be_json(store, tmp_path):
    store.set_provenance(engine="sam2", model={"variant": "tiny", "size": np.int32(1024)})
    assert store.provenance["model"] == {"variant": "tiny", "size": 1024}
    for bad, where in (
        ({"obj": object()}, "obj"),
        ({"p": Path("x")}, "PosixPath|WindowsPath"),
        ({"nan": math.nan}, "nan"),
        ({"nested": {"s": {1, 2}}}, "set"),
        ({"keys": {1: "a"}}, "key 1"),
    ):
        with pytest.raises(StoreError, match=where) as err:
            store.set_provenance(**bad)
        assert "JSON" in str(err.value)
    with pytest.raises(StoreError, match="JSON"):
        MaskStore.create(tmp_path / "p.zarr", height=2, width=2, provenance={"f": print})
    assert not (tmp_path / "p.zarr").exists()
    assert "obj" not in store.provenance  # rejected entries are not stored


def test_calibration(store):
    assert store.calibration is None
    store.calibration = {"mm_per_px": 0.2, "method": "lasers", "points": [[1, 2], [3, 4]]}
    store.flush()
    back = MaskStore.open(store.path)
    assert back.calibration["mm_per_px"] == 0.2
    assert open_masks(store.path).attrs["mm_per_px"] == 0.2
    for bad in ({"mm_per_px": -1}, {"mm_per_px": "big"}, {"mm_per_px": math.inf}, 0.5):
        with pytest.raises(CalibrationError):
            store.calibration = bad
    store.calibration = None
    assert MaskStore.open(store.path).calibration is None


def test_read_only_store_refuses_writes(tmp_path):
    path = tmp_path / "ro.zarr"
    write_store(path, frames(3), times(3))
    ro = MaskStore.open(path)
    for action in (
        lambda: ro.append(frames(1, start=3), [9.0]),
        lambda: ro.add_objects([(30, "x", "y")]),
        lambda: ro.set_provenance(a=1),
        lambda: ro.mark_complete(),
    ):
        with pytest.raises(StoreError, match="read-only"):
            action()
    ro.close()


def test_closed_store_refuses_writes(tmp_path):
    store = write_store(tmp_path / "c.zarr", frames(2), times(2))
    store.close()  # closing twice is fine
    with pytest.raises(StoreError, match="closed"):
        store.append(frames(1, start=2), [9.0])
    assert store.n_frames == 2


def test_append_after_complete_clears_complete(tmp_path):
    path = tmp_path / "again.zarr"
    with MaskStore.create(path, height=H, width=W, objects=OBJECTS) as s:
        s.append(frames(2), times(2))
        s.mark_complete()
    with MaskStore.open(path, mode="a") as s:
        assert s.complete
        s.append(frames(1, start=2), times(1, start=2))
        assert not s.complete
    assert not MaskStore.open(path).complete


def test_create_argument_errors(tmp_path):
    for kwargs, message in (
        ({"height": 0, "width": 3}, "height must be a positive integer"),
        ({"height": 3, "width": 2.5}, "width must be a positive integer"),
        ({"height": 3, "width": 3, "chunk_frames": 0}, "chunk_frames"),
        ({"height": 3, "width": 3, "objects": [(1, "a"), (1, "b")]}, "duplicate object id 1"),
    ):
        with pytest.raises(StoreError, match=message):
            MaskStore.create(tmp_path / "x.zarr", **kwargs)
    assert not (tmp_path / "x.zarr").exists()


# ------------------------------------------------------------------------------ property
@st.composite
def stacks(draw):
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    n = draw(st.integers(0, 12))
    ids = draw(st.lists(st.integers(1, 2**32 - 1), min_size=1, max_size=4, unique=True))
    values = draw(st.lists(st.sampled_from([0, *ids]), min_size=n * h * w, max_size=n * h * w))
    labels = np.array(values, np.uint32).reshape(n, h, w)
    chunk = draw(st.integers(1, 5))
    sizes, left = [], n
    while left:
        size = draw(st.integers(1, left))
        sizes.append(size)
        left -= size
    gaps = draw(st.lists(st.floats(0.001, 2.0), min_size=n, max_size=n))
    return labels, ids, chunk, sizes, np.cumsum(gaps)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_round_trip_property(case):
    labels, ids, chunk, sizes, ts = case
    url = memory_url()
    objects = [(oid, f"c{oid % 3}", "truth") for oid in ids]
    store = MaskStore.create(
        url, height=labels.shape[1], width=labels.shape[2], chunk_frames=chunk, objects=objects
    )
    at = 0
    for size in sizes:
        store.append(labels[at : at + size], ts[at : at + size])
        at += size
    store.close()
    back = MaskStore.open(url)
    assert back.n_frames == len(labels)
    np.testing.assert_array_equal(back.read_labels(), labels)
    np.testing.assert_array_equal(back.read_time(), ts)
    np.testing.assert_array_equal(back.read_scores(), presence(labels, ids))
    ds = open_masks(url)
    np.testing.assert_array_equal(ds.labels.values, labels)
    np.testing.assert_array_equal(ds.object.values, ids)


# ------------------------------------------------------------------------------ typed records
def test_typed_object_records_and_provenance(tmp_path):
    import dataclasses

    from ecoseg.provenance import ObjectRecord, Provenance

    prov = Provenance.from_dict({"engine": "sam2", "video": {"path": "v.mp4", "size": [W, H]}})
    objects = [ObjectRecord(2, "wrasse", "concept", class_source="concept"), (5, "crab", "prompt")]
    path = tmp_path / "typed.zarr"
    with MaskStore.create(path, height=H, width=W, objects=objects, provenance=prov) as store:
        store.add_objects([ObjectRecord(7, "eel", "discovered", extra={"seen_at": 3})])
        records = store.object_records()
        assert list(records) == [2, 5, 7] and records[5].class_name == "crab"
        classified = dataclasses.replace(
            records[7], class_name="moray", class_source="classified", class_probability=0.8
        )
        store.update_objects([classified])
        store.set_provenance(classifier={"name": "rf"})
    back = MaskStore.open(path)
    assert back.provenance_record.video.frame_size == (W, H)
    assert back.provenance_record.extra == {"classifier": {"name": "rf"}}
    assert back.provenance == {
        "engine": "sam2",
        "video": {"path": "v.mp4", "size": [W, H]},
        "classifier": {"name": "rf"},
    }
    got = back.object_records()
    assert got[7] == classified and got[7].extra == {"seen_at": 3}
    assert got[2].class_source == "concept"
    assert back.objects[2] == {
        "id": 7,
        "class": "moray",
        "source": "discovered",
        "class_source": "classified",
        "class_probability": 0.8,
        "seen_at": 3,
    }
    assert open_masks(path).object_class.values.tolist() == ["wrasse", "crab", "moray"]


def test_update_objects_errors(store):
    from ecoseg.provenance import ObjectRecord

    with pytest.raises(StoreError, match="object 99 is not registered"):
        store.update_objects([ObjectRecord(99)])
    with pytest.raises(StoreError, match="takes ObjectRecords"):
        store.update_objects([{"id": 1}])
    with pytest.raises(StoreError, match="class_source 'guess'"):
        store.add_objects([{"id": 30, "class": "x", "class_source": "guess"}])
    assert store.object_ids.tolist() == [1, 4, 9]
