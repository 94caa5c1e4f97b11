import numpy as np
import pytest

from ecoseg.errors import ConfigError
from ecoseg.species import Review, edit_log
from ecoseg.species.edits import (
    Edit,
    check_split,
    edit_objects,
    edit_scores,
    parse_edit_args,
    present_after,
    relabel,
    touched_frames,
)


def stack():
    lab = np.zeros((4, 3, 3), np.uint32)
    lab[:, 0, 0] = 1
    lab[1:, 2, 2] = 2
    lab[2, 1, 1] = 3
    return lab


def test_merge_relabels_second_into_first_everywhere():
    out = relabel(stack(), Edit("merge", (1, 2)))
    assert set(np.unique(out)) == {0, 1, 3}
    assert (out[1:, 2, 2] == 1).all()


def test_split_only_from_the_frame_on():
    out = relabel(stack(), Edit("split", (2,), frame=2, new_id=7))
    assert out[1, 2, 2] == 2 and (out[2:, 2, 2] == 7).all()


def test_delete_and_idempotence():
    lab = stack()
    for edit in (
        Edit("delete", (3,)),
        Edit("merge", (1, 2)),
        Edit("split", (1,), frame=1, new_id=9),
    ):
        once = relabel(lab, edit)
        assert np.array_equal(relabel(once, edit), once)
    assert not (relabel(lab, Edit("delete", (3,))) == 3).any()


def test_input_is_not_changed():
    lab = stack()
    before = lab.copy()
    relabel(lab, Edit("delete", (1,)))
    assert np.array_equal(lab, before)


def test_touched_frames():
    present = {1: np.arange(4), 2: np.array([1, 2, 3])}
    assert touched_frames(present, Edit("split", (2,), frame=2)).tolist() == [2, 3]
    assert touched_frames(present, Edit("set_class", (2,), cls="x")).tolist() == []


@pytest.mark.parametrize("frame", [0, 1, 2, 9, 40])
def test_a_split_must_cut_the_track_in_two(frame):
    with pytest.raises(ConfigError, match="track 4 at frame .*: it is present from frame 2 to"):
        check_split(4, frame, np.array([2, 3, 7, 8]))


@pytest.mark.parametrize("frame", [2, 3])
def test_a_track_of_one_frame_has_nothing_to_split(frame):
    """A survey's instance (one photograph) was refused with "the split frame must be after
    2 and at most 2", a range with no frame in it."""
    with pytest.raises(ConfigError, match="^cannot split track 4: it is present in frame 2 only"):
        check_split(4, frame, np.array([2]))


@pytest.mark.parametrize("frame", [3, 5, 8])
def test_a_split_inside_the_track_is_allowed(frame):
    check_split(4, frame, np.array([2, 3, 7, 8]))  # raises nothing


def test_a_track_without_pixels_cannot_be_split():
    with pytest.raises(ConfigError, match="present in no frame"):
        check_split(4, 3, np.zeros(0, np.int64))


def test_presence_follows_the_label_edits_like_relabel():
    lab = stack()
    present = {k: np.flatnonzero((lab == k).any(axis=(1, 2))) for k in (1, 2, 3)}
    for edit in (
        Edit("merge", (1, 2)),
        Edit("merge", (2, 3)),
        Edit("delete", (2,)),
        Edit("split", (2,), frame=2, new_id=9),
        Edit("split", (1,), frame=3, new_id=9),
        Edit("set_class", (1,), cls="goby"),
    ):
        out = relabel(lab, edit)
        truth = {
            int(k): np.flatnonzero((out == k).any(axis=(1, 2))).tolist()
            for k in np.unique(out)
            if k
        }
        got = {k: v.tolist() for k, v in present_after(present, edit).items()}
        assert got == truth, edit


def test_scores_follow_the_edit():
    s = np.array([[1.0, 0.0, 0.5], [0.2, 0.6, 0.5]], np.float32)
    new, ids = edit_scores(s, [1, 2, 3], Edit("delete", (2,)))
    assert ids == [1, 3] and np.allclose(new, [[1.0, 0.5], [0.2, 0.5]])
    new, ids = edit_scores(s, [1, 2, 3], Edit("merge", (1, 2)))
    assert ids == [1, 3] and np.allclose(new[:, 0], [1.0, 0.6])


