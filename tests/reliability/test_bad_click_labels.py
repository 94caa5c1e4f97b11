"""Click labels other than the integers 1 (on the object) and 0 (not on it), on every route a
click takes to a network: prompt files, ``ecoseg.engine.propagate`` and a session's
``add_prompts``, the SAM 2 and SAM 3 image predictors. One check (``click_labels``), one
message after each route's ``where``.

SAM 2's network reads 2 and 3 as a box's corners and -1 as padding: a prompt file refused them,
but prompts of another type given to ``propagate`` or ``add_prompts`` (and a ``FramePrompt``
whose labels were set in place) reached the network as given, and ``sam2.ImagePredictor``
took them, with ``true`` and ``1.0`` read as 1; ``sam3.ConceptPredictor`` read a click dict's
label through ``int()``, so ``1.7``, ``true`` and ``"1"`` were 1."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from reliability_helpers import assert_names

from ecoseg.errors import PromptError
from ecoseg.prompts import Prompts

pytestmark = pytest.mark.bad_input

H, W = 48, 64
FRAMES = [np.zeros((H, W, 3), np.uint8) for _ in range(3)]
NOT_CLICKS = [2, 3, -1, True, 1.0]  # a box's corners, padding; true and 1.0 read as 1
IDS = ["corner-2", "corner-3", "padding", "true", "1.0"]


@pytest.fixture(scope="module")
def model():
    import torch

    from ecoseg.sam2.model import SAM2Model

    torch.manual_seed(0)
    return SAM2Model("sam2.1-tiny", image_size=64).eval()


def _click(label) -> SimpleNamespace:
    """A frame's prompt of another type than ``FramePrompt`` (unchecked when made)."""
    return SimpleNamespace(
        frame=0, points=np.array([[10.0, 10.0]]), labels=[label], box=None, mask=None
    )


@pytest.mark.parametrize("label", NOT_CLICKS, ids=IDS)
def test_a_prompt_file_refuses_them(label):
    data = {
        "objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 1]], "labels": [label]}]}]
    }
    with pytest.raises(PromptError) as exc:
        Prompts.from_dict(data)
    assert_names(exc, "frame 0: click labels must be integers 0 or 1, got [")


@pytest.mark.parametrize("label", [2, 3, -1], ids=IDS[:3])
def test_propagate_refuses_them_in_prompts_of_another_type(model, label):
    from ecoseg.engine import propagate

    plain = SimpleNamespace(objects=[SimpleNamespace(id=3, prompts=[_click(label)])])
    with pytest.raises(PromptError) as exc:
        next(propagate(model, FRAMES, plain))
    assert_names(exc, f"object 3, frame 0: click labels must be integers 0 or 1, got [{label}]")


def test_propagate_refuses_a_label_set_in_place_after_the_prompt_was_made(model):
    from ecoseg.engine import propagate

    prompts = Prompts.single(0, points=[[10, 10]], labels=[1])
    prompts.objects[0].prompts[0].labels[0] = 2
    with pytest.raises(PromptError) as exc:
        next(propagate(model, FRAMES, prompts))
    assert_names(exc, "object 1, frame 0: click labels must be integers 0 or 1, got [2]")


@pytest.mark.parametrize("label", [2, 3, -1], ids=IDS[:3])
def test_a_sessions_add_prompts_refuses_them(model, label):
    from ecoseg.engine.session import StreamingSession

    session = StreamingSession(model, FRAMES)
    with pytest.raises(PromptError) as exc:
        session.add_prompts(0, [(3, _click(label))])
    assert_names(exc, f"object 3, frame 0: click labels must be integers 0 or 1, got [{label}]")
    assert 3 not in session.tracker.objects  # refused before the object was registered


@pytest.mark.parametrize("label", NOT_CLICKS, ids=IDS)
def test_the_sam2_image_predictor_refuses_them(model, label):
    """It said "point labels must be 1 (object), 0 (background), 2/3 (box corners) or -1
    (padding)" and took those: a box is given as ``box=``."""
    from ecoseg import sam2

    predictor = sam2.ImagePredictor(model)
    predictor.set_image(FRAMES[0])
    with pytest.raises(PromptError) as exc:
        predictor.predict(points=[[10, 10], [20, 20]], labels=[1, label])
    assert_names(exc, "predict: click labels must be integers 0 or 1, got [1, ")
    sets = np.array([[[10, 10], [20, 20]], [[30, 30], [0, 0]]])  # K = 2 sets, one padded
    with pytest.raises(PromptError) as exc:
        predictor.predict(points=sets, labels=[[1, 0], [1, label]])
    assert_names(exc, "predict: click labels must be integers 0 or 1, got [[1, 0], [1, ")


@pytest.fixture(scope="module")
def sam3_predictor():
    import torch

    from ecoseg import sam3

    torch.manual_seed(0)
    predictor = sam3.ConceptPredictor(sam3.build("sam3-reduced", pretrained=False, device="cpu"))
    predictor.set_image(FRAMES[0])
    return predictor


@pytest.mark.parametrize(
    "label", [1.7, True, "1", 2, -1], ids=["1.7", "true", "text", "corner", "padding"]
)
def test_the_sam3_image_predictor_refuses_them_in_click_dicts(sam3_predictor, label):
    """``int()`` read 1.7, ``true`` and ``"1"`` as 1; 2 was refused in other words."""
    points = [{"point": [10, 10], "label": 1}, {"point": [20, 20], "label": label}]
    with pytest.raises(PromptError) as exc:
        sam3_predictor.predict(points=points)
    assert_names(exc, "predict: click labels must be integers 0 or 1, got [1, ")


def test_the_sam3_image_predictor_takes_labels_1_and_0(sam3_predictor):
    points = [{"point": [10, 10], "label": 1}, {"point": [40, 30], "label": np.int64(0)}]
    assert sam3_predictor.predict(points=points).masks.shape == (1, H, W)
