import numpy as np
import pytest

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


def whole_array_order(values, reviewed=None, first=None):
    """``diverse_order`` as it was before its distances were computed in blocks (the whole
    (n, reviewed, d) difference array at once): the reference its order must equal."""
    from ecoseg.species.diverse import standardise

    z = standardise(values)
    n = len(z)
    done = np.zeros(n, bool) if reviewed is None else np.asarray(reviewed, bool).copy()
    todo = np.flatnonzero(~done)
    order = []
    if len(todo):
        if done.any():
            dist = np.min(np.linalg.norm(z[:, None] - z[None, done], axis=2), axis=1)
        else:
            dist = np.full(n, np.inf)
        if first is None:
            first = (
                int(todo[np.argmax(dist[todo])])
                if done.any()
                else int(todo[np.argmin(np.linalg.norm(z[todo] - z[todo].mean(0), axis=1))])
            )
        k = int(first)
        while True:
            order.append(k)
            done[k] = True
            dist = np.minimum(dist, np.linalg.norm(z - z[k], axis=1))
            left = np.flatnonzero(~done)
            if not len(left):
                break
            k = int(left[np.argmax(dist[left])])
    return np.array(order + [i for i in range(n) if i not in set(order)], np.int64)


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 22])
def test_the_order_in_blocks_is_the_whole_arrays_order_with_ties(monkeypatch, block):
    """Blocks of one row (fewer values than a row's distances), of a few rows, and one block:
    the same order as the whole array's, also where distances tie (small integer features,
    repeated rows: the first of the tied tracks wins either way)."""
    import ecoseg.species.diverse as diverse

    monkeypatch.setattr(diverse, "BLOCK_VALUES", block)
    rng = np.random.default_rng(block)
    for trial in range(12):
        n, d = int(rng.integers(1, 40)), int(rng.integers(1, 6))
        v = rng.integers(0, 3, (n, d)).astype(float)  # many equal distances
        v[rng.random(n) < 0.3] = v[0]  # repeated tracks
        if trial % 3 == 0:
            v[rng.random((n, d)) < 0.1] = np.nan
        reviewed = rng.random(n) < [0.0, 0.3, 0.9, 1.0][trial % 4]
        first = None
        if trial % 5 == 4 and (~reviewed).any():
            first = int(rng.choice(np.flatnonzero(~reviewed)))
        got = diverse_order(v, reviewed, first)
        assert np.array_equal(got, whole_array_order(v, reviewed, first)), (trial, v, reviewed)


def test_the_reviewed_distances_never_make_the_whole_difference_array(monkeypatch):
    """It built an (n, reviewed, features) array: 565 MiB at 2,000 tracks with 500 reviewed
    and the 36 track features (4.4 GiB with 256 embedding features). Here 400 x 100 x 36
    float64 would be 11 MiB; the blocks of 4,096 values keep the peak far below."""
    import tracemalloc

    import ecoseg.species.diverse as diverse

    monkeypatch.setattr(diverse, "BLOCK_VALUES", 4096, raising=False)  # also on old code
    rng = np.random.default_rng(0)
    v = rng.normal(size=(400, 36))
    reviewed = np.zeros(400, bool)
    reviewed[rng.choice(400, 100, replace=False)] = True
    tracemalloc.start()
    try:
        diverse_order(v, reviewed)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20, peak  # the whole array alone was 400 * 100 * 36 * 8 = 11.5 MB
