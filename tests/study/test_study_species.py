"""A study names a species model file: tracks are classified before measuring, a re-run gives
the same classes byte for byte, and another model file re-measures."""

from __future__ import annotations

import numpy as np
import pytest
from study_helpers import EPOCH, write_study
from suite_helpers import fit_species_model

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.study import load_study, run_study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("species-study")
    for name, seed in (("a", 3), ("b", 4)):
        ecoseg.synth(root / name, seed=seed, frames=30, size=(160, 96), n_fish=3, n_invertebrates=0)
    fit_species_model(root, frames=30)
    write_study(root, extra_a="    species_model: species.json")
    return root


def test_a_study_classifies_with_its_model_and_reproduces_the_classes(study, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert load_study(study / "study.yaml").video("reef-a").species_model.name == "species.json"
    assert load_study(study / "study.yaml").video("reef-b").species_model is None
    run_study(study / "study.yaml", progress=False, report=False)
    tables = study / "out" / "tables" / "videos"
    first = ecoseg.measure.read_table(tables / "reef-a" / "tracks.parquet")
    tracks = ecoseg.measure.read_table(tables / "reef-a" / "tracks.parquet")
    assert set(tracks["class_source"]) <= {"classified", "unknown"} and len(tracks)
    assert np.isfinite(tracks["class_probability"]).all()
    other = ecoseg.measure.read_table(tables / "reef-b" / "tracks.parquet")
    assert set(other["class_source"]) == {"unknown"}

    # the same model again: nothing to do; the classes are the same bytes after a re-classify
    result = run_study(study / "study.yaml", progress=False, report=False)
    assert "reef-a" not in result.measured
    (study / "out" / "tables" / "videos" / "reef-a" / "tracks.parquet").unlink()
    run_study(study / "study.yaml", progress=False, report=False)
    again = ecoseg.measure.read_table(tables / "reef-a" / "tracks.parquet")
    import pandas as pd

    pd.testing.assert_frame_equal(again, first)


def test_a_missing_model_file_is_a_clear_error(tmp_path):
    ecoseg.synth(tmp_path / "a", seed=1, frames=4, size=(64, 48))
    ecoseg.synth(tmp_path / "b", seed=2, frames=4, size=(64, 48))
    write_study(tmp_path, extra_a="    species_model: nowhere.json")
    with pytest.raises(ConfigError, match=r"nowhere\.json: species model file not found$"):
        load_study(tmp_path / "study.yaml")


def test_a_moved_video_is_not_classified_again_without_its_frames(study, tmp_path, monkeypatch):
    """A video moved away keeps its store, but its species model names the tracks from the
    video's frames: measuring it again is refused, naming the entry, and nothing is lost."""
    import shutil

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "s"
    shutil.copytree(study, root)
    run_study(root / "study.yaml", progress=False, report=False)
    (root / "a" / "video.mp4").rename(tmp_path / "video.mp4")
    text = (root / "study.yaml").read_text().replace("calibration: 20.0", "calibration: 10.0")
    (root / "study.yaml").write_text(text)
    tables = root / "out" / "tables" / "videos" / "reef-a" / "tracks.parquet"
    before = tables.read_bytes()
    with pytest.raises(ConfigError) as info:
        run_study(root / "study.yaml", progress=False, report=False)
    assert str(info.value) == (
        f"{root / 'study.yaml'}: line 9: videos[0] (reef-a): species_model: its tables are "
        "measured again and the species model names the tracks from the video's frames, but "
        "the video is not found at a/video.mp4 (bring it back, then run the study again)"
    )
    assert tables.read_bytes() == before
    (tmp_path / "video.mp4").rename(root / "a" / "video.mp4")
    assert "reef-a" in run_study(root / "study.yaml", progress=False, report=False).measured


def test_a_studys_own_classification_between_reviews_is_replayed(study, tmp_path, monkeypatch):
    """The study classifies its store each time it measures it. A person's ``--undo`` can
    take back such a classification (here the one a study run made between two rounds of
    review): the page's steps left the study's classifications out, so the replayed
    ``--undo --undo`` found nothing left to undo. They now hold an ``ecoseg classify`` with
    the study's model and video where one falls between a person's edits, and running them
    in a fresh folder gives the same tables and the same page."""
    import html
    import re
    import shlex
    import shutil

    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root)
    shutil.rmtree(root / "out", ignore_errors=True)
    shutil.copytree(root, fresh)
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: the study's classify
    assert main(["edit", str(store), "--undo"]) == 0  # 2: takes it back
    run_study(root / "study.yaml", progress=False, report=False)  # 3: classified again
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    assert main(["edit", str(store), f"--delete={track}"]) == 0  # 4
    assert main(["edit", str(store), "--undo"]) == 0  # 5: takes back the delete
    assert main(["edit", str(store), "--undo"]) == 0  # 6: takes back the study's classify 3
    run_study(root / "study.yaml", progress=False)  # 7: classified again; the page
    kinds = ["classify", "undo", "classify", "delete", "undo", "undo", "classify"]
    assert [e["kind"] for e in edit_log(store)] == kinds
    page = (root / "out" / "report.html").read_text()
    section = page.split("Reproduce this report", 1)[1]
    steps = html.unescape(re.search(r"<pre>(.*?)</pre>", section, re.S).group(1)).splitlines()
    sha = edit_log(store)[2]["classification"]["model_sha256"]
    where = "out/stores/reef-a.zarr"
    assert steps == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit {where} --undo",
        f"ecoseg classify {where} --model species.json --video a/video.mp4   # model SHA-256 {sha}",
        f"ecoseg edit {where} --delete {track}",
        f"ecoseg edit {where} --undo --undo",
        "ecoseg study study.yaml",
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(fresh)
        for step in steps:
            argv = shlex.split(step, comments=True)[1:]
            assert main(argv + ["--quiet"] * (argv[0] == "study")) == 0, step
    again = fresh / "out" / "stores" / "reef-a.zarr"
    assert [e["kind"] for e in edit_log(again)] == kinds
    assert ecoseg.MaskStore.open(again).objects == ecoseg.MaskStore.open(store).objects
    for name in [f"tables/{t}.parquet" for t in ("maxn", "tracks", "counts")] + ["report.html"]:
        assert (fresh / "out" / name).read_bytes() == (root / "out" / name).read_bytes(), name
