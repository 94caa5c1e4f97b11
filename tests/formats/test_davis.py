"""DAVIS folders: indexed PNGs in the DAVIS palette; `evaluate` takes such a folder as truth."""

from __future__ import annotations

import numpy as np
import pytest
from formats_helpers import make_store
from PIL import Image

import ecoseg
import ecoseg.cli
from ecoseg.errors import FormatError, StoreError
from ecoseg.formats import VideoInfo, export, read_annotations
from ecoseg.formats.davis import palette
from ecoseg.store import MaskStore

# the first colours of the palette DAVIS 2017 ships (PASCAL VOC's)
DAVIS_COLOURS = [
    [0, 0, 0],
    [128, 0, 0],
    [0, 128, 0],
    [128, 128, 0],
    [0, 0, 128],
    [128, 0, 128],
    [0, 128, 128],
    [128, 128, 128],
    [64, 0, 0],
    [192, 0, 0],
]


def test_palette_is_davis():
    assert palette()[: len(DAVIS_COLOURS)].tolist() == DAVIS_COLOURS
    assert len({tuple(c) for c in palette().tolist()}) == 256


def test_one_indexed_png_per_frame(tmp_path):
    lab = np.zeros((3, 4, 5), np.uint32)
    lab[0, 1, 1] = 2
    lab[2, :, 3:] = 254  # the largest DAVIS id
    folder = export(make_store(lab), "davis", tmp_path / "pngs")
    files = sorted(p.name for p in (tmp_path / "pngs").iterdir())
    assert files == ["00000.png", "00001.png", "00002.png"]
    for t, name in enumerate(files):
        with Image.open(f"{folder}/{name}") as image:
            assert image.mode == "P"
            assert np.asarray(image.getpalette()[:30]).reshape(-1, 3).tolist() == DAVIS_COLOURS
            np.testing.assert_array_equal(np.asarray(image), lab[t])


def test_rgb_masks_in_palette_colours_are_read(tmp_path):
    lab = np.array([[0, 1, 2], [3, 0, 1]], np.uint8)
    (tmp_path / "f").mkdir()
    Image.fromarray(palette()[lab]).save(tmp_path / "f" / "00000.png")
    ann = read_annotations(tmp_path / "f", "davis", VideoInfo(3, 2, np.zeros(1), {}))
    assert sorted(t.id for t in ann.tracks) == [1, 2, 3]
    Image.fromarray(np.full((2, 3, 3), 7, np.uint8)).save(tmp_path / "f" / "00000.png")
    with pytest.raises(FormatError, match=r"00000\.png: pixel \(0, 0\) has a colour outside"):
        read_annotations(tmp_path / "f", "davis", VideoInfo(3, 2, np.zeros(1), {}))


def test_evaluate_takes_a_png_folder(sample, tmp_path):
    truth = sample[0]
    folder = export(truth, "davis", tmp_path / "truth pngs")
    result = ecoseg.evaluate(truth, folder)
    assert result["jf"]["mean"] == 1.0 and result["hota"]["hota"] == pytest.approx(1.0)
    # a prediction missing one object is scored against the folder as against the store
    labels = MaskStore.open(truth).read_labels()
    labels[labels == 3] = 0
    pred = make_store(labels, times=MaskStore.open(truth).read_time())
    by_folder, by_store = ecoseg.evaluate(pred, folder), ecoseg.evaluate(pred, truth)
    for key in ("hota", "identity", "clear", "area", "matching"):
        assert by_folder[key] == by_store[key]
    assert by_folder["jf"]["mean"] == by_store["jf"]["mean"] == 0.875
    assert by_folder["counts"]["all"] == by_store["counts"]["all"]  # DAVIS PNGs have no classes


def _partial_folder(tmp_path, keep):
    """A 10-frame truth (object 1 on every frame) and a PNG folder of the frames ``keep``."""
    lab = np.zeros((10, 6, 6), np.uint32)
    lab[:, 1:4, 1:4] = 1
    truth = make_store(lab)
    folder = export(truth, "davis", tmp_path / "pngs")
    for t in set(range(10)) - set(keep):
        (tmp_path / "pngs" / f"{t:05d}.png").unlink()
    return lab, folder


