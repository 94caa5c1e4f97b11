"""Tests of ecoseg/store/blosc_frames.py: label frames decoded straight into the result equal
zarr's read for today's codec and older ones, a frame of a chunk decodes only its own blocks,
and anything else is read through zarr."""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import zarr
from numcodecs import Blosc

import ecoseg.store.maskstore as maskstore
from ecoseg.errors import StoreError
from ecoseg.store import MaskStore
from ecoseg.store.blosc_frames import frame_blocks, read_frames

H, W = 48, 64
OBJECTS = [(k, "coral", "prompt") for k in range(1, 5)]
OLD = Path(__file__).resolve().parent.parent / "data" / "store_v0" / "truth.zarr"
# the labels codec of today (blocks of whole frame rows) and of older or foreign stores
CODECS = {
    "rows": None,  # labels_codec: 3 blocks of 16 rows a frame
    "zstd2-2MiB": {"cname": "zstd", "clevel": 2, "shuffle": "noshuffle", "blocksize": 2**21},
    "lz4-shuffle-auto": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "blocksize": 0},
    "blosclz-bitshuffle": {"cname": "blosclz", "clevel": 5, "shuffle": "bitshuffle"},
    "zstd-crossing": {"cname": "zstd", "clevel": 1, "shuffle": "noshuffle", "blocksize": 5120},
}


def blocks_in_frames(path: Path) -> bool:
    """Whether the store's first ``labels`` chunk has Blosc blocks inside one frame (c-blosc
    may pick another block size than the codec asks for: the chunk's header is what counts)."""
    head = (path / "labels" / "c" / "0" / "0" / "0").read_bytes()[:16]
    flags, blocksize = head[2], int.from_bytes(head[8:12], "little")
    return not flags & 0x2 and (H * W * 4) % blocksize == 0


def busy_frames(n: int, h: int = H, w: int = W) -> np.ndarray:
    """Frames of moving rectangles with a noisy band (some blocks compress, some do not)."""
    rng = np.random.default_rng(3)
    out = np.zeros((n, h, w), np.uint32)
    for t in range(n):
        out[t, 5 + t % 9 : 30 + t % 9, 3 * t % w : 3 * t % w + 20] = 1 + t % 4
        out[t, h - 6 :] = rng.integers(0, 5, (6, w), dtype=np.uint32)
    return out


@pytest.fixture(scope="module", params=sorted(CODECS))
def stored(request, tmp_path_factory):
    """(codec name, path, frames) of a finished store of 11 frames, 4 a chunk."""
    name = request.param
    path = tmp_path_factory.mktemp("frames") / f"{name}.zarr"
    frames = busy_frames(11)
    mp = pytest.MonkeyPatch()
    if CODECS[name] is not None:  # a store as an older (or another) writer made it
        mp.setattr(
            maskstore,
            "labels_codec",
            lambda h, w: zarr.codecs.BloscCodec(typesize=4, **CODECS[name]),
        )
    try:
        with MaskStore.create(path, height=H, width=W, chunk_frames=4, objects=OBJECTS) as s:
            s.append(frames, np.arange(11) / 10)
    finally:
        mp.undo()
    return name, path, frames


def test_stored_codecs_are_the_ones_meant(stored):
    name, path, _ = stored
    blosc = MaskStore.open(path).labels.metadata.codecs[1]
    assert (blosc.cname.value, blosc.blocksize) == (
        ("zstd", H * W * 4)
        if name == "rows"
        else (CODECS[name]["cname"], CODECS[name].get("blocksize", 0))
    )


