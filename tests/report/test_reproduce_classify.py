"""A report's review steps replay a store's classifications as they were made: one recorded
before ``classify`` named the tracks of a concept of exemplars alone (class ``visual``) left
them ``visual``, and its step says ``--keep-visual`` so the store made again holds the same
classes."""

import importlib
import shlex
import shutil

from suite_helpers import fit_species_model

import ecoseg
from ecoseg.cli import main
from ecoseg.measure import measure
from ecoseg.measure.regions import class_source_of
from ecoseg.report.read import read_video
from ecoseg.report.reproduce import calibration_arg, review_steps
from ecoseg.species import SpeciesModel, apply_edits, classify
from ecoseg.species._edit_log import read_meta, write_meta
from ecoseg.species.edits import Edit
from ecoseg.store import MaskStore

SIZE = (160, 96)


def _replay(steps, model) -> None:
    for step in steps:
        argv = shlex.split(step, comments=True)[1:]
        assert main([str(model) if a == "SPECIES_MODEL.json" else a for a in argv]) == 0, step


def test_an_old_classify_is_replayed_leaving_visual_tracks_as_they_were(tmp_path, monkeypatch):
    model = fit_species_model(tmp_path, frames=12, size=SIZE)
    clip = ecoseg.synth(  # its fish 2 never swims in: tracks 1, 3, 4 and 5
        tmp_path / "clip", seed=3, frames=12, size=SIZE, n_fish=5, n_invertebrates=0
    )
    store = clip.truth
    with MaskStore.open(store, mode="a") as s:  # as a concept run and the tracker left them
        meta = read_meta(s)
        for o in meta["objects"]:
            o.update(source="concept", class_source="concept")
            if o["id"] in (1, 5):  # a concept of exemplars alone: no name typed
                o["class"] = "visual"
            elif o["id"] == 4:
                o.update({"class": "unknown", "source": "tracker", "class_source": "unknown"})
        write_meta(s, meta)
    fresh = [shutil.copytree(store, tmp_path / "clip" / f"again{k}.zarr") for k in (1, 2)]
    with monkeypatch.context() as old:  # classify then: a concept's track was never named
        rule = lambda o: class_source_of(o) in ("prompt", "concept", "reviewed")  # noqa: E731
        old.setattr(
            importlib.import_module("ecoseg.species._classify_write"), "named_by_person", rule
        )
        classify(store, model=model, threshold=0.0)
    with MaskStore.open(store, mode="a") as s:  # its record as then: no names_visual
        meta = read_meta(s)
        for record in (meta["classification"], meta["edits"][-1]["classification"]):
            record.pop("names_visual", None)
        write_meta(s, meta)
    apply_edits(store, [Edit("set_class", (3,), cls="wrasse")])
    apply_edits(store, [Edit("undo")])
    held = {o["id"]: o["class"] for o in MaskStore.open(store).objects}
    assert held[1] == held[5] == "visual" and held[4] != "unknown"

    info = read_video("clip", str(store), "clip/truth.zarr")
    assert info.kept_visual == [1]
    made = calibration_arg(MaskStore.open(fresh[0]).calibration)  # the clip's own
    steps = review_steps(str(fresh[0]), info.edits, visual=info.kept_visual, calibrated=made)
    sha = info.edits[0]["classification"]["model_sha256"]
    assert steps[0].startswith(
        f"ecoseg classify {fresh[0]} --model {model} --model-sha256 {sha} --thr"
    )
    assert "--keep-visual" in steps[0]
    _replay(steps, model)
    assert MaskStore.open(fresh[0]).objects == MaskStore.open(store).objects
    for name, table in measure(store).items():
        assert table.equals(measure(fresh[0])[name]), name
    # the replay's record says it kept them: its own replay keeps them too
    assert ecoseg.species.review.kept_visual(fresh[0]) == [1]

    # without the flag (as the steps were): today's classify names the visual tracks
    _replay(review_steps(str(fresh[1]), info.edits, calibrated=made), model)
    named = {o["id"]: o["class"] for o in MaskStore.open(fresh[1]).objects}
    assert named[1] != "visual" and named[5] != "visual"
    assert MaskStore.open(fresh[1]).objects != MaskStore.open(store).objects


