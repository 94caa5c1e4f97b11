"""``ecoseg classify STORE`` then ``ecoseg edit STORE --undo`` leaves the store as it was.

The undo gave the object table back, but the log's ``undo`` entry counted as a person's review
edit: ``ecoseg info`` said ``2 edits`` where it had said ``no edits``, and ``ecoseg evaluate
truth.zarr --truth run.zarr`` (the two swapped) scored the run as a truth a person reviewed
instead of refusing the pair. An edit undone is one the store no longer holds: not a review,
not counted (``ecoseg.species._edit_log.person_edits``, ``standing_edits``).
"""

from __future__ import annotations

import json

import pytest
from suite_helpers import fit_species_model

import ecoseg
from ecoseg.cli import main
from ecoseg.info import summary
from ecoseg.measure import measure
from ecoseg.store import MaskStore

SIZE = (160, 96)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return fit_species_model(tmp_path_factory.mktemp("model"), frames=12, size=SIZE)


@pytest.fixture
def clip(tmp_path):
    return ecoseg.synth(tmp_path / "clip", seed=3, frames=12, size=SIZE)


def unnamed_run(clip, path):
    """The clip's masks as a SAM 2 run leaves them: every track ``unknown``, nobody reviewed."""
    t = MaskStore.open(clip.truth)
    objects = [{"id": o["id"], "class": "unknown", "source": "prompt"} for o in t.objects]
    with MaskStore.create(
        path,
        height=t.height,
        width=t.width,
        chunk_frames=t.chunk_frames,
        objects=objects,
        provenance={**t.provenance, "engine": "sam2"},
        calibration=t.calibration,
    ) as s:
        s.append(t.read_labels(), t.read_time())
        s.mark_complete()
    return str(path)


def what_it_reads(store):
    """What the readers of "was it reviewed" see: the object records, ``ecoseg info`` (text
    and JSON) and the tracks table's class columns (the report's species table, napari's)."""
    tracks = measure(store)["tracks"]
    return (
        MaskStore.open(store).objects,
        summary(store).lines(),
        json.dumps(summary(store).to_dict(), sort_keys=True),
        tracks[["object_id", "class", "class_source"]].to_dict("records"),
    )


def test_classify_then_undo_reads_as_before_and_is_still_a_run_nobody_reviewed(
    clip, model, tmp_path, capsys
):
    run = unnamed_run(clip, tmp_path / "run.zarr")
    truth, video = str(clip.truth), str(clip.video)
    before = what_it_reads(run)
    assert "  review       no edits, 0 of 8 objects reviewed" in before[1]
    assert main(["evaluate", truth, "--truth", run]) == 2  # swapped: refused
    assert "they look swapped" in capsys.readouterr().err
    assert main(["classify", run, "--model", str(model), "--video", video]) == 0
    named = what_it_reads(run)
    assert named[0] != before[0] and "  review       1 edit, 0 of 8 objects reviewed" in named[1]
    assert main(["edit", run, "--undo"]) == 0
    capsys.readouterr()
    assert what_it_reads(run) == before  # it said "2 edits"
    assert main(["evaluate", truth, "--truth", run]) == 2  # it was scored
    out, err = capsys.readouterr()
    assert out == "" and f"the truth {run} is a sam2 run nobody reviewed" in err


def test_a_person_s_review_counts_and_its_undo_takes_it_back(clip, tmp_path, capsys):
    run = unnamed_run(clip, tmp_path / "run.zarr")
    truth = str(clip.truth)
    before = what_it_reads(run)
    assert main(["edit", run, "--set-class", "1=parrotfish", "--reviewed", "2"]) == 0
    text = "\n".join(summary(run).lines())
    assert "  review       2 edits, 2 of 8 objects reviewed" in text
    assert main(["evaluate", truth, "--truth", run]) == 0  # a person's truth: scored
    capsys.readouterr()
    assert main(["edit", run, "--undo"]) == 0  # the command: both edits
    assert what_it_reads(run) == before
    assert main(["evaluate", truth, "--truth", run]) == 2
    assert "nobody reviewed: they look swapped" in capsys.readouterr().err
