"""Stores made from an EXIF-oriented image folder before ecoseg read such images upright.

Those stores hold the images as stored (sideways: 96x64 where the folder now reads 64x96, or
upside down at the same size); the files, and so the folder's sha256, are the same. Resuming
failed on the size, or went on with masks turned against the new frames; the checks of
napari, report, batch and ``info --video`` said "it is 96x64 px, the store's video 64x96", or
(half a turn) took the folder for the store's video.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import ecoseg
import ecoseg.io.folder as folder_module
from ecoseg.cli import main
from ecoseg.errors import VideoError
from ecoseg.io.video import check_same_video, open_video, video_mismatch
from ecoseg.store import MaskStore

TRACKER = '{"warmup": 4, "min_hits": 1, "threshold": 3.0}'


def _photos(root, tag: int):
    """A synthetic clip's 12 frames saved as a camera does with EXIF orientation ``tag``."""
    clip = ecoseg.synth(root / "clip", frames=12, size=(96, 64), seed=1)
    photos = root / "photos"
    photos.mkdir()
    turn = {6: 1, 3: 2}[tag]  # the stored pixels are the upright ones turned back
    for frame in ecoseg.open_video(clip.video):
        img = Image.fromarray(np.ascontiguousarray(np.rot90(frame.image, turn)))
        exif = img.getexif()
        exif[0x0112] = tag
        img.save(photos / f"IMG_{frame.index:04d}.jpg", exif=exif, quality=95)
    return photos


def _store_made_before(photos, out, monkeypatch) -> MaskStore:
    """A store made as ecoseg did before it read EXIF orientation (images as stored)."""
    with monkeypatch.context() as m:
        m.setattr(folder_module, "orientation", lambda img: 1)
        assert main(["segment", str(photos), "-o", str(out), "--params", TRACKER]) == 0
    return MaskStore.open(out)


@pytest.mark.parametrize("tag", [6, 3], ids=["quarter-turn", "half-turn"])
def test_an_old_store_of_an_exif_folder_says_why_it_no_longer_fits(
    tmp_path, monkeypatch, capsys, tag
):
    photos = _photos(tmp_path, tag)
    old = _store_made_before(photos, tmp_path / "old.zarr", monkeypatch)
    made = old.provenance_record.video
    assert made.frame_size == ((64, 96) if tag == 6 else (96, 64))  # as stored
    reader = open_video(photos)
    now = "96x64"  # the clip, upright
    turn = "turned a quarter clockwise" if tag == 6 else "turned half a turn"
    expected = (
        f"its images carry an EXIF orientation (IMG_0000.jpg: {turn} to view) and the store "
        f"was made before ecoseg read such images upright: it holds them as stored, "
        f"{made.frame_size[0]}x{made.frame_size[1]} px, and the folder now reads {now} px "
        "upright; re-segment the folder into a new store, or use this store without the "
        "folder (its masks and tables are of the images as stored)"
    )
    # napari, report, batch: the reader-vs-store check
    assert video_mismatch(reader, made) == expected
    with pytest.raises(VideoError, match="carry an EXIF orientation"):  # info --video, classify
        check_same_video(reader, made, old.path)

    # resume: refused with that reason, one line, exit 1
    capsys.readouterr()
    code = main(["segment", str(photos), "-o", str(old.path), "--resume", "--params", TRACKER])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "\n" not in err, err
    assert f"cannot resume from {photos}: {expected}" in err


def test_a_store_made_upright_fits_its_exif_folder_and_resumes(tmp_path, monkeypatch):
    photos = _photos(tmp_path, 6)
    out = tmp_path / "new.zarr"
    assert main(["segment", str(photos), "-o", str(out), "--params", TRACKER]) == 0
    made = MaskStore.open(out).provenance_record.video
    assert made.extra["exif_upright"] == {"image": "IMG_0000.jpg", "orientation": 6}
    assert made.frame_size == (96, 64)
    assert video_mismatch(open_video(photos), made) is None
    assert main(["segment", str(photos), "-o", str(out), "--resume", "--params", TRACKER]) == 0
