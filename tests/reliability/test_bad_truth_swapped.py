"""A prediction and its truth given the wrong way round.

``ecoseg evaluate truth.zarr --truth masks.zarr`` (``ecoseg synth``'s truth, or a CVAT
annotation imported onto the clip, as the prediction; a run of ``ecoseg segment`` as its truth)
exited 0 with the figures of the same masks read backwards (recall as precision, the run's
counts as the truth's), and ``ecoseg report`` put them on the page. Both now refuse in one line
naming both stores and saying to swap them, exit 2, and nothing written.
"""

from __future__ import annotations

import json
import warnings

import pytest
from reliability_helpers import assert_one_line_error

pytestmark = pytest.mark.bad_input


@pytest.fixture(scope="module")
def run(clip, tmp_path_factory):
    """The clip's classical run: a store nobody reviewed."""
    import ecoseg

    out = tmp_path_factory.mktemp("run") / "masks.zarr"
    return str(ecoseg.segment(clip.video, out=out, engine="classical", progress=False))


def _annotation(kind, clip, tmp_path):
    if kind == "synth truth":
        return str(clip.truth)
    from ecoseg.formats import export, import_annotations

    xml = export(clip.truth, "cvat", tmp_path / "task.xml")
    return str(import_annotations(xml, "cvat", clip.video, tmp_path / "cvat.zarr"))


@pytest.mark.parametrize("kind", ["synth truth", "cvat import"])
def test_evaluate_refuses_an_annotation_given_as_the_prediction(kind, clip, run, tmp_path, cli):
    truth = _annotation(kind, clip, tmp_path)
    assert cli("evaluate", run, "--truth", truth)[0] == 0  # the right way round
    out = tmp_path / "eval.json"
    code, text, err = cli("evaluate", truth, "--truth", run, "-o", out)
    line = assert_one_line_error(
        code, err, f"{truth}: given as the prediction", "they look swapped"
    )
    assert f"the truth {run} is a classical run nobody reviewed" in line
    assert f"swap them (evaluate {run} against the truth {truth})" in line
    assert text == "" and not out.exists()


def test_report_refuses_a_truth_swapped_with_its_store(clip, run, tmp_path, cli):
    page = tmp_path / "report.html"
    code, _, err = cli("report", clip.truth, "--truth", run, "-o", page)
    assert_one_line_error(code, err, str(clip.truth), run, "they look swapped; swap them")
    assert not page.exists()


def test_evaluate_warns_of_a_store_scored_against_itself(clip, tmp_path, cli):
    """``ecoseg evaluate masks.zarr --truth masks.zarr`` (a wrong path, most likely) exited 0
    with perfect scores and no word. Scored still (a sanity check), with one warning line
    naming the store; so for the same files under another name (a link), not for a copy."""
    import os
    import shutil

    import ecoseg
    from ecoseg.metrics import SameStoreWarning

    store = str(clip.truth)

    code, text, err = cli("evaluate", store, "--truth", store, "--quiet")
    assert code == 0 and json.loads(text)["jf"]["mean"] == 1.0
    assert err.splitlines() == [
        f"ecoseg: warning: {store}: scored against itself (the truth is the same store): every "
        "score is perfect and says nothing; was another truth store meant?"
    ]
    link = tmp_path / "link.zarr"
    os.symlink(store, link)
    with pytest.warns(SameStoreWarning, match=f"the truth {link} is the same store"):
        assert ecoseg.evaluate(store, link)["jf"]["mean"] == 1.0
    copy = tmp_path / "copy.zarr"
    shutil.copytree(store, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # another store with the same masks: not a word
        ecoseg.evaluate(copy, store)
