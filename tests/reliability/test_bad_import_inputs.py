"""An import given a bad annotation file and a bad video names the user's annotation file
first, with and without ``--fps`` and in every format; a DAVIS folder that holds JPEG images
only (a video's frames given as its masks) is refused saying so (the order of an import's
inputs and its output: ``test_bad_outputs.py``)."""

from __future__ import annotations

import pytest
from reliability_helpers import assert_names, assert_one_line_error
from reliability_helpers import file_tree as _tree

import ecoseg
from ecoseg.errors import FormatError
from ecoseg.formats import FORMATS, format_module

# a missing annotation file of each format (davis: a folder), as the refusal names it
_MISSING = {
    name: (f"nope{format_module(name).SUFFIX}", "davis format is a folder of PNG masks")
    if name == "davis"
    else (f"nope{format_module(name).SUFFIX}", f"{name} annotation file not found")
    for name in FORMATS
}


def _jpeg_frames(clip, folder, n=3):
    """``folder`` holding the clip's first ``n`` frames as JPEG images (an image folder)."""
    from PIL import Image

    folder.mkdir()
    with ecoseg.open_video(clip.video) as video:
        for frame in list(video)[:n]:
            Image.fromarray(frame.image).save(folder / f"{frame.index:05d}.jpg")
    return folder


@pytest.mark.bad_input
@pytest.mark.parametrize("fps", [None, "5"], ids=["index", "fps"])
@pytest.mark.parametrize("fmt", sorted(_MISSING))
def test_import_names_a_missing_annotation_file_before_a_missing_video(fmt, fps, tmp_path, cli):
    """With ``--fps`` the command opened the video before it looked at the annotation file,
    so a missing file and a missing video named the video; without it, the file came first.
    The file comes first in both now."""
    ann = tmp_path / _MISSING[fmt][0]
    video = tmp_path / ("frames" if fps else "nov.mp4")
    rate = ["--fps", fps] if fps else []
    out = tmp_path / "m.zarr"
    code, _, err = cli("import", ann, "--format", fmt, "--video", video, "-o", out, *rate)
    line = assert_one_line_error(code, err, str(ann), _MISSING[fmt][1])
    assert str(video) not in line.replace(str(ann), ""), line
    assert not out.exists()


@pytest.mark.bad_input
@pytest.mark.parametrize("video", ["video-file", "empty-folder"])
def test_import_at_fps_names_a_missing_annotation_file_before_a_video_that_refuses_it(
    video, clip, tmp_path, cli
):
    """``--fps`` with a video file (which refuses a rate) or a folder without images: the
    video was named, a missing annotation file only after it was fixed."""
    ann = tmp_path / "gt.txt"
    given = clip.video if video == "video-file" else tmp_path / "frames"
    if video == "empty-folder":
        given.mkdir()
    out = tmp_path / "m.zarr"
    code, _, err = cli("import", ann, "--format", "mot", "--video", given, "-o", out, "--fps", "10")
    assert_one_line_error(code, err, f"{ann}: mot annotation file not found")
    assert not out.exists()


@pytest.mark.bad_input
def test_reading_annotations_names_a_missing_file_before_a_missing_video(tmp_path, cli):
    """``read_annotations`` (and so ``segment --prompts-from``) opened the video first: a
    missing file and a missing video named the video."""
    ann, video = tmp_path / "gt.txt", tmp_path / "nov.mp4"
    with pytest.raises(FormatError) as caught:
        ecoseg.formats.read_annotations(ann, "mot", video)
    assert_names(caught, f"{ann}: mot annotation file not found")
    code, _, err = cli(
        "segment", video, "-o", tmp_path / "m.zarr", "--prompts-from", ann, "--format", "mot"
    )
    assert_one_line_error(code, err, f"{ann}: mot annotation file not found")