@pytest.mark.parametrize("keep", [(0, 3, 6, 9), (0, 1, 5, 9)])
def test_evaluate_scores_a_partial_folder_on_its_frames(tmp_path, keep):
    """PNGs of some frames only (every 3rd, or any set): those are the annotated frames and
    the only frames scored; a prediction wrong only on frames without a PNG is perfect (old
    code: refused, "no PNG mask for frame 1")."""
    lab, folder = _partial_folder(tmp_path, keep)
    wrong = lab.copy()
    others = sorted(set(range(10)) - set(keep))
    wrong[others] = 0
    wrong[others[0], 4:, 4:] = 7  # a false positive on a frame nobody annotated
    result = ecoseg.evaluate(make_store(wrong), folder)
    assert result["scored_frames"] == 4 and result["frames"] == 10
    assert result["jf"]["mean"] == 1.0 and result["hota"]["hota"] == pytest.approx(1.0)
    assert result["clear"]["fp"] == 0 and result["counts"]["all"]["mae"] == 0
    assert "scored on 4 of 10 frames" in result["note"]
    # wrong on an annotated frame: counted
    wrong[keep[1]] = 0
    result = ecoseg.evaluate(make_store(wrong), folder)
    assert result["clear"]["fn"] == 1 and result["jf"]["mean"] == pytest.approx(0.75)


