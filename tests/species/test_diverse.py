import numpy as np

from ecoseg.species.diverse import diverse_order


def test_the_rare_look_comes_second_not_last():
    rng = np.random.default_rng(0)
    common = rng.normal(0, 0.3, (20, 4))  # e.g. yellow wrasse
    rare = rng.normal(3, 0.3, (3, 4))  # the blue morph
    order = diverse_order(np.r_[common, rare])
    assert sorted(order.tolist()) == list(range(23))
    assert order[0] < 20  # the most representative track first
    assert order[1] >= 20  # then the most different one


def test_reviewed_tracks_come_last_and_steer_the_start():
    v = np.array([[0.0], [0.2], [5.0], [5.1], [2.5]])
    order = diverse_order(v, reviewed=np.array([True, False, False, False, False]))
    assert order[-1] == 0
    assert order[0] in (2, 3)  # farthest from what was reviewed
    assert diverse_order(v, first=4)[0] == 4


def test_missing_and_constant_features_are_handled():
    v = np.array([[1.0, np.nan, 7.0], [2.0, 1.0, 7.0], [9.0, 1.0, 7.0]])
    assert sorted(diverse_order(v).tolist()) == [0, 1, 2]
    assert diverse_order(np.zeros((0, 3))).tolist() == []