def test_one_frame_reads_equal_the_chunk_read(stored):
    _, path, frames = stored
    s = MaskStore.open(path)
    raw = s.labels[:11]  # zarr's own read
    np.testing.assert_array_equal(raw, frames)
    for c in range(0, 11, 4):
        chunk = s.read_labels(c, min(c + 4, 11))
        np.testing.assert_array_equal(chunk, raw[c : c + 4])
        for i in range(c, min(c + 4, 11)):
            one = s.read_labels(i, i + 1)
            assert one.dtype == np.uint32 and one.shape == (1, H, W)
            np.testing.assert_array_equal(one, chunk[i - c : i - c + 1])
    for a, b in [(1, 3), (2, 7), (0, 11), (5, 11), (3, 9), (10, 11)]:
        np.testing.assert_array_equal(s.read_labels(a, b), raw[a:b])


def test_a_frame_decodes_only_its_own_blocks_where_blocks_are_frame_rows(stored, monkeypatch):
    name, path, frames = stored
    decoded = []
    real = Blosc.decode

    def spy(self, buf, out=None):
        decoded.append(int(np.frombuffer(bytes(buf[4:8]), "<i4")[0]))  # the header's nbytes
        return real(self, buf, out)

    monkeypatch.setattr(Blosc, "decode", spy)
    s = MaskStore.open(path)
    one = s.read_labels(5, 6)
    np.testing.assert_array_equal(one, frames[5:6])
    frame = H * W * 4
    if blocks_in_frames(path):  # blocks inside one frame: that frame's blocks only
        assert decoded == [frame]
    else:  # blocks across frames: the chunk, as zarr reads it
        assert decoded == [4 * frame]


def test_read_frames_returns_none_where_blocks_cross_frames(stored):
    name, path, _ = stored
    labels = MaskStore.open(path).labels
    part = read_frames(labels, 5, 6)
    assert (part is not None) == blocks_in_frames(path)
    assert (part is not None) == (name == "rows")
    whole = read_frames(labels, 4, 8)  # a whole chunk decodes into the result for any Blosc
    np.testing.assert_array_equal(whole, labels[4:8])


def test_one_frame_of_a_large_chunk_allocates_about_one_frame(tmp_path):
    h, w = 256, 512  # 0.5 MB frames, 8 a chunk: 4 MB chunks
    frames = busy_frames(8, h, w)
    with MaskStore.create(
        tmp_path / "big.zarr", height=h, width=w, chunk_frames=8, objects=OBJECTS
    ) as s:
        s.append(frames, np.arange(8) / 10)
    s = MaskStore.open(tmp_path / "big.zarr")
    s.read_labels(0, 1)  # imports and caches out of the figure
    tracemalloc.start()
    try:
        one = s.read_labels(6, 7)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(one, frames[6:7])
    assert peak < 1.5 * one.nbytes  # zarr's read decodes the 8-frame chunk (8x) first


@pytest.mark.parametrize(
    "cname, shuffle",
    [("lz4", "shuffle"), ("blosclz", "bitshuffle"), ("zlib", "noshuffle"), ("zstd", "shuffle")],
)
def test_larger_frames_of_other_codecs_read_the_same(cname, shuffle):
    """c-blosc's own block sizes: lz4 and blosclz split each block in 4 streams (one per byte
    of the uint32), zlib's 1 MiB blocks cross the 0.5 MB frames (read through zarr)."""
    g = zarr.open_group(f"memory://blosc-frames-{cname}-{shuffle}", mode="w", zarr_format=3)
    codec = zarr.codecs.BloscCodec(cname=cname, clevel=5, shuffle=shuffle, typesize=4)
    a = g.create_array(
        "labels", shape=(7, 256, 512), chunks=(4, 256, 512), dtype="uint32", compressors=codec
    )
    a[:] = busy_frames(7, 256, 512)
    raw = a[:]
    for i in range(7):
        np.testing.assert_array_equal(
            read_frames(a, i, i + 1) if cname != "zlib" else a[i : i + 1], raw[i : i + 1]
        )
    assert (read_frames(a, 1, 3) is None) == (cname == "zlib")
    np.testing.assert_array_equal(read_frames(a, 0, 4), raw[:4])  # whole chunks: any Blosc


