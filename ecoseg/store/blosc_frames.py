"""Label frames decoded from their Blosc chunks straight into the array the caller gets.

Zarr reads ``labels[a:b]`` by decoding each chunk it touches whole into a buffer of its own and
copying the frames asked for out of it: one frame of a 4-frame 4K chunk costs the 127 MB chunk
plus the 32 MB frame, four frames twice the chunk. :func:`read_frames` fetches the chunks'
compressed bytes and decodes them with the same Blosc decoder (numcodecs, as zarr's
``BloscCodec``) into the result itself: a chunk read whole is decoded into its frames of the
result; of a chunk read in part, only the Blosc blocks of the frames asked for are decoded.
That needs blocks that lie inside one frame (the block size divides the frame's bytes, as
:func:`~ecoseg.store.layout.labels_codec` makes them): those blocks, taken with their place in
the chunk's block table, form a Blosc chunk of their own (the 16-byte header with that many
bytes, the blocks' offsets, the blocks as stored), which the decoder reads as it reads the
whole one. The values are the decoder's own, so they equal zarr's read byte for byte
(``tests/store/test_blosc_frames.py``).

Anything else (other codecs, sharding, big-endian bytes, a chunk in part whose blocks cross
frames, a chunk that is missing or does not decode) gives None, and the caller reads through
zarr (:func:`~ecoseg.store.chunks.read_checked`), which names what is wrong.
"""

from __future__ import annotations

import struct

import numpy as np

from ecoseg.store._util import bytes_then

__all__ = ["read_frames"]

_HEADER = 16  # bytes of a Blosc 1 chunk header
_MEMCPYED = 0x2  # header flag: the data is stored as is, after the header (no block table)


def _blosc(array):
    """The numcodecs Blosc codec of a 3-D array whose chunks are whole frames in plain
    little-endian bytes then Blosc (no sharding, no other codec), else None."""
    from zarr.codecs import BloscCodec

    if bytes_then(array, BloscCodec, (3,)) is None or tuple(array.chunks[1:]) != array.shape[1:]:
        return None
    from numcodecs import Blosc

    return Blosc()  # decoding reads every setting from the chunk's header


def _nbytes(chunk: bytes) -> int:
    """The bytes a Blosc chunk decodes to (its header's)."""
    return struct.unpack_from("<i", chunk, 4)[0]


