import json
import pickle
import re

import numpy as np
import pytest

from ecoseg.species.model import ModelError, SpeciesModel


def fitted(k: int = 3) -> SpeciesModel:
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(3 * c, 1.0, (8, 4)) for c in range(k)])
    X[0, 2] = np.nan  # a missing feature is imputed
    y = [f"species_{c}" for c in range(k) for _ in range(8)]
    return SpeciesModel.fit(
        X,
        y,
        feature_names=["a", "b", "c", "d"],
        training=[{"store": "s.zarr", "sha256": "0" * 64, "tracks": 24}],
    )


@pytest.mark.parametrize("k", [2, 3])
def test_saved_model_predicts_bit_for_bit(tmp_path, k):
    m = fitted(k)
    X = np.random.default_rng(2).normal(3, 3, (20, 4))
    path = m.save(tmp_path / "m.json")
    loaded = SpeciesModel.load(path)
    assert np.array_equal(loaded.predict_proba(X), m.predict_proba(X))
    assert loaded.classes == m.classes and loaded.training == m.training
    assert path.stat().st_size < 20_000
    assert json.loads(path.read_text())["format"] == "ecoseg-species-model"


def test_probabilities_are_a_distribution_and_balanced_classes_learn():
    m = fitted()
    p = m.predict_proba(np.array([[0.0] * 4, [6.0] * 4]))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert m.predict(np.array([[6.0] * 4]))[0] == ["species_2"]


def test_a_tampered_model_is_refused(tmp_path):
    path = fitted().save(tmp_path / "m.json")
    data = json.loads(path.read_text())
    data["coef"][0][0] += 0.5  # someone nudges a coefficient
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="do not match its sha256"):
        SpeciesModel.load(path)


def test_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"coef": [[1.0]], "classes": ["a", "b"]}))
    with pytest.raises(ModelError, match="not an ecoseg species model"):
        SpeciesModel.load(path)
    path.write_bytes(pickle.dumps({"coef": 1}))
    with pytest.raises(ModelError, match="pickle"):
        SpeciesModel.load(path)
    path.write_text("not json")
    with pytest.raises(ModelError, match="not JSON"):
        SpeciesModel.load(path)
    with pytest.raises(ModelError, match=r"missing\.json: species model file not found$"):
        SpeciesModel.load(tmp_path / "missing.json")


def test_a_foreign_file_says_which_format_it_has(tmp_path):
    """A JSON file of another format (or none) was refused as "not an ecoseg species model
    (format 'ecoseg-species-model')", which read as the format the file has."""
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "coco"}))
    with pytest.raises(ModelError) as exc:
        SpeciesModel.load(path)
    assert str(exc.value) == (
        f"{path}: not an ecoseg species model (its format is 'coco', not 'ecoseg-species-model')"
    )
    path.write_text(json.dumps([1, 2]))
    with pytest.raises(ModelError, match=r"\(it names no format, not 'ecoseg-species-model'\)$"):
        SpeciesModel.load(path)


