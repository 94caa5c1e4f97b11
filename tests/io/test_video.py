"""Tests for ecoseg.io.video: timestamps, seeking, batches, crop/resize, folders, errors."""

from __future__ import annotations

import hashlib
import os
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from ecoseg.errors import VideoError
from ecoseg.io.video import (
    Frame,
    FrameBatch,
    FrameIndexError,
    ImageFolderReader,
    VideoFileReader,
    VideoReader,
    natural_key,
    open_video,
)

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


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """40-frame 64x48 H.264 mp4 (lossless, B-frames, a keyframe every 8 frames)."""
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


@pytest.fixture(scope="module")
def clip_frames(clip):
    return decode_all(clip)


def one_line_naming(err: pytest.ExceptionInfo, name: str) -> str:
    msg = str(err.value)
    assert isinstance(err.value, VideoError)
    assert name in msg, msg
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------------------------------
# Constant frame rate files
# --------------------------------------------------------------------------------------------


def test_constant_rate_metadata(clip):
    with open_video(clip) as v:
        assert isinstance(v, VideoFileReader) and isinstance(v, VideoReader)
        assert v.path == str(clip)
        assert len(v) == 40
        assert v.fps == 30.0
        assert v.size == (W, H) == (v.width, v.height) == v.source_size
        assert v.shape == (40, H, W, 3)
        assert v.times.dtype == np.float64 and v.times.shape == (40,)
        np.testing.assert_allclose(v.times, np.arange(40) / 30, atol=1e-9)
        assert v.duration == pytest.approx(40 / 30)
        assert "clip.mp4" in repr(v) and "40 frames" in repr(v)
        with pytest.raises(ValueError):
            v.times[0] = 5.0  # read-only


def test_iteration_yields_each_frame_once_in_order(clip, clip_frames):
    v = open_video(clip)
    frames = list(v)
    assert all(isinstance(f, Frame) for f in frames)
    assert [f.index for f in frames] == list(range(40))
    assert [f.time for f in frames] == pytest.approx(list(np.arange(40) / 30))
    for f, ref in zip(frames, clip_frames):
        assert f.image.shape == (H, W, 3) and f.image.dtype == np.uint8
        np.testing.assert_array_equal(f.image, ref)
    # the content really is frame i of the encoded sequence, not a neighbour
    assert [closest_pattern(f.image, 40) for f in frames[::3]] == list(range(0, 40, 3))
    # iterating twice gives the same frames again
    np.testing.assert_array_equal(next(iter(v)).image, clip_frames[0])


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt"),
    [
        ("mp4", "libx264", "yuv420p"),
        ("mkv", "ffv1", "yuv444p"),
        ("avi", "mpeg4", "yuv420p"),
        ("ts", "libx264", "yuv420p"),
        ("mpg", "mpeg2video", "yuv420p"),  # MPEG-PS: the demuxer re-times packets after seeks
        ("h264", "libx264", "yuv420p"),  # raw stream: no timestamps at all, frames are counted
    ],
)
def test_seek_matches_sequential_decode(tmp_path, name, codec, pix_fmt):
    path = write_clip(tmp_path / f"seek.{name}", 60, codec=codec, pix_fmt=pix_fmt)
    keyframes = sum(p.is_keyframe for p in packets(path))
    assert keyframes >= 5  # several GOPs: a seek must land on a keyframe and decode forward
    ref = decode_all(path)
    v = open_video(path)
    rng = np.random.default_rng(7)
    order = [*rng.integers(0, 60, 25), 59, 0, 8, 7, 9, 9, 30, 29, 16, 15, -1, -60]
    for i in order:
        got = v.read(int(i))
        assert got.index == int(i) % 60
        assert got.time == v.times[int(i)]
        if name != "h264":  # a raw stream has no rate of its own: FFmpeg assumes 25 fps
            assert got.time == pytest.approx((int(i) % 60) / 30, abs=1e-3)
        np.testing.assert_array_equal(got.image, ref[int(i)])
    np.testing.assert_array_equal(v[np.int64(17)].image, ref[17])
    # sequential iteration after random access is still complete and right
    assert [f.index for f in v] == list(range(60))
    got = list(v.frames(45))
    assert [f.index for f in got] == list(range(45, 60))
    np.testing.assert_array_equal(got[0].image, ref[45])


