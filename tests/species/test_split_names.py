"""A split's new part is another animal: a name a person gave the track (reviewed, typed with
its prompt, a concept's) is only its ``class_suggestion``, so MaxN counts it as ``unknown``
and ``classify`` names it; an old edit log whose splits kept the name is replayed as it
was (``--unchecked-split``)."""

import shlex

import numpy as np
from species_helpers import kill_9_editing, tracker_store

import ecoseg
from ecoseg.cli import main
from ecoseg.report.reproduce import review_steps
from ecoseg.species import apply_edits, edit_log
from ecoseg.species.edits import Edit
from ecoseg.species.review import refused_merges, refused_reviews, unchecked_splits
from ecoseg.store import MaskStore

#: Track 1 (frames 0-11) typed 'wrasse' with its prompt, track 2 (frames 0-7) a concept's
#: 'parrotfish' (its detection score 0.8), track 3 (frames 6-11) a concept of exemplars alone.
OBJECTS = [
    {"id": 1, "class": "wrasse", "source": "prompt", "class_source": "prompt"},
    {
        "id": 2,
        "class": "parrotfish",
        "source": "concept",
        "class_source": "concept",
        "class_probability": 0.8,
    },
    {"id": 3, "class": "visual", "source": "concept", "class_source": "concept"},
]
#: The tracker went on to another animal: track 1 at frame 6, track 2 at frame 4 (new ids 4, 5).
SPLITS = [Edit("split", (1,), frame=6), Edit("split", (2,), frame=4)]
SPLIT_REVIEWED = Edit("split", (3,), frame=9)  # once track 3 is named 'sea_star' (new id 6)


def named_store(path):
    """:func:`tracker_store`'s labels and scores, its tracks named as :data:`OBJECTS`."""
    labels, scores = tracker_store(path.with_name(path.name + ".tracker"))
    with MaskStore.create(path, height=24, width=32, chunk_frames=4, objects=OBJECTS) as s:
        s.append(labels, np.arange(len(labels)) * 0.1, scores=scores)
        s.mark_complete()
    return path


def maxn(path) -> dict[str, int]:
    table = ecoseg.measure(path)["maxn"]
    return dict(zip(table["class"], table["maxn"].tolist()))


def objects(path) -> dict[int, dict]:
    return {o["id"]: o for o in MaskStore.open(path).objects}


def test_the_new_part_of_a_prompt_or_concept_track_is_counted_as_unknown(tmp_path):
    """Both new parts were counted as their track's species (no unknown in MaxN); they are
    two animals nobody named, present together on frames 6-7."""
    path = named_store(tmp_path / "m.zarr")
    assert maxn(path) == {"parrotfish": 1, "visual": 1, "wrasse": 1}
    apply_edits(path, SPLITS)
    assert maxn(path) == {"parrotfish": 1, "visual": 1, "wrasse": 1, "unknown": 2}
    new = objects(path)
    assert [new[i]["class_suggestion"] for i in (4, 5)] == ["wrasse", "parrotfish"]
    assert new[1]["class"] == "wrasse" and new[2]["class_probability"] == 0.8


def test_an_old_log_whose_splits_kept_the_names_is_replayed_as_it_was(tmp_path, monkeypatch):
    """A store split by an ecoseg whose splits kept the name: its report's steps replay
    them with ``--unchecked-split`` (with ``--split`` the tables would silently count the
    new parts as unknown), and the store made again has the same tables."""
    import ecoseg.species.edits

    old, again = named_store(tmp_path / "old.zarr"), named_store(tmp_path / "again.zarr")
    with monkeypatch.context() as before:  # the split as ecoseg made it then
        before.setattr(ecoseg.species.edits, "named_by_person", lambda obj: False)
        # a reviewed track's split too (its new part kept the name before the prompt's did)
        apply_edits(old, [*SPLITS, Edit("set_class", (3,), cls="sea_star"), SPLIT_REVIEWED])
    assert unchecked_splits(old) == [1, 2, 4]
    steps = review_steps(
        str(again), edit_log(old), unchecked_splits(old), refused_merges(old), refused_reviews(old)
    )
    assert steps == [
        f"ecoseg edit {again} --unchecked-split 1@6 --unchecked-split 2@4 --set-class 3=sea_star "
        "--unchecked-split 3@9"
    ]
    assert main(shlex.split(steps[0])[1:]) == 0
    assert objects(again) == objects(old)
    assert maxn(again) == maxn(old) == {"parrotfish": 1, "sea_star": 1, "wrasse": 1}
    np.testing.assert_array_equal(
        MaskStore.open(again).read_labels(), MaskStore.open(old).read_labels()
    )
    # a split of today is replayed as a split
    today = named_store(tmp_path / "today.zarr")
    apply_edits(today, [*SPLITS, Edit("set_class", (3,), cls="sea_star"), SPLIT_REVIEWED])
    assert unchecked_splits(today) == []


def test_a_killed_unchecked_split_of_a_named_track_is_completed_keeping_the_name(tmp_path):
    """Completing the split from its backup made it as today's split (its log entry is the
    old split's, which does not say it was unchecked): the new part lost the name."""
    command = [Edit("split", (1,), frame=6, unchecked=True)]
    path, ref = named_store(tmp_path / "m.zarr"), named_store(tmp_path / "ref.zarr")
    apply_edits(ref, command)
    assert objects(ref)[4]["class"] == "wrasse"
    kill_9_editing(path, command, "write_meta", 1)  # its intent written, nothing rewritten
    assert edit_log(path) == []
    assert main(["edit", str(path), "--resume"]) == 0
    assert objects(path) == objects(ref)
