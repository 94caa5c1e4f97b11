"""ConceptRun's frame results: only tracks with pixels on a frame are on it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from ecoseg.engine.concept_session import ConceptRun
from ecoseg.engine.concept_tracker import ConceptStep


def _frame(concepts: list[int]):
    """A frame's result for two tracks with one and the same mask (scores 0.9 and 0.4)."""
    logits = torch.full((2, 4, 4), -5.0)
    logits[:, 1:3, 1:3] = 5.0
    step = ConceptStep(
        index=0,
        object_ids=[1, 2],
        logits=logits,
        tracker_scores=torch.tensor([0.9, 0.4]),
        concepts=concepts,
        class_probability=[0.9, 0.8],
        removed=set(),
        hidden=set(),
        detected=True,
    )
    run = SimpleNamespace(tracker=SimpleNamespace(book=SimpleNamespace(removed=set())))
    run.masks = lambda s, size: ConceptRun.masks(run, s, size)
    run._backward = {}
    return ConceptRun._result(run, step, 0.0, (8, 8))


def test_a_track_whose_pixels_all_went_to_a_track_of_its_own_concept_is_not_on_the_frame():
    """Within a concept every pixel goes to the better-scoring track, and a track left with
    none was still listed on the frame: the store had objects with no pixels (``ecoseg info``
    counted 9 objects of an 8-frame clip, ``measure`` 5 tracks)."""
    result = _frame([0, 0])
    assert result.object_ids.tolist() == [1] and result.scores.tolist() == pytest.approx([0.9])
    assert set(result.labels.ravel().tolist()) == {0, 1}


def test_a_track_whose_pixels_all_went_to_another_concepts_track_is_not_on_the_frame():
    result = _frame([0, 1])  # across concepts: the pixel to the higher tracker score
    assert result.object_ids.tolist() == [1]