def test_random_reads_inside_an_iteration_do_not_disturb_it(clip, clip_frames):
    v = open_video(clip)
    seen = []
    for f in v:
        seen.append(f.index)
        np.testing.assert_array_equal(f.image, clip_frames[f.index])
        j = (f.index * 17 + 5) % 40
        np.testing.assert_array_equal(v.read(j).image, clip_frames[j])
    assert seen == list(range(40))


def test_read_at_picks_the_frame_on_screen(clip, clip_frames):
    v = open_video(clip)
    assert v.read_at(0.0).index == 0
    assert v.read_at(0.5).index == 15
    assert v.read_at(0.5 - 1e-6).index == 14
    assert v.read_at(v.duration - 1e-6).index == 39
    np.testing.assert_array_equal(v.read_at(1.0).image, clip_frames[30])
    for t in (-0.01, v.duration, 99.0, float("nan")):
        with pytest.raises(FrameIndexError):
            v.read_at(t)


def test_bad_indexes(clip):
    v = open_video(clip)
    for i in (40, -41, 10**9):
        with pytest.raises(IndexError) as info:
            v.read(i)
        one_line_naming(info, "clip.mp4")
    with pytest.raises(TypeError):
        v[1.5]
    with pytest.raises(ValueError):
        v.frames(0, 10, 0)


def test_frames_ranges(clip):
    v = open_video(clip)
    assert [f.index for f in v.frames(0, 10, 3)] == [0, 3, 6, 9]
    assert [f.index for f in v.frames(-3)] == [37, 38, 39]
    assert [f.index for f in v.frames(5, 100, 17)] == [5, 22, 39]
    assert list(v.frames(10, 10)) == []


def test_batches(clip, clip_frames):
    v = open_video(clip)
    batches = list(v.batches(16, start=2))
    assert all(isinstance(b, FrameBatch) for b in batches)
    assert [len(b) for b in batches] == [16, 16, 6]
    b = batches[1]
    assert b.images.shape == (16, H, W, 3) and b.images.dtype == np.uint8
    assert b.index.dtype == np.int64 and b.time.dtype == np.float64
    np.testing.assert_array_equal(b.index, np.arange(18, 34))
    np.testing.assert_allclose(b.time, np.arange(18, 34) / 30)
    np.testing.assert_array_equal(b.images, np.stack(clip_frames[18:34]))
    frames = list(batches[2])
    assert [f.index for f in frames] == list(range(34, 40))
    np.testing.assert_array_equal(frames[-1].image, clip_frames[39])
    assert [len(b) for b in v.batches(7, 0, 10)] == [7, 3]
    with pytest.raises(ValueError):
        v.batches(0)


# --------------------------------------------------------------------------------------------
# Variable frame rate
# --------------------------------------------------------------------------------------------

VFR_MS = [0, 33, 50, 120, 200, 210, 400, 433, 466, 700, 733, 766]


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt"), [("mkv", "ffv1", "yuv444p"), ("mp4", "libx264", "yuv420p")]
)
def test_variable_frame_rate_times_are_the_written_pts(tmp_path, name, codec, pix_fmt):
    path = write_clip(tmp_path / f"vfr.{name}", codec=codec, pix_fmt=pix_fmt, pts=VFR_MS)
    expected = np.array(VFR_MS) / 1000
    v = open_video(path)
    assert len(v) == len(VFR_MS)
    np.testing.assert_allclose(v.times, expected, atol=1e-9)
    frames = list(v)
    np.testing.assert_allclose([f.time for f in frames], expected, atol=1e-9)
    assert [closest_pattern(f.image, len(VFR_MS)) for f in frames] == list(range(len(VFR_MS)))
    assert v.fps == pytest.approx((len(VFR_MS) - 1) / 0.766, rel=1e-6)
    assert v.duration > 0.766
    assert v.read_at(0.15).index == 3  # shown from 120 ms until 200 ms
    assert v.read_at(0.3999).index == 5
    assert v.read_at(0.4).index == 6
    assert v.read(9).time == pytest.approx(0.7)
    np.testing.assert_array_equal(v.read(6).image, frames[6].image)