def test_objects_review_fields():
    objs = [
        {"id": 1, "class": "unknown", "source": "tracker"},
        {"id": 2, "class": "unknown", "source": "tracker"},
    ]
    out = edit_objects(objs, Edit("set_class", (2,), cls=" wrasse "))
    assert out[1] == {
        "id": 2,
        "class": "wrasse",
        "source": "tracker",
        "reviewed": True,
        "class_source": "reviewed",
        "class_probability": 1.0,
    }
    assert [o["id"] for o in edit_objects(objs, Edit("merge", (2, 1)))] == [2]
    # merging confirms a class it has; an unknown track stays for classify to name
    assert edit_objects(objs, Edit("merge", (2, 1))) == [objs[1]]
    assert edit_objects(out, Edit("merge", (2, 1))) == [out[1]]
    split = edit_objects(out, Edit("split", (2,), frame=3, new_id=5))
    assert split[-1]["id"] == 5 and split[-1]["class_suggestion"] == "wrasse"
    assert split[-1]["reviewed"] is False
    with pytest.raises(ConfigError, match="no track 9"):
        edit_objects(objs, Edit("delete", (9,)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"set_class": ["4"]}, "ID=CLASS"),
        ({"set_class": ["x=fish"]}, "ID=CLASS"),
        ({"merge": ["3"]}, "two track ids"),
        ({"merge": ["3,3"]}, "itself"),
        ({"split": ["5"]}, "ID@FRAME"),
        ({"delete": ["a"]}, "a track id"),
    ],
)
def test_bad_cli_edits_are_one_line_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        parse_edit_args(**kwargs)


def test_edit_round_trips_through_json():
    e = Edit("split", (5,), frame=120, new_id=11)
    assert Edit.from_dict(e.to_dict()) == e
    with pytest.raises(ConfigError, match="unknown edit"):
        Edit("rename", (1,))


def test_species_never_imports_torch_or_the_engines():
    import subprocess
    import sys

    code = (
        "import sys, ecoseg.species, ecoseg.species.features, ecoseg.species.review; "
        "bad = [m for m in ('torch', 'ecoseg.engine', 'ecoseg.sam2', 'ecoseg.sam3') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize(
    "edit",
    [
        Edit("set_class", (4,), cls="blue tang"),
        Edit("merge", (3, 7)),
        Edit("split", (5,), frame=120),
        Edit("delete", (9,)),
        Edit("reviewed", (2,)),
    ],
)
def test_cli_args_parse_back_to_the_same_edit(edit):
    option, value = edit.cli_args()
    assert parse_edit_args(**{option[2:].replace("-", "_"): [value]}) == [edit]


@pytest.mark.parametrize("name", [["wrasse"], 3, {"class": "wrasse"}])
def test_a_class_name_that_is_not_text_is_refused_and_nothing_stored(store3, name):
    """``Review(store).set_class(2, ["wrasse"])`` in a notebook stored the species
    "['wrasse']" (and ``3`` the species "3"), counted as one in every table."""
    path, _, _ = store3
    review = Review(path)
    before = review.objects
    with pytest.raises(ConfigError, match=r"m\.zarr: set_class\(2, .*\): the class name must be t"):
        review.set_class(2, name)
    assert review.objects == before and review.log == []
    review.set_class(np.int64(2), np.str_("wrasse"))  # a name from a numpy array is text
    assert [o.class_name for o in review.objects if o.id == 2] == ["wrasse"]


def test_numpy_ids_and_frames_are_plain_ints_in_the_log(store3):
    # a frame or id taken from a numpy array or a DataFrame: the split failed with
    # "int64 is not JSON serializable" after its backup was written
    path, _, _ = store3
    new = Review(path).split(np.int64(1), np.int64(4))
    entry = edit_log(path)[-1]
    assert (entry["ids"], entry["frame"], entry["new_id"]) == ([1], 4, new)
    assert type(entry["frame"]) is int


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Edit("split", (1,), frame=4.5), "frame must be a whole number, got 4.5"),
        (lambda: Edit("split", (1,), frame=True), "frame must be a whole number, got True"),
        (lambda: Edit("merge", (1.9, 2)), "track id must be a whole number, got 1.9"),
        (lambda: Edit("delete", ("abc",)), "track id must be a whole number, got 'abc'"),
    ],
)
def test_ids_and_frames_that_are_not_whole_numbers_are_refused(make, match):
    # 4.5 split at frame 4 in the labels but after it in the presence check and the log;
    # 1.9 merged track 1; 'abc' was a ValueError
    with pytest.raises(ConfigError, match=match):
        make()


