"""ImagePredictor: preprocessing, prompt handling, shapes and errors (the oracle tests compare
its numbers with the official predictor, see test_oracle_image.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ecoseg import sam2
from ecoseg.errors import PromptError, VideoError
from ecoseg.sam2.predictor import IMAGENET_MEAN, IMAGENET_STD, ImagePredictor, preprocess_image


@pytest.fixture(scope="module")
def predictor():
    torch.manual_seed(0)
    model = sam2.build("sam2.1-tiny", pretrained=False, image_size=128, device="cpu")
    p = ImagePredictor(model)
    rng = np.random.default_rng(0)
    p.set_image(rng.integers(0, 255, size=(48, 96, 3), dtype=np.uint8))
    return p


def test_preprocess_square_antialiased_resize():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, size=(30, 70, 3), dtype=np.uint8)
    x = preprocess_image(img, 64)
    assert x.shape == (1, 3, 64, 64) and x.dtype == torch.float32
    # undo the normalisation: the resize of a constant image is that constant
    flat = preprocess_image(np.full((30, 70, 3), 200, np.uint8), 64)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(flat * std + mean, torch.full_like(flat, 200 / 255))
    # downsampling is antialiased: stripes on every third column average to 1/3, whereas a
    # plain bilinear x3 reduction samples only the dark columns
    cols = (np.arange(48) % 3 == 0).astype(np.uint8) * 255
    stripes = np.broadcast_to(cols[None, :, None], (48, 48, 3)).copy()
    grey = preprocess_image(stripes, 16) * std + mean
    assert torch.allclose(grey[..., 1:-1], torch.full_like(grey[..., 1:-1], 1 / 3), atol=0.02)
    plain = F.interpolate(
        torch.from_numpy(stripes).permute(2, 0, 1)[None].float() / 255,
        16,
        mode="bilinear",
        align_corners=False,
    )
    assert plain.abs().max() < 1e-6  # what the antialias flag prevents


def test_outputs_shapes_and_types(predictor):
    masks, iou, low = predictor.predict(points=[[10, 20]], labels=[1])
    assert masks.shape == (3, 48, 96) and masks.dtype == bool
    assert iou.shape == (3,) and low.shape == (3, 32, 32)
    logits, _, _ = predictor.predict(points=[[10, 20]], labels=[1], return_logits=True)
    assert logits.dtype == np.float32 and np.array_equal(logits > 0, masks)
    assert np.abs(low).max() <= 32
    one, iou1, low1 = predictor.predict(box=[5, 5, 60, 40], multimask_output=False)
    assert one.shape == (1, 48, 96) and iou1.shape == (1,) and low1.shape == (1, 32, 32)
    assert predictor.original_size == (48, 96)
    assert predictor.image_embedding.shape == (1, 256, 8, 8)


def test_batched_boxes_equal_single_calls(predictor):
    boxes = np.array([[5, 5, 60, 40], [30, 10, 90, 45]], np.float32)
    masks, iou, low = predictor.predict(box=boxes, multimask_output=False, return_logits=True)
    assert masks.shape == (2, 1, 48, 96)
    for k in range(2):
        m, i, lo = predictor.predict(box=boxes[k], multimask_output=False, return_logits=True)
        np.testing.assert_allclose(masks[k], m, atol=1e-4)
        np.testing.assert_allclose(iou[k], i, atol=1e-6)
    # one point set shared by both boxes
    both, _, _ = predictor.predict(points=[[20, 20]], labels=[1], box=boxes)
    assert both.shape == (2, 3, 48, 96)


def test_coordinates_are_image_pixels(predictor):
    """A click scales to the model's square input like the official transform (x/W, y/H)."""
    coords = predictor._to_input_frame(torch.tensor([[[96.0, 48.0], [48.0, 12.0]]]))
    torch.testing.assert_close(coords, torch.tensor([[[128.0, 128.0], [64.0, 32.0]]]))


def test_mask_input_round_trip(predictor):
    _, _, low = predictor.predict(points=[[10, 20]], labels=[1], multimask_output=False)
    refined, _, _ = predictor.predict(
        points=[[10, 20]], labels=[1], mask_input=low, multimask_output=False, return_logits=True
    )
    plain, _, _ = predictor.predict(
        points=[[10, 20]], labels=[1], multimask_output=False, return_logits=True
    )
    assert refined.shape == plain.shape and not np.allclose(refined, plain)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(points=[[1, 2]]), "together"),
        (dict(points=[[1, 2, 3]], labels=[1]), "points must be"),
        (dict(points=[[1, 2], [3, 4]], labels=[1]), "points must be"),
        (dict(points=[[np.nan, 2]], labels=[1]), "NaN or infinity"),
        (dict(points=[[1, 2]], labels=[7]), "labels must be"),
        (dict(points=[[1, 2]], labels=[0.5]), "integers"),
        (dict(box=[1, 2, 3]), "box must be"),
        (dict(box=[[0, 0, 5, 5]] * 2, points=[[[1, 1]]] * 3, labels=[[1]] * 3), "boxes"),
        (dict(mask_input=np.zeros((1, 10, 10))), "mask_input"),
    ],
)
def test_bad_prompts(predictor, kwargs, match):
    with pytest.raises(PromptError, match=match):
        predictor.predict(**kwargs)


def test_bad_images_and_order():
    model = sam2.build("sam2-tiny", pretrained=False, image_size=64, device="cpu")
    p = ImagePredictor(model)
    with pytest.raises(RuntimeError, match="set_image"):
        p.predict(points=[[1, 1]], labels=[1])
    for bad in (
        np.zeros((8, 8), np.uint8),
        np.zeros((8, 8, 3), np.float32),
        np.zeros((0, 8, 3), np.uint8),
        np.zeros((8, 8, 4), np.uint8),
    ):
        with pytest.raises(VideoError):
            p.set_image(bad)
    p.set_image(np.zeros((8, 8, 3), np.uint8))
    p.reset()
    with pytest.raises(RuntimeError):
        _ = p.image_embedding
