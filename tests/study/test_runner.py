"""ecoseg.study.runner: incremental re-runs, deterministic outputs, resume, schedulers."""

from __future__ import annotations

import base64
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
from study_helpers import EPOCH, write_study

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.measure import measure
from ecoseg.study import MANIFEST, TABLES, load_study, run_study


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Two tiny clips (a, b) with truth, in a folder to copy from."""
    root = tmp_path_factory.mktemp("clips")
    ecoseg.synth(root / "a", seed=3, frames=24, size=(96, 64), n_fish=3, n_invertebrates=1)
    ecoseg.synth(root / "b", seed=4, frames=24, size=(96, 64), n_fish=2, n_invertebrates=1)
    return root


@pytest.fixture(scope="module")
def base(clips, tmp_path_factory) -> Path:
    """A study run once (the starting point that tests copy)."""
    root = tmp_path_factory.mktemp("study")
    shutil.copytree(clips, root, dirs_exist_ok=True)
    write_study(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        run_study(root / "study.yaml", progress=False)
    return root


@pytest.fixture
def study_copy(base, tmp_path, monkeypatch) -> Path:
    """A private copy of the finished study (clips, study file and outputs)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    dest = tmp_path / "s"
    shutil.copytree(base, dest)
    return dest


@pytest.fixture
def calls(monkeypatch):
    """Count segmentations and measurements done by run_study."""
    import ecoseg.measure
    import ecoseg.study.segmenting

    counts = {"segment": [], "measure": []}
    real_segment, real_measure = ecoseg.study.segmenting.run_job, ecoseg.measure.measure

    def segment(job, **kwargs):
        counts["segment"].append(Path(job.store).name)
        return real_segment(job, **kwargs)

    def measure(store, *args, **kwargs):
        counts["measure"].append(Path(str(store)).name)
        return real_measure(store, *args, **kwargs)

    monkeypatch.setattr(ecoseg.study.segmenting, "run_job", segment)
    monkeypatch.setattr(ecoseg.measure, "measure", measure)
    return counts


# --------------------------------------------------------------------------- running
def test_run_study_makes_stores_combined_tables_and_report(base):
    out = base / "out"
    assert (out / MANIFEST).is_file()
    for name in ("reef-a", "reef-b"):
        store = ecoseg.MaskStore.open(out / "stores" / f"{name}.zarr")
        assert store.complete and store.n_frames == 24
    for table in TABLES:
        assert (out / "tables" / f"{table}.parquet").is_file()
        assert (out / "tables" / f"{table}.csv").is_file()
    counts = pd.read_parquet(out / "tables" / "counts.parquet")
    assert list(counts.columns[:5]) == ["video", "site", "transect", "date", "depth_m"]
    assert counts["video"].unique().tolist() == ["reef-a", "reef-b"]
    assert counts.groupby("video")["site"].first().to_dict() == {
        "reef-a": "North",
        "reef-b": "South",
    }
    assert counts.groupby("video")["depth_m"].first().to_dict() == {"reef-a": 6.5, "reef-b": 9.0}
    # each video's rows are exactly its own measurement
    own = measure(out / "stores" / "reef-b.zarr", calibration=20.0)["counts"]
    mine = counts[counts["video"] == "reef-b"].drop(columns=list(counts.columns[:5]))
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), own, check_like=False)
    csv = pd.read_csv(out / "tables" / "counts.csv")
    assert len(csv) == len(counts)
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_rerun_with_nothing_changed_does_nothing(study_copy, calls):
    out = study_copy / "out"
    files = sorted(p for p in (out / "tables").glob("*.*")) + [out / "report.html"]
    before = {p: (p.stat().st_mtime_ns, digest(p)) for p in files}
    result = run_study(study_copy / "study.yaml", progress=False)
    assert calls == {"segment": [], "measure": []}
    assert result.segmented == [] and result.measured == []
    assert not result.tables_written and not result.report_written
    after = {p: (p.stat().st_mtime_ns, digest(p)) for p in files}
    assert after == before


