"""``ecoseg report --study`` measures a study's own store with the study's calibration and saves
it there, as ``ecoseg study`` does and through the same function
(:func:`ecoseg.report._calibration.save_study_calibration`): a calibration set by hand on the
store is replaced with one warning naming the store and both calibrations, and a video the
study file leaves in pixels has the store's calibration cleared."""

from __future__ import annotations

import pytest

import ecoseg
from ecoseg.cli import main
from ecoseg.store import MaskStore

STUDY = """\
name: s
output: out
defaults: {{engine: classical, params: {{warmup: 5, min_hits: 2}}{calibration}}}
videos:
  - {{path: a/video.mp4, name: a}}
"""


@pytest.mark.parametrize(
    ("calibration", "new", "then", "saved"),
    [
        (
            ", calibration: 20.0",
            "20 mm/px (scale)",
            "sizes are now measured with the new one",
            {"mm_per_px": 20.0, "method": "scale"},
        ),
        ("", "none (pixels)", "sizes are now in pixels", None),
    ],
    ids=["calibrated", "in-pixels"],
)
def test_report_study_replaces_a_hand_calibration_as_the_study_does(
    tmp_path, monkeypatch, capsys, calibration, new, then, saved
):
    """The study's store calibrated by hand at 30 mm/px, then ``ecoseg report --study``: it
    warned (calibrated study) or, for a video the study leaves in pixels, measured the store
    at the hand's 30 mm/px without a word and left it there, so the page's sizes were in mm
    where the study's tables are in pixels."""
    monkeypatch.chdir(tmp_path)
    ecoseg.synth("a", seed=3, frames=6, size=(96, 64), n_invertebrates=0)
    (tmp_path / "study.yaml").write_text(STUDY.format(calibration=calibration))
    assert main(["study", "study.yaml", "--no-report", "--quiet"]) == 0
    store = "out/stores/a.zarr"
    assert main(["measure", store, "-o", "hand", "--calibration", "30", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", store, "-o", "r.html", "--study", "study.yaml"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "replaces" in line]
    assert warned == [
        f"ecoseg: warning: {store}: the calibration {new} replaces the stored 30 mm/px "
        f"(scale); {then}"
    ]
    assert MaskStore.open(store).calibration == saved
    page = (tmp_path / "r.html").read_text()  # its sizes in the study's units
    assert ("Lengths and areas are in pixels" in page) == (saved is None)


def test_report_study_says_the_studys_own_calibration_replaced_as_the_study_does(
    tmp_path, monkeypatch, capsys
):
    """The study file's calibration changed (20 -> 25 mm/px) since the study measured the
    store: ``ecoseg study`` says so in its progress, but ``ecoseg report --study`` (which did
    not read the study's manifest) warned that 25 mm/px replaced the stored 20 mm/px as if
    that had been set by hand. Now the report says it in its progress, in the study's words
    (a calibration set by hand still warns: the test above)."""
    monkeypatch.chdir(tmp_path)
    ecoseg.synth("a", seed=3, frames=6, size=(96, 64), n_invertebrates=0)
    study = tmp_path / "study.yaml"
    study.write_text(STUDY.format(calibration=", calibration: 20.0"))
    assert main(["study", "study.yaml", "--no-report", "--quiet"]) == 0
    study.write_text(STUDY.format(calibration=", calibration: 25.0"))
    store = "out/stores/a.zarr"
    capsys.readouterr()
    assert main(["report", store, "-o", "r.html", "--study", "study.yaml"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err
    said = [line for line in err.splitlines() if "replaces" in line]
    assert said == [
        "ecoseg report: measure a: calibration 25 mm/px (scale) replaces the study's own "
        "20 mm/px (scale), as the study file now gives it"
    ]
    assert MaskStore.open(store).calibration == {"mm_per_px": 25.0, "method": "scale"}
