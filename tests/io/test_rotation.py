"""Videos with a display matrix (phones, action cameras) are decoded upright.

The test writes the matrix itself: it encodes a clip with PyAV, then sets the 3x3 matrix of
the MP4 track header (``tkhd``, ISO/IEC 14496-12) as a phone does.
"""

from __future__ import annotations

import struct

import av
import numpy as np
import pytest

from ecoseg.io import open_video
from ecoseg.io.rotation import turn_image, upright_turns
from ecoseg.io.video import probe_video


def write_clip(path, frames=4, size=(64, 48)):
    w, h = size
    images = []
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=30, options={"qp": "0"})
        s.width, s.height, s.pix_fmt = w, h, "yuv444p"
        for i in range(frames):
            img = np.zeros((h, w, 3), np.uint8)
            img[4:12, 8:24] = 255  # a bright block near the top-left corner ...
            img[h - 10 : h - 6, w - 6 : w - 2] = (0, 200, 0)  # ... a green one bottom-right
            img[20 + i, 30:34] = 120
            images.append(img)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return np.stack(images)


def set_display_matrix(path, ccw_degrees: int):
    """Write the track header's matrix for a rotation of ``ccw_degrees`` counterclockwise."""
    data = bytearray(path.read_bytes())
    i = data.find(b"tkhd")
    version = data[i + 4]
    offset = i + 8 + (20 if version == 0 else 32) + 8 + 8  # times, id, duration; reserved, layer..
    c, s = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[ccw_degrees % 360]
    one = 1 << 16
    matrix = (c * one, -s * one, 0, s * one, c * one, 0, 0, 0, 1 << 30)
    assert struct.unpack(">9i", data[offset : offset + 36])[-1] == 1 << 30  # found it
    data[offset : offset + 36] = struct.pack(">9i", *matrix)
    path.write_bytes(bytes(data))


def test_upright_turns():
    assert [upright_turns(a) for a in (0, -90, 90, 180, -180, 270, -89.6)] == [0, 1, 3, 2, 2, 1, 1]
    img = np.arange(6).reshape(2, 3)
    assert turn_image(img, 1).shape == (3, 2) and turn_image(img, 1)[0].tolist() == [3, 0]
    np.testing.assert_array_equal(turn_image(turn_image(img, 1), 3), img)


@pytest.mark.parametrize("ccw", [90, 180, 270])
def test_rotated_clip_is_decoded_upright(tmp_path, ccw):
    path = tmp_path / f"phone clip {ccw}.mp4"
    stored = write_clip(path)
    set_display_matrix(path, ccw)
    with av.open(str(path)) as c:  # FFmpeg sees the matrix we wrote
        frame = next(c.decode(video=0))
        assert round(frame.rotation) % 360 == ccw % 360
    turns = (-ccw // 90) % 4  # turning counterclockwise by ccw: clockwise by -ccw
    expected = np.stack([np.rot90(img, k=-turns) for img in stored])
    video = open_video(path)
    assert video.size == (expected.shape[2], expected.shape[1])
    assert video.record()["upright_turns"] == turns
    got = np.stack([f.image for f in video])
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected).max() <= 4  # lossless coding, RGB<->YUV rounding
    # random access too, and crops are in upright coordinates
    np.testing.assert_array_equal(video.read(2).image, got[2])
    h, w = expected.shape[1:3]
    cropped = open_video(path, crop=(0, 0, w // 2, h // 2))
    np.testing.assert_array_equal(cropped.read(1).image, got[1, : h // 2, : w // 2])


def test_clip_without_matrix_is_unchanged(tmp_path):
    path = tmp_path / "plain.mp4"
    stored = write_clip(path)
    got = np.stack([f.image for f in open_video(path)])
    assert np.abs(got.astype(int) - stored).max() <= 4


@pytest.mark.parametrize("ccw", [0, 90, 180, 270])
def test_probed_shape_is_the_decoded_frames_shape(tmp_path, ccw):
    """The cheap probe (a study's check before any work) gives the frame shape a study checks
    a calibration against: upright, as frames are decoded, not the stored picture's."""
    path = tmp_path / f"phone clip {ccw}.mp4"
    write_clip(path, frames=2, size=(64, 48))
    if ccw:
        set_display_matrix(path, ccw)
    shape = (64, 48) if ccw % 180 else (48, 64)
    assert probe_video(path) == shape == open_video(path).read(0).image.shape[:2]
