"""A study file's ``defaults:`` model that no network knows: refused at ``defaults:``.

A video takes the defaults' ``model:`` only where it names the video's engine (a SAM 2 variant:
the sam2 videos; a SAM 3 model: the concept videos), so the name is checked where it is
written, whether or not a video takes it: it was refused at the first video, in the words of
whichever engine that video had (``unknown SAM 3 model 'sam2.1-tyni'`` for a concept video).
"""

from __future__ import annotations

import pytest

from ecoseg.errors import ConfigError
from ecoseg.study import load_study
from ecoseg.study.config import video_places

pytestmark = pytest.mark.bad_input

VIDEOS = {  # none takes a SAM 2 name from `defaults:`
    "concepts": "  - {path: v.mp4, name: a, concepts: [wrasse]}\n",
    "tracker": "  - {path: v.mp4, name: a}\n",
    "sam2": "  - {path: v.mp4, name: a, auto: true}\n",  # none takes a SAM 3 name
    "survey": "  - {path: q.jpg, name: a, concepts: [coral]}\n",  # a photo survey
    "own-size": "  - {path: v.mp4, name: a, auto: true, image_size: 256}\n  - {path: v.mp4}\n",
}


def _refused_at_defaults(tmp_path, cli, defaults: str, videos: str) -> tuple[str, str]:
    """The study file (``defaults:`` holding the line ``defaults``, the videos ``VIDEOS[videos]``)
    and the message :func:`load_study` refuses it with; ``ecoseg study --check`` says the same
    (exit 2) and makes no output folder."""
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    (tmp_path / "q.jpg").write_bytes(b"not really a photograph")
    path = tmp_path / "study.yaml"
    path.write_text(f"output: out\ndefaults:\n  {defaults}\nvideos:\n{VIDEOS[videos]}")
    with pytest.raises(ConfigError) as refused:
        load_study(path)
    code, _, err = cli("study", path, "--check")
    assert code == 2 and err == f"ecoseg: error: {refused.value}\n"
    assert not (tmp_path / "out").exists()
    return str(path), str(refused.value)


@pytest.mark.parametrize(
    ("model", "videos", "said"),
    [
        (
            "sam2.1-tyni",
            "concepts",
            "unknown SAM 2 variant 'sam2.1-tyni'; valid names: sam2.1-tiny, sam2.1-small, "
            "sam2.1-base-plus, sam2.1-large, sam2-tiny, sam2-small, sam2-base-plus, sam2-large "
            "(did you mean 'sam2.1-tiny'?)",
        ),
        ("sam2.1-tyni", "tracker", "unknown SAM 2 variant 'sam2.1-tyni'; valid names: "),
        (
            "sam3-reducd",
            "sam2",
            "unknown SAM 3 model 'sam3-reducd'; valid names: sam3, sam3-reduced "
            "(did you mean 'sam3-reduced'?)",
        ),
        ("[sam3]", "concepts", "unknown SAM 2 variant ['sam3']; valid names: "),
    ],
    ids=["sam2-name-concept-videos", "sam2-name-tracker-videos", "sam3-name-sam2-videos", "list"],
)
def test_a_default_model_no_network_knows_is_refused_at_defaults(
    tmp_path, cli, model, videos, said
):
    path, message = _refused_at_defaults(tmp_path, cli, f"model: {model}", videos)
    assert message.startswith(f"{path}: line 3: defaults: model: {said}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("size", "videos", "said"),
    [
        (
            500,
            "tracker",
            "image_size: 500 fits neither network: SAM 2's must be a multiple of 32 from 64 to "
            "4096 (e.g. 256, 512, 1024), got 500; SAM 3's must be a multiple of 14 from 112 to "
            "4032 (e.g. 336, 672, 1008), got 500",
        ),
        (
            512,
            "concepts",
            "image_size: 512 fits the network of none of the videos that take it from here "
            "(videos[0] (a), sam3: must be a multiple of 14 from 112 to 4032 (e.g. 336, 672, "
            "1008), got 512); give each engine's videos a size their network takes in their "
            "entries",
        ),
        (1008, "sam2", "image_size: 1008 fits the network of none of the videos that take it"),
    ],
    ids=["no-network", "sam2-size-concept-videos", "sam3-size-sam2-videos"],
)
def test_a_default_image_size_no_video_takes_is_refused_at_defaults(
    tmp_path, cli, size, videos, said
):
    """A video takes the defaults' ``image_size:`` only where its network takes it, so one that
    fits neither network, or none of the study's videos that would take it, is refused where it
    is written: it was refused at the first concept video in SAM 3's words (the study's other
    videos unnamed), or not at all beside the motion tracker's videos (it has no network)."""
    path, message = _refused_at_defaults(tmp_path, cli, f"image_size: {size}", videos)
    assert message.startswith(f"{path}: line 3: defaults: {said}")
    assert "\n" not in message


