"""Blosc chunks assembled from frames compressed block by block where the caller holds them.

A ``labels`` chunk holds whole frames. Where the array's Blosc block is a whole number of rows
of one frame (:func:`~ecoseg.store.layout.block_rows`), no block crosses a frame, so each frame
can be compressed straight from the caller's array (one zstd stream per block, each block's
largest id taken just before; an all-zero block reuses the one stream of zeros) and a chunk
assembled later from those streams: the frame is never copied into a chunk buffer. The chunk is
in the Blosc 1 format (a 16-byte header, the offset of every block, then per block its
compressed size and zstd stream; blocks not split by byte), byte for byte what c-blosc writes
with the same settings (``tests/store/test_blosc_chunks.py``), so any Blosc reader reads it.
"""

from __future__ import annotations

import struct
import threading

import numpy as np

from ecoseg.store._util import bytes_then
from ecoseg.store.layout import block_rows

__all__ = ["FrameEncoder"]

_VERSION = 2  # Blosc 1 format version
_ZSTD_VERSION = 1  # format version of its zstd streams
_FLAGS = 0x10 | (4 << 5)  # blocks not split, compressor 4 (zstd), no shuffle, not a plain copy


class FrameEncoder:
    """Compresses uint32 label frames into Blosc/zstd blocks and assembles chunks of them.

    Parameters
    ----------
    height, width : int
        Frame size.
    rows : int
        Frame rows per block (dividing ``height``).
    clevel : int
        Blosc level 1..8 (zstd level ``2 * clevel - 1``, as c-blosc maps it).

    Examples
    --------
    >>> from numcodecs import Blosc
    >>> enc = FrameEncoder(4, 6, rows=2, clevel=1)
    >>> frames = np.arange(48, dtype=np.uint32).reshape(2, 4, 6)
    >>> blocks, top = enc.encode(frames)
    >>> top.tolist(), len(blocks), len(blocks[0])  # 2 frames of 2 blocks
    ([23, 47], 2, 2)
    >>> chunk = enc.chunk(blocks, 3)  # a chunk of 3 frames: the third is all 0 (fill value)
    >>> back = np.frombuffer(Blosc().decode(chunk), np.uint32).reshape(3, 4, 6)
    >>> bool((back[:2] == frames).all()), int(back[2].max())
    (True, 0)
    """

    def __init__(self, height: int, width: int, rows: int, clevel: int):
        self.height, self.width, self.rows = height, width, rows
        self.level = 2 * clevel - 1
        self.block_bytes = rows * width * 4
        self.per_frame = height // rows
        # one zstd context per thread, reused (a context is not thread-safe; a new one per
        # block, as numcodecs.zstd makes, costs ~20 % of the compression)
        self._local = threading.local()
        self.zero_block = self._block(np.zeros((rows, width), np.uint32))

    @classmethod
    def for_array(cls, array) -> FrameEncoder | None:
        """The encoder for a zarr ``labels`` array whose chunks it can write byte for byte
        (uint32, whole frames per chunk, Blosc zstd level 1..8 without shuffle, blocks of
        whole frame rows, little-endian), or None (then zarr writes the chunks)."""
        from zarr.codecs import BloscCodec

        blosc = bytes_then(array, BloscCodec, (3,))
        if blosc is None or array.dtype != np.uint32:
            return None
        height, width = array.shape[1:]
        rows = block_rows(height, width)
        if (
            tuple(array.chunks[1:]) != (height, width)
            or blosc.cname.value != "zstd"
            or blosc.shuffle.value != "noshuffle"
            or blosc.typesize != 4
            or not 1 <= blosc.clevel <= 8
            or rows is None
            or blosc.blocksize != rows * width * 4
            or blosc.blocksize < 128  # c-blosc's smallest block
        ):
            return None
        return cls(height, width, rows, blosc.clevel)

    def _compressor(self):
        compressor = getattr(self._local, "compressor", None)
        if compressor is None:
            import zstandard

            # what c-blosc calls: a one-shot frame with the content size, no checksum
            compressor = zstandard.ZstdCompressor(level=self.level)
            self._local.compressor = compressor
        return compressor

    def _block(self, block: np.ndarray, compressor=None) -> bytes:
        data = (compressor or self._compressor()).compress(block)
        return data if len(data) < self.block_bytes else block.tobytes()  # stored as is

    def encode(self, frames: np.ndarray) -> tuple[list[list[bytes]], np.ndarray]:
        """The blocks of each of ``frames`` (n, H, W) uint32 and each frame's largest value."""
        top = np.zeros(len(frames), np.uint32)
        compressor = self._compressor()
        out = []
        for i, frame in enumerate(frames):
            frame = np.ascontiguousarray(frame)
            blocks = []
            for r in range(0, self.height, self.rows):
                block = frame[r : r + self.rows]
                largest = block.max()
                top[i] = max(top[i], largest)
                blocks.append(self._block(block, compressor) if largest else self.zero_block)
            out.append(blocks)
        return out, top

    def chunk(self, frames: list[list[bytes]], chunk_frames: int) -> bytes:
        """A Blosc chunk of ``chunk_frames`` frames: the encoded ``frames``, then zeros."""
        blocks = [b for frame in frames for b in frame]
        blocks += [self.zero_block] * ((chunk_frames - len(frames)) * self.per_frame)
        starts = np.empty(len(blocks), "<i4")
        at = 16 + 4 * len(blocks)
        for i, block in enumerate(blocks):
            starts[i] = at
            at += 4 + len(block)
        nbytes = chunk_frames * self.height * self.width * 4
        header = struct.pack(
            "<BBBBiii", _VERSION, _ZSTD_VERSION, _FLAGS, 4, nbytes, self.block_bytes, at
        )
        parts = [header, starts.tobytes()]
        for block in blocks:
            parts += (struct.pack("<i", len(block)), block)
        return b"".join(parts)
