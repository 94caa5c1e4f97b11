"""Tests of ecoseg/store/row_chunks.py: time and score rows written as whole chunks from memory
are zarr's own bytes, continue the rows on disk after a resume, and only arrays whose codecs
allow it get a writer."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from ecoseg.store.row_chunks import RowChunks


def _group(name: str):
    return zarr.open_group(f"memory://test-row-chunks-{name}", mode="w", zarr_format=3)


def _chunk_bytes(array) -> dict[str, bytes]:
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    async def read():
        store, prefix = array.store_path.store, array.store_path.path + "/"
        keys = [k async for k in store.list_prefix(prefix + "c/")]
        values = [await store.get(k, default_buffer_prototype()) for k in keys]
        return {k[len(prefix) :]: v.to_bytes() for k, v in zip(keys, values, strict=True)}

    return sync(read())


@pytest.mark.parametrize("objects", [0, 3, 70])  # 70: two column chunks
def test_rows_are_zarrs_bytes_across_chunks_and_commits(objects):
    rng = np.random.default_rng(1)
    n, rows, cols = 23, 8, 64
    times = np.cumsum(rng.uniform(0.01, 0.1, n))
    scores = rng.uniform(0, 1, (n, objects)).astype(np.float32)
    ours, ref = _group(f"ours{objects}"), _group(f"ref{objects}")
    pairs = []
    for g in (ours, ref):
        t = g.create_array("time", shape=(n,), chunks=(rows,), dtype="float64", fill_value=0)
        s = g.create_array(
            "scores", shape=(n, objects), chunks=(rows, cols), dtype="float32", fill_value=0
        )
        pairs.append((t, s))
    (t, s), (t_ref, s_ref) = pairs
    t_ref[:], s_ref[:] = times, scores
    tw, sw = RowChunks.for_array(t), RowChunks.for_array(s)
    for start, stop in [(0, 3), (3, 8), (8, 9), (9, 20), (20, 23)]:  # commits of any length
        tw.write(tw.encode(start, times[start:stop]))
        if objects:
            sw.write(sw.encode(start, scores[start:stop]))
    np.testing.assert_array_equal(t[:], times)
    np.testing.assert_array_equal(s[:], scores)
    assert _chunk_bytes(t) == _chunk_bytes(t_ref)
    if objects:
        assert _chunk_bytes(s) == _chunk_bytes(s_ref)


def test_a_resumed_writer_loads_the_partial_chunk_on_disk():
    g = _group("resume")
    a = g.create_array("scores", shape=(10, 2), chunks=(8, 64), dtype="float32", fill_value=0)
    a[:5] = np.arange(10, dtype=np.float32).reshape(5, 2)  # committed by an earlier run
    later = np.full((5, 3), 7, np.float32)  # an object added since: 0 on the earlier rows
    a.resize((10, 3))
    w = RowChunks.for_array(a)
    w.write(w.encode(5, later))
    want = np.zeros((10, 3), np.float32)
    want[:5, :2] = np.arange(10).reshape(5, 2)
    want[5:] = 7
    np.testing.assert_array_equal(a[:], want)


def test_objects_added_between_commits_score_zero_on_earlier_rows():
    g = _group("grow")
    a = g.create_array("scores", shape=(6, 1), chunks=(8, 64), dtype="float32", fill_value=0)
    w = RowChunks.for_array(a)
    w.write(w.encode(0, np.ones((3, 1), np.float32)))
    a.resize((6, 2))
    w.write(w.encode(3, np.full((3, 2), 2, np.float32)))
    np.testing.assert_array_equal(a[:], [[1, 0]] * 3 + [[2, 2]] * 3)


def test_a_writer_only_for_bytes_then_zstd():
    g = _group("codecs")
    kinds = {
        "default": {},
        "blosc": {"compressors": zarr.codecs.BloscCodec(cname="lz4")},
        "none": {"compressors": None},
        "fill": {"fill_value": 1.5},
        "zstd 5 with checksum": {"compressors": zarr.codecs.ZstdCodec(level=5, checksum=True)},
    }
    got = {}
    for name, extra in kinds.items():
        extra.setdefault("fill_value", 0)
        a = g.create_array(name, shape=(4,), chunks=(4,), dtype="float64", **extra)
        got[name] = RowChunks.for_array(a) is not None
    assert got == {
        "default": True,
        "blosc": False,
        "none": False,
        "fill": False,
        "zstd 5 with checksum": True,
    }
