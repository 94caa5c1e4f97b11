"""Video files (ecoseg.io.videofile): timestamps, seeking, VFR, crop/resize, damage."""

from __future__ import annotations

import hashlib
import warnings
from fractions import Fraction

import av
import numpy as np
import pytest
from video_helpers import (
    H,
    W,
    closest_pattern,
    decode_all,
    one_line_naming,
    packets,
    pattern,
    write_clip,
)

from ecoseg.errors import VideoError
from ecoseg.io.video import (
    Frame,
    VideoFileReader,
    VideoReader,
    open_video,
)


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


@pytest.mark.parametrize(
    ("codec", "options"),
    [
        ("libx264", {"qp": "0", "g": "8", "slices": "3"}),  # slices: the slice threads decode
        ("libx265", {"x265-params": "keyint=8:wpp=1:log-level=error"}),  # HEVC, wavefronts
    ],
)
def test_reads_by_index_use_slice_threads_and_give_the_streamed_frames(
    tmp_path, monkeypatch, codec, options
):
    """A read by index (the report's stills, napari's frames) decodes with slice threads
    only: a frame-threaded decoder held a picture and a context per core, about 400 MB for a
    few 4K frames. Iteration keeps frame threads. The frames are the same either way."""
    from ecoseg.io import videofile

    opened = []  # the threading of each decoder the reader opens
    original = videofile._Decoder._open

    def spy(self):
        original(self)
        opened.append(self._stream.codec_context.thread_type.name)

    monkeypatch.setattr(videofile._Decoder, "_open", spy)
    path = write_clip(tmp_path / "seek.mp4", 40, codec=codec, options=options)
    with open_video(path) as v:
        streamed = [f.image for f in v]
        assert opened == ["AUTO"]
        for i in (20, 3, 39, 17, 18, 0, 9):
            np.testing.assert_array_equal(v.read(i).image, streamed[i])
        np.testing.assert_array_equal(v.read_at(1.0).image, streamed[30])
    assert opened[0] == "AUTO" and set(opened[1:]) == {"SLICE"}
    assert videofile.SEEK_THREADS == "SLICE" and videofile.STREAM_THREADS == "AUTO"
    assert [closest_pattern(f, 40) for f in streamed[::5]] == list(range(0, 40, 5))


VFR_MS = [0, 33, 50, 120, 200, 210, 400, 433, 466, 700, 733, 766]


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "options"),
    [
        ("mkv", "ffv1", "yuv444p", None),
        ("mp4", "libx264", "yuv420p", None),
        # H.264 with B-frames in Matroska (OBS, HandBrake): the demuxer gives the first
        # packets no decode time; their presentation times were taken for one, ran ahead,
        # and the file was read as two joined recordings, timed wrong, with a warning
        ("mkv", "libx264", "yuv420p", {"g": "8", "bf": "3"}),
    ],
)
def test_variable_frame_rate_times_are_the_written_pts(
    tmp_path, name, codec, pix_fmt, options, recwarn
):
    path = write_clip(
        tmp_path / f"vfr.{name}", codec=codec, pix_fmt=pix_fmt, pts=VFR_MS, options=options
    )
    if options:  # B-frames: packets come out of presentation order
        assert [p.pts for p in packets(path)] != sorted(p.pts for p in packets(path))
    expected = np.array(VFR_MS) / 1000
    v = open_video(path)
    assert not [w for w in recwarn if "ecoseg" in type(w.message).__module__]
    assert "timing" not in v.record()
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


def test_file_sha256(clip):
    assert open_video(clip).sha256() == hashlib.sha256(clip.read_bytes()).hexdigest()