def test_a_users_own_file_among_the_combined_tables_is_refused(study_copy):
    """A user's own ``tables/counts.csv`` was replaced by the study's combined table (its
    bytes differ from the manifest's, so the tables are written again) without a word."""
    mine = study_copy / "out" / "tables" / "counts.csv"
    mine.write_text("site,diver,count\nNorth,Kim,3\n")
    with pytest.raises(ConfigError, match=r"counts\.csv: exists and is not a table ecoseg wrote"):
        run_study(study_copy / "study.yaml", progress=False)
    assert mine.read_text() == "site,diver,count\nNorth,Kim,3\n"
    mine.unlink()
    assert run_study(study_copy / "study.yaml", progress=False).tables_written


def test_the_result_shows_in_one_line(study_copy):
    # the dataclass repr held the whole study (every video's settings): a wall in a notebook
    result = run_study(study_copy / "study.yaml", progress=False)
    report = str(study_copy / "out" / "report.html")
    assert repr(result) == (
        f"<StudyResult {result.study.name!r}: 2 videos, 0 stores made, 0 measured, "
        f"report {report!r}>"
    )


def test_changed_calibration_remeasures_without_resegmenting(study_copy, calls):
    out = study_copy / "out"
    store_files = sorted((out / "stores").rglob("*"))
    # the labels (everything but the attributes, where the calibration is kept) stay untouched
    stamps = {p: p.stat().st_mtime_ns for p in store_files if p.is_file() and p.suffix != ".json"}
    assert stamps
    old = pd.read_parquet(out / "tables" / "regions.parquet")
    write_study(study_copy, extra_b="    calibration: 10.0")
    result = run_study(study_copy / "study.yaml", progress=False)
    assert calls["segment"] == [] and result.segmented == []
    assert calls["measure"] == ["reef-b.zarr"] and result.measured == ["reef-b"]
    assert result.tables_written and result.report_written
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # not segmented again
    store = ecoseg.MaskStore.open(out / "stores" / "reef-b.zarr")
    assert store.calibration["mm_per_px"] == pytest.approx(10.0)
    new = pd.read_parquet(out / "tables" / "regions.parquet")
    a_old, a_new = old[old.video == "reef-a"], new[new.video == "reef-a"]
    pd.testing.assert_frame_equal(a_old, a_new)
    b_old, b_new = old[old.video == "reef-b"], new[new.video == "reef-b"]
    assert b_new["area_px"].tolist() == b_old["area_px"].tolist()
    # 10 instead of 20 mm/px: areas a quarter
    assert b_new["area_mm2"].to_numpy() == pytest.approx(b_old["area_mm2"].to_numpy() / 4)


def test_changed_engine_params_remake_only_that_store(study_copy, calls):
    out = study_copy / "out"
    a_files = [p for p in (out / "stores" / "reef-a.zarr").rglob("*") if p.is_file()]
    stamps = {p: p.stat().st_mtime_ns for p in a_files}
    write_study(study_copy, extra_b="    params: {warmup: 4, min_hits: 2}")
    result = run_study(study_copy / "study.yaml", progress=False, report=False)
    assert calls["segment"] == ["reef-b.zarr"] and result.segmented == ["reef-b"]
    assert calls["measure"] == ["reef-b.zarr"]
    assert {p: p.stat().st_mtime_ns for p in a_files} == stamps
    prov = ecoseg.MaskStore.open(out / "stores" / "reef-b.zarr").provenance
    # every parameter is recorded, the study's two with the values it gave
    assert {k: prov["parameters"][k] for k in ("warmup", "min_hits")} == {
        "warmup": 4,
        "min_hits": 2,
    }
    assert len(prov["parameters"]) > 2
    # and back: the original parameters are a change again (no stale cache)
    calls["segment"].clear()
    write_study(study_copy)
    run_study(study_copy / "study.yaml", progress=False, report=False)
    assert calls["segment"] == ["reef-b.zarr"]


def test_a_store_not_yet_made_anew_is_not_kept_as_the_new_inputs(study_copy, calls, monkeypatch):
    """A run whose video failed before its old store was replaced (missing or damaged weights
    on a scheduler's worker, a storage hiccup) recorded the new inputs for it: the next run
    kept the old store, segmented with the old parameters, as unchanged."""
    import ecoseg.study.segmenting

    write_study(study_copy, extra_b="    params: {warmup: 4, min_hits: 2}")
    counting = ecoseg.study.segmenting.run_job

    def fails(job, **kwargs):
        raise OSError("the storage went away for a moment")

    monkeypatch.setattr(ecoseg.study.segmenting, "run_job", fails)
    with pytest.raises(OSError):
        run_study(study_copy / "study.yaml", progress=False, report=False)
    monkeypatch.setattr(ecoseg.study.segmenting, "run_job", counting)
    result = run_study(study_copy / "study.yaml", progress=False, report=False)
    assert calls["segment"] == ["reef-b.zarr"] and result.segmented == ["reef-b"]
    store = ecoseg.MaskStore.open(study_copy / "out" / "stores" / "reef-b.zarr")
    assert store.provenance["parameters"]["warmup"] == 4
    assert run_study(study_copy / "study.yaml", progress=False, report=False).segmented == []


