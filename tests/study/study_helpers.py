"""Shared by the study tests: a two-video study file, a one-line study file refusal, a study
with a species model, and the reproduce steps of a page run and compared."""

from __future__ import annotations

import base64
import datetime
import html
import re
import shlex
import shutil
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest
from suite_helpers import fit_species_model

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.species._edit_log import standing_edits
from ecoseg.study import load_study, run_study

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


def species_study(root: Path) -> Path:
    """Two small synthetic reef clips (``a``, ``b``), a species model fitted on them
    (``species.json``) and a study file naming it for reef-a; returns ``root``."""
    for name, seed in (("a", 3), ("b", 4)):
        ecoseg.synth(root / name, seed=seed, frames=30, size=(160, 96), n_fish=3, n_invertebrates=0)
    fit_species_model(root, frames=30)
    write_study(root, extra_a="    species_model: species.json")
    return root


#: reef-a's store, as a study page's steps name it (relative to the study folder)
WHERE = "out/stores/reef-a.zarr"


class StudyCopy(NamedTuple):
    """A study copied for one test (:func:`copy_study`)."""

    root: Path  #: the copy, without the study's output
    fresh: Path  #: where the copy's page is made again (not made yet)
    store: Path  #: reef-a's store in the copy (made by its first run)
    where: str  #: that store as the page's steps name it (:data:`WHERE`)


def copy_study(study: Path, tmp_path: Path, monkeypatch) -> StudyCopy:
    """The study ``study`` copied without its output to ``tmp_path / "s"``, with
    ``SOURCE_DATE_EPOCH`` set (``EPOCH``) so a page made again on another day is the same."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "s"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    return StudyCopy(root, tmp_path / "fresh", root / WHERE, WHERE)


def page_steps(root) -> list[str]:
    """The reproduce steps of a study's page."""
    return page_steps_of(root / "out" / "report.html")


def page_steps_of(page) -> list[str]:
    """The reproduce steps of a page."""
    section = page.read_text().split("Reproduce this report", 1)[1]
    return html.unescape(re.search(r"<pre>(.*?)</pre>", section, re.S).group(1)).splitlines()


def page_files(page) -> dict[str, bytes]:
    """The files the page offers with its reproduce steps, by name."""
    section = page.read_text().split("Reproduce this report", 1)[1].split("<details>", 1)[0]
    found = re.findall(r'download="([^"]+)" href="data:application/json;base64,([^"]+)"', section)
    return {html.unescape(name): base64.b64decode(data) for name, data in found}


def run_steps(steps, folder) -> list[str]:
    """Run a page's steps in ``folder``; returns the steps that failed (the rest still run)."""
    from ecoseg.cli import main

    failed = []
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        for step in steps:
            argv = shlex.split(step, comments=True)[1:]
            if main(argv + ["--quiet"] * (argv[0] == "study")) != 0:
                failed.append(step)
    return failed


class Later(datetime.datetime):
    """``datetime`` a year on: classifications made by a replay on another day."""

    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.now(tz) + datetime.timedelta(days=365)


def same_results(root, fresh, name="reef-a") -> None:
    """The same edits held (an edit undone and its undo are no steps), objects and tables."""
    from ecoseg.species import edit_log

    def kinds(store):  # each edit's kind and a classification's model, of the edits held
        return [
            (e["kind"], (e.get("classification") or {}).get("model_sha256"))
            for e in standing_edits(edit_log(store))
        ]

    store, again = (f / "out" / "stores" / f"{name}.zarr" for f in (root, fresh))
    assert kinds(again) == kinds(store)
    assert ecoseg.MaskStore.open(again).objects == ecoseg.MaskStore.open(store).objects
    for t in ("maxn", "tracks", "counts"):
        name = f"tables/{t}.parquet"
        assert (fresh / "out" / name).read_bytes() == (root / "out" / name).read_bytes(), name


def replays_identically(root, fresh, files=()) -> None:
    """The study folder ``root`` without its output copied to ``fresh`` (with the page's
    ``files``, a replaced species model, saved from it as a reader does), where the steps of
    its page run without a failure and make the same stores, tables and page."""
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("out"))
    for file in files:
        (fresh / file).write_bytes(page_files(root / "out" / "report.html")[file])
    assert run_steps(page_steps(root), fresh) == []
    same_results(root, fresh)
    page = "out/report.html"
    assert (fresh / page).read_bytes() == (root / page).read_bytes()


def another_model_then_own(root, tmp_path) -> None:
    """Two more runs of the study ``root``: one with another species model file in place of
    its own (no page), then one with its own again and the page; each classifies its stores
    (an edit log entry each)."""
    own = (root / "species.json").read_bytes()
    other = fit_species_model(tmp_path / "other", frames=30, seed=5)
    shutil.copyfile(other, root / "species.json")
    run_study(root / "study.yaml", progress=False, report=False)
    (root / "species.json").write_bytes(own)
    run_study(root / "study.yaml", progress=False)


def undo_then_review(root) -> tuple:
    """Run the study, undo its classification, run it again, delete a track and run it with
    the page: the log holds a classification of the study's between two of a person's
    edits. Returns the store and the deleted track."""
    from ecoseg.cli import main

    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: the study's classify
    assert main(["edit", str(store), "--undo"]) == 0  # 2: takes it back
    run_study(root / "study.yaml", progress=False, report=False)  # 3: classified again
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    assert main(["edit", str(store), f"--delete={track}"]) == 0  # 4
    return store, track