def test_a_classify_of_today_records_that_it_named_visual_tracks(tmp_path):
    model = fit_species_model(tmp_path, frames=12, size=SIZE)
    clip = ecoseg.synth(
        tmp_path / "clip", seed=3, frames=12, size=SIZE, n_fish=2, n_invertebrates=0
    )
    with MaskStore.open(clip.truth, mode="a") as s:
        meta = read_meta(s)
        meta["objects"][0].update(
            {"class": "visual", "source": "concept", "class_source": "concept"}
        )
        write_meta(s, meta)
    classify(clip.truth, model=model, threshold=0.0)
    assert ecoseg.species.edit_log(clip.truth)[-1]["classification"]["names_visual"] is True
    assert ecoseg.species.review.kept_visual(clip.truth) == []
    assert MaskStore.open(clip.truth).objects[0]["class"] != "visual"


def test_a_classify_step_refuses_a_substitute_model_file(tmp_path, capsys):
    """A classification's step names its model by SHA-256: it took any file saved as
    SPECIES_MODEL.json, so a replay with another model made other classes unnoticed. The step
    now gives ``--model-sha256``, and another model's file is refused, naming both SHA-256s."""
    model = fit_species_model(tmp_path / "a", frames=12, size=SIZE)
    other = fit_species_model(tmp_path / "b", frames=12, size=SIZE, seed=5)
    clip = _tracked_clip(tmp_path / "clip")
    fresh = shutil.copytree(clip.truth, tmp_path / "clip" / "again.zarr")
    classify(clip.truth, model=SpeciesModel.load(model))  # no file recorded
    log = read_video("clip", str(clip.truth), "clip/truth.zarr").edits
    sha = log[0]["classification"]["model_sha256"]
    made = calibration_arg(MaskStore.open(fresh).calibration)  # the clip's own
    (step,) = review_steps(str(fresh), log, calibrated=made)
    assert step == (
        f"ecoseg classify {fresh} --model SPECIES_MODEL.json --model-sha256 {sha}   "
        "# SPECIES_MODEL.json: that model (the store records no file of it)"
    )
    argv = shlex.split(step, comments=True)[1:]
    assert main([str(other) if a == "SPECIES_MODEL.json" else a for a in argv]) == 2
    err = capsys.readouterr().err
    assert f"{other}: the species model of SHA-256 " in err and f"expected {sha}" in err
    assert MaskStore.open(fresh).objects != MaskStore.open(clip.truth).objects  # not classified
    _replay([step], model)
    assert MaskStore.open(fresh).objects == MaskStore.open(clip.truth).objects


def _tracked_clip(folder):
    """A synthetic clip whose truth store's tracks are unnamed, as the motion tracker's."""
    clip = ecoseg.synth(folder, seed=3, frames=12, size=SIZE, n_invertebrates=0)
    with MaskStore.open(clip.truth, mode="a") as s:
        meta = read_meta(s)
        for o in meta["objects"]:
            o.update({"class": "unknown", "source": "tracker", "class_source": "unknown"})
        write_meta(s, meta)
    return clip


