"""Streaming video decode with true timestamps, seeking, and image folders.

:func:`open_video` opens a video file (anything FFmpeg reads: mp4, mov, avi, mkv, ...) or a
folder of numbered images behind one interface, :class:`VideoReader`:

* ``len(reader)``, ``reader.fps``, ``reader.size``, ``reader.duration``;
* ``reader.times``: per-frame times in seconds from the stream's presentation timestamps
  (PTS), read by demuxing packets without decoding them, so variable frame rate is real;
* iteration yields :class:`Frame` objects (``index``, ``time``, ``image`` (H, W, 3) uint8
  RGB) from a single streaming decoder, never the whole video in memory;
* ``reader.batches(n)`` groups frames into :class:`FrameBatch` arrays;
* ``reader.read(i)`` / ``reader[i]`` / ``reader.read_at(t)``: random access by seeking to the
  nearest keyframe before the frame and decoding forward to its exact PTS;
* optional ``crop=(x0, y0, x1, y1)`` (source pixels) then ``size=(width, height)`` resize.

Damaged files fail loudly: a frame the decoder rejects, marks corrupt, or silently drops (its
PTS was demuxed but no picture came out) raises :class:`~ecoseg.errors.VideoError` naming the
file, the frame index and its time.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ecoseg._hashing import sha256_file
from ecoseg.errors import VideoError

__all__ = [
    "IMAGE_SUFFIXES",
    "Frame",
    "FrameBatch",
    "FrameIndexError",
    "ImageFolderReader",
    "VideoFileReader",
    "VideoReader",
    "open_video",
]

#: File name endings read as images when a folder is opened (compared case-insensitively).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})

_ATTACHED_PIC = 1024  # AV_DISPOSITION_ATTACHED_PIC: cover art, not footage
_RETIMED_FORMATS = frozenset({"mpeg", "mpegvideo", "vob", "dvd"})


class FrameIndexError(VideoError, IndexError):
    """A frame index or time lies outside the video."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame.

    Attributes
    ----------
    index : int
        Position of the frame in the video (0-based, presentation order).
    time : float
        Presentation time in seconds since the first frame.
    image : numpy.ndarray
        (H, W, 3) uint8 RGB pixels.

    Examples
    --------
    >>> import numpy as np
    >>> f = Frame(3, 0.1, np.zeros((48, 64, 3), np.uint8))
    >>> f.index, f.time, f.image.shape
    (3, 0.1, (48, 64, 3))
    """

    index: int
    time: float
    image: np.ndarray


@dataclass(frozen=True, eq=False)
class FrameBatch:
    """Consecutive frames stacked into arrays.

    Attributes
    ----------
    index : numpy.ndarray
        (B,) int64 frame indices.
    time : numpy.ndarray
        (B,) float64 times in seconds.
    images : numpy.ndarray
        (B, H, W, 3) uint8 RGB pixels.

    Examples
    --------
    >>> import numpy as np
    >>> b = FrameBatch(np.arange(2), np.array([0.0, 0.5]), np.zeros((2, 4, 4, 3), np.uint8))
    >>> len(b), [f.index for f in b]
    (2, [0, 1])
    """

    index: np.ndarray
    time: np.ndarray
    images: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self) -> Iterator[Frame]:
        for i in range(len(self.index)):
            yield Frame(int(self.index[i]), float(self.time[i]), self.images[i])


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------


def natural_key(name: str) -> tuple:
    """Sort key that orders the numbers inside file names by value (``f2`` before ``f10``).

    Examples
    --------
    >>> sorted(["f10.png", "f2.png", "f1.png"], key=natural_key)
    ['f1.png', 'f2.png', 'f10.png']
    """
    parts = re.split(r"(\d+)", name)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts), name


def missing_frame(names: Sequence[str]) -> tuple[str, str, str] | None:
    """The first gap in a zero-padded numbered image sequence, or None.

    Names such as ``frame_00017.png`` (one prefix, one suffix, numbers of one fixed width) are
    a frame export; a number the regular step skips means a frame is missing, which would
    shift every later frame's time. Names of other shapes are not checked.

    Returns
    -------
    tuple of str or None
        ``(missing_name, before, after)``: the first missing file name and its neighbours.

    Examples
    --------
    >>> missing_frame(["f_001.png", "f_002.png", "f_004.png"])
    ('f_003.png', 'f_002.png', 'f_004.png')
    >>> missing_frame(["img1.png", "img2.png", "img10.png"]) is None  # not zero padded
    True
    """
    parts = [re.fullmatch(r"(.*?)(\d+)(\.[^.]+)", name) for name in names]
    if len(names) < 3 or any(m is None for m in parts):
        return None
    if len({(m.group(1), m.group(3), len(m.group(2))) for m in parts}) != 1:
        return None
    if not any(len(m.group(2)) > 1 and m.group(2).startswith("0") for m in parts):
        return None  # no zero padding: not recognisably a frame export
    numbers = np.array([int(m.group(2)) for m in parts], dtype=np.int64)
    steps = np.diff(numbers)
    if (steps <= 0).any():
        return None
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    gaps = np.flatnonzero((steps != step) & (steps % step == 0))
    if gaps.size == 0:
        return None
    i = int(gaps[0])
    prefix, width, suffix = parts[i].group(1), len(parts[i].group(2)), parts[i].group(3)
    return f"{prefix}{numbers[i] + step:0{width}d}{suffix}", names[i], names[i + 1]


def _check_crop(crop, width: int, height: int, path: str) -> tuple[int, int, int, int] | None:
    if crop is None:
        return None
    try:
        x0, y0, x1, y1 = (_as_int(v) for v in crop)
    except (TypeError, ValueError):
        raise VideoError(
            f"{path}: bad crop {crop!r}; expected (x0, y0, x1, y1) integer pixel bounds"
        ) from None
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise VideoError(
            f"{path}: crop {(x0, y0, x1, y1)} lies outside the {width}x{height} frame "
            "or is empty (need 0 <= x0 < x1 <= width, 0 <= y0 < y1 <= height)"
        )
    return x0, y0, x1, y1


def _check_size(size, width: int, height: int, path: str) -> tuple[int, int] | None:
    """Validate ``size`` against the (cropped) source size; one side may be None (keep aspect)."""
    if size is None:
        return None
    bad = VideoError(
        f"{path}: bad size {size!r}; expected (width, height) of positive integers "
        "(one of them may be None to keep the aspect ratio)"
    )
    try:
        w, h = size
        w = None if w is None else _as_int(w)
        h = None if h is None else _as_int(h)
    except (TypeError, ValueError):
        raise bad from None
    if (w is None and h is None) or (w is not None and w <= 0) or (h is not None and h <= 0):
        raise bad
    if w is None:
        w = max(1, round(width * h / height))
    if h is None:
        h = max(1, round(height * w / width))
    return w, h


def _as_int(v) -> int:
    if isinstance(v, bool) or not float(v).is_integer():
        raise ValueError(v)
    return int(v)


def _positive_int(value, what: str) -> int:
    try:
        n = _as_int(value)
    except (TypeError, ValueError):
        n = 0
    if n <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return n


def _describe(e: BaseException) -> str:
    msg = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return " ".join(str(msg).split())


def _check_path(path) -> Path:
    p = Path(os.fspath(path)).expanduser()
    if not p.exists():
        raise VideoError(f"{p}: no such file or directory")
    if p.is_file():
        if not os.access(p, os.R_OK):
            raise VideoError(f"{p}: cannot read file (permission denied)")
        if p.stat().st_size == 0:
            raise VideoError(f"{p}: file is empty (0 bytes), not a video")
    return p


# --------------------------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------------------------


class VideoReader:
    """Frames of a video file or image folder, streamed, with true timestamps.

    Use :func:`open_video` to make one. Subclasses: :class:`VideoFileReader` (PyAV/FFmpeg) and
    :class:`ImageFolderReader`. A reader is not thread-safe; open one per thread.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp()
    >>> for i in range(3):
    ...     Image.fromarray(np.full((48, 64, 3), 40 * i, np.uint8)).save(f"{d}/f{i}.png")
    >>> with open_video(d, fps=10) as video:
    ...     print(len(video), video.size, [f.time for f in video])
    3 (64, 48) [0.0, 0.1, 0.2]
    """

    path: str

    def __init__(
        self,
        path: str,
        times: np.ndarray,
        fps: float,
        source_size: tuple[int, int],
        crop,
        size,
        duration: float,
    ) -> None:
        self.path = path
        self._times = np.asarray(times, dtype=np.float64)
        self._times.flags.writeable = False
        self._fps = float(fps)
        self._source_size = (int(source_size[0]), int(source_size[1]))
        self._crop = _check_crop(crop, *self._source_size, path)
        cw, ch = (
            (self._crop[2] - self._crop[0], self._crop[3] - self._crop[1])
            if self._crop
            else self._source_size
        )
        self._size = _check_size(size, cw, ch, path)
        self._out_size = self._size or (cw, ch)
        self._duration = float(duration)
        self._closed = False

    # -- metadata ------------------------------------------------------------------------------
    @property
    def fps(self) -> float:
        """Average frame rate (frames per second)."""
        return self._fps

    @property
    def width(self) -> int:
        """Width of the frames returned (after crop and resize)."""
        return self._out_size[0]

    @property
    def height(self) -> int:
        """Height of the frames returned (after crop and resize)."""
        return self._out_size[1]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames returned."""
        return self._out_size

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(n_frames, height, width, 3) of the video as delivered (uint8 RGB)."""
        return (len(self), self.height, self.width, 3)

    @property
    def source_size(self) -> tuple[int, int]:
        """(width, height) of the stored frames, before crop and resize."""
        return self._source_size

    @property
    def crop(self) -> tuple[int, int, int, int] | None:
        """Crop box (x0, y0, x1, y1) in source pixels, or None."""
        return self._crop

    @property
    def times(self) -> np.ndarray:
        """(n,) float64 read-only array of frame times in seconds since the first frame."""
        return self._times

    @property
    def duration(self) -> float:
        """Length of the video in seconds (last frame time plus its display duration)."""
        return self._duration

    def __len__(self) -> int:
        return len(self._times)

    # -- access --------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, start: int = 0, stop: int | None = None, step: int = 1) -> Iterator[Frame]:
        """Iterate frames ``start, start + step, ... < stop`` (slice semantics, negatives ok).

        Frames are decoded by one streaming decoder of their own, so other reads on this reader
        in the meantime do not disturb the iteration.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from PIL import Image
        >>> d = tempfile.mkdtemp()
        >>> for i in range(5):
        ...     Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(f"{d}/{i}.png")
        >>> [f.index for f in open_video(d).frames(1, None, 2)]
        [1, 3]
        """
        self._check_open()
        step = 1 if step is None else _positive_int(step, "step")
        return self._iter_indices(range(len(self))[slice(start, stop, step)])

    def batches(
        self, batch_size: int, start: int = 0, stop: int | None = None
    ) -> Iterator[FrameBatch]:
        """Iterate consecutive frames in :class:`FrameBatch` groups of ``batch_size``.

        The last batch may be shorter.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from PIL import Image
        >>> d = tempfile.mkdtemp()
        >>> for i in range(5):
        ...     Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(f"{d}/{i}.png")
        >>> [b.images.shape for b in open_video(d).batches(2)]
        [(2, 8, 8, 3), (2, 8, 8, 3), (1, 8, 8, 3)]
        """
        return self._iter_batches(_positive_int(batch_size, "batch_size"), start, stop)

    def _iter_batches(self, batch_size: int, start, stop) -> Iterator[FrameBatch]:
        group: list[Frame] = []
        for frame in self.frames(start, stop):
            group.append(frame)
            if len(group) == batch_size:
                yield _stack(group)
                group = []
        if group:
            yield _stack(group)

    def read(self, index: int) -> Frame:
        """Decode the frame at ``index`` (negative counts from the end).

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from PIL import Image
        >>> d = tempfile.mkdtemp()
        >>> for i in range(5):
        ...     Image.fromarray(np.full((8, 8, 3), 50 * i, np.uint8)).save(f"{d}/{i}.png")
        >>> int(open_video(d).read(-2).image[0, 0, 0])
        150
        """
        self._check_open()
        return self._read(self._normalize(index))

    def read_at(self, time: float) -> Frame:
        """The frame on screen at ``time`` seconds: the last frame whose time is <= ``time``.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from PIL import Image
        >>> d = tempfile.mkdtemp()
        >>> for i in range(5):
        ...     Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(f"{d}/{i}.png")
        >>> open_video(d, fps=10).read_at(0.25).index
        2
        """
        t = float(time)
        if not (math.isfinite(t) and 0.0 <= t < self._duration):
            raise FrameIndexError(
                f"{self.path}: time {time!r} s is outside the video [0, {self._duration:.3f}) s"
            )
        i = int(np.searchsorted(self._times, t, side="right")) - 1
        return self.read(max(i, 0))

    def __getitem__(self, index: int) -> Frame:
        return self.read(index)

    def _normalize(self, index) -> int:
        if isinstance(index, bool | float) or not isinstance(index, int | np.integer):
            raise TypeError(f"frame index must be an integer, got {type(index).__name__}")
        n = len(self)
        i = int(index) + n if index < 0 else int(index)
        if not 0 <= i < n:
            raise FrameIndexError(f"{self.path}: frame index {index} out of range ({n} frames)")
        return i

    def _frame_error(self, index: int, reason: str) -> VideoError:
        t = self._times[index] if 0 <= index < len(self._times) else float("nan")
        return VideoError(f"{self.path}: cannot decode frame {index} (t={t:.3f} s): {reason}")

    # -- lifecycle -----------------------------------------------------------------------------
    def sha256(self) -> str:
        """Hex sha256 of the source, streamed in blocks (for provenance).

        For a video file, the hash of the file; for an image folder, a hash over the sorted
        file names and their contents (renaming, reordering or editing a frame changes it).

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from PIL import Image
        >>> d = tempfile.mkdtemp()
        >>> Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(f"{d}/0.png")
        >>> len(open_video(d).sha256())
        64
        """
        return self._sha256()

    def close(self) -> None:
        """Release files and decoders; the reader cannot be used afterwards."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise VideoError(f"{self.path}: reader is closed")

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        extra = ""
        if self._crop:
            extra += f" crop={self._crop}"
        if self._size:
            sw, sh = self._source_size
            extra += f" from {sw}x{sh}"
        return (
            f"<{type(self).__name__} {self.path!r}: {len(self)} frames, "
            f"{self.width}x{self.height}{extra}, {self._fps:.3f} fps, {self._duration:.3f} s>"
        )

    # -- backend hooks -------------------------------------------------------------------------
    def _sha256(self) -> str:
        raise NotImplementedError

    def _iter_indices(self, indices: range) -> Iterator[Frame]:
        raise NotImplementedError

    def _read(self, index: int) -> Frame:
        raise NotImplementedError


