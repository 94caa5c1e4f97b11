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
from ecoseg.measure.calibration import Calibration
from ecoseg.species import edit_log
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
    assert "  review       no edits, 0 of 7 objects reviewed" in before[1]
    assert main(["evaluate", truth, "--truth", run]) == 2  # swapped: refused
    assert "they look swapped" in capsys.readouterr().err
    assert main(["classify", run, "--model", str(model), "--video", video]) == 0
    named = what_it_reads(run)
    assert named[0] != before[0] and "  review       1 edit, 0 of 7 objects reviewed" in named[1]
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
    assert main(["edit", run, "--set-class", "1=parrotfish", "--reviewed", "3"]) == 0
    text = "\n".join(summary(run).lines())
    assert "  review       2 edits, 2 of 7 objects reviewed" in text
    assert main(["evaluate", truth, "--truth", run]) == 0  # a person's truth: scored
    capsys.readouterr()
    assert main(["edit", run, "--undo"]) == 0  # the command: both edits
    assert what_it_reads(run) == before
    assert main(["evaluate", truth, "--truth", run]) == 2
    assert "nobody reviewed: they look swapped" in capsys.readouterr().err


def attrs_but_the_log(store):
    """The store's metadata (object table, calibration, classification record) but its log."""
    meta = MaskStore.open(store).attrs["ecoseg"]
    return json.dumps({k: v for k, v in meta.items() if k != "edits"}, sort_keys=True)


def test_undo_of_a_classify_with_a_calibration_gives_the_calibration_back_and_says_so(
    clip, model, tmp_path, capsys
):
    """``classify --calibration`` saves the calibration into the store; its ``--undo`` gave
    the tracks their classes back but left the calibration (and the sizes measured with it)
    as the classify had saved it, and said only ``undid edit 1 (classify [1, 2, ...])``."""
    run = unnamed_run(clip, tmp_path / "run.zarr")
    before, cal = attrs_but_the_log(run), MaskStore.open(run).calibration
    args = ["classify", run, "--model", str(model), "--video", str(clip.video)]
    assert main([*args, "--calibration", "20", "--threshold", "0"]) == 0
    assert MaskStore.open(run).calibration == {"mm_per_px": 20.0, "method": "scale"} != cal
    capsys.readouterr()
    assert main(["edit", run, "--undo"]) == 0
    out = capsys.readouterr().out.strip()
    assert attrs_but_the_log(run) == before  # classes, sources, probabilities, calibration
    n = len(edit_log(run)[0]["ids"])  # the tracks present in the clip's frames
    assert out == (
        f"edit 2: undid edit 1: classify of {n} tracks by model {model} (sha256 "
        f"{json.loads(model.read_text())['sha256'][:12]}) (was: {n} unknown); calibration back "
        f"to {Calibration.from_dict(cal)}"
    )
    assert str(Calibration.from_dict(cal)).endswith(" mm/px (synthetic)")


def test_a_calibration_saved_since_the_classify_is_kept_by_its_undo(clip, model, tmp_path, capsys):
    """A calibration ``ecoseg measure --calibration`` saved after the classify is not the
    classify's to take back: the undo keeps it, and says so."""
    run = unnamed_run(clip, tmp_path / "run.zarr")
    args = ["classify", run, "--model", str(model), "--video", str(clip.video)]
    assert main([*args, "--calibration", "20"]) == 0
    assert main(["measure", run, "-o", str(tmp_path / "tables"), "--calibration", "30"]) == 0
    capsys.readouterr()
    assert main(["edit", run, "--undo"]) == 0
    out = capsys.readouterr().out.strip()
    assert MaskStore.open(run).calibration["mm_per_px"] == 30.0
    assert out.endswith("; the calibration it saved was replaced since, and is kept"), out


def test_a_classify_that_changes_only_the_calibration_is_an_undoable_edit(tmp_path):
    """A classification that names no track differently but saves another calibration left
    no log entry, so no ``--undo`` could take the calibration back (the next one took back
    the edit before it)."""
    from species_helpers import small_store

    from ecoseg.species import Review
    from ecoseg.species.review import open_for_edit, read_meta, record_classification

    path = tmp_path / "m.zarr"
    small_store(path)
    with open_for_edit(path) as s:
        objects = read_meta(s)["objects"]
        assert record_classification(s, objects, {"model_sha256": "ab" * 32}) is None
        s.calibration = {"mm_per_px": 0.5, "method": "scale"}  # as classify saves its own
        entry = record_classification(s, objects, {"model_sha256": "ab" * 32}, None)
    assert entry is not None and entry["ids"] == [] and edit_log(path)[-1] == entry
    Review(path).undo()
    assert MaskStore.open(path).calibration is None


def test_a_classify_that_saved_only_the_calibration_says_no_track_changed(
    clip, model, tmp_path, capsys
):
    """A classify whose one change was the calibration it saved (every track reviewed: none
    to name) printed ``N tracks`` as if it had named them; it says no track changed and the
    calibration was saved (its entry names no track)."""
    from ecoseg.species import Edit, apply_edits

    run = unnamed_run(clip, tmp_path / "run.zarr")
    ids = [o["id"] for o in MaskStore.open(run).objects]
    apply_edits(run, [Edit("reviewed", (i,)) for i in ids])
    capsys.readouterr()
    args = ["classify", run, "--model", str(model), "--video", str(clip.video)]
    assert main([*args, "--calibration", "20"]) == 0
    out = capsys.readouterr().out
    assert edit_log(run)[-1]["kind"] == "classify" and edit_log(run)[-1]["ids"] == []
    said = "tracks, none changed; the calibration was saved (an edit: --undo takes it back)\n"
    assert out.startswith(f"{run}: ") and out.splitlines(True)[0].endswith(said), out
    assert main([*args, "--calibration", "20"]) == 0  # again: nothing at all changes
    assert "tracks, none changed (no edit recorded)\n" in capsys.readouterr().out