def test_open_failure_of_ffmpeg_is_reported(tmp_path, clip, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(av, "open", refuse)
    with pytest.raises(VideoError) as info:
        open_video(clip)
    assert "permission" in one_line_naming(info, "clip.mp4")


def test_opening_reads_the_file_once(clip, monkeypatch):
    """The reader opened the file twice: once to index the packets, once more to decode the
    first picture (its size, rotation, interlacing); now one pass over the packets does both,
    with the pictures and times of the old reader's (the tests above)."""
    import ecoseg.io.videofile as videofile

    opened = []
    real = videofile.open_container
    monkeypatch.setattr(videofile, "open_container", lambda p: opened.append(p) or real(p))
    with open_video(clip) as v:
        assert len(opened) == 1 and len(v) == 40 and v.source_size == (W, H)
        assert not v.interlaced and v.turns == 0


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
    # the index says 40 frames: the cut is named, not passed over in silence
    with pytest.warns(UserWarning, match=r"cut.mp4: the file ends before its index does") as w:
        v = open_video(cut)
    assert 10 < len(v) < 40
    n = len(v)
    assert f"{n} of 40 frames are present (cut off after frame {n - 1}, t={v.times[-1]:.3f} s" in (
        str(w[0].message)
    )
    assert v.record()["truncated"] == str(w[0].message)
    frames = list(v)
    assert [f.index for f in frames] == list(range(len(v)))
    for f in frames:
        np.testing.assert_array_equal(f.image, ref[f.index])
    np.testing.assert_array_equal(v.read(len(v) - 1).image, ref[len(v) - 1])


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


def _ts_piece(path, first: int, n: int, shift: int) -> None:
    """MPEG-TS of ``pattern(first..first+n-1)`` whose timestamps start ``shift`` frames late."""
    with av.open(str(path), "w") as out:
        s = out.add_stream("mpeg2video", rate=30)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"g": "4", "bf": "0", "qscale": "1"}
        for i in [*range(first, first + n), None]:
            frame = None if i is None else av.VideoFrame.from_ndarray(pattern(i), format="rgb24")
            for p in s.encode(frame):
                p.pts, p.dts = p.pts + shift, p.dts + shift
                out.mux(p)


def test_recordings_joined_into_one_file_play_in_file_order(tmp_path):
    # `cat a.ts b.ts`, or a recorder that restarted its clock: the timestamps jump back. The
    # frames were sorted by timestamp, so the second recording came first and reading failed.
    _ts_piece(tmp_path / "a.ts", 0, 10, shift=1500)  # starts 50 s in
    _ts_piece(tmp_path / "b.ts", 10, 6, shift=0)
    joined = tmp_path / "joined.ts"
    joined.write_bytes((tmp_path / "a.ts").read_bytes() + (tmp_path / "b.ts").read_bytes())
    with pytest.warns(UserWarning, match=r"joined.ts: timestamps jump back 50\.\d+ s at frame 10"):
        v = open_video(joined)
    assert len(v) == 16
    np.testing.assert_allclose(v.times, np.arange(16) / 30, atol=1e-6)  # each part's own times
    frames = list(v)
    assert [closest_pattern(f.image, 16) for f in frames] == list(range(16))
    assert [f.time for f in frames] == pytest.approx(list(np.arange(16) / 30), abs=1e-6)
    assert closest_pattern(v.read(12).image, 16) == 12
    assert closest_pattern(v.read(3).image, 16) == 3
    assert "jump back" in v.record()["timing"]  # the store's provenance says so too


@pytest.mark.parametrize("movflags", ["", "faststart"])
def test_an_ordinary_clip_gives_no_warning(tmp_path, clip, recwarn, movflags):
    # B-frames: the MP4 edit list shifts the first frame; faststart: the index comes first
    path = clip
    if movflags:
        path = tmp_path / "fast.mp4"
        with av.open(str(path), "w", options={"movflags": movflags}) as out:
            s = out.add_stream("libx264", rate=30, options={"g": "8"})
            s.width, s.height, s.pix_fmt = W, H, "yuv420p"
            for i in [*range(12), None]:
                frame = None if i is None else av.VideoFrame.from_ndarray(pattern(i), "rgb24")
                for p in s.encode(frame):
                    out.mux(p)
    v = open_video(path)
    assert len(v) == len(packets(path)) and v.record()
    assert not [w for w in recwarn if "ecoseg" in type(w.message).__module__]


