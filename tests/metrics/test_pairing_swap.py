"""ecoseg.metrics.pairing: a prediction and its truth given the wrong way round.

``evaluate PRED --truth TRUTH`` with ``ecoseg synth``'s truth (or an imported annotation) as
PRED and a run of ``ecoseg segment`` as TRUTH scored without a word: the figures were the
run's scored against the truth with recall read as precision, the run's counts as the truth's.
Now it is refused in one line naming both stores and saying to swap them; any pair whose
provenance does not say which is which (two imports, two runs, a run a person reviewed, a
store against itself) is scored as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ecoseg.cli import main
from ecoseg.errors import StoreError
from ecoseg.metrics import check_pair, evaluate, swap_note
from ecoseg.store import MaskStore

H, W, N = 24, 32, 6
VIDEO = {"path": "T1.mp4", "sha256": "a" * 64, "fps": 25.0, "width": W, "height": H, "frames": N}


def store(path, engine, *, score=1.0, shift=0, objects=None, **provenance):
    """A finished store of one fish (``shift`` px right of the truth's) made by ``engine``."""
    lab = np.zeros((N, H, W), np.uint32)
    for i in range(N):
        lab[i, 4:12, 3 + i + shift : 11 + i + shift] = 1
    prov = {"video": VIDEO, **({"engine": engine} if engine else {}), **provenance}
    objects = objects or [{"id": 1, "class": "wrasse", "source": "prompt"}]
    with MaskStore.create(path, height=H, width=W, objects=objects, provenance=prov) as s:
        s.append(lab, np.arange(N) / 25.0, scores=np.full((N, len(objects)), score, np.float32))
        s.mark_complete()
    return str(path)


IMPORTED = {"import": {"format": "cvat", "file": "task.xml"}}


@pytest.fixture
def truth(tmp_path):
    return store(tmp_path / "truth.zarr", "truth")


@pytest.fixture
def run(tmp_path):
    return store(tmp_path / "masks.zarr", "sam2", score=0.8, shift=1)


def test_a_run_given_as_the_truth_of_synth_s_truth_is_refused(truth, run):
    right = evaluate(run, truth)  # the right way round: scored
    assert right["hota"]["hota"] < 1.0
    with pytest.raises(StoreError) as refused:
        evaluate(truth, run)
    said = str(refused.value)
    assert "\n" not in said
    assert said.startswith(
        f"{truth}: given as the prediction, is the exact truth of a synthetic clip"
    )
    assert f"the truth {run} is a sam2 run nobody reviewed" in said
    assert f"swap them (evaluate {run} against the truth {truth})" in said


def test_an_imported_annotation_given_as_the_prediction_of_a_run_is_refused(tmp_path, run):
    cvat = store(tmp_path / "cvat.zarr", "import", **IMPORTED)
    assert evaluate(run, cvat)["jf"]["mean"] is not None
    with pytest.raises(StoreError, match=r"an annotation imported from cvat task\.xml, and "):
        evaluate(cvat, run)


@pytest.mark.parametrize(
    ("pred", "ref"),
    [
        ("truth", "truth"),  # a store against itself
        ("run", "run"),
        ("imported", "other import"),  # two imports: which is the truth is not recorded
        ("truth", "imported"),
        ("imported", "truth"),
        ("run", "classical run"),  # one engine against another
        ("classical run", "run"),
        ("tool output", "run"),  # imported with confidences: another tool's predictions
        ("truth", "reviewed run"),  # truth a person made by reviewing a run
        ("truth", "edited run"),
        ("truth", "napari painting"),
        ("truth", "unknown"),  # a store that records no engine
        ("imported", "reviewed run"),
    ],
)
def test_pairs_whose_provenance_does_not_say_they_are_swapped_are_scored(tmp_path, pred, ref):
    reviewed = [{"id": 1, "class": "wrasse", "class_source": "reviewed", "reviewed": True}]
    two = [{"id": 1, "class": "wrasse"}, {"id": 2, "class": "wrasse"}]
    makers = {
        "truth": lambda p: store(p, "truth"),
        "run": lambda p: store(p, "sam2", score=0.8),
        "classical run": lambda p: store(p, "classical", shift=1),
        "imported": lambda p: store(p, "import", **IMPORTED),
        "other import": lambda p: store(p, "import", shift=1, **IMPORTED),
        "tool output": lambda p: store(p, "import", score=0.6, **IMPORTED),
        "reviewed run": lambda p: store(p, "sam2", objects=reviewed),
        "edited run": lambda p: store(p, "sam2", score=0.8, objects=two),
        "napari painting": lambda p: store(p, "sam2", napari={"layer": "masks"}),
        "unknown": lambda p: store(p, None),
    }
    a = makers[pred](tmp_path / "a.zarr")
    b = a if pred == ref else makers[ref](tmp_path / "b.zarr")
    if ref == "edited run":  # a review edit in its log, no object marked reviewed
        assert main(["edit", b, "--delete", "2"]) == 0
    assert evaluate(a, b)["jf"]["mean"] is not None
    with MaskStore.open(a) as p, MaskStore.open(b) as t:
        assert swap_note(p, t) is None
    check_pair(a, b)


def test_a_set_class_alone_is_a_review(tmp_path, truth):
    """``ecoseg edit --set-class`` on a run: the store is no longer a run nobody reviewed."""
    run = store(tmp_path / "m.zarr", "classical")
    with pytest.raises(StoreError, match="a classical run nobody reviewed"):
        check_pair(truth, run)
    assert main(["edit", run, "--set-class", "1=parrotfish"]) == 0
    check_pair(truth, run)


def test_cli_evaluate_refuses_the_swap_in_one_line(truth, run, capsys):
    assert main(["evaluate", run, "--truth", truth]) == 0
    assert json.loads(capsys.readouterr().out)["hota"]["hota"] < 1.0
    assert main(["evaluate", truth, "--truth", run]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"ecoseg: error: {truth}: given as the prediction") and "swap them" in err


def test_report_refuses_the_swap_before_writing_the_page(tmp_path, truth, run, capsys):
    page = str(tmp_path / "report.html")
    assert main(["report", truth, "--truth", run, "-o", page]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"the truth {run} is a sam2 run nobody reviewed" in err
    assert not Path(page).exists()


def test_check_pair_leaves_png_folders_and_missing_stores_to_the_caller(tmp_path, run):
    from ecoseg.formats import export

    check_pair(run, export(run, "davis", tmp_path / "pngs"))
    check_pair(tmp_path / "nope.zarr", run)


def test_a_run_named_by_a_species_model_alone_is_still_a_run_nobody_reviewed(tmp_path, truth):
    """``ecoseg classify`` logs its naming in the edit log (kind ``classify``): no review."""
    from ecoseg.species._edit_log import read_meta, write_meta

    run = store(tmp_path / "m.zarr", "sam2")
    with MaskStore.open(run, mode="a") as s:
        meta = read_meta(s)
        meta["edits"] = [{"n": 1, "kind": "classify", "ids": [1], "command": 1}]
        write_meta(s, meta)
    with pytest.raises(StoreError, match="a sam2 run nobody reviewed: they look swapped"):
        check_pair(truth, run)


def classified(run: str, track: int = 1, cls: str = "parrotfish") -> None:
    """Name ``track`` of ``run`` as ``ecoseg classify`` does: one ``classify`` entry of its
    log, written by the function classify writes with."""
    from ecoseg.species._edit_writes import record_classification
    from ecoseg.species.review import open_for_edit

    guess = {"class": cls, "class_source": "classified", "class_probability": 0.9}
    with open_for_edit(run) as s:
        named = [{**o, **guess, "reviewed": False} if o["id"] == track else o for o in s.objects]
        assert record_classification(s, named, {"model_sha256": "ab" * 32}) is not None


def test_a_run_whose_classification_was_undone_is_still_a_run_nobody_reviewed(
    tmp_path, truth, capsys
):
    """``ecoseg classify`` then ``ecoseg edit --undo``: the undo entry counted as a person's
    review edit, so ``evaluate truth.zarr --truth run.zarr`` was scored, not refused as
    swapped. An edit undone is one the store no longer holds."""
    run = store(tmp_path / "m.zarr", "sam2")
    objects = MaskStore.open(run).objects
    classified(run)
    with pytest.raises(StoreError, match="a sam2 run nobody reviewed: they look swapped"):
        check_pair(truth, run)
    assert main(["edit", run, "--undo"]) == 0
    assert MaskStore.open(run).objects == objects
    with pytest.raises(StoreError, match="a sam2 run nobody reviewed: they look swapped"):
        check_pair(truth, run)
    capsys.readouterr()
    assert main(["evaluate", truth, "--truth", run]) == 2
    assert "they look swapped" in capsys.readouterr().err


def test_a_person_s_review_counts_until_it_is_undone(tmp_path, truth):
    """``--reviewed ID`` makes a run a person reviewed (scored as given); its undo takes the
    review back (refused as swapped again), also after a classification, whose undo leaves
    the person's review standing."""
    two = [{"id": 1, "class": "wrasse", "source": "prompt"}, {"id": 2, "class": "unknown"}]
    run = store(tmp_path / "m.zarr", "sam2", objects=two)
    assert main(["edit", run, "--reviewed", "1"]) == 0
    check_pair(truth, run)  # reviewed: the truth a review makes
    assert main(["edit", run, "--undo"]) == 0
    with pytest.raises(StoreError, match="a sam2 run nobody reviewed"):
        check_pair(truth, run)
    assert main(["edit", run, "--set-class", "1=wrasse"]) == 0
    classified(run, 2, "damselfish")  # the other track, a model's naming
    assert main(["edit", run, "--undo"]) == 0  # takes back the classification only
    check_pair(truth, run)
    classified(run, 2, "damselfish")
    assert main(["edit", run, "--undo", "--undo"]) == 0  # ... then the person's edit
    with pytest.raises(StoreError, match="a sam2 run nobody reviewed"):
        check_pair(truth, run)
