"""Helpers of the napari tests that drive the *Segment & track* widget (this folder is on
``sys.path`` while its tests run, as each area's folder is, so they import it as
``napari_helpers``; helpers of several areas are in ``tests/suite_helpers.py``)."""

from __future__ import annotations

import numpy as np

#: (t, y, x): a parrotfish of the bundled sample video on frame 0 (in video pixels), to click
SAMPLE_FISH = (0, 158, 330)


def wait_done(qtbot, w, timeout=120_000) -> None:
    """Wait for the run of the *Segment & track* widget ``w`` to end; it must not have
    failed (its status line names the error)."""
    qtbot.waitUntil(lambda: w._worker is None, timeout=timeout)
    assert not w.status.text().startswith("error"), w.status.text()


def random_sam2(w, until: int) -> None:
    """Set the *Segment & track* widget ``w`` to SAM 2 with random weights at 128 px on the
    CPU, tracking to frame ``until`` (-1: the end of the video)."""
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam2"))
    w.random_check.setChecked(True)
    w.size_spin.setValue(128)
    w.device_combo.setCurrentIndex(w.device_combo.findData("cpu"))
    w.until_spin.setValue(until)


def click(w, where, object_id=1, cls="parrotfish", positive=True):
    """A click at ``where`` (t, y, x) on object ``object_id`` of class ``cls`` in the clicks
    layer of the *Segment & track* widget ``w`` (made if missing), as a click in "add" mode
    makes it; returns the layer."""
    points, _ = w.add_prompt_layers()
    w.object_spin.setValue(object_id)
    w.class_edit.setText(cls)
    w.negative_check.setChecked(not positive)
    points.add(np.array([where], float))
    return points


def random_sam3_job(video, **settings):
    """A SAM 3 job of the widget on ``video``: the reduced network with random weights at
    112 px on the CPU, finding "parrotfish" under settings that start tracks
    (``random_concept_params(4)``); ``settings`` are further :class:`Job` fields."""
    from suite_helpers import random_concept_params

    from ecoseg.napari._jobs import Job
    from ecoseg.prompts import Concept

    return Job(
        str(video),
        engine="sam3",
        model="sam3-reduced",
        pretrained=False,
        image_size=112,
        device="cpu",
        concepts=(Concept("parrotfish"),),
        params=random_concept_params(4),
        **settings,
    )
