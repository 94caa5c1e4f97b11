"""DAVIS folders: indexed PNGs in the DAVIS palette; `evaluate` takes such a folder as truth."""

from __future__ import annotations

import numpy as np
import pytest
from formats_helpers import make_store
from PIL import Image

import ecoseg
from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, export, read_annotations
from ecoseg.formats._common import palette
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
    lab[2, :, 3:] = 255
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


def test_evaluate_refuses_an_incomplete_folder(tmp_path):
    lab = np.ones((3, 4, 4), np.uint32)
    store = make_store(lab)
    folder = export(store, "davis", tmp_path / "pngs")
    (tmp_path / "pngs" / "00001.png").unlink()
    with pytest.raises(FormatError, match=r"pngs: no PNG mask for frame 1"):
        ecoseg.evaluate(store, folder)


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
    with pytest.raises(FormatError, match=r"00003\.png: mask is 5x5 but the video is 6x5"):
        read_annotations(tmp_path / "f", "davis", VideoInfo(6, 5, np.zeros(9), {}))