def _stack(frames: Sequence[Frame]) -> FrameBatch:
    return FrameBatch(
        np.fromiter((f.index for f in frames), np.int64, len(frames)),
        np.fromiter((f.time for f in frames), np.float64, len(frames)),
        np.stack([f.image for f in frames]),
    )


# --------------------------------------------------------------------------------------------
# Video files (PyAV)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StreamIndex:
    """What demuxing (without decoding) tells about the video stream."""

    ts: np.ndarray  # (n,) sorted presentation timestamps, stream time base
    ts_to_index: dict[int, int] | None  # None: timestamps missing/duplicated -> count frames
    keyframes: np.ndarray  # (k,) sorted indices of keyframes
    times: np.ndarray  # (n,) seconds since the first frame
    fps: float
    duration: float


def _open_container(path: str):
    try:
        return av.open(path, metadata_errors="ignore")
    except PermissionError:
        raise VideoError(f"{path}: cannot read file (permission denied)") from None
    except av.FFmpegError as e:
        raise VideoError(f"{path}: not a readable video ({_describe(e)})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise VideoError(f"{path}: cannot open ({_describe(e)})") from None


def _video_stream(container, path: str):
    for stream in container.streams.video:
        if not int(stream.disposition or 0) & _ATTACHED_PIC:
            return stream
    raise VideoError(f"{path}: no video stream (streams: {_stream_kinds(container)})")


def _stream_kinds(container) -> str:
    kinds = [s.type for s in container.streams]
    return ", ".join(kinds) if kinds else "none"


def _scan(path: str, container, stream) -> _StreamIndex:
    """Demux every packet of ``stream`` (no decoding) and index their timestamps."""
    stamps: list[int | None] = []
    keys: list[bool] = []
    durations: list[int] = []
    corrupt: list[bool] = []
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or getattr(packet, "is_discard", False):
                continue
            stamps.append(packet.pts if packet.pts is not None else packet.dts)
            keys.append(packet.is_keyframe)
            durations.append(packet.duration or 0)
            corrupt.append(packet.is_corrupt)
    except av.FFmpegError as e:
        raise VideoError(
            f"{path}: cannot read packets after frame {len(stamps)} ({_describe(e)})"
        ) from None
    # A recording cut off mid-write ends in an incomplete packet: the video ends before it.
    # (Being last in decode order, no other frame can depend on it.)
    while corrupt and corrupt[-1]:
        for column in (stamps, keys, durations, corrupt):
            column.pop()
    n = len(stamps)
    if n == 0:
        raise VideoError(f"{path}: video stream has no frames")

    tb = stream.time_base
    declared = _declared_rate(stream)
    if None not in stamps and len(set(stamps)) == n:
        raw = np.asarray(stamps, dtype=np.int64)
        order = np.argsort(raw, kind="stable")
        ts = raw[order]
        rank = np.empty(n, np.int64)
        rank[order] = np.arange(n)
        keyframes = np.sort(rank[np.asarray(keys, bool)])
        ts_to_index = {int(t): i for i, t in enumerate(ts)}
        times = (ts - ts[0]).astype(np.float64) * float(tb) if tb else None
        last = durations[int(order[-1])] * float(tb) if tb else 0.0
    else:  # no usable timestamps (e.g. raw elementary streams): frames are counted
        ts = np.arange(n, dtype=np.int64)
        keyframes = np.flatnonzero(np.asarray(keys, bool))
        ts_to_index = None
        times = None
        last = 0.0
    if times is None:
        fps = declared or 30.0
        times = np.arange(n) / fps
        last = 1.0 / fps
    else:
        span = times[-1] - times[0]
        measured = (n - 1) / span if n > 1 and span > 0 else None
        if declared and (measured is None or abs(declared - measured) <= 0.01 * measured):
            fps = declared
        else:
            fps = measured or declared or (1.0 / last if last > 0 else 30.0)
        if not last > 0:
            last = float(np.median(np.diff(times))) if n > 1 else 1.0 / fps
    if len(keyframes) == 0 or keyframes[0] != 0:
        keyframes = np.concatenate([[0], keyframes]).astype(np.int64)
    return _StreamIndex(ts, ts_to_index, keyframes, times, float(fps), float(times[-1] + last))


def _declared_rate(stream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return None


class VideoFileReader(VideoReader):
    """A video file decoded with PyAV (FFmpeg). Use :func:`open_video` to make one.

    Examples
    --------
    >>> import tempfile, av, numpy as np
    >>> path = tempfile.mkdtemp() + "/clip.mp4"
    >>> with av.open(path, "w") as out:
    ...     s = out.add_stream("libx264", rate=30)
    ...     s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
    ...     for i in range(15):
    ...         img = np.full((48, 64, 3), 10 * i, np.uint8)
    ...         for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
    ...             out.mux(p)
    ...     for p in s.encode():
    ...         out.mux(p)
    >>> video = open_video(path, size=(32, 24))
    >>> len(video), video.fps, video.source_size, video.read(10).image.shape
    (15, 30.0, (64, 48), (24, 32, 3))
    >>> video.close()
    """

    def __init__(self, path, *, size=None, crop=None) -> None:
        p = str(_check_path(path))
        container = _open_container(p)
        try:
            stream = _video_stream(container, p)
            if stream.codec_context is None:  # FFmpeg knows no decoder for the stream's codec
                raise VideoError(
                    f"{p}: unsupported video codec (FFmpeg has no decoder for its video stream)"
                )
            self._stream_index = stream.index
            index = _scan(p, container, stream)
            source = (stream.codec_context.width, stream.codec_context.height)
            self.codec = stream.codec_context.name
            fmt = container.format.name
        finally:
            container.close()
        if source[0] <= 0 or source[1] <= 0:
            raise VideoError(f"{p}: video stream has no frame size (damaged header?)")
        self._index = index
        # Seeking by timestamp is trusted where timestamps come from the container, not from
        # a parser's interpolation (MPEG program streams re-time packets after a seek); a seek
        # that meets an unknown timestamp also turns it off. Otherwise: decode from the start.
        self._seekable = index.ts_to_index is not None and fmt not in _RETIMED_FORMATS
        super().__init__(p, index.times, index.fps, source, crop, size, index.duration)
        self._reader: _Decoder | None = None

    def _sha256(self) -> str:
        return sha256_file(self.path)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        super().close()

    def _read(self, index: int) -> Frame:
        if self._reader is None:
            self._reader = _Decoder(self)
        try:
            return self._reader.get(index)
        except BaseException:
            self._reader.close()
            self._reader = None
            raise

    def _iter_indices(self, indices: range) -> Iterator[Frame]:
        if len(indices) == 0:
            return
        decoder = _Decoder(self)
        try:
            for i in indices:
                yield decoder.get(i)
        finally:
            decoder.close()

    # -- conversion to RGB ---------------------------------------------------------------------
    def _converter(self, stream) -> _ToRGB:
        """Callable av.VideoFrame -> (H, W, 3) uint8 RGB applying crop and resize."""
        return _ToRGB(stream, self._crop, self._size)


class _ToRGB:
    """FFmpeg filter graph: [crop] -> [scale] -> rgb24, built for the first frame's format.

    A filter graph rather than ``VideoFrame.to_ndarray``: its output frames come from a
    buffer pool that is recycled once a caller drops an image, whereas a fresh allocation
    per frame makes the kernel map and zero new pages whenever the caller still holds the
    previous frame (measured at 720p: up to 1.5x the CPU time per frame). Same pixels.
    """

    def __init__(self, stream, crop, size) -> None:
        self._time_base = stream.time_base
        self._crop = crop
        self._size = size
        self._graph = None
        self._key = None

    def _build(self, frame) -> None:
        g = av.filter.Graph()
        chain = [
            g.add_buffer(
                width=frame.width,
                height=frame.height,
                format=frame.format.name,
                time_base=self._time_base,
            )
        ]
        width, height = frame.width, frame.height
        if self._crop is not None:
            x0, y0, x1, y1 = self._crop
            width, height = x1 - x0, y1 - y0
            # Crop in the decoder's pixel format when the offsets fall on whole chroma
            # samples; otherwise convert to RGB first so chroma stays aligned with luma.
            fmt = av.VideoFormat(frame.format.name, frame.width, frame.height)
            widths = [c.width for c in fmt.components if c.width] or [frame.width]
            heights = [c.height for c in fmt.components if c.height] or [frame.height]
            fx, fy = frame.width // min(widths), frame.height // min(heights)
            if not (fmt.is_rgb or (x0 % max(fx, 1) == 0 and y0 % max(fy, 1) == 0)):
                chain.append(g.add("format", "rgb24"))
            chain.append(g.add("crop", f"w={width}:h={height}:x={x0}:y={y0}:exact=1"))
        args = ""
        if self._size is not None:
            w, h = self._size
            flags = "area" if w <= width and h <= height else "bicubic"  # area: antialiased
            args = f"w={w}:h={h}:flags={flags}:"
        try:  # sliced across cores, as VideoFrame.reformat does (FFmpeg >= 5)
            chain.append(g.add("scale", args + "threads=0"))
        except (av.FFmpegError, ValueError):
            chain.append(g.add("scale", args.rstrip(":")))
        chain += [g.add("format", "rgb24"), g.add("buffersink")]
        for a, b in zip(chain[:-1], chain[1:]):
            a.link_to(b)
        g.configure()
        self._graph = g
        self._key = (frame.width, frame.height, frame.format.name)

    def __call__(self, frame) -> np.ndarray:
        if self._key != (frame.width, frame.height, frame.format.name):
            self._build(frame)
        self._graph.vpush(frame)
        return self._graph.vpull().to_ndarray(format="rgb24")


class _Overshoot(Exception):
    """The first frame after a seek lies beyond the target: seek earlier."""


class _Decoder:
    """One open container and decoder, positioned somewhere in the stream.

    ``get(i)`` decodes forward when frame ``i`` is ahead with no keyframe in between, and
    otherwise seeks to the keyframe at or before ``i`` (falling back to earlier keyframes and
    finally to the start of the file when a demuxer seeks imprecisely).
    """

    def __init__(self, reader: VideoFileReader, *, threads: bool = True) -> None:
        self._r = reader
        self._threads = threads
        self._container = None
        self._gen: Iterator[tuple[int, object]] | None = None
        self._next = 0  # index the running generator yields next
        self._expected = 0  # first index the running generator has not delivered
        self._fresh = True  # container positioned at the start, nothing demuxed yet
        self._open()
        self._convert = reader._converter(self._stream)

    def _open(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = _open_container(self._r.path)
        self._stream = self._container.streams[self._r._stream_index]
        self._stream.codec_context.thread_type = "AUTO" if self._threads else "NONE"
        self._fresh = True

    def close(self) -> None:
        self._gen = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def get(self, index: int) -> Frame:
        r = self._r
        kf = r._index.keyframes
        key_before = int(kf[np.searchsorted(kf, index, side="right") - 1])
        seek_ahead = r._seekable and key_before > self._next  # a keyframe lies in between
        if self._gen is None or index < self._next or seek_ahead:
            self._gen = self._run(index)
            self._next = index  # nothing before index will be yielded by this generator
        try:
            for i, frame in self._gen:
                self._next = i + 1
                if i == index:
                    return Frame(i, float(r._times[i]), self._convert(frame))
        except BaseException:
            self._gen = None
            raise
        self._gen = None
        raise r._frame_error(index, "frame missing from the decoder output (damaged data?)")

    # -- decoding ------------------------------------------------------------------------------
    def _candidates(self, target: int) -> Iterator[int | None]:
        """Keyframes to seek to for ``target``, nearest first; None means decode from the start."""
        r = self._r
        kf = r._index.keyframes
        k = int(np.searchsorted(kf, target, side="right")) - 1
        tried: list[int] = []
        for j in (k, k - 1, k - 4):
            if not r._seekable:  # checked lazily: a failed seek may have just disproved it
                break
            if j >= 0 and int(kf[j]) != 0 and int(kf[j]) not in tried:
                tried.append(int(kf[j]))
                yield int(kf[j])
        yield None

    def _position(self, keyframe: int | None) -> None:
        if keyframe is None:
            if not self._fresh:
                self._open()
            return
        ts = int(self._r._index.ts[keyframe])
        try:
            self._container.seek(ts, stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError:
            self._open()  # unseekable: decode from the start instead
        self._fresh = False

    def _run(self, target: int) -> Iterator[tuple[int, object]]:
        """Yield (index, av.VideoFrame) from ``target`` on, checked against the demuxed PTS."""
        r = self._r
        n = len(r)
        for keyframe in self._candidates(target):
            self._position(keyframe)
            floor = keyframe or 0
            synced = False
            self._expected = floor  # first index not yet delivered (for error messages)
            try:
                for i, frame in self._decoded():
                    if i is None:  # a timestamp the scan never saw
                        if keyframe is not None:
                            r._seekable = False  # the demuxer re-times packets after seeks
                            raise _Overshoot
                        i = self._expected
                    if i < floor:
                        continue
                    if not synced:
                        if i > target and keyframe is not None:
                            raise _Overshoot
                        synced = True
                        if keyframe is not None:
                            self._expected = i
                    if i < self._expected:  # a repeated timestamp: already delivered
                        continue
                    if i > self._expected:
                        raise r._frame_error(
                            self._expected,
                            "the decoder produced no picture for it (damaged data?)",
                        )
                    if frame.is_corrupt:
                        raise r._frame_error(i, "the decoder reported corrupt data")
                    self._expected = i + 1
                    yield i, frame
            except _Overshoot:
                if keyframe is None:
                    break
                continue
            if not synced and keyframe is not None:
                continue  # the seek landed past every frame >= floor: try earlier
            if self._expected < n:
                raise r._frame_error(
                    self._expected,
                    "the stream ended before this frame was decoded (truncated file?)",
                )
            return
        raise r._frame_error(target, "cannot seek to this frame")

    def _decoded(self) -> Iterator[tuple[int | None, object]]:
        """Demux and decode packets; map frames to indices (None: unknown timestamp).

        FFmpeg errors become VideoError naming the frame.
        """
        r = self._r
        ts_to_index = r._index.ts_to_index
        self._fresh = False
        packets = self._container.demux(self._stream)
        count = 0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError as e:
                raise r._frame_error(self._expected, f"cannot read data ({_describe(e)})") from None
            if packet.is_corrupt and packet.size and ts_to_index is not None:
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts not in ts_to_index:
                    continue  # the incomplete last packet of a cut-off file (see _scan)
            try:
                frames = packet.decode()
            except av.FFmpegError as e:
                index = self._locate_error(self._expected) if self._threads else None
                if index is None:
                    index = self._expected
                raise r._frame_error(index, _describe(e)) from None
            for frame in frames:
                if ts_to_index is None:
                    i = count
                else:
                    ts = frame.pts if frame.pts is not None else frame.dts
                    i = ts_to_index.get(ts) if ts is not None else None
                count += 1
                yield i, frame

    def _locate_error(self, first_missing: int) -> int | None:
        """Find the frame whose packet fails, decoding single-threaded from a keyframe.

        Frame-threaded decoders report an error some packets after the one that caused it;
        re-decoding without threads from the keyframe before ``first_missing`` pins it down.
        """
        r = self._r
        probe = _Decoder(r, threads=False)
        try:
            kf = r._index.keyframes
            keyframe = int(kf[np.searchsorted(kf, first_missing, side="right") - 1])
            probe._position(keyframe if keyframe > 0 and r._seekable else None)
            ts_to_index = r._index.ts_to_index
            for packet in probe._container.demux(probe._stream):
                try:
                    packet.decode()
                except av.FFmpegError:
                    ts = packet.pts if packet.pts is not None else packet.dts
                    if ts_to_index is None or ts is None:
                        return None
                    return ts_to_index.get(ts)
            return None
        except (av.FFmpegError, VideoError):
            return None
        finally:
            probe.close()


# --------------------------------------------------------------------------------------------
# Image folders
# --------------------------------------------------------------------------------------------


def _load_rgb8(path: str) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB (16-bit and float images are rescaled)."""
    from PIL import Image

    with Image.open(path) as img:
        if img.mode == "RGB":
            return np.array(img)
        if img.mode in ("1", "L", "P", "PA", "LA", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
            return np.array(img.convert("RGB"))
        a = np.asarray(img)
    if a.dtype.kind == "f":
        a = np.clip(np.nan_to_num(a), 0.0, 1.0) * 255.0 + 0.5
    elif a.dtype.itemsize > 1:
        a = np.clip(a, 0, 65535) >> 8
    a = a.astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a[:, :, :3])


def _image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.size
    except Exception as e:  # PIL raises many kinds for damaged files
        raise VideoError(f"{path}: not a readable image ({_describe(e)})") from None


class ImageFolderReader(VideoReader):
    """A folder of numbered images (PNG, JPEG, TIFF) read as a video.

    Files are ordered by the numbers in their names (natural sort: ``img2`` before ``img10``);
    frame ``i`` is at ``i / fps`` seconds. Use :func:`open_video` to make one.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp()
    >>> for i in (1, 2, 10):
    ...     Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(f"{d}/img{i}.png")
    >>> video = open_video(d, fps=2)
    >>> [Path(f).name for f in video.files], video.duration
    (['img1.png', 'img2.png', 'img10.png'], 1.5)
    """

    def __init__(self, path, *, size=None, crop=None, fps: float = 30.0) -> None:
        p = str(_check_path(path))
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            fps = float("nan")
        if not (math.isfinite(fps) and fps > 0):
            raise VideoError(f"{p}: bad fps {fps!r} for an image folder; expected a number > 0")
        names = sorted(
            (
                e.name
                for e in os.scandir(p)
                if e.is_file()
                and not e.name.startswith(".")
                and os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES
            ),
            key=natural_key,
        )
        if not names:
            kinds = "/".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
            raise VideoError(f"{p}: folder has no images ({kinds})")
        gap = missing_frame(names)
        if gap is not None:
            raise VideoError(
                f"{os.path.join(p, gap[0])}: frame missing from the numbered sequence (between "
                f"{gap[1]} and {gap[2]}); later frames would get wrong times"
            )
        self.files = [os.path.join(p, name) for name in names]
        source = _image_size(self.files[0])
        for f in self.files[1:]:
            if (s := _image_size(f)) != source:
                raise VideoError(
                    f"{f}: image is {s[0]}x{s[1]} but the folder's first image "
                    f"({names[0]}) is {source[0]}x{source[1]}; all images must have one size"
                )
        n = len(self.files)
        super().__init__(p, np.arange(n) / fps, fps, source, crop, size, n / fps)
        self._workers = max(1, min(4, os.cpu_count() or 1))

    def _sha256(self) -> str:
        h = hashlib.sha256()
        for f in self.files:
            name = os.path.basename(f).encode("utf-8", "surrogateescape")
            h.update(len(name).to_bytes(8, "little") + name)
            h.update(os.path.getsize(f).to_bytes(8, "little"))
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        return h.hexdigest()

    def _load(self, index: int) -> Frame:
        f = self.files[index]
        try:
            image = _load_rgb8(f)
        except Exception as e:  # PIL raises many kinds for damaged files
            raise VideoError(
                f"{f}: cannot decode frame {index} (t={self._times[index]:.3f} s): {_describe(e)}"
            ) from None
        if image.shape[1::-1] != self._source_size:
            sw, sh = self._source_size
            raise VideoError(f"{f}: image is {image.shape[1]}x{image.shape[0]}, expected {sw}x{sh}")
        if self._crop is not None:
            x0, y0, x1, y1 = self._crop
            image = image[y0:y1, x0:x1]
        if self._size is not None and image.shape[1::-1] != self._size:
            from PIL import Image

            # BOX = area averaging when shrinking (as FFmpeg's "area" for video files);
            # PIL's BILINEAR is antialiased too (its kernel widens with the scale factor).
            shrink = self._size[0] <= image.shape[1] and self._size[1] <= image.shape[0]
            resample = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
            image = np.array(Image.fromarray(image).resize(self._size, resample))
        return Frame(index, float(self._times[index]), image)

    def _read(self, index: int) -> Frame:
        return self._load(index)

    def _iter_indices(self, indices: range) -> Iterator[Frame]:
        if len(indices) <= 1 or self._workers == 1:
            for i in indices:
                yield self._load(i)
            return
        window = 2 * self._workers
        with ThreadPoolExecutor(self._workers, thread_name_prefix="ecoseg-images") as pool:
            pending: deque[Future] = deque()
            todo = iter(indices)
            try:
                for i in todo:
                    pending.append(pool.submit(self._load, i))
                    if len(pending) >= window:
                        break
                while pending:
                    frame = pending.popleft().result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending.append(pool.submit(self._load, nxt))
                    yield frame
            finally:
                for fut in pending:
                    fut.cancel()


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def open_video(
    path: str | os.PathLike,
    *,
    size: tuple[int | None, int | None] | None = None,
    crop: tuple[int, int, int, int] | None = None,
    fps: float | None = None,
) -> VideoReader:
    """Open a video file or a folder of numbered images for streaming frame access.

    Parameters
    ----------
    path : str or os.PathLike
        A video file (anything FFmpeg reads: mp4, mov, avi, mkv, ...) or a folder of numbered
        JPEG/PNG/TIFF images (ordered by the numbers in their names).
    size : (width, height), optional
        Resize frames to this size (antialiased). One side may be None to keep the aspect
        ratio. Applied after ``crop``.
    crop : (x0, y0, x1, y1), optional
        Keep only this box, in source pixels (x1, y1 exclusive).
    fps : float, optional
        Frame rate of an image folder (default 30). Video files take their timing from their
        timestamps, so it is refused for them.

    Returns
    -------
    VideoReader
        :class:`VideoFileReader` or :class:`ImageFolderReader`.

    Raises
    ------
    ecoseg.errors.VideoError
        Missing, unreadable, empty or non-video input, no video stream, zero frames, a folder
        without images or with images of different sizes, a crop outside the frame, a bad size.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp()
    >>> for i in range(4):
    ...     Image.fromarray(np.full((48, 64, 3), 60 * i, np.uint8)).save(f"{d}/{i}.jpg")
    >>> video = open_video(d, crop=(0, 0, 32, 48), size=(16, None), fps=25)
    >>> video.size, len(video), video[-1].time
    ((16, 24), 4, 0.12)
    """
    p = _check_path(path)
    if p.is_dir():
        return ImageFolderReader(p, size=size, crop=crop, fps=30.0 if fps is None else fps)
    if fps is not None:
        raise VideoError(
            f"{p}: fps= applies to image folders only; a video file is timed by its timestamps"
        )
    return VideoFileReader(p, size=size, crop=crop)
