"""Tests of ecoseg/store/blosc_chunks.py: chunks assembled from compressed frame blocks are
c-blosc's bytes, and only arrays whose codec allows it get an encoder."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from numcodecs import Blosc

from ecoseg.store.blosc_chunks import FrameEncoder
from ecoseg.store.layout import block_rows, labels_codec


def ellipse_frames(n: int, h: int, w: int) -> np.ndarray:
    """Sparse label frames: a few moving ellipses on zeros."""
    y, x = np.ogrid[:h, :w]
    out = np.zeros((n, h, w), np.uint32)
    for t in range(n):
        for i in range(1, 4):
            cy, cx = (h * i / 4 + 3 * t) % h, (w * i / 4 + 5 * t) % w
            out[t][((y - cy) / (h / 8)) ** 2 + ((x - cx) / (w / 6)) ** 2 <= 1] = i
    return out


@pytest.mark.parametrize("clevel", [1, 4])
@pytest.mark.parametrize("h, w, rows", [(120, 160, 40), (64, 96, 64)])
def test_chunks_are_c_blosc_bytes(h, w, rows, clevel):
    frames = ellipse_frames(3, h, w)
    frames[1, :rows] = 0  # an all-zero block: the cached zero block, the same bytes
    enc = FrameEncoder(h, w, rows, clevel)
    blocks, top = enc.encode(frames)
    assert top.tolist() == frames.max(axis=(1, 2)).tolist()
    full = np.concatenate([frames, np.zeros((1, h, w), np.uint32)])  # a chunk of 4: zeros last
    ref = Blosc(cname="zstd", clevel=clevel, shuffle=Blosc.NOSHUFFLE, blocksize=rows * w * 4)
    assert enc.chunk(blocks, 4) == ref.encode(full)
    back = np.frombuffer(ref.decode(enc.chunk(blocks, 4)), np.uint32)
    np.testing.assert_array_equal(back, full.ravel())


def test_incompressible_blocks_are_stored_as_they_are():
    noise = np.random.default_rng(0).integers(0, 2**32, (2, 32, 40), dtype=np.uint32)
    enc = FrameEncoder(32, 40, 8, 1)
    blocks, _ = enc.encode(noise)
    assert all(len(b) == enc.block_bytes for b in blocks[0])
    back = np.frombuffer(Blosc().decode(enc.chunk(blocks, 2)), np.uint32).reshape(noise.shape)
    np.testing.assert_array_equal(back, noise)


def test_non_contiguous_frames_encode_like_contiguous_ones():
    frames = ellipse_frames(2, 48, 64)
    wide = np.zeros((2, 48, 128), np.uint32)
    wide[:, :, ::2] = frames
    enc = FrameEncoder(48, 64, 16, 1)
    assert enc.encode(wide[:, :, ::2])[0] == enc.encode(frames)[0]


def _array(compressors, shape=(0, 120, 160), chunks=(4, 120, 160), dtype="uint32"):
    g = zarr.open_group("memory://test-blosc-chunks", mode="w", zarr_format=3)
    return g.create_array(
        "labels", shape=shape, chunks=chunks, dtype=dtype, compressors=compressors
    )


def test_an_encoder_only_for_codecs_it_writes_byte_for_byte():
    enc = FrameEncoder.for_array(_array(labels_codec(120, 160)))
    assert enc is not None and enc.rows == block_rows(120, 160) == 120
    blosc = zarr.codecs.BloscCodec
    others = [
        blosc(cname="zstd", clevel=1, shuffle="noshuffle", typesize=4, blocksize=2**21),  # old
        blosc(cname="zstd", clevel=1, shuffle="shuffle", typesize=4, blocksize=76800),
        blosc(cname="lz4", clevel=1, shuffle="noshuffle", typesize=4, blocksize=76800),
        blosc(cname="zstd", clevel=9, shuffle="noshuffle", typesize=4, blocksize=76800),
        zarr.codecs.ZstdCodec(),
    ]
    for codec in others:
        assert FrameEncoder.for_array(_array(codec)) is None, codec
    tiled = _array(labels_codec(120, 160), chunks=(4, 60, 160))  # a chunk is not whole frames
    assert FrameEncoder.for_array(tiled) is None
    assert FrameEncoder.for_array(_array(labels_codec(120, 160), dtype="uint16")) is None


def test_odd_frame_heights_keep_the_standard_block():
    assert block_rows(1031, 1920) is None  # prime: 1-row blocks would compress badly
    assert labels_codec(1031, 1920).blocksize == 2**21
    odd = _array(labels_codec(1031, 1920), (0, 1031, 1920), (1, 1031, 1920))
    assert FrameEncoder.for_array(odd) is None


def test_threads_encode_with_their_own_zstd_contexts():
    from concurrent.futures import ThreadPoolExecutor

    frames = ellipse_frames(6, 120, 160)
    enc = FrameEncoder(120, 160, 40, 1)
    want = enc.encode(frames)[0]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: enc.encode(frames)[0], range(16)))
    assert all(g == want for g in got)
    contexts = set()
    with ThreadPoolExecutor(2) as pool:
        pool.map(lambda _: contexts.add(id(enc._compressor())), range(8))
    assert 1 <= len(contexts) <= 2  # at most one per thread, each reused
