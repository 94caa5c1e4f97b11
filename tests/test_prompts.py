import json
import math
import unicodedata
import warnings

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


def test_a_folder_is_named_a_folder_not_a_missing_file(tmp_path):
    """A folder of prompt files (batch --prompts-dir's) given as --prompts said 'prompt
    file not found' of a path that exists."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    with pytest.raises(PromptError, match=r"prompts: is a folder, not a prompt file \(JSON\)"):
        load_prompts(folder)


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


NAME_ONE = 'give a name such as "parrotfish"'


@pytest.mark.parametrize(
    "concepts, message",
    [
        (["wrasse", "  "], f"p.json: concepts[1] is blank (only spaces); {NAME_ONE}"),
        (
            [{"text": " "}],
            f"p.json: concepts[0] is blank (only spaces); {NAME_ONE} (or exemplar boxes)",
        ),
        ([{"text": ""}], f"p.json: concepts[0] is empty; {NAME_ONE} (or exemplar boxes)"),
        (["\t"], f"p.json: concepts[0] is blank (only whitespace); {NAME_ONE}"),
    ],
)
def test_a_blank_concept_is_named_by_its_place_not_echoed(concepts, message):
    """A concept of spaces was refused with the spaces echoed (``got ' '``: hard to read, and
    one space however many were typed); the message now says which concept and what it is,
    by its place as every message about a prompt file's concepts names it (``concepts[1]``,
    the JSON path, counted from 0: it said "concept 2")."""
    from ecoseg.prompts import parse_concepts

    with pytest.raises(PromptError) as exc:
        parse_concepts(concepts, "p.json")
    assert str(exc.value) == message


def test_a_blank_command_line_concept_is_named_by_its_place():
    from ecoseg.prompts import Concept, combine_concepts, parse_concepts

    with pytest.raises(PromptError) as exc:
        combine_concepts([], ["wrasse", "sea urchin", "   "], name="--concepts")
    assert str(exc.value) == f"--concepts: concepts[2] is blank (only spaces); {NAME_ONE}"
    with pytest.raises(PromptError) as exc:  # from Python: the argument, not the option
        combine_concepts([], ["wrasse", "sea urchin", "   "])
    assert str(exc.value) == f"concepts: concepts[2] is blank (only spaces); {NAME_ONE}"
    with pytest.raises(PromptError, match="exemplar boxes or both; its text is blank .only spaces"):
        Concept("  ")
    # a blank text with exemplars is a concept of exemplars alone, as before
    exemplar = {"frame": 0, "box": [0, 0, 4, 4]}
    assert parse_concepts([{"text": " ", "exemplars": [exemplar]}])[0].name == "visual"


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
    with pytest.raises(PromptError, match="^--concepts and p.json: concept 'Sea Urchin' and"):
        combine_concepts(given, [" Sea  Urchin"], "p.json", name="--concepts")
    with pytest.raises(PromptError, match="^concepts and p.json: concept 'PARROTFISH'"):
        combine_concepts(given, ["PARROTFISH"], "p.json")  # ecoseg.segment(concepts=...)


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
    same animals, which the species tables count as one species: each animal twice. A concept
    keeps the one spelling, so they are one name given twice."""
    from ecoseg.prompts import parse_concepts

    nfc, nfd = "\u014ctaki", "O\u0304taki"
    with pytest.raises(PromptError, match=f"concept '{nfc}' is given twice"):
        parse_concepts([nfc, nfd])


@pytest.mark.parametrize(
    "typed", ["Che\u0301todon", "Ch\u00e9todon", " Ch\u00e9todon  ", "O\u0304taki", "Ch\u00e6todon"]
)
def test_a_concept_is_the_class_the_species_tools_write(typed):
    """A concept typed with a decomposed accent ("e" + combining acute, as macOS pastes it)
    kept it, so its tracks were the class "Che\u0301todon" while review and classify write
    "Ch\u00e9todon" (clean_class_name): two species in the tables. A concept's name is now
    the class name's one spelling."""
    from ecoseg.prompts import Concept, name_key
    from ecoseg.provenance import class_key, clean_class_name

    name = Concept(typed).name
    assert name == clean_class_name(typed) and unicodedata.is_normalized("NFC", name)
    assert name_key(typed) == class_key(typed) == class_key(name)


# ------------------------------------------------------- numbers: true/false and text refused
def _obj(**prompt):
    return {"objects": [{"id": 1, "prompts": [{"frame": 0, **prompt}]}]}


