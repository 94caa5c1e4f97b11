"""The species model ``ecoseg demo`` ships (data/species_model.json) is the one
data/make_species_model.py makes with today's motion tracker: its training record names each
clip's tracks by SHA-256, and the first clip's tracks are made again here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import ecoseg
from ecoseg.demo import species_model_path
from ecoseg.species.classify import store_sha256
from ecoseg.species.model import SpeciesModel

DATA = Path(__file__).resolve().parents[2] / "data"


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_species_model", DATA / "make_species_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_uses_the_shipped_model():
    assert species_model_path().read_bytes() == (DATA / "species_model.json").read_bytes()


@pytest.mark.slow
def test_the_first_training_clip_gives_the_tracks_the_model_was_trained_on(tmp_path):
    script = _script()
    record = SpeciesModel.load(DATA / "species_model.json").training
    seed = script.SEEDS[0]
    assert record[0]["store"] == f"synth seed {seed} tracks.zarr"
    clip = ecoseg.synth(tmp_path, seed=seed, **script.PARAMS)
    store = ecoseg.segment(clip.video, out=tmp_path / "tracks.zarr", engine="classical",
                           progress=False)  # fmt: skip
    assert store_sha256(store) == record[0]["sha256"], (
        "the motion tracker no longer makes the tracks the shipped species model was trained "
        "on: run `python data/make_species_model.py --overwrite` and update docs/species.md"
    )
