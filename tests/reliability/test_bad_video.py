"""Bad video input: every case is a VideoError naming the file (and frame), before any model.

Each case is tried through the Python API and through ``ecoseg segment`` with the SAM 2 engine
and a valid prompt file, so a model *would* be built if the video were not checked first.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from reliability_helpers import assert_names, assert_one_line_error, run_cli

import ecoseg
from ecoseg.errors import VideoError
from ecoseg.io.video import open_video
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input


def _mp4(clip) -> bytes:
    return Path(clip.video).read_bytes()


def zero_bytes(clip, d):
    return b"", "file is empty"


def text_as_mp4(clip, d):
    return b"these are my field notes, not a video\n" * 20, "not a readable video"


def truncated_header(clip, d):
    return _mp4(clip)[:200], "not a readable video"


def corrupted_header(clip, d):
    data = bytearray(_mp4(clip))
    data[:64] = np.random.default_rng(0).integers(0, 256, 64, dtype=np.uint8).tobytes()
    return bytes(data), "not a readable video"


def truncated_end(clip, d):
    # the index of a camera mp4 is at the end: a cut-off copy has no index at all
    data = _mp4(clip)
    assert data.find(b"moov") > data.find(b"mdat")
    return data[: len(data) * 2 // 3], "not a readable video (its MP4/MOV index, the moov box"


def unsupported_codec(clip, d):
    data = _mp4(clip)
    stsd = data.index(b"stsd")  # the sample description names the codec: avc1 -> zz99
    at = data.index(b"avc1", stsd)
    return data[:at] + b"zz99" + data[at + 4 :], "unsupported video codec"


def audio_only(clip, d):
    path = d / "tmp.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.read_bytes(), "no video stream"


def no_frame_size(clip, d):
    # an AVI of raw pictures whose headers (avih, the BITMAPINFOHEADER) give no frame size:
    # a raw picture says nothing of its size, so nothing can supply one
    path = d / "tmp.avi"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("rawvideo", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "bgr24"
        frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    data = bytearray(path.read_bytes())
    avih, strf = data.index(b"avih") + 8, data.index(b"strf") + 8
    assert struct.unpack("<II", data[avih + 32 : avih + 40]) == (64, 48)
    assert struct.unpack("<ii", data[strf + 4 : strf + 12]) == (64, -48)
    data[avih + 32 : avih + 40] = data[strf + 4 : strf + 12] = bytes(8)
    return bytes(data), "video stream has no frame size (damaged header?)"


FILE_CASES = [
    zero_bytes,
    text_as_mp4,
    truncated_header,
    corrupted_header,
    truncated_end,
    unsupported_codec,
    audio_only,
    no_frame_size,
]


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda f: f.__name__)
def test_bad_video_file(case, clip, good_prompts, tmp_path, no_model, cli):
    data, reason = case(clip, tmp_path)
    video = tmp_path / "GOPR0042.MP4"
    video.write_bytes(data)
    with pytest.raises(VideoError) as info:
        open_video(video)
    assert reason in assert_names(info, str(video))

    out = tmp_path / "masks.zarr"
    with pytest.raises(VideoError):
        ecoseg.segment(video, good_prompts, out=out, pretrained=False, progress=False)
    code, _, err = cli("segment", video, "-o", out, "--prompts", good_prompts, "--random-weights")
    assert_one_line_error(code, err, str(video), reason)
    assert not out.exists()  # nothing was started


def test_missing_video(tmp_path, no_model, cli, good_prompts):
    video = tmp_path / "nowhere.mp4"
    with pytest.raises(VideoError) as info:
        open_video(video)
    assert_names(info, str(video), "no such file")
    code, _, err = cli("segment", video, "-o", tmp_path / "m.zarr", "--prompts", good_prompts)
    assert_one_line_error(code, err, str(video))


def test_an_ecoseg_name_of_no_shipped_file(tmp_path, no_model, cli, good_prompts):
    # the name of the bundled sample is ecoseg:sample/video.mp4; another ecoseg: name was a
    # relative path that does not exist ('ecoseg:sample.mp4: no such file or directory')
    with pytest.raises(VideoError) as info:
        open_video("ecoseg:sample.mp4")
    assert_names(info, "ecoseg:sample.mp4: not a file ecoseg ships (ecoseg:sample/video.mp4")
    code, _, err = cli("segment", "ecoseg:sample.mp4", "-o", tmp_path / "m.zarr")
    assert_one_line_error(code, err, "ecoseg:sample.mp4: not a file ecoseg ships")


def test_annotation_text_file_given_as_the_video(clip, tmp_path, no_model, cli, good_prompts):
    # FFmpeg's tty demuxer drew a .txt file as ANSI art: a MOT gt.txt given as the video
    # (the arguments of import swapped) was segmented into a store of its characters
    video = tmp_path / "gt.txt"
    video.write_text("".join(f"{f},1,{f},10,20,12,1,-1,-1,-1\n" for f in range(1, 300)))
    with pytest.raises(VideoError) as info:
        open_video(video)
    assert_names(info, str(video), "a text file, not a video")
    out = tmp_path / "m.zarr"
    code, _, err = cli("segment", video, "-o", out, "--engine", "classical")
    assert_one_line_error(code, err, str(video), "a text file, not a video")
    assert not out.exists()


def test_empty_video_path(tmp_path, no_model, cli, good_prompts, monkeypatch):
    # "" was the working folder: read as an image folder, or ".: no images" named "."
    monkeypatch.chdir(tmp_path)
    with pytest.raises(VideoError) as info:
        open_video("")
    assert_names(info, "'': an empty path is not a video or image folder")
    code, _, err = cli("segment", "", "-o", tmp_path / "m.zarr", "--prompts", good_prompts)
    assert_one_line_error(code, err, "'': an empty path is not a video")
    assert not (tmp_path / "m.zarr").exists()


def test_corrupt_middle_names_the_frame_and_keeps_the_frames_before(clip, tmp_path, cli):
    """Damage inside the picture data is found while decoding: the error names the frame
    and the store keeps every frame before it, readable."""
    src = Path(clip.video)
    with av.open(str(src)) as c:
        pkts = [p for p in c.demux(video=0) if p.size]
    bad = next(p for p in pkts[12:] if not p.is_keyframe)
    data = bytearray(src.read_bytes())
    data[bad.pos : bad.pos + bad.size] = bytes(b ^ 0xFF for b in data[bad.pos : bad.pos + bad.size])
    video = tmp_path / "damaged.mp4"
    video.write_bytes(bytes(data))

    reader = open_video(video)  # the packets are intact: only decoding finds the damage
    with pytest.raises(VideoError) as info:
        for _ in reader:
            pass
    text = assert_names(info, str(video), "frame ")
    frame = int(text.split("frame ")[1].split()[0])
    assert 0 < frame < len(reader)

    out = tmp_path / "masks.zarr"
    code, _, err = cli("segment", video, "-o", out, "--engine", "classical")
    assert_one_line_error(code, err, str(video), f"frame {frame}")
    store = MaskStore.open(out)  # readable, holding only frames before the damage
    assert store.n_frames <= frame and not store.complete
    assert ecoseg.open_masks(out).sizes["t"] == store.n_frames


def _folder(tmp_path, n=6, name="frame_{:04d}.png", size=(48, 32)):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(n):
        img = np.full((size[1], size[0], 3), 20 * i, np.uint8)
        Image.fromarray(img).save(folder / name.format(i))
    return folder


def test_image_folder_with_a_missing_frame(tmp_path, cli, no_model, good_prompts):
    folder = _folder(tmp_path)
    os.remove(folder / "frame_0003.png")
    with pytest.raises(VideoError) as info:
        open_video(folder)
    assert_names(info, "frame_0003.png", "frame_0002.png", "frame_0004.png", "missing")
    code, _, err = cli("segment", folder, "-o", tmp_path / "m.zarr", "--prompts", good_prompts)
    assert_one_line_error(code, err, "frame_0003.png")


def test_image_folder_with_a_differently_sized_frame(tmp_path, cli, no_model, good_prompts):
    folder = _folder(tmp_path)
    Image.fromarray(np.zeros((40, 48, 3), np.uint8)).save(folder / "frame_0004.png")
    with pytest.raises(VideoError) as info:
        open_video(folder)
    assert_names(info, "frame_0004.png", "48x40", "48x32")
    code, _, err = cli("segment", folder, "-o", tmp_path / "m.zarr", "--prompts", good_prompts)
    assert_one_line_error(code, err, "frame_0004.png", "48x40")


def test_image_folder_with_each_frame_in_two_kinds(tmp_path, cli, no_model, good_prompts):
    """Frames exported twice, as JPEG and PNG, into one folder: every frame was read twice
    (``f_0000.jpg``, ``f_0000.png``, ...), so the clip had double the frames, each time was
    doubled and every speed halved, without a word."""
    folder = _folder(tmp_path)
    for i in range(6):
        Image.open(folder / f"frame_{i:04d}.png").save(folder / f"frame_{i:04d}.jpg")
    with pytest.raises(VideoError) as info:
        open_video(folder)
    assert_names(info, "frame_0000.png", "the same frame as frame_0000.jpg")
    code, _, err = cli("segment", folder, "-o", tmp_path / "m.zarr", "--prompts", good_prompts)
    assert_one_line_error(code, err, "frame_0000.png", "two kinds of image")
    assert not (tmp_path / "m.zarr").exists()


@pytest.mark.parametrize(
    "engine",
    [[], ["--model", "sam3-reduced", "--random-weights", "--device", "cpu", "--concepts", "x"]],
    ids=["motion-tracker", "concepts"],
)
def test_a_synth_folder_named_like_a_video_names_its_video(tmp_path, cli, engine):
    """A folder named like a video, holding one (``ecoseg synth -o c.mp4`` made such a folder
    until stop 59): ``segment c.mp4`` said "folder has no images" with the motion tracker and
    "no images (.jpeg, ...)" with concepts, naming no video."""
    ecoseg.synth(tmp_path / "c", frames=3, size=(64, 48), seed=1)
    (tmp_path / "c").rename(tmp_path / "c.mp4")
    video = tmp_path / "c.mp4" / "video.mp4"
    code, _, err = cli("segment", tmp_path / "c.mp4", "-o", tmp_path / "m.zarr", *engine)
    assert_one_line_error(code, err, "folder has no images", f"it holds a video: {video}")
    assert not (tmp_path / "m.zarr").exists()


def test_image_folder_with_a_damaged_image(tmp_path, cli, no_model, good_prompts):
    folder = _folder(tmp_path)
    (folder / "frame_0002.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(VideoError) as info:
        open_video(folder)
    assert_names(info, "frame_0002.png")
    code, _, err = cli("segment", folder, "-o", tmp_path / "m.zarr", "--prompts", good_prompts)
    assert_one_line_error(code, err, "frame_0002.png")


def test_folder_without_images(tmp_path, cli, no_model, good_prompts):
    folder = tmp_path / "card"
    folder.mkdir()
    (folder / "DCIM.txt").write_text("no images")
    with pytest.raises(VideoError) as info:
        open_video(folder)
    assert_names(info, str(folder), "no images")
    code, _, err = cli("segment", folder, "-o", tmp_path / "m.zarr", "--prompts", good_prompts)
    assert_one_line_error(code, err, str(folder))


def test_frame_steps_other_than_one_are_not_gaps(tmp_path):
    """Every 10th frame exported (frame_0000, frame_0010, ...) is a regular sequence."""
    folder = _folder(tmp_path, 1)
    for i in range(1, 5):
        shutil.copy(folder / "frame_0000.png", folder / f"frame_{10 * i:04d}.png")
    assert len(open_video(folder)) == 5


def test_subprocess_cli_bad_video_is_one_line(tmp_path):
    """The real console entry point: one line on stderr, exit status 2, no traceback."""
    video = tmp_path / "notes.mp4"
    video.write_text("not a video")
    done = run_cli("segment", video, "-o", tmp_path / "m.zarr")
    assert_one_line_error(done.returncode, done.stderr, str(video))


def test_classify_refuses_a_video_that_is_not_the_stores(clip, tmp_path, cli):
    """``classify --video`` took any clip of the same size and computed the species colours
    from the wrong frames; now the video is checked against the store's provenance (frame
    size, frame count, sha256) and a wrong one is named with the store and its video."""
    from ecoseg.demo import species_model_path

    store = tmp_path / "t1.zarr"
    shutil.copytree(clip.truth, store)
    before = MaskStore.open(store).objects
    model = species_model_path()
    other = ecoseg.synth(tmp_path / "t2", frames=len(open_video(clip.video)), size=(96, 64), seed=9)
    code, _, err = cli("classify", store, "--model", model, "--video", other.video)
    assert_one_line_error(code, err, str(other.video), str(store), "video.mp4", "sha256 differs")
    assert MaskStore.open(store).objects == before  # nothing classified
    short = ecoseg.synth(tmp_path / "t3", frames=5, size=(96, 64), seed=1)
    code, _, err = cli("classify", store, "--model", model, "--video", short.video)
    assert_one_line_error(code, err, str(short.video), "5 frames")
    with pytest.raises(VideoError, match="sha256 differs"):
        ecoseg.classify(store, model=model, videos=[other.video])
    copy = tmp_path / "copy.mp4"  # the same video under another name is fine
    shutil.copy(clip.video, copy)
    code, _, err = cli("classify", store, "--model", model, "--video", copy)
    assert code == 0, err


@pytest.mark.parametrize("command", ["segment", "import"])
def test_a_mask_store_given_as_the_video_is_named_as_a_store(tmp_path, cli, clip, command):
    """``ecoseg segment masks.zarr -o new.zarr`` (the store, not its video) said "masks.zarr:
    folder has no images (jpeg/jpg/png/tif/tiff)", as of an empty photo folder; ``import
    --video masks.zarr`` the same."""
    out = tmp_path / "m.zarr"
    if command == "segment":
        code, _, err = cli("segment", clip.truth, "-o", out)
    else:
        ecoseg.export(clip.truth, "mot", tmp_path / "gt.txt")
        code, _, err = cli(
            "import", tmp_path / "gt.txt", "--format", "mot", "--video", clip.truth, "-o", out
        )
    assert_one_line_error(code, err, str(clip.truth), "a zarr store", "not a video")
    assert "folder has no images" not in err
    assert not out.exists()