def test_a_misspelt_shipped_model_is_named_as_such(tmp_path, capsys):
    """``--model ecoseg:species.json`` said "species model file not found", as of a path."""
    from ecoseg.cli import main
    from ecoseg.species.model import SHIPPED_MODEL, is_model
    from ecoseg.store import MaskStore

    store = tmp_path / "m.zarr"
    objects = [{"id": 1, "class": "unknown"}]
    with MaskStore.create(store, height=4, width=4, objects=objects) as st:
        st.append(np.ones((1, 4, 4), np.uint32), np.zeros(1))
        st.mark_complete()
    code = main(["classify", str(store), "--model", "ecoseg:species.json"])
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecoseg: error: ecoseg:species.json: not a file ecoseg ships (")
    assert SHIPPED_MODEL in err and "\n" not in err
    assert not is_model("ecoseg:species.json", "ab12")


@pytest.mark.parametrize(
    ("fault", "culprit"),
    [("removed", "species model file not found"), ("denied", "cannot be read: Permission denied")],
)
def test_a_model_file_that_fails_when_read_is_one_line(fault, culprit, tmp_path, read_fault):
    path = tmp_path / "model.json"
    fitted().save(path)
    read_fault(path, fault)
    with pytest.raises(ModelError) as info:
        SpeciesModel.load(path)
    assert str(info.value) == f"{path}: {culprit}"


def test_a_model_file_over_the_size_bar_is_refused(tmp_path, monkeypatch):
    from ecoseg.species import model

    path = tmp_path / "model.json"
    fitted().save(path)
    monkeypatch.setattr(model, "_MAX_BYTES", path.stat().st_size - 1)
    with pytest.raises(ModelError, match=r"model\.json: too large for a species model"):
        SpeciesModel.load(path)
    monkeypatch.setattr(model, "_MAX_BYTES", path.stat().st_size)
    assert SpeciesModel.load(path).classes == fitted().classes


def test_a_consistent_but_rewritten_file_with_bad_shapes_is_refused(tmp_path):
    from ecoseg.species.model import payload_sha256

    data = fitted().to_dict()
    data["mean"] = data["mean"][:2]
    data["sha256"] = payload_sha256(data)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="shapes"):
        SpeciesModel.load(path)


def test_features_of_another_kind_are_refused():
    m = fitted()
    with pytest.raises(ModelError, match="feature version 1"):
        m.check_features(m.feature_names, 2, "s.zarr")
    with pytest.raises(ModelError, match="embeddings differ"):
        m.check_features((*m.feature_names, "emb_0"), 1, "s.zarr")
    with pytest.raises(ModelError, match="takes 4 features"):
        m.predict_proba(np.zeros((1, 5)))


def test_one_species_is_not_enough():
    from ecoseg.errors import ConfigError

    with pytest.raises(ConfigError, match="at least two species") as caught:
        SpeciesModel.fit(np.zeros((3, 1)), ["a"] * 3, feature_names=["x"])
    # the way to review more, for the CLI and Python alike (it named the CLI only)
    assert str(caught.value).endswith(
        "review more tracks (ecoseg edit STORE --set-class ID=NAME (in Python "
        "ecoseg.Review('STORE').set_class(ID, 'NAME')))"
    )


def test_saving_never_replaces_a_file_silently(tmp_path):
    from ecoseg.errors import ConfigError

    path = fitted().save(tmp_path / "m.json")
    with pytest.raises(ConfigError, match="already exists"):
        fitted().save(path)
    fitted().save(path, overwrite=True)


def test_sizes_in_other_units_are_refused():
    m = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["x"], units="mm")
    m.check_features(["x"], 1, "s.zarr", "mm")
    with pytest.raises(ModelError, match="calibrated stores .sizes in mm.*in px"):
        m.check_features(["x"], 1, "s.zarr", "px")


@pytest.mark.parametrize(
    ("trained", "given", "said"),
    [
        ("mm", "px", "calibrate this store as its training stores (north.zarr, south.zarr) were"),
        ("px", "mm", "in pixels as its training stores (north.zarr, south.zarr) were"),
    ],
)
def test_sizes_in_other_units_name_the_training_stores(trained, given, said):
    """It said 'calibrate the stores alike' without naming the stores the model learned."""
    training = [{"store": "north.zarr", "tracks": 1}, {"store": "south.zarr", "tracks": 1}]
    m = SpeciesModel.fit(
        [[0.0], [1.0]], ["a", "b"], feature_names=["x"], units=trained, training=training
    )
    with pytest.raises(ModelError, match=re.escape(said)):
        m.check_features(["x"], 1, "s.zarr", given)


def test_sizes_in_pixels_are_told_the_calibration_option_of_classify():
    """It told the user to run `ecoseg measure STORE --calibration MM_PER_PX`, which fails
    (measure needs -o DIR); classify's own --calibration measures and saves it."""
    m = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["x"], units="mm")
    with pytest.raises(ModelError) as exc:
        m.check_features(["x"], 1, "s.zarr", "px")
    assert "(ecoseg classify --calibration MM_PER_PX; calibration= in Python)" in str(exc.value)
    assert "ecoseg measure STORE --calibration" not in str(exc.value)