def _exemplar(**exemplar):
    return {
        "concepts": [{"text": "a", "exemplars": [{"frame": 0, "box": [0, 0, 5, 5], **exemplar}]}]
    }


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (_obj(points=[[1, 2]], labels=[True]), "object 1: frame 0: click labels must be integers"),
        (_obj(points=[[1, 2]], labels=[False]), "click labels must be integers 0 or 1"),
        (_obj(points=[[1, 2]], labels=[1.0]), "click labels must be integers 0 or 1"),
        (_obj(points=[[1, 2]], labels=["1"]), "click labels must be integers 0 or 1"),
        (_obj(points=[[True, 2]]), "object 1: frame 0: points must be numbers"),
        (_obj(box=[0, 0, "10", 5]), "object 1: frame 0: box must be numbers"),
        (_obj(box=[False, 0, 10, 5]), "box must be numbers (not text or true/false)"),
        (_obj(box=[0, 0, 1e999, 5]), "box contains NaN or infinity"),
        (_obj(points=[[1, 2]], frame=1.5), "frame index must be an integer, got 1.5"),
        (_obj(points=[[1, 2]], frame=True), "frame index must be an integer, got True"),
        (_exemplar(label=True), "concepts[0]: exemplar on frame 0: label must be the integer"),
        (_exemplar(label=False), "label must be the integer 1 (positive) or 0"),
        (_exemplar(label=1.0), "label must be the integer 1 (positive) or 0"),
        (_exemplar(box=[0, 0, "5", 5]), "concepts[0]: exemplar on frame 0: box must be numbers"),
        (_exemplar(frame=True), "exemplar frame must be an integer, got True"),
        (_exemplar(frame=0.5), "exemplar frame must be an integer, got 0.5"),
    ],
)
def test_true_false_text_and_fractions_are_not_numbers_here(tmp_path, data, needle):
    """JSON ``true`` is Python's ``True``, an int: ``"label": true`` was read as 1 and
    ``false`` as 0, ``[true, 0, 10, 5]`` as a box and ``"10"`` as 10. Labels are the integers
    0 or 1 and coordinates numbers; anything else is refused in one line naming the file."""
    if "1e999" in needle or "infinity" in needle:
        path = write(tmp_path, json.dumps(data).replace("Infinity", "1e999"))
    else:
        path = write(tmp_path, data)
    with pytest.raises(PromptError) as info:
        load_prompts(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and needle in msg and "\n" not in msg


def test_numpy_numbers_still_work():
    fp = FramePrompt(
        np.int64(2), points=np.array([[1.5, 2]]), labels=np.array([0]), box=(1, 2, 3, 4)
    )
    assert (fp.frame, fp.labels.tolist(), fp.box.tolist()) == (2, [0], [1.0, 2.0, 3.0, 4.0])
    assert Exemplar(np.int64(0), np.array([0, 0, 5.0, 5]), np.int64(0)).label == 0


# ------------------------------------------------------------- boxes past the frame's edge
def test_a_box_past_the_frames_edge_is_cut_with_a_warning():
    """A box drawn past the edge went to the network as it was, corners outside the image,
    without a word; it is cut to the frame with a one-line warning naming the file, object
    or concept, frame, both boxes and the frame size."""
    from ecoseg.errors import PromptClippedWarning

    p = Prompts.from_dict(
        {
            "objects": [{"id": 3, "prompts": [{"frame": 1, "box": [-4, 10, 30, 60]}]}],
            "concepts": [{"text": "a", "exemplars": [{"frame": 0, "box": [50, 0, 70, 10]}]}],
        }
    )
    with pytest.warns(PromptClippedWarning) as caught:
        cut = p.validate(64, 48, 5, source="p.json")
    msgs = [str(w.message) for w in caught]
    assert msgs == [
        "p.json: object 3, frame 1: box [-4.0, 10.0, 30.0, 60.0] reaches past the edge of the "
        "64x48 frame; cut to [0.0, 10.0, 30.0, 48.0]",
        "p.json: concept 'a', exemplar on frame 0: box [50.0, 0.0, 70.0, 10.0] reaches past "
        "the edge of the 64x48 frame; cut to [50.0, 0.0, 64.0, 10.0]",
    ]
    assert cut.at(1)[0][1].box.tolist() == [0, 10, 30, 48]
    assert cut.concepts[0].exemplars[0].box == (50, 0, 64, 10)
    assert p.at(1)[0][1].box.tolist() == [-4, 10, 30, 60]  # the prompts given stay as given
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cut.validate(64, 48, 5) is cut  # inside the frame: nothing to say


def test_a_box_or_point_wholly_outside_the_frame_is_refused_naming_the_file():
    outside = {"concepts": [{"text": "a", "exemplars": [{"frame": 0, "box": [64, 0, 70, 9]}]}]}
    with pytest.raises(
        PromptError,
        match=r"^p\.json: concept 'a', exemplar on frame 0: box \[64\.0, 0\.0, 70\.0, 9\.0\] "
        r"is outside the 64x48 frame$",
    ):
        Prompts.from_dict(outside).validate(64, 48, source="p.json")
    with pytest.raises(PromptError, match=r"^p\.json: object 1, frame 0: point \(64, 3\) is "):
        Prompts.single(0, points=[[64, 3]]).validate(64, 48, source="p.json")


# --------------------------------------------------------- class names the store merges
def _objects(*classes):
    return {
        "objects": [
            {"id": i + 1, "class": c, "prompts": [{"frame": 0, "points": [[1, 2]]}]}
            for i, c in enumerate(classes)
        ]
    }


def test_objects_whose_classes_differ_only_in_case_are_refused(tmp_path):
    """Two clicked fish of classes "Parrotfish" and "parrotfish" were tracked as two
    species (MaxN and counts split them); the file is refused naming both spellings."""
    path = write(tmp_path, _objects("wrasse", "Parrotfish", "parrotfish"))
    with pytest.raises(
        PromptError,
        match=rf"^{path}: objects 2 and 3: classes 'Parrotfish' and 'parrotfish' differ only in "
        "case: their tracks would be counted as two species; spell them the same$",
    ):
        load_prompts(path)
    # spellings the store keeps as one class are one species: several fish of it are fine
    p = Prompts.from_dict(
        _objects("parrotfish", "parrotfish ", " parrotfish", "Unknown", "unknown")
    )
    assert len(p) == 5


def test_a_concept_and_a_class_the_store_spells_alike_are_one_species():
    """A concept "parrotfish" and a clicked fish of class "parrotfish " (or the same name in
    NFD) were refused as "counted as two species", which they are not: the store keeps one
    spelling of both. Case still matters."""
    nfc, nfd = "\u014ctaki", "O\u0304taki"
    for concept, cls in [("parrotfish", "parrotfish "), ("sea urchin", "sea  urchin"), (nfc, nfd)]:
        data = {"concepts": [concept], **_objects(cls)}
        assert Prompts.from_dict(data).concepts[0].name == concept
    with pytest.raises(PromptError, match="concept 'parrotfish' and object 1's class 'Parrotfish'"):
        Prompts.from_dict({"concepts": ["parrotfish"], **_objects("Parrotfish")})


def test_two_concepts_without_text_say_why_they_are_refused():
    """Two concepts of exemplars alone are both the class "visual" (one species in the
    tables); they were refused as "concept 'visual' is given twice", which names no concept
    the user wrote."""
    e = {"exemplars": [{"frame": 0, "box": [0, 0, 5, 5]}]}
    with pytest.raises(PromptError, match=r"p\.json: two concepts without text .*give each a text"):
        Prompts.from_dict({"concepts": [e, e]}, source="p.json")
    # a text "Visual" beside them was refused as alike; any text "visual" is refused now
    with pytest.raises(PromptError, match="concept 'Visual' is the class of a concept of exem"):
        Prompts.from_dict({"concepts": ["Visual", e]})


def test_the_prompts_show_objects_frames_and_concepts_not_arrays():
    # the dataclass repr printed the points, labels and box arrays of every prompt
    p = Prompts.from_dict(
        {
            "objects": [
                {"id": 1, "class": "fish", "prompts": [{"frame": 0, "points": [[1, 2], [3, 4]]}]},
                {"id": 2, "prompts": [{"frame": 3, "box": [0, 0, 5, 5]}]},
            ],
            "concepts": ["wrasse"],
        }
    )
    assert repr(p) == (
        "<Prompts: objects {1: 'fish', 2: 'unknown'} on frames [0, 3], concepts ['wrasse']>"
    )


def test_the_prompts_of_a_long_truth_show_the_first_objects_and_frames_and_how_many():
    """Prompts from an imported truth (``to_prompts(read_annotations(...))``) listed every object
    and every prompted frame: for an hour of video a line of 100,000 frame numbers."""
    objects = [
        {"id": i, "class": "fish", "prompts": [{"frame": f, "box": [0, 0, 5, 5]}]}
        for i in range(1, 41)
        for f in [i * 100]
    ]
    p = Prompts.from_dict({"objects": objects})
    text = repr(p)
    assert text.startswith("<Prompts: objects {1: 'fish', 2: 'fish', ")
    assert "...} (40) on frames [100, 200, " in text and "...] (40), concepts []>" in text
    assert len(text) < 200
