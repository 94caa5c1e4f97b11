"""A study names a species model file: tracks are classified before measuring, a re-run gives
the same classes byte for byte, and another model file re-measures."""

from __future__ import annotations

import base64
import datetime
import html
import importlib
import re
import shlex
import shutil

import numpy as np
import pytest
from study_helpers import EPOCH, write_study
from suite_helpers import fit_species_model

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.species._edit_log import standing_edits
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


def test_a_studys_classification_a_person_undid_is_no_step(study, tmp_path, monkeypatch):
    """The study classifies its store each time it measures it. A person's ``--undo`` can
    take back such a classification, and a later one can take back a person's edit and the
    study's classification between them. The page replayed each of them, and each undo, as
    a step of its own (an ``ecoseg classify`` with the study's model and an ``--undo``): an
    edit undone and its undo cancel out now (``replayed_edits``), so a log whose every
    review was undone is the study run once, and the store made again holds the same edits,
    tables and page."""
    import shutil

    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root)
    shutil.rmtree(root / "out", ignore_errors=True)
    shutil.copytree(root, fresh)
    store, track = _undo_then_review(root)  # 1-4: classify, undo, classify, delete
    assert main(["edit", str(store), "--undo"]) == 0  # 5: takes back the delete
    assert main(["edit", str(store), "--undo"]) == 0  # 6: takes back the study's classify 3
    run_study(root / "study.yaml", progress=False)  # 7: classified again; the page
    kinds = ["classify", "undo", "classify", "delete", "undo", "undo", "classify"]
    assert [e["kind"] for e in edit_log(store)] == kinds
    # it said: --no-report, --undo, classify, --delete, --undo --undo, study
    assert _page_steps(root) == ["ecoseg study study.yaml"]
    _run_steps(_page_steps(root), fresh)
    _same_results(root, fresh)
    for name in ["report.html"]:
        assert (fresh / "out" / name).read_bytes() == (root / "out" / name).read_bytes(), name


def _page_steps(root) -> list[str]:
    """The reproduce steps of a study's page."""
    return _page_steps_of(root / "out" / "report.html")


def _page_steps_of(page) -> list[str]:
    """The reproduce steps of a page."""
    section = page.read_text().split("Reproduce this report", 1)[1]
    return html.unescape(re.search(r"<pre>(.*?)</pre>", section, re.S).group(1)).splitlines()


def _page_files(page) -> dict[str, bytes]:
    """The files the page offers with its reproduce steps, by name."""
    section = page.read_text().split("Reproduce this report", 1)[1].split("<details>", 1)[0]
    found = re.findall(r'download="([^"]+)" href="data:application/json;base64,([^"]+)"', section)
    return {html.unescape(name): base64.b64decode(data) for name, data in found}


def _run_steps(steps, folder) -> list[str]:
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


class _Later(datetime.datetime):
    """``datetime`` a year on: classifications made by a replay on another day."""

    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.now(tz) + datetime.timedelta(days=365)


def _same_results(root, fresh, name="reef-a") -> None:
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


def _replays_identically(root, fresh) -> None:
    """The study folder ``root`` without its output copied to ``fresh``, where the steps of
    its page run without a failure and make the same stores, tables and page."""
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("out"))
    assert _run_steps(_page_steps(root), fresh) == []
    _same_results(root, fresh)
    page = "out/report.html"
    assert (fresh / page).read_bytes() == (root / page).read_bytes()


