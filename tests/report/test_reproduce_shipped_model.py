"""A classification with the species model ecoseg ships (``ecoseg demo``'s) recorded the
model's path on the machine it ran on (inside the installed package), and the edit log and a
report's reproduce steps named that path, wrong on any other machine with the same ecoseg.
It is now recorded and named ``ecoseg:species_model.json``, which ``classify --model`` takes;
``--model-sha256`` still checks it is the same model. A user's model file keeps its path."""

import shlex
import shutil
from pathlib import Path

import pytest

import ecoseg
from ecoseg.cli import main
from ecoseg.demo import species_model_path
from ecoseg.report.read import read_video
from ecoseg.report.reproduce import reproduce
from ecoseg.species import classify, edit_log
from ecoseg.species._edit_log import read_meta, write_meta
from ecoseg.store import MaskStore


@pytest.fixture
def clip(tmp_path, monkeypatch):
    """A synthetic clip whose truth tracks are unnamed, as the motion tracker's, and a copy
    of its store beside it (where a replay's step runs), with the current folder above it."""
    clip = ecoseg.synth(tmp_path / "clip", seed=1, frames=8, size=(96, 64))
    with MaskStore.open(clip.truth, mode="a") as s:
        meta = read_meta(s)
        for o in meta["objects"]:
            o.update({"class": "unknown", "source": "tracker", "class_source": "unknown"})
        write_meta(s, meta)
    shutil.copytree(clip.truth, tmp_path / "clip" / "again.zarr")
    monkeypatch.chdir(tmp_path)
    return clip


def _classify_steps(clip) -> list[str]:
    info = read_video("clip", str(clip.truth), "clip/again.zarr")
    steps = reproduce([info], None, Path("report.html"))["steps"]
    return [step for step in steps if step.startswith("ecoseg classify")]


def _replays(clip, step) -> None:
    assert main(shlex.split(step, comments=True)[1:]) == 0
    again = MaskStore.open(Path("clip/again.zarr")).objects
    assert again == MaskStore.open(clip.truth).objects


def test_the_shipped_model_is_recorded_and_replayed_by_its_name(clip, capsys):
    classify(clip.truth, model=species_model_path(), threshold=0.0)  # as the demo does
    record = edit_log(clip.truth)[-1]["classification"]
    assert record["model_file"] == "ecoseg:species_model.json"
    capsys.readouterr()
    assert main(["edit", str(clip.truth), "--log"]) == 0
    shown = capsys.readouterr().out
    assert "by model ecoseg:species_model.json (sha256 " in shown
    assert str(species_model_path().parent) not in shown
    sha = record["model_sha256"]
    (step,) = _classify_steps(clip)
    assert step == (
        "ecoseg classify clip/again.zarr --model ecoseg:species_model.json "
        f"--model-sha256 {sha} --threshold 0"
    )
    _replays(clip, step)
    # the name given to --model is recorded as given
    assert edit_log("clip/again.zarr")[-1]["classification"]["model_file"] == (
        "ecoseg:species_model.json"
    )


@pytest.mark.parametrize("where", ["elsewhere", "here"])
def test_an_old_record_of_the_shipped_models_path_replays_by_its_name(clip, where, capsys):
    """An older ecoseg recorded the path: of another machine (not here), or of this one. The
    step names the model by its name, and so does ``ecoseg edit --log`` (it showed the path)."""
    classify(clip.truth, model=species_model_path(), threshold=0.0)
    old = str(species_model_path())
    if where == "elsewhere":
        old = "/elsewhere/lib/python3.11/site-packages/ecoseg/_species_model.json"
    with MaskStore.open(clip.truth, mode="a") as s:
        meta = read_meta(s)
        meta["edits"][-1]["classification"]["model_file"] = old
        meta["classification"]["model_file"] = old
        write_meta(s, meta)
    (step,) = _classify_steps(clip)
    assert " --model ecoseg:species_model.json --model-sha256 " in step
    assert "#" not in step  # no placeholder, nothing to explain
    capsys.readouterr()
    assert main(["edit", str(clip.truth), "--log"]) == 0
    shown = capsys.readouterr().out
    assert "by model ecoseg:species_model.json (sha256 " in shown
    assert old not in shown
    _replays(clip, step)


def test_a_copy_of_the_shipped_model_keeps_its_path(clip):
    shutil.copyfile(species_model_path(), "species.json")
    assert main(["classify", str(clip.truth), "--model", "species.json", "--threshold", "0"]) == 0
    assert edit_log(clip.truth)[-1]["classification"]["model_file"] == "species.json"
    (step,) = _classify_steps(clip)
    assert " --model species.json --model-sha256 " in step
    _replays(clip, step)


def test_another_model_of_the_shipped_name_is_refused(clip, capsys):
    """The step's ``--model-sha256`` refuses the model another ecoseg ships, if it differs."""
    classify(clip.truth, model=species_model_path(), threshold=0.0)
    (step,) = _classify_steps(clip)
    argv = shlex.split(step)[1:]
    argv[argv.index("--model-sha256") + 1] = "ab" * 32
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "ecoseg:species_model.json: the species model of SHA-256 " in err
    assert MaskStore.open(Path("clip/again.zarr")).objects != MaskStore.open(clip.truth).objects