# --------------------------------------------------------------------------------------------
# Crop and resize
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("crop", [(6, 4, 50, 40), (7, 5, 51, 41), (0, 0, W, H)])
def test_crop_is_exact(clip, clip_frames, crop):
    x0, y0, x1, y1 = crop
    v = open_video(clip, crop=crop)
    assert v.size == (x1 - x0, y1 - y0) and v.source_size == (W, H) and v.crop == crop
    for i in (0, 13, 39):
        np.testing.assert_array_equal(v.read(i).image, clip_frames[i][y0:y1, x0:x1])
    assert [f.image.shape for f in v.frames(0, 2)] == [(y1 - y0, x1 - x0, 3)] * 2


@pytest.mark.parametrize("crop", [None, (0, 0, W, H)])
def test_resize_is_antialiased(clip, clip_frames, crop):
    v = open_video(clip, size=(32, 24), crop=crop)
    assert v.size == (32, 24)
    img = v.read(5).image
    assert img.shape == (24, 32, 3)
    block_mean = clip_frames[5].reshape(24, 2, 32, 2, 3).mean(axis=(1, 3))
    assert np.abs(img - block_mean).mean() < 3
    stripes = img[:, :8].astype(float)  # 0/255 one-pixel stripes average to gray
    assert abs(stripes.mean() - 127.5) < 6 and stripes.std() < 6


def test_crop_then_resize_and_aspect(clip, clip_frames):
    v = open_video(clip, crop=(16, 8, 48, 40), size=(16, None))
    assert v.size == (16, 16)
    img = v.read(20).image
    ref = clip_frames[20][8:40, 16:48].reshape(16, 2, 16, 2, 3).mean(axis=(1, 3))
    assert np.abs(img - ref).mean() < 3
    assert open_video(clip, size=(None, 24)).size == (32, 24)
    assert open_video(clip, size=(128, 96)).read(0).image.shape == (96, 128, 3)
    assert [b.images.shape for b in v.batches(30)] == [(30, 16, 16, 3), (10, 16, 16, 3)]


@pytest.mark.parametrize(
    "crop", [(0, 0, W + 1, H), (-1, 0, 10, 10), (10, 10, 10, 20), (20, 0, 10, 10), (1, 2, 3)]
)
def test_bad_crop(clip, crop):
    with pytest.raises(VideoError) as info:
        open_video(clip, crop=crop)
    assert "crop" in one_line_naming(info, "clip.mp4")


@pytest.mark.parametrize("size", [(0, 10), (-5, 10), (None, None), (10.5, 10), (10,), "64x48"])
def test_bad_size(clip, size):
    with pytest.raises(VideoError) as info:
        open_video(clip, size=size)
    assert "size" in one_line_naming(info, "clip.mp4")


# --------------------------------------------------------------------------------------------
# Image folders
# --------------------------------------------------------------------------------------------


