"""Shared helpers of the reliability suite: tiny clips, CLI runners, no-model guard.

Markers (registered here): ``bad_input`` on every bad-input case and ``fault`` on every fault
case, so ``pytest tests/reliability -m bad_input --collect-only -q`` counts them.
"""

from __future__ import annotations

import json
import shutil

import pytest

import ecoseg

W, H, N = 96, 64, 24  # the tiny clip: 96x64 pixels, 24 frames


def pytest_configure(config):
    config.addinivalue_line("markers", "bad_input: one bad-input case (counted in the report)")
    config.addinivalue_line("markers", "fault: one injected fault (counted in the report)")


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """A tiny synthetic clip (video.mp4 + truth.zarr) shared by the whole suite."""
    return ecoseg.synth(tmp_path_factory.mktemp("clip"), frames=N, size=(W, H), seed=1)


@pytest.fixture(scope="session")
def good_prompts(tmp_path_factory, clip):
    """A valid prompt file for the tiny clip."""
    path = tmp_path_factory.mktemp("prompts") / "prompts.json"
    path.write_text(
        json.dumps(
            {
                "objects": [
                    {"id": 1, "class": "fish", "prompts": [{"frame": 0, "points": [[40, 30]]}]},
                    {"id": 2, "class": "star", "prompts": [{"frame": 3, "box": [5, 5, 30, 20]}]},
                ]
            }
        )
    )
    return path


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if a SAM 2 network is built (inputs must be checked before that)."""
    import ecoseg.engine.run
    import ecoseg.sam2

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the bad input was reported")

    monkeypatch.setattr(ecoseg.engine.run, "_build_model", refuse)
    monkeypatch.setattr(ecoseg.sam2, "build", refuse)


@pytest.fixture
def cli(capsys):
    """Run ``ecoseg ARGS`` in this process; returns (exit status, stdout, stderr)."""
    from ecoseg.cli import main

    def run(*args):
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def store(clip, tmp_path):
    """A copy of the clip's truth store, for a command to read (and a test to spoil)."""
    path = tmp_path / "masks.zarr"
    shutil.copytree(clip.truth, path)
    return path