def test_a_classify_step_names_the_model_file_while_it_is_still_that_model(tmp_path, monkeypatch):
    """A report without a study said ``--model SPECIES_MODEL.json`` for every classification,
    even with the model file right there. ``classify`` now records the file it read
    (``model_file``, as given), and the step names it while the file there still has the
    recorded SHA-256; otherwise the placeholder stays, with a comment saying why."""
    from pathlib import Path

    from ecoseg.report.reproduce import reproduce

    model = fit_species_model(tmp_path / "a", frames=12, size=SIZE)
    other = fit_species_model(tmp_path / "b", frames=12, size=SIZE, seed=5)
    clip = _tracked_clip(tmp_path / "clip")
    fresh = shutil.copytree(clip.truth, tmp_path / "clip" / "again.zarr")
    shutil.copyfile(model, tmp_path / "species.json")
    monkeypatch.chdir(tmp_path)
    assert main(["classify", str(clip.truth), "--model", "species.json"]) == 0
    sha = MaskStore.open(clip.truth).attrs["ecoseg"]["edits"][0]["classification"]
    assert sha["model_file"] == "species.json"
    sha = sha["model_sha256"]

    def classify_steps():
        info = read_video("clip", str(clip.truth), "clip/again.zarr")
        steps = reproduce([info], None, Path("report.html"))["steps"]
        return [step for step in steps if step.startswith("ecoseg classify")]

    (step,) = classify_steps()
    assert step == f"ecoseg classify clip/again.zarr --model species.json --model-sha256 {sha}"
    assert main(shlex.split(step)[1:]) == 0  # made again as it was
    assert MaskStore.open(fresh).objects == MaskStore.open(clip.truth).objects

    shutil.copyfile(other, tmp_path / "species.json")  # the file holds another model now
    assert classify_steps() == [
        f"ecoseg classify clip/again.zarr --model SPECIES_MODEL.json --model-sha256 {sha}   "
        "# SPECIES_MODEL.json: that model (species.json was it: gone or another model now)"
    ]
    (tmp_path / "species.json").unlink()
    assert classify_steps()[0].endswith("(species.json was it: gone or another model now)")


def test_a_classify_step_gives_the_calibration_its_record_names_where_the_store_has_another():
    """A classification measured with a calibration (``ecoseg measure --calibration``, then
    ``classify``) was replayed on the store as made again: uncalibrated, where a model of
    sizes in mm refuses it. Its step now gives the calibration it recorded where the store
    has another one there, and only there."""
    cal = {"mm_per_px": 0.5, "method": "scale"}
    sha = "ab" * 32

    def entry(n, calibration):
        record = {"model_sha256": sha, "calibration": calibration}
        return {"n": n, "kind": "classify", "ids": [1], "classification": record}

    log = [entry(1, cal), entry(2, cal), {"n": 3, "kind": "delete", "ids": [2]}, entry(4, None)]
    steps = [s.split("   # ")[0] for s in review_steps("r.zarr", log)]
    classify = f"ecoseg classify r.zarr --model SPECIES_MODEL.json --model-sha256 {sha}"
    assert steps == [
        f"{classify} --calibration 0.5",
        classify,
        "ecoseg edit r.zarr --delete 2",
        f"{classify} --calibration none",  # said in a comment that it measured in mm
    ]
    # made uncalibrated on a store that has a calibration there: in px, its calibration cleared
    (step,) = review_steps("r.zarr", log[-1:], calibrated="0.5")
    assert step.split("   # ")[0] == f"{classify} --calibration none"
    assert "uncalibrated" not in step  # the comment said it would measure in mm
    old = {"n": 1, "kind": "classify", "ids": [1], "classification": {"model_sha256": sha}}
    (step,) = review_steps("r.zarr", [old], calibrated="0.5")
    # a record from before classifications recorded their calibration: made with the
    # store's, and said so (nothing records which one it used)
    assert step.startswith(f"{classify}   #") and step.endswith(
        "; calibration not recorded (an older ecoseg's): made with the store's here, 0.5; it "
        "may have used another"
    )


