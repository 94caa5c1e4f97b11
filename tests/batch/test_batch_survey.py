"""``ecoseg batch`` follows the one rule for a folder given concepts
(:func:`ecoseg.engine.survey_rule.is_photo_survey`): a photo survey unless ``as_video``
(``--as-video``); what a survey cannot use is refused before any work, in ``segment``'s line.
It tracked every folder as a video."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from suite_helpers import cached_sam3_weights, photo_folder

from ecoseg.batch import batch
from ecoseg.store import MaskStore

pytest.importorskip("torch")

NET = {"model": "sam3-reduced", "pretrained": False, "device": "cpu", "image_size": 112}


@pytest.fixture
def folder(tmp_path):
    return photo_folder(tmp_path / "quadrats", 1)


def _run(folder, out, **kw):
    kw = {**NET, **kw}
    with ThreadPoolExecutor(1) as pool:
        return batch([folder], out, scheduler=pool, progress=False, concepts=["coral"], **kw)


@pytest.mark.slow
def test_a_folder_given_concepts_is_a_survey_and_a_rerun_skips_it(folder, tmp_path):
    summary = _run(folder, tmp_path / "out")
    assert summary[["status", "frames"]].values.tolist() == [["done", 2]]
    with MaskStore.open(tmp_path / "out" / "quadrats.zarr") as store:
        assert store.provenance_record.is_survey  # it was tracked as a video
    again = _run(folder, tmp_path / "out")  # the same settings as the survey records
    assert again[["status", "error"]].values.tolist() == [["skipped", ""]]
    tracked = _run(folder, tmp_path / "video", as_video=True)
    assert tracked["status"].tolist() == ["done"]
    with MaskStore.open(tmp_path / "video" / "quadrats.zarr") as store:
        assert not store.provenance_record.is_survey


def test_batch_refuses_what_a_survey_cannot_use_in_segments_line(folder, tmp_path, capsys):
    from ecoseg.cli import main

    lines = []
    for command, out in (("segment", "s.zarr"), ("batch", "out")):
        args = [command, str(folder), "-o", str(tmp_path / out), "--concepts", "coral"]
        assert main([*args, "--fast", "--detect-every", "3", "--random-weights"]) == 2
        lines.append(capsys.readouterr().err)
    assert lines[0] == lines[1]
    assert lines[0] == (
        f"ecoseg: error: {folder}: a photo survey (concepts on images, each photograph detected "
        "on its own) takes no --detect-every 3, --fast; to track a folder of video frames "
        "instead, pass --as-video\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_partial_survey_store_is_resumed_as_a_video_s(folder, tmp_path):
    """A survey stopped early (cancelled; a killed worker leaves the same) is continued, as a
    partial video store is; it failed with segment's 'takes no resume=True (--resume)'."""
    import ecoseg
    from ecoseg.errors import Cancelled

    store = tmp_path / "out" / "quadrats.zarr"
    asked = []
    with pytest.raises(Cancelled):  # stopped after the first photograph
        ecoseg.segment(
            folder, out=store, concepts=["coral"], progress=False,
            cancel=lambda: bool(asked.append(1)) or len(asked) > 1, **NET,
        )  # fmt: skip
    with MaskStore.open(store) as made:
        assert (made.n_frames, made.complete) == (1, False)
    summary = _run(folder, tmp_path / "out")
    assert summary[["status", "frames", "error"]].values.tolist() == [["done", 2, ""]]
    with MaskStore.open(store) as made:
        assert made.complete and made.provenance_record.is_survey


@pytest.mark.slow
def test_a_survey_made_with_cached_weights_is_skipped_with_them_not_with_others(
    folder, tmp_path, monkeypatch
):
    """The store records the cached weights it was made with (path and sha256); the settings
    asked for recorded none, so a re-run said 'the model settings differ'."""
    cached_sam3_weights(tmp_path, monkeypatch)
    out = tmp_path / "out"
    assert _run(folder, out, pretrained=True)["status"].tolist() == ["done"]
    again = _run(folder, out, pretrained=True)
    assert again[["status", "error"]].values.tolist() == [["skipped", ""]]
    cached_sam3_weights(tmp_path, monkeypatch, seed=1)  # other weights downloaded since
    other = _run(folder, out, pretrained=True)
    assert other["status"].tolist() == ["failed"]
    assert "the model settings differ from the run that made the store" in other["error"][0]
