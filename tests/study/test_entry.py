"""ecoseg.study._entry: one video's entry, its settings merged over `defaults:` and
checked for its engine."""

from __future__ import annotations

import pytest
from study_helpers import refusal, study_text

from ecoseg.cli import main
from ecoseg.errors import ConfigError
from ecoseg.study import load_study


def test_concept_videos_are_sam3_runs_with_defaults_and_overrides(tmp_path):
    import json

    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.mp4").write_bytes(b"not really a video")
    (tmp_path / "ex.json").write_text(
        json.dumps({"concepts": [{"exemplars": [{"frame": 0, "box": [1, 1, 5, 5]}]}]})
    )
    path = tmp_path / "study.yaml"
    path.write_text(
        study_text(
            "- path: a.mp4\n"
            "- path: b.mp4\n  concepts: sea urchin\n  detect_every: 4\n"
            "- path: c.mp4\n  concepts: []\n  prompts: ex.json\n",
            top="defaults: {model: sam3-reduced, concepts: [parrotfish, wrasse]}\n",
        )
    )
    a, b, c = load_study(path).videos
    assert (a.engine, a.model, a.concepts, a.detect_every) == (
        "sam3",
        "sam3-reduced",
        ("parrotfish", "wrasse"),
        1,
    )
    assert (b.concepts, b.detect_every) == (("sea urchin",), 4)
    assert c.concepts == () and c.prompts == tmp_path / "ex.json"
    (tmp_path / "ex.json").write_text(json.dumps({"objects": []}))
    with pytest.raises(
        ConfigError,
        match=r"videos\[2\] \(c\): model sam3-reduced needs concepts: .*ex.json has none",
    ):
        load_study(path)


def test_sam2_videos_with_prompts_take_no_engine_parameters(tmp_path):
    """Given on the video: an error; inherited from `defaults:` (meant for the motion
    tracker's videos): not passed on, so the store does not record settings nothing read."""
    (tmp_path / "v.mp4").write_bytes(b"")
    (tmp_path / "p.json").write_text('{"objects": []}')
    top = "defaults: {params: {min_area: 30}}\n"
    path = tmp_path / "study.yaml"
    videos = "- path: v.mp4\n  prompts: p.json\n  name: s\n- path: v.mp4\n"
    path.write_text(study_text(videos, top))
    clicked, tracked = load_study(path).videos
    assert clicked.engine == "sam2" and clicked.params == {}
    assert tracked.engine == "classical" and tracked.params == {"min_area": 30}
    path.write_text(study_text("- path: v.mp4\n  prompts: p.json\n  params: {min_area: 3}\n"))
    with pytest.raises(ConfigError, match=r"params: the sam2 engine with prompts takes no"):
        load_study(path)


