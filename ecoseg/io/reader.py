"""The reader interface every source of frames shares, and the frames it yields.

:class:`VideoReader` holds what all sources have in common: metadata (``len``, ``fps``,
``size``, ``times``, ``duration``), crop and resize checking, iteration, batches, random access
by index or time, hashing for provenance and the context manager. The sources fill in three
hooks: :class:`~ecoseg.io.videofile.VideoFileReader` (PyAV) and
:class:`~ecoseg.io.folder.ImageFolderReader`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ecoseg._bundled import bundled_name
from ecoseg._checks import frame_range, positive_int, short_repr, whole_number
from ecoseg.errors import VideoError

__all__ = ["Frame", "FrameBatch", "FrameIndexError", "VideoReader"]


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
    >>> f
    Frame(index=3, time=0.100 s, image=(48, 64, 3) uint8)
    """

    index: int
    time: float
    image: np.ndarray

    def __repr__(self) -> str:  # the image's shape, not its pixels (a wall in a notebook)
        image = getattr(self.image, "shape", None), getattr(self.image, "dtype", "")
        return f"Frame(index={self.index}, time={self.time:.3f} s, image={image[0]} {image[1]})"


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


def _check_crop(crop, width: int, height: int, path: str) -> tuple[int, int, int, int] | None:
    if crop is None:
        return None
    try:
        x0, y0, x1, y1 = (whole_number(v) for v in crop)
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
        w = None if w is None else whole_number(w)
        h = None if h is None else whole_number(h)
    except (TypeError, ValueError):
        raise bad from None
    if (w is None and h is None) or (w is not None and w <= 0) or (h is not None and h <= 0):
        raise bad
    if w is None:
        w = max(1, round(width * h / height))
    if h is None:
        h = max(1, round(height * w / width))
    return w, h


class VideoReader:
    """Frames of a video file or image folder, streamed, with true timestamps.

    Use :func:`open_video` to make one. Subclasses: :class:`VideoFileReader` (PyAV/FFmpeg) and
    :class:`ImageFolderReader`. A reader is not thread-safe; open one per thread.

    Examples
    --------
    >>> from ecoseg.io import open_video
    >>> from ecoseg.sample import sample
    >>> with open_video(sample().video) as video:  # the bundled 5 s reef clip
    ...     print(len(video), video.size, video.fps, [f.time for f in video.frames(0, 3)])
    150 (640, 360) 30.0 [0.0, 0.03333333333333333, 0.06666666666666667]
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
        >>> from ecoseg.io import open_video
        >>> from ecoseg.sample import sample
        >>> [f.index for f in open_video(sample().video).frames(-5, None, 2)]
        [145, 147, 149]
        """
        self._check_open()
        step = 1 if step is None else positive_int(step, "step")
        return self._iter_indices(range(*frame_range(start, stop, len(self)), step))

    def batches(
        self, batch_size: int, start: int = 0, stop: int | None = None
    ) -> Iterator[FrameBatch]:
        """Iterate consecutive frames in :class:`FrameBatch` groups of ``batch_size``.

        The last batch may be shorter.

        Examples
        --------
        >>> from ecoseg.io import open_video
        >>> from ecoseg.sample import sample
        >>> [b.images.shape for b in open_video(sample().video).batches(2, start=145)]
        [(2, 360, 640, 3), (2, 360, 640, 3), (1, 360, 640, 3)]
        """
        return self._iter_batches(positive_int(batch_size, "batch_size"), start, stop)

    def _iter_batches(self, batch_size: int, start, stop) -> Iterator[FrameBatch]:
        group: list[Frame] = []
        for frame in self.frames(start, stop):
            group.append(frame)
            if len(group) == batch_size:
                yield stack_frames(group)
                group = []
        if group:
            yield stack_frames(group)

    def read(self, index: int) -> Frame:
        """Decode the frame at ``index`` (negative counts from the end).

        Examples
        --------
        >>> from ecoseg.io import open_video
        >>> from ecoseg.sample import sample
        >>> frame = open_video(sample().video).read(-2)
        >>> frame.index, round(frame.time, 3), frame.image.shape
        (148, 4.933, (360, 640, 3))
        """
        self._check_open()
        return self._read(self._normalize(index))

    def read_at(self, time: float) -> Frame:
        """The frame on screen at ``time`` seconds: the last frame whose time is <= ``time``.

        Examples
        --------
        >>> from ecoseg.io import open_video
        >>> from ecoseg.sample import sample
        >>> open_video(sample().video).read_at(0.25).index  # 30 fps: frame 7 from 0.2333 s
        7
        """
        if isinstance(time, bool) or not isinstance(time, int | float | np.number):
            raise TypeError(f"read_at: time must be a number of seconds, got {time!r}")
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
        try:
            index = whole_number(index)  # the one rule for a frame number (2.0 from pandas)
        except ValueError:
            hint = ""
            if isinstance(index, slice):  # video[2:4]
                bounds = [0 if index.start is None else index.start, index.stop, index.step]
                bounds = ", ".join(repr(b) for b in bounds[: 2 + (index.step is not None)])
                hint = f" (a range of frames is video.frames({bounds}))"
            raise TypeError(
                f"frame index must be a whole frame number, got {short_repr(index)}{hint}"
            ) from None
        n = len(self)
        i = index + n if index < 0 else index
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
        A source of 8 MiB or more is read once and then recognised by its files' size, mtime,
        ctime and inode (:func:`ecoseg._hashing.cached_digest`, kept across runs in the user
        cache dir; ``ECOSEG_HASH_CACHE`` names another file, or none when set empty).

        Examples
        --------
        >>> from ecoseg.io import open_video
        >>> from ecoseg.sample import sample
        >>> len(open_video(sample().video).sha256())
        64
        """
        return self._sha256()

    def record(self) -> dict:
        """The video as a store's provenance records it: path, sha256, fps, size and frame
        count (reads the whole source once, for the sha256). The bundled sample clip is
        recorded by its name, ``ecoseg:sample/video.mp4`` (:func:`ecoseg._bundled.bundled_name`;
        its path is of this machine only), which every command that takes a video takes.

        Examples
        --------
        >>> from ecoseg.io import open_video
        >>> from ecoseg.sample import sample
        >>> r = open_video(sample().video).record()
        >>> r["path"], r["fps"], r["width"], r["height"], r["frames"], len(r["sha256"])
        ('ecoseg:sample/video.mp4', 30.0, 640, 360, 150, 64)
        """
        return {
            "path": bundled_name(self.path) or str(self.path),
            "sha256": self.sha256(),
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "frames": len(self),
        }

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


def stack_frames(frames: Sequence[Frame]) -> FrameBatch:
    return FrameBatch(
        np.fromiter((f.index for f in frames), np.int64, len(frames)),
        np.fromiter((f.time for f in frames), np.float64, len(frames)),
        np.stack([f.image for f in frames]),
    )