@pytest.mark.bad_input
@pytest.mark.parametrize("video", ["clip", "missing", "same-folder-at-fps"])
def test_import_davis_of_a_folder_of_jpeg_frames_says_masks_are_indexed_pngs(
    video, clip, tmp_path, cli
):
    """A DAVIS folder holding JPEG images only (the video's frames given as its masks, or
    masks saved as JPEG) was refused as *no PNG masks in the folder*, and after a missing
    video: the refusal names the folder and says what it holds and what DAVIS masks are,
    before the video is opened (also ``--fps``: the frames folder given as both)."""
    frames = _jpeg_frames(clip, tmp_path / "frames")
    given = {"clip": clip.video, "missing": tmp_path / "nov.mp4", "same-folder-at-fps": frames}
    rate = ["--fps", "10"] if video == "same-folder-at-fps" else []
    out = tmp_path / "m.zarr"
    code, _, err = cli(
        "import", frames, "--format", "davis", "--video", given[video], "-o", out, *rate
    )
    line = assert_one_line_error(
        code,
        err,
        f"{frames}: holds JPEG images only (00000.jpg, 00001.jpg, ...), no PNG masks",
        "DAVIS annotations are indexed PNGs",
        "the video's frames rather than its masks",
    )
    assert "nov.mp4" not in line
    assert not out.exists()


@pytest.mark.bad_input
def test_import_davis_of_a_folder_of_tiff_images_names_them_before_an_existing_store(
    store, clip, tmp_path, cli
):
    """Masks saved as TIFF only, imported over an existing store: the folder is named (what
    it holds, that DAVIS masks are PNGs) before the store, which is left as it was."""
    from PIL import Image

    masks = tmp_path / "masks"
    masks.mkdir()
    Image.new("L", (96, 64)).save(masks / "00000.tif")
    before = _tree(store)
    code, _, err = cli("import", masks, "--format", "davis", "--video", clip.video, "-o", store)
    line = assert_one_line_error(
        code, err, f"{masks}: holds images that are not PNG only (00000.tif), no PNG masks"
    )
    assert "frames rather than" not in line and str(store) not in line
    assert _tree(store) == before


# a malformed annotation file of each format checked without the video (davis: its PNGs are
# read at the video's size, so its video is named first), and the words that refuse it
_MALFORMED = {
    "coco": ("bad.json", '{"images": [', "invalid JSON at line 1"),
    "ytvis": ("bad.json", '{"videos": [}', "invalid JSON at line 1"),
    "cvat": ("bad.xml", "<annotations><track>", "not well-formed XML"),
    "mot": ("bad.txt", "1,1,2,2\n", "line 1: expected at least 6 comma-separated values"),
    "mots": ("bad.txt", "1 1 1 48\n", "line 1: expected 6 space-separated values, got 4"),
    "viame": ("bad.csv", "1,x.png,0,1\n", "line 1: expected at least 9 comma-separated fields"),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("video", ["undecodable", "missing", "folder-at-fps"])
@pytest.mark.parametrize("fmt", sorted(_MALFORMED))
def test_import_names_a_malformed_annotation_file_before_a_bad_video(fmt, video, tmp_path, cli):
    """A malformed file and a video that cannot be opened (not a video, missing, an empty
    folder at ``--fps``) named the video: reading the file needs the video's size. The
    file's syntax is checked without it (its sizes with the video), so the file comes first,
    as a missing file does; ``read_annotations`` (``segment --prompts-from``) likewise."""
    name, text, words = _MALFORMED[fmt]
    ann = tmp_path / name
    ann.write_text(text)
    given = {
        "undecodable": tmp_path / "clip.mp4",
        "missing": tmp_path / "nov.mp4",
        "folder-at-fps": tmp_path / "frames",
    }[video]
    if video == "undecodable":
        given.write_bytes(b"not a video at all")
    if video == "folder-at-fps":
        given.mkdir()
    rate = ["--fps", "10"] if video == "folder-at-fps" else []
    out = tmp_path / "m.zarr"
    code, _, err = cli("import", ann, "--format", fmt, "--video", given, "-o", out, *rate)
    line = assert_one_line_error(code, err, f"{ann}: ", words)
    assert str(given) not in line, line
    assert not out.exists()
    if video != "folder-at-fps":
        with pytest.raises(FormatError) as caught:
            ecoseg.formats.read_annotations(ann, fmt, given)
        assert_names(caught, str(ann), words)


@pytest.mark.bad_input
def test_import_names_a_bad_video_where_the_file_reads_well(tmp_path, clip, cli):
    """The file checked first only decides which is named: a well-formed file and a video
    that cannot be opened name the video, as before."""
    ann = ecoseg.export(clip.truth, "mot", tmp_path / "gt.txt")
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"not a video at all")
    code, _, err = cli("import", ann, "--format", "mot", "--video", bad, "-o", tmp_path / "m")
    line = assert_one_line_error(code, err, str(bad))
    assert "gt.txt" not in line
