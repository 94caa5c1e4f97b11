"""A video looked at where nothing was found counts 0, not missing: a store with frames and
no object (the motion tracker found no animal) has rows of 0 of ``unknown`` in its counts,
cover and MaxN (measure() and the campaign tables), so a study's site means count its video;
an ``annotated_frames`` entry that covers none of a store's frames is refused, naming it."""

from __future__ import annotations

import numpy as np
import pytest

import ecoseg
from ecoseg.batch import campaign_tables
from ecoseg.errors import StoreError
from ecoseg.store import MaskStore


def _store(path, objects=(), provenance=None):
    with MaskStore.create(
        path, height=4, width=5, objects=list(objects), provenance=provenance
    ) as s:
        s.append(np.zeros((3, 4, 5), np.uint32), np.arange(3) / 10.0)
        s.mark_complete()
    return str(path)


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    return _store(tmp_path_factory.mktemp("nothing") / "e.zarr")


def test_measure_gives_a_store_that_found_nothing_zero_rows(empty_store):
    # old code: counts, cover and maxn had no row, so the video dropped out of site means
    tables = ecoseg.measure(empty_store)
    assert tables["counts"][["frame", "class", "count"]].values.tolist() == [
        [0, "unknown", 0],
        [1, "unknown", 0],
        [2, "unknown", 0],
    ]
    assert tables["cover"]["cover_px"].tolist() == [0, 0, 0]
    maxn = tables["maxn"]
    assert maxn[["class", "maxn"]].values.tolist() == [["unknown", 0]]
    assert maxn["frame"].isna().all()

    from ecoseg.measure.counts import looked_for_any

    assert looked_for_any(maxn, "maxn") and looked_for_any(tables["cover"], "cover_fraction")
    assert len(tables["regions"]) == len(tables["tracks"]) == 0


def test_campaign_tables_give_it_the_same_rows(empty_store):
    tables = campaign_tables({"v": empty_store})
    assert tables["counts"][["class", "count"]].values.tolist() == [["unknown", 0]] * 3
    assert tables["cover"]["cover_px"].tolist() == [0, 0, 0]


def test_a_store_with_a_class_or_concept_keeps_only_those():
    from ecoseg.measure.counts import looked_for_classes

    assert looked_for_classes(["wrasse"]) == ["wrasse"]
    assert looked_for_classes([], {"concepts": [{"text": "grouper"}]}) == ["grouper"]
    assert looked_for_classes([]) == ["unknown"]


@pytest.mark.parametrize(
    "entry",
    [{"start": 0, "step": 1, "count": 0}, {"start": 7, "step": 1}, {"count": 1, "deleted": [0]}],
)
def test_an_annotation_of_no_frame_is_refused_naming_the_store(tmp_path, entry):
    # old code: measured as no rows at all, the video silently out of every mean
    path = _store(tmp_path / "a.zarr", [(1, "fish", "prompt")], {"annotated_frames": entry})
    match = r"a\.zarr: its provenance's annotated_frames \(start .*\) covers none of its 3 "
    with pytest.raises(StoreError, match=match):
        ecoseg.measure(path)
    with pytest.raises(StoreError, match=match):
        campaign_tables({"v": path})