def test_a_split_of_a_reviewed_track_does_not_claim_the_new_part_reviewed():
    """The new part of a reviewed track is another animal nobody named: it was given the
    person's class with ``class_source="reviewed"`` and probability 1.0 but ``reviewed=False``,
    so counts named it, the queue showed p=1.00 and ``classify`` never named it."""
    from ecoseg.measure.regions import class_source_of

    named = [{"id": 2, "class": "wrasse", "source": "tracker"}]
    named = edit_objects(named, Edit("set_class", (2,), cls="wrasse"))
    new = edit_objects(named, Edit("split", (2,), frame=3, new_id=5))[-1]
    assert new == {
        "id": 5,
        "class": "unknown",
        "source": "tracker",
        "class_source": "unknown",
        "reviewed": False,
        "split_from": 2,
        "class_suggestion": "wrasse",  # the person's name, kept as the best guess
    }
    assert class_source_of(new) == "unknown"
    # a model's name is the model's on both parts (the next classify names them again)
    guessed = [
        {
            "id": 2,
            "class": "wrasse",
            "source": "tracker",
            "class_source": "classified",
            "class_probability": 0.8,
        }
    ]
    part = edit_objects(guessed, Edit("split", (2,), frame=3, new_id=5))[-1]
    assert (part["class"], part["class_source"], part["class_probability"]) == (
        "wrasse",
        "classified",
        0.8,
    )


def test_naming_a_track_drops_the_models_suggestion():
    """A track the model left unknown keeps its guess in ``class_suggestion``; once a person
    named it the guess stayed beside the person's name (the review queue's suggestion)."""
    below = [
        {
            "id": 3,
            "class": "unknown",
            "source": "tracker",
            "class_source": "unknown",
            "class_probability": 0.4,
            "class_suggestion": "wrasse",
        }
    ]
    named = edit_objects(below, Edit("set_class", (3,), cls="parrotfish"))[0]
    assert named["class"] == "parrotfish" and "class_suggestion" not in named
    # confirming the unknown keeps the guess: the class is still unknown
    assert edit_objects(below, Edit("reviewed", (3,)))[0]["class_suggestion"] == "wrasse"


def test_an_unknown_named_by_a_person_has_no_probability(store3):
    """``--set-class ID=unknown`` (or a reviewed mark on an unknown track) is "looked at, no
    name": it stored ``class_probability`` 1.0, a sure probability of no species, which the
    review queue listed as ``unknown`` p=1.00. It is reviewed, with no probability."""
    below = {"id": 3, "class": "unknown", "source": "tracker", "class_source": "unknown"}
    guessed = {**below, "class_probability": 0.4, "class_suggestion": "wrasse"}
    for entry, edit in (
        (guessed, Edit("set_class", (3,), cls="unknown")),
        (guessed, Edit("set_class", (3,), cls=" Unknown ")),  # one spelling of unknown
        (below, Edit("reviewed", (3,))),
        ({**guessed, "class_suggestion": "unknown"}, Edit("reviewed", (3,))),
    ):
        got = edit_objects([entry], edit)[0]
        assert got["class"] == "unknown" and "class_probability" not in got, (edit, got)
        assert got["reviewed"] is True and got["class_source"] == "reviewed"
    named = edit_objects([guessed], Edit("set_class", (3,), cls="wrasse"))[0]
    assert named["class_probability"] == 1.0  # a person's name stays sure
    confirmed = {**below, "class": "wrasse", "class_source": "classified", "class_probability": 0.7}
    assert edit_objects([confirmed], Edit("reviewed", (3,)))[0]["class_probability"] == 1.0

    from ecoseg.cli import main
    from ecoseg.species import review_queue

    path, _, _ = store3
    assert main(["edit", str(path), "--set-class", "1=unknown", "--set-class", "2=wrasse"]) == 0
    objects = {o.id: o for o in Review(path).objects}
    assert objects[1].class_probability is None and objects[1].reviewed is True
    queue = review_queue(path).set_index("object_id")
    assert np.isnan(queue.loc[1, "class_probability"]) and queue.loc[1, "reviewed"]
    assert queue.loc[2, "class_probability"] == 1.0
    # reviewed tracks come last, the unreviewed one first: still "looked at"
    assert review_queue(path)["object_id"].tolist()[0] == 3


