"""PyAV (FFmpeg) helpers: open a container, pick the video stream, index its packets.

:func:`scan` demuxes every packet of the stream without decoding it, so the frame times come
from the true presentation timestamps (variable frame rate is real) and the keyframes are known
for seeking.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction

import av
import numpy as np

from ecoseg._warn import warn
from ecoseg.errors import VideoError
from ecoseg.io._common import DEFAULT_FPS, describe_error

__all__ = [
    "ATTACHED_PIC",
    "PixelAspectWarning",
    "TruncatedVideoWarning",
    "VideoTimingWarning",
    "VideoWarning",
    "RETIMED_FORMATS",
    "StreamIndex",
    "declared_rate",
    "MISSING_INDEX",
    "mp4_without_index",
    "open_container",
    "pixel_aspect",
    "scan",
    "stream_kinds",
    "video_stream",
]

ATTACHED_PIC = 1024  # AV_DISPOSITION_ATTACHED_PIC: cover art, not footage
RETIMED_FORMATS = frozenset({"mpeg", "mpegvideo", "vob", "dvd"})
WRAPPING_FORMATS = frozenset({"mpegts", "mpeg", "vob", "dvd"})  # 33-bit timestamps
WRAP_TICKS = 1 << 33
WRAP_GAP_S = 60.0  # longest step across a timestamp wrap taken as the clock running on


class VideoWarning(UserWarning):
    """Something about a video file the user should know: ecoseg read it, in a way the
    message names (the base of the warnings below)."""


class VideoTimingWarning(VideoWarning):
    """A video's timestamps jump back or repeat, so ecoseg times its frames another way.

    The message names the file, the frame where it happens and how the times were made.
    """


class TruncatedVideoWarning(VideoWarning):
    """A video file ends before its own index does: a recording or copy cut off. The frames
    present are read; the message names where it breaks."""


class PixelAspectWarning(VideoWarning):
    """A video's pixels are not square: players stretch it, ecoseg keeps the stored pixels."""


@dataclass(frozen=True)
class StreamIndex:
    """What demuxing (without decoding) tells about the video stream."""

    ts: np.ndarray  # (n,) sorted presentation timestamps, stream time base
    ts_to_index: dict[int, int] | None  # None: timestamps missing/duplicated -> count frames
    keyframes: np.ndarray  # (k,) sorted indices of keyframes
    times: np.ndarray  # (n,) seconds since the first frame
    fps: float
    duration: float
    timing_note: str | None = None  # how the times were made when the timestamps fail
    cut_note: str | None = None  # the file ends before its index says
    start: float = 0.0  # stream time (s) of frame 0, which ecoseg times as 0