def write_folder(folder, n=12, suffix=".png", stem="img"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    for i in rng.permutation(n):  # written out of order; names not zero padded
        Image.fromarray(pattern(int(i))).save(folder / f"{stem}{i}{suffix}")
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.mark.parametrize(("suffix", "tol"), [(".png", 0), (".tif", 0), (".jpg", 8), (".JPEG", 8)])
def test_image_folder(tmp_path, suffix, tol):
    folder = write_folder(tmp_path / "frames", 12, suffix)
    v = open_video(folder, fps=10)
    assert isinstance(v, ImageFolderReader)
    assert len(v) == 12 and v.size == (W, H) and v.fps == 10.0
    assert [os.path.basename(f) for f in v.files][:3] == [f"img{i}{suffix}" for i in (0, 1, 2)]
    assert os.path.basename(v.files[-1]) == f"img11{suffix}"  # natural sort: 11 after 2
    np.testing.assert_allclose(v.times, np.arange(12) / 10)
    assert v.duration == pytest.approx(1.2)
    frames = list(v)
    assert [f.index for f in frames] == list(range(12))
    for f in frames:
        assert f.image.dtype == np.uint8 and f.image.shape == (H, W, 3)
        assert np.abs(f.image.astype(int) - pattern(f.index)).mean() <= tol
    np.testing.assert_array_equal(v.read(10).image, frames[10].image)
    np.testing.assert_array_equal(v[-1].image, frames[11].image)
    assert v.read_at(0.55).index == 5
    assert [len(b) for b in v.batches(5)] == [5, 5, 2]
    assert [f.index for f in v.frames(1, 12, 4)] == [1, 5, 9]


def test_image_folder_crop_resize_and_default_fps(tmp_path):
    folder = write_folder(tmp_path / "f", 3)
    v = open_video(folder, crop=(7, 5, 51, 41), size=(22, 18))
    assert v.fps == 30.0 and v.size == (22, 18)
    assert v.read(1).image.shape == (18, 22, 3)
    c = open_video(folder, crop=(7, 5, 51, 41)).read(2).image
    np.testing.assert_array_equal(c, pattern(2)[5:41, 7:51])
    half = open_video(folder, size=(32, 24)).read(0).image[:, :8].astype(float)
    assert abs(half.mean() - 127.5) < 6 and half.std() < 6  # antialiased


def test_image_folder_16bit_and_gray(tmp_path):
    folder = tmp_path / "deep"
    folder.mkdir()
    ramp = (np.arange(W, dtype=np.uint16) * 1000)[None, :].repeat(H, 0)
    Image.fromarray(ramp).save(folder / "0.png")
    Image.fromarray(pattern(1)[:, :, 0]).save(folder / "1.tif")
    v = open_video(folder)
    a = v.read(0).image
    assert a.shape == (H, W, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a[0, :, 1], (ramp[0] >> 8).astype(np.uint8))
    np.testing.assert_array_equal(v.read(1).image[..., 2], pattern(1)[:, :, 0])


def test_natural_key():
    names = ["b10.png", "a2.png", "b9.png", "a10.png", "B1.png"]
    assert sorted(names, key=natural_key) == ["a2.png", "a10.png", "B1.png", "b9.png", "b10.png"]


def test_folder_sha256_covers_names_and_contents(tmp_path):
    folder = write_folder(tmp_path / "h", 3)
    first = open_video(folder).sha256()
    assert first == open_video(folder).sha256() and len(first) == 64
    Image.fromarray(pattern(5)).save(folder / "img2.png")
    changed = open_video(folder).sha256()
    assert changed != first
    os.rename(folder / "img2.png", folder / "img7.png")
    assert open_video(folder).sha256() != changed


def test_file_sha256(clip):
    assert open_video(clip).sha256() == hashlib.sha256(clip.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_missing_empty_and_not_video(tmp_path, clip):
    cases = {
        "missing.mp4": None,
        "empty.mp4": b"",
        "text.mp4": b"this is not a video, just words\n" * 40,
        "noise.mov": np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes(),
        "truncated.mp4": clip.read_bytes()[:1500],  # the index (moov) is at the end: lost
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(VideoError) as info:
            open_video(path)
        one_line_naming(info, name)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path, clip):
    path = tmp_path / "locked.mp4"
    path.write_bytes(clip.read_bytes())
    path.chmod(0)
    with pytest.raises(VideoError) as info:
        open_video(path)
    one_line_naming(info, "locked.mp4")


def test_open_failure_of_ffmpeg_is_reported(tmp_path, clip, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(av, "open", refuse)
    with pytest.raises(VideoError) as info:
        open_video(clip)
    assert "permission" in one_line_naming(info, "clip.mp4")


def test_no_video_stream(tmp_path):
    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    with pytest.raises(VideoError) as info:
        open_video(path)
    assert "no video stream" in one_line_naming(info, "sound.wav")


def test_zero_frames(tmp_path):
    path = tmp_path / "blank.mkv"
    with av.open(str(path), "w") as out:  # a video stream that never gets a packet
        video = out.add_stream("ffv1", rate=30)
        video.width, video.height, video.pix_fmt = W, H, "yuv444p"
        audio = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in [*audio.encode(frame), *audio.encode()]:
            out.mux(packet)
    with av.open(str(path)) as c:
        assert len(c.streams.video) == 1
    with pytest.raises(VideoError) as info:
        open_video(path)
    assert "no frames" in one_line_naming(info, "blank.mkv")


def test_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    with pytest.raises(VideoError) as info:
        open_video(empty)
    assert "no images" in one_line_naming(info, "empty")

    mixed = write_folder(tmp_path / "mixed", 4)
    Image.fromarray(pattern(9, h=40)).save(mixed / "img9.png")
    with pytest.raises(VideoError) as info:
        open_video(mixed)
    assert "64x40" in one_line_naming(info, "img9.png")

    damaged = write_folder(tmp_path / "damaged", 3)
    (damaged / "img1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    with pytest.raises(VideoError) as info:
        open_video(damaged)
    one_line_naming(info, "img1.png")

    with pytest.raises(VideoError) as info:
        open_video(write_folder(tmp_path / "ok", 2), fps=0)
    assert "fps" in one_line_naming(info, "ok")


def test_fps_is_refused_for_video_files(clip):
    with pytest.raises(VideoError) as info:
        open_video(clip, fps=25)
    one_line_naming(info, "clip.mp4")


def test_closed_reader(clip):
    with open_video(clip) as v:
        v.read(3)
    with pytest.raises(VideoError) as info:
        v.read(0)
    one_line_naming(info, "clip.mp4")


def test_recording_cut_off_mid_write_ends_at_the_last_complete_frame(tmp_path, clip):
    """A camera that dies mid-write leaves a file whose last packet is incomplete."""
    whole = tmp_path / "whole.mp4"
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as out:  # index first
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"qp": "0", "g": "8"}
        for i in range(40):
            frame = av.VideoFrame.from_ndarray(pattern(i), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    ref = decode_all(whole)
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.6)])
    v = open_video(cut)
    assert 10 < len(v) < 40
    frames = list(v)
    assert [f.index for f in frames] == list(range(len(v)))
    for f in frames:
        np.testing.assert_array_equal(f.image, ref[f.index])
    np.testing.assert_array_equal(v.read(len(v) - 1).image, ref[len(v) - 1])


# --------------------------------------------------------------------------------------------
# Damage in the middle of a stream
# --------------------------------------------------------------------------------------------


def presentation_index(pkts: list[av.Packet], packet: av.Packet) -> int:
    return sorted(p.pts for p in pkts).index(packet.pts)


def test_corrupt_packet_names_frame_and_time(tmp_path):
    path = write_clip(tmp_path / "damaged.mp4", 60)
    pkts = packets(path)
    bad = next(p for p in pkts[30:] if not p.is_keyframe)
    k = presentation_index(pkts, bad)
    data = bytearray(path.read_bytes())
    payload = slice(bad.pos, bad.pos + bad.size)  # overwrite the packet's bytes in place
    data[payload] = bytes(b ^ 0xFF for b in data[payload])
    path.write_bytes(bytes(data))

    v = open_video(path)  # demuxing still works: the damage is in the picture data
    assert len(v) == 60
    seen = []
    with pytest.raises(VideoError) as info:
        for f in v:
            seen.append(f.index)
    msg = one_line_naming(info, "damaged.mp4")
    assert f"cannot decode frame {k} (t={k / 30:.3f} s)" in msg
    assert seen == list(range(len(seen))) and len(seen) <= k
    with pytest.raises(VideoError, match=f"frame {k} "):
        v.read(k)
    np.testing.assert_array_equal(v.read(2).image, decode_all(write_clip(tmp_path / "ok.mp4"))[2])


def test_frame_silently_dropped_by_decoder_is_detected(tmp_path):
    """MPEG-4 part 2: clearing the vop_coded bit makes FFmpeg drop the frame without error."""
    path = write_clip(tmp_path / "dropped.avi", 60, codec="mpeg4", options={"bf": "0", "g": "12"})
    pkts = packets(path)
    bad = pkts[30]
    payload = bytes(bad)
    assert payload[:4] == b"\x00\x00\x01\xb6"  # a VOP start code
    bits = "".join(f"{b:08b}" for b in payload[4:8])
    assert bits[:2] == "01"  # a P-VOP
    i = 2
    while bits[i] == "1":  # modulo_time_base
        i += 1
    i += 1 + 1 + 5 + 1  # its terminating 0, marker, 5-bit time increment (rate 30), marker
    assert bits[i] == "1"  # vop_coded
    data = bytearray(path.read_bytes())
    start = data.index(payload[:16], bad.pos)
    bit = 32 + i
    data[start + bit // 8] &= ~(0x80 >> (bit % 8)) & 0xFF
    path.write_bytes(bytes(data))
    with av.open(str(path)) as c:  # FFmpeg itself says nothing
        assert len([f for f in c.decode(video=0)]) == 59

    v = open_video(path)
    assert len(v) == 60
    with pytest.raises(VideoError) as info:
        for _ in v:
            pass
    assert "cannot decode frame 30 (t=1.000 s)" in one_line_naming(info, "dropped.avi")
    with pytest.raises(VideoError, match="frame 30 "):
        v.read(31)
    assert v.read(29).index == 29
    assert v.read(40).index == 40  # past the damage, after the next keyframe
