"""A study's species classifications replayed from its page: each with the calibration it
recorded, made before the study had one, after reviews, and by the closing run."""

from __future__ import annotations

import html
import re
import shutil

import numpy as np
import pytest
from study_helpers import (
    EPOCH,
    another_model_then_own,
    copy_study,
    page_steps,
    page_steps_of,
    replays_identically,
    run_steps,
    same_results,
    species_study,
    undo_then_review,
    write_study,
)

import ecoseg
from ecoseg.species._edit_log import standing_edits
from ecoseg.study import load_study, run_study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return species_study(tmp_path_factory.mktemp("species-study"))


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

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
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
    classify = (
        f"ecoseg classify {where} --model species.json --model-sha256 {sha} --video a/video.mp4"
    )
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report --no-classify",
        classify,
        f"{classify} --calibration 10",
        f"ecoseg edit {where} --delete {track}",
        "ecoseg study study.yaml",  # 6, at 20 (4 and its undo: no steps)
    ]
    replays_identically(root, fresh)
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

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    text = (root / "study.yaml").read_text()
    (root / "study.yaml").write_text(text.replace("  calibration: 20.0\n", ""))
    run_study(root / "study.yaml", progress=False, report=False)  # 1: classified in px
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    assert main(["edit", str(store), f"--delete={track}"]) == 0  # 2
    (root / "study.yaml").write_text(text)  # calibrated at 20 mm/px from now on
    run_study(root / "study.yaml", progress=False)  # 3: classified in mm; the page
    log = edit_log(store)
    assert log[0]["kind"] == "classify" and log[0]["classification"]["calibration"] is None
    sha = log[0]["classification"]["model_sha256"]
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report --no-classify",
        f"ecoseg classify {where} --model species.json --model-sha256 {sha} --video a/video.mp4"
        " --calibration none",
        f"ecoseg edit {where} --delete {track}",
        "ecoseg study study.yaml",
    ]
    replays_identically(root, fresh)


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
    undo_then_review(first)
    shutil.move(first, root)
    run_study(root / "study.yaml", progress=False)  # the page, in the moved folder
    store = root / "out" / "stores" / "reef-a.zarr"
    log = edit_log(store)
    files = [e["classification"]["model_file"] for e in log if e["kind"] == "classify"]
    assert files == ["species.json"] * 2
    assert str(first) not in json.dumps(log)
    steps = page_steps(root)
    sha = log[0]["classification"]["model_sha256"]
    step = f"ecoseg classify out/stores/reef-a.zarr --model species.json --model-sha256 {sha}"
    # the classification undone and its undo are no steps: the first run makes the other
    assert not any(s.startswith("ecoseg classify") for s in steps), steps
    assert str(first) not in (root / "out" / "report.html").read_text()
    assert run_steps(steps, fresh) == []
    same_results(root, fresh)
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

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
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
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit {where} --delete {track}",
        f"ecoseg classify {where} --model species.json --model-sha256 {sha} --video a/video.mp4"
        " --calibration 10",
        "ecoseg study study.yaml",
    ]
    replays_identically(root, fresh)


