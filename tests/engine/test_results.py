import numpy as np
import pytest

from ecoseg.engine.results import FrameResult, labels_from_logits


def test_highest_positive_logit_wins():
    logits = np.array(
        [
            [[2.0, 0.5, -1.0, 3.0]],
            [[1.0, 0.7, -2.0, -1.0]],
        ],
        dtype=np.float32,
    )
    labels = labels_from_logits(np.array([5, 9]), logits)
    np.testing.assert_array_equal(labels, [[5, 9, 0, 5]])
    assert labels.dtype == np.uint32


def test_ties_go_to_higher_score():
    logits = np.ones((2, 1, 3), np.float32)
    np.testing.assert_array_equal(labels_from_logits([1, 2], logits, [0.2, 0.9]), [[2, 2, 2]])
    np.testing.assert_array_equal(labels_from_logits([1, 2], logits, [0.9, 0.2]), [[1, 1, 1]])


def test_empty_and_mismatch():
    assert labels_from_logits(np.array([], int), np.zeros((0, 3, 4))).shape == (3, 4)
    with pytest.raises(ValueError, match="do not match"):
        labels_from_logits([1, 2], np.zeros((3, 2, 2)))


def test_frame_result_label_image_cached():
    r = FrameResult(0, 0.0, np.array([3]), np.array([1.0], np.float32), logits=np.ones((1, 2, 2)))
    first = r.label_image()
    assert first is r.label_image()
    np.testing.assert_array_equal(first, 3)
    with pytest.raises(ValueError, match="frame 4"):
        FrameResult(4, 0.1, np.array([]), np.array([])).label_image()


def test_a_result_shows_the_shape_of_its_logits_not_their_values():
    """``list(ecoseg.engine.propagate(...))`` in a notebook printed 70 lines of logits per
    frame."""
    r = FrameResult(
        5, 0.5, np.array([1, 2]), np.ones(2, np.float32), logits=np.zeros((2, 360, 640), np.float32)
    )
    assert repr(r) == (
        "FrameResult(index=5, time=0.5, object_ids=array([1, 2]), "
        "scores=array([1., 1.], dtype=float32), logits=(2, 360, 640) float32)"
    )
    assert repr(FrameResult(0, 0.0, np.array([1]), np.ones(1, np.float32))).endswith("logits=None)")
