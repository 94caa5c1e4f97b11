"""A page of ``ecoseg demo`` (or any page of the bundled sample) named the sample clip and
its ground truth by their paths inside the installed package on the machine that made it, in
commands that say nothing of what they are: wrong on any other machine. The steps now open
with a comment that names the clip ecoseg's bundled sample and ``ecoseg demo`` as what makes
it on any machine; the demo's printed summary names the shipped model as it is recorded
(``ecoseg:species_model.json``), not a source-tree path an installed wheel does not have."""

from pathlib import Path

import pandas as pd
from report_helpers import replay_record

from ecoseg.demo import demo_summary
from ecoseg.provenance import Provenance
from ecoseg.report.reproduce import reproduce
from ecoseg.sample import sample


def _video(path: Path, name: str = "sample"):
    return replay_record(
        name,
        Provenance.from_dict({"engine": "classical", "parameters": {}}),
        video_path=path,
        video_shown=str(path),
        store_shown="out/masks.zarr",
        truth=str(sample().truth),
    )


def test_a_page_of_the_bundled_sample_says_ecoseg_demo_makes_it_on_any_machine():
    steps = reproduce([_video(sample().video)], None, Path("report.html"))["steps"]
    assert steps[0].startswith("# sample: ecoseg's bundled sample clip")
    assert "`ecoseg demo --out DIR`" in steps[0]
    assert steps[1].startswith(f"ecoseg segment {sample().video}")  # the commands still follow


def test_a_page_of_another_video_gets_no_such_comment(tmp_path):
    video = tmp_path / "reef.mp4"
    video.write_bytes(b"")
    steps = reproduce([_video(video, "reef")], None, Path("report.html"))["steps"]
    assert not any("ecoseg demo" in step for step in steps)


def test_the_demo_summary_names_the_shipped_model_as_it_is_recorded():
    tracks = pd.DataFrame({"object_id": [1], "class": ["wrasse"], "class_source": ["classified"]})
    tables = {"tracks": tracks, "maxn": pd.DataFrame({"class": ["wrasse"], "maxn": [1]})}
    truth = {"maxn": pd.DataFrame({"class": ["wrasse"], "maxn": [1]})}
    metrics = {
        "truth_objects": 1,
        "counts": {},
        "jf": {"mean": 1.0},
        "hota": {"hota": 1.0},
        "identity": {"idf1": 1.0},
        "clear": {"mota": 1.0},
    }
    text = demo_summary(Path("out"), tables, truth, metrics)
    assert "shipped model, ecoseg:species_model.json," in text
    assert "data/species_model.json" not in text
