"""Tests of ecoseg/store/maskstore.py: MaskStore round trips, objects, typed records."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import (
    OBJECTS,
    H,
    W,
    frames,
    memory_url,
    presence,
    times,
)

from ecoseg.errors import StoreError
from ecoseg.store import (
    ATTRS_KEY,
    STORE_FORMAT,
    STORE_VERSION,
    MaskStore,
    open_masks,
)


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


def test_rejected_frames_leave_no_trace_in_the_chunk_buffer(tmp_path):
    """A frame with scores is copied into the chunk buffer before its ids are checked; a
    rejected frame must not be stored, and the next frame takes its place."""
    path = tmp_path / "s.zarr"
    labels = frames(5)
    bad = labels[1].copy()
    bad[0, 0] = 99  # not registered
    ones = np.ones(len(OBJECTS), np.float32)
    with MaskStore.create(path, height=H, width=W, objects=OBJECTS, chunk_frames=3) as store:
        store.append(labels[0], 0.0, scores=ones)
        with pytest.raises(StoreError, match="frame 1 .*label 99"):
            store.append(bad, 0.1, scores=ones)
        store.append(labels[1:3], [0.1, 0.2], scores=np.ones((2, len(OBJECTS))))
        with pytest.raises(StoreError, match="frame 4 .*label 99"):
            store.append(np.stack([labels[3], bad]), [0.3, 0.4], scores=np.ones((2, 3)))
        store.append(labels[3:5], [0.3, 0.4], scores=np.ones((2, len(OBJECTS))))
    np.testing.assert_array_equal(MaskStore.open(path).read_labels(), labels)


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


def test_a_garbled_time_chunk_blocks_only_what_needs_the_times(tmp_path):
    """Opening reads no time: a reader still gets the labels; a resume's first append needs
    the last committed time and says which frames cannot be read (was a raw RuntimeError
    from opening)."""
    path = tmp_path / "masks.zarr"
    labels = frames(6)
    with MaskStore.create(path, height=H, width=W, chunk_frames=4, objects=OBJECTS) as store:
        store.append(labels, times(6))
    for key in (path / "time" / "c").iterdir():
        key.write_bytes(b"not a chunk")
    with MaskStore.open(path) as store:
        np.testing.assert_array_equal(store.read_labels(), labels)
        with pytest.raises(StoreError, match="'time' frames .* the store is damaged"):
            store.read_time()
    with MaskStore.open(path, mode="a") as store:
        with pytest.raises(StoreError, match=r"'time' frames 5\.\.5 cannot be read"):
            store.append(labels[:1], 1.0)


def test_the_repr_counts_one_frame_and_one_object_in_the_singular():
    # it read "1 frames of 3x2, 1 objects"
    store = MaskStore.create(
        "memory://repr-singular", height=2, width=3, chunk_frames=1, overwrite=True
    )
    store.add_objects([(1, "wrasse", "prompt")])
    store.append(np.ones((2, 3), np.uint32), 0.0)
    store.flush()
    assert ": 1 frame of 3x2, 1 object, chunk" in repr(store)
    store.add_objects([(2, "sponge", "prompt")])
    store.append(np.ones((2, 3), np.uint32), 0.1)
    store.flush()
    assert ": 2 frames of 3x2, 2 objects, chunk" in repr(store)