def test_a_classification_that_recorded_no_calibration_is_said_so(study, tmp_path, monkeypatch):
    """Classifications from before they recorded their calibration are made again with the
    calibration the store has there (nothing else records which one they used): the page
    said nothing of it. Now the step of such a classification says so in its comment, and a
    note says so of the one the first run makes."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log
    from ecoseg.species._edit_log import read_meta, write_meta

    root, _, store, where = copy_study(study, tmp_path, monkeypatch)
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
    steps = page_steps_of(page)
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

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    model = "    species_model: species.json"
    write_study(root, extra_a=model, extra_b=model)
    _calibrate(root, "10.0")
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
    classify = f"--model species.json --model-sha256 {sha} --video"
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit {where} --delete {track}",
        f"ecoseg classify {where} {classify} a/video.mp4 --calibration 20",
        f"ecoseg classify out/stores/reef-b.zarr {classify} b/video.mp4 --calibration 20",
        "ecoseg study study.yaml --no-classify",
    ]
    replays_identically(root, fresh)
    same_results(root, fresh, "reef-b")
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

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    run_study(root / "study.yaml", progress=False, report=False)  # 1: classified
    track = ecoseg.MaskStore.open(store).object_ids.tolist()[0]
    present = np.flatnonzero((ecoseg.MaskStore.open(store).read_labels() == track).any(axis=(1, 2)))
    cut = f"{track}@{present[-1]}"  # both parts keep pixels; a classification names them anew
    assert main(["edit", str(store), f"--split={cut}"]) == 0  # 2: the last review
    run_study(root / "study.yaml", progress=False, classify=False)  # measured; the page
    assert [e["kind"] for e in edit_log(store)] == ["classify", "split"]
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit out/stores/reef-a.zarr --split {cut}",
        "ecoseg study study.yaml --no-classify",
    ]
    replays_identically(root, fresh)


def test_a_study_never_classified_is_replayed_without_classifying(study, tmp_path, monkeypatch):
    """A study with a species model run with ``--no-classify`` alone (the page): its page
    said ``ecoseg study study.yaml``, which classifies the store. It now says ``ecoseg study
    study.yaml --no-classify``: the same log (none), tables and page."""
    from ecoseg.species import edit_log

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    run_study(root / "study.yaml", progress=False, classify=False)  # the page
    assert edit_log(store) == []
    assert page_steps(root) == ["ecoseg study study.yaml --no-classify"]
    assert (
        "Regenerate with <code>ecoseg study study.yaml --no-classify</code>"
        in (root / "out" / "report.html").read_text()
    )
    replays_identically(root, fresh)


def test_classifications_of_a_study_never_reviewed_are_replayed_each(study, tmp_path, monkeypatch):
    """No review: the study classified at 20 mm/px, then at 10 (the page). The page said
    ``ecoseg study study.yaml``, which classifies once, at 10: the store made again had one
    classification in its log, not two. Now the first run does not classify, the first
    classification is a step with the calibration it recorded and the closing run makes the
    last: the same log, tables and page."""
    from ecoseg.species import edit_log

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    run_study(root / "study.yaml", progress=False, report=False)  # 1: at 20 mm/px
    _calibrate(root, "10.0")
    run_study(root / "study.yaml", progress=False)  # 2: at 10; the page
    log = edit_log(store)
    assert [e["classification"]["calibration"]["mm_per_px"] for e in log] == [20.0, 10.0]
    sha = log[0]["classification"]["model_sha256"]
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report --no-classify",
        "ecoseg classify out/stores/reef-a.zarr --model species.json --model-sha256 "
        f"{sha} --video a/video.mp4 --calibration 20",
        "ecoseg study study.yaml",
    ]
    replays_identically(root, fresh)


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
    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    run_study(root / "study.yaml", progress=False, report=False)  # 1: at 20 mm/px
    _calibrate(root, "10.0")
    assert run_study(root / "study.yaml", progress=False).measured == ["reef-a", "reef-b"]
    log = edit_log(store)  # 2: at 10, no entry
    assert [e["classification"]["calibration"]["mm_per_px"] for e in log] == [20.0]
    sha = log[0]["classification"]["model_sha256"]
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report --no-classify",
        "ecoseg classify out/stores/reef-a.zarr --model species.json --model-sha256 "
        f"{sha} --video a/video.mp4 --calibration 20",
        "ecoseg study study.yaml",
    ]
    replays_identically(root, fresh)


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


def _first_run_without_tracks_in_reef_b(root):
    """The study copied to ``root`` (:func:`copy_study`) given the species model for both
    videos, reef-b's motion tracker keeping no track, run once without the page; returns its
    stores folder."""
    write_study(  # reef-b: no track lasts long enough to be one
        root,
        extra_a="    species_model: species.json",
        extra_b="    species_model: species.json\n    params: {warmup: 5, min_hits: 1000}",
    )
    run_study(root / "study.yaml", progress=False, report=False)
    return root / "out" / "stores"


def test_a_store_with_no_tracks_lets_the_first_run_classify(study, tmp_path, monkeypatch):
    """reef-b, with the study's model too, has no tracks: its classifications log nothing.
    Its empty log read as a first run that did not classify, so the page's first run was
    ``ecoseg study --no-report --no-classify`` and reef-a's first classification a step of
    its own. Now the manifest records that reef-b's last run classified: the first run
    classifies (logging none for reef-b), then the review: the same logs, tables and page."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    root, fresh, _, _ = copy_study(study, tmp_path, monkeypatch)
    stores = _first_run_without_tracks_in_reef_b(root)
    assert ecoseg.MaskStore.open(stores / "reef-b.zarr").object_ids.tolist() == []
    track = ecoseg.MaskStore.open(stores / "reef-a.zarr").object_ids.tolist()[0]
    assert main(["edit", str(stores / "reef-a.zarr"), f"--delete={track}"]) == 0
    run_study(root / "study.yaml", progress=False)  # the page
    assert edit_log(stores / "reef-b.zarr") == []
    steps = page_steps(root)
    assert steps[0] == "ecoseg study study.yaml --no-report"
    assert steps[-1] == "ecoseg study study.yaml"
    assert len(steps) == 3 and steps[1].startswith("ecoseg edit out/stores/reef-a.zarr")
    replays_identically(root, fresh)


