"""ConceptPredictor's SAM 2-style point/box prompts: the SAM 3 tracker used exactly as ecoseg's
SAM 2 ``ImagePredictor`` (itself proven equal to the official ``sam2`` predictor) uses SAM 2.

Both get the same tracker pyramid of the same image (random ``sam3-reduced`` weights), so any
difference is in how the prompts reach the tracker: coordinates, the "no memory" embedding,
the high-resolution skips, multimask selection and resizing.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ecoseg.errors import PromptError
from ecoseg.sam2.neck import ImageFeatures
from ecoseg.sam2.predictor import ImagePredictor
from ecoseg.sam3.model import SAM3Model
from ecoseg.sam3.predictor import ConceptPredictor, preprocess


class _FixedEncoder(nn.Module):
    """Returns the SAM 3 tracker pyramid of the image already encoded (ignores its input)."""

    def __init__(self, fpn, pos) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))
        self.fpn, self.pos = fpn, pos

    def forward(self, images):
        return ImageFeatures(list(self.fpn), list(self.pos))


class _TrackerAsSam2(nn.Module):
    """The SAM 3 tracker with the attributes ecoseg's SAM 2 ImagePredictor reads."""

    def __init__(self, model: SAM3Model, features) -> None:
        super().__init__()
        tracker = model.tracker
        self.image_size = model.image_size
        self.variant = tracker.variant
        self.sam_prompt_encoder = tracker.sam_prompt_encoder
        self.sam_mask_decoder = tracker.sam_mask_decoder
        self.no_mem_embed = tracker.no_mem_embed
        self.image_encoder = _FixedEncoder(features.tracker_fpn[:3], features.tracker_pos[:3])


@pytest.fixture(scope="module")
def predictors():
    torch.manual_seed(40)
    model = SAM3Model("sam3-reduced").eval()
    with torch.no_grad():  # random weights: make the decoder's masks non-trivial
        for p in model.tracker.sam_mask_decoder.parameters():
            p.mul_(3.0)
    ours = ConceptPredictor(model)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (90, 140, 3), dtype=np.uint8)
    ours.set_image(image)
    with torch.no_grad():  # the same pixels, so the same tracker pyramid as ours computes
        features = model.encode_image(preprocess(image, model.image_size), tracker=True)
    sam2 = ImagePredictor(_TrackerAsSam2(model, features))
    sam2.set_image(image)
    return ours, sam2


@torch.no_grad()
@pytest.mark.parametrize(
    "points, box",
    [
        ([[70.0, 40.0]], None),  # one click: best of three masks
        ([{"point": [70.0, 40.0], "label": 1}, {"point": [20.0, 70.0], "label": 0}], None),
        (None, [30.0, 20.0, 110.0, 80.0]),
        ([[60.0, 50.0]], [30.0, 20.0, 110.0, 80.0]),
    ],
)
def test_object_prompts_match_ecosegs_sam2_image_predictor(predictors, points, box):
    ours, sam2 = predictors
    got = ours.predict(points=points, boxes=box)
    kwargs = {}
    if points is not None:
        if isinstance(points[0], dict):
            kwargs = {
                "points": [p["point"] for p in points],
                "labels": [p["label"] for p in points],
            }
        else:
            kwargs = {"points": points, "labels": [1] * len(points)}
    multimask = box is None and len(points) == 1
    masks, iou, _ = sam2.predict(box=box, multimask_output=multimask, **kwargs)
    best = int(np.argmax(iou))
    assert got.concept == "object" and got.masks.shape == (1, 90, 140)
    np.testing.assert_array_equal(got.masks[0], masks[best])
    np.testing.assert_allclose(got.scores[0], iou[best], rtol=1e-5)
    assert 0 < got.masks.sum() < got.masks.size  # not a trivial mask


@torch.no_grad()
def test_several_boxes_are_several_objects(predictors):
    ours, sam2 = predictors
    boxes = [[30.0, 20.0, 110.0, 80.0], [5.0, 5.0, 50.0, 40.0]]
    got = ours.predict(boxes=boxes)
    masks, _, _ = sam2.predict(box=boxes, multimask_output=False)
    np.testing.assert_array_equal(got.masks, masks[:, 0])
    for k in range(2):
        assert 0 < got.masks[k].sum() < got.masks[k].size  # not a trivial mask
        ys, xs = np.nonzero(got.masks[k])
        assert got.boxes[k].tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_bad_object_prompts_say_what_is_wrong(predictors):
    ours, _ = predictors
    with pytest.raises(PromptError, match="without text"):
        ours.predict(text="fish", points=[[1.0, 2.0]])
    with pytest.raises(PromptError, match="one box"):
        ours.predict(points=[[1.0, 2.0]], boxes=[[0, 0, 5, 5], [1, 1, 6, 6]])
    with pytest.raises(PromptError, match="clicks"):
        ours.predict(points=[[1.0, 2.0, 3.0]])
