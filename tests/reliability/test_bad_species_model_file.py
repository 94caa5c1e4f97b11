"""A species model file that ecoseg did not write as it is: refused in one line saying what is
wrong with it, before anything is classified.

One with no ``sha256`` (hand-made, or edited and the key dropped) was refused as if its
contents did not match a sha256 it does not have (until stop 59).
"""

from __future__ import annotations

import json

import pytest
from reliability_helpers import assert_names, assert_one_line_error

from ecoseg.species import SpeciesModel
from ecoseg.species.features import track_features
from ecoseg.species.model import ModelError
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input


@pytest.fixture(scope="module")
def model_data(clip, tmp_path_factory) -> dict:
    """The JSON of a species model trained on the clip's truth tracks, as ecoseg saves it."""
    feats = track_features(clip.truth)
    path = SpeciesModel.fit(feats.values, list(feats.classes), feature_names=feats.names).save(
        tmp_path_factory.mktemp("model") / "species.json"
    )
    return json.loads(path.read_text())


def _objects(store) -> list[dict]:
    with MaskStore.open(store) as s:
        return s.objects


@pytest.mark.parametrize(
    ("change", "culprits", "not_said"),
    [
        (
            lambda d: d.pop("sha256"),
            ["records no sha256", "not a file ecoseg wrote, or it was edited", "--save-model"],
            "do not match",
        ),
        (  # null: none recorded either
            lambda d: d.update(sha256=None),
            ["records no sha256", "--save-model"],
            "do not match",
        ),
        (  # a sha256 that is not this model's: said as before
            lambda d: d["intercept"].__setitem__(0, d["intercept"][0] + 0.5),
            ["do not match its sha256", "changed after it was saved"],
            "records no sha256",
        ),
    ],
    ids=["no-sha256", "null-sha256", "edited"],
)
def test_a_model_file_without_its_sha256_says_so(
    change, culprits, not_said, model_data, store, tmp_path, cli
):
    data = json.loads(json.dumps(model_data))
    change(data)
    path = tmp_path / "species.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError) as info:
        SpeciesModel.load(path)
    assert_names(info, str(path), *culprits)
    assert not_said not in str(info.value)
    before = _objects(store)
    code, _, err = cli("classify", store, "--model", path)
    assert_one_line_error(code, err, "species.json", *culprits)
    assert not_said not in err
    assert _objects(store) == before  # nothing classified
