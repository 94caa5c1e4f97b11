"""Review tracks follows the viewer's layers: a Labels layer saved to a store (File > Save)
is listed at once, a renamed one stays chosen, one whose store a new run dropped leaves the
list (it was listed only after another layer was opened or closed, and a rename lost it)."""

from __future__ import annotations

import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.sample import sample  # noqa: E402
from ecoseg.store import MaskStore  # noqa: E402


@pytest.fixture
def review(make_napari_viewer):
    from ecoseg.napari._review import ReviewWidget

    viewer = make_napari_viewer()
    w = ReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    yield viewer, w
    w.wait()


def test_a_layer_saved_to_a_store_is_listed_at_once(review, tmp_path):
    viewer, w = review
    labels = MaskStore.open(sample().truth).read_labels(0, 20)
    layer = viewer.add_labels(labels, name="painted")
    assert w.masks_combo.count() == 0  # no store yet: nothing to review
    out = tmp_path / "painted.zarr"
    layer.save(str(out), plugin="ecoseg")  # File > Save Selected Layers
    w.wait()  # its gallery is read in a worker thread
    assert w.masks_combo.currentText() == "painted"
    assert str(w.store_path) == str(out)
    assert w.gallery.rowCount() == len(MaskStore.open(out).objects) > 0
    assert w.status.text().startswith(f"{w.gallery.rowCount()} tracks in painted.zarr")


def test_a_renamed_layer_stays_chosen_and_a_dropped_store_leaves(review, tmp_path):
    from ecoseg.napari._layers import META_KEY

    viewer, w = review
    viewer.open(str(sample().truth), plugin="ecoseg")
    w.wait()
    masks = next(layer for layer in viewer.layers if layer.name == w.masks_combo.currentText())
    rows = w.gallery.rowCount()
    assert rows == len(MaskStore.open(sample().truth).objects)
    masks.name = "colonies T1"
    assert w.masks_combo.currentText() == "colonies T1"
    assert w.layer is masks and w.gallery.rowCount() == rows
    # a new run into the layer (Segment & track's Track) drops its store and says so
    masks.metadata[META_KEY].pop("store")
    masks.events.metadata(value=masks.metadata)
    assert w.masks_combo.count() == 0 and w.gallery.rowCount() == 0
    assert w.status.text().startswith("no mask store open")
