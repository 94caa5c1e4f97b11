"""A study that replaces a calibration stored with one of its stores says so once: a warning,
in `ecoseg measure`'s words, where the one it replaces is not its own (set by hand); a progress
line where it is the study's own of its last run (the study file's calibration changed)."""

from __future__ import annotations

import pytest
from study_helpers import write_study
from suite_helpers import fit_species_model

import ecoseg
from ecoseg.cli import main
from ecoseg.store import MaskStore

WARNING = "ecoseg: warning: {store}: the calibration {new} replaces the stored 30 mm/px (scale)"


@pytest.fixture
def study(tmp_path):
    for name, seed in (("a", 3), ("b", 4)):
        ecoseg.synth(tmp_path / name, seed=seed, frames=6, size=(96, 64), n_invertebrates=0)
    write_study(tmp_path)  # calibration 20 mm/px for both
    assert main(["study", str(tmp_path / "study.yaml"), "--no-report", "--quiet"]) == 0
    return tmp_path


def _rerun(study, capsys, old: str, new: str) -> str:
    """The study run again with ``old`` of its file written ``new``; its stderr."""
    path = study / "study.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    capsys.readouterr()
    assert main(["study", str(path), "--no-report"]) == 0
    return capsys.readouterr().err


def _calibrate_by_hand(study, capsys) -> str:
    store = study / "out" / "stores" / "reef-a.zarr"
    hand = ["measure", str(store), "-o", str(study / "hand"), "--calibration", "30"]
    assert main([*hand, "--quiet"]) == 0
    capsys.readouterr()
    return str(store)


def test_a_calibration_set_by_hand_is_replaced_with_a_warning(study, capsys):
    """`ecoseg measure --calibration 30` on the study's store, then the study file says
    `calibration: none` for it: the run cleared the store's 30 mm/px without a word."""
    store = _calibrate_by_hand(study, capsys)
    err = _rerun(study, capsys, "    name: reef-a\n", "    name: reef-a\n    calibration: none\n")
    warned = [line for line in err.splitlines() if "replaces the stored" in line]
    assert warned == [
        WARNING.format(store=store, new="none (pixels)") + "; sizes are now in pixels"
    ]
    assert MaskStore.open(store).calibration is None


def test_the_studys_own_calibration_changed_in_its_file_is_a_progress_line(study, capsys):
    """The study file's calibration of a video changed from 20 to 25 mm/px: the run warned that
    it replaced the stored 20 mm/px, which the study itself had saved there; now it says so in
    its progress, once per store, and warns only for a store calibrated by hand."""
    err = _rerun(study, capsys, "calibration: 20.0", "calibration: 25.0")
    assert "warning" not in err
    for name in ("reef-a", "reef-b"):
        said = (
            f"ecoseg study: measure {name}: calibration 25 mm/px (scale) replaces the study's "
            "own 20 mm/px (scale), as the study file now gives it"
        )
        assert err.splitlines().count(said) == 1
        store = MaskStore.open(study / "out" / "stores" / f"{name}.zarr")
        assert store.calibration == {"mm_per_px": 25.0, "method": "scale"}


def test_a_species_model_study_warns_once_for_a_calibration_set_by_hand(study, capsys):
    """With a `species_model:` the study saved its calibration into the store before naming
    its tracks, without a word, over one set by hand (and measuring then found nothing to
    replace)."""
    fit_species_model(study, frames=6, size=(96, 64))
    store = _calibrate_by_hand(study, capsys)
    err = _rerun(
        study, capsys, "    name: reef-a\n", "    name: reef-a\n    species_model: species.json\n"
    )
    warned = [line for line in err.splitlines() if "replaces the stored" in line]
    assert warned == [
        WARNING.format(store=store, new="20 mm/px (scale)") + "; sizes are now measured with "
        "the new one"
    ]
    assert MaskStore.open(store).calibration == {"mm_per_px": 20.0, "method": "scale"}


def test_a_rerun_puts_the_studys_calibration_back_over_one_set_by_hand(study, capsys):
    """`ecoseg measure --calibration 30` on the study's store, the study file unchanged: a
    re-run kept the study's tables (measured at 20 mm/px) and left the store at 30 mm/px
    without a word, so the store and the study's tables disagreed. Now it warns once, naming
    the store and both calibrations, saves the study's back, and keeps the tables (measured
    with the study's calibration, which the store holds again)."""
    store = _calibrate_by_hand(study, capsys)
    tables = study / "out" / "tables" / "videos" / "reef-a" / "regions.parquet"
    before = tables.stat().st_mtime_ns
    err = _rerun(study, capsys, "", "")
    warned = [line for line in err.splitlines() if "replaces the stored" in line]
    assert warned == [
        WARNING.format(store=store, new="20 mm/px (scale)") + "; sizes are now measured with "
        "the new one"
    ]
    assert MaskStore.open(store).calibration == {"mm_per_px": 20.0, "method": "scale"}
    assert "ecoseg study: measure reef-a: unchanged, kept" in err.splitlines()
    assert tables.stat().st_mtime_ns == before
    # and the next run finds nothing to say
    assert "warning" not in _rerun(study, capsys, "", "")


