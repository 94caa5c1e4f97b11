"""Clips and checks shared by the io tests: frames that encode their index, writers."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from ecoseg.errors import VideoError

H, W = 48, 64


def pattern(i: int, h: int = H, w: int = W) -> np.ndarray:
    """A frame that encodes its index: brightness, a moving red square, fine gray stripes."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (20 + 5 * i) % 256
    img[:, :16:2] = 0  # one-pixel stripes: shrinking them without antialiasing shows
    img[:, 1:16:2] = 255
    y, x = (2 * i) % (h - 10), 16 + (3 * i) % (w - 26)
    img[y : y + 10, x : x + 10] = (250, 60, 30)
    return img


def write_clip(
    path,
    n: int = 40,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    options: dict | None = None,
    pts: list[int] | None = None,
    rate: int = 30,
):
    """Encode ``pattern(0..n-1)`` with PyAV; ``pts`` (milliseconds) makes a VFR file."""
    if options is None:
        options = {"qp": "0", "g": "8"} if codec == "libx264" else {"g": "8"}
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = W, H, pix_fmt
        stream.options = options
        if pts is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for i in range(n if pts is None else len(pts)):
            frame = av.VideoFrame.from_ndarray(pattern(i), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def packets(path) -> list[av.Packet]:
    with av.open(str(path)) as c:
        return [p for p in c.demux(video=0) if p.size]


def decode_all(path) -> list[np.ndarray]:
    """Reference decode with plain PyAV (no ecoseg)."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def closest_pattern(image: np.ndarray, n: int) -> int:
    diffs = [np.abs(image.astype(int) - pattern(i)).mean() for i in range(n)]
    return int(np.argmin(diffs))


def one_line_naming(err: pytest.ExceptionInfo, name: str) -> str:
    msg = str(err.value)
    assert isinstance(err.value, VideoError)
    assert name in msg, msg
    assert "\n" not in msg
    return msg