def _x264_pattern(path, rate: int, options: dict, pix_fmt: str, sar=None) -> None:
    """Patterns 0 and 1 as a lossless H.264 file of ``W`` x ``H`` with these settings."""
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=rate, options=options)
        s.width, s.height, s.pix_fmt = W, H, pix_fmt
        if sar is not None:
            s.codec_context.sample_aspect_ratio = sar
        for i in [0, 1, None]:
            frame = None if i is None else av.VideoFrame.from_ndarray(pattern(i), format="rgb24")
            for p in s.encode(frame):
                out.mux(p)


def test_non_square_pixels_are_named_and_recorded(tmp_path):
    # Anamorphic/DV footage: a player stretches 64x48 stored pixels to 85x48. ecoseg keeps the
    # stored pixels (masks line up with them) but said nothing, so areas and lengths in px
    # silently mixed two scales. It now warns, says how to get square pixels and records it.
    path = tmp_path / "anamorphic.mp4"
    _x264_pattern(path, 30, {"qp": "0"}, "yuv444p", sar=Fraction(4, 3))
    with pytest.warns(UserWarning, match=r"anamorphic.mp4: pixels are not square \(aspect 4:3\)"):
        v = open_video(path)
    assert v.pixel_aspect == Fraction(4, 3) and v.size == (W, H)
    assert v.record()["pixel_aspect"] == [4, 3]
    square = open_video(path, size=(85, 48))
    assert square.read(1).image.shape == (48, 85, 3)


def test_the_non_square_pixel_warning_names_what_works_from_the_command_too(tmp_path):
    # It said "open_video(path, size=(85, 48)) gives square pixels": the command has no
    # --size, and a reader resized that way makes a store of another size than its file,
    # which report, napari and info then refuse as not the store's video. It now names a
    # square-pixel copy to segment (an even width, as encoders want).
    path = tmp_path / "anamorphic.mp4"
    _x264_pattern(path, 30, {"qp": "0"}, "yuv444p", sar=Fraction(4, 3))
    with pytest.warns(UserWarning, match="not square") as said:
        open_video(path)
    (msg,) = [str(w.message) for w in said.list if "not square" in str(w.message)]
    assert "open_video(path, size=" not in msg
    assert (
        "for square pixels segment a copy scaled to 86x48 "
        "(ffmpeg -i IN -vf scale=86:48,setsar=1 OUT)" in msg
    )


def test_square_pixels_record_nothing_extra(clip):
    v = open_video(clip)
    assert v.pixel_aspect == 1
    assert not {"pixel_aspect", "timing", "upright_turns"} & set(v.record())


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv420p10le"])
def test_crop_of_an_odd_sized_subsampled_frame_is_exact(tmp_path, pix_fmt):
    # 41x29 4:2:0 (phones and scaled exports make odd sizes): chroma 21x15 does not tile the
    # frame. A 4:2:0 width of 41 read as "no subsampling" (41 // 21 == 1), so crops at odd
    # offsets were cut in YUV with chroma a sample off: colours wrong across the whole crop.
    path = tmp_path / "odd.mkv"
    with av.open(str(path), "w") as out:
        s = out.add_stream("ffv1", rate=30)
        s.width, s.height, s.pix_fmt = 41, 29, pix_fmt
        for i in [0, 1, None]:
            img = None if i is None else pattern(i, h=29, w=41)
            frame = None if img is None else av.VideoFrame.from_ndarray(img, format="rgb24")
            for p in s.encode(frame):
                out.mux(p)
    v = open_video(path)
    full = v.read(1).image
    assert full.shape == (29, 41, 3)
    for crop in [(3, 5, 40, 28), (0, 0, 40, 28), (2, 2, 41, 29), (1, 0, 41, 29)]:
        x0, y0, x1, y1 = crop
        got = open_video(path, crop=crop).read(1).image
        np.testing.assert_array_equal(got, full[y0:y1, x0:x1], err_msg=str(crop))