@pytest.mark.parametrize(
    "track",
    [
        {"id": 2, "class": "wrasse", "source": "prompt", "class_source": "prompt"},
        {"id": 2, "class": "wrasse", "source": "truth"},  # a class given with the object
        {
            "id": 2,
            "class": "wrasse",
            "source": "concept",
            "class_source": "concept",
            "class_probability": 0.83,  # the detection's score
        },
    ],
)
def test_a_split_of_a_track_named_with_its_prompt_or_a_concept_leaves_the_new_part_unknown(
    track,
):
    """A split is made where the tracker went on to another animal: the prompt named the
    clicked one, a concept the animals its detector matched; the new part was counted as
    that species (MaxN) with the name's source, and ``classify`` never named it."""
    from ecoseg.measure.regions import class_source_of

    new = edit_objects([track], Edit("split", (2,), frame=3, new_id=5))[-1]
    assert (new["class"], class_source_of(new), new["reviewed"]) == ("unknown", "unknown", False)
    assert new["class_suggestion"] == "wrasse" and "class_probability" not in new
    assert new["split_from"] == 2 and new["source"] == track["source"]
    # the track itself keeps its name; an unchecked split (as ecoseg made splits before)
    # keeps it on the new part too, with its source (to replay an old edit log)
    old = edit_objects([track], Edit("split", (2,), frame=3, new_id=5, unchecked=True))
    assert old[0] == track
    assert old[1] == {**track, "id": 5, "reviewed": False, "split_from": 2}


def test_a_split_of_a_guess_keeps_the_guess_on_the_new_part():
    """A concept of exemplars alone (class ``visual``: no name typed), a prompted track with
    no class and the colour rules' guess: nothing a person named, so nothing changes."""
    tracks = [
        {"id": 2, "class": "visual", "source": "concept", "class_source": "concept"},
        {"id": 3, "class": "unknown", "source": "prompt", "class_source": "unknown"},
        {"id": 4, "class": "sea_star", "source": "discovered", "class_source": "rule"},
    ]
    for k, track in enumerate(tracks):
        new = edit_objects(tracks, Edit("split", (track["id"],), frame=3, new_id=9))[-1]
        assert new == {**track, "id": 9, "reviewed": False, "split_from": track["id"]}, k


_TWO = [{"id": 1, "class": "unknown"}, {"id": 2, "class": "unknown"}]


@pytest.mark.parametrize(
    ("edit", "call", "said"),
    [
        (Edit("delete", (9,)), lambda e: edit_objects(_TWO, e), "no track 9 in the object table"),
        (
            Edit("split", (1,), frame=3, new_id=2),
            lambda e: edit_objects(_TWO, e),
            "the new track id 2 is already a track",
        ),
        (Edit("split", (1,), frame=3), lambda e: relabel(stack(), e), "no new track id chosen"),
    ],
)
def test_the_lower_level_refusals_name_the_edit_once(edit, call, said):
    """``edit_objects`` and ``Edit.mapping`` (``relabel``) put the edit's kind before their
    refusals, which a shell prefixes with the edit's own words again ('--split 1@3: split: id
    2 is already a track'). ``Review`` and ``ecoseg edit`` check the ids and choose the new id
    before they get there, so these are for direct callers; worded as ``Edit``'s checks are."""
    from ecoseg.species._edit_record import cli_words

    with pytest.raises(ConfigError) as err:
        call(edit)
    assert str(err.value) == said
    assert f"{cli_words(edit)}: {err.value}".count(edit.kind) == 1  # as the CLI says it