def test_removed_calibration_gives_pixel_units(study_copy, calls):
    text = (study_copy / "study.yaml").read_text().replace("  calibration: 20.0\n", "")
    (study_copy / "study.yaml").write_text(text)
    run_study(study_copy / "study.yaml", progress=False, report=False)
    assert calls["segment"] == [] and sorted(calls["measure"]) == ["reef-a.zarr", "reef-b.zarr"]
    regions = pd.read_parquet(study_copy / "out" / "tables" / "regions.parquet")
    assert "area_px" in regions.columns
    assert "area_mm2" not in regions.columns or regions["area_mm2"].isna().all()


def test_an_edited_study_file_is_the_one_in_the_report(study_copy, calls):
    """The page embeds the study file (a download) and each video's notes, but an edit that
    changed no fingerprint (notes, a comment, the device) left the old page, whose study file
    then differed from the one beside it."""
    path = study_copy / "study.yaml"
    path.write_text(path.read_text() + "    notes: the camera slipped at 0:40\n# checked by KM\n")
    result = run_study(path, progress=False)
    assert calls == {"segment": [], "measure": []}  # nothing to redo but the page
    assert result.report_written
    page = (study_copy / "out" / "report.html").read_text()
    assert "the camera slipped at 0:40" in page
    embedded = base64.b64encode(path.read_bytes()).decode("ascii")
    assert f"data:text/yaml;base64,{embedded}" in page
    assert not run_study(path, progress=False).report_written  # and then kept


def test_changed_metadata_rewrites_tables_only(study_copy, calls):
    text = (study_copy / "study.yaml").read_text().replace("site: South", "site: East")
    (study_copy / "study.yaml").write_text(text)
    result = run_study(study_copy / "study.yaml", progress=False)
    assert calls == {"segment": [], "measure": []}
    assert result.tables_written
    maxn = pd.read_parquet(study_copy / "out" / "tables" / "maxn.parquet")
    assert sorted(maxn["site"].unique()) == ["East", "North"]


def test_a_review_of_a_store_remeasures_it_and_is_kept(study_copy, calls):
    """A person reviews a study's store (``ecoseg edit``): the next run measures that store
    again (the tables and the report name the species) and keeps the review; a change that
    would segment the store again is refused rather than losing the review."""
    out = study_copy / "out"
    store = out / "stores" / "reef-b.zarr"
    first = int(ecoseg.MaskStore.open(store).object_ids[0])
    ecoseg.Review(store).set_class(first, "wrasse")
    result = run_study(study_copy / "study.yaml", progress=False)
    assert calls == {"segment": [], "measure": ["reef-b.zarr"]}
    assert result.tables_written and result.report_written
    maxn = pd.read_parquet(out / "tables" / "maxn.parquet")
    assert "wrasse" in set(maxn[maxn.video == "reef-b"]["class"])
    assert "wrasse" in (out / "report.html").read_text()
    again = run_study(study_copy / "study.yaml", progress=False)  # nothing new: nothing done
    assert again.measured == [] and not again.tables_written and not again.report_written

    write_study(study_copy, extra_b="    params: {warmup: 4, min_hits: 2}")
    with pytest.raises(ConfigError, match=r"reef-b.zarr: 1 review edit\(s\) .* would be lost"):
        run_study(study_copy / "study.yaml", progress=False)
    assert ecoseg.MaskStore.open(store).object_records()[first].class_name == "wrasse"