def _two_streams(path, *, audio_first: bool) -> None:
    """Frames ``pattern(i)`` in a 64x48 stream, after an audio stream or before a 32x32 one."""
    with av.open(str(path), "w") as out:
        if audio_first:
            audio = out.add_stream("pcm_s16le", rate=8000)
        video = out.add_stream("ffv1", rate=30)
        video.width, video.height, video.pix_fmt = W, H, "yuv444p"
        if not audio_first:
            other = out.add_stream("ffv1", rate=30)
            other.width, other.height, other.pix_fmt = 32, 32, "yuv444p"
        for i in [0, 1, 2, None]:
            img = None if i is None else av.VideoFrame.from_ndarray(pattern(i), format="rgb24")
            for p in video.encode(img):
                out.mux(p)
            if not audio_first:
                small = None if i is None else np.zeros((32, 32, 3), np.uint8)
                small = None if small is None else av.VideoFrame.from_ndarray(small, "rgb24")
                for p in other.encode(small):
                    out.mux(p)
        if audio_first:
            sound = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16")
            sound.sample_rate = 8000
            for p in [*audio.encode(sound), *audio.encode()]:
                out.mux(p)


def test_audio_first_and_several_video_streams(tmp_path, recwarn):
    _two_streams(tmp_path / "sound first.mkv", audio_first=True)
    v = open_video(tmp_path / "sound first.mkv")
    assert (v.size, len(v)) == ((W, H), 3) and closest_pattern(v.read(2).image, 3) == 2
    assert not [w for w in recwarn if "ecoseg" in type(w.message).__module__]
    # a 360 camera's two lenses, picture-in-picture: which one is read was not said
    _two_streams(tmp_path / "two lenses.mkv", audio_first=False)
    with pytest.warns(UserWarning, match=r"two lenses.mkv: 2 video streams; ecoseg reads the "):
        v = open_video(tmp_path / "two lenses.mkv")
    assert v.size == (W, H) and closest_pattern(v.read(1).image, 3) == 1


def test_a_stream_that_starts_late_is_timed_from_its_first_frame(tmp_path):
    # a clip cut from a longer recording, an MPEG-TS clock: frame 0 is at 5 s of the stream.
    # Times count from frame 0 (as documented); the offset was nowhere to be found.
    path = write_clip(tmp_path / "late.mkv", codec="ffv1", pix_fmt="yuv444p", pts=[5000, 5033])
    v = open_video(path)
    assert list(v.times) == pytest.approx([0.0, 0.033])
    assert v.stream_start == pytest.approx(5.0) and v.record()["start_s"] == pytest.approx(5.0)


def test_repeated_timestamps_are_named_and_frames_counted(tmp_path):
    # a muxer that stamped two frames alike: frames were counted at the declared rate in
    # silence, so the times were no longer the file's and nobody was told
    path = tmp_path / "repeat.mkv"
    with av.open(str(path), "w") as out:
        s = out.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "yuv444p"
        encoded = []
        for i in [*range(6), None]:
            img = None if i is None else av.VideoFrame.from_ndarray(pattern(i), format="rgb24")
            encoded += s.encode(img)
        for p, ms in zip(encoded, [0, 40, 40, 80, 120, 160]):
            p.time_base, p.pts, p.dts = Fraction(1, 1000), ms, ms
            out.mux(p)
    with pytest.warns(UserWarning, match=r"repeat.mkv: timestamps repeat \(frame 2 has the time"):
        v = open_video(path)
    assert list(v.times) == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16, 0.2])
    assert [closest_pattern(f.image, 6) for f in v] == list(range(6))
    assert "25 fps" in v.record()["timing"]