@pytest.mark.parametrize("videos", ["concepts", "tracker"])
def test_a_default_parameter_no_engine_takes_is_refused_at_defaults(tmp_path, cli, videos):
    """Each video takes the defaults' parameters its engine has, so one that no engine has (a
    misspelt `min_aera`) is refused where it is written, whichever videos the study has: it
    was refused at the first video, in that engine's words."""
    path, message = _refused_at_defaults(tmp_path, cli, "params: {min_aera: 5}", videos)
    assert message == (
        f"{path}: line 3: defaults: params: no engine takes a parameter 'min_aera' "
        "(did you mean 'min_area'?)"
    )


@pytest.mark.parametrize(
    ("default", "videos", "said"),
    [
        (
            "model: sam3",
            "tracker",
            "model: sam3 is a SAM 3 model, but no video of the study tracks concepts "
            "(`concepts:`): drop it",
        ),
        (
            "model: sam2.1-large",
            "concepts",
            "model: sam2.1-large is a SAM 2 variant, but no video of the study uses the sam2 "
            "engine (`prompts:` or `auto: true`): drop it",
        ),
        (
            "checkpoint: v.mp4",
            "tracker",
            "checkpoint: v.mp4 is the weights of a network, but no video of the study takes "
            "them from here: drop it",
        ),
        (
            "params: {min_area: 30}",
            "concepts",
            "params: min_area is a parameter of the classical motion tracker, but no video of "
            "the study takes it from here: drop it",
        ),
        (
            "params: {score_threshold: 0.3}",
            "sam2",
            "params: score_threshold is a parameter of SAM 3 concept tracking, but no video "
            "of the study takes it from here: drop it",
        ),
    ],
    ids=[
        "sam3-model-no-concepts",
        "sam2-model-concepts",
        "checkpoint-tracker",
        "min-area",
        "score",
    ],
)
def test_a_default_no_video_takes_is_refused_at_defaults(tmp_path, cli, default, videos, said):
    """A video takes the defaults' model, its checkpoint and each parameter only where they fit
    its engine, so one that none of the study's videos takes is refused where it is written:
    it was unused without a word, the user believing it applied."""
    path, message = _refused_at_defaults(tmp_path, cli, default, videos)
    assert message == f"{path}: line 3: defaults: {said}"


NO_NETWORK = "(the classical motion tracker has no network)"


