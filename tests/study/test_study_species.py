"""A study names a species model file: tracks are classified before measuring, a re-run gives
the same classes byte for byte, and another model file re-measures."""

from __future__ import annotations

import html
import importlib
import shutil

import numpy as np
import pytest
from study_helpers import (
    EPOCH,
    Later,
    copy_study,
    page_files,
    page_steps,
    run_steps,
    same_results,
    species_study,
    undo_then_review,
    write_study,
)
from suite_helpers import fit_species_model

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.study import load_study, run_study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return species_study(tmp_path_factory.mktemp("species-study"))


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
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    root, fresh, _, _ = copy_study(study, tmp_path, monkeypatch)
    shutil.copytree(root, fresh)
    store, track = undo_then_review(root)  # 1-4: classify, undo, classify, delete
    assert main(["edit", str(store), "--undo"]) == 0  # 5: takes back the delete
    assert main(["edit", str(store), "--undo"]) == 0  # 6: takes back the study's classify 3
    run_study(root / "study.yaml", progress=False)  # 7: classified again; the page
    kinds = ["classify", "undo", "classify", "delete", "undo", "undo", "classify"]
    assert [e["kind"] for e in edit_log(store)] == kinds
    # it said: --no-report, --undo, classify, --delete, --undo --undo, study
    assert page_steps(root) == ["ecoseg study study.yaml"]
    assert run_steps(page_steps(root), fresh) == []
    same_results(root, fresh)
    for name in ["report.html"]:
        assert (fresh / "out" / name).read_bytes() == (root / "out" / name).read_bytes(), name


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

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
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
    file = f"species_model.{old[:12]}.json"
    steps = page_steps(root)
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
    files = page_files(page)
    assert list(files) == [file]
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("out"))
    (fresh / file).write_bytes(files[file])
    with monkeypatch.context() as later:  # replayed on another day
        for name in ("ecoseg.species._classify_write", "ecoseg.species._edit_log"):
            later.setattr(importlib.import_module(name), "datetime", Later)
        assert run_steps(steps, fresh) == []
    same_results(root, fresh)
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
    assert page_files(other) == {}
    bare = tmp_path / "bare"
    shutil.copytree(root, bare, ignore=shutil.ignore_patterns("out"))
    assert run_steps(steps, bare) == [steps[1]]  # species_model...json not found


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

    _batch_rounding(monkeypatch, rounds)
    root, fresh, _, _ = copy_study(study, tmp_path, monkeypatch)
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
    steps = page_steps(root)
    assert steps == [
        "ecoseg study study.yaml --no-report --no-classify",
        f"ecoseg edit out/stores/reef-a.zarr --delete {tracks['a']}",
        f"ecoseg classify out/stores/reef-b.zarr --model species.json --model-sha256 {sha}"
        " --video b/video.mp4",
        f"ecoseg edit out/stores/reef-b.zarr --delete {tracks['b']}",
        "ecoseg study study.yaml",
    ]
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("out"))
    assert run_steps(steps, fresh) == []
    same_results(root, fresh)
    same_results(root, fresh, "reef-b")
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

    root = copy_study(study, tmp_path, monkeypatch).root
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


def test_a_study_run_with_a_model_that_cannot_give_its_earlier_names_says_so(
    study, tmp_path, monkeypatch
):
    """The study's model file replaced by one that does not know a species the first run's
    classification named: the run that classifies again renames those tracks, and says so in
    one warning naming the store, the species, how many tracks and the way back (it said
    nothing)."""
    from ecoseg.species import SpeciesModel
    from ecoseg.species.classify import NarrowerModelWarning
    from ecoseg.species.features import FEATURE_VERSION, track_features

    root, _, store, _ = copy_study(study, tmp_path, monkeypatch)
    run_study(root / "study.yaml", progress=False, report=False)
    named = [o["class"] for o in ecoseg.MaskStore.open(store).objects
             if o.get("class_source") == "classified"]  # fmt: skip
    feats = track_features(root / "ref" / "truth.zarr")
    dropped = max(set(named), key=named.count)  # the species the first run named most
    keep = [c != dropped for c in feats.classes]
    narrow = SpeciesModel.fit(
        feats.values[keep],
        [c for c, k in zip(feats.classes, keep) if k],
        feature_names=feats.names,
        feature_version=FEATURE_VERSION,
    )
    narrow.save(root / "species.json", overwrite=True)
    with pytest.warns(NarrowerModelWarning) as caught:
        run_study(root / "study.yaml", progress=False, report=False)
    n = named.count(dropped)
    assert [str(w.message) for w in caught if w.category is NarrowerModelWarning] == [
        f"{store}: {n} track{'s' * (n > 1)} lose{'s' * (n == 1)} the name {dropped!r} an "
        f"earlier classification gave {'them' if n > 1 else 'it'}, a species the model does "
        f"not know (it names {', '.join(narrow.classes)}); ecoseg edit {store} --undo (in "
        f"Python ecoseg.Review({str(store)!r}).undo()) gives {'them' if n > 1 else 'it'} back"
    ]