def test_a_classification_with_a_replaced_model_file_is_replayed_with_its_copy(
    study, tmp_path, monkeypatch
):
    """The study's model file is replaced after a review: the store's first classification
    used the old file. The page said ``--model SPECIES_MODEL.json`` for it after a first run
    that classified with the new file, nowhere saying the model had changed. Now the study
    keeps a copy of each model it classifies with (``out/species_models/<SHA-256>.json``),
    the page names the old model and its entries, and offers the copy; its steps make the same
    store and tables in a fresh folder (a first run that does not classify)."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # classified with model A
    old = edit_log(store)[0]["classification"]["model_sha256"]
    assert (root / "out" / "species_models" / f"{old}.json").is_file()
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    assert main(["edit", str(store), f"--delete={track}"]) == 0
    new = fit_species_model(tmp_path / "other", frames=30, seed=5)
    shutil.copyfile(new, root / "species.json")  # the study's model file replaced
    run_study(root / "study.yaml", progress=False)  # measured again with model B; the page
    log = edit_log(store)
    sha = log[-1]["classification"]["model_sha256"]
    assert [e["kind"] for e in log] == ["classify", "delete", "classify"] and sha != old
    where, file = "out/stores/reef-a.zarr", f"species_model.{old[:12]}.json"
    steps = _page_steps(root)
    assert steps == [
        "ecoseg study study.yaml --no-report --no-classify",
        f"ecoseg classify {where} --model {file} --model-sha256 {old} --video a/video.mp4",
        f"ecoseg edit {where} --delete {track}",
        "ecoseg study study.yaml",
    ]
    page = root / "out" / "report.html"
    assert (
        html.unescape(page.read_text()).count(
            f"reef-a: classified (edit log entry 1) with the species model of "
            f"SHA-256 {old}, which is not the study's: the study's species_model now is "
            f"species.json (SHA-256 {sha}). Its step reads the copy of that model offered below, "
            f"{file}."
        )
        == 1
    )
    files = _page_files(page)
    assert list(files) == [file]
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("out"))
    (fresh / file).write_bytes(files[file])
    with monkeypatch.context() as later:  # replayed on another day
        for name in ("ecoseg.species.classify", "ecoseg.species._edit_log"):
            later.setattr(importlib.import_module(name), "datetime", _Later)
        assert _run_steps(steps, fresh) == []
    _same_results(root, fresh)
    # the page made again is the page: its note named the old model's classifications with
    # their dates, which the replay's were not (it makes them on the day it runs)
    assert (fresh / "out" / "report.html").read_bytes() == page.read_bytes()

    # no copy kept (a study run by an older ecoseg): the page says so, and its steps fail
    # at that classification (no such file) rather than make other tables unnoticed
    shutil.rmtree(root / "out" / "species_models")
    stores = [str(root / "out" / "stores" / f"reef-{x}.zarr") for x in "ab"]
    other = tmp_path / "page.html"
    assert main(["report", *stores, "-o", str(other), "--study", str(root / "study.yaml")]) == 0
    assert "No copy of that model is kept" in html.unescape(other.read_text())
    assert _page_files(other) == {}
    bare = tmp_path / "bare"
    shutil.copytree(root, bare, ignore=shutil.ignore_patterns("out"))
    assert _run_steps(steps, bare) == [steps[1]]  # species_model...json not found


def _batch_rounding(monkeypatch, rounds: bool) -> None:
    """A species model's probabilities of a track that do not depend on the rows predicted
    with it (each row alone), or (``rounds``) that a batch of an odd number of rows rounds one
    unit in the last place lower: a machine whose matrix product rounds a batch of another
    size otherwise, which a classification of the same tracks less one tells as a change."""
    from ecoseg.species.model import SpeciesModel

    real = SpeciesModel.predict_proba

    def predict_proba(self, X):
        rows = [real(self, X[i : i + 1]) for i in range(len(X))]
        p = np.vstack(rows) if rows else real(self, X)
        return np.nextafter(p, 0) if rounds and len(X) % 2 else p

    monkeypatch.setattr(SpeciesModel, "predict_proba", predict_proba)


@pytest.mark.parametrize("rounds", [False, True], ids=["unchanged", "rounded"])
def test_a_species_model_added_after_a_review_is_replayed_where_it_classified(
    study, tmp_path, monkeypatch, rounds
):
    """``species_model`` is added to reef-a's entry after a person's review: the study never
    classified reef-a before that edit. The page's first ``ecoseg study --no-report``
    classified it, so the replayed log began with a classification the study never made.
    Now the first run does not classify (``--no-classify``), reef-b's classification before
    its review (its model from the start) is a step of its own, and the fresh folder makes
    the same stores, tables and page.

    reef-b is classified again with its tables, which logs an entry only where a track's
    entry changed: for the same model and tracks less one, only where the probabilities
    round otherwise in a batch of another size (``rounded``), which a machine may or may not
    do. Where none was logged, the page took the study's last run for one that did not
    classify (``ecoseg study --no-classify`` closing it, reef-a's classification a step of
    its own); now the study manifest records that it classified, and the steps are the same
    either way."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    _batch_rounding(monkeypatch, rounds)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    model = "    species_model: species.json"
    write_study(root, extra_b=model)  # reef-a without a model at first
    run_study(root / "study.yaml", progress=False, report=False)
    stores = {x: root / "out" / "stores" / f"reef-{x}.zarr" for x in "ab"}
    tracks = {x: ecoseg.MaskStore.open(s).object_ids.tolist()[-1] for x, s in stores.items()}
    for x, s in stores.items():
        assert main(["edit", str(s), f"--delete={tracks[x]}"]) == 0
    write_study(root, extra_a=model, extra_b=model)  # reef-a gets the model
    run_study(root / "study.yaml", progress=False)
    assert [e["kind"] for e in edit_log(stores["a"])] == ["delete", "classify"]
    # reef-b is classified again with its tables: an entry only where a probability changed
    assert [e["kind"] for e in edit_log(stores["b"])] == ["classify", "delete"] + [
        "classify"
    ] * rounds
    sha = edit_log(stores["b"])[0]["classification"]["model_sha256"]
    steps = _page_steps(root)
    assert steps == [
        "ecoseg study study.yaml --no-report --no-classify",
        f"ecoseg edit out/stores/reef-a.zarr --delete {tracks['a']}",
        f"ecoseg classify out/stores/reef-b.zarr --model species.json --model-sha256 {sha}"
        " --video b/video.mp4",
        f"ecoseg edit out/stores/reef-b.zarr --delete {tracks['b']}",
        "ecoseg study study.yaml",
    ]
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("out"))
    assert _run_steps(steps, fresh) == []
    _same_results(root, fresh)
    _same_results(root, fresh, "reef-b")
    page = (fresh / "out" / "report.html").read_bytes()
    assert page == (root / "out" / "report.html").read_bytes()


