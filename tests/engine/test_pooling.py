"""Mask-pooled embeddings: the pooling (ecoseg/engine/pooling.py), and the SAM 2 engine
storing one mean vector per object (ecoseg/store/embeddings.py) that species features read."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_helpers import SEGMENT, prompts, segment_cancelled, small_clip

from ecoseg.engine.pooling import mask_pooled

pytestmark = pytest.mark.filterwarnings("ignore:cannot import name '_C':UserWarning")

#: a random-weight network keeps masks on prompted frames only: prompt several
SEVERAL = dict(click_frames=(2, 5, 7, 10), box_frames=(4, 9))


def test_mask_pooled_is_the_mean_of_the_features_inside_the_mask():
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(5, 4, 4, generator=g)
    logits = torch.randn(3, 1, 16, 16, generator=g)
    logits[2] = -1.0  # an empty mask
    got = mask_pooled(feats, logits)
    up = feats.repeat_interleave(4, 1).repeat_interleave(4, 2)  # features per mask pixel
    for i in range(2):
        m = logits[i, 0] > 0
        assert torch.allclose(got[i], up[:, m].mean(dim=1), atol=1e-5)
    assert torch.isnan(got[2]).all()


@pytest.fixture(scope="module")
def synth_clip(tmp_path_factory):
    return small_clip(tmp_path_factory.mktemp("pool"), frames=12)


def test_segment_stores_one_mean_embedding_per_object_and_resume_adds_to_it(synth_clip, tmp_path):
    import ecoseg
    from ecoseg.species.features import FEATURE_NAMES, track_features
    from ecoseg.store import MaskStore
    from ecoseg.store.embeddings import EMBEDDINGS_KEY, read_embeddings

    torch.manual_seed(0)
    full = ecoseg.segment(
        synth_clip.video, prompts(**SEVERAL), out=tmp_path / "full.zarr", progress=False, **SEGMENT
    )
    store = MaskStore.open(full)
    table = read_embeddings(store)
    assert table is not None and store.group[EMBEDDINGS_KEY].dtype == np.float16
    present = set(np.unique(store.read_labels()).tolist()) - {0}
    assert set(table.ids.tolist()) == present and present
    labels = store.read_labels()
    for i, n in zip(table.ids.tolist(), table.frames.tolist()):
        assert n == int((labels == i).any(axis=(1, 2)).sum())  # the frames the object is in
    assert table.values.shape[1] == 256 and np.isfinite(table.values).all()
    assert table.frames.sum() >= 3

    # a cancelled run resumed stores the same means (the frames of both runs together)
    out = tmp_path / "cut.zarr"
    torch.manual_seed(0)
    segment_cancelled(synth_clip.video, prompts(**SEVERAL), out, 8, resume_every=3, **SEGMENT)
    part = read_embeddings(MaskStore.open(out))  # the frames written before the cancel
    assert part is not None and part.frames.sum() < table.frames.sum()
    torch.manual_seed(0)
    ecoseg.segment(
        synth_clip.video, prompts(**SEVERAL), out=out, progress=False, resume=True, **SEGMENT
    )
    resumed = read_embeddings(MaskStore.open(out))
    assert resumed.ids.tolist() == table.ids.tolist()
    assert resumed.frames.tolist() == table.frames.tolist()
    np.testing.assert_allclose(resumed.values, table.values, rtol=2e-3, atol=2e-3)

    # the species features of the store end with the embeddings of the tracks
    feats = track_features(full, synth_clip.video)
    assert feats.names[len(FEATURE_NAMES) :] == tuple(f"emb_{k}" for k in range(256))
    for k, i in enumerate(feats.ids.tolist()):
        if i in table.ids.tolist():
            row = table.values[table.ids.tolist().index(i)]
            assert np.allclose(feats.values[k, len(FEATURE_NAMES) :], row)
    assert set(feats.ids.tolist()) == present
    assert "labels" in ecoseg.open_masks(full)  # the xarray view is not disturbed
