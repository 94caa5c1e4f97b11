"""Image folders (ecoseg.io.folder): order, formats, crop/resize, hashing, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from video_helpers import (
    H,
    W,
    one_line_naming,
    pattern,
)

from ecoseg.errors import VideoError
from ecoseg.io.folder import VIDEO_SUFFIXES, folder_images
from ecoseg.io.video import (
    ImageFolderReader,
    natural_key,
    open_video,
)


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


def test_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    with pytest.raises(VideoError) as info:
        open_video(empty)
    assert "no images" in one_line_naming(info, "empty")

    assert "holds" not in str(info.value)  # no video in it: nothing more to say

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


def _save_sideways(path, upright: np.ndarray, tag: int) -> None:
    """Store ``upright`` as a camera does with EXIF orientation ``tag`` (6: turned 90 deg cw
    to view, 8: 90 deg ccw, 3: 180 deg): the stored pixels are the upright ones turned back."""
    stored = {6: np.rot90(upright, 1), 8: np.rot90(upright, -1), 3: np.rot90(upright, 2)}[tag]
    img = Image.fromarray(np.ascontiguousarray(stored))
    exif = img.getexif()
    exif[0x0112] = tag
    img.save(path, exif=exif)


@pytest.mark.parametrize("tag", [6, 8, 3])
def test_exif_orientation_gives_the_upright_picture_viewers_show(tmp_path, tag):
    # Phones and cameras store portrait shots sideways plus an EXIF orientation tag; masks were
    # made on the sideways pixels (60x40 where the user sees 40x60), unlike rotated videos.
    folder = tmp_path / "portrait"
    folder.mkdir()
    upright = [pattern(i, h=W, w=H) for i in range(2)]  # 48 wide, 64 high
    for i, img in enumerate(upright):
        _save_sideways(folder / f"{i}.png", img, tag)
    v = open_video(folder)
    assert v.size == (H, W)
    for i in range(2):
        np.testing.assert_array_equal(v.read(i).image, upright[i])
    np.testing.assert_array_equal(
        open_video(folder, crop=(0, 0, 10, 20)).read(1).image, upright[1][:20, :10]
    )


def test_portrait_and_landscape_photos_mixed_are_named(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(pattern(0)).save(folder / "0.png")  # landscape 64x48
    _save_sideways(folder / "1.png", pattern(1), 6)  # stored 48x64, viewed 64x48: same size
    np.testing.assert_array_equal(open_video(folder).read(1).image, pattern(1))
    _save_sideways(folder / "2.png", pattern(2, h=W, w=H), 6)  # viewed 48x64: portrait
    with pytest.raises(VideoError) as err:
        open_video(folder)
    msg = one_line_naming(err, "2.png")
    assert "48x64" in msg and "EXIF orientation" in msg


def test_a_folder_without_images_names_the_videos_it_holds(tmp_path):
    """``ecoseg synth -o c.mp4`` makes a folder ``c.mp4/`` holding ``video.mp4``; opening that
    folder said only "folder has no images", leaving the user to find the video."""
    synth_out = tmp_path / "c.mp4"
    synth_out.mkdir()
    (synth_out / "video.mp4").write_bytes(b"")
    (synth_out / "truth.zarr").mkdir()
    with pytest.raises(VideoError) as info:
        open_video(synth_out)
    line = one_line_naming(info, "no images")
    assert line.endswith(f"; it holds a video: {synth_out / 'video.mp4'}")

    many = tmp_path / "card"
    many.mkdir()
    for name in ("GX10.MP4", "GX2.MP4", "a.mov", "b.avi", "notes.txt"):
        (many / name).write_bytes(b"")
    with pytest.raises(VideoError) as info:
        folder_images(many)
    shown = ", ".join(str(many / n) for n in ("a.mov", "b.avi", "GX2.MP4"))
    assert str(info.value).endswith(f"; it holds videos: {shown} and 1 more")
    assert folder_images(write_folder(tmp_path / "ok", 2)) == ["img0.png", "img1.png"]


def test_mpeg_ts_and_mxf_are_video_names_napari_reads_too():
    """A camcorder's ``.m2ts``, a recorder's ``.ts``: not taken for videos (a folder holding
    only them said nothing of them; ``ecoseg info clip.ts`` called it "not a zarr store"), and
    napari's reader, whose manifest lists the names by hand, must list the same ones."""
    import yaml

    import ecoseg.napari

    assert {".ts", ".m2ts", ".mxf", ".mts"} <= VIDEO_SUFFIXES
    manifest = os.path.join(os.path.dirname(ecoseg.napari.__file__), "napari.yaml")
    with open(manifest, encoding="utf-8") as f:
        (reader,) = yaml.safe_load(f)["contributions"]["readers"]
    patterns = {p for p in reader["filename_patterns"] if p not in ("*.zarr", "*.zip")}
    assert patterns == {f"*{suffix}" for suffix in VIDEO_SUFFIXES}
