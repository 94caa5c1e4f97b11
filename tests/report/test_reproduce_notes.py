"""Comments under a page's reproduce steps where they cannot make the same page.

``ecoseg report STORE`` names each video after its store, so the steps of a page whose videos
were named in Python (``report({"sample": s})``, the page of ``ecoseg demo``) made a page whose
tables' ``video`` column said ``masks`` where the page said ``sample``, with no word; a comment
under the command now says so and how to get them. Likewise a calibration no spec records.
"""

from __future__ import annotations

import html

import numpy as np
from suite_helpers import labels_store

import ecoseg


def _store(path):
    labels = np.zeros((4, 24, 32), np.uint32)
    labels[:, 4:10, 6:14] = 1
    return labels_store(path, labels, {1: "fish"})


def test_names_given_in_python_are_said_under_the_report_command(tmp_path):
    store = _store(tmp_path / "masks.zarr")
    page = ecoseg.report({"sample": store}, tmp_path / "r.html", progress=False)
    text = html.unescape(page.read_text())
    assert (
        "# the page names the video sample; this command names it after its store (masks): "
        "rename the store sample.zarr, or make the page in Python with "
        'ecoseg.report({"sample": STORE})'
    ) in text


def test_names_of_the_stores_are_not_commented(tmp_path):
    store = _store(tmp_path / "masks.zarr")
    page = ecoseg.report({"masks": store}, tmp_path / "r.html", progress=False)
    assert "the page names the video" not in html.unescape(page.read_text())


def test_a_calibration_no_spec_records_is_said_under_its_measure(tmp_path):
    """``ecoseg demo`` copies its clip's ``synthetic`` calibration into its run's store; the
    steps' ``--calibration 2.5`` records it as ``scale``, so the page made again said ``2.5
    mm/px`` where the page said ``2.5 mm/px (synthetic)``, with no word."""
    from ecoseg.measure.calibration import Calibration
    from ecoseg.measure.regions import save_calibration
    from ecoseg.store import MaskStore

    path = _store(tmp_path / "masks.zarr")
    with MaskStore.open(path, mode="a") as store:
        save_calibration(store, Calibration(2.5, "synthetic"))
    page = ecoseg.report(path, tmp_path / "r.html", progress=False)
    text = html.unescape(page.read_text())
    assert "ecoseg measure " in text and "--calibration 2.5" in text
    assert (
        "# masks: its calibration 2.5 mm/px was measured as synthetic, which no --calibration "
        "records: the command above records the same mm per pixel, and the page made again "
        "shows no (synthetic)"
    ) in text
