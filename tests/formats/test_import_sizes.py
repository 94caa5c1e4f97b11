"""An annotation file of another frame size than the video: the refusal names the video.

``ecoseg import --format davis`` said ``00000.png: mask is 64x48 but the video is 32x24``, and
coco, ytvis, cvat and mots ``... differs from the video's 32x24``, without saying which video
(the file may be another video's, or the wrong video given). Then the import said ``...: mask
size 64x48 differs from the video's 32x24 (V)`` and evaluate ``...: mask is 80x48 but the video
V of the store S is 64x48``: now both say it one way (``size_differs``), each naming what it
knows of the video."""

from __future__ import annotations

import pytest

import ecoseg
from ecoseg.cli import main

SUFFIX = {"davis": "", "coco": ".json", "ytvis": ".json", "cvat": ".xml", "mots": ".txt"}
FOUND = {
    "davis": "mask size 64x48",
    "coco": "width 64",
    "ytvis": "width 64",
    "cvat": "<original_size> 64x48",
    "mots": "image size 64x48",
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A 64x48 clip with its truth, and a 32x24 video."""
    root = tmp_path_factory.mktemp("sizes")
    return ecoseg.synth(root / "big", frames=3, size=(64, 48)), ecoseg.synth(
        root / "small", frames=3, size=(32, 24)
    )


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_import_names_the_video_whose_size_differs(fmt, clips, tmp_path, capsys):
    big, small = clips
    annotation = tmp_path / f"gt{SUFFIX[fmt]}"
    ecoseg.export(big.truth, fmt, annotation)
    out = tmp_path / "imported.zarr"
    capsys.readouterr()
    args = ["import", str(annotation), "--format", fmt, "--video", str(small.video), "-o", str(out)]
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"{FOUND[fmt]}, but the video {small.video} is 32x24" in err, err
    assert err.endswith(  # and how to proceed, as a box file with many boxes outside says it
        ": is it the annotation of another video (or of another frame size)? Use it with the "
        "video it was made for"
    ), err
    assert not out.exists()
