"""A study's `species_model:` that classify refuses: refused before the run writes into any
store, and by `ecoseg study --check` from the model file alone where a store is not needed.

A model of other track features than a store's (network embeddings in one only) was refused
only once the track features were measured, after the study had saved the video's calibration
into its store; a model refused for one video came after the videos before it were
calibrated and classified; `--check` caught a model of another feature version only where a
store already existed, and a run segmented every video before refusing it.
"""

from __future__ import annotations

import numpy as np
import pytest
from reliability_helpers import assert_one_line_error

import ecoseg
from ecoseg.species import SpeciesModel, edit_log
from ecoseg.species.features import FEATURE_VERSION, track_features
from ecoseg.species.model import ModelError
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input

STUDY = """\
name: s
output: out
defaults:
  engine: classical
  calibration: 20.0
  params: {warmup: 5, min_hits: 2}
videos:
  - path: a/video.mp4
    name: a
  - path: b/video.mp4
    name: b
"""


def _model(folder, name: str, *, emb: int = 0, units: str = "px", size=(96, 64), version=None):
    """A species model of the synthetic clip ``folder/ref``'s truth tracks, saved as ``name``:
    ``emb`` network embedding features more than a store of the motion tracker has."""
    ref = folder / "ref"
    if not ref.exists():
        ecoseg.synth(ref, seed=9, frames=6, size=(96, 64))
    feats = track_features(ref / "truth.zarr")
    values = np.concatenate([feats.values, np.zeros((len(feats.values), emb))], 1)
    SpeciesModel.fit(
        values,
        list(feats.classes),
        feature_names=(*feats.names, *(f"emb_{k}" for k in range(emb))),
        feature_version=FEATURE_VERSION if version is None else version,
        units=units,
        training=[{"store": "t.zarr", "size": list(size)}],
    ).save(folder / name, overwrite=True)


def _clips(folder) -> None:
    for name, seed in (("a", 3), ("b", 4)):
        ecoseg.synth(folder / name, seed=seed, frames=6, size=(96, 64), n_invertebrates=0)


@pytest.fixture
def study(tmp_path, cli):
    """The two-video study, run once (20 mm/px, no species model)."""
    _clips(tmp_path)
    (tmp_path / "study.yaml").write_text(STUDY)
    assert cli("study", tmp_path / "study.yaml", "--no-report", "--quiet")[0] == 0
    return tmp_path


def _as_they_were(study):
    """Each store's calibration and edit log."""
    stores = [study / "out" / "stores" / f"{n}.zarr" for n in ("a", "b")]
    return [(MaskStore.open(s).calibration, edit_log(s)) for s in stores]


def _give(study, video: str, lines: str) -> None:
    path = study / "study.yaml"
    path.write_text(path.read_text().replace(f"    name: {video}\n", f"    name: {video}\n{lines}"))


def test_a_model_of_other_features_leaves_the_store(study, cli):
    """A model with a network embedding feature for a store of the motion tracker (none):
    the study saved the new 25 mm/px into the store, then classify measured the features and
    refused the model."""
    _model(study, "emb.json", emb=1, units="mm")
    before = _as_they_were(study)
    _give(study, "a", "    calibration: 25.0\n    species_model: emb.json\n")
    code, _, err = cli("study", study / "study.yaml", "--no-report", "--quiet")
    assert_one_line_error(code, err, "a.zarr: the store's track features", "(network embeddings")
    assert _as_they_were(study) == before
    with pytest.raises(ModelError, match=r"a\.zarr: the store's track features"):
        ecoseg.study.run_study(study / "study.yaml", progress=False, report=False)
    assert _as_they_were(study) == before


def test_a_model_refused_for_one_video_leaves_the_others(study, cli):
    """Both videos measured in pixels now (`calibration: none`), each with its pixel model:
    b's was trained on 1920x1080 frames, which b's 96x64 frames refuse. The run cleared a's
    calibration and named its tracks before it came to b and refused its model."""
    _model(study, "fits.json")
    _model(study, "hd.json", size=(1920, 1080))
    before = _as_they_were(study)
    _give(study, "a", "    calibration: none\n    species_model: fits.json\n")
    _give(study, "b", "    calibration: none\n    species_model: hd.json\n")
    code, _, err = cli("study", study / "study.yaml", "--no-report", "--quiet")
    assert_one_line_error(code, err, "b.zarr: the model's sizes", "1920x1080", "96x64")
    assert _as_they_were(study) == before


def test_check_refuses_a_model_of_another_feature_version_without_a_store(tmp_path, cli):
    """No store yet: `--check` said ok to a model of another feature version, and the run
    segmented every video, then refused it. Now both refuse it at once, from the model file,
    naming the study file's key and the file."""
    _clips(tmp_path)
    _model(tmp_path, "old.json", version=FEATURE_VERSION + 1)
    path = tmp_path / "study.yaml"
    path.write_text(STUDY.replace("  calibration: 20.0\n", "  species_model: old.json\n"))
    model = tmp_path / "old.json"
    said = (
        f"{path}: line 5: videos[0] (a): species_model: {model}: trained on track features "
        f"of version {FEATURE_VERSION + 1}, this ecoseg computes version {FEATURE_VERSION}"
    )
    for args in (["--check"], ["--no-report", "--quiet"]):
        code, _, err = cli("study", path, *args)
        assert_one_line_error(code, err, said)
        assert not (tmp_path / "out").exists()
    # --no-classify: the model is not read, the study runs
    assert cli("study", path, "--check", "--no-classify")[0] == 0


def test_a_kept_store_the_model_does_not_fit_is_refused_before_any_segmentation(study, cli):
    """a's store is kept, its tables measured again (25 mm/px now) with a model of other
    features; b's store is gone, so b is segmented anew: the run segmented b first, then
    refused a's model. Now a kept store is checked before any video is segmented."""
    import shutil

    _model(study, "emb.json", emb=1, units="mm")
    shutil.rmtree(study / "out" / "stores" / "b.zarr")
    _give(study, "a", "    calibration: 25.0\n    species_model: emb.json\n")
    code, _, err = cli("study", study / "study.yaml", "--no-report", "--quiet")
    assert_one_line_error(code, err, "a.zarr: the store's track features")
    assert not (study / "out" / "stores" / "b.zarr").exists()
    assert MaskStore.open(study / "out" / "stores" / "a.zarr").calibration["mm_per_px"] == 20.0
