"""One rule for a folder given SAM 3 concepts (``ecoseg.engine.survey_rule.is_photo_survey``):
a folder of images (or one image) is a photo survey from every entry point, ``as_video=True``
(``--as-video``) tracks it as frames, and what a survey cannot use is refused in one line, the
same from Python and the command line.

Before, ``segment FOLDER --concepts`` made a survey while ``segment FOLDER --prompts
concepts.json --model sam3`` and ``ecoseg.segment(FOLDER, concepts=...)`` tracked the folder
as a video.
"""

from __future__ import annotations

import json

import pytest
from suite_helpers import photo_folder

from ecoseg.errors import ConfigError

pytest.importorskip("torch")

NET = {"model": "sam3-reduced", "pretrained": False, "device": "cpu", "image_size": 112}
FLAGS = ["--model", "sam3-reduced", "--random-weights", "--device", "cpu", "--image-size", "112"]


@pytest.fixture
def folder(tmp_path):
    """Two small photographs."""
    return photo_folder(tmp_path / "quadrats", 0)


def _record(out):
    from ecoseg.store import MaskStore

    with MaskStore.open(out) as store:
        return store.provenance_record, store.n_frames


@pytest.mark.slow
def test_python_segment_of_a_folder_with_concepts_is_a_survey_unless_as_video(folder, tmp_path):
    import ecoseg

    out = ecoseg.segment(folder, out=tmp_path / "s.zarr", concepts=["coral"], progress=False, **NET)
    record, frames = _record(out)
    assert record.is_survey and frames == 2  # it tracked the folder as a video
    assert record.video.photos == ("q1.png", "q2.png")
    assert record.parameters == {"score_threshold": 0.5, "device": "cpu"}
    tracked = ecoseg.segment(
        folder, out=tmp_path / "v.zarr", concepts=["coral"], as_video=True, progress=False, **NET
    )
    record, frames = _record(tracked)
    assert not record.is_survey and frames == 2
    assert record.video.extra.get("image_folder") and record.parameters["detect_every"] == 1


@pytest.mark.slow
def test_cli_prompt_file_concepts_on_a_folder_make_a_survey(folder, tmp_path, capsys):
    from ecoseg.cli import main

    prompts = tmp_path / "concepts.json"
    prompts.write_text(json.dumps({"concepts": [{"text": "brain coral"}]}))
    out = tmp_path / "s.zarr"
    args = ["segment", str(folder), "--prompts", str(prompts), "-o", str(out), *FLAGS]
    assert main([*args, "--score-threshold", "0.2"]) == 0, capsys.readouterr().err
    said = capsys.readouterr()
    assert said.out == f"masks: {out}\n" and "2 photographs, a survey: 100%" in said.err
    assert "photograph/s" in said.err or "s/photograph" in said.err  # not "frame/s"
    record, _ = _record(out)
    assert record.is_survey  # it was tracked as a video of frames
    assert record.prompts == {"concepts": [{"text": "brain coral"}]}
    assert record.parameters["score_threshold"] == 0.2
    tracked = tmp_path / "v.zarr"
    assert main(["segment", str(folder), "--concepts", "coral", "--as-video", "-o", str(tracked)]
                + FLAGS) == 0  # fmt: skip
    assert "2 frames, a video: 100%" in capsys.readouterr().err
    assert not _record(tracked)[0].is_survey


def _refusals(folder, tmp_path):
    """(Python keyword arguments, command-line arguments) of things a survey cannot use."""
    exemplars = tmp_path / "exemplars.json"
    exemplars.write_text(
        json.dumps(
            {"concepts": [{"text": "coral", "exemplars": [{"frame": 0, "box": [1, 1, 9, 9]}]}]}
        )
    )
    clicks = tmp_path / "clicks.json"
    clicks.write_text(
        json.dumps(
            {
                "concepts": ["coral"],
                "objects": [
                    {"id": 1, "prompts": [{"frame": 0, "points": [[5, 5]], "labels": [1]}]}
                ],
            }
        )
    )
    return [
        ({"concepts": ["coral"], "fast": True}, ["--concepts", "coral", "--fast"]),
        ({"concepts": ["coral"], "detect_every": 2}, ["--concepts", "coral", "--detect-every",
                                                      "2"]),
        ({"concepts": ["coral"], "backward": False}, ["--concepts", "coral", "--forward-only"]),
        ({"concepts": ["coral"], "fps": 2.0}, ["--concepts", "coral", "--fps", "2"]),
        (
            {"concepts": ["coral"], "params": {"nms_iou": 0.2}},
            ["--concepts", "coral", "--params", '{"nms_iou": 0.2}'],
        ),
        ({"prompts": str(exemplars), "model": "sam3"}, ["--prompts", str(exemplars), "--model",
                                                        "sam3"]),
        ({"prompts": str(clicks), "model": "sam3"}, ["--prompts", str(clicks), "--model", "sam3"]),
    ]  # fmt: skip


def test_a_survey_refuses_what_it_cannot_use_alike_from_python_and_the_cli(
    folder, tmp_path, capsys
):
    import ecoseg
    from ecoseg._cli import cli_words
    from ecoseg.cli import main

    out = tmp_path / "s.zarr"
    for kwargs, args in _refusals(folder, tmp_path):
        with pytest.raises(ConfigError) as refused:
            ecoseg.segment(str(folder), out=out, progress=False, **{"pretrained": False, **kwargs})
        said = str(refused.value)
        assert said.startswith(f"{folder}: a photo survey (concepts on images"), said
        assert said.endswith("pass as_video=True (--as-video)") and "\n" not in said
        assert main(["segment", str(folder), "-o", str(out), "--random-weights", *args]) == 2
        assert capsys.readouterr().err == f"ecoseg: error: {cli_words(said)}\n", args
        assert not out.exists()
    said = cli_words(str(refused.value))
    assert "takes no objects to track (clicks, boxes in " in said and "--as-video" in said


def test_as_video_is_for_concepts_only(folder, tmp_path, capsys):
    import ecoseg
    from ecoseg.cli import main

    with pytest.raises(ConfigError, match=r"^as_video=True \(--as-video\) is for concepts"):
        ecoseg.segment(folder, out=tmp_path / "m.zarr", as_video=True, progress=False)
    assert main(["segment", str(folder), "-o", str(tmp_path / "m.zarr"), "--as-video"]) == 2
    assert capsys.readouterr().err.startswith("ecoseg: error: --as-video is for concepts")
    with pytest.raises(ConfigError, match="as_video .* must be True or False"):
        ecoseg.segment(folder, out=tmp_path / "m.zarr", concepts=["coral"], as_video="yes")
