"""``--quiet`` (``ecoseg._cli.add_quiet_options``): the commands with progress bars print none
on stderr, and still print their results.

Only ``study`` and ``batch`` took it: ``segment``, ``measure``, ``evaluate``, ``export``,
``import``, ``report``, ``classify`` and ``info --verify`` wrote tqdm bars into every script's
and cluster job's log (``features: 100%|██████████| 8/8 [...]``, redrawn with carriage returns),
and refused ``--quiet`` as an unknown option; ``demo`` too, until stop 51; ``edit``, which
rewrites every frame of a merged, split or deleted track without a word, until stop 54."""

from __future__ import annotations

import re
import shutil

import pytest

import ecoseg
from ecoseg._cli import QUIET_COMMANDS
from ecoseg.cli import build_parser, main

BAR = re.compile(r"\d+%\|")  # a tqdm bar: "measure:  50%|█████     | 4/8 [...]"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A tiny clip, a copy of its truth with every track reviewed, and its DAVIS export."""
    root = tmp_path_factory.mktemp("quiet")
    clip = ecoseg.synth(root / "clip", frames=8, size=(64, 48))
    reviewed = root / "reviewed.zarr"
    shutil.copytree(clip.truth, reviewed)
    ids = [f"--reviewed={i}" for i in ecoseg.MaskStore.open(reviewed).object_ids.tolist()]
    assert main(["edit", str(reviewed), *ids]) == 0
    ecoseg.export(clip.truth, "davis", root / "pngs")
    return clip, reviewed, root / "pngs"


COMMANDS = {
    "demo": ["demo", "--out", "{tmp}/demo"],  # segment, classify and measure bars (~10 s)
    "synth": ["synth", "-o", "{tmp}/synth", "--frames", "8", "--size", "64x48"],
    "segment": ["segment", "{video}", "-o", "{tmp}/s.zarr", "--engine", "classical"],
    "measure": ["measure", "{truth}", "-o", "{tmp}/tables"],
    "evaluate": ["evaluate", "{truth}", "--truth", "{truth}"],
    "export": ["export", "{truth}", "--format", "davis", "-o", "{tmp}/pngs"],
    "import": ["import", "{pngs}", "--format", "davis", "--video", "{video}", "-o", "{tmp}/i.zarr"],
    "report": ["report", "{truth}", "-o", "{tmp}/report.html"],
    "classify": [
        "classify",
        "{copy}",
        "--train",
        "{reviewed}",
        "--video",
        "{video}",
        "--train-video",
        "{video}",
    ],  # fmt: skip
    "info": ["info", "--verify", "{truth}"],
    "edit": ["edit", "{copy}", "--delete", "1"],  # a backup and a rewrite bar
}


def _run(command, work, tmp_path, capsys, *extra):
    clip, reviewed, pngs = work
    copy = tmp_path / "copy.zarr"
    shutil.copytree(clip.truth, copy)
    names = {"video": clip.video, "truth": clip.truth, "reviewed": reviewed, "pngs": pngs}
    names.update(copy=copy, tmp=tmp_path)
    args = [a.format(**names) for a in COMMANDS[command]]
    capsys.readouterr()
    code = main([*args, *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_quiet_shows_no_progress_bar_and_still_the_results(command, work, tmp_path, capsys):
    out, err = _run(command, work, tmp_path, capsys, "--quiet")
    assert out.strip(), "the results are printed"
    assert not BAR.search(err), err
    lines = [line for line in re.split(r"[\r\n]+", err) if line.strip()]
    assert all(line.startswith("ecoseg: warning: ") for line in lines), err  # warnings stay


def test_without_quiet_the_bars_are_there(work, tmp_path, capsys):
    """The check above sees a bar where there is one."""
    _, err = _run("measure", work, tmp_path, capsys)
    assert BAR.search(err), err


def test_synth_shows_its_progress(work, tmp_path, capsys):
    """``ecoseg synth`` rendered and encoded in silence (200 frames of 1080p: 24 s, a minute
    of it minutes) and refused ``--quiet``; now a bar of the frames written."""
    _, err = _run("synth", work, tmp_path, capsys)
    assert "synth: 100%|" in err, err


def test_every_command_with_progress_takes_quiet():
    sub = build_parser()._subparsers._group_actions[0].choices
    for name in QUIET_COMMANDS:
        assert "--quiet" in sub[name].format_help(), name
    assert set(COMMANDS) | {"study", "batch"} == set(QUIET_COMMANDS)


def test_edit_shows_its_progress(work, tmp_path, capsys):
    """``ecoseg edit`` (a merge, a split, a delete) backed up and rewrote every frame of a
    track in silence (a track present for 14 s of 720p: 31 s) and refused ``--quiet``; now
    a bar of each."""
    _, err = _run("edit", work, tmp_path, capsys)
    assert "edit 1: backup" in err and "edit 1: rewrite" in err, err
    assert BAR.search(err), err