def test_the_old_store_reads_the_same(tmp_path):
    s = MaskStore.open(OLD)
    raw = s.labels[: s.n_frames]
    for i in range(s.n_frames):
        np.testing.assert_array_equal(s.read_labels(i, i + 1), raw[i : i + 1])
    np.testing.assert_array_equal(s.read_labels(), raw)


def test_missing_and_damaged_chunks_are_named_as_before(tmp_path):
    path = tmp_path / "d.zarr"
    with MaskStore.create(path, height=H, width=W, chunk_frames=4, objects=OBJECTS) as s:
        s.append(busy_frames(11), np.arange(11) / 10)
    shutil.copytree(path, tmp_path / "d2.zarr")
    (path / "labels" / "c" / "1" / "0" / "0").unlink()
    s = MaskStore.open(path)
    with pytest.raises(
        StoreError, match=r"'labels' frames 4\.\.7 cannot be read.*c/1/0/0 is missing"
    ):
        s.read_labels(5, 6)
    np.testing.assert_array_equal(s.read_labels(9, 11), busy_frames(11)[9:11])
    key = tmp_path / "d2.zarr" / "labels" / "c" / "0" / "0" / "0"
    data = bytearray(key.read_bytes())
    data[-40:] = b"\xff" * 40  # the last block's stream no longer decodes
    key.write_bytes(bytes(data))
    with pytest.raises(
        StoreError, match=r"'labels' frames 3\.\.3 cannot be read; the store is damaged"
    ):
        MaskStore.open(tmp_path / "d2.zarr").read_labels(3, 4)


def test_frame_blocks_keeps_block_order_of_a_threaded_chunk():
    """c-blosc on several threads stores blocks in the order they finish: each block runs to
    the next start in the file, not to the next block's start."""
    frames = busy_frames(4)
    codec = Blosc("zstd", 1, Blosc.NOSHUFFLE, blocksize=16 * W * 4)
    chunk = bytearray(codec.encode(frames))
    n = 12
    starts = np.frombuffer(bytes(chunk[16 : 16 + 4 * n]), "<i4").copy()
    ends = np.append(starts[1:], len(chunk))
    # move block 4 (frame 1's first) to the end of the file, as a slow thread would
    blob = bytes(chunk[starts[4] : ends[4]])
    body = bytes(chunk[: starts[4]]) + bytes(chunk[ends[4] :]) + blob
    moved = np.where(starts > starts[4], starts - len(blob), starts)
    moved[4] = len(body) - len(blob)
    body = body[:16] + moved.astype("<i4").tobytes() + body[16 + 4 * n :]
    np.testing.assert_array_equal(
        np.frombuffer(codec.decode(body), np.uint32).reshape(frames.shape), frames
    )
    part = frame_blocks(body, 1, 2, H * W * 4)
    np.testing.assert_array_equal(
        np.frombuffer(Blosc().decode(part), np.uint32).reshape(1, H, W), frames[1:2]
    )


@pytest.mark.parametrize("cname", ["zstd", "lz4", "blosclz"])
def test_frame_blocks_of_a_chunk_stored_as_is(cname):
    """Incompressible frames: c-blosc stores the chunk as is (no block table), its block
    size up to the whole chunk; the frames' bytes get a header whose block is no larger
    than they are (c-blosc refused the chunk's larger one)."""
    frames = np.random.default_rng(5).integers(0, 2**32, (4, H, W), dtype=np.uint64)
    frames = frames.astype(np.uint32)
    chunk = Blosc(cname, 1, Blosc.SHUFFLE, blocksize=16 * W * 4).encode(frames)
    assert chunk[2] & 0x2  # stored as is
    part = frame_blocks(chunk, 1, 3, H * W * 4)
    back = np.frombuffer(Blosc().decode(part), np.uint32).reshape(2, H, W)
    np.testing.assert_array_equal(back, frames[1:3])