def test_an_undone_review_is_no_review_a_new_segmentation_would_lose(tmp_path):
    """The review edits a study refuses to lose by segmenting a store again are those the
    store still holds: an ``--undo`` and the edit it took back counted as 2."""
    import numpy as np
    from suite_helpers import labels_store

    from ecoseg.cli import main
    from ecoseg.study.runner import reviewed_edits

    store = str(labels_store(tmp_path / "s.zarr", np.ones((2, 8, 8), np.uint32)))
    assert main(["edit", store, "--set-class", "1=wrasse"]) == 0
    assert reviewed_edits(store) == 1
    assert main(["edit", store, "--undo"]) == 0
    assert reviewed_edits(store) == 0
    assert main(["edit", store, "--reviewed", "1", "--delete", "1", "--undo"]) == 0
    assert reviewed_edits(store) == 0  # a command with its own undo: nothing held
    assert main(["edit", store, "--reviewed", "1"]) == 0
    assert reviewed_edits(store) == 1


def test_a_half_written_edit_stops_the_study_before_any_work(study_copy, calls, interrupt_edit):
    """A study's store an interrupted ``ecoseg edit`` left half written: the edit log had not
    changed yet, so the study kept its tables and report and said nothing (and a rewritten
    report drew stills from the half-edited labels). Now it stops with measure's one line
    naming the store and the command that completes the edit, before any work."""
    from ecoseg.errors import StoreError

    out = study_copy / "out"
    store = out / "stores" / "reef-b.zarr"
    interrupt_edit(store)
    before = {f: f.read_bytes() for f in out.rglob("*") if f.is_file()}
    with pytest.raises(StoreError) as refused:
        run_study(study_copy / "study.yaml", progress=False)
    with pytest.raises(StoreError) as said:
        measure(store)
    assert str(refused.value) == str(said.value)
    assert calls == {"segment": [], "measure": []}
    assert {f: f.read_bytes() for f in out.rglob("*") if f.is_file()} == before
    ecoseg.Review(store)  # what `ecoseg edit STORE --resume` does
    assert run_study(study_copy / "study.yaml", progress=False).measured == ["reef-b"]


