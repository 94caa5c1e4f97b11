import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecoseg.errors import PromptError
from ecoseg.prompts import Exemplar, FramePrompt, ObjectPrompts, Prompts, load_prompts

GOOD = {
    "objects": [
        {
            "id": 1,
            "class": "parrotfish",
            "prompts": [
                {"frame": 0, "points": [[10, 20], [30, 5]], "labels": [1, 0]},
                {"frame": 8, "points": [[12, 22]], "labels": [1]},
            ],
        },
        {"id": 7, "class": "wrasse", "prompts": [{"frame": 0, "box": [40, 10, 60, 30]}]},
    ]
}


def write(tmp_path, data, name="p.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_load_round_trip(tmp_path):
    p = load_prompts(write(tmp_path, GOOD))
    assert p.object_ids == [1, 7]
    assert p.classes() == {1: "parrotfish", 7: "wrasse"}
    assert p.frames() == [0, 8]
    at0 = p.at(0)
    assert [oid for oid, _ in at0] == [1, 7]
    np.testing.assert_array_equal(at0[0][1].labels, [1, 0])
    np.testing.assert_array_equal(at0[1][1].box, [40, 10, 60, 30])
    p.save(tmp_path / "again.json")
    assert load_prompts(tmp_path / "again.json").to_dict() == p.to_dict()
    assert json.loads((tmp_path / "again.json").read_text()) == GOOD


def test_labels_default_to_positive(tmp_path):
    data = {"objects": [{"id": 2, "prompts": [{"frame": 3, "points": [[1, 1], [2, 2]]}]}]}
    p = load_prompts(write(tmp_path, data))
    np.testing.assert_array_equal(p.at(3)[0][1].labels, [1, 1])
    assert p.classes() == {2: "unknown"}


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ("{not json", "invalid JSON at line 1"),
        (
            {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 2]]}]}] * 2},
            "duplicate object id 1",
        ),
        ({"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [5, 5, 1, 9]}]}]}, "inverted"),
        (
            {"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [5, 5, 5, 9]}]}]},
            "empty or inverted",
        ),
        (
            {"objects": [{"id": 1, "prompts": [{"frame": -1, "points": [[1, 2]]}]}]},
            "frame index must be >= 0",
        ),
        ({"objects": [{"id": 1, "prompts": [{"frame": 0}]}]}, "at least one point"),
        (
            {"objects": [{"id": 0, "prompts": [{"frame": 0, "points": [[1, 2]]}]}]},
            "object id must be in",
        ),
        (
            {"objects": [{"id": "a", "prompts": [{"frame": 0, "points": [[1, 2]]}]}]},
            "must be an integer",
        ),
        ({"objects": [{"id": 1, "prompts": []}]}, "object 1: has no prompts"),
        (
            {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 2]], "labels": [3]}]}]},
            "0 or 1",
        ),
        (
            {
                "objects": [
                    {"id": 1, "prompts": [{"frame": 0, "points": [[1, 2]], "labels": [1, 0]}]}
                ]
            },
            "1 points but 2 labels",
        ),
        (
            {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 2, 3]]}]}]},
            "points must be",
        ),
        ({"objects": [{"id": 1, "colour": "red", "prompts": []}]}, "unknown key(s) ['colour']"),
        ({"objects": {}}, "'objects' must be a list"),
        ({"things": []}, "'objects' list"),
        (
            {
                "objects": [
                    {
                        "id": 1,
                        "prompts": [
                            {"frame": 0, "points": [[1, 2]]},
                            {"frame": 0, "box": [0, 0, 2, 2]},
                        ],
                    }
                ]
            },
            "more than one prompt on frame 0",
        ),
    ],
)
def test_bad_files_name_the_file_and_culprit(tmp_path, data, needle):
    path = write(tmp_path, data)
    with pytest.raises(PromptError) as info:
        load_prompts(path)
    msg = str(info.value)
    assert str(path) in msg
    assert needle in msg
    assert "\n" not in msg


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_refused(tmp_path, bad):
    text = '{"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[X, 2]]}]}]}'
    text = text.replace("X", bad)
    with pytest.raises(PromptError, match="not allowed"):
        load_prompts(write(tmp_path, text))


def test_nan_in_python_api_refused():
    with pytest.raises(PromptError, match="NaN or infinity"):
        FramePrompt(0, points=[[math.nan, 1.0]], labels=[1])


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(PromptError, match="not found"):
        load_prompts(tmp_path / "nope.json")
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(PromptError, match="bin.json"):
        load_prompts(path)


def test_validate_against_video():
    p = Prompts.from_dict(GOOD)
    assert p.validate(100, 50, 10) is p
    with pytest.raises(
        PromptError, match=r"object 1, frame 8: frame index out of range \(video has 5"
    ):
        p.validate(100, 50, 5)
    with pytest.raises(PromptError, match=r"object 7, frame 0: box .* outside the 30x8 frame"):
        Prompts.from_dict(
            {"objects": [{"id": 7, "prompts": [{"frame": 0, "box": [40, 10, 60, 30]}]}]}
        ).validate(30, 8, 10)
    with pytest.raises(
        PromptError, match=r"object 1, frame 0: point \(30, 5\) is outside the 20x40"
    ):
        p.validate(20, 40, 10)


def test_mask_prompt_checks():
    mask = np.zeros((4, 5), bool)
    with pytest.raises(PromptError, match="mask prompt is empty"):
        FramePrompt(0, mask=mask)
    mask[1, 1] = True
    p = Prompts((ObjectPrompts(3, "urchin", (FramePrompt(2, mask=mask),)),))
    p.validate(5, 4, 3)
    with pytest.raises(PromptError, match="mask shape"):
        p.validate(6, 4, 3)


