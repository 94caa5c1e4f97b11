"""The species model ``ecoseg demo`` ships (data/species_model.json) is the one
data/make_species_model.py makes with today's motion tracker: its training record names each
clip's tracks by SHA-256. The first clip is remade here on numpy's code without AVX-512, the
code of the machine that made the model, and the tracker is checked on the bundled sample's
fixed bytes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from suite_helpers import child_env

import ecoseg
from ecoseg.demo import species_model_path
from ecoseg.sample import sample
from ecoseg.species.classify import store_sha256
from ecoseg.species.model import SpeciesModel

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_species_model", DATA / "make_species_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_uses_the_shipped_model():
    assert species_model_path().read_bytes() == (DATA / "species_model.json").read_bytes()


#: ``store_sha256`` of the motion tracker's tracks of the bundled sample (data/sample/video.mp4):
#: the tracker that made the shipped model's training tracks (the training record's first
#: clip gave its recorded tracks, 55279eff..., with this tracker, last at commit fc6221a).
SAMPLE_TRACKS = "e83dc4911c7818037a4080cf5f270fe41b4216aa3db25e1af91d1793438a6fdf"


@pytest.mark.slow
def test_the_motion_tracker_makes_the_tracks_the_model_was_trained_with(tmp_path):
    """The tracker pinned on fixed bytes (the sample video) as well: on the same video it
    makes the same tracks on any processor (checked with numpy's AVX-512 code switched off and
    OpenBLAS on its Haswell kernels: the same SHA-256)."""
    store = ecoseg.segment(sample().video, out=tmp_path / "tracks.zarr", engine="classical",
                           progress=False)  # fmt: skip
    assert store_sha256(store) == SAMPLE_TRACKS, (
        "the motion tracker no longer makes the tracks the shipped species model was trained "
        "with: run `python data/make_species_model.py --overwrite`, update docs/species.md and "
        "SAMPLE_TRACKS in this test"
    )


def test_the_training_record_names_each_clip_of_the_script():
    script = _script()
    record = SpeciesModel.load(DATA / "species_model.json").training
    assert [r["store"] for r in record] == [f"synth seed {s} tracks.zarr" for s in script.SEEDS]


@pytest.mark.slow
def test_the_first_training_clip_gives_the_tracks_the_model_was_trained_on(tmp_path):
    script = _script()
    record = SpeciesModel.load(DATA / "species_model.json").training
    seed = script.SEEDS[0]
    assert record[0]["store"] == f"synth seed {seed} tracks.zarr"
    # numpy's AVX-512 arctan2 rounds the reef's texture differently (a few pixels, other
    # tracks): the clip is made as the script makes it, on numpy's other code
    env = child_env()
    code = (
        "import sys, ecoseg\n"
        "from ecoseg.species.classify import store_sha256\n"
        f"clip = ecoseg.synth(sys.argv[1], seed={seed}, **{script.PARAMS!r})\n"
        "store = ecoseg.segment(clip.video, out=sys.argv[1] + '/tracks.zarr', "
        "engine='classical', progress=False)\n"
        "print(store_sha256(store))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        env=script.without_avx512(env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-1] == record[0]["sha256"], (
        "the motion tracker no longer makes the tracks the shipped species model was trained "
        "on: run `python data/make_species_model.py --overwrite` and update docs/species.md and "
        "SAMPLE_TRACKS"
    )