def _no_segmenting(monkeypatch):
    import ecoseg.batch.jobs

    def segmented(job, *_):
        raise AssertionError(f"{job.video} segmented before the refusal")

    monkeypatch.setattr(ecoseg.batch.jobs, "_segment", segmented)


def test_a_scale_bar_outside_the_frame_is_refused_before_the_video_is_segmented(
    tmp_path, monkeypatch, capsys
):
    """A study file's scale bar longer than the 96x64 frame: the run refused it (as
    `ecoseg measure` does) only after it had segmented the video (an hour's work for a long
    one) and saved it into the store; now before any segmentation, at its study file line,
    and `study --check` says it too."""
    ecoseg.synth(tmp_path / "a", seed=3, frames=6, size=(96, 64), n_invertebrates=0)
    (tmp_path / "study.yaml").write_text(
        "name: s\noutput: out\ndefaults: {engine: classical, params: {warmup: 5, min_hits: 2},"
        ' calibration: "scale-bar:0,10,500,10,100"}\nvideos:\n  - {path: a/video.mp4, name: a}\n'
    )
    _no_segmenting(monkeypatch)
    said = r"line 3: videos\[0\] \(a\): .*a\.zarr: calibration scale-bar end \(500, 10\) is outside"
    with pytest.raises(ecoseg.errors.CalibrationError, match=said):
        ecoseg.study.run_study(tmp_path / "study.yaml", progress=False, report=False)
    assert not (tmp_path / "out" / "stores" / "a.zarr").exists()
    assert main(["study", str(tmp_path / "study.yaml"), "--check"]) != 0
    assert "is outside the 96x64 px frame" in capsys.readouterr().err


def test_a_species_model_of_other_units_or_frames_is_refused_before_the_video_is_segmented(
    tmp_path, monkeypatch
):
    """A `species_model:` whose sizes are in other units than the video's calibration gives,
    or in pixels of frames of another scale: refused by the classify step only after the
    video was segmented; now before any segmentation (`--no-classify`: not checked)."""
    from ecoseg.species import SpeciesModel
    from ecoseg.species.features import FEATURE_VERSION, track_features
    from ecoseg.species.model import ModelError

    ecoseg.synth(tmp_path / "a", seed=3, frames=6, size=(96, 64), n_invertebrates=0)
    feats = track_features(ecoseg.synth(tmp_path / "ref", seed=9, frames=6, size=(96, 64)).truth)
    _no_segmenting(monkeypatch)
    cases = [  # the study file's calibration, the model's units, the refusal
        ("25.0", "px", r"trained on uncalibrated stores \(sizes in px\)"),
        ("none", "mm", r"trained on calibrated stores \(sizes in mm\)"),
        ("none", "px", r"frames are 96x64, so every size would be read 19\.1"),
    ]
    for spec, units, said in cases:
        SpeciesModel.fit(
            feats.values,
            list(feats.classes),
            feature_names=feats.names,
            feature_version=FEATURE_VERSION,
            units=units,
            training=[{"store": "t.zarr", "size": [1920, 1080]}],
        ).save(tmp_path / "species.json", overwrite=True)
        (tmp_path / "study.yaml").write_text(
            "name: s\noutput: out\ndefaults: {engine: classical}\nvideos:\n"
            f"  - {{path: a/video.mp4, name: a, calibration: {spec},"
            " species_model: species.json}\n"
        )
        with pytest.raises(ModelError, match=r"line 5: videos\[0\] \(a\): .*a\.zarr: .*" + said):
            ecoseg.study.run_study(tmp_path / "study.yaml", progress=False, report=False)
        assert not (tmp_path / "out" / "stores" / "a.zarr").exists()
    with pytest.raises(AssertionError, match="segmented before"):  # not classified: no refusal
        ecoseg.study.run_study(tmp_path / "study.yaml", progress=False, classify=False)


def test_a_store_measure_refuses_keeps_its_calibration(study, capsys):
    """The study file's calibration of a video changed (20 -> 25 mm/px) and its store is one
    measure refuses (an annotation that covers none of its frames): the run saved 25 mm/px
    into the store, then measure refused it, leaving the store changed by a failed run. Now
    the store is checked first and keeps the study's 20 mm/px."""
    store = study / "out" / "stores" / "reef-a.zarr"
    with MaskStore.open(store, mode="a") as s:
        s.set_provenance(annotated_frames={"start": 100, "step": 1})
    path = study / "study.yaml"
    path.write_text(path.read_text().replace("calibration: 20.0", "calibration: 25.0", 1))
    with pytest.raises(ecoseg.errors.StoreError, match=r"covers none of its 6 frames"):
        ecoseg.study.run_study(path, progress=False, report=False)
    assert MaskStore.open(store).calibration == {"mm_per_px": 20.0, "method": "scale"}


