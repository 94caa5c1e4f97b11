"""An annotation file that fails when it is read (EIO from a failing card or a network share
dropped after the file was found), and a ``labels.txt`` beside a MOT ground-truth file that
does.

Before: the formats read the file with ``Path.read_bytes`` (CVAT with ``open``), outside the
one reader of the files a user names, so the OSError came out as a traceback. Now each is one
line naming the file: ``NAME: cannot be read: Input/output error``, and nothing is written.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from reliability_helpers import assert_one_line_error

pytestmark = pytest.mark.bad_input

_MOT = "1,3,70,51,21,12,1,-1,-1,-1\n"
_GT = "1,3,70,51,21,12,1,2,1\n"  # MOTChallenge ground truth: class 2, labels.txt's line 2
_MOTS = "1 1 1 64 96 PPQ11O10O10O0nKn\n"
_VIAME = "3,00:00:00.000000,0,10,11,31,23,1,-1,goby,0.9\n"
_COCO = '{"images": [], "annotations": [], "categories": []}'
_YTVIS = '{"videos": [], "annotations": [], "categories": []}'
_CVAT = "<annotations><version>1.1</version></annotations>"
_EIO = "cannot be read: Input/output error"


@pytest.fixture
def failing(monkeypatch):
    """Make a file fail with EIO when it is opened to be read (after it was found)."""
    real = Path.open

    def arrange(path: Path) -> None:
        def opening(self, *args, **kwargs):
            if self == path:
                raise OSError(errno.EIO, "Input/output error", str(self))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", opening)

    return arrange


@pytest.mark.parametrize(
    ("fmt", "name", "content"),
    [
        ("mot", "gt.txt", _MOT),
        ("mots", "gt.txt", _MOTS),
        ("viame", "t.csv", _VIAME),
        ("coco", "a.json", _COCO),
        ("ytvis", "a.json", _YTVIS),
        ("cvat", "a.xml", _CVAT),
    ],
    ids=["mot", "mots", "viame", "coco", "ytvis", "cvat"],
)
def test_an_annotation_file_that_fails_when_read_is_one_line(
    clip, tmp_path, cli, failing, fmt, name, content
):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    failing(path)
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", fmt, "--video", clip.video, "-o", out)
    assert_one_line_error(code, err, f"{path}: {_EIO}")
    assert not out.exists()


def test_a_mot_labels_file_that_fails_when_read_is_one_line(clip, tmp_path, cli, failing):
    path = tmp_path / "gt.txt"
    path.write_text(_GT, encoding="utf-8")
    labels = tmp_path / "labels.txt"
    labels.write_text("crab\ngoby\n", encoding="utf-8")
    failing(labels)
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", "mot", "--video", clip.video, "-o", out)
    assert_one_line_error(code, err, f"{labels}: {_EIO}")
    assert not out.exists()


def test_a_cvat_file_that_fails_past_its_first_bytes_is_one_line(clip, tmp_path, cli, monkeypatch):
    # its first 8 KiB read, the rest not (a bad sector further on)
    import xml.etree.ElementTree as ET

    def parse(source, *args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", str(source))

    monkeypatch.setattr(ET, "parse", parse)
    path = tmp_path / "a.xml"
    path.write_text(_CVAT, encoding="utf-8")
    out = tmp_path / "t.zarr"
    code, _, err = cli("import", path, "--format", "cvat", "--video", clip.video, "-o", out)
    assert_one_line_error(code, err, f"{path}: {_EIO}")
    assert not out.exists()
