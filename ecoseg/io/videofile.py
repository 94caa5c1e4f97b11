"""Video files decoded with PyAV (FFmpeg): the reader and its decode path.

:class:`VideoFileReader` indexes the stream once (:func:`~ecoseg.io._pyav.scan`; the same
pass over the packets decodes the first picture, :class:`_FirstPicture`) and decodes on
demand. The decode path, in order: :class:`_Decoder` demuxes and decodes packets, maps each
picture to its frame index by PTS and seeks to keyframes for random access; :class:`_ToRGB`
turns a decoded ``av.VideoFrame`` into the (H, W, 3) uint8 RGB image (crop, then resize) in
one FFmpeg filter graph. A per-frame pixel transform belongs in :class:`_ToRGB`.
"""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

from ecoseg._hashing import cached_sha256_file
from ecoseg._warn import warn
from ecoseg.errors import VideoError
from ecoseg.io._common import check_path, describe_error, release_freed_memory
from ecoseg.io._pyav import (
    RETIMED_FORMATS,
    PixelAspectWarning,
    TruncatedVideoWarning,
    VideoTimingWarning,
    VideoWarning,
    open_container,
    pixel_aspect,
    scan,
    video_stream,
)
from ecoseg.io.reader import Frame, VideoReader
from ecoseg.io.rotation import TURN_FILTERS, upright_turns

__all__ = ["SEEK_THREADS", "STREAM_THREADS", "VideoFileReader", "probe_file"]

#: FFmpeg threading of the decoder that streams frames in order (``frames``, ``batches``:
#: segment, batch, napari's Segment & track): frame and slice threads.
STREAM_THREADS = "AUTO"
#: FFmpeg threading of the decoder that reads frames by index (``read``, ``read_at``, ``[i]``:
#: the report's still and sample frames, napari's frames and thumbnails): slice threads only.
#: A frame-threaded decoder holds a picture and a decoding context per thread (cores + 1 of
#: them, at most 16) and hands out a picture only after the next few are under way, so a
#: seek decoded that many frames more and a 4K read held that many 12 MB pictures more, in
#: memory its threads allocated and the process kept after it let them go (4 reads of a 4K
#: H.264 clip: 191 MB peak RSS on 2 cores, 528 MB with 16 threads; 139 MB with slice
#: threads, docs/scale.md). Same pixels either way. Reads in order (napari playing) of a
#: stream of one slice a picture run on one thread.
SEEK_THREADS = "SLICE"