def test_a_size_change_mid_stream_is_named_at_its_frame(tmp_path):
    # recordings of different sizes joined into one file: the reader said 32x32 (the header
    # left at the last part's size) and yielded 64x48 pictures, then 32x32 ones
    parts = []
    for name, (w, h), n in (("big.ts", (W, H), 6), ("small.ts", (32, 32), 4)):
        with av.open(str(tmp_path / name), "w", format="mpegts") as out:
            s = out.add_stream("libx264", rate=30, options={"qp": "0", "bf": "0"})
            s.width, s.height, s.pix_fmt = w, h, "yuv444p"
            for i in [*range(n), None]:
                img = None if i is None else pattern(i, h=h, w=w)
                frame = None if img is None else av.VideoFrame.from_ndarray(img, format="rgb24")
                for p in s.encode(frame):
                    out.mux(p)
        parts.append((tmp_path / name).read_bytes())
    path = tmp_path / "two sizes.ts"
    path.write_bytes(b"".join(parts))
    with pytest.warns(UserWarning, match="timestamps jump back"):
        v = open_video(path)
    assert v.size == (W, H) and len(v) == 10
    got = []
    with pytest.raises(VideoError) as err:
        for f in v:
            got.append(f.image.shape)
    assert got == [(H, W, 3)] * 6
    msg = one_line_naming(err, "two sizes.ts: cannot decode frame 6 (t=0.200 s)")
    assert "its picture is 32x32, the video's first 64x48: the size changes mid-stream" in msg


def test_interlaced_footage_is_named(tmp_path):
    # 1080i/576i cameras record two fields a frame; players deinterlace, ecoseg reads whole
    # frames (combing on moving animals) and said nothing
    path = tmp_path / "fields.mkv"
    _x264_pattern(path, 25, {"x264-params": "tff=1", "qp": "0"}, "yuv420p")
    with pytest.warns(UserWarning, match=r"fields.mkv: interlaced \(two fields a frame"):
        v = open_video(path)
    assert v.interlaced and v.record()["interlaced"] is True
    assert closest_pattern(v.read(1).image, 2) == 1


def _ts_clock(path, ticks: list[int]) -> None:
    """An MPEG-TS file of ``pattern(0..)`` with these 90 kHz timestamps, with B-frames."""
    with av.open(str(path), "w", format="mpegts") as out:
        s = out.add_stream("libx264", rate=30, options={"qp": "0", "g": "4", "bf": "2"})
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.time_base = Fraction(1, 90000)
        for i, t in enumerate(ticks):
            frame = av.VideoFrame.from_ndarray(pattern(i), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 90000)
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