def test_a_study_run_reads_its_species_model_file_once_for_its_hash_and_copy(
    study, tmp_path, monkeypatch
):
    """The run hashed the model file (the measure fingerprint), then ``keep_copy`` read it
    again for the copy it keeps; now the bytes it hashed are the ones it keeps (one read
    fewer, and never a copy of a file replaced in between). The classification read it a
    second time (``SpeciesModel.load``); now it is given those bytes: one read in all."""
    import builtins
    import pathlib

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "s"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    study_file = load_study(root / "study.yaml")  # (reading the study file checks the model)
    model = (root / "species.json").resolve()
    opened = []

    def counted(real):
        def open_(file, *args, **kwargs):
            if pathlib.Path(file).resolve() == model:
                opened.append(file)
            return real(file, *args, **kwargs)

        return open_

    monkeypatch.setattr(builtins, "open", counted(builtins.open))
    real_path_open = pathlib.Path.open
    monkeypatch.setattr(pathlib.Path, "open", lambda self, *a, **k: counted(real_path_open)(
        self, *a, **k))  # fmt: skip
    run_study(study_file, progress=False, report=False)
    assert len(opened) == 1  # the run's hash, copy and classify's load


def _calibrate(root, mm_per_px: str) -> None:
    """Set the study's calibration (the defaults' ``calibration:``)."""
    text = re.sub(
        r"calibration: \S+", f"calibration: {mm_per_px}", (root / "study.yaml").read_text()
    )
    (root / "study.yaml").write_text(text)