def test_a_store_with_no_tracks_and_a_logged_classification_lets_the_first_run_classify(
    study, tmp_path, monkeypatch
):
    """reef-b, with the study's model too, has no tracks, and a person classified it with
    another calibration (10 mm/px): ``classify`` saved it, so the classification is logged,
    naming no track. Its log did not begin with the study's classification of today's
    calibration, so the page's first run was ``ecoseg study --no-report --no-classify`` and
    every store's first classification a step of its own, though no run of the study names
    anything in reef-b (it saves the calibration first, then finds no track). Now its entry
    is a step and the first run classifies: the same logs, tables and page."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log

    root, fresh, _, _ = copy_study(study, tmp_path, monkeypatch)
    stores = _first_run_without_tracks_in_reef_b(root)
    monkeypatch.chdir(root)
    b = "out/stores/reef-b.zarr"
    argv = ["classify", b, "--model", "species.json", "--video", "b/video.mp4"]
    assert main([*argv, "--calibration", "10", "--quiet"]) == 0
    run_study(root / "study.yaml", progress=False)  # reef-b at 20 again, no entry; the page
    log = edit_log(stores / "reef-b.zarr")
    assert [(e["kind"], e["ids"]) for e in log] == [("classify", [])]
    sha = log[0]["classification"]["model_sha256"]
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg classify {b} --model species.json --model-sha256 {sha} --video b/video.mp4 "
        "--calibration 10",
        "ecoseg study study.yaml",
    ]
    replays_identically(root, fresh)

    def logged(folder):  # reef-b's log, but for its times
        kept = ("n", "kind", "ids")
        return [
            ({k: e[k] for k in kept}, e["classification"]["calibration"])
            for e in edit_log(folder / b)
        ]

    assert logged(fresh) == logged(root)


def test_an_undone_edit_before_an_entry_a_note_names_keeps_its_number(study, tmp_path, monkeypatch):
    """A person deleted a track and undid it (entries 2, 3), then the study classified with
    another model file (entry 5) and with its own again: the page's note names entry 5, as
    ``ecoseg edit STORE --log`` numbers it. The steps left out the delete and its undo, so the
    store made again had that classification as entry 3, and the page made again said
    ``entry 3``. Now the steps keep what was undone before an entry a note names: the store
    made again numbers its log as the store does, and the page made again is the page."""
    from ecoseg.cli import main
    from ecoseg.species import edit_log
    from ecoseg.species._edit_log import log_lines

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    run_study(root / "study.yaml", progress=False, report=False)  # 1: the study's model
    first, second = ecoseg.MaskStore.open(store).object_ids.tolist()[:2]
    assert main(["edit", str(store), f"--delete={first}"]) == 0  # 2
    assert main(["edit", str(store), "--undo"]) == 0  # 3: takes back 2
    assert main(["edit", str(store), f"--delete={second}"]) == 0  # 4
    another_model_then_own(root, tmp_path)  # 5: another model; 6: its own again, the page
    log = edit_log(store)
    kinds = ["classify", "delete", "undo", "delete", "classify", "classify"]
    assert [e["kind"] for e in log] == kinds
    sha = log[4]["classification"]["model_sha256"]
    file = f"species_model.{sha[:12]}.json"
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit {where} --delete {first}",
        f"ecoseg edit {where} --undo",
        f"ecoseg edit {where} --delete {second}",
        f"ecoseg classify {where} --model {file} --model-sha256 {sha} --video a/video.mp4",
        "ecoseg study study.yaml",
    ]
    page = html.unescape((root / "out" / "report.html").read_text())
    assert f"reef-a: classified (edit log entry 5) with the species model of SHA-256 {sha}" in page
    assert log_lines(log)[4].startswith("5  ")
    replays_identically(root, fresh, files=[file])
    again = edit_log(fresh / where)
    assert [(e["n"], e["kind"]) for e in again] == [(e["n"], e["kind"]) for e in log]


def test_an_old_merge_before_an_entry_a_note_names_keeps_its_number(study, tmp_path, monkeypatch):
    """A person named two tracks differently (entries 2, 3) and merged them (4) before
    ``--merge`` refused two names a person gave (the old merge kept the first track's
    name), then the study classified with another model file (5) and with its own again:
    the page's note names entry 5. The steps replayed the old merge as a ``--set-class``
    then ``--merge`` (refused otherwise), one entry more, so the store made again had that
    classification as entry 6 and the page made again said ``entry 6``. Now the merge is
    made as it was (``--unchecked-merge``): the same log, numbered alike, and the same page."""
    import ecoseg.species.edits
    from ecoseg.cli import main
    from ecoseg.provenance import clean_class_name
    from ecoseg.species import edit_log

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    run_study(root / "study.yaml", progress=False, report=False)  # 1: the study's model
    first, second = ecoseg.MaskStore.open(store).object_ids.tolist()[:2]
    assert main(["edit", str(store), f"--set-class={first}=parrotfish"]) == 0  # 2
    assert main(["edit", str(store), f"--set-class={second}=wrasse"]) == 0  # 3
    with monkeypatch.context() as old:  # as ecoseg merged before it ranked names: no clash
        old.setattr(
            ecoseg.species.edits, "_persons_name", lambda o: (0, clean_class_name(o["class"]))
        )
        assert main(["edit", str(store), f"--merge={first},{second}"]) == 0  # 4
    another_model_then_own(root, tmp_path)  # 5: another model; 6: its own again, the page
    log = edit_log(store)
    kinds = ["classify", "set_class", "set_class", "merge", "classify", "classify"]
    assert [e["kind"] for e in log] == kinds
    sha = log[4]["classification"]["model_sha256"]
    file = f"species_model.{sha[:12]}.json"
    assert page_steps(root) == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit {where} --set-class {first}=parrotfish --set-class {second}=wrasse "
        f"--unchecked-merge {first},{second}",
        f"ecoseg classify {where} --model {file} --model-sha256 {sha} --video a/video.mp4",
        "ecoseg study study.yaml",
    ]
    page = html.unescape((root / "out" / "report.html").read_text())
    assert f"reef-a: classified (edit log entry 5) with the species model of SHA-256 {sha}" in page
    replays_identically(root, fresh, files=[file])
    again = edit_log(fresh / where)
    assert [(e["n"], e["kind"], e["ids"]) for e in again] == [
        (e["n"], e["kind"], e["ids"]) for e in log
    ]


def test_a_merge_made_before_names_were_ranked_is_replayed_as_it_was(study, tmp_path, monkeypatch):
    """The study classified its tracks, a person named the second track (entry 2) and merged
    it into the first (3) before ecoseg ranked names: that merge kept the first track's guess
    of the model, confirmed as reviewed. The steps gave ``--merge``, which today keeps the
    person's name: the store made again named the merged track otherwise, and its tables
    counted another species. Now the merge is found from the table after it and made as it
    was (``--unchecked-merge``): the same log, numbered alike, tables and page."""
    import ecoseg.species.edits
    from ecoseg.cli import main
    from ecoseg.provenance import clean_class_name
    from ecoseg.species import edit_log

    root, fresh, store, where = copy_study(study, tmp_path, monkeypatch)
    run_study(root / "study.yaml", progress=False, report=False)  # 1: the study's model
    records = list(ecoseg.MaskStore.open(store).object_records().values())
    first, second = records[0], records[1]
    assert first.class_source == "classified"  # the model's guess
    name = "grouper" if first.class_name != "grouper" else "wrasse"
    assert main(["edit", str(store), f"--set-class={second.id}={name}"]) == 0  # 2
    with monkeypatch.context() as old:  # as ecoseg merged before it ranked names
        old.setattr(
            ecoseg.species.edits, "_persons_name", lambda o: (0, clean_class_name(o["class"]))
        )
        old.setattr(
            ecoseg.species.edits, "_a_guess", lambda o: clean_class_name(o["class"]) == "unknown"
        )
        assert main(["edit", str(store), f"--merge={first.id},{second.id}"]) == 0  # 3
    merged = ecoseg.MaskStore.open(store).object_records()[first.id]
    assert (merged.class_name, merged.reviewed) == (first.class_name, True)
    run_study(root / "study.yaml", progress=False)  # the page
    assert page_steps(root)[1:] == [
        f"ecoseg edit {where} --set-class {second.id}={name} "
        f"--unchecked-merge {first.id},{second.id}",
        "ecoseg study study.yaml",
    ]
    replays_identically(root, fresh)
    log, again = edit_log(store), edit_log(fresh / where)
    assert [(e["n"], e["kind"]) for e in again] == [(e["n"], e["kind"]) for e in log]
