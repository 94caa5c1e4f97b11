"""Sample data loads (File > Open Sample > ecoseg) and a screenshot with masks is not blank."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

import ecoseg  # noqa: E402
from ecoseg.sample import sample  # noqa: E402


def test_sample_data_loads(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open_sample("ecoseg", "reef")
    names = [layer.name for layer in layers]
    assert names == ["reef sample", "truth masks", "truth tracks"]
    truth = ecoseg.open_masks(sample().truth)
    video, masks, _ = layers
    assert video.data.shape == (len(truth.t), truth.sizes["y"], truth.sizes["x"], 3)
    np.testing.assert_array_equal(np.asarray(masks.data[99]), truth.labels[99].values)
    assert tuple(video.scale) == tuple(masks.scale)  # footage and masks line up (mm)
    (clip,) = viewer.open_sample("ecoseg", "reef_video")
    assert clip.metadata["ecoseg"]["calibration"]["mm_per_px"] == truth.attrs["mm_per_px"]


def test_screenshot_with_masks_is_not_blank(make_napari_viewer, tmp_path):
    from ecoseg.napari._screenshot import close_toasts, demo_viewer, save_png

    viewer = make_napari_viewer(show=True)
    demo_viewer(viewer)
    close_toasts(viewer)
    canvas = viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
    assert canvas.std() > 10, "the canvas screenshot is blank"
    viewer.layers["truth masks"].visible = False
    viewer.layers["truth tracks"].visible = False
    bare = viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
    changed = np.abs(canvas - bare).sum(axis=-1) > 30
    assert changed.mean() > 0.01, "the masks do not show in the screenshot"
    full = viewer.screenshot(canvas_only=False, flash=False)
    assert full.shape[1] > canvas.shape[1]  # the dock widgets are in it
    png = save_png(full, tmp_path / "napari.png")
    assert 0 < png.stat().st_size <= 400_000