def test_classifications_are_replayed_each_with_the_calibration_it_recorded(
    study, tmp_path, monkeypatch
):
    """The study's classifications measure the tracks with the study's calibration. Two
    before the first review (the calibration changed and the store measured again) were
    made again as one, by the first run, and one between two edits with the calibration of
    today: the store made again had another edit log (an ``--undo`` after it takes back
    another classification). Each classification now records its calibration, and its step
    gives it (``ecoseg classify --calibration``) where it is not the one the store has then;
    the first run classifies nothing when its one classification would not be the first.
    The classification a person undid (4) and the undo are no steps: they cancel out."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: classified at 20 mm/px
    _calibrate(root, "10.0")
    run_study(root / "study.yaml", progress=False, report=False)  # 2: measured again at 10
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    assert main(["edit", str(store), f"--delete={track}"]) == 0  # 3
    _calibrate(root, "20.0")
    run_study(root / "study.yaml", progress=False, report=False)  # 4: at 20 again
    assert main(["edit", str(store), "--undo"]) == 0  # 5: takes back 4 (back to 2's classes)
    run_study(root / "study.yaml", progress=False)  # 6: classified again; the page
    log = edit_log(store)
    assert [e["kind"] for e in log] == ["classify"] * 2 + ["delete", "classify", "undo"] * 1 + [
        "classify"
    ]
    assert [e["classification"]["calibration"]["mm_per_px"] for e in log if "ids" in e and
            e["kind"] == "classify"] == [20.0, 10.0, 20.0, 20.0]  # fmt: skip
    sha = log[0]["classification"]["model_sha256"]
    where = "out/stores/reef-a.zarr"
    classify = (
        f"ecoseg classify {where} --model species.json --model-sha256 {sha} --video a/video.mp4"
    )
    assert _page_steps(root) == [
        "ecoseg study study.yaml --no-report --no-classify",
        classify,
        f"{classify} --calibration 10",
        f"ecoseg edit {where} --delete {track}",
        "ecoseg study study.yaml",  # 6, at 20 (4 and its undo: no steps)
    ]
    _replays_identically(root, fresh)
    again = [e["classification"]["calibration"] for e in edit_log(fresh / where) if e["kind"] ==
             "classify"]  # fmt: skip
    held = [e for e in standing_edits(log) if e["kind"] == "classify"]
    assert again == [e["classification"]["calibration"] for e in held] and len(again) == 3


def test_a_classification_made_before_the_study_had_a_calibration_is_replayed(
    study, tmp_path, monkeypatch
):
    """A study run with no calibration classifies in pixels (its stores' calibrations
    cleared); a review, then a calibration and a run that measures again. The page's step for
    the first classification said, in a comment, that it measured in mm (the store made again
    by the first run has the study's calibration): the stores made again had other
    probabilities. It now says ``--calibration none`` and the history replays to the same
    store, tables and page."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    text = (root / "study.yaml").read_text()
    (root / "study.yaml").write_text(text.replace("  calibration: 20.0\n", ""))
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: classified in px
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    assert main(["edit", str(store), f"--delete={track}"]) == 0  # 2
    (root / "study.yaml").write_text(text)  # calibrated at 20 mm/px from now on
    run_study(root / "study.yaml", progress=False)  # 3: classified in mm; the page
    log = edit_log(store)
    assert log[0]["kind"] == "classify" and log[0]["classification"]["calibration"] is None
    sha = log[0]["classification"]["model_sha256"]
    where = "out/stores/reef-a.zarr"
    assert _page_steps(root) == [
        "ecoseg study study.yaml --no-report --no-classify",
        f"ecoseg classify {where} --model species.json --model-sha256 {sha} --video a/video.mp4"
        " --calibration none",
        f"ecoseg edit {where} --delete {track}",
        "ecoseg study study.yaml",
    ]
    _replays_identically(root, fresh)


def _undo_then_review(root) -> tuple:
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


def test_a_moved_study_folder_still_names_its_species_model(study, tmp_path, monkeypatch):
    """A study's classification recorded its species model file as the study had resolved
    it (``model_file``: an absolute path of the machine it ran on), so the store of a study
    folder moved or shared named a file that is not there, and a report of its stores said
    ``--model SPECIES_MODEL.json`` (``<old path> was it: gone``). It now records the file
    relative to the study's folder, where the page's steps run: the folder moved, its steps
    replay to the same stores, logs, tables and page, and nothing names the old folder."""
    import json

    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    first, root, fresh = tmp_path / "first", tmp_path / "moved", tmp_path / "fresh"
    shutil.copytree(study, first, ignore=shutil.ignore_patterns("out"))
    shutil.copytree(first, fresh)
    _undo_then_review(first)
    shutil.move(first, root)
    run_study(root / "study.yaml", progress=False)  # the page, in the moved folder
    store = root / "out" / "stores" / "reef-a.zarr"
    log = edit_log(store)
    files = [e["classification"]["model_file"] for e in log if e["kind"] == "classify"]
    assert files == ["species.json"] * 2
    assert str(first) not in json.dumps(log)
    steps = _page_steps(root)
    sha = log[0]["classification"]["model_sha256"]
    step = f"ecoseg classify out/stores/reef-a.zarr --model species.json --model-sha256 {sha}"
    # the classification undone and its undo are no steps: the first run makes the other
    assert not any(s.startswith("ecoseg classify") for s in steps), steps
    assert str(first) not in (root / "out" / "report.html").read_text()
    assert _run_steps(steps, fresh) == []
    _same_results(root, fresh)
    again = [e["classification"]["model_file"] for e in edit_log(fresh / "out" / "stores" /
             "reef-a.zarr") if e["kind"] == "classify"]  # fmt: skip
    assert again == files[1:]  # the replay records the file alike
    assert (fresh / "out" / "report.html").read_bytes() == (
        root / "out" / "report.html"
    ).read_bytes()
    # a report of the stores without the study, in the study folder: the file is named
    monkeypatch.chdir(root)
    stores = [f"out/stores/reef-{x}.zarr" for x in "ab"]
    assert main(["report", *stores, "-o", str(tmp_path / "plain.html"), "--quiet"]) == 0
    page = html.unescape((tmp_path / "plain.html").read_text())
    classify = [s for s in re.findall(r"^ecoseg classify .*$", page, re.M)]
    assert classify and all(s.startswith(step) for s in classify), classify
    assert not any(str(first) in s for s in classify)


def test_two_classifications_after_the_last_review_are_both_replayed(study, tmp_path, monkeypatch):
    """After a person's last edit the study was run with another calibration and then with
    its first one again: two classifications of the study's after the review. The steps left
    every classification after the last review to the closing ``ecoseg study``, which made
    one, so the store made again had another edit log. Now all but the last are steps (with
    the calibration each recorded): the same log, tables and page."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: at 20 mm/px
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    assert main(["edit", str(store), f"--delete={track}"]) == 0  # 2: the last review
    _calibrate(root, "10.0")
    run_study(root / "study.yaml", progress=False, report=False)  # 3: at 10
    _calibrate(root, "20.0")
    run_study(root / "study.yaml", progress=False)  # 4: at 20 again; the page
    log = edit_log(store)
    assert [e["kind"] for e in log] == ["classify", "delete", "classify", "classify"]
    assert [e["classification"]["calibration"]["mm_per_px"] for e in log if e["kind"] ==
            "classify"] == [20.0, 10.0, 20.0]  # fmt: skip
    sha = log[0]["classification"]["model_sha256"]
    where = "out/stores/reef-a.zarr"
    assert _page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit {where} --delete {track}",
        f"ecoseg classify {where} --model species.json --model-sha256 {sha} --video a/video.mp4"
        " --calibration 10",
        "ecoseg study study.yaml",
    ]
    _replays_identically(root, fresh)


def test_a_classification_that_recorded_no_calibration_is_said_so(study, tmp_path, monkeypatch):
    """Classifications from before they recorded their calibration are made again with the
    calibration the store has there (nothing else records which one they used): the page
    said nothing of it. Now the step of such a classification says so in its comment, and a
    note says so of the one the first run makes."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log
    from ecoseg.species._edit_log import read_meta, write_meta

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "s"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: at 20 mm/px
    first, second = ecoseg.MaskStore.open(store).object_ids.tolist()[:2]
    assert main(["edit", str(store), f"--delete={first}"]) == 0  # 2
    _calibrate(root, "10.0")
    run_study(root / "study.yaml", progress=False, report=False)  # 3: at 10, between reviews
    assert main(["edit", str(store), f"--delete={second}"]) == 0  # 4
    assert [e["kind"] for e in edit_log(store)] == ["classify", "delete", "classify", "delete"]
    with ecoseg.MaskStore.open(store, mode="a") as s:  # the records of an older ecoseg
        meta = read_meta(s)
        for entry in meta["edits"]:
            (entry.get("classification") or {}).pop("calibration", None)
        write_meta(s, meta)
    stores = [str(root / "out" / "stores" / f"reef-{x}.zarr") for x in "ab"]
    page = tmp_path / "page.html"
    assert main(["report", *stores, "-o", str(page), "--study", str(root / "study.yaml")]) == 0
    steps = _page_steps_of(page)
    classify = [s for s in steps if s.startswith("ecoseg classify")]
    assert len(classify) == 1 and classify[0].endswith(
        "--video a/video.mp4   # calibration not recorded (an older ecoseg's): made with the "
        "store's here, 10; it may have used another"
    )
    assert steps[0] == "ecoseg study study.yaml --no-report"
    text = " ".join(html.unescape(page.read_text()).split())
    assert (
        "reef-a: edit log entry 1, a classification of an older ecoseg, did not record its "
        "calibration: the first run makes it with the study's now (10), which may not be the "
        "one it used." in text
    )


def test_a_last_run_without_classifying_after_a_calibration_change_is_replayed(
    study, tmp_path, monkeypatch
):
    """After a person's last edit the study classified at 20 mm/px, then went back to 10
    and was run with ``--no-classify`` (the page): the store's last classification was made
    at 20. The steps left it to the closing ``ecoseg study``, which made it at today's 10:
    the store made again recorded another calibration (and could name the tracks otherwise).
    Now it is a step with the calibration it recorded, and the closing run does not classify
    (``ecoseg study --no-classify``), as the last one did not; so are the classifications of
    reef-b, never reviewed, but for its first (the first run's): the same logs, tables and
    page."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    model = "    species_model: species.json"
    write_study(root, extra_a=model, extra_b=model)
    _calibrate(root, "10.0")
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: at 10 mm/px
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    assert main(["edit", str(store), f"--delete={track}"]) == 0  # 2: the last review
    _calibrate(root, "20.0")
    run_study(root / "study.yaml", progress=False, report=False)  # 3: at 20
    _calibrate(root, "10.0")
    run_study(root / "study.yaml", progress=False, classify=False)  # 4: at 10, unclassified
    log = edit_log(store)
    assert [e["kind"] for e in log] == ["classify", "delete", "classify"]
    made = [e["classification"]["calibration"] for e in log if e["kind"] == "classify"]
    assert [c["mm_per_px"] for c in made] == [10.0, 20.0]
    b = root / "out" / "stores" / "reef-b.zarr"
    made_b = [e["classification"]["calibration"]["mm_per_px"] for e in edit_log(b)]
    assert made_b == [10.0, 20.0]  # measured again at 20, then not classified
    sha = log[0]["classification"]["model_sha256"]
    where = "out/stores/reef-a.zarr"
    classify = f"--model species.json --model-sha256 {sha} --video"
    assert _page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit {where} --delete {track}",
        f"ecoseg classify {where} {classify} a/video.mp4 --calibration 20",
        f"ecoseg classify out/stores/reef-b.zarr {classify} b/video.mp4 --calibration 20",
        "ecoseg study study.yaml --no-classify",
    ]
    _replays_identically(root, fresh)
    _same_results(root, fresh, "reef-b")
    for store in (where, "out/stores/reef-b.zarr"):
        made, again = ([e["classification"]["calibration"] for e in edit_log(f / store) if
                        e["kind"] == "classify"] for f in (root, fresh))  # fmt: skip
        assert again == made, store


def test_a_last_run_without_classifying_after_a_review_is_replayed(study, tmp_path, monkeypatch):
    """The study classified, a person split a track and the study was run with
    ``--no-classify`` (the page): no classification after the last review. The closing
    ``ecoseg study`` of the steps classified the store again: the store made again had one
    more classification in its log. Now the closing run does not classify either: the same
    log, tables and page."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: classified
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    present = np.flatnonzero((ecoseg.MaskStore.open(store).read_labels() == track).any(axis=(1, 2)))
    cut = f"{track}@{present[-1]}"  # both parts keep pixels; a classification names them anew
    assert main(["edit", str(store), f"--split={cut}"]) == 0  # 2: the last review
    run_study(root / "study.yaml", progress=False, classify=False)  # measured; the page
    assert [e["kind"] for e in edit_log(store)] == ["classify", "split"]
    assert _page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit out/stores/reef-a.zarr --split {cut}",
        "ecoseg study study.yaml --no-classify",
    ]
    _replays_identically(root, fresh)