@given(
    st.lists(
        st.tuples(
            st.integers(1, 2**32 - 1),
            st.integers(0, 1000),
            st.floats(0, 639, allow_nan=False),
            st.floats(0, 359, allow_nan=False),
            st.sampled_from([0, 1]),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_json_round_trip_property(items):
    data = {
        "objects": [
            {
                "id": i,
                "class": f"c{i % 3}",
                "prompts": [{"frame": f, "points": [[x, y]], "labels": [lab]}],
            }
            for i, f, x, y, lab in items
        ]
    }
    p = Prompts.from_dict(json.loads(json.dumps(data)))
    assert p.to_dict() == data
    assert p.validate(640, 360, 1001) is p


def test_one_file_holds_concepts_exemplars_on_several_frames_and_objects(tmp_path):
    from ecoseg.prompts import Prompts, load_prompts

    data = {
        "concepts": [
            {
                "text": "parrotfish",
                "exemplars": [
                    {"frame": 0, "box": [1, 2, 30, 40], "label": 1},
                    {"frame": 7, "box": [5, 5, 9, 9], "label": 0},
                ],
            },
            "sea urchin",
        ],
        "objects": [{"id": 3, "class": "wrasse", "prompts": [{"frame": 4, "points": [[5, 6]]}]}],
    }
    path = tmp_path / "p.json"
    Prompts.from_dict(data).save(path)
    p = load_prompts(path).validate(64, 48, 10)
    assert [c.name for c in p.concepts] == ["parrotfish", "sea urchin"]
    assert p.concepts[0].exemplar_frames == [0, 7]
    assert p.object_ids == [3] and p.frames() == [4]
    # old files (objects only, concepts only) stay valid
    assert load_prompts(path).to_dict()["objects"][0]["class"] == "wrasse"
    assert len(Prompts.from_dict({"objects": data["objects"]}).concepts) == 0
    assert len(Prompts.from_dict({"concepts": ["coral"]})) == 0


def test_concept_names_alike_but_spelled_otherwise_are_refused():
    """Concepts "Parrotfish" and "parrotfish" (or "sea  urchin" and "sea urchin") were two,
    so their tracks became two species in counts and MaxN; they are now refused, naming
    both spellings. A run of spaces is one space."""
    from ecoseg.prompts import Concept, parse_concepts

    assert Concept("sea  urchin ").name == "sea urchin"
    with pytest.raises(PromptError, match="p.json: concepts 'Parrotfish' and 'parrotfish' diff"):
        parse_concepts(["Parrotfish", {"text": "parrotfish"}], "p.json")
    with pytest.raises(PromptError, match="concept 'sea urchin' is given twice"):
        parse_concepts(["sea  urchin", "sea urchin"])
    assert [c.name for c in parse_concepts(["wrasse", "Parrotfish"])] == ["wrasse", "Parrotfish"]


def test_concept_spelled_like_a_prompted_objects_class_otherwise_is_refused(tmp_path):
    objects = [{"id": 4, "class": "Fish", "prompts": [{"frame": 0, "points": [[5, 6]]}]}]
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"concepts": ["fish"], "objects": objects}))
    with pytest.raises(PromptError, match=r"p\.json: concept 'fish' and object 4's class 'Fish'"):
        load_prompts(path)
    # the same spelling is one species: allowed
    assert len(Prompts.from_dict({"concepts": ["Fish"], "objects": objects}).concepts) == 1


def test_command_line_concepts_alike_a_prompt_files_are_refused():
    from ecoseg.prompts import Concept, combine_concepts

    given = (Concept("parrotfish", (Exemplar(0, (1, 2, 30, 40)),)), Concept("sea urchin"))
    both = combine_concepts(given, ["parrotfish", "wrasse"], "p.json")
    assert [c.name for c in both] == ["parrotfish", "sea urchin", "wrasse"]
    assert both[0] is given[0]  # one concept, with the file's exemplars
    with pytest.raises(PromptError, match="--concepts and p.json: concept 'Sea Urchin' and"):
        combine_concepts(given, [" Sea  Urchin"], "p.json")
    with pytest.raises(PromptError, match="--concepts and p.json: concept 'PARROTFISH'"):
        combine_concepts(given, ["PARROTFISH"], "p.json")


def test_concept_of_negative_exemplars_alone_is_refused():
    """Exemplars alone that all say "not this" (label 0) gave a concept with nothing to find,
    which tracked whatever the detector scored as class "visual"."""
    data = {"concepts": [{"exemplars": [{"frame": 3, "box": [1, 2, 30, 40], "label": 0}]}]}
    with pytest.raises(PromptError, match=r"p\.json: concepts\[0\]: .*positive exemplar.*frame 3"):
        Prompts.from_dict(data, source="p.json")
    data["concepts"][0]["exemplars"].append({"frame": 5, "box": [1, 2, 30, 40]})
    assert Prompts.from_dict(data).concepts[0].name == "visual"
    data["concepts"][0] = {"text": "wrasse", "exemplars": data["concepts"][0]["exemplars"][:1]}
    assert Prompts.from_dict(data).concepts[0].name == "wrasse"  # text + "not this": fine


def test_concept_names_in_two_unicode_forms_are_refused():
    """'Ōtaki' typed on Linux (NFC) and pasted from macOS (NFD) were two concepts tracking the
    same animals, which the species tables count as one species: each animal twice."""
    from ecoseg.prompts import parse_concepts

    nfc, nfd = "\u014ctaki", "O\u0304taki"
    with pytest.raises(PromptError, match="two Unicode forms"):
        parse_concepts([nfc, nfd])
