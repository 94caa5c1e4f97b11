"""A model whose sizes are in pixels (uncalibrated stores) names only footage of its own
scale: another frame size is refused with one line naming the store and both sizes, before
any store of the command is written."""

import pytest
from species_helpers import small_store

from ecoseg.errors import ConfigError
from ecoseg.species import classify, edit_log
from ecoseg.species.classify import train_model
from ecoseg.species.edits import Edit
from ecoseg.species.model import ModelError, SpeciesModel
from ecoseg.species.review import apply_edits
from ecoseg.store import MaskStore


@pytest.fixture
def trained(tmp_path):
    path = tmp_path / "train.zarr"
    img = small_store(path)
    apply_edits(path, [Edit("set_class", (1,), cls="red"), Edit("set_class", (2,), cls="blue")])
    return path, img


def test_a_pixel_model_refuses_footage_of_another_scale(tmp_path, trained):
    train, train_img = trained
    model = train_model(train, videos=[train_img])
    assert model.params["units"] == "px" and model.training[0]["size"] == [40, 8]
    same = tmp_path / "same.zarr"
    same_img = small_store(same)
    big = tmp_path / "big.zarr"
    big_img = small_store(big, scale=2)
    before = (MaskStore.open(same).objects, edit_log(same), MaskStore.open(big).objects)
    with pytest.raises(ModelError, match=r"big\.zarr: .* pixels of 40x8 frames .* 80x16") as e:
        classify([same, big], model=model, videos=[same_img, big_img])
    assert "\n" not in str(e.value) and "2.0 times too large" in str(e.value)
    # all or nothing: the store of the right scale, checked first, was not classified either
    after = (MaskStore.open(same).objects, edit_log(same), MaskStore.open(big).objects)
    assert after == before
    out = classify(same, model=model, videos=[same_img])  # its own scale: named
    assert set(out.loc[out["class_source"] == "classified", "class"]) == {"red", "blue"}


def test_training_on_pixel_stores_of_two_scales_is_refused(tmp_path, trained):
    train, train_img = trained
    big = tmp_path / "big.zarr"
    big_img = small_store(big, scale=2)
    apply_edits(big, [Edit("set_class", (3,), cls="red"), Edit("set_class", (4,), cls="blue")])
    with pytest.raises(ConfigError, match=r"big\.zarr: its frames are 80x16 .* 40x8"):
        train_model([train, big], videos=[train_img, big_img])


def test_calibrated_and_old_models_are_not_checked(tmp_path, trained):
    train, train_img = trained
    model = train_model(train, videos=[train_img]).to_dict()
    for t in model["training"]:
        del t["size"]  # a model saved before ecoseg recorded the frame size
    from ecoseg.species.model import payload_sha256

    model["sha256"] = payload_sha256(model)
    old = SpeciesModel.from_dict(model)
    big = tmp_path / "big.zarr"
    big_img = small_store(big, scale=2)
    classify(big, model=old, videos=[big_img])  # nothing to compare with: named as before


def test_a_model_the_store_refuses_is_refused_before_any_feature(tmp_path, trained, monkeypatch):
    """A pixel model for a store of another scale, or for one classify calibrates: refused
    only after the track features of every store before it were measured (hours of video);
    now the model and the stores are checked first (:func:`check_model_fits`, which
    ``ecoseg study`` calls before it saves a calibration)."""
    import sys

    classify_module = sys.modules[
        classify.__module__
    ]  # the module (the package names the function)
    train, train_img = trained
    model = train_model(train, videos=[train_img])
    same = tmp_path / "same.zarr"
    same_img = small_store(same)
    big = tmp_path / "big.zarr"
    big_img = small_store(big, scale=2)

    def measured(*args, **kwargs):
        raise AssertionError("track features measured before the model was checked")

    monkeypatch.setattr(classify_module, "track_features", measured)
    with pytest.raises(ModelError, match=r"big\.zarr: .* pixels of 40x8 frames"):
        classify([same, big], model=model, videos=[same_img, big_img])
    with pytest.raises(ModelError, match=r"same\.zarr: .* uncalibrated stores .* in mm"):
        classify(same, model=model, videos=[same_img], calibration="0.5")
    assert MaskStore.open(same).calibration is None
