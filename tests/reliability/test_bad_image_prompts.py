"""Clicks, boxes and exemplars given to the image predictors (``sam2.ImagePredictor``,
``sam3.ConceptPredictor``): checked as a prompt file's are, by the same checks. A click
outside the image and an inverted box were taken without a word (the network read them as
given); a malformed exemplar was a TypeError or a message that named no exemplar, and a label
``1.5`` or ``true`` was read as 1."""

from __future__ import annotations

import numpy as np
import pytest
from reliability_helpers import assert_names

from ecoseg.errors import PromptClippedWarning, PromptError

pytestmark = pytest.mark.bad_input

IMAGE = np.zeros((60, 80, 3), np.uint8)


@pytest.fixture(scope="module")
def sam2_predictor():
    import torch

    from ecoseg import sam2

    torch.manual_seed(0)
    model = sam2.build("sam2.1-tiny", pretrained=False, image_size=128, device="cpu")
    predictor = sam2.ImagePredictor(model)
    predictor.set_image(IMAGE)
    return predictor


@pytest.fixture(scope="module")
def sam3_predictor():
    import torch

    from ecoseg import sam3

    torch.manual_seed(0)
    model = sam3.build("sam3-reduced", pretrained=False, device="cpu")
    tokenizer = sam3.Tokenizer([("f", "i"), ("fi", "sh</w>")])
    predictor = sam3.ConceptPredictor(model, tokenizer=tokenizer)
    predictor.set_image(IMAGE)
    return predictor


def _sam2(predictor, points=None, box=None):
    labels = None if points is None else [1] * len(points)  # one click per point
    if isinstance(points, np.ndarray):  # K prompt sets
        labels = np.ones(points.shape[:-1], np.int64)
    return predictor.predict(points=points, labels=labels, box=box, multimask_output=False)


def _sam3(predictor, points=None, box=None):
    return predictor.predict(points=points, boxes=box)


PREDICTORS = {"sam2": ("sam2_predictor", _sam2, "box"), "sam3": ("sam3_predictor", _sam3, "boxes")}

POINTS = [  # (points, the refusal)
    ([[80, 30]], "points[0]: point (80, 30) is outside the 80x60 image"),
    ([[10, 10], [5, -1]], "points[1]: point (5, -1) is outside the 80x60 image"),
]
BOXES = [  # (box, the refusal after the argument's name)
    ([30, 10, 10, 40], ": box [30.0, 10.0, 10.0, 40.0] is empty or inverted"),
    ([20, 10, 20, 40], ": box [20.0, 10.0, 20.0, 40.0] is empty or inverted"),
    (
        [[0, 0, 10, 10], [100, 0, 120, 10]],
        "[1]: box [100.0, 0.0, 120.0, 10.0] is outside the 80x60 image",
    ),
]


@pytest.mark.parametrize("kind", list(PREDICTORS))
@pytest.mark.parametrize(("points", "said"), POINTS, ids=["right-edge", "above"])
def test_a_click_outside_the_image_is_refused_naming_it(request, kind, points, said):
    fixture, call, _ = PREDICTORS[kind]
    with pytest.raises(PromptError) as exc:
        call(request.getfixturevalue(fixture), points=points)
    assert_names(exc, said)


def test_a_click_outside_the_image_in_one_of_several_sets_names_the_set(sam2_predictor):
    points = np.array([[[10, 10]], [[5, 70]]])  # K = 2 prompt sets of one click each
    with pytest.raises(PromptError) as exc:
        _sam2(sam2_predictor, points=points)
    assert_names(exc, "points[1][0]: point (5, 70) is outside the 80x60 image")


@pytest.mark.parametrize("kind", list(PREDICTORS))
@pytest.mark.parametrize(("box", "said"), BOXES, ids=["inverted", "empty", "outside"])
def test_a_box_empty_inverted_or_outside_the_image_is_refused_naming_it(request, kind, box, said):
    fixture, call, name = PREDICTORS[kind]
    with pytest.raises(PromptError) as exc:
        call(request.getfixturevalue(fixture), box=box)
    assert_names(exc, name + said)