class VideoFileReader(VideoReader):
    """A video file decoded with PyAV (FFmpeg). Use :func:`open_video` to make one.

    Footage with a display matrix (phones, action cameras) is turned upright as players show
    it (:mod:`ecoseg.io.rotation`): sizes, crops and images are in upright pixels;
    ``turns`` holds the clockwise quarter turns applied.

    Examples
    --------
    >>> from ecoseg.io import open_video
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
        p, container, stream = _opened(path)
        try:
            self._stream_index = stream.index
            header = _header_size(stream)  # (before the decoder, which sets it, has run)
            self.codec = stream.codec_context.name
            aspect = pixel_aspect(stream)
            fmt = container.format.name
            # one pass over the packets indexes them and decodes the first picture
            first = _FirstPicture(container, stream)
            index = scan(p, container, stream, first)
            source = _frame_size(p, header)
        finally:
            container.close()
        # a display matrix (phones, action cameras): frames are turned upright when decoded;
        # the first picture's size is the video's (demuxing may leave the header at a later
        # part's size when recordings of different sizes were joined)
        rotation, interlaced = first.rotation, first.interlaced
        source = first.size or source
        #: (width, height) of the decoded pictures, before any turn
        self._stored = source
        self.turns = upright_turns(rotation)
        #: the pictures are interlaced (two fields a frame); read as whole frames
        self.interlaced = interlaced
        if interlaced:
            warn(
                f"{p}: interlaced (two fields a frame, as 1080i/576i cameras record): ecoseg "
                "reads whole frames without deinterlacing, so moving animals show combing and "
                "frayed mask edges; deinterlace it first (e.g. ffmpeg -vf bwdif) for cleaner "
                "masks",
                VideoWarning,
            )
        if self.turns % 2:
            source = (source[1], source[0])
            aspect = 1 / aspect
        #: width over height of one source pixel (upright); 1 for square pixels
        self.pixel_aspect = aspect
        self._index = index
        #: the stream time (s) of frame 0; ``times`` count from it (0 s at frame 0)
        self.stream_start = index.start
        if index.timing_note is not None:
            warn(index.timing_note, VideoTimingWarning)
        if index.cut_note is not None:
            warn(index.cut_note, TruncatedVideoWarning)
        # Seeking by timestamp is trusted where timestamps come from the container, not from
        # a parser's interpolation (MPEG program streams re-time packets after a seek); a seek
        # that meets an unknown timestamp also turns it off. Otherwise: decode from the start.
        self._seekable = index.ts_to_index is not None and fmt not in RETIMED_FORMATS
        super().__init__(p, index.times, index.fps, source, crop, size, index.duration)
        self._reader: _Decoder | None = None
        if aspect != 1:
            shown = (max(1, round(source[0] * aspect)), source[1])
            even = max(2, 2 * round(source[0] * aspect / 2))  # codecs want an even width
            warn(
                f"{p}: pixels are not square (aspect {aspect.numerator}:{aspect.denominator}): "
                f"players show it {shown[0]}x{shown[1]}, ecoseg keeps the stored "
                f"{source[0]}x{source[1]} pixels, so a pixel spans another distance across "
                f"than down; for square pixels segment a copy scaled to {even}x{source[1]} "
                f"(ffmpeg -i IN -vf scale={even}:{source[1]},setsar=1 OUT), which report, "
                "napari and info then show with the store",
                PixelAspectWarning,
            )

    def record(self) -> dict:
        """:meth:`VideoReader.record`, plus what was done to show the stream as players do:
        ``start_s`` (the stream time of frame 0, which ecoseg times as 0 s: add it to
        compare with a player or a logger that uses the stream's clock), ``upright_turns``
        (display matrix), ``interlaced``, ``pixel_aspect`` (``[num, den]``, non-square
        source pixels), ``timing`` (how times were made when the timestamps jump back or
        repeat) and ``truncated`` (the file ends before its index), each only when it
        applies."""
        extra: dict = {}
        if self.turns:
            extra["upright_turns"] = self.turns
        if self.interlaced:
            extra["interlaced"] = True
        if self.pixel_aspect != 1:
            extra["pixel_aspect"] = [self.pixel_aspect.numerator, self.pixel_aspect.denominator]
        if self._index.timing_note is not None:
            extra["timing"] = self._index.timing_note
        if self._index.cut_note is not None:
            extra["truncated"] = self._index.cut_note
        if self._index.start:
            extra["start_s"] = self._index.start
        return {**super().record(), **extra}

    def _sha256(self) -> str:
        return cached_sha256_file(self.path)

    def close(self) -> None:
        self._drop_decoder()
        super().close()

    def _drop_decoder(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None  # (its codec context goes with its last reference)
            release_freed_memory()  # its pictures and contexts, which glibc would keep

    def _read(self, index: int) -> Frame:
        if self._reader is None:
            self._reader = _Decoder(self, threads=SEEK_THREADS)
        try:
            return self._reader.get(index)
        except BaseException:
            self._drop_decoder()
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
            del decoder
            release_freed_memory()

    # -- conversion to RGB ---------------------------------------------------------------------
    def _converter(self, stream) -> _ToRGB:
        """Callable av.VideoFrame -> (H, W, 3) uint8 RGB applying crop and resize."""
        return _ToRGB(stream, self._crop, self._size, self.turns)


def probe_file(path) -> tuple[int, int]:
    """Check cheaply that a video file opens: its container and header, a video stream FFmpeg
    has a decoder for, a frame size, and a first frame that decodes.

    What :class:`VideoFileReader` refuses when it opens a file, less what only its index of
    every packet finds (a packet that cannot be read mid-file): no packet past the first
    frame is read, so it takes milliseconds however long the file (``ecoseg study --check``).

    Returns
    -------
    (height, width) : tuple of int
        The shape of the frames :class:`VideoFileReader` decodes (``frame.image.shape[:2]``,
        no crop or resize): the first picture's, turned upright by its display matrix
        (:mod:`ecoseg.io.rotation`) as the reader turns it.

    Raises
    ------
    ecoseg.errors.VideoError
        Missing, unreadable or cut-off file (an MP4 whose index was never written), no video
        stream, no decoder, no frame size, or a first frame that does not decode; one line
        naming the file.

    Examples
    --------
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/cut.mp4"
    >>> _ = open(path, "wb").write(b"\\x00\\x00\\x00\\x0cftypisom" + bytes(20))
    >>> probe_file(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.VideoError: .../cut.mp4: not a readable video (...)
    """
    p, container, stream = _opened(path)
    try:
        _frame_size(p, _header_size(stream))
        try:
            first = next(container.decode(stream), None)
        except (av.FFmpegError, OSError) as e:
            raise VideoError(
                f"{p}: its first frame does not decode ({describe_error(e)})"
            ) from None
        if first is None:
            raise VideoError(f"{p}: video stream has no frames")
        shape = (first.height, first.width)  # as VideoFileReader turns it (_FirstPicture)
        return shape[::-1] if upright_turns(getattr(first, "rotation", 0) or 0) % 2 else shape
    finally:
        container.close()


def _opened(path) -> tuple[str, av.container.InputContainer, av.video.stream.VideoStream]:
    """The checks :class:`VideoFileReader` and :func:`probe_file` both make when they open a
    file: a path that is there, a container FFmpeg opens, a video stream of footage, and a
    decoder FFmpeg has for it. Returns the path as text, the open container (the caller
    closes it) and the stream; the frame size is :func:`_frame_size`'s (after the reader's
    index of packets, whose refusals come first)."""
    p = str(check_path(path))
    container = open_container(p)
    try:
        stream = video_stream(container, p)
        if stream.codec_context is None:  # FFmpeg knows no decoder for the stream's codec
            raise VideoError(
                f"{p}: unsupported video codec (FFmpeg has no decoder for its video stream)"
            )
    except BaseException:
        container.close()
        raise
    return p, container, stream


def _header_size(stream) -> tuple[int, int]:
    """(width, height) of the stream's header: its codec context's before anything decodes."""
    return stream.codec_context.width, stream.codec_context.height


def _frame_size(path: str, size: tuple[int, int]) -> tuple[int, int]:
    """``size`` (the header's, :func:`_header_size`); refused when the header gives none."""
    if size[0] <= 0 or size[1] <= 0:
        raise VideoError(f"{path}: video stream has no frame size (damaged header?)")
    return size


class _FirstPicture:
    """The packets of ``stream`` as demuxed (:func:`~ecoseg.io._pyav.scan` indexes them), each
    then decoded by the stream's decoder, as ``container.decode(stream)`` of a fresh open
    does, until the first picture comes out: its display-matrix ``rotation`` (0 if none),
    ``size`` (width, height; None when nothing decodes) and whether it is ``interlaced``.
    A packet that does not decode stops the decoding, not the index (the decoder reports it
    where frames are read)."""

    def __init__(self, container, stream) -> None:
        self._packets = container.demux(stream)
        self.rotation, self.size, self.interlaced = 0.0, None, False

    def __iter__(self):
        decoding = True
        for packet in self._packets:
            yield packet  # (indexed before it is decoded)
            if decoding:
                decoding = self._decode(packet)

    def _decode(self, packet) -> bool:
        """Decode ``packet`` (a flush packet at the end); whether to decode the next one."""
        try:
            for frame in packet.decode():
                self.rotation = float(getattr(frame, "rotation", 0) or 0)
                self.interlaced = bool(getattr(frame, "interlaced_frame", False))
                self.size = (frame.width, frame.height)
                return False
        except av.FFmpegError:
            return False
        return True


def _size_change(frame, stored: tuple[int, int]) -> str:
    """Why a picture of another size than the first is refused, for the frame error."""
    return (
        f"its picture is {frame.width}x{frame.height}, the video's first "
        f"{stored[0]}x{stored[1]}: the size changes mid-stream (recordings of different sizes "
        "joined?); split the file where it changes"
    )


class _ToRGB:
    """FFmpeg filter graph: [crop] -> [scale] -> rgb24, built for the first frame's format.

    A filter graph rather than ``VideoFrame.to_ndarray``: its output frames come from a
    buffer pool that is recycled once a caller drops an image, whereas a fresh allocation
    per frame makes the kernel map and zero new pages whenever the caller still holds the
    previous frame (measured at 720p: up to 1.5x the CPU time per frame). Same pixels.
    """

    def __init__(self, stream, crop, size, turns: int = 0) -> None:
        self._time_base = stream.time_base
        self._turns = turns
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
        upright = False
        if self._turns:  # in RGB, so chroma subsampling needs no thought, then turned
            chain.append(g.add("format", "rgb24"))
            chain += [g.add(name, args) for name, args in TURN_FILTERS[self._turns]]
            if self._turns % 2:
                width, height = height, width
            upright = True
        if self._crop is not None:
            x0, y0, x1, y1 = self._crop
            width, height = x1 - x0, y1 - y0
            # Crop in the decoder's pixel format when the offsets fall on whole chroma
            # samples and the frame holds whole chroma samples (an odd-sized 4:2:0 frame
            # does not: its chroma would be resampled at another ratio); otherwise convert
            # to RGB first so chroma stays aligned with luma.
            fmt = av.VideoFormat(frame.format.name, frame.width, frame.height)
            widths = [c.width for c in fmt.components if c.width] or [frame.width]
            heights = [c.height for c in fmt.components if c.height] or [frame.height]
            fx, fy = -(-frame.width // min(widths)), -(-frame.height // min(heights))
            whole = frame.width % fx == 0 and frame.height % fy == 0
            if not (upright or fmt.is_rgb or (whole and x0 % fx == 0 and y0 % fy == 0)):
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

    def __init__(self, reader: VideoFileReader, *, threads: str = STREAM_THREADS) -> None:
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
        self._container = open_container(self._r.path)
        self._stream = self._container.streams[self._r._stream_index]
        self._stream.codec_context.thread_type = self._threads
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
                    if (frame.width, frame.height) != r._stored:
                        raise r._frame_error(i, _size_change(frame, r._stored))
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
                raise r._frame_error(
                    self._expected, f"cannot read data ({describe_error(e)})"
                ) from None
            if packet.is_corrupt and packet.size and ts_to_index is not None:
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts not in ts_to_index:
                    continue  # the incomplete last packet of a cut-off file (see scan)
            try:
                frames = packet.decode()
            except av.FFmpegError as e:
                index = self._locate_error(self._expected) if self._threads != "NONE" else None
                if index is None:
                    index = self._expected
                raise r._frame_error(index, describe_error(e)) from None
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
        probe = _Decoder(r, threads="NONE")
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