def test_check_names_a_calibration_set_by_hand_and_changes_nothing(study, capsys):
    """`ecoseg study --check` said the study was ok and nothing of the store calibrated by hand
    at 30 mm/px, which the run then replaced with the study's 20 mm/px (with a warning). Now it
    says it, one line naming the store and both calibrations, and leaves the store as it is."""
    path = str(study / "study.yaml")
    assert main(["study", path, "--check"]) == 0
    assert "by hand" not in capsys.readouterr().out  # the study's own: nothing to say
    store = _calibrate_by_hand(study, capsys)
    assert main(["study", path, "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [
        f"{store}: its calibration 30 mm/px (scale) was set by hand since the study saved "
        "20 mm/px (scale) there; a run will put the study's 20 mm/px (scale) back"
    ]
    assert out[-1].startswith(f"{path}: ok, 2 video(s)")
    assert MaskStore.open(store).calibration == {"mm_per_px": 30.0, "method": "scale"}
    # cleared by hand (`--calibration none`): said alike, though a run puts it back silently
    hand = ["measure", store, "-o", str(study / "hand2"), "--calibration", "none", "--quiet"]
    assert main(hand) == 0
    capsys.readouterr()
    assert main(["study", path, "--check"]) == 0
    assert capsys.readouterr().out.splitlines()[:-1] == [
        f"{store}: its calibration none (pixels) was set by hand since the study saved "
        "20 mm/px (scale) there; a run will put the study's 20 mm/px (scale) back"
    ]
    assert MaskStore.open(store).calibration is None


def test_a_species_model_that_is_no_model_leaves_the_calibration(study):
    """The study file's calibration changed (20 -> 25 mm/px) with a `species_model:` that is
    no model file: the run saved 25 mm/px into the store, then classify refused the model, so
    the failed run had changed the store. Now the model is read first."""
    store = study / "out" / "stores" / "reef-a.zarr"
    (study / "species.json").write_text("{not json")
    path = study / "study.yaml"
    new = "    name: reef-a\n    calibration: 25.0\n    species_model: species.json\n"
    path.write_text(path.read_text().replace("    name: reef-a\n", new))
    with pytest.raises(ecoseg.errors.EcosegError, match="species.json"):
        ecoseg.study.run_study(path, progress=False, report=False)
    assert MaskStore.open(store).calibration == {"mm_per_px": 20.0, "method": "scale"}


def test_a_species_model_classify_refuses_leaves_the_calibration(study):
    """The study file's calibration changed with a `species_model:` that classify refuses for
    the store: one of sizes in pixels for a store the study calibrates, one in mm for a store
    it makes uncalibrated, one in pixels of 4K frames, one of another feature version. The run
    saved the new calibration into the store, then classify refused the model, so the failed
    run had changed the store. Now classify's checks of the model and the store run first."""
    from ecoseg.species import SpeciesModel
    from ecoseg.species.features import FEATURE_VERSION, track_features
    from ecoseg.species.model import ModelError

    ref = ecoseg.synth(study / "ref", seed=9, frames=6, size=(96, 64))
    feats = track_features(ref.truth)
    store = study / "out" / "stores" / "reef-a.zarr"
    path = study / "study.yaml"
    text = path.read_text()
    cases = [  # the store's calibration in the study file, the model's units and version
        ("25.0", "px", FEATURE_VERSION, r"trained on uncalibrated stores \(sizes in px\)"),
        ("none", "mm", FEATURE_VERSION, r"trained on calibrated stores \(sizes in mm\)"),
        ("none", "px", FEATURE_VERSION, r"frames are 96x64, so every size would be read 19\.1"),
        ("25.0", "mm", FEATURE_VERSION + 1, r"species\.json: trained on track features of v"),
    ]
    for spec, units, version, said in cases:
        SpeciesModel.fit(
            feats.values,
            list(feats.classes),
            feature_names=feats.names,
            feature_version=version,
            units=units,
            training=[{"store": "t.zarr", "size": [1920, 1080]}],
        ).save(study / "species.json", overwrite=True)
        new = f"    name: reef-a\n    calibration: {spec}\n    species_model: species.json\n"
        path.write_text(text.replace("    name: reef-a\n", new))
        with pytest.raises(ModelError, match=said):
            ecoseg.study.run_study(path, progress=False, report=False)
        assert MaskStore.open(store).calibration == {"mm_per_px": 20.0, "method": "scale"}