def test_evaluate_cli_scores_a_partial_folder(tmp_path, capsys):
    lab, folder = _partial_folder(tmp_path, (0, 5))
    assert ecoseg.cli.main(["evaluate", make_store(lab), "--truth", str(folder)]) == 0
    out = capsys.readouterr()
    assert '"scored_frames": 2' in out.out and "scored on 2 of 10 frames" in out.err


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("00012.png", r"00012\.png: frame 12 is past the end of the store \S+ \(10 frames, 0\.\.9"),
        ("mask.png", r"mask\.png: no frame number in the file name"),
    ],
)
def test_evaluate_refuses_a_folder_with_a_bad_png(tmp_path, capsys, name, message):
    """A PNG past the video's end or without a frame number: one line naming the file."""
    lab, folder = _partial_folder(tmp_path, (0, 5))
    (tmp_path / "pngs" / "00005.png").rename(tmp_path / "pngs" / name)
    with pytest.raises(FormatError, match=message):
        ecoseg.evaluate(make_store(lab), folder)
    assert ecoseg.cli.main(["evaluate", make_store(lab), "--truth", str(folder)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and name in err


def test_evaluate_frames_must_be_annotated_ones(tmp_path):
    lab, folder = _partial_folder(tmp_path, (0, 5))
    store = make_store(lab)
    assert ecoseg.evaluate(store, store, frames=[5, 0, 5])["scored_frames"] == 2
    with pytest.raises(StoreError, match=r"frame 3 to score is not one it annotates"):
        ecoseg.evaluate(store, folder, frames=[0, 3])
    with pytest.raises(StoreError, match=r"frame 10 to score is not one of its 10 frames"):
        ecoseg.evaluate(store, store, frames=[10])


def test_one_bit_masks_are_object_1(tmp_path):
    """A 1-bit PNG (mode "1", as tools save one object's mask): 0 background, 1 object 1
    (old code: refused, "PNG mode 1 is not an indexed mask")."""
    (tmp_path / "f").mkdir()
    mask = np.zeros((4, 6), bool)
    mask[1:3, 2:5] = True
    Image.fromarray(mask).save(tmp_path / "f" / "00001.png")
    with Image.open(tmp_path / "f" / "00001.png") as image:
        assert image.mode == "1"
    out = ecoseg.formats.import_annotations(
        tmp_path / "f", "davis", VideoInfo(6, 4, np.arange(3) / 30, {}), tmp_path / "s.zarr"
    )
    lab = MaskStore.open(out).read_labels()
    assert lab.shape == (3, 4, 6)
    np.testing.assert_array_equal(lab[1], mask.astype(np.uint32))
    assert not lab[0].any() and not lab[2].any()


def test_wrong_size_names_the_file(tmp_path):
    (tmp_path / "f").mkdir()
    Image.fromarray(np.zeros((5, 5), np.uint8), mode="L").save(tmp_path / "f" / "00003.png")
    with pytest.raises(FormatError, match=r"00003\.png: mask size 5x5, but the video is 6x5"):
        read_annotations(tmp_path / "f", "davis", VideoInfo(6, 5, np.zeros(9), {}))


def test_export_writes_the_store_label_frames_as_they_are(tmp_path, monkeypatch):
    """A store's masks never overlap, so its label frames are the PNGs: an export writes them
    without encoding each object's mask as RLE and painting it back (old code did both, about
    two thirds of its time), and its bytes are those of the format's ``write`` of the
    store's instances (ids up to 254, objects with gaps, one object without masks)."""
    import ecoseg.formats._stores as stores
    from ecoseg.formats import davis, read_store

    rng = np.random.default_rng(5)
    lab = np.zeros((9, 11, 13), np.uint32)
    for t in range(9):
        for k, oid in enumerate((1, 2, 128, 253, 254)):
            if (t + k) % 3:  # gaps
                y, x = rng.integers(0, 8), rng.integers(0, 9)
                lab[t, y : y + 3, x : x + 4] = oid  # later objects cover earlier ones
    objects = [(i, "fish", "truth") for i in (1, 2, 9, 128, 253, 254)]  # 9: no mask
    store = str(tmp_path / "s.zarr")
    with MaskStore.create(store, height=11, width=13, objects=objects, chunk_frames=4) as st:
        st.append(lab, np.arange(9) / 30.0)
        st.mark_complete()
    whole = tmp_path / "whole"
    davis.write(read_store(store), whole)

    def refuse(*args, **kwargs):
        raise AssertionError("the masks were encoded as RLE")

    monkeypatch.setattr(stores, "encode_masks", refuse)
    folder = export(store, "davis", tmp_path / "pngs")
    names = sorted(p.name for p in whole.iterdir())
    assert names == [f"{t:05d}.png" for t in range(9)]
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == names
    for name in names:
        assert (tmp_path / "pngs" / name).read_bytes() == (whole / name).read_bytes(), name
    assert folder == str(tmp_path / "pngs")


def test_a_label_frame_with_an_id_above_255_is_refused(tmp_path):
    """An id the object table does not hold (a store written by other means) is not wrapped
    round to another object's value: the frame is named."""
    from ecoseg.formats import Annotations, davis

    head = Annotations(width=3, height=2, n_frames=2, source="s.zarr")
    lab = np.zeros((2, 3), np.uint32)
    lab[1, 2] = 300
    with pytest.raises(FormatError, match=r"^s.zarr: frame 1: object id 300 does not fit"):
        davis.write_labels(head, [(0, lab * 0), (1, lab)], tmp_path / "pngs")


def test_id_255_is_refused_it_is_davis_void(tmp_path):
    """DAVIS's evaluation (davis2017-evaluation ``get_all_masks``) and TrackEval's DAVIS reader
    take pixel value 255 as void, not as an object: an object 255 was written there."""
    lab = np.zeros((1, 4, 5), np.uint32)
    lab[0, 1, 1] = 255
    with pytest.raises(FormatError, match=r"object id 255 does not fit .*1\.\.254; 255 marks void"):
        export(make_store(lab), "davis", tmp_path / "pngs")
    assert not (tmp_path / "pngs").exists()


def test_void_pixels_of_a_davis_png_are_not_an_object(tmp_path):
    """A DAVIS 2017 / YouTube-VOS annotation with void pixels (255) around object 1: object 1
    is imported, the void left empty with a warning (it was imported as an object 255). A
    greyscale 0/255 mask (as tools save one object's) keeps its 255."""
    from ecoseg.formats.davis import VoidPixelsWarning

    lab = np.zeros((4, 5), np.uint8)
    lab[1:3, 1:3] = 255
    lab[1, 1] = 1
    (tmp_path / "p").mkdir()
    image = Image.fromarray(lab, mode="P")
    image.putpalette(palette().ravel().tolist())
    image.save(tmp_path / "p" / "00000.png")
    video = VideoInfo(5, 4, np.zeros(1), {})
    with pytest.warns(VoidPixelsWarning, match=r"1 PNGs \(00000\.png first\) have void pixels"):
        ann = read_annotations(tmp_path / "p", "davis", video)
    assert [t.id for t in ann.tracks] == [1]
    (tmp_path / "g").mkdir()
    Image.fromarray(np.where(lab == 255, 255, 0).astype(np.uint8), mode="L").save(
        tmp_path / "g" / "00000.png"
    )
    assert [t.id for t in read_annotations(tmp_path / "g", "davis", video).tracks] == [255]


def test_keeping_void_holds_the_void_the_reader_found(tmp_path):
    """Inside ``keeping_void`` the reader keeps each frame's void pixels (RLE) as it decoded
    them, the frames without void left out, so ``evaluate`` need not decode the PNGs again;
    outside it nothing is kept."""
    from ecoseg.formats._rle import decode_rle
    from ecoseg.formats.davis import VoidPixelsWarning, keeping_void

    (tmp_path / "p").mkdir()
    void = np.zeros((4, 5), bool)
    void[1:3, 2:5] = True
    for t in range(3):
        lab = np.where(void & (t != 1), 255, 0).astype(np.uint8)
        lab[0, 0] = 2
        image = Image.fromarray(lab, mode="P")
        image.putpalette(palette().ravel().tolist())
        image.save(tmp_path / "p" / f"{t:05d}.png")
    video = VideoInfo(5, 4, np.zeros(3), {})
    with keeping_void() as kept, pytest.warns(VoidPixelsWarning):
        read_annotations(tmp_path / "p", "davis", video)
    assert sorted(kept) == [0, 2]
    for t in (0, 2):
        np.testing.assert_array_equal(decode_rle(kept[t], 4, 5, "v"), void)
    kept.clear()  # a read after the close that kept its void would fill it again
    with pytest.warns(VoidPixelsWarning):
        read_annotations(tmp_path / "p", "davis", video)
    assert kept == {}  # closed: the second read kept nothing
