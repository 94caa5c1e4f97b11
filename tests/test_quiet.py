"""``--quiet`` (``ecoseg._cli.add_quiet_options``): the commands with progress bars print none
on stderr, and still print their results.

Only ``study`` and ``batch`` took it: ``segment``, ``measure``, ``evaluate``, ``export``,
``import``, ``report``, ``classify`` and ``info --verify`` wrote tqdm bars into every script's
and cluster job's log (``features: 100%|██████████| 8/8 [...]``, redrawn with carriage returns),
and refused ``--quiet`` as an unknown option; ``demo`` too, until stop 51; ``edit``, which
rewrites every frame of a merged, split or deleted track without a word, until stop 54;
``weights download`` until stop 60."""

from __future__ import annotations

import re
import shutil

import pytest

import ecoseg
from ecoseg._cli import QUIET_COMMANDS, command_parser
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
    sub = build_parser()._subparsers._group_actions[0]
    for name in QUIET_COMMANDS:
        assert "--quiet" in command_parser(sub, name).format_help(), name
    assert set(COMMANDS) | {"study", "batch", "weights download"} == set(QUIET_COMMANDS)


@pytest.fixture
def fake_download(tmp_path, monkeypatch):
    """``weights download sam2.1-tiny`` offline: the web server is a fake ``requests.get``
    that sends 300 kB, so that pooch draws its real bar."""
    import requests

    from ecoseg.sam2 import weights

    class Response:
        headers = {"content-length": "300000"}

        def raise_for_status(self):
            pass

        def iter_content(self, chunk_size):
            for start in range(0, 300_000, chunk_size):
                yield b"x" * min(chunk_size, 300_000 - start)

    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setattr(weights, "network_problem", lambda url, timeout=10.0: None)
    monkeypatch.setattr(requests, "get", lambda url, **kwargs: Response())
    return tmp_path / "weights" / "sam2.1_hiera_tiny.pt"


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "bar"])
def test_weights_download_takes_quiet(quiet, fake_download, capfd):
    """``weights download`` drew pooch's bar and its lines (*Downloading data from ...*, *Use
    this value as the 'known_hash' argument of 'pooch.retrieve' ...*) in every script's log,
    and refused ``--quiet``."""
    assert main(["weights", "download", "sam2.1-tiny", *(["--quiet"] if quiet else [])]) == 0
    out, err = capfd.readouterr()  # pooch logs to the stderr it found when imported
    assert out.strip() == str(fake_download) and fake_download.stat().st_size == 300_000
    if quiet:
        assert err == "", err
    else:
        assert BAR.search(err), err


def test_weights_download_shows_no_known_hash_advice(fake_download, capfd, monkeypatch):
    """pooch's "Use this value as the 'known_hash' argument of 'pooch.retrieve' ..." (the
    manifest has no sha256 for the variants) meant nothing to a user of ``weights download``:
    gone, while the bar and the line naming the URL stay, also after a quiet download (pooch's
    logger, made outside ``logging``'s tree, kept the level a quiet one had set in its cache:
    the URL line was gone for the rest of the process); pooch's logger is left as it was."""
    import sys

    import pooch

    logger = pooch.get_logger()
    for handler in logger.handlers:  # the stderr of the test that imported pooch: this one's
        monkeypatch.setattr(handler, "stream", sys.stderr)
    before = (logger.level, list(logger.filters))
    assert main(["weights", "download", "sam2.1-tiny", "--quiet"]) == 0
    fake_download.unlink()  # downloaded again below, with the bar and the URL
    capfd.readouterr()
    assert main(["weights", "download", "sam2.1-tiny"]) == 0
    _, err = capfd.readouterr()
    assert "known_hash" not in err and "pooch.retrieve" not in err, err
    assert BAR.search(err) and "Downloading data from" in err, err
    assert (logger.level, list(logger.filters)) == before


def test_edit_shows_its_progress(work, tmp_path, capsys):
    """``ecoseg edit`` (a merge, a split, a delete) backed up and rewrote every frame of a
    track in silence (a track present for 14 s of 720p: 31 s) and refused ``--quiet``; now
    a bar of each."""
    _, err = _run("edit", work, tmp_path, capsys)
    assert "edit 1: backup" in err and "edit 1: rewrite" in err, err
    assert BAR.search(err), err
