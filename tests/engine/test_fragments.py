"""Tests of ecoseg/engine/classical/fragments.py: one animal in pieces stays one object."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ecoseg.engine.classical import track
from ecoseg.engine.classical.fragments import split_blob
from ecoseg.engine.classical.splitting import split_touching, tracks_in


def _striped_fish():
    """A fish-shaped blob and the mask the contrast cut keeps of it: its stripes only."""
    yy, xx = np.mgrid[:40, :90]
    body = ((yy - 20) / 12.0) ** 2 + ((xx - 40) / 30.0) ** 2 <= 1
    stripes = body & ((xx // 5) % 3 == 0)
    return body, stripes


def test_pieces_of_one_blob_stay_one_part():
    body, stripes = _striped_fish()
    # the watershed on the pieces alone cuts the animal into fragments (the old behaviour)
    assert len(split_touching(stripes)) > 1
    parts = split_blob(stripes, body, 1)
    assert len(parts) == 1
    np.testing.assert_array_equal(parts[0], stripes)


def test_touching_animals_are_still_split_and_cover_the_mask():
    yy, xx = np.mgrid[:40, :80]
    a = np.hypot(yy - 20, xx - 20) < 10
    b = np.hypot(yy - 20, xx - 39) < 10
    mask = a | b
    parts = split_blob(mask, mask, 1)
    assert len(parts) == 2
    np.testing.assert_array_equal(parts[0] | parts[1], mask)
    assert not (parts[0] & parts[1]).any()
    owners = sorted(int((p & a).sum() > (p & b).sum()) for p in parts)
    assert owners == [0, 1]
    # the same at work resolution half the video's: parts follow the blob, pixels the mask
    blob = mask[::2, ::2]
    parts = split_blob(mask, blob, 2)
    assert len(parts) == 2
    np.testing.assert_array_equal(parts[0] | parts[1], mask)
    for p in parts:
        assert max((p & a).sum(), (p & b).sum()) >= 0.9 * p.sum()


def test_small_blob_is_not_split():
    mask = np.ones((6, 6), bool)
    assert len(split_blob(mask, mask[::3, ::3], 3)) == 1


def test_tentative_track_is_not_kept_apart_from_a_confirmed_one():
    blob = np.ones((10, 10), bool)
    confirmed = SimpleNamespace(id=4)
    tentative = SimpleNamespace(id=0)
    known = [
        (confirmed, (0, 0, np.ones((5, 5), bool))),
        (tentative, (5, 5, np.ones((3, 3), bool))),
        (SimpleNamespace(id=7), (50, 50, np.ones((3, 3), bool))),  # elsewhere
    ]
    assert [x[0] for x in tracks_in(blob, 0, 0, known)] == [confirmed]
    # with no confirmed track there, tentative ones are shared out as before
    assert [x[0] for x in tracks_in(blob, 0, 0, known[1:])] == [tentative]


def test_low_contrast_parrotfish_is_one_track_at_a_time():
    # synthetic reef seed 102: its green parrotfish over algae was cut into four tracks at
    # once (MaxN 4 for one fish) before blobs were split along their connected outline
    from ecoseg.synth import make_scene, synth_frames

    scene = make_scene(102, frames=120, size=(384, 216), camera="static")
    frames = list(synth_frames(scene))
    results = list(track(np.stack([f.image for f in frames])))
    parrot = {o.id for o in scene.organisms if o.cls == "parrotfish"}
    assert len(parrot) == 1
    on_parrot: dict[int, int] = {}
    size: dict[int, int] = {}
    for f, r in zip(frames, results):
        for oid in r.object_ids.tolist():
            under = f.labels[r.labels == oid]
            size[oid] = size.get(oid, 0) + under.size
            on_parrot[oid] = on_parrot.get(oid, 0) + int(np.isin(under, list(parrot)).sum())
    tracks = [oid for oid in size if on_parrot[oid] >= 0.5 * size[oid]]
    assert tracks
    together = max(sum(oid in r.object_ids.tolist() for oid in tracks) for r in results)
    assert together == 1, f"{together} tracks of the one parrotfish in one frame"