def test_a_study_never_classified_is_replayed_without_classifying(study, tmp_path, monkeypatch):
    """A study with a species model run with ``--no-classify`` alone (the page): its page
    said ``ecoseg study study.yaml``, which classifies the store. It now says ``ecoseg study
    study.yaml --no-classify``: the same log (none), tables and page."""
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    run_study(root / "study.yaml", progress=False, classify=False)  # the page
    assert edit_log(root / "out" / "stores" / "reef-a.zarr") == []
    assert _page_steps(root) == ["ecoseg study study.yaml --no-classify"]
    assert (
        "Regenerate with <code>ecoseg study study.yaml --no-classify</code>"
        in (root / "out" / "report.html").read_text()
    )
    _replays_identically(root, fresh)


def test_classifications_of_a_study_never_reviewed_are_replayed_each(study, tmp_path, monkeypatch):
    """No review: the study classified at 20 mm/px, then at 10 (the page). The page said
    ``ecoseg study study.yaml``, which classifies once, at 10: the store made again had one
    classification in its log, not two. Now the first run does not classify, the first
    classification is a step with the calibration it recorded and the closing run makes the
    last: the same log, tables and page."""
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: at 20 mm/px
    _calibrate(root, "10.0")
    run_study(root / "study.yaml", progress=False)  # 2: at 10; the page
    log = edit_log(store)
    assert [e["classification"]["calibration"]["mm_per_px"] for e in log] == [20.0, 10.0]
    sha = log[0]["classification"]["model_sha256"]
    assert _page_steps(root) == [
        "ecoseg study study.yaml --no-report --no-classify",
        "ecoseg classify out/stores/reef-a.zarr --model species.json --model-sha256 "
        f"{sha} --video a/video.mp4 --calibration 20",
        "ecoseg study study.yaml",
    ]
    _replays_identically(root, fresh)


