"""A SAM 3 concept looked for and never found has its rows: counts and MaxN of 0 (looked
for, not seen), in measure(), the campaign tables and the report's MaxN table, not a missing
row that the report shows as '–' (not looked for) and leaves out of site means."""

from __future__ import annotations

import numpy as np
import pytest
from suite_helpers import page_table

import ecoseg
from ecoseg.batch import campaign_tables
from ecoseg.measure.counts import concept_classes
from ecoseg.report import report
from ecoseg.store import MaskStore

PROMPTS = {
    "concepts": [
        {"text": "parrotfish"},
        {"text": "sea  urchin"},  # stored as typed; its tracks would be 'sea urchin'
        {"exemplars": [{"frame": 0, "box": [0, 0, 2, 2], "label": 1}]},  # 'visual'
    ]
}


@pytest.fixture(scope="module")
def concept_store(tmp_path_factory):
    """Two parrotfish found on 5 frames; nothing of the other two concepts."""
    path = tmp_path_factory.mktemp("concepts") / "c.zarr"
    lab = np.zeros((5, 12, 12), np.uint32)
    lab[:, 1:3, 1:3] = 1
    lab[2:, 6:9, 6:9] = 2
    objects = [{"id": i, "class": "parrotfish", "source": "concept"} for i in (1, 2)]
    prov = {"engine": "sam3-concepts", "prompts": PROMPTS, "video": {"fps": 10.0}}
    with MaskStore.create(path, height=12, width=12, objects=objects, provenance=prov) as st:
        st.append(lab, np.arange(5) / 10.0)
        st.mark_complete()
    return str(path)


def test_concept_classes_are_the_classes_the_tracks_would_get():
    assert concept_classes(PROMPTS) == ["parrotfish", "sea urchin", "visual"]


def _zero_rows(tables):
    maxn = tables["maxn"].set_index("class")["maxn"].to_dict()
    assert maxn == {"parrotfish": 2, "sea urchin": 0, "visual": 0}
    counts = tables["counts"]
    for name in ("sea urchin", "visual"):
        assert counts.loc[counts["class"] == name, "count"].tolist() == [0] * 5


def test_measure_gives_a_concept_not_found_counts_and_maxn_of_zero(concept_store):
    tables = ecoseg.measure(concept_store, progress=False)
    _zero_rows(tables)
    cover = tables["cover"]
    assert cover.loc[cover["class"] == "visual", "cover_px"].tolist() == [0] * 5


def test_campaign_tables_give_it_the_same_zero_rows(concept_store):
    tables = campaign_tables({"v": concept_store})
    counts = tables["counts"]
    for name in ("sea urchin", "visual"):
        assert counts.loc[counts["class"] == name, "count"].tolist() == [0] * 5


def test_the_report_shows_zero_not_a_dash(concept_store, tmp_path):
    out = report([concept_store], tmp_path / "r.html")
    shown = page_table(open(out, encoding="utf-8").read(), "maxn-table")
    row = shown.iloc[0]
    assert row["sea urchin"] == "0" and row["visual"] == "0"


@pytest.fixture(scope="module")
def empty_tracker_store(tmp_path_factory):
    """A motion-tracker run that found nothing on its 4 frames: no object at all."""
    path = tmp_path_factory.mktemp("empty") / "e.zarr"
    prov = {"engine": "classical", "video": {"fps": 10.0}}
    with MaskStore.create(path, height=8, width=8, objects=[], provenance=prov) as st:
        st.append(np.zeros((4, 8, 8), np.uint32), np.arange(4) / 10.0)
        st.mark_complete()
    return str(path)


def test_a_tracker_run_that_found_nothing_counts_unknown_as_zero(empty_tracker_store, tmp_path):
    # it looked for every moving animal (what it finds is 'unknown' until named) and saw none:
    # a MaxN of 0, not no rows, which the report showed as '-' and left out of site means
    tables = ecoseg.measure(empty_tracker_store, progress=False)
    assert tables["maxn"][["class", "maxn"]].to_dict("records") == [{"class": "unknown", "maxn": 0}]
    assert tables["counts"]["count"].tolist() == [0] * 4
    assert tables["cover"]["cover_px"].tolist() == [0] * 4
    campaign = campaign_tables({"v": empty_tracker_store})
    assert campaign["counts"]["count"].tolist() == [0] * 4
    out = report([empty_tracker_store], tmp_path / "r.html")
    shown = page_table(open(out, encoding="utf-8").read(), "maxn-table")
    assert shown.iloc[0]["unknown"] == "0"


def test_a_concept_whose_tracks_were_respelled_has_no_row_of_zero(tmp_path):
    """A concept's tracks renamed in another letter case (``ecoseg edit --set-class
    1='Parrotfish' --set-class 2='Parrotfish'``, the way ecoseg edit respells a name) gave the
    concept a row of 0 beside them: 'Parrotfish' 2 and 'parrotfish' 0, one species read as a
    second one looked for and not seen."""
    path = tmp_path / "respelled.zarr"
    lab = np.zeros((3, 8, 8), np.uint32)
    lab[:, 1:3, 1:3] = 1
    lab[:, 5:7, 5:7] = 2
    objects = [
        {"id": i, "class": "Parrotfish", "source": "concept", "class_source": "reviewed"}
        for i in (1, 2)
    ]
    prompts = {"concepts": [{"text": "parrotfish"}, {"text": "grouper"}]}
    prov = {"engine": "sam3-concepts", "prompts": prompts, "video": {"fps": 10.0}}
    with MaskStore.create(path, height=8, width=8, objects=objects, provenance=prov) as st:
        st.append(lab, np.arange(3) / 10.0)
        st.mark_complete()
    tables = ecoseg.measure(str(path), progress=False)
    assert tables["maxn"].set_index("class")["maxn"].to_dict() == {"Parrotfish": 2, "grouper": 0}
    assert sorted(set(tables["counts"]["class"])) == ["Parrotfish", "grouper"]
    assert sorted(set(campaign_tables({"v": str(path)})["counts"]["class"])) == [
        "Parrotfish",
        "grouper",
    ]