def open_container(path: str):
    """``av.open(path)``; failures become VideoError naming the file, and so does a text
    file, which FFmpeg's ``tty`` demuxer would draw as ANSI art (a MOT ``gt.txt`` given as
    the video made a store of 5 frames of its characters)."""
    try:
        container = av.open(path, metadata_errors="ignore")
        if container.format.name == "tty":
            container.close()
            raise VideoError(
                f"{path}: a text file, not a video (an annotation file given as the video?)"
            )
        return container
    except PermissionError:
        raise VideoError(f"{path}: cannot read file (permission denied)") from None
    except av.FFmpegError as e:
        why = MISSING_INDEX if mp4_without_index(path) else describe_error(e)
        raise VideoError(f"{path}: not a readable video ({why})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise VideoError(f"{path}: cannot open ({describe_error(e)})") from None


MISSING_INDEX = (
    "its MP4/MOV index, the moov box, is missing: the recording or copy was cut off before "
    "the file was finished, and no frame can be found without it; recovery tools rebuild it "
    "from a good clip of the same camera"
)


def mp4_without_index(path: str) -> bool:
    """Whether ``path`` is an MP4/MOV file whose top-level boxes hold media but no index.

    Cameras write the index (``moov``) after the media (``mdat``), so a recording or copy cut
    off early has none. Only the box headers are read.

    Examples
    --------
    >>> import tempfile, struct
    >>> path = tempfile.mkdtemp() + "/cut.mp4"
    >>> box = lambda kind, body: struct.pack(">I", 8 + len(body)) + kind + body
    >>> _ = open(path, "wb").write(box(b"ftyp", b"isom" * 2) + box(b"mdat", bytes(64))[:40])
    >>> mp4_without_index(path)
    True
    """
    kinds = set()
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            at = 0
            while at + 8 <= size and len(kinds) < 64:
                f.seek(at)
                head = f.read(16)
                length, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if length == 1 and len(head) == 16:
                    length = int.from_bytes(head[8:16], "big")
                elif length == 0:
                    length = size - at  # to the end of the file
                if length < 8 or not kind.isascii():
                    break
                kinds.add(kind)
                at += length
    except OSError:
        return False
    return b"ftyp" in kinds and b"mdat" in kinds and b"moov" not in kinds


def video_stream(container, path: str):
    """The first video stream that is footage (not cover art).

    More than one (a 360 camera's two lenses, a recorder's picture-in-picture) gives a
    :class:`VideoWarning` naming the one read and the others.
    """
    footage = [s for s in container.streams.video if not int(s.disposition or 0) & ATTACHED_PIC]
    if not footage:
        raise VideoError(f"{path}: no video stream (streams: {stream_kinds(container)})")
    if len(footage) > 1:
        warn(
            f"{path}: {len(footage)} video streams; ecoseg reads the first "
            f"({_stream_text(footage[0])}), not {', '.join(map(_stream_text, footage[1:]))}",
            VideoWarning,
        )
    return footage[0]


def _stream_text(stream) -> str:
    """``"#1, 1920x1080 h264"`` for messages."""
    ctx = stream.codec_context
    size = f"{ctx.width}x{ctx.height} " if ctx is not None and ctx.width else ""
    return f"#{stream.index}, {size}{ctx.name if ctx is not None else 'unknown codec'}"


def stream_kinds(container) -> str:
    """The kinds of the container's streams, for messages (``"audio, data"``)."""
    kinds = [s.type for s in container.streams]
    return ", ".join(kinds) if kinds else "none"


def scan(path: str, container, stream, packets: Iterable | None = None) -> StreamIndex:
    """Demux every packet of ``stream`` (no decoding) and index their timestamps.

    ``packets`` are ``container.demux(stream)`` (the default) passed on by the caller, which
    may decode some of them once indexed (the reader's first picture, in the same open)."""
    stamps: list[int | None] = []
    decode_ts: list[int | None] = []
    keys: list[bool] = []
    durations: list[int] = []
    corrupt: list[bool] = []
    discarded = 0  # whole packets an edit list leaves out: frames of the file, not shown
    try:
        for packet in container.demux(stream) if packets is None else packets:
            if packet.size and getattr(packet, "is_discard", False) and not packet.is_corrupt:
                discarded += 1
            if packet.size == 0 or getattr(packet, "is_discard", False):
                continue
            stamps.append(packet.pts if packet.pts is not None else packet.dts)
            decode_ts.append(packet.dts)
            keys.append(packet.is_keyframe)
            durations.append(packet.duration or 0)
            corrupt.append(packet.is_corrupt)
    except av.FFmpegError as e:
        raise VideoError(
            f"{path}: cannot read packets after frame {len(stamps)} ({describe_error(e)})"
        ) from None
    # A recording cut off mid-write ends in an incomplete packet: the video ends before it.
    # (Being last in decode order, no other frame can depend on it.)
    while corrupt and corrupt[-1]:
        for column in (stamps, decode_ts, keys, durations, corrupt):
            column.pop()
    n = len(stamps)
    if n == 0:
        raise VideoError(f"{path}: video stream has no frames")

    if all(t is None for t in decode_ts):  # no decode times at all: presentation order
        decode_ts = list(stamps)
    # Otherwise a packet without one is left out of the checks on decode order: a Matroska
    # demuxer leaves the first packets of a stream with B-frames without (their decode times
    # are not stored), and their presentation times, which run ahead, looked like a jump back.
    tb = stream.time_base
    declared = declared_rate(stream)
    if set(container.format.name.split(",")) & WRAPPING_FORMATS and tb:
        decode_ts, stamps = _restarts_not_wraps(decode_ts, stamps, float(tb))
    jumps = _jumps_back(decode_ts)
    if jumps and None not in stamps:
        index = _joined(path, stamps, decode_ts, keys, durations, jumps, tb, declared)
    else:
        index = _timed(path, stamps, keys, durations, tb, declared)
    promised = int(stream.frames or 0)  # the container's own count (an MP4/MOV index)
    if promised > n + discarded:
        t = index.times[-1]
        cut = (
            f"{path}: the file ends before its index does: {n} of {promised} frames are "
            f"present (cut off after frame {n - 1}, t={t:.3f} s: a recording or copy that "
            "stopped early?); the frames present are read"
        )
        index = replace(index, cut_note=cut)
    return index


def _timed(path, stamps, keys, durations, tb, declared) -> StreamIndex:
    """Index of a stream timed by its own timestamps (or counted when they fail)."""
    n = len(stamps)
    note = None
    if None not in stamps and len(set(stamps)) < n:
        seen: set[int] = set()
        first = next(i for i, t in enumerate(stamps) if t in seen or seen.add(t))
        note = (
            f"{path}: timestamps repeat (frame {first} has the time of an earlier one); "
            f"frames are counted in file order and timed at {declared or DEFAULT_FPS:g} fps"
        )
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
        fps = declared or DEFAULT_FPS
        times = np.arange(n) / fps
        last = 1.0 / fps
    else:
        span = times[-1] - times[0]
        measured = (n - 1) / span if n > 1 and span > 0 else None
        if declared and (measured is None or abs(declared - measured) <= 0.01 * measured):
            fps = declared
        else:
            fps = measured or declared or (1.0 / last if last > 0 else DEFAULT_FPS)
        if not last > 0:
            last = float(np.median(np.diff(times))) if n > 1 else 1.0 / fps
    if len(keyframes) == 0 or keyframes[0] != 0:
        keyframes = np.concatenate([[0], keyframes]).astype(np.int64)
    start = float(ts[0] * tb) if tb and ts_to_index is not None else 0.0
    return StreamIndex(
        ts, ts_to_index, keyframes, times, float(fps), float(times[-1] + last), note, start=start
    )


def _restarts_not_wraps(
    decode_ts: list[int | None], stamps: list[int | None], tb: float
) -> tuple[list[int | None], list[int | None]]:
    """Undo FFmpeg's unwrapping where a recording restarted its clock rather than wrapped.

    MPEG timestamps wrap at 2^33 ticks (~26.5 h at 90 kHz) and FFmpeg's demuxer unwraps them
    (``correct_ts_overflow``): a timestamp more than 60 s below the stream's first is taken
    as wrapped and moved 2^33 ticks on. So does a second recording joined into the file
    whose clock starts lower: its frames land ~26 h later instead of jumping back. A true
    wrap continues one frame (or a short gap) later; an unwrapped step past a multiple of
    2^33 longer than :data:`WRAP_GAP_S` is a restart, and the timestamps from it on are
    moved back, so :func:`_jumps_back` finds it.
    """
    out_dts, out_pts, offset, last = [], [], 0, None
    for t, p in zip(decode_ts, stamps):
        if t is not None:
            if (
                last is not None
                and t // WRAP_TICKS != last // WRAP_TICKS
                and (t - last) * tb > WRAP_GAP_S
            ):
                offset -= WRAP_TICKS * (t // WRAP_TICKS - last // WRAP_TICKS)
            last = t
        out_dts.append(None if t is None else t + offset)
        out_pts.append(None if p is None else p + offset)
    return out_dts, out_pts


def _jumps_back(decode_ts: list[int | None]) -> list[int]:
    """Packet positions where the decode timestamps go back: a new recording begins.

    Decode timestamps never decrease within one recording (B-frames reorder presentation
    times, not decode times), so a drop means recordings joined into one file (``cat a.ts
    b.ts``, a recorder that restarted its clock).
    """
    out, last = [], None
    for i, t in enumerate(decode_ts):
        if t is None:
            continue
        if last is not None and t < last:
            out.append(i)
        last = t
    return out


def _joined(path, stamps, decode_ts, keys, durations, jumps, tb, declared) -> StreamIndex:
    """Index of a stream whose timestamps restart: each piece timed by its own timestamps,
    placed one frame after the end of the piece before it; frames counted in file order."""
    n = len(stamps)
    bounds = [0, *jumps, n]
    times_parts: list[np.ndarray] = []
    start = 0.0
    scale = float(tb) if tb else 0.0
    step = 1.0 / (declared or DEFAULT_FPS)
    for a, b in zip(bounds[:-1], bounds[1:]):
        piece = np.sort(np.asarray(stamps[a:b], dtype=np.int64))
        if scale and len(np.unique(piece)) == len(piece):
            local = (piece - piece[0]).astype(np.float64) * scale
            last = np.diff(local) if len(local) > 1 else np.array([step])
            gap = durations[b - 1] * scale or float(np.median(last))
        else:
            local, gap = np.arange(len(piece)) * step, step
        times_parts.append(start + local)
        start = float(start + local[-1] + gap)
    times = np.concatenate(times_parts)
    span = times[-1] - times[0]
    fps = (n - 1) / span if n > 1 and span > 0 else (declared or DEFAULT_FPS)
    at = jumps[0]
    back = (decode_ts[at - 1] - decode_ts[at]) * scale if scale else float("nan")
    note = (
        f"{path}: timestamps jump back {back:.3f} s at frame {at} (t={times[at]:.3f} s; "
        f"{len(jumps) + 1} recordings joined into one file?); each part is timed by its own "
        "timestamps and follows the one before it"
    )
    keyframes = np.flatnonzero(np.asarray(keys, bool))
    if len(keyframes) == 0 or keyframes[0] != 0:
        keyframes = np.concatenate([[0], keyframes]).astype(np.int64)
    return StreamIndex(
        np.arange(n, dtype=np.int64), None, keyframes, times, float(fps), float(start), note
    )


def declared_rate(stream) -> float | None:
    """The frame rate the container declares, or None."""
    for rate in (stream.average_rate, stream.guessed_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return None


def pixel_aspect(stream) -> Fraction:
    """The stream's sample (pixel) aspect ratio, width over height of one pixel; 1 if unknown.

    Examples
    --------
    >>> class S:
    ...     sample_aspect_ratio, codec_context = Fraction(0, 1), None
    >>> pixel_aspect(S())
    Fraction(1, 1)
    """
    for owner in (stream, stream.codec_context):
        sar = getattr(owner, "sample_aspect_ratio", None) if owner is not None else None
        if sar is not None and sar.numerator > 0 and sar.denominator > 0:
            return Fraction(sar.numerator, sar.denominator)
    return Fraction(1)