def test_a_last_classification_that_changed_nothing_is_made_by_the_closing_run(
    study, tmp_path, monkeypatch
):
    """No review: the study classified at 20 mm/px, then at 10 with a model that names every
    track alike whatever its sizes, which changed no track's entry and so logged none (the
    page). The page took the last run for one that did not classify: its closing run was
    ``ecoseg study --no-classify``. Now the manifest records that it classified: the closing
    run classifies (logging none again), after the classification at 20 as a step: the same
    log, tables and page."""
    from ecoseg.species import edit_log
    from ecoseg.species.model import SpeciesModel

    real = SpeciesModel.predict_proba
    monkeypatch.setattr(SpeciesModel, "predict_proba", lambda self, X: real(self, 0 * X))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root, fresh = tmp_path / "s", tmp_path / "fresh"
    shutil.copytree(study, root, ignore=shutil.ignore_patterns("out"))
    store = root / "out" / "stores" / "reef-a.zarr"
    run_study(root / "study.yaml", progress=False, report=False)  # 1: at 20 mm/px
    _calibrate(root, "10.0")
    assert run_study(root / "study.yaml", progress=False).measured == ["reef-a", "reef-b"]
    log = edit_log(store)  # 2: at 10, no entry
    assert [e["classification"]["calibration"]["mm_per_px"] for e in log] == [20.0]
    sha = log[0]["classification"]["model_sha256"]
    assert _page_steps(root) == [
        "ecoseg study study.yaml --no-report --no-classify",
        "ecoseg classify out/stores/reef-a.zarr --model species.json --model-sha256 "
        f"{sha} --video a/video.mp4 --calibration 20",
        "ecoseg study study.yaml",
    ]
    _replays_identically(root, fresh)


