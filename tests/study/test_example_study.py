"""The example field study the project ships (data/study, docs/report.md): it runs as the
docs say, and its clips are what data/study/README.md says made them."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from suite_helpers import page_table

from ecoseg.store import open_masks
from ecoseg.study import load_study, run_study
from ecoseg.synth import make_scene, render, synth_frames

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "study"


def _readme_clips() -> dict[str, dict]:
    """The ``ecoseg.synth`` settings of each clip, read from the README's code block."""
    text = (EXAMPLE / "README.md").read_text()
    code = re.search(r"## How the clips were made\s+```python\n(.*?)```", text, re.S).group(1)
    tree = ast.parse(code)
    loop = next(n for n in ast.walk(tree) if isinstance(n, ast.For))
    call = next(n for n in ast.walk(loop) if isinstance(n, ast.Call))
    fixed = {
        k.arg: ast.literal_eval(k.value)
        for k in call.keywords
        if isinstance(k.value, ast.Constant | ast.Tuple)
    }
    clips = {}
    for name, seed, n_fish, n_inv in ast.literal_eval(loop.iter):
        clips[name] = {**fixed, "seed": seed, "n_fish": n_fish, "n_invertebrates": n_inv}
    return clips


def _scene(settings):
    """The synthetic scene of one clip of the README's table (its synth settings)."""
    return make_scene(
        settings["seed"],
        frames=settings["frames"],
        size=tuple(settings["size"]),
        fps=settings["fps"],
        camera=settings["camera"],
        n_fish=settings["n_fish"],
        n_invertebrates=settings["n_invertebrates"],
    )


@pytest.mark.parametrize("name", sorted(_readme_clips()))
def test_each_clip_is_what_the_readme_says_made_it(name):
    settings = _readme_clips()[name]
    truth = open_masks(EXAMPLE / name / "truth.zarr")
    prov = truth.attrs["provenance"]
    assert prov["seed"] == settings["seed"]
    for key in ("frames", "fps", "camera", "n_fish", "n_invertebrates"):
        assert prov["parameters"][key] == settings[key], key
    assert tuple(prov["parameters"]["size"]) == tuple(settings["size"])
    scene = _scene(settings)
    shown = {k for f in synth_frames(scene) for k in f.ids}  # the truth lists only these
    cls = {o.id: o.cls for o in scene.organisms if o.id in shown}
    assert dict(zip(truth["object"].values.tolist(), truth["object_class"].values)) == cls
    labels = truth["labels"].values
    for i in (0, scene.frames - 1):
        assert np.array_equal(labels[i], render(scene, i)[1]), f"frame {i}"
    assert all((labels == k).any() for k in cls)  # north-t1 listed a damselfish with no pixel


def test_the_readme_table_matches_the_clips():
    text = (EXAMPLE / "README.md").read_text()
    for name, settings in _readme_clips().items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}/`"))
        w, h = settings["size"]
        assert f"{w} × {h} px, {settings['frames']} frames" in row, row
        assert f"{settings['n_fish']} fish" in row, row


def test_the_readme_names_each_animal_the_truth_skips():
    """ecoseg.synth lists in the truth only the animals some frame shows (north-t1's
    damselfish 2 never swims into view: ``info`` counted 7 objects, ``evaluate`` scored 6).
    Each shipped truth object has a pixel, and the README's row names each skipped animal."""
    text = (EXAMPLE / "README.md").read_text()
    for name, settings in _readme_clips().items():
        truth = open_masks(EXAMPLE / name / "truth.zarr")
        labels, ids = truth["labels"].values, truth["object"].values.tolist()
        assert all((labels == k).any() for k in ids), name
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}/`"))
        scene = _scene(settings)
        for o in scene.organisms:
            said = f"{o.cls} {o.id} stays"
            assert (said in row and f"id {o.id} skipped" in row) == (o.id not in ids), (name, o)


@pytest.mark.slow
def test_the_example_study_runs_and_reports_every_video(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("out"))
    study = load_study(folder / "study.yaml")
    result = run_study(folder / "study.yaml", progress=False)
    names = [v.name for v in study.videos]
    assert sorted(result.stores) == sorted(names) == ["north-t1", "south-t1", "south-t2"]
    assert result.report == folder / "out" / "report.html"
    maxn = pd.read_parquet(result.tables["maxn"])
    assert set(maxn["video"]) == set(names)
    assert set(maxn.groupby("video")["site"].first()) == {"North", "South"}
    html = result.report.read_text()
    for name in names:
        assert name in html
    assert "J&amp;F" in html or "J&F" in html  # every video has truth: the accuracy section
    # data/study/README.md says the example shows the report's plumbing, not the motion
    # tracker's accuracy, with the numbers of this run; the page counts tracks, not individuals
    text = " ".join((EXAMPLE / "README.md").read_text().split())
    cards = {
        label: value
        for value, label in re.findall(
            r'<div class="v">([^<]*)</div><div class="l">([^<]*)</div>', html
        )
    }
    tracks = pd.read_parquet(result.tables["tracks"])
    animals = sum(len(open_masks(EXAMPLE / n / "truth.zarr")["object_class"]) for n in names)
    assert cards["tracks"] == str(len(tracks))
    assert f"its {len(tracks)} tracks stand for the {animals} animals of the three clips" in text
    assert set(tracks["class"]) == {"unknown"}
    assert cards["classes seen: every track is unknown"] == "0"
    assert "`0 classes seen: every track is unknown`" in text
    found = maxn.groupby("video")["maxn"].max()
    true = {}
    for n in names:
        labels = open_masks(EXAMPLE / n / "truth.zarr")["labels"].values
        true[n] = max(len(np.unique(f[f > 0])) for f in labels)
    assert f"its MaxN is {found.min()}–{found.max()} per clip" in text
    assert f"where the truth's is {min(true.values())}–{max(true.values())}" in text
    jf = page_table(html, "accuracy-table")["J&F"].astype(float)
    assert f"J&F is {jf.min():.2f}–{jf.max():.2f}" in text
