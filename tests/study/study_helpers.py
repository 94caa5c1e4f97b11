"""Shared by the study tests: a two-video study file, a one-line study file refusal."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ecoseg.errors import ConfigError
from ecoseg.study import load_study

EPOCH = "1710000000"  # 2024-03-09
FAST = {"warmup": 5, "min_hits": 2}  # small clips: a short warm-up

STUDY = """\
name: test-study
title: Two reefs
output: out
defaults:
  engine: classical
  calibration: 20.0
  params: {{warmup: 5, min_hits: 2}}
videos:
  - path: a/video.mp4
    name: reef-a
    site: North
    transect: T1
    date: 2024-03-12
    depth_m: 6.5
{extra_a}
  - path: b/video.mp4
    name: reef-b
    site: South
    transect: T2
    date: 2024-03-13
    depth_m: 9
{extra_b}
"""


def write_study(folder: Path, extra_a: str = "", extra_b: str = "") -> Path:
    path = folder / "study.yaml"
    path.write_text(STUDY.format(extra_a=extra_a, extra_b=extra_b))
    return path


def study_text(videos: str, top: str = "") -> str:
    """A study file of name ``s``, output ``out``, ``top`` keys and the ``videos`` list."""
    return f"name: s\noutput: out\n{top}videos:\n{textwrap.indent(videos, '  ')}"


def refusal(tmp_path: Path, text: str) -> str:
    """The one-line error load_study gives for a study file of ``text`` beside a video."""
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    (tmp_path / "study.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_study(tmp_path / "study.yaml")
    return str(info.value)