@pytest.mark.parametrize("spelling", ["'20'", "20 mm/px", "20.0 mm/px"])
def test_a_calibration_written_another_way_is_not_measured_again(
    study, tmp_path, monkeypatch, spelling
):
    """The manifest's fingerprint held the calibration as written: `20.0` edited to `'20'`
    or `20 mm/px` (the same 20 mm per pixel) measured every video again, and a video with a
    species model was classified again (one more classification in its store's log, so one
    more step in the report's replay). Now calibrations are compared as the store records
    them, with the manifests a run wrote before (the fingerprint as written) still kept."""
    from ecoseg.species import edit_log

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "s"
    shutil.copytree(study, root)
    run_study(root / "study.yaml", progress=False, report=False)
    store = load_study(root / "study.yaml").store_path(load_study(root / "study.yaml").videos[0])
    log = edit_log(store)
    tables = root / "out" / "tables" / "videos" / "reef-a" / "tracks.parquet"
    before = tables.read_bytes()
    text = (root / "study.yaml").read_text()
    assert text.count("calibration: 20.0") == 1
    (root / "study.yaml").write_text(text.replace("calibration: 20.0", f"calibration: {spelling}"))
    again = run_study(root / "study.yaml", progress=False, report=False)
    assert (again.measured, again.tables_written) == ([], False)
    assert edit_log(store) == log and tables.read_bytes() == before
    text = (root / "study.yaml").read_text().replace(f"calibration: {spelling}", "calibration: 10")
    (root / "study.yaml").write_text(text)  # another calibration: measured again
    assert run_study(root / "study.yaml", progress=False, report=False).measured == [
        "reef-a",
        "reef-b",
    ]
