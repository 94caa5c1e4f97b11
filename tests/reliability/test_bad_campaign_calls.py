"""Bad arguments to the campaign helpers from a notebook (``campaign_scores``,
``campaign_tables``, ``store_names``): a list where a dict of video names is wanted, one path
for the list, names that do not meet. One line naming the argument, never a ``TypeError`` from
inside or an empty table without a word."""

from __future__ import annotations

import pytest
from reliability_helpers import assert_names

from ecoseg.batch import campaign_tables
from ecoseg.batch.names import store_names
from ecoseg.batch.scores import campaign_scores
from ecoseg.errors import ConfigError

pytestmark = pytest.mark.bad_input


@pytest.mark.parametrize("form", ["list", "path"])
def test_campaign_scores_names_stores_that_are_no_dict(clip, form):
    # a list: "list indices must be integers or slices, not str"; a path: "string indices ..."
    given = [str(clip.truth)] if form == "list" else str(clip.truth)
    with pytest.raises(ConfigError) as exc:
        campaign_scores(given, {"T1": clip.truth})
    assert_names(exc, "campaign_scores: stores must be a dict of video name to store", "got ")


def test_campaign_scores_names_truths_that_name_no_video(clip):
    # truths under other names than the stores': an empty table, without a word
    with pytest.raises(ConfigError) as exc:
        campaign_scores({"T1": clip.truth}, {"t1": clip.truth})
    assert_names(exc, "no video has both a store and a truth", "['T1']", "['t1']")


def test_campaign_tables_names_no_stores():
    # pandas' "No objects to concatenate"
    with pytest.raises(ConfigError) as exc:
        campaign_tables([])
    assert_names(exc, "campaign_tables: no stores given")


def test_store_names_names_one_video_given_for_the_list(clip, tmp_path):
    # its letters were the videos: "/: cannot name a store after it ('')"
    with pytest.raises(ConfigError) as exc:
        store_names(str(clip.video), tmp_path)
    assert_names(exc, "videos must be a list of videos", f"videos=[{str(clip.video)!r}]")
