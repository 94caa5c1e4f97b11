"""A study's ``fps:``: an image folder's frame rate, per video or in ``defaults:``, reaches its
store, and a changed rate segments the folder again (the times change, not the masks)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import ecoseg
from ecoseg.store import MaskStore
from ecoseg.study import load_study, run_study
from ecoseg.study.manifest import segment_inputs


@pytest.fixture
def study_file(tmp_path):
    """A study of one folder of 16 numbered frames (a synthetic clip's), without ``fps:``."""
    clip = ecoseg.synth(tmp_path / "clip", frames=16, size=(96, 64), seed=2)
    frames = tmp_path / "timelapse"
    frames.mkdir()
    for frame in ecoseg.open_video(clip.video):
        Image.fromarray(frame.image).save(frames / f"t_{frame.index:03d}.png")
    path = tmp_path / "study.yaml"
    path.write_text(
        "output: out\ndefaults:\n  params: {warmup: 4, min_hits: 1}\nvideos:\n  - path: timelapse\n"
    )
    return path


def test_the_rate_reaches_the_store_and_a_changed_rate_segments_again(study_file, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1710000000")
    path = study_file
    study = load_study(path)
    assert study.videos[0].fps is None
    default_inputs = segment_inputs(study.videos[0], {})
    assert "fps" not in default_inputs  # manifests made before the key stay valid

    path.write_text(path.read_text().replace("  params:", "  fps: 4\n  params:"))
    study = load_study(path)
    (video,) = study.videos
    assert video.fps == 4.0
    assert segment_inputs(video, {}) == {**default_inputs, "fps": 4.0}
    result = run_study(study, progress=False, report=False)
    store = MaskStore.open(result.stores["timelapse"])
    np.testing.assert_allclose(store.read_time(), np.arange(16) / 4)
    assert store.provenance["video"]["fps"] == 4.0
    labels = store.read_labels()
    tracks = ecoseg.measure(store.path)["tracks"]
    assert (tracks["duration_s"] > 0).any()

    path.write_text(path.read_text().replace("fps: 4", "fps: 8"))
    again = run_study(load_study(path), progress=False, report=False)
    assert again.segmented == ["timelapse"]  # the times changed: segmented again
    store = MaskStore.open(again.stores["timelapse"])
    np.testing.assert_allclose(store.read_time(), np.arange(16) / 8)
    np.testing.assert_array_equal(store.read_labels(), labels)
    faster = ecoseg.measure(store.path)["tracks"]
    np.testing.assert_allclose(faster["duration_s"], tracks["duration_s"] / 2)


def test_an_image_folder_moved_away_keeps_its_store_and_its_rate(study_file, monkeypatch):
    """A folder not there cannot say it is a folder (`fps:` is for folders only), nor be
    hashed as the study hashes it: its store (which records the folder's own fingerprint) is
    kept on the manifest's hash, with the rate the study file gives."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1710000000")
    path = study_file
    path.write_text(path.read_text().replace("  params:", "  fps: 4\n  params:"))
    run_study(path, progress=False, report=False)
    (path.parent / "timelapse").rename(path.parent / "archived")
    result = run_study(path, progress=False, report=False)
    assert result.not_found == ["timelapse"] and not result.segmented
    path.write_text(path.read_text().replace("fps: 4", "fps: 8"))  # needs the images again
    with pytest.raises(ecoseg.errors.ConfigError, match=r"was made with other settings than"):
        run_study(path, progress=False, report=False)