@pytest.mark.parametrize("kind", list(PREDICTORS))
def test_a_box_past_the_edge_is_cut_to_it_with_a_warning(request, kind):
    """It was read as given: SAM 2's prompt encoder placed the corner past the image."""
    fixture, call, name = PREDICTORS[kind]
    predictor = request.getfixturevalue(fixture)
    with pytest.warns(PromptClippedWarning, match=rf"{name}: .* cut to \[50.0, 10.0, 80.0, 40.0\]"):
        past = call(predictor, box=[50, 10, 100, 40])
    cut = call(predictor, box=[50, 10, 80, 40])
    if kind == "sam3":
        past, cut = (past.masks, past.scores), (cut.masks, cut.scores)
    for a, b in zip(past, cut):
        np.testing.assert_array_equal(a, b)


EXEMPLARS = [  # (exemplars, the refusal)
    (5, "exemplars must be a list of boxes [x0, y0, x1, y1] or of {"),  # TypeError
    ("abcd", 'got "abcd"'),  # read as the box ["a", "b", "c", "d"]
    ({"box": [0, 0, 5, 5]}, "exemplars must be a list of boxes"),  # its keys read as a box
    ([{"label": 1}], 'exemplar 0: {"label": 1} has no "box"'),
    ([[0, 0, 5, 5], {"label": 0}], 'exemplar 1: {"label": 0} has no "box"'),
    ([[[0, 0], [5]]], "exemplar 0: box must be numbers"),  # ragged: numpy's ValueError
    ([{"box": [0, 0, 5, 5], "label": 1.5}], "exemplar 0: label must be the integer 1"),
    ([{"box": [0, 0, 5, 5], "label": True}], "exemplar 0: label must be the integer 1"),
]


@pytest.mark.parametrize(
    ("exemplars", "said"),
    EXEMPLARS,
    ids=["number", "text", "one-dict", "no-box", "no-box-second", "ragged", "label-1.5", "true"],
)
def test_a_malformed_exemplar_is_refused_in_one_line_naming_it(sam3_predictor, exemplars, said):
    with pytest.raises(PromptError) as exc:
        sam3_predictor.predict(text="fish", exemplars=exemplars)
    assert_names(exc, said)


def test_an_exemplar_past_the_edge_is_cut_to_the_image_saying_image(sam3_predictor):
    """The warning said "the 80x60 frame" for one image; prompt files for videos say frame."""
    with pytest.warns(PromptClippedWarning) as caught:
        sam3_predictor.predict(text="fish", exemplars=[[50, 10, 100, 40]])
    said = str(caught[0].message)
    assert said.startswith(
        "exemplar 0: box [50.0, 10.0, 100.0, 40.0] reaches past the edge "
        "of the 80x60 image; cut to [50.0, 10.0, 80.0, 40.0]"
    ), said


NOT_NUMBERS = [  # (argument, value, the refusal)
    ("points", "ab", 'predict: points must be numbers (not text or true/false), got "ab"'),
    ("points", [[1, 2], [3]], "predict: points must be numbers, got [[1, 2], [3]]"),  # ragged
    ("points", [[True, 2]], "predict: points must be numbers (not text or true/false)"),
    ("box", "abcd", 'predict: {box} must be numbers (not text or true/false), got "abcd"'),
    ("box", [[0, 0, 5, 5], [1, 2]], "predict: {box} must be numbers, got [[0, 0, 5, 5], [1, 2]]"),
    ("box", [True, 0, 5, 5], "predict: {box} must be numbers (not text or true/false)"),
]


@pytest.mark.parametrize(
    ("kind", "argument", "value", "said"),
    [
        (kind, *case)
        for kind in PREDICTORS
        for case in NOT_NUMBERS
        if (kind, case[0]) != ("sam3", "points")
    ],
)
def test_clicks_or_boxes_that_are_no_numbers_are_refused_in_one_line(
    request, kind, argument, value, said
):
    """Text and ragged lists were numpy's ValueError (could not convert string to float,
    inhomogeneous shape); ``true`` was read as 1. (SAM 3's clicks were refused already:
    test_bad_sam3_api.py.)"""
    fixture, call, name = PREDICTORS[kind]
    with pytest.raises(PromptError) as exc:
        call(request.getfixturevalue(fixture), **{argument: value})
    assert_names(exc, said.format(box=name))
