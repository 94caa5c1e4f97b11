"""MOTS: space-separated lines with COCO RLE masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from formats_helpers import make_store
from pycocotools import mask as mask_utils

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, export, read_annotations
from ecoseg.store import MaskStore


def test_lines_decode_with_pycocotools(tmp_path):
    lab = np.zeros((3, 5, 7), np.uint32)
    lab[0, 1:3, 2:6] = 4
    lab[2, 4, 6] = 11
    store = make_store(lab, classes={4: "b", 11: "a"})
    path = export(store, "mots", tmp_path / "m.txt")
    lines = open(path).read().splitlines()
    assert [line.split()[:5] for line in lines] == [
        ["1", "4", "2", "5", "7"],
        ["3", "11", "1", "5", "7"],
    ]
    for line in lines:
        frame, oid, _, h, w, counts = line.split()
        rle = {"size": [int(h), int(w)], "counts": counts.encode()}
        np.testing.assert_array_equal(mask_utils.decode(rle), lab[int(frame) - 1] == int(oid))


def test_kitti_frames_from_zero_and_ignore_regions(tmp_path):
    lab = np.zeros((2, 5, 7), np.uint32)
    lab[1, 0:2, 0:2] = 3
    store = make_store(lab)
    path = export(store, "mots", tmp_path / "m.txt")
    text = open(path).read().replace("2 3 1 5 7", "1 3 1 5 7")
    (tmp_path / "k.txt").write_text(text + "1 10000 10 5 7 " + text.split()[-1] + "\n")
    video = VideoInfo(7, 5, MaskStore.open(store).read_time(), {})
    ann = read_annotations(tmp_path / "k.txt", "mots", video, first_frame=0)
    assert [(i.frame, i.track) for i in ann.instances] == [(1, 3)]


@pytest.mark.parametrize(
    ("first_frame", "said"),
    [
        (None, "frame 3 .* \\(2 frames, 0\\.\\.1; the file counts them from 1: 1\\.\\.2\\)"),
        (0, "frame 3 .* \\(2 frames, 0\\.\\.1\\): is it"),
    ],
)
def test_a_frame_past_the_end_is_named_as_the_file_numbers_it(tmp_path, first_frame, said):
    """Line 2 holds frame 3: it was named 'frame 2' (its index from 0), a number the file
    does not hold; with ``first_frame=0`` (KITTI MOTS) the two agree."""
    lab = np.zeros((2, 5, 7), np.uint32)
    lab[0, 1:3, 2:6] = 4
    path = Path(export(make_store(lab), "mots", tmp_path / "m.txt"))
    line = path.read_text().splitlines()[0]
    path.write_text(f"{line}\n3{line[1:]}\n")
    video = VideoInfo(7, 5, np.arange(2) / 10, {})
    kw = {} if first_frame is None else {"first_frame": first_frame}
    with pytest.raises(FormatError, match=f"m.txt: line 2: {said}"):
        read_annotations(path, "mots", video, **kw)


def test_a_negative_first_frame_is_refused_up_front(tmp_path):
    # it was accepted and failed later as 'frame 40 is past the end'
    (tmp_path / "m.txt").write_text("1 2 1 4 4 24\n")
    video = VideoInfo(4, 4, np.arange(3) / 30, {})
    with pytest.raises(
        FormatError, match="m.txt: first_frame must be a non-negative integer, got -5"
    ):
        read_annotations(tmp_path / "m.txt", "mots", video, first_frame=-5)


def test_first_frame_on_another_format_names_the_file(tmp_path):
    # it said 'first_frame applies to the mots format only': which file, which format?
    (tmp_path / "gt.txt").write_text("1,1,1,1,3,3,1,-1,-1,-1\n")
    video = VideoInfo(4, 4, np.arange(3) / 30, {})
    with pytest.raises(
        FormatError, match=r"gt\.txt: first_frame applies to the mots format only, not mot$"
    ):
        read_annotations(tmp_path / "gt.txt", "mot", video, first_frame=0)


def test_wrong_size_names_line(tmp_path):
    (tmp_path / "m.txt").write_text("1 2 1 4 4 24\n")
    with pytest.raises(FormatError, match=r"m\.txt: line 1: image size 4x4, but the video is"):
        read_annotations(tmp_path / "m.txt", "mots", VideoInfo(5, 4, np.zeros(2), {}))


def test_an_undecodable_mask_names_the_file_and_leaves_no_store(tmp_path):
    import ecoseg
    from ecoseg.formats import import_annotations

    clip = ecoseg.synth(tmp_path / "clip", frames=3, size=(64, 48))
    (tmp_path / "m.txt").write_text("1 2 1 48 64 not-an-rle\n")
    out = tmp_path / "m.zarr"
    with pytest.raises(FormatError, match=r"m\.txt: line 1: RLE cannot be decoded"):
        import_annotations(tmp_path / "m.txt", "mots", clip.video, out)
    assert not out.exists()  # nothing to block the corrected import


@pytest.mark.parametrize("counts", ["71", "c2"])
def test_a_cut_short_rle_names_the_line(tmp_path, counts):
    """pycocotools decodes a run list that stops short of height x width without a word,
    leaving the rest of the mask as whatever was in memory (a different mask each run)."""
    (tmp_path / "m.txt").write_text(f"1 2 1 5 7 ;23000004\n2 2 1 5 7 {counts}\n")
    video = VideoInfo(7, 5, np.zeros(2), {})
    with pytest.raises(FormatError, match=r"m\.txt: line 2: RLE cannot be decoded .*not 5x7 = 35"):
        read_annotations(tmp_path / "m.txt", "mots", video)


def test_a_mask_that_sets_no_pixel_names_the_line(tmp_path):
    """A mask of one run over the frame was imported as nothing, without a word."""
    empty = mask_utils.encode(np.zeros((5, 7, 1), np.uint8, order="F"))[0]["counts"].decode()
    (tmp_path / "m.txt").write_text(f"1 2 1 5 7 ;23000004\n2 2 1 5 7 {empty}\n")
    video = VideoInfo(7, 5, np.zeros(2), {})
    with pytest.raises(FormatError, match=r"m\.txt: line 2: the mask covers no pixel of the 7x5"):
        read_annotations(tmp_path / "m.txt", "mots", video)


def test_ten_or_more_classes_survive_a_round_trip(tmp_path):
    """The tenth class was written as class_id 10, MOTS's ignore class, which the reader
    skips: every object of that species vanished from the imported store."""
    from ecoseg.formats import import_annotations

    lab = np.zeros((2, 4, 24), np.uint32)
    for oid in range(1, 13):
        lab[:, 1:3, 2 * oid - 2] = oid
    store = make_store(lab, classes={oid: f"species {oid:02d}" for oid in range(1, 13)})
    path = export(store, "mots", tmp_path / "m.txt")
    assert {line.split()[2] for line in open(path)} == {str(c) for c in (*range(1, 10), 11, 12, 13)}
    video = VideoInfo(24, 4, MaskStore.open(store).read_time(), {})
    back = MaskStore.open(import_annotations(path, "mots", video, tmp_path / "back.zarr"))
    np.testing.assert_array_equal(back.read_labels(), lab)
