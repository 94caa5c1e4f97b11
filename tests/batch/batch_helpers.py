"""Shared helpers of the campaign tests (test_campaign.py, test_campaign_bad_input.py): the
names and size of the synthetic clips that ``clips`` (conftest.py) makes, their paths, and
``ecoseg`` commands run in this process."""

from __future__ import annotations

from pathlib import Path

W, H, N = 160, 96, 48  # small enough to be quick, large enough for the tracker to find fish
GOOD = ("north", "south", "east")


def videos_of(folder: Path, names=(*GOOD, "broken")) -> list[str]:
    """The paths of the clips ``names`` (without ``.mp4``) in ``folder``."""
    return [str(folder / f"{name}.mp4") for name in names]


def run_cli(capsys, *args):
    """``ecoseg ARGS`` in this process: its exit code, stdout and stderr."""
    from ecoseg.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err
