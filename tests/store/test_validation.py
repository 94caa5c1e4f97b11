"""Tests of ecoseg/store/validation.py: malformed stores, bad frames, times, ids, scores,
objects, provenance and calibration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import (
    OBJECTS,
    H,
    W,
    frames,
    memory_url,
    times,
    write_store,
)

from ecoseg.errors import CalibrationError, StoreError
from ecoseg.store import (
    ATTRS_KEY,
    STORE_FORMAT,
    STORE_VERSION,
    MaskStore,
    open_masks,
    present_ids,
)


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
    path = make_group(tmp_path / "ok.zarr")
    group = zarr.open_group(str(path))
    group["labels"][:] = 1
    group["time"][:] = [0.0, 0.1, 0.2]
    store = MaskStore.open(path)
    assert store.n_frames == 3 and store.read_labels().shape == (3, 4, 5)
    assert store.read_time().tolist() == [0.0, 0.1, 0.2]
    assert store.read_scores().tolist() == [[0.0]] * 3  # no 'all_chunks': may be unwritten


def test_hand_made_group_without_label_chunks_is_damaged(tmp_path):
    # zarr writes no chunk of all-zero frames by default; ecoseg writes every chunk, so a
    # store whose committed frames have no labels chunks lost them
    store = MaskStore.open(make_group(tmp_path / "empty.zarr"))
    with pytest.raises(StoreError, match=r"'labels' frames 0..0 .*chunk labels/c/0/0/0 is miss"):
        store.read_labels()


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
    with pytest.raises(StoreError, match="a folder without zarr.json, not a mask store"):
        MaskStore.open(folder)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(StoreError, match="notes.txt: a file, not a mask store"):
        MaskStore.open(text)
    fake_zip = tmp_path / "fake.zip"
    fake_zip.write_text("no zip")
    with pytest.raises(StoreError, match="fake.zip: a file that is not a zip archive"):
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


def test_one_frame_times_and_float_scores_are_checked_as_arrays_are():
    """check_times on one frame and score_rows on plain float scores take shortcuts (no array
    passes): the same values and the same messages as the general path (the frame as the
    first of two, the scores as numpy arrays)."""
    from ecoseg.store.validation import ObjectIndex, check_times, score_rows

    late = (
        "m.zarr: frame 7: time {} s is not after the previous frame's 0.4 s (times must increase)"
    )
    for t, last, want in (
        (0.5, 0.4, [0.5]),
        (0.5, None, [0.5]),
        (0.4, 0.4, late.format("0.4")),
        (0.3, 0.4, late.format("0.3")),
        (math.nan, None, "m.zarr: frame 7: time nan is not finite"),
        (-math.inf, 0.4, "m.zarr: frame 7: time -inf is not finite"),
    ):
        for one in (t, [t], np.array([t]), np.float64(t)):
            try:
                got = check_times("m.zarr", one, 1, 7, last).tolist()
            except StoreError as exc:
                got = str(exc)
            assert got == want, (one, last)
            try:  # the same frame as the first of two: the general path says the same
                two = check_times("m.zarr", [t, 1e9], 2, 7, last).tolist()[:1]
            except StoreError as exc:
                two = str(exc)
            assert two == want
    index = ObjectIndex([3, 1, 2])
    mixed = {2: 0.1, 3: np.float32(1 / 3), 1: [0.25, 0.5]}
    as_arrays = {k: np.full(2, v, np.float32) if np.ndim(v) == 0 else v for k, v in mixed.items()}
    got = score_rows("m.zarr", index, mixed, None, 2, 0, [0.0, 0.1])
    np.testing.assert_array_equal(got, score_rows("m.zarr", index, as_arrays, None, 2, 0, [0, 1]))
    assert got.dtype == np.float32 and got[0].tolist() == np.float32([1 / 3, 0.25, 0.1]).tolist()
    assert score_rows("m.zarr", index, {}, None, 1, 0, [0.0]).tolist() == [[0.0, 0.0, 0.0]]


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
