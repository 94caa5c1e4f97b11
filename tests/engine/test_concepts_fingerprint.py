"""A photo survey's store records the one image-folder fingerprint, so the video check is exact.

``segment_images`` is run with a stand-in predictor (it finds nothing): what is tested is the
provenance it writes and how :func:`ecoseg.io.video.check_same_video` reads it, not SAM 3.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import ecoseg.sam3
from ecoseg.engine.concepts import list_images, segment_images
from ecoseg.errors import VideoError
from ecoseg.io.folder import legacy_survey_sha256
from ecoseg.io.video import check_same_video, open_video
from ecoseg.store import MaskStore


class _FindsNothing:
    def __init__(self, net, tokenizer=None, score_threshold=0.5):
        self.original_size = None

    def predict(self, image, text=()):
        self.original_size = image.shape[:2]
        return []


@pytest.fixture
def survey(tmp_path, monkeypatch):
    """Three 30x20 photographs in a folder, and a function that segments a source."""
    monkeypatch.setattr(ecoseg.sam3, "ConceptPredictor", _FindsNothing)
    src = tmp_path / "quadrats"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in (1, 2, 10):
        Image.fromarray(rng.integers(0, 255, (20, 30, 3), np.uint8)).save(src / f"q{i}.png")
    net = SimpleNamespace(config=SimpleNamespace(name="stand-in"), image_size=32)

    def run(source, out):
        segment_images(
            source, ["coral"], out=tmp_path / out, model=net, tokenizer=str.split,
            device="cpu", progress=False,
        )  # fmt: skip
        return MaskStore.open(tmp_path / out)

    return src, run


def _edit(path: Path) -> None:
    """Change one pixel: same size, same count, other bytes."""
    a = np.array(Image.open(path))
    a[0, 0] = 255 - a[0, 0]
    Image.fromarray(a).save(path)


def test_a_survey_records_the_folder_readers_fingerprint(survey):
    src, run = survey
    store = run(src, "s.zarr")
    made = store.provenance_record.video
    assert made.sha256 == open_video(src).sha256()  # was another scheme: names and bytes
    check_same_video(open_video(src), made, store.path)
    _edit(src / "q2.png")
    with pytest.raises(VideoError, match="the sha256 differs"):  # was passed: size and count
        check_same_video(open_video(src), made, store.path)


def test_one_photograph_records_what_opening_it_hashes(survey):
    src, run = survey
    store = run(src / "q1.png", "one.zarr")
    made = store.provenance_record.video
    check_same_video(open_video(src / "q1.png"), made, store.path)
    _edit(src / "q1.png")
    with pytest.raises(VideoError, match="the sha256 differs"):
        check_same_video(open_video(src / "q1.png"), made, store.path)


def test_an_old_surveys_hash_is_checked_with_its_own_scheme(survey):
    """A store made before one fingerprint (``images`` recorded, no ``sha256_of``): its
    correct folder still matches, an edited one does not."""
    src, run = survey
    store = run(src, "old.zarr")
    with MaskStore.open(store.path, mode="a") as old:
        video = dict(old.provenance["video"])
        del video["sha256_of"]
        video["sha256"] = legacy_survey_sha256(list_images(src))  # as the old code wrote it
        old.set_provenance(video=video)
    made = MaskStore.open(store.path).provenance_record.video
    check_same_video(open_video(src), made, store.path)  # the right folder is not refused
    _edit(src / "q10.png")
    with pytest.raises(VideoError, match="the sha256 differs"):
        check_same_video(open_video(src), made, store.path)


def test_renamed_images_are_not_the_survey(survey):
    src, run = survey
    store = run(src, "s.zarr")
    (src / "q10.png").rename(src / "q3.png")
    with pytest.raises(VideoError, match="image names differ"):
        check_same_video(open_video(src), store.provenance_record.video, store.path)


def test_a_survey_lists_a_folder_as_the_folder_reader_does(survey):
    src, _ = survey
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(src / ".q0.png")  # hidden: skipped
    (src / "q5.png").mkdir()  # a folder, not an image
    names = [p.name for p in list_images(src)]
    assert names == ["q1.png", "q2.png", "q10.png"]
    assert names == [Path(f).name for f in open_video(src).files]
