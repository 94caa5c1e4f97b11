"""A page of ``ecoseg demo`` (or any page of the bundled sample) named the sample clip and
its ground truth by their paths inside the installed package on the machine that made it:
wrong on any other machine. A store records the clip by its name, ``ecoseg:sample/video.mp4``
(an older store's record of its path here is shown so too), the commands take that name and
``ecoseg:sample/truth.zarr``, and the steps name them so, after a comment that says what they
are; the demo's printed summary names the shipped model as it is recorded
(``ecoseg:species_model.json``), not a source-tree path an installed wheel does not have."""

import shlex
from pathlib import Path

import pandas as pd
import pytest
from report_helpers import make_store, replay_record

from ecoseg.demo import demo_summary
from ecoseg.provenance import Provenance
from ecoseg.report.read import read_video
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


def _installed(steps: list[str]) -> None:
    """No step names a path of this machine: the installation's, or any absolute path."""
    assert str(sample().video.parents[1]) not in "\n".join(steps)
    for step in steps:
        assert not any(Path(arg).is_absolute() for arg in shlex.split(step, comments=True))


@pytest.mark.parametrize("recorded", ["by its name", "by its path (older ecoseg)"])
def test_a_page_of_the_bundled_sample_names_it_as_any_machine_does(tmp_path, recorded):
    video = "ecoseg:sample/video.mp4" if recorded == "by its name" else str(sample().video)
    make_store(tmp_path / "masks.zarr", [{"id": 1, "class": "wrasse"}], {1: [0, 1]},
               video={"path": video, "fps": 10.0, "frames": 4})  # fmt: skip
    info = read_video("sample", str(tmp_path / "masks.zarr"), "out/masks.zarr")
    assert info.video_path == sample().video  # found here, by its name too
    info.truth = str(sample().truth)
    steps = reproduce([info], None, Path("report.html"), "ecoseg demo")["steps"]
    assert steps[0].startswith("# sample: ecoseg's bundled sample clip, named below as every ")
    assert "`ecoseg demo --out DIR`" in steps[0]
    assert steps[1] == "ecoseg segment ecoseg:sample/video.mp4 -o out/masks.zarr --engine classical"
    assert " --truth ecoseg:sample/truth.zarr " in steps[-2]
    _installed(steps)


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