@pytest.mark.parametrize(
    ("settings", "model"),
    [("engine: sam2\n    auto: true", "sam2.1-tiny"), ("concepts: [parrotfish]", "sam3")],
)
def test_a_missing_checkpoint_says_where_to_get_the_weights(tmp_path, settings, model):
    """Old message: 'checkpoint file not found: w/nope.pt', without the hint of `segment`."""
    from ecoseg._paths import check_checkpoint

    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    text = f"videos:\n  - path: v.mp4\n    {settings}\n    checkpoint: w/nope.pt\n"
    (tmp_path / "study.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_study(tmp_path / "study.yaml")
    with pytest.raises(ConfigError) as shared:  # the one message of the checkpoint check
        check_checkpoint(
            tmp_path / "w" / "nope.pt", model, shown="w/nope.pt", option="`checkpoint:`"
        )
    line = text.count("\n")
    assert (
        str(info.value) == f"{tmp_path / 'study.yaml'}: line {line}: videos[0] (v): {shared.value}"
    )
    assert f"`ecoseg weights download {model}` fetches the official weights" in str(info.value)
    assert "used when `checkpoint:` is left out" in str(info.value)


def test_image_size_or_a_gpu_for_the_motion_tracker_is_refused_with_its_line(tmp_path):
    """A video tracked by the classical motion tracker (no network, on the CPU) took
    `image_size:` and `device: cuda`, and the study failed only when that video's segment
    refused them."""
    text = "videos:\n  - path: v.mp4\n    engine: classical\n    image_size: 512\n"
    assert refusal(tmp_path, text) == (
        f"{tmp_path / 'study.yaml'}: line 4: videos[0] (v): image_size: applies to the "
        "sam2 and sam3 engines; the classical engine has no network to size"
    )
    text = "videos:\n  - path: v.mp4\n    device: cuda\n"
    assert refusal(tmp_path, text) == (
        f"{tmp_path / 'study.yaml'}: line 3: videos[0] (v): device 'cuda' is for "
        "the sam2 and sam3 engines' networks; the classical motion tracker runs on the CPU: "
        "remove `device:` or set `device: cpu`"
    )


def test_a_default_image_size_or_gpu_is_for_the_videos_with_a_network(tmp_path):
    """`image_size:` and `device: cuda` in `defaults:` went to the motion tracker's videos
    too, whose segment then refused them: those videos failed when the study ran."""
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    (tmp_path / "p.json").write_text('{"objects": []}')
    (tmp_path / "study.yaml").write_text(
        "defaults: {image_size: 512, device: cuda}\n"
        "videos:\n  - {path: v.mp4, name: a}\n  - {path: v.mp4, name: b, prompts: p.json}\n"
    )
    a, b = load_study(tmp_path / "study.yaml").videos
    assert (a.engine, a.image_size, a.device) == ("classical", None, None)
    assert (b.engine, b.image_size, b.device) == ("sam2", 512, "cuda")


def test_a_check_of_the_library_names_the_study_key_not_the_segment_option(tmp_path, capsys):
    """The checks `segment` shares said "image_size (--image-size) must be ..." in a study
    file, where the setting is `image_size:`; the command line would have said only
    "--image-size", an option `ecoseg study` has not."""
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    path = tmp_path / "study.yaml"
    path.write_text(study_text("- path: v.mp4\n  concepts: fish\n  image_size: 500\n"))
    assert main(["study", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ecoseg: error: {path}: line ") and err.count("\n") == 1, err
    assert "videos[0] (v): image_size: must be a multiple of 14 from 112 to 4032" in err, err
    assert "--image-size" not in err, err


@pytest.mark.parametrize(
    ("setting", "key", "said"),
    [
        ("engine: classical\n  model: sam2.1-large", "model", "`model: sam2.1-large`"),
        ("model: sam2.1-large", "model", "`model: sam2.1-large`"),  # no prompts: the tracker
        ("checkpoint: w.pt", "checkpoint", "`checkpoint: w.pt`"),
        ("pretrained: false", "pretrained", "`pretrained: false`"),
    ],
    ids=["engine-classical", "no-prompts", "checkpoint", "random-weights"],
)
def test_network_settings_in_a_motion_tracker_videos_entry_are_refused(
    tmp_path, setting, key, said
):
    """`model: sam2.1-large` in the entry of a video the classical motion tracker segments
    was taken and dropped without a word (the store's provenance named no model), where
    `segment --engine classical --model sam2.1-large` refuses it; so were `checkpoint:` and
    `pretrained: false` (`--checkpoint`, `--random-weights`)."""
    message = refusal(tmp_path, study_text(f"- path: v.mp4\n  {setting}\n"))
    line = 6 if setting.startswith("engine") else 5
    start = f"{tmp_path / 'study.yaml'}: line {line}: videos[0] (v): {said} is for the sam2 "
    assert message.startswith(f"{start}engine's network"), message
    if setting.startswith("engine"):
        assert message.endswith(f"the classical motion tracker has none: drop `{key}:`")
    else:
        assert message.endswith(
            "without `prompts:` or `auto: true` this video uses the classical motion tracker, "
            f"which has none: give `prompts:` or `auto: true`, or drop `{key}:`"
        )


def test_default_network_settings_are_for_the_videos_with_a_network(tmp_path):
    """`defaults:` apply to every video: their model, checkpoint and random weights are the
    networks' videos', and the motion tracker's videos of the same study take none."""
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    (tmp_path / "u.mp4").write_bytes(b"another video")
    (tmp_path / "w.pt").write_bytes(b"weights")
    (tmp_path / "study.yaml").write_text(
        "defaults: {model: sam2.1-large, checkpoint: w.pt, pretrained: false}\n"
        "videos:\n  - {path: v.mp4, name: a}\n  - {path: v.mp4, name: b, auto: true}\n"
        "  - {path: u.mp4, name: c, pretrained: true}\n"
    )
    a, b, c = load_study(tmp_path / "study.yaml").videos
    assert (a.engine, b.engine, c.engine) == ("classical", "sam2", "classical")
    assert (b.model, b.checkpoint, b.pretrained) == ("sam2.1-large", tmp_path / "w.pt", False)
    assert a.pretrained  # not the random weights: so a study of such videos only refuses them


def test_two_classical_entries_differing_in_a_setting_the_tracker_does_not_use_are_one(tmp_path):
    """One clip listed twice for the motion tracker, the second entry asking ``pretrained:
    true`` over the defaults' random weights: the first took ``pretrained: false`` from
    ``defaults:`` (the networks' setting) and the two were kept as two settings, whose numbers
    counted twice; now neither takes it, and the second is refused naming both entries."""
    (tmp_path / "w.pt").write_bytes(b"weights")
    message = refusal(
        tmp_path,
        study_text(
            "- {path: v.mp4, name: a}\n- {path: v.mp4, name: b, auto: true}\n"
            "- {path: v.mp4, name: c, pretrained: true}\n",
            top="defaults: {model: sam2.1-large, checkpoint: w.pt, pretrained: false}\n",
        ),
    )
    assert message == (
        f"{tmp_path / 'study.yaml'}: line 7: videos[2] (c): the video v.mp4 is also videos[0] "
        "(a) with the same settings; its numbers would count twice: list each video once"
    )


@pytest.mark.parametrize(
    ("run", "model"),
    [("auto: true", "sam2.1-tiny"), ("concepts: wrasse", "sam3"), ("", "sam2.1-tiny")],
    ids=["sam2", "sam3", "classical"],
)
def test_model_null_is_the_default_model_as_in_segment(tmp_path, run, model):
    """`model: null` was refused as `unknown SAM 2 variant None`, where
    ``ecoseg.segment(model=None)`` is the default model; null is the default, as for
    `checkpoint: null` or `device: null` (in an entry: whatever `defaults:` say)."""
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    (tmp_path / "study.yaml").write_text(
        study_text(f"- path: v.mp4\n  model: null\n  {run}\n", "defaults: {model: sam2.1-large}\n")
    )
    assert load_study(tmp_path / "study.yaml").videos[0].model == model


def _model_study(tmp_path, defaults: str) -> tuple:
    """The videos of a study whose ``defaults:`` are ``defaults``: one video of each kind."""
    import json

    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    (tmp_path / "w.pt").write_bytes(b"weights")
    (tmp_path / "p.json").write_text('{"objects": []}')
    exemplars = {"concepts": [{"exemplars": [{"frame": 0, "box": [1, 1, 5, 5]}]}]}
    (tmp_path / "ex.json").write_text(json.dumps(exemplars))
    (tmp_path / "study.yaml").write_text(
        f"defaults: {defaults}\nvideos:\n"
        "  - {path: v.mp4, name: concepts, concepts: [wrasse]}\n"
        "  - {path: v.mp4, name: auto, auto: true}\n"
        "  - {path: v.mp4, name: clicks, engine: sam2, prompts: p.json}\n"
        "  - {path: v.mp4, name: tracker}\n"
        "  - {path: v.mp4, name: exemplars, prompts: ex.json}\n"
    )
    return load_study(tmp_path / "study.yaml").videos


def test_a_default_sam2_model_is_for_the_sam2_videos(tmp_path):
    """`defaults: {model: sam2.1-large}` went to the concept (SAM 3) videos too, and the study
    was refused: `unknown SAM 3 model 'sam2.1-large'`. A video takes the defaults' model (and
    checkpoint, its weights) only where it names the video's engine."""
    videos = _model_study(tmp_path, "{model: sam2.1-large, checkpoint: w.pt}")
    got = {v.name: (v.engine, v.model, v.checkpoint) for v in videos}
    large = ("sam2.1-large", tmp_path / "w.pt")
    assert got == {
        "concepts": ("sam3", "sam3", None),
        "auto": ("sam2", *large),
        "clicks": ("sam2", *large),
        "tracker": ("classical", *large),  # (not used: it has no network)
        "exemplars": ("sam2", *large),  # a prompt file, no SAM 3 name: SAM 2's
    }


def test_a_default_sam3_model_is_for_the_concept_videos(tmp_path):
    """`defaults: {model: sam3-reduced}` made every video a SAM 3 one: a video with `auto:
    true` was refused (*SAM 3 concept tracking takes no `auto: true`*), one with no network
    (*model sam3-reduced needs concepts*), and `engine: sam2` beside a SAM 2 prompt file
    (*drop `engine: sam2`*). A prompt file nothing else names an engine for is SAM 3's
    exemplars under a SAM 3 default, as before."""
    from ecoseg.engine import DEFAULT_MODEL

    videos = _model_study(tmp_path, "{model: sam3-reduced, checkpoint: w.pt}")
    got = {v.name: (v.engine, v.model, v.checkpoint) for v in videos}
    reduced = ("sam3-reduced", tmp_path / "w.pt")
    assert got == {
        "concepts": ("sam3", *reduced),
        "auto": ("sam2", DEFAULT_MODEL, None),
        "clicks": ("sam2", DEFAULT_MODEL, None),
        "tracker": ("classical", DEFAULT_MODEL, None),
        "exemplars": ("sam3", *reduced),
    }


def test_a_default_checkpoint_without_a_default_model_goes_to_every_network(tmp_path):
    """Only a defaults' model of the other engine takes its checkpoint away: `model: null`
    (each engine's default model) keeps the defaults' checkpoint for every network's video."""
    videos = _model_study(tmp_path, "{model: null, checkpoint: w.pt}")
    got = {v.name: (v.model, v.checkpoint) for v in videos if v.engine != "classical"}
    weights = tmp_path / "w.pt"
    assert got == {
        "concepts": ("sam3", weights),
        "auto": ("sam2.1-tiny", weights),
        "clicks": ("sam2.1-tiny", weights),
        "exemplars": ("sam2.1-tiny", weights),
    }


@pytest.mark.parametrize(
    ("size", "sam2", "sam3"),
    [(512, 512, None), (1008, None, 1008), (448, 448, 448)],
    ids=["sam2-size", "sam3-size", "both"],
)
def test_a_default_image_size_is_for_the_videos_whose_network_takes_it(tmp_path, size, sam2, sam3):
    """`defaults: {image_size: 512}` went to the concept (SAM 3) videos too, and the study was
    refused (SAM 3 takes a multiple of 14); 1008 refused the sam2 videos (a multiple of 32). A
    video takes the defaults' size only where its network takes it, else its network's own."""
    videos = _model_study(tmp_path, f"{{image_size: {size}}}")
    got = {v.name: v.image_size for v in videos}
    assert got == {
        "concepts": sam3,
        "auto": sam2,
        "clicks": sam2,
        "tracker": None,  # no network to size
        "exemplars": sam2,
    }


def test_the_defaults_network_settings_are_for_the_videos_that_take_them(tmp_path):
    """`defaults:` with `detect_every: 5` refused every video without concepts (*detect_every:
    needs `concepts:`*), `as_video: true` every video of the other engines, and `fast: true`
    the motion tracker's (*fast: is for the networks*). Each goes to the videos it is for."""
    videos = _model_study(tmp_path, "{detect_every: 5, as_video: true, fast: true}")
    got = {v.name: (v.detect_every, v.as_video, v.fast) for v in videos}
    assert got == {
        "concepts": (5, True, True),
        "auto": (1, False, True),
        "clicks": (1, False, True),
        "tracker": (1, False, False),  # no network: no bf16
        "exemplars": (1, False, True),
    }


def test_a_video_s_own_network_settings_are_still_refused_where_they_do_not_fit(tmp_path):
    """The defaults' settings go only where they fit; the same in a video's entry is still
    refused there, as `segment` refuses it (a guard, passing before and after)."""
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    for own, said in [
        ("image_size: 512, concepts: [wrasse]", "image_size: must be a multiple of 14"),
        ("detect_every: 5", "detect_every: needs `concepts:`"),
        ("fast: true", "fast: is for the networks"),
        ("as_video: true, auto: true", "as_video: is for `concepts:`"),
    ]:
        (tmp_path / "study.yaml").write_text(f"videos:\n  - {{path: v.mp4, name: a, {own}}}\n")
        with pytest.raises(ConfigError, match=f"line 2: videos\\[0\\] \\(a\\): {said}"):
            load_study(tmp_path / "study.yaml")


def test_the_defaults_parameters_go_to_the_engines_that_have_them(tmp_path):
    """`defaults: {params: {min_area: 40}}` (a motion tracker's parameter) went to the concept
    videos too and the study was refused there (ConceptSettings has no min_area), and a
    concept video's `score_threshold` refused the motion tracker's videos. Each parameter of
    the defaults goes to the videos whose engine has it."""
    params = "{min_area: 40, score_threshold: 0.4, points_per_side: 8}"
    videos = _model_study(tmp_path, f"{{params: {params}}}")
    got = {v.name: dict(v.params) for v in videos}
    assert got == {
        "concepts": {"score_threshold": 0.4},
        "auto": {"points_per_side": 8},
        "clicks": {},  # the sam2 engine with prompts takes none
        "tracker": {"min_area": 40},
        "exemplars": {},
    }