def test_feature_weights_damp_a_feature_and_are_kept_in_the_file(tmp_path):
    from ecoseg.errors import ConfigError

    rng = np.random.default_rng(3)
    # feature 0 separates the classes as well as feature 1 does
    y = ["a"] * 5 + ["b"] * 5
    X = np.c_[np.r_[np.zeros(5), np.ones(5)], np.r_[np.zeros(5), np.ones(5)]]
    X = X + rng.normal(0, 0.1, X.shape)
    plain = SpeciesModel.fit(X, y, feature_names=("hue", "shape"))
    damped = SpeciesModel.fit(X, y, feature_names=("hue", "shape"), weights=[0.3, 1.0])
    assert abs(plain.coef[0, 0] / plain.coef[0, 1] - 1) < 0.5
    # the weight scales the standardised column: per unit of the raw feature, less say
    slope = damped.coef[0] / damped.scale
    assert abs(slope[0]) < abs(slope[1])
    assert damped.params["feature_weights"] == [0.3, 1.0]
    back = SpeciesModel.load(damped.save(tmp_path / "m.json"))
    assert np.array_equal(back.predict_proba(X), damped.predict_proba(X))
    with pytest.raises(ConfigError, match="weights must be 2 positive numbers"):
        SpeciesModel.fit(X, y, feature_names=("hue", "shape"), weights=[0.0, 1.0])


def test_every_feature_has_a_weighted_group():
    from ecoseg.species.features import (
        FEATURE_NAMES,
        GROUP_WEIGHTS,
        feature_group,
        feature_weights,
    )

    groups = {n: feature_group(n) for n in FEATURE_NAMES}
    assert set(groups.values()) == set(GROUP_WEIGHTS)  # no feature falls to "other"
    w = feature_weights((*FEATURE_NAMES, "emb_0"))
    assert w[-1] == 1.0  # embeddings keep weight 1
    assert [w[FEATURE_NAMES.index(n)] for n in ("a_mean", "L_mean", "grad_L", "solidity")] == [
        GROUP_WEIGHTS["hue"],
        GROUP_WEIGHTS["lightness"],
        GROUP_WEIGHTS["texture"],
        GROUP_WEIGHTS["shape"],
    ]


def test_a_model_prints_one_short_line_in_a_notebook():
    m = fitted(3)
    assert repr(m) == (
        "<SpeciesModel: classes ['species_0', 'species_1', 'species_2'] from 4 features, "
        "trained on 24 tracks of 1 stores>"
    )
    many = SpeciesModel.fit(
        np.arange(40.0).reshape(20, 2), [f"s{i}" for i in range(20)], feature_names=["a", "b"]
    )
    assert "..." in repr(many) and "\n" not in repr(many) and len(repr(many)) < 200


def test_fitting_leaves_other_threads_warnings_alone():
    """``SpeciesModel.fit`` hushed numpy's all-NaN RuntimeWarning (a feature no track has)
    with ``warnings.catch_warnings()`` and a filter, which are the process's: fitted in a
    worker thread it hid every other thread's RuntimeWarning meanwhile (and then put back the
    filters it found). Now it gives none and changes no filter; that feature's median is 0."""
    import sklearn.linear_model  # noqa: F401  (scipy's import adds filters of its own)
    from suite_helpers import warned_while_held

    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(3 * c, 1.0, (8, 4)) for c in range(2)])
    X[:, 3] = np.nan  # no track has feature d
    y = [f"species_{c}" for c in range(2) for _ in range(8)]
    got = warned_while_held(
        lambda: SpeciesModel.fit(X, y, feature_names=["a", "b", "c", "d"]),
        np,
        "nanmedian",
        RuntimeWarning,
    )
    assert got["filters_kept"] and got["heard"] and got["others"] == []
    assert got["result"].median[3] == 0.0
    assert np.array_equal(got["result"].median[:3], np.median(X[:, :3], axis=0))
