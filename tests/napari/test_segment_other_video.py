"""Segment & track never mixes two videos in its ``ecoseg masks`` layer: with another video
of the same size chosen, *Track* starts a layer of that video and *Re-track* is refused in one
line naming the layer and both videos (was: the first video's layer was reused, keeping its
video in the metadata a saved store records, and re-tracked from on the other footage)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

import ecoseg  # noqa: E402


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two different clips of one size and length."""
    root = tmp_path_factory.mktemp("clips")
    return [
        ecoseg.synth(root / name, seed=seed, frames=6, size=(64, 48))
        for name, seed in (("a", 1), ("b", 2))
    ]


@pytest.fixture
def widget(make_napari_viewer, qtbot, clips):
    """The widget, both clips open as video layers, the first one's masks tracked."""
    from ecoseg.napari._segment import SegmentWidget

    viewer = make_napari_viewer()
    for clip in clips:
        viewer.open(str(clip.video), plugin="ecoseg")
    w = SegmentWidget(viewer)
    viewer.window.add_dock_widget(w)
    _choose(w, clips[0])
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.run()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert w.status.text().startswith("done"), w.status.text()
    yield w
    if w._worker is not None:  # never leave a worker running into the next test
        w.cancel()
        qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)


def _choose(w, clip) -> None:
    """Choose the video layer of ``clip`` in the widget's *video* box."""
    (name,) = [
        layer.name
        for layer in w.viewer.layers
        if layer.metadata.get("ecoseg", {}).get("video") == str(clip.video)
    ]
    w.video_combo.setCurrentText(name)
    assert w.video_layer().name == name


def _made_on(layer) -> str:
    return layer.metadata["ecoseg"]["provenance"]["video"]["path"]


def test_track_on_another_video_makes_a_layer_of_that_video(widget, qtbot, clips, tmp_path):
    w = widget
    a, b = clips
    assert _made_on(w.viewer.layers["ecoseg masks"]) == str(a.video)
    _choose(w, b)
    w.run()
    qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)
    assert w.status.text().startswith("done"), w.status.text()
    masks = w.viewer.layers["ecoseg masks"]
    assert _made_on(masks) == str(b.video)
    # and a store saved from it records the video it was tracked on
    saved = masks.save(str(tmp_path / "b.zarr"), plugin="ecoseg")[0]
    assert ecoseg.open_masks(saved).attrs["provenance"]["video"]["path"] == str(b.video)


def test_retrack_on_another_video_is_refused_naming_both(widget, clips):
    w = widget
    a, b = clips
    masks = w.viewer.layers["ecoseg masks"]
    masks.data[2, 10:20, 10:30] = 1  # a correction painted on frame 2 of the first clip
    before = np.asarray(masks.data).copy()
    _choose(w, b)
    w.viewer.dims.set_current_step(0, 2)
    w.retrack()
    assert w.status.text() == (
        f"error: 'ecoseg masks' holds masks of {a.video}, not of the chosen video {b.video}: "
        "choose that video, or press Track to track this one from the start"
    )
    assert w._worker is None
    np.testing.assert_array_equal(np.asarray(masks.data), before)  # nothing touched
    assert _made_on(masks) == str(a.video)


def test_masks_of_a_store_fit_its_video_found_elsewhere(clips, tmp_path):
    """A store's layer records its video's sha256: the same file elsewhere is its video."""
    import shutil

    from ecoseg.napari._check import other_video
    from ecoseg.napari._layers import store_layers

    a, b = clips
    (meta,) = [
        kw["metadata"]["ecoseg"] for _, kw, kind in store_layers(a.truth) if kind == "labels"
    ]
    copy = shutil.copyfile(a.video, tmp_path / "copy.mp4")
    assert other_video(meta, str(copy), "ecoseg masks") is None
    said = other_video(meta, str(b.video), "ecoseg masks")
    made = meta["provenance"]["video"]["path"]
    assert said.startswith(
        f"'ecoseg masks' (from {a.truth}) holds masks of {made}, not of the chosen video {b.video}"
    )