def frame_blocks(chunk: bytes, first: int, stop: int, frame_bytes: int) -> bytes | None:
    """The Blosc chunk of frames ``first:stop`` of a Blosc ``chunk`` of whole frames of
    ``frame_bytes`` bytes each: its blocks of those frames with a header and block table of
    their own, or None where a block crosses a frame (or the header is not one to trust).

    Examples
    --------
    >>> from numcodecs import Blosc
    >>> frames = np.arange(4 * 6 * 16, dtype=np.uint32).reshape(4, 6, 16)
    >>> chunk = Blosc("zstd", 1, Blosc.NOSHUFFLE, blocksize=2 * 16 * 4).encode(frames)
    >>> part = frame_blocks(chunk, 1, 3, 6 * 16 * 4)  # 2 frames of 3 blocks
    >>> back = np.frombuffer(Blosc().decode(part), np.uint32).reshape(2, 6, 16)
    >>> bool((back == frames[1:3]).all())
    True
    >>> frame_blocks(Blosc("zstd", 1, blocksize=4 * 16 * 4).encode(frames), 1, 3, 6 * 16 * 4)
    """
    if len(chunk) < _HEADER:
        return None
    version, versionlz, flags, typesize, nbytes, blocksize, cbytes = struct.unpack_from(
        "<BBBBiii", chunk
    )
    if version != 2 or cbytes != len(chunk) or nbytes % frame_bytes or nbytes < stop * frame_bytes:
        return None
    lo, hi = first * frame_bytes, stop * frame_bytes
    if flags & _MEMCPYED:
        size = hi - lo  # a block no larger than the data (c-blosc refuses one larger)
        block = min(blocksize, size)
        header = struct.pack(
            "<BBBBiii", version, versionlz, flags, typesize, size, block, _HEADER + size
        )
        return header + chunk[_HEADER + lo : _HEADER + hi]
    if blocksize <= 0 or frame_bytes % blocksize:
        return None  # a block crosses frames (or the last block of the chunk is short)
    nblocks = nbytes // blocksize
    if len(chunk) < _HEADER + 4 * nblocks:
        return None
    starts = np.frombuffer(chunk, "<i4", nblocks, _HEADER).astype(np.int64)
    # each block's bytes run to the next block's start (blocks follow one another, though
    # not necessarily in block order where c-blosc compressed them on several threads)
    ends = np.full(nblocks, len(chunk), np.int64)
    order = np.argsort(starts, kind="stable")
    ends[order[:-1]] = starts[order[1:]]
    if starts.min() < _HEADER + 4 * nblocks or (ends < starts).any():
        return None
    keep = range(lo // blocksize, hi // blocksize)
    sizes = [int(ends[i] - starts[i]) for i in keep]
    table = _HEADER + 4 * len(keep)
    offsets = table + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("<i4")
    header = struct.pack(
        "<BBBBiii", version, versionlz, flags, typesize, hi - lo, blocksize, table + sum(sizes)
    )
    parts = [header, offsets.astype("<i4").tobytes()]
    parts += [chunk[starts[i] : ends[i]] for i in keep]
    return b"".join(parts)


def read_frames(array, start: int, stop: int) -> np.ndarray | None:
    """Frames ``start:stop`` (``0 <= start < stop <= len``) of a ``labels`` zarr array, each
    chunk's frames decoded straight into the result (see the module text), or None where
    that is not how the array can be read (then read it through zarr, which says why).

    Examples
    --------
    >>> import zarr
    >>> g = zarr.open_group("memory://doc-read-frames", mode="w", zarr_format=3)
    >>> a = g.create_array("labels", shape=(6, 8, 16), chunks=(4, 8, 16), dtype="uint32",
    ...                    compressors=zarr.codecs.BloscCodec(cname="zstd", blocksize=256))
    >>> a[:] = np.arange(6 * 8 * 16, dtype=np.uint32).reshape(6, 8, 16)
    >>> bool((read_frames(a, 1, 2) == a[1:2]).all()), read_frames(a, 2, 6).shape
    (True, (4, 8, 16))
    """
    blosc = _blosc(array)
    if blosc is None:
        return None
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    step = int(array.chunks[0])
    frame_shape = tuple(int(n) for n in array.shape[1:])
    dtype = np.dtype(array.dtype)
    frame_bytes = int(np.prod(frame_shape)) * dtype.itemsize
    chunks = range(start // step, (stop - 1) // step + 1)
    where = array.store_path
    keys = [array.metadata.encode_chunk_key((c, *(0,) * len(frame_shape))) for c in chunks]
    prototype = default_buffer_prototype()

    async def fetch():
        import asyncio

        return await asyncio.gather(*((where / k).get(prototype=prototype) for k in keys))

    try:
        stored = sync(fetch())
    except Exception:  # a failing store: zarr's read says what it is
        return None
    if any(b is None for b in stored):
        return None  # a missing chunk: the checked read names it
    out = np.empty((stop - start, *frame_shape), dtype)
    for c, buffer in zip(chunks, stored):
        a, b = max(start, c * step), min(stop, (c + 1) * step)
        chunk = buffer.to_bytes()
        if b - a < step:  # part of the chunk: only its frames' blocks
            chunk = frame_blocks(chunk, a - c * step, b - c * step, frame_bytes)
        # the decoder fills a larger array only in part: the chunk holds exactly these frames
        if chunk is None or len(chunk) < _HEADER or _nbytes(chunk) != (b - a) * frame_bytes:
            return None
        try:
            blosc.decode(chunk, out=out[a - start : b - start])
        except Exception:  # damaged: zarr's read names the frames
            return None
    return out