@pytest.mark.parametrize(
    ("default", "videos", "said"),
    [
        (
            "image_size: 512",
            "tracker",
            f"image_size: 512 is the size of a network's input, but no video of the study takes "
            f"it from here {NO_NETWORK}: drop it",
        ),
        (
            "image_size: 512",
            "own-size",
            f"image_size: 512 is the size of a network's input, but no video of the study takes "
            f"it from here {NO_NETWORK}: drop it",
        ),
        (
            "device: cuda",
            "tracker",
            "device: cuda is for the sam2 and sam3 engines' networks, but no video of the study "
            "takes it from here (the classical motion tracker runs on the CPU): drop it",
        ),
        (
            "device: CUDA",  # named as cuda (it was an unknown device)
            "tracker",
            "device: cuda is for the sam2 and sam3 engines' networks, but no video of the study "
            "takes it from here (the classical motion tracker runs on the CPU): drop it",
        ),
        (
            "fast: true",
            "tracker",
            "fast: true (bf16) is for the networks' video runs, but no video of the study takes "
            "it from here (the classical motion tracker has no network; a photo survey takes "
            "none): drop it",
        ),
        (
            "fast: true",
            "survey",
            "fast: true (bf16) is for the networks' video runs, but no video of the study takes "
            "it from here (the classical motion tracker has no network; a photo survey takes "
            "none): drop it",
        ),
        (
            "detect_every: 5",
            "sam2",
            "detect_every: 5 is for SAM 3 concept tracking of a video (`concepts:`), but no "
            "video of the study takes it from here: drop it",
        ),
        (
            "detect_every: 5",
            "survey",
            "detect_every: 5 is for SAM 3 concept tracking of a video (`concepts:`), but no "
            "video of the study takes it from here: drop it",
        ),
        (
            "as_video: true",
            "tracker",
            "as_video: true is for `concepts:` (SAM 3), but no video of the study takes it from "
            "here: drop it",
        ),
        (
            "pretrained: false",
            "tracker",
            "pretrained: false (random weights) is for the sam2 and sam3 engines' networks, but "
            f"no video of the study takes it from here {NO_NETWORK}: drop it",
        ),
        (
            "fps: 10",
            "survey",
            "fps: 10 is the frame rate of an image folder tracked as a video, but no video of "
            "the study takes it from here (a photo survey has none): drop it",
        ),
        (
            "params: {new_track_score: 0.6, score_threshold: 0.4}",
            "survey",
            "params: new_track_score is a parameter of SAM 3 concept tracking, but no video of "
            "the study takes it from here (a photo survey takes only score_threshold): drop it",
        ),
    ],
    ids=[
        "size-tracker",
        "size-own",
        "gpu-tracker",
        "gpu-capitals-tracker",
        "fast-tracker",
        "fast-survey",
        "detect-every-sam2",
        "detect-every-survey",
        "as-video-tracker",
        "random-weights-tracker",
        "fps-survey",
        "params-survey",
    ],
)
def test_a_default_run_setting_no_video_takes_is_refused_at_defaults(
    tmp_path, cli, default, videos, said
):
    """A video takes the defaults' size, GPU, bf16, detector interval and ``as_video:`` only
    where they fit it (a network; a concept video, not a photo survey), and so the random
    weights, frame rate and tracking parameters (a survey takes only ``score_threshold``), so
    one that none of the study's videos takes is refused where it is written: beside the motion
    tracker's videos only they were unused without a word, and a survey was refused ``fast:
    true``, ``detect_every:``, ``fps:`` or ``params:`` from ``defaults:`` at its own entry."""
    path, message = _refused_at_defaults(tmp_path, cli, default, videos)
    assert message == f"{path}: line 3: defaults: {said}"


@pytest.mark.parametrize("videos", ["survey", "tracker"])
def test_a_rate_in_a_single_images_own_entry_calls_it_an_image(tmp_path, videos):
    """``fps:`` in the own entry of a single image (a SAM 3 photo survey, or a photograph given
    to the motion tracker) is refused as for a video file, but the image was called *a video
    file, timed by its own timestamps*: now it is a single image, which has no time axis."""
    entry = {"survey": ", concepts: [coral]", "tracker": ""}[videos]
    (tmp_path / "q.jpg").write_bytes(b"not really a photograph")
    path = tmp_path / "study.yaml"
    path.write_text(f"output: out\nvideos:\n  - {{path: q.jpg, name: a, fps: 10{entry}}}\n")
    with pytest.raises(ConfigError) as refused:
        load_study(path)
    assert str(refused.value) == (
        f"{path}: line 3: videos[0] (a): fps: applies to image folders only; q.jpg is a single "
        "image (a photograph), which has no time axis (set `fps:` on the image folders' "
        "entries, not in `defaults:`)"
    )


def test_a_device_in_capitals_is_taken(tmp_path, cli):
    """``device: CPU`` (in ``defaults:`` or an entry) was an unknown device though
    :func:`ecoseg.segment` takes ``device="CPU"``: read in any case, as cpu, and a video that
    leaves it to ``defaults:`` took it there (its errors name that line); ``device: GPU`` is
    still unknown."""
    for name in ("v.mp4", "w.mp4"):
        (tmp_path / name).write_bytes(b"not really a video")
    path = tmp_path / "study.yaml"
    videos = "  - {path: v.mp4, name: a, auto: true}\n  - {path: w.mp4, auto: true, device: Cpu}\n"
    path.write_text(f"output: out\ndefaults:\n  device: CPU\nvideos:\n{videos}")
    study = load_study(path)
    assert [video.device for video in study.videos] == ["cpu", "cpu"]
    places = video_places(study, ("device",))
    assert places["a"]["device"] == f"{path}: line 3: videos[0] (a):"  # the defaults' line
    assert places["w"]["device"] == f"{path}: line 6: videos[1] (w):"
    path.write_text(f"output: out\ndefaults:\n  device: GPU\nvideos:\n{VIDEOS['sam2']}")
    with pytest.raises(ConfigError) as refused:
        load_study(path)
    said = "device: unknown device 'gpu' (did you mean 'cuda'?); use auto, cpu, cuda, cuda:N or mps"
    assert str(refused.value).endswith(said)
