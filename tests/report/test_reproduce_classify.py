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
from ecoseg.report.reproduce import review_steps
from ecoseg.species import apply_edits, classify
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
    clip = ecoseg.synth(
        tmp_path / "clip", seed=3, frames=12, size=SIZE, n_fish=4, n_invertebrates=0
    )
    store = clip.truth
    with MaskStore.open(store, mode="a") as s:  # as a concept run and the tracker left them
        meta = read_meta(s)
        for o in meta["objects"]:
            o.update(source="concept", class_source="concept")
            if o["id"] in (1, 2):  # a concept of exemplars alone: no name typed
                o["class"] = "visual"
            elif o["id"] == 4:
                o.update({"class": "unknown", "source": "tracker", "class_source": "unknown"})
        write_meta(s, meta)
    fresh = [shutil.copytree(store, tmp_path / "clip" / f"again{k}.zarr") for k in (1, 2)]
    with monkeypatch.context() as old:  # classify then: a concept's track was never named
        rule = lambda o: class_source_of(o) in ("prompt", "concept", "reviewed")  # noqa: E731
        old.setattr(importlib.import_module("ecoseg.species.classify"), "named_by_person", rule)
        classify(store, model=model, threshold=0.0)
    with MaskStore.open(store, mode="a") as s:  # its record as then: no names_visual
        meta = read_meta(s)
        for record in (meta["classification"], meta["edits"][-1]["classification"]):
            record.pop("names_visual", None)
        write_meta(s, meta)
    apply_edits(store, [Edit("set_class", (3,), cls="wrasse")])
    apply_edits(store, [Edit("undo")])
    held = {o["id"]: o["class"] for o in MaskStore.open(store).objects}
    assert held[1] == held[2] == "visual" and held[4] != "unknown"

    info = read_video("clip", str(store), "clip/truth.zarr")
    assert info.kept_visual == [1]
    steps = review_steps(str(fresh[0]), info.edits, visual=info.kept_visual)
    sha = info.edits[0]["classification"]["model_sha256"]
    assert steps[0].startswith(
        f"ecoseg classify {fresh[0]} --model SPECIES_MODEL.json --model-sha256 {sha} --thr"
    )
    assert "--keep-visual" in steps[0]
    _replay(steps, model)
    assert MaskStore.open(fresh[0]).objects == MaskStore.open(store).objects
    for name, table in measure(store).items():
        assert table.equals(measure(fresh[0])[name]), name
    # the replay's record says it kept them: its own replay keeps them too
    assert ecoseg.species.review.kept_visual(fresh[0]) == [1]

    # without the flag (as the steps were): today's classify names the visual tracks
    _replay(review_steps(str(fresh[1]), info.edits), model)
    named = {o["id"]: o["class"] for o in MaskStore.open(fresh[1]).objects}
    assert named[1] != "visual"  # (track 2 is in no frame: no features, never named)
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
    clip = ecoseg.synth(tmp_path / "clip", seed=3, frames=12, size=SIZE, n_invertebrates=0)
    with MaskStore.open(clip.truth, mode="a") as s:  # as the motion tracker leaves them
        meta = read_meta(s)
        for o in meta["objects"]:
            o.update({"class": "unknown", "source": "tracker", "class_source": "unknown"})
        write_meta(s, meta)
    fresh = shutil.copytree(clip.truth, tmp_path / "clip" / "again.zarr")
    classify(clip.truth, model=model)
    log = read_video("clip", str(clip.truth), "clip/truth.zarr").edits
    sha = log[0]["classification"]["model_sha256"]
    (step,) = review_steps(str(fresh), log)
    assert step == f"ecoseg classify {fresh} --model SPECIES_MODEL.json --model-sha256 {sha}"
    argv = shlex.split(step)[1:]
    assert main([str(other) if a == "SPECIES_MODEL.json" else a for a in argv]) == 2
    err = capsys.readouterr().err
    assert f"{other}: the species model of SHA-256 " in err and f"expected {sha}" in err
    assert MaskStore.open(fresh).objects != MaskStore.open(clip.truth).objects  # not classified
    _replay([step], model)
    assert MaskStore.open(fresh).objects == MaskStore.open(clip.truth).objects
