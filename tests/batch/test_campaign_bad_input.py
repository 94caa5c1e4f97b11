"""ecoseg.batch and ``ecoseg batch``: options, videos, prompts and SAM 3 concept settings
refused before any work (nothing written, no cluster started), each named in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from batch_helpers import GOOD, run_cli, videos_of

from ecoseg.batch import batch
from ecoseg.errors import ConfigError, VideoError

distributed = pytest.importorskip("distributed")


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        ({"workers": 0}, ConfigError, r"workers \(--workers\) must be a positive whole number"),
        ({"threads": -1}, ConfigError, r"threads \(--threads\) must be a positive whole"),
        ({"retries": -1}, ConfigError, "retries"),
        ({"params": {"no_such": 1}}, ConfigError, "no_such"),
        # the --params JSON text was a ValueError from dict() (dictionary update sequence ...)
        ({"params": '{"threshold": 4}'}, ConfigError, "^params must be a dict of engine settings"),
        ({"params": '{"x": 1}', "concepts": ["fish"]}, ConfigError, "^params must be a dict"),
        ({"engine": "sam2"}, ConfigError, "prompt file for every video"),
        ({"engine": "sam2", "auto": True, "model": "sam9"}, ConfigError, "sam9"),
        ({"fast": True}, ConfigError, "the classical engine has no bf16 path"),
    ],
)
def test_bad_options_fail_before_any_work(clips, tmp_path, kwargs, error, text):
    folder, _ = clips
    with pytest.raises(error, match=text):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_duplicate_names_and_missing_videos_fail_before_any_work(clips, tmp_path):
    folder, _ = clips
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(folder / "north.mp4", other / "north.mp4")
    # a copy in another folder: named after its folder now (tests/batch/test_names.py), and
    # refused as the same bytes
    with pytest.raises(ConfigError, match="north.mp4 are the same video"):
        batch([folder / "north.mp4", other / "north.mp4"], tmp_path / "out", progress=False)
    with pytest.raises(VideoError, match="nowhere.mp4: no such file or directory"):
        batch([folder / "north.mp4", tmp_path / "nowhere.mp4"], tmp_path / "out", progress=False)
    with pytest.raises(ConfigError, match="no videos"):
        batch([], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_one_video_where_a_list_goes_is_named_before_any_work(clips, tmp_path):
    """``batch("north.mp4", ...)`` from a notebook took the videos 'n', 'o', 'r', ... (a
    ConfigError about two videos named 'h'); one Path or a number was a bare TypeError."""
    folder, _ = clips
    video = str(folder / "north.mp4")
    deep = str(tmp_path / ("campaign-2026-" * 6) / "north.mp4")  # a long path is named too
    for given in (video, Path(video), deep):
        with pytest.raises(ConfigError, match=r"^videos must be a list of videos, got '.*north"):
            batch(given, tmp_path / "out", progress=False)
    with pytest.raises(ConfigError, match="^videos must be a list of videos, got 3$"):
        batch(3, tmp_path / "out", progress=False)
    with pytest.raises(TypeError, match="^batch: each of videos must be a path or URL of a video"):
        batch([video, None], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args, culprit",
    [
        (["nowhere.mp4"], "nowhere.mp4: no such file or directory"),
        (["north.mp4", "--workers", "0"], "--workers must be a positive whole number, got 0"),
        (["north.mp4", "--params", "{bad"], "--params: not valid JSON"),
        (["north.mp4", "--params", '{"nope": 1}'], "nope"),
        (["north.mp4", "north.mp4"], "north.mp4 is given twice; give each video once"),
        (
            ["north.mp4", "--engine", "sam2", "--prompts-dir", "./none"],
            "./none: prompts folder not",
        ),
        (["north.mp4", "--prompts-dir", "north.mp4"], "north.mp4: exists and is not a folder"),
        (["north.mp4", "--fast"], "--fast (bf16) is for the networks (sam2 engine, SAM 3"),
        (["north.mp4", "--model", "sam2.1-large"], "--model is for the sam2 engine's network"),
        (["north.mp4", "--auto", "--checkpoint", "w.pt"], "w.pt: checkpoint file not found"),
        (
            ["north.mp4", "--engine", "classical", "--checkpoint", "w.pt"],
            "--checkpoint is for the sam2 engine's network; the classical motion tracker",
        ),
        (["north.mp4", "--concepts", "a", "--checkpoint", "w.pt"], "w.pt: checkpoint file"),
    ],
)
def test_cli_bad_input_is_one_line_and_non_zero(
    clips, tmp_path, capsys, monkeypatch, args, culprit
):
    folder, _ = clips
    monkeypatch.chdir(folder)
    code, out, err = run_cli(capsys, "batch", *args, "-o", tmp_path / "out")
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ecoseg: error: "), err
    assert culprit in lines[0] and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args, culprit",
    [
        (["--engine", "sam2", "--auto"], "no weights for sam2.1-tiny in the cache ("),
        (["--concepts", "fish"], "no weights for sam3 in the cache ("),
        (["--concepts", "fish", "--model", "sam3-reduced"], "sam3-reduced has no published"),
        (["--engine", "sam2", "--auto", "--random-weights", "--device", "cuda"], "'cuda': "),
    ],
)
def test_a_local_batch_refuses_what_this_machine_lacks_before_any_work(
    clips, tmp_path, capsys, monkeypatch, args, culprit
):
    """Each video's run failed on it, one by one, after the cluster had started (before
    stop 44 each also three times); the weights cache here is an empty folder."""
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "no weights"))
    folder, _ = clips
    code, out, err = run_cli(capsys, "batch", folder / "north.mp4", *args, "-o", tmp_path / "o")
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ecoseg: error: ") and culprit in lines[0]
    assert not (tmp_path / "o").exists()  # no store, no cluster


def test_a_folder_given_as_a_prompt_file_is_named_a_folder(clips, tmp_path):
    """Old message: "prompt file of 'north' not found" of a folder that exists."""
    folder, _ = clips
    (tmp_path / "north").mkdir()
    what = r"north: is a folder, not a prompt file of 'north' \(JSON\)$"
    with pytest.raises(ConfigError, match=what):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "out", prompts={"north": tmp_path / "north"})
    with pytest.raises(ConfigError, match=r"south\.json: prompt file of 'north' not found$"):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "out", prompts={"north": "south.json"})


def test_prompts_given_as_a_folder_must_be_one(clips, tmp_path):
    """prompts=FOLDER (as --prompts-dir): a file or a missing path is named, before any work."""
    folder, _ = clips
    videos = videos_of(folder, GOOD[:1])
    with pytest.raises(ConfigError, match=r"none: prompts folder not found$"):
        batch(videos, tmp_path / "out", engine="sam2", prompts=tmp_path / "none")
    with pytest.raises(ConfigError, match=r"north\.mp4: exists and is not a folder$"):
        batch(videos, tmp_path / "out", engine="sam2", prompts=videos[0])
    with pytest.raises(ConfigError, match="needs a prompt file for every video; none for 'north'"):
        batch(videos, tmp_path / "out", engine="sam2", prompts=tmp_path)  # (no north.json)


def test_video_names_may_contain_spaces(tmp_path):
    from ecoseg.batch import batch

    # the name passes; the (missing) file is the next thing checked
    with pytest.raises(VideoError, match="site 1 dive.mp4: no such file or directory"):
        batch([tmp_path / "site 1 dive.mp4"], tmp_path / "out", progress=False)
    with pytest.raises(ConfigError, match="cannot name a store after it"):
        batch([tmp_path / " lead.mp4"], tmp_path / "out", progress=False)


def test_video_names_in_any_script_and_names_sharing_a_store_folder(tmp_path):
    from ecoseg.batch import batch

    # a French file name passes (NFC, as typed or as macOS lists it); the missing file is next
    with pytest.raises(VideoError, match="cif.mp4: no such file or directory"):
        batch([tmp_path / "Re\u0301cif.mp4"], tmp_path / "out", progress=False)
    # one folder on macOS and Windows: the second video would resume or skip the first's store
    # (in two folders they are named after them: ecoseg.batch.names, tests/batch/test_names.py)
    for pair in (["North.mp4", "north.mp4"], ["Récif.mp4", "Re\u0301cif.mp4"]):
        with pytest.raises(ConfigError, match="two videos would write") as info:
            batch([tmp_path / "a" / pair[0], tmp_path / "a" / pair[1]], tmp_path / "out")
        assert "\n" not in str(info.value) and not (tmp_path / "out").exists()
    assert "one folder on macOS and Windows" in str(
        pytest.raises(ConfigError, batch, ["x/North.mp4", "x/north.mp4"], tmp_path / "o").value
    )


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"model": "sam3"}, "^north: model sam3 needs concepts: --concepts NAME"),
        ({"concepts": ["a"], "model": "sam2.1-tiny"}, "need a SAM 3 model"),
        ({"concepts": ["a"], "model": "sam3-huge"}, "unknown SAM 3 model 'sam3-huge'; valid names"),
        ({"concepts": ["a"], "model": "sam3", "engine": "sam2"}, "no --engine"),
        ({"concepts": ["a"], "model": "sam3", "detect_every": 0}, "detect_every"),
        ({"concepts": ["a", "a"], "model": "sam3"}, "given twice"),
        ({"concepts": ["Sea urchin", "sea urchin"], "model": "sam3"}, "differ only in case"),
        ({"concepts": ["a"], "model": "sam3", "params": {"bogus": 1}}, "bogus"),
        ({"detect_every": 3}, "detect_every needs concepts"),
        ({"concepts": ["a"], "model": "sam3", "checkpoint": "w.pt"}, "w.pt: checkpoint file"),
        (
            {"auto": True, "checkpoint": "w.pt"},
            "^w.pt: checkpoint file not found; `ecoseg weights download sam2.1-tiny` fetches",
        ),
        ({"device": "cuda"}, "motion tracker runs on the CPU"),  # each video failed
        ({"image_size": 512}, "no network to size"),  # each video failed
        ({"device": "cudda"}, r"unknown device 'cudda' \(did you mean 'cuda'\?\)"),
        # SAM 3 sizes went to each video's task (failed, or "cannot be compared" on a store)
        ({"concepts": ["a"], "model": "sam3", "image_size": 500}, "must be a multiple of 14"),
        ({"concepts": ["a"], "model": "sam3", "image_size": 0}, "must be a multiple of 14"),
        ({"concepts": ["a"], "model": "sam3", "image_size": -14}, "must be a multiple of 14"),
        ({"concepts": ["a"], "model": "sam3", "image_size": 4046}, "must be at most 4032"),
        ({"auto": True, "image_size": 500}, "must be a multiple of 32"),  # SAM 2's too
    ],
)
def test_bad_concept_options_fail_before_any_work(clips, tmp_path, kwargs, text):
    pytest.importorskip("torch")
    folder, _ = clips
    with pytest.raises(ConfigError, match=text):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_cli_batch_refuses_a_sam3_image_size_in_one_line(clips, tmp_path, capsys):
    """``--image-size 500`` (not a multiple of 14) started every video's task, each failing."""
    folder, _ = clips
    code, out, err = run_cli(
        capsys, "batch", folder / "north.mp4", "-o", tmp_path / "o", "--model", "sam3",
        "--concepts", "fish", "--image-size", "500",
    )  # fmt: skip
    assert code == 2 and not out and len(err.strip().splitlines()) == 1
    assert "--image-size must be a multiple of 14" in err and "got 500" in err
    assert "image_size" not in err  # it said "image_size (--image-size) must be", both
    assert not (tmp_path / "o").exists()


def test_cli_batch_concepts_flags(clips, tmp_path, capsys):
    folder, _ = clips
    code, _, err = run_cli(
        capsys, "batch", folder / "north.mp4", "-o", tmp_path / "o", "--detect-every", "2"
    )
    assert code != 0 and "detect_every needs concepts" in err
    code, _, err = run_cli(
        capsys, "batch", folder / "north.mp4", "-o", tmp_path / "o", "--concepts", "fish",
        "--model", "sam2.1-tiny",
    )  # fmt: skip
    assert code != 0 and "error: --concepts need a SAM 3 model (--model sam3), not" in err
    assert not (tmp_path / "o").exists()
