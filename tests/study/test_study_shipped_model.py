"""A study whose ``species_model:`` names the model ecoseg ships by its path (inside this
machine's installation) recorded that path in each classification, so its store's edit log
and a report's steps named a file of this machine only. The classification now records the
shipped model by its name, ``ecoseg:species_model.json``, as ``ecoseg classify`` does, and a
study file may name it so."""

from __future__ import annotations

import pytest

import ecoseg
from ecoseg.demo import species_model_path
from ecoseg.species import edit_log
from ecoseg.study import load_study, run_study


@pytest.mark.parametrize("named", ["by its path", "by its name"])
def test_a_study_records_the_shipped_model_by_its_name(tmp_path, named):
    ecoseg.synth(tmp_path / "a", seed=3, frames=12, size=(160, 96), n_fish=2, n_invertebrates=0)
    model = str(species_model_path()) if named == "by its path" else "ecoseg:species_model.json"
    (tmp_path / "study.yaml").write_text(
        "name: s\noutput: out\ndefaults:\n  engine: classical\n  calibration: 2.5\n"
        "  params: {warmup: 5, min_hits: 2}\nvideos:\n  - path: a/video.mp4\n    name: reef-a\n"
        f"    species_model: {model}\n"
    )
    assert load_study(tmp_path / "study.yaml").video("reef-a").species_model == (
        species_model_path()
    )
    run_study(tmp_path / "study.yaml", progress=False, report=False)
    log = edit_log(tmp_path / "out" / "stores" / "reef-a.zarr")
    files = [e["classification"]["model_file"] for e in log if e["kind"] == "classify"]
    assert files == ["ecoseg:species_model.json"]