@pytest.mark.parametrize(
    "first, step",
    [(2**33 - 65 * 90000, 5 * 90000), (2**33 - 45000, 3000)],
    ids=["wraps-mid-file", "starts-near-the-wrap"],
)
def test_mpegts_timestamps_that_wrap_at_2_33_run_on(tmp_path, first, step):
    # MPEG-TS PTS wrap at 2^33 ticks of 90 kHz (~26.5 h of a recorder's clock). FFmpeg's
    # demuxer unwraps them (correct_ts_overflow), so the times run on: no jump back of
    # ~95,443 s, no 'recordings joined' warning, and seeking across the wrap finds its frame
    path = tmp_path / "wrap.ts"
    n = 20
    _ts_clock(path, [first + i * step for i in range(n)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = open_video(path)
    assert "timing" not in v.record()
    np.testing.assert_allclose(v.times, np.arange(n) * step / 90000)
    assert [closest_pattern(v.read(i).image, n) for i in (n - 1, 2, 15, 13)] == [n - 1, 2, 15, 13]
    assert [closest_pattern(f.image, n) for f in v] == list(range(n))


def test_a_joined_ts_whose_clock_restarts_lower_is_not_taken_for_a_wrap(tmp_path):
    # `cat a.ts b.ts` where b's clock starts more than 60 s below a's: FFmpeg took b's
    # timestamps for wrapped ones and moved them 2^33 ticks on, so ecoseg timed b's frames
    # ~90,453 s after a's, with no warning. It is two recordings joined: b follows a.
    a, b = tmp_path / "a.ts", tmp_path / "b.ts"
    _ts_clock(a, [5000 * 90000 + i * 3000 for i in range(10)])
    _ts_clock(b, [10 * 90000 + i * 3000 for i in range(10)])
    path = tmp_path / "joined.ts"
    path.write_bytes(a.read_bytes() + b.read_bytes())
    with pytest.warns(UserWarning, match=r"jump back 4990.300 s at frame 10 \(t=0.333 s; 2 rec"):
        v = open_video(path)
    np.testing.assert_allclose(v.times, np.arange(20) / 30)
    assert [closest_pattern(f.image, 10) for f in v] == [*range(10), *range(10)]
    assert [closest_pattern(v.read(i).image, 10) for i in (15, 3, 12)] == [5, 3, 2]


def test_probe_file_refuses_what_the_reader_refuses_on_opening_in_its_words(
    tmp_path, clip, monkeypatch
):
    """probe_file (`ecoseg study --check`, a run's check before any work) repeated the
    reader's open checks in a copy of their code; both now make them in one function, so the
    two cannot drift apart: the same files refused in the same words."""
    import ecoseg.io.videofile as videofile

    whole = clip.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 3])
    (tmp_path / "text.mp4").write_bytes(b"not a video at all" * 10)
    bad = [tmp_path / "missing.mp4", tmp_path / "cut.mp4", tmp_path / "text.mp4"]
    opened = []
    real = videofile._opened

    def counted(path):
        opened.append(str(path))
        return real(path)

    monkeypatch.setattr(videofile, "_opened", counted)
    for path in bad:
        with pytest.raises(VideoError) as by_reader:
            open_video(path)
        with pytest.raises(VideoError) as by_probe:
            videofile.probe_file(path)
        assert str(by_probe.value) == str(by_reader.value)
        one_line_naming(by_probe, path.name)
    for path in bad[1:]:  # the one check, both ways (a missing path: open_video's own)
        assert opened.count(str(path)) == 2
    videofile.probe_file(clip)  # a good file passes

    class NoDecoder:  # a stream FFmpeg has no decoder for
        index = 0
        codec_context = None

    monkeypatch.setattr(videofile, "video_stream", lambda container, path: NoDecoder())
    with pytest.raises(VideoError) as by_reader:
        open_video(clip)
    with pytest.raises(VideoError) as by_probe:
        videofile.probe_file(clip)
    assert str(by_probe.value) == str(by_reader.value)
    assert str(by_probe.value) == (
        f"{clip}: unsupported video codec (FFmpeg has no decoder for its video stream)"
    )


def test_a_decoder_let_go_hands_its_memory_back(tmp_path, monkeypatch):
    """glibc kept the memory a 4K decoder freed (the process stayed about 100 MB larger
    after a reader closed): it is handed back when a reader's decoder is let go."""
    from ecoseg.io import videofile

    calls = []
    monkeypatch.setattr(videofile, "release_freed_memory", lambda: calls.append(1) or True)
    with open_video(write_clip(tmp_path / "c.mp4", 12)) as v:
        v.read(5)
        assert calls == []
        list(v.frames(0, 3))  # an iteration's decoder, closed at its end
        assert calls == [1]
    assert calls == [1, 1]  # the reader's decoder for reads by index


def test_releasing_freed_memory_is_a_no_op_without_glibc(monkeypatch):
    from ecoseg.io import _common

    assert _common.release_freed_memory() is (_common._malloc_trim() is not None)
    monkeypatch.setattr(_common.sys, "platform", "darwin")
    _common._malloc_trim.cache_clear()
    try:
        assert _common.release_freed_memory() is False
        monkeypatch.setattr(_common.sys, "platform", "linux")
        monkeypatch.setattr(_common.ctypes, "CDLL", _NoSymbols)
        _common._malloc_trim.cache_clear()
        assert _common.release_freed_memory() is False  # musl: no malloc_trim
    finally:
        _common._malloc_trim.cache_clear()


class _NoSymbols:
    def __init__(self, name):
        pass

    def __getattr__(self, name):
        raise AttributeError(name)
