"""A study follows the one rule for a folder given concepts
(:func:`ecoseg.engine.survey_rule.is_photo_survey`): a photo survey unless ``as_video: true``;
what a survey cannot use is refused by its key. A study tracked every folder as a video (and
had no ``as_video:``)."""

from __future__ import annotations

import pytest
from suite_helpers import photo_folder

from ecoseg.errors import ConfigError
from ecoseg.store import MaskStore
from ecoseg.study import load_study, run_study
from ecoseg.study.manifest import segment_inputs

pytest.importorskip("torch")

STUDY = """output: out
defaults:
  model: sam3-reduced
  pretrained: false
  device: cpu
  image_size: 112
videos:
  - path: quadrats
    concepts: [coral]
"""


@pytest.fixture
def study_file(tmp_path):
    photo_folder(tmp_path / "quadrats", 2)
    path = tmp_path / "study.yaml"
    path.write_text(STUDY)
    return path


@pytest.mark.slow
def test_a_folder_given_concepts_is_a_survey_unless_as_video(study_file, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1710000000")
    study = load_study(study_file)
    assert study.videos[0].survey and segment_inputs(study.videos[0], {})["survey"] is True
    run_study(study, progress=False, report=False)
    with MaskStore.open(study.store_path(study.videos[0])) as store:
        assert store.provenance_record.is_survey  # it was tracked as a video
    (study_file.parent / "quadrats").rename(study_file.parent / "archive")  # moved away
    moved = load_study(study_file, require_videos=False).videos[0]
    assert moved.survey  # its inputs as when the store was made: the store is kept
    (study_file.parent / "archive").rename(study_file.parent / "quadrats")
    study_file.write_text(STUDY + "    as_video: true\n")
    tracked = load_study(study_file).videos[0]
    assert tracked.as_video and not tracked.survey
    assert "survey" not in segment_inputs(tracked, {})  # a study's earlier tracking stays


def test_a_survey_refuses_what_it_cannot_use_by_its_key(study_file):
    study_file.write_text(STUDY + "    fast: true\n    detect_every: 2\n")
    with pytest.raises(ConfigError) as refused:
        load_study(study_file)
    said = str(refused.value)
    assert "a photo survey (concepts on images" in said and "\n" not in said
    assert said.endswith(
        "takes no `detect_every: 2`, `fast: true`; to track a folder of video frames instead, "
        "pass `as_video: true`"
    )
    study_file.write_text("output: out\nvideos:\n  - path: quadrats\n    as_video: true\n")
    with pytest.raises(ConfigError, match=r"as_video: is for `concepts:` \(SAM 3\)"):
        load_study(study_file)


def test_the_defaults_bf16_and_detector_interval_are_for_the_concept_videos(study_file):
    """`fast: true` and `detect_every:` in `defaults:` went to a photo survey too, which then
    refused them (*a photo survey ... takes no `detect_every: 3`, `fast: true`*), although
    they were meant for the study's concept videos. A survey takes neither from `defaults:`;
    in its own entry each is still refused (the test above)."""
    (study_file.parent / "v.mp4").write_bytes(b"not really a video")
    study_file.write_text(
        STUDY.replace("  image_size: 112\n", "  fast: true\n  detect_every: 3\n")
        + "  - path: v.mp4\n    concepts: [coral]\n"
    )
    survey, video = load_study(study_file).videos
    assert survey.survey and (survey.fast, survey.detect_every) == (False, 1)
    assert not video.survey and (video.fast, video.detect_every) == (True, 3)


def test_the_defaults_frame_rate_and_tracking_parameters_are_for_the_concept_videos(study_file):
    """`fps:` and `params:` but `score_threshold` in `defaults:` went to a photo survey too,
    which then refused them (*a photo survey ... takes no `fps: 5`, ...*), although they were
    meant for the study's folders tracked as a video. A survey takes only `score_threshold`
    from `defaults:`; in its own entry the others are still refused."""
    photo_folder(study_file.parent / "frames", 2)
    study_file.write_text(
        STUDY.replace(
            "  image_size: 112\n",
            "  fps: 5\n  params: {new_track_score: 0.6, score_threshold: 0.4}\n",
        )
        + "  - path: frames\n    concepts: [coral]\n    as_video: true\n"
    )
    survey, tracked = load_study(study_file).videos
    assert survey.survey and (survey.fps, survey.params) == (None, {"score_threshold": 0.4})
    assert not tracked.survey and tracked.fps == 5.0
    assert tracked.params == {"new_track_score": 0.6, "score_threshold": 0.4}
    study_file.write_text(STUDY + "    fps: 5\n")
    with pytest.raises(ConfigError, match=r"a photo survey .* takes no `fps: 5`"):
        load_study(study_file)
