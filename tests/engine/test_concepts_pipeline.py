"""A SAM 3 concept run all the way through: segment -> store -> measure tables -> HTML report.

Synthetic footage with all six classes, a reduced SAM 3 with random weights made to detect
(every query passes the thresholds; the best few become tracks): plumbing, not accuracy. The
concept names must arrive as the class of the tracks, counts and MaxN tables (class source
``concept``) and in the report's MaxN table and species section.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from suite_helpers import random_concept_params

pytest.importorskip("torch")

pytestmark = pytest.mark.slow

CONCEPTS = ["parrotfish", "sea urchin"]
# random weights score every query about the same: these thresholds let the best queries of
# each concept start tracks (the same trick as tests/engine/test_concepts_segment.py)
PARAMS = random_concept_params(6, nms_iou=0.0)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    import torch

    import ecoseg
    from ecoseg.store import MaskStore

    d = tmp_path_factory.mktemp("pipeline")
    clip = ecoseg.synth(
        str(d / "clip"), seed=0, frames=4, size=(128, 96), n_fish=8, n_invertebrates=4
    )
    with MaskStore.open(clip.truth) as truth:
        classes = {o["class"] for o in truth.objects}
    assert len(classes) == 6, f"the clip should show all six classes, has {sorted(classes)}"
    torch.manual_seed(0)
    store = ecoseg.segment(
        clip.video,
        out=str(d / "concepts.zarr"),
        model="sam3-reduced",
        pretrained=False,
        device="cpu",
        progress=False,
        params=PARAMS,
        concepts=CONCEPTS,
    )
    tables = ecoseg.measure(store, d / "tables")
    html = ecoseg.report(store, d / "report.html").read_text(encoding="utf-8")
    return store, tables, html


def test_store_objects_carry_the_concepts(run):
    from ecoseg.store import MaskStore

    store, _, _ = run
    with MaskStore.open(store) as s:
        objects = s.objects
        assert s.provenance["engine"] == "sam3-concepts"
        assert s.provenance["prompts"]["concepts"] == [{"text": c} for c in CONCEPTS]
        labels = s.read_labels()
    present = set(np.unique(labels)) - {0}
    assert {o["id"] for o in objects} == present, "every stored object has pixels"
    assert {o["class"] for o in objects} == set(CONCEPTS), "both concepts found tracks"
    assert {o["class_source"] for o in objects} == {"concept"}


def test_tables_carry_the_concepts_as_class(run):
    _, tables, _ = run
    tracks, counts, maxn = tables["tracks"], tables["counts"], tables["maxn"]
    assert set(tracks["class"]) == set(CONCEPTS)
    assert set(tracks["class_source"]) == {"concept"}
    assert set(counts["class"]) == set(CONCEPTS)
    assert set(maxn["class"]) == set(CONCEPTS)
    for name in CONCEPTS:
        n_tracks = int((tracks["class"] == name).sum())
        row = maxn[maxn["class"] == name].iloc[0]
        assert 1 <= int(row["maxn"]) <= n_tracks
        assert int(row["maxn"]) == int(counts.loc[counts["class"] == name, "count"].max())


def test_report_says_how_to_make_the_store_again(run):
    _, _, html = run
    assert "ecoseg has no command" not in html
    # the provenance section names the network and the concepts, not "no model" / "automatic"
    assert "sam3-reduced at 336 px" in html and "random weights" in html
    assert "motion tracker, no model" not in html and "automatic (no prompts)" not in html
    assert re.search(r"concepts: (&#39;|')parrotfish(&#39;|'), (&#39;|')sea urchin", html)
    assert re.search(
        r"ecoseg segment \S+ -o \S+ --model sam3-reduced --image-size \d+ --random-weights "
        r"--device cpu --concepts parrotfish (&#39;|')sea urchin(&#39;|') "
        r"--params concepts.params.json",
        html,
    )


def test_report_shows_the_concepts_in_maxn_and_species(run):
    _, tables, html = run
    maxn_table = re.search(r'<table id="maxn-table">.*?</table>', html, re.S)
    assert maxn_table, "the report has a MaxN table"
    for name in CONCEPTS:
        assert f"<th>{name}</th>" in maxn_table.group(0)
    species = re.search(r'<table id="species-table">.*?</table>', html, re.S)
    assert species, "concept-named tracks get a species identification section"
    assert "concept prompt" in species.group(0)
    tracks = tables["tracks"]
    for name in CONCEPTS:
        n = int((tracks["class"] == name).sum())
        row = re.search(rf"<tr><td>{name}</td>(.*?)</tr>", species.group(0), re.S)
        assert row and re.findall(r'<td class="n">(\d+)</td>', row.group(1)) == [str(n), str(n)]


def test_the_reports_command_makes_the_store_again(run, tmp_path, monkeypatch):
    """The page's command, with its settings file, run in another folder: the same store."""
    import base64
    import html as markup
    import shlex

    import torch

    from ecoseg.cli import main
    from ecoseg.store import MaskStore

    store, _, page = run
    section = page.split("Reproduce this report", 1)[1]
    steps = markup.unescape(re.search(r"<pre>(.*?)</pre>", section, re.S).group(1)).splitlines()
    monkeypatch.chdir(tmp_path)
    for name, data in re.findall(r'download="([^"]+\.json)" href="data:[^,]+,([^"]+)"', section):
        (tmp_path / markup.unescape(name)).write_bytes(base64.b64decode(data))
    argv = shlex.split(steps[0])[1:]
    argv[argv.index("-o") + 1] = "concepts.zarr"  # beside the first store, which it names
    torch.manual_seed(0)  # the random weights of the first run
    assert main(argv) == 0
    again = MaskStore.open(tmp_path / "concepts.zarr")
    np.testing.assert_array_equal(again.read_labels(), MaskStore.open(store).read_labels())
    assert again.objects == MaskStore.open(store).objects
