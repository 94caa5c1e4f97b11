"""ConceptPredictor end to end against transformers' Sam3Model on real photographs.

Both models have the same random weights at the reduced size (the ``sam3-reduced`` preset,
read from the transformers model's safetensors by our checkpoint loader), edited so that they
detect
(:func:`det_oracle.make_detectable_`). Per instance, box corners must agree within 1e-3 of the
image size and masks with IoU >= 0.99, and the same instances must pass the score threshold
(placed in a wide gap of the oracle's scores, keeping between a fifth and four fifths of the
queries); a slightly perturbed copy of our weights must fail that check (the negative
control).
Photographs: scikit-image's ``coffee`` (400 x 600) and ``chelsea`` (300 x 451).
"""

from __future__ import annotations

import copy

import backbone_oracle as bo
import det_oracle as oracle
import numpy as np
import pytest
import torch

from ecoseg.errors import PromptError
from ecoseg.sam3._det_ops import box_xyxy_to_cxcywh
from ecoseg.sam3.predictor import ConceptInstances, ConceptPredictor, preprocess
from ecoseg.sam3.tokenizer import Tokenizer

pytestmark = pytest.mark.slow

# inside both images (chelsea is 451 x 300): a box past the edge is cut, as a prompt file's
EXEMPLARS = [
    {"box": [140.0, 90.0, 420.0, 290.0], "label": 1},
    {"box": [20.0, 20.0, 120.0, 100.0], "label": 0},
]


@pytest.fixture(scope="module")
def setup():
    skimage_data = pytest.importorskip("skimage.data")
    hf, ours = oracle.full_pair()
    tokenizer = Tokenizer.from_file(bo.clip_vocabulary())
    images = {"coffee": skimage_data.coffee(), "chelsea": skimage_data.chelsea()}
    return hf, ours, tokenizer, images


def _predictor(model, tokenizer, threshold):
    # transformers' port gives text-only prompts no geometry tokens
    return ConceptPredictor(
        model, tokenizer=tokenizer, score_threshold=threshold, always_encode_geometry=False
    )


def _oracle(hf, tokenizer, image, texts, exemplars=None, threshold=None):
    h, w = image.shape[:2]
    pixels = preprocess(image, 336).expand(len(texts), -1, -1, -1)
    boxes = labels = None
    if exemplars is not None:
        xyxy = torch.tensor([e["box"] for e in exemplars]) / torch.tensor([w, h, w, h])
        boxes = box_xyxy_to_cxcywh(xyxy)[None].expand(len(texts), -1, -1)
        labels = torch.tensor([[e["label"] for e in exemplars]] * len(texts))
    return oracle.oracle_instances(hf, pixels, tokenizer(texts), (h, w), threshold, boxes, labels)


def _check(refs, results, size, n_queries=200):
    for ref, got in zip(refs, results, strict=True):
        assert 0 < len(got) < n_queries  # the threshold separates kept from dropped queries
        # the masks carry signal (two empty or two full masks have IoU 1): none empty or full
        assert all(0 < m.sum() < m.size for m in ref["masks"])
        assert oracle.instance_problems(ref, got, size) == []
        np.testing.assert_allclose(got.scores, ref["scores"], rtol=1e-4, atol=1e-6)


@torch.no_grad()
@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_text_prompts_find_what_the_oracle_finds(setup, name):
    hf, ours, tokenizer, images = setup
    image = images[name]
    threshold, refs = _oracle(hf, tokenizer, image, ["parrotfish", "sea urchin"])
    results = _predictor(ours, tokenizer, threshold).predict(
        image, text=["parrotfish", "sea urchin"]
    )
    assert [r.concept for r in results] == ["parrotfish", "sea urchin"]
    assert all(r.masks.shape[1:] == image.shape[:2] and r.masks.dtype == bool for r in results)
    _check(refs, results, image.shape[:2])


@torch.no_grad()
def test_an_exemplar_box_alone_matches_the_oracle(setup):
    hf, ours, tokenizer, images = setup
    image = images["coffee"]
    threshold, refs = _oracle(hf, tokenizer, image, ["visual"], EXEMPLARS)
    got = _predictor(ours, tokenizer, threshold).predict(image, exemplars=EXEMPLARS)
    assert isinstance(got, ConceptInstances) and got.concept == "visual"
    _check(refs, [got], image.shape[:2])


@torch.no_grad()
def test_text_with_exemplars_matches_the_oracle(setup):
    hf, ours, tokenizer, images = setup
    image = images["chelsea"]
    threshold, refs = _oracle(hf, tokenizer, image, ["sea urchin"], EXEMPLARS)
    got = _predictor(ours, tokenizer, threshold).predict(
        image, text="sea urchin", exemplars=EXEMPLARS
    )
    _check(refs, [got], image.shape[:2])


@torch.no_grad()
def test_a_slightly_perturbed_copy_fails_the_comparison(setup):
    hf, ours, tokenizer, images = setup
    image = images["coffee"]
    perturbed = copy.deepcopy(ours)
    gen = torch.Generator().manual_seed(31)
    for p in perturbed.detector.parameters():
        p.add_(torch.randn(p.shape, generator=gen) * 0.01 * p.std().nan_to_num())
    threshold, refs = _oracle(hf, tokenizer, image, ["parrotfish"])
    assert (
        oracle.instance_problems(
            refs[0],
            _predictor(ours, tokenizer, threshold).predict(image, text="parrotfish"),
            image.shape[:2],
        )
        == []
    )
    got = _predictor(perturbed, tokenizer, threshold).predict(image, text="parrotfish")
    assert oracle.instance_problems(refs[0], got, image.shape[:2]) != []


@torch.no_grad()
def test_set_image_once_for_many_concepts(setup):
    _, ours, tokenizer, images = setup
    predictor = _predictor(ours, tokenizer, 0.0)  # keep every query
    predictor.set_image(images["chelsea"])
    both = predictor.predict(text=["parrotfish", "sea urchin"])
    alone = predictor.predict(text="sea urchin")
    assert predictor.original_size == (300, 451)
    assert len(alone) > 0
    np.testing.assert_allclose(alone.scores, both[1].scores, rtol=1e-5)
    inter = (alone.masks & both[1].masks).sum()
    assert inter / (alone.masks | both[1].masks).sum() > 0.9999  # batching rounds differently
    with pytest.raises(PromptError, match="one concept"):
        predictor.predict(text=["a", "b"], exemplars=EXEMPLARS)
    with pytest.raises(PromptError, match="give a concept"):
        predictor.predict()


def test_instances_show_their_count_and_mask_shape_not_the_masks():
    """``fish`` in a notebook printed every mask pixel (the (N, H, W) array's repr)."""
    found = ConceptInstances(
        "parrotfish",
        np.zeros((12, 720, 1280), bool),
        np.zeros((12, 4), np.float32),
        np.linspace(0.9, 0.5, 12).astype(np.float32),
        0.97,
    )
    text = repr(found)
    assert text.startswith("<ConceptInstances 'parrotfish': 12 instances, masks (12, 720, 1280) ")
    assert text.endswith(", ...], presence 0.97>") and "\n" not in text and len(text) < 200