def test_a_classification_made_uncalibrated_is_replayed_on_a_calibrated_store(
    tmp_path, monkeypatch
):
    """A store classified uncalibrated (sizes in px: a study with no calibration clears its
    stores'), then calibrated (``ecoseg measure --calibration``), was replayed on a store
    made again with a calibration (a synthetic clip's): its step said, in a comment, that it
    measured in mm, and its classes and probabilities were not the ones recorded. The step
    now says ``--calibration none`` (in px, the store's calibration cleared, recorded as none),
    and the steps make the same object table, edit log record and tables."""
    from ecoseg.report.reproduce import measure_command

    fit_species_model(tmp_path, frames=12, size=SIZE)
    clip = _tracked_clip(tmp_path / "clip")
    fresh = shutil.copytree(clip.truth, tmp_path / "clip" / "again.zarr")
    before = shutil.copytree(clip.truth, tmp_path / "clip" / "before.zarr")
    assert MaskStore.open(fresh).calibration  # as `ecoseg synth` makes it again
    with MaskStore.open(clip.truth, mode="a") as s:  # as a study with no calibration left it
        s.calibration = None
    monkeypatch.chdir(tmp_path)
    assert main(["classify", str(clip.truth), "--model", "species.json"]) == 0
    assert main(["measure", str(clip.truth), "-o", "t", "--calibration", "0.5"]) == 0
    (record,) = [e["classification"] for e in ecoseg.species.edit_log(clip.truth)]
    assert record["calibration"] is None

    info = read_video("clip", str(clip.truth), "clip/again.zarr")
    made = calibration_arg(MaskStore.open(fresh).calibration)  # the synthetic clip's
    steps = [*review_steps("clip/again.zarr", info.edits, calibrated=made), measure_command(info)]
    sha = record["model_sha256"]
    assert steps == [
        f"ecoseg classify clip/again.zarr --model species.json --model-sha256 {sha} "
        "--calibration none",
        "ecoseg measure clip/again.zarr -o clip.tables --calibration 0.5",
    ]
    for step in steps:
        assert main(shlex.split(step)[1:]) == 0, step
    assert MaskStore.open(fresh).objects == MaskStore.open(clip.truth).objects
    # the step as it was (in mm) does not make the tracks' probabilities again
    step = steps[0].replace(" --calibration none", "").replace("again.zarr", "before.zarr")
    assert main(shlex.split(step)[1:]) == 0
    assert MaskStore.open(before).objects != MaskStore.open(clip.truth).objects
    (again,) = [e["classification"] for e in ecoseg.species.edit_log(fresh)]
    assert again["calibration"] is None
    assert MaskStore.open(fresh).calibration == MaskStore.open(clip.truth).calibration
    for name, table in measure(clip.truth).items():
        assert measure(fresh)[name].equals(table), name


def test_a_synthetic_clip_calibrated_again_is_replayed_from_its_own_calibration(
    tmp_path, monkeypatch
):
    """A report's steps took a synthetic clip's store to be made with its final calibration
    (``_made_calibrated``): one classified with its own (synthetic) calibration, then measured
    in pixels (``measure --calibration none``), was replayed as made uncalibrated: its
    classify step said ``--calibration <the synthetic mm/px>`` and no step cleared it again,
    so the tables made again were in mm. ``ecoseg synth`` now records its calibration in
    the provenance, the steps start from it, and they make the same log and tables."""
    from pathlib import Path

    from ecoseg.report.reproduce import reproduce

    fit_species_model(tmp_path, frames=12, size=SIZE)
    clip = _tracked_clip(tmp_path / "clip")
    own = MaskStore.open(clip.truth).calibration
    assert MaskStore.open(clip.truth).provenance["calibration"] == own
    fresh = shutil.copytree(clip.truth, tmp_path / "clip" / "again.zarr")  # as synth makes it
    monkeypatch.chdir(tmp_path)
    assert main(["classify", str(clip.truth), "--model", "species.json"]) == 0
    assert main(["measure", str(clip.truth), "-o", "t", "--calibration", "none"]) == 0
    (record,) = [e["classification"] for e in ecoseg.species.edit_log(clip.truth)]
    assert record["calibration"] == own

    info = read_video("clip", str(clip.truth), "clip/again.zarr")
    steps = reproduce([info], None, Path("report.html"))["steps"]
    steps = [s for s in steps if s.startswith(("ecoseg classify", "ecoseg measure"))]
    sha = record["model_sha256"]
    assert steps == [
        f"ecoseg classify clip/again.zarr --model species.json --model-sha256 {sha}",
        "ecoseg measure clip/again.zarr -o clip.tables --calibration none",
    ]
    for step in steps:
        assert main(shlex.split(step)[1:]) == 0, step
    (again,) = [e["classification"] for e in ecoseg.species.edit_log(fresh)]
    assert again["calibration"] == own
    assert MaskStore.open(fresh).objects == MaskStore.open(clip.truth).objects
    assert MaskStore.open(fresh).calibration is None
    for name, table in measure(clip.truth).items():
        assert measure(fresh)[name].equals(table), name