def test_a_reviewed_studys_page_says_how_to_make_it_again(study_copy, clips, tmp_path):
    """The page of a study whose store a person reviewed lists the study run, the review and
    the run that measures it again; run in a fresh folder they give the same tables and the
    same page, byte for byte."""
    import html
    import re
    import shlex

    from ecoseg.cli import main

    store = study_copy / "out" / "stores" / "reef-b.zarr"
    ids = ecoseg.MaskStore.open(store).object_ids.tolist()
    assert (
        main(["edit", str(store), f"--set-class={ids[0]}=wrasse", f"--merge={ids[0]},{ids[1]}"])
        == 0
    )
    run_study(study_copy / "study.yaml", progress=False)
    page = (study_copy / "out" / "report.html").read_text()
    section = page.split("Reproduce this report", 1)[1]
    steps = html.unescape(re.search(r"<pre>(.*?)</pre>", section, re.S).group(1)).splitlines()
    assert steps == [
        "ecoseg study study.yaml --no-report",
        f"ecoseg edit out/stores/reef-b.zarr --set-class {ids[0]}=wrasse --merge {ids[0]},{ids[1]}",
        "ecoseg study study.yaml",
    ]
    fresh = tmp_path / "fresh"
    shutil.copytree(clips, fresh)
    shutil.copy(study_copy / "study.yaml", fresh / "study.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(fresh)
        for step in steps:
            argv = shlex.split(step)[1:]
            assert main(argv + ["--quiet"] * (argv[0] == "study")) == 0
    for name in [f"tables/{t}.parquet" for t in ("maxn", "tracks", "counts")] + ["report.html"]:
        assert (fresh / "out" / name).read_bytes() == (study_copy / "out" / name).read_bytes(), name


def test_changed_video_resegments(study_copy, calls):
    shutil.copy(study_copy / "b" / "video.mp4", study_copy / "a" / "video.mp4")
    result = run_study(study_copy / "study.yaml", progress=False, report=False)
    assert result.segmented == ["reef-a"]


def test_edited_table_is_rewritten(study_copy, calls):
    target = study_copy / "out" / "tables" / "tracks.csv"
    original = target.read_bytes()
    # its rows edited, its header kept: a file with another header is a user's own, refused
    # (test_a_users_own_file_among_the_combined_tables_is_refused)
    target.write_bytes(original.split(b"\n", 1)[0] + b"\ntampered\n")
    result = run_study(study_copy / "study.yaml", progress=False, report=False)
    assert result.tables_written and calls["measure"] == []
    assert target.read_bytes() == original


def test_outputs_are_byte_identical_in_a_fresh_run(base, clips, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    shutil.copytree(clips, tmp_path, dirs_exist_ok=True)
    shutil.copy(base / "study.yaml", tmp_path / "study.yaml")
    run_study(tmp_path / "study.yaml", progress=False)
    names = [f"{t}.{fmt}" for t in TABLES for fmt in ("parquet", "csv")]
    for name in names:
        assert digest(tmp_path / "out" / "tables" / name) == digest(
            base / "out" / "tables" / name
        ), name
    assert digest(tmp_path / "out" / "report.html") == digest(base / "out" / "report.html")
    html = (tmp_path / "out" / "report.html").read_text()
    assert str(tmp_path) not in html and str(base) not in html  # no absolute paths


def test_refuses_a_store_it_did_not_make(clips, tmp_path):
    shutil.copytree(clips, tmp_path, dirs_exist_ok=True)
    write_study(tmp_path)
    foreign = tmp_path / "out" / "stores" / "reef-a.zarr"
    shutil.copytree(clips / "a" / "truth.zarr", foreign)
    (tmp_path / "out" / MANIFEST).write_text('{"version": 1, "videos": {}, "hashes": {}}')
    before = digest(foreign / "zarr.json")
    with pytest.raises(ConfigError, match="did not make"):
        run_study(tmp_path / "study.yaml", progress=False)
    assert digest(foreign / "zarr.json") == before


def test_refuses_a_foreign_output_folder(clips, tmp_path):
    shutil.copytree(clips, tmp_path, dirs_exist_ok=True)
    write_study(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.docx").write_text("precious")
    with pytest.raises(ConfigError, match="not made by `ecoseg study`"):
        run_study(tmp_path / "study.yaml", progress=False)
    assert (tmp_path / "out" / "thesis.docx").read_text() == "precious"


def _set_progress(store: Path, frames: int) -> None:
    """Make a finished store look like one whose run was killed after ``frames`` frames."""
    import json

    meta_path = store / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"]["ecoseg"]["complete"] = False
    meta["attributes"]["ecoseg"]["frames_written"] = frames
    meta_path.write_text(json.dumps(meta))


def test_killed_segmentation_is_resumed(study_copy, calls, monkeypatch):
    import json

    import ecoseg.study.segmenting

    manifest_path = study_copy / "out" / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["videos"]["reef-a"]["segment"]["done"] = False
    manifest_path.write_text(json.dumps(manifest))
    store = study_copy / "out" / "stores" / "reef-a.zarr"
    _set_progress(store, 8)
    seen = {}
    counting = ecoseg.study.segmenting.run_job

    def spy(job, **kwargs):
        seen[Path(job.store).name] = (job.resume, job.overwrite)
        return counting(job, **kwargs)

    monkeypatch.setattr(ecoseg.study.segmenting, "run_job", spy)
    result = run_study(study_copy / "study.yaml", progress=False, report=False)
    assert calls["segment"] == ["reef-a.zarr"] and result.segmented == ["reef-a"]
    assert seen == {"reef-a.zarr": (True, False)}
    reopened = ecoseg.MaskStore.open(store)
    assert reopened.complete and reopened.n_frames == 24
    # finished stores whose manifest entry was not yet updated are simply kept
    manifest = json.loads(manifest_path.read_text())
    manifest["videos"]["reef-b"]["segment"]["done"] = False
    manifest_path.write_text(json.dumps(manifest))
    calls["segment"].clear()
    assert run_study(study_copy / "study.yaml", progress=False, report=False).segmented == []
    assert calls["segment"] == []


def test_scheduler_runs_videos_as_tasks(clips, tmp_path, calls):
    from concurrent.futures import ThreadPoolExecutor

    shutil.copytree(clips, tmp_path, dirs_exist_ok=True)
    write_study(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        result = run_study(tmp_path / "study.yaml", progress=False, scheduler=pool, report=False)
    assert sorted(calls["segment"]) == ["reef-a.zarr", "reef-b.zarr"]
    assert sorted(result.segmented) == ["reef-a", "reef-b"]
    assert not result.report.exists() and not result.report_written


def test_a_serial_run_checks_each_video_for_this_machine_once(clips, tmp_path, monkeypatch):
    """A serial run checked what this machine lacks for each video up front, then again in
    segment_task just before segmenting it; now once. segment_task itself still checks (a
    Dask worker is another machine)."""
    import ecoseg.study.runner as runner
    import ecoseg.study.segmenting as segmenting

    checked = []
    real = runner.check_video

    def counting(video, places):
        checked.append(video.name)
        return real(video, places)

    monkeypatch.setattr(runner, "check_video", counting)
    shutil.copytree(clips, tmp_path, dirs_exist_ok=True)
    write_study(tmp_path)
    result = run_study(tmp_path / "study.yaml", progress=False, report=False)
    assert sorted(result.segmented) == ["reef-a", "reef-b"]
    assert sorted(checked) == ["reef-a", "reef-b"]  # each twice before

    study = load_study(tmp_path / "study.yaml")
    video = next(v for v in study.videos if v.name == "reef-a")
    monkeypatch.setattr(segmenting, "check_video", counting)
    monkeypatch.setattr(segmenting, "run_job", lambda job: {"status": "done"})
    checked.clear()
    segmenting.segment_task((None, video, {"": "study.yaml: videos[0] (reef-a):"}))
    assert checked == ["reef-a"]


def test_output_override_leaves_the_study_folder_alone(clips, tmp_path):
    shutil.copytree(clips, tmp_path / "study", dirs_exist_ok=True)
    write_study(tmp_path / "study")
    result = run_study(
        tmp_path / "study" / "study.yaml", output=tmp_path / "elsewhere", report=False
    )
    assert result.tables["maxn"] == (tmp_path / "elsewhere" / "tables" / "maxn.parquet").resolve()
    assert result.tables["maxn"].is_file()
    assert not (tmp_path / "study" / "out").exists()


def test_sam2_engine_with_prompts_and_random_weights(clips, tmp_path, calls, monkeypatch):
    """The sam2 path end to end on random weights (no checkpoint needed), tiny input size."""
    import json

    ecoseg.synth(tmp_path / "c", seed=9, frames=4, size=(96, 64), n_fish=2)
    prompt = {"id": 1, "class": "parrotfish", "prompts": [{"frame": 0, "box": [20, 10, 60, 40]}]}
    (tmp_path / "prompts.json").write_text(json.dumps({"objects": [prompt]}))
    (tmp_path / "study.yaml").write_text(
        "output: out\n"
        "defaults: {model: sam2.1-tiny, pretrained: false, image_size: 64, device: cpu}\n"
        "videos:\n  - {path: c/video.mp4, name: clip, prompts: prompts.json}\n"
    )
    study = load_study(tmp_path / "study.yaml")
    assert study.videos[0].engine == "sam2"  # chosen by the prompt file
    run_study(study, progress=False)
    store = ecoseg.MaskStore.open(tmp_path / "out" / "stores" / "clip.zarr")
    assert store.provenance["engine"] == "sam2" and store.n_frames == 4
    assert store.provenance["model"]["variant"] == "sam2.1-tiny"
    assert [o["class"] for o in store.objects] == ["parrotfish"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "random weights" in html and "1 prompted object" in html
    # a changed prompt file is a changed input
    prompt["prompts"][0]["box"] = [30, 10, 70, 40]
    (tmp_path / "prompts.json").write_text(json.dumps({"objects": [prompt]}))
    assert run_study(study, progress=False, report=False).segmented == ["clip"]
    # so is the network's precision (fast: bf16), which the store records
    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: True)  # any machine
    text = (tmp_path / "study.yaml").read_text().replace("device: cpu}", "device: cpu, fast: true}")
    (tmp_path / "study.yaml").write_text(text)
    study = load_study(tmp_path / "study.yaml")
    assert study.videos[0].fast
    assert run_study(study, progress=False, report=False).segmented == ["clip"]
    store = ecoseg.MaskStore.open(tmp_path / "out" / "stores" / "clip.zarr")
    assert store.provenance["parameters"]["fast"] is True
    assert run_study(study, progress=False).segmented == []
    assert "sam2.1-tiny at 64 px, bf16 (fast)" in (tmp_path / "out" / "report.html").read_text()


def test_auto_runs_sam2_discovery(tmp_path, calls):
    """`auto: true` finds the animals with SAM 2's automatic discovery (`segment --auto`),
    with `params:` as discovery's settings; it is an input like any other."""
    import torch

    ecoseg.synth(tmp_path / "c", seed=2, frames=6, size=(96, 64), n_fish=2)
    settings = "{points_per_side: 4, pred_iou_thresh: 0.0, stability_score_thresh: 0.0"
    (tmp_path / "study.yaml").write_text(
        "output: out\n"
        "defaults: {pretrained: false, image_size: 64, device: cpu}\n"
        f"videos:\n  - {{path: c/video.mp4, name: clip, auto: true, params: {settings}}}}}\n"
    )
    study = load_study(tmp_path / "study.yaml")
    assert (study.videos[0].engine, study.videos[0].auto) == ("sam2", True)
    torch.manual_seed(0)
    run_study(study, progress=False, report=False)
    store = ecoseg.MaskStore.open(tmp_path / "out" / "stores" / "clip.zarr")
    assert store.provenance["auto"] is True and store.n_frames == 6
    assert store.provenance["parameters"]["points_per_side"] == 4
    assert store.objects and {o["source"] for o in store.objects} == {"discovered"}
    assert run_study(study, progress=False, report=False).segmented == []
    text = (tmp_path / "study.yaml").read_text().replace("points_per_side: 4", "points_per_side: 3")
    (tmp_path / "study.yaml").write_text(text)
    assert run_study(tmp_path / "study.yaml", progress=False, report=False).segmented == ["clip"]


def test_cli_study(study_copy, capsys):
    from ecoseg.cli import main

    path = str(study_copy / "study.yaml")
    assert main(["study", path, "--check"]) == 0
    assert "ok, 2 video(s)" in capsys.readouterr().out
    assert main(["study", path, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "stores: 0 made, 2 unchanged" in out and "(unchanged)" in out
    (study_copy / "study.yaml").write_text("videos:\n  - path: nowhere.mp4\n")
    assert main(["study", path]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecoseg: error:") and "nowhere.mp4" in err and "\n" not in err


@pytest.mark.slow
def test_sam3_concept_video_end_to_end_and_its_fingerprint(tmp_path, calls):
    """A concept-tracking video (reduced SAM 3, random weights made to detect) through the
    whole study: store with its provenance, tables and report name the concept; changing the
    concepts or detect_every is a changed input."""
    pytest.importorskip("torch")
    import torch

    ecoseg.synth(tmp_path / "c", seed=9, frames=3, size=(96, 64), n_fish=2)
    params = (
        "{score_threshold: 0.0, new_track_score: 0.0, max_objects: 3, hotstart_delay: 2, "
        "hotstart_unmatched: 2, hotstart_duplicates: 2}"
    )
    text = (
        "output: out\n"
        "defaults: {model: sam3-reduced, pretrained: false, device: cpu, params: %s}\n"
        "videos:\n  - {path: c/video.mp4, name: clip, concepts: [parrotfish], "
        "detect_every: 2}\n"
    )
    (tmp_path / "study.yaml").write_text(text % params)
    study = load_study(tmp_path / "study.yaml")
    assert study.videos[0].engine == "sam3"
    torch.manual_seed(0)
    result = run_study(study, progress=False)
    assert result.segmented == ["clip"]
    store = ecoseg.MaskStore.open(tmp_path / "out" / "stores" / "clip.zarr")
    prov = store.provenance
    assert prov["engine"] == "sam3-concepts" and store.n_frames == 3
    assert prov["model"]["variant"] == "sam3-reduced"
    assert prov["parameters"]["detect_every"] == 2
    assert prov["prompts"]["concepts"] == [{"text": "parrotfish"}]
    assert store.objects and {o["class"] for o in store.objects} == {"parrotfish"}
    store.close()
    maxn = pd.read_parquet(result.tables["maxn"])
    assert maxn["class"].tolist() == ["parrotfish"] and maxn["maxn"].iloc[0] >= 1
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<th>parrotfish</th>" in html and "concept prompt" in html
    # unchanged: nothing made again; changed concepts: made again
    assert run_study(study, progress=False, report=False).segmented == []
    (tmp_path / "study.yaml").write_text((text % params).replace("[parrotfish]", "[wrasse]"))
    assert run_study(tmp_path / "study.yaml", progress=False, report=False).segmented == ["clip"]
    with ecoseg.MaskStore.open(tmp_path / "out" / "stores" / "clip.zarr") as store:
        assert store.provenance["prompts"]["concepts"] == [{"text": "wrasse"}]


def test_a_store_of_no_frames_stops_the_study_as_measure_does(clips, tmp_path, monkeypatch):
    """A video whose segmentation stored no frames: the study made empty tables for it and
    then died in the report with a matplotlib traceback. It now stops at the measure step
    with measure's one line naming the store, and writes no tables for it."""
    import ecoseg.study.segmenting
    from ecoseg.errors import StoreError

    def no_frames(job, **kwargs):  # a video that gave no frames, stored as a finished run
        store = ecoseg.MaskStore.create(job.store, height=64, width=96, overwrite=True)
        store.mark_complete()
        store.close()
        return {"status": "done", "frames": 0, "seconds": 0.0}

    shutil.copytree(clips, tmp_path, dirs_exist_ok=True)
    write_study(tmp_path)
    monkeypatch.setattr(ecoseg.study.segmenting, "run_job", no_frames)
    with pytest.raises(StoreError, match="reef-a.zarr: holds no frames, so nothing was observed"):
        run_study(tmp_path / "study.yaml", progress=False)
    assert not (tmp_path / "out" / "tables" / "maxn.parquet").exists()


def test_per_video_tables_of_an_older_ecoseg_are_measured_again(study_copy, calls):
    """A video's stored tables an older ecoseg wrote with a class name in another spelling
    (NFD, two spaces) are not combined as they are: that video is measured again."""
    from ecoseg.measure.tables import read_table, write_table

    folder = study_copy / "out" / "tables" / "videos" / "reef-b"
    for path in sorted(folder.glob("*.parquet")):
        table = read_table(path)
        if "class" in table.columns:
            old = ["O\u0304taki" if k % 2 else "sea  urchin" for k in range(len(table))]
            write_table(table.assign(**{"class": old}), folder, path.stem, formats=("parquet",))
    result = run_study(study_copy / "study.yaml", progress=False, report=False)
    assert calls["measure"] == ["reef-b.zarr"] and result.measured == ["reef-b"]
    combined = pd.read_parquet(study_copy / "out" / "tables" / "counts.parquet")
    assert not {"O\u0304taki", "sea  urchin"} & set(combined["class"])
    again = run_study(study_copy / "study.yaml", progress=False, report=False)
    assert again.measured == []  # measured once


def test_tables_of_a_tracker_run_without_a_maxn_row_are_measured_again(
    study_copy, calls, monkeypatch
):
    """An older ecoseg gave a motion-tracker video that found nothing no rows (its video left
    out of its site's mean MaxN); a re-run measures it again, once, and combines the tables
    and writes the report anew, whose fingerprints did not change."""
    import ecoseg.study.runner
    from ecoseg.measure.tables import read_table, write_table

    folder = study_copy / "out" / "tables" / "videos" / "reef-b"
    for name in ("counts", "maxn", "cover"):
        table = read_table(folder / f"{name}.parquet")
        write_table(table.iloc[:0], folder, name, formats=("parquet",))
    # the older ecoseg combines them (a changed depth) and reports them as they are
    path = study_copy / "study.yaml"
    path.write_text(path.read_text().replace("depth_m: 9\n", "depth_m: 9.5\n"))
    with monkeypatch.context() as older:
        older.setattr(
            ecoseg.study.runner, "_no_maxn_rows", lambda video, folder: False, raising=False
        )
        assert run_study(path, progress=False).measured == []
    combined = study_copy / "out" / "tables" / "maxn.parquet"
    assert "reef-b" not in set(read_table(combined)["video"])

    result = run_study(path, progress=False)
    assert calls["measure"] == ["reef-b.zarr"] and result.measured == ["reef-b"]
    assert "reef-b" in set(read_table(combined)["video"]) and result.report_written
    again = run_study(path, progress=False)
    assert again.measured == [] and not again.tables_written and not again.report_written


def test_run_study_names_an_output_or_study_that_is_no_path(tmp_path):
    """``run_study(study, output=3)`` or a study given as its dict was pathlib's TypeError
    'expected str, bytes or os.PathLike object', nothing written."""
    path = write_study(tmp_path)
    with pytest.raises(TypeError, match="^run_study: output must be a path to the output folder"):
        run_study(path, output=3, progress=False)
    with pytest.raises(TypeError, match="^run_study: study must be a study file or a study from"):
        run_study({"videos": []}, progress=False)
    assert not (tmp_path / "out").exists()
