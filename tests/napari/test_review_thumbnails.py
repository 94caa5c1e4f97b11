"""Review tracks draws a track's thumbnail from the video its store was made on, never from
another open video (was: from the first RGB layer in the viewer, whichever video that was, so
a reviewer named species from another clip's pixels). Without the store's video open, the
thumbnails show the masks only and the status line names the video to open."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

import ecoseg  # noqa: E402
from ecoseg.store import MaskStore  # noqa: E402


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two different clips of one size and length (the store's, and an unrelated one)."""
    root = tmp_path_factory.mktemp("clips")
    return [
        ecoseg.synth(root / name, seed=seed, frames=4, size=(96, 64))
        for name, seed in (("a", 1), ("b", 2))
    ]


@pytest.fixture
def widget(make_napari_viewer, clips):
    """The other clip's video opened first, then clip a's store (its video opens with it)."""
    from ecoseg.napari._review import ReviewWidget

    a, b = clips
    viewer = make_napari_viewer()
    viewer.open(str(b.video), plugin="ecoseg")
    viewer.open(str(a.truth), plugin="ecoseg")
    videos = [layer.metadata["ecoseg"].get("video") for layer in viewer.layers]
    assert videos[:2] == [str(b.video), str(a.video)]  # the other video is the first layer
    w = ReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.wait()  # the gallery is read in a worker thread
    yield w
    w.wait()


def _icon_pixels(w, row: int) -> np.ndarray:
    from qtpy.QtGui import QImage

    from ecoseg.napari._gallery import THUMB

    image = w.gallery.item(row, 0).icon().pixmap(THUMB, THUMB).toImage()
    image = image.convertToFormat(QImage.Format_RGB888)
    h, width = image.height(), image.width()
    bits = image.constBits()
    bits.setsize(image.byteCount())
    lines = np.frombuffer(bits, np.uint8).reshape(h, image.bytesPerLine())
    return lines[:, : 3 * width].reshape(h, width, 3).copy()


def _expected(w, store, video, row: int) -> np.ndarray:
    """The thumbnail of a gallery row cut from ``video`` (None: the masks alone)."""
    from qtpy.QtCore import Qt

    from ecoseg.napari._gallery import thumbnail

    track = int(w.gallery.item(row, 0).data(Qt.UserRole))
    best = w.table.set_index("object_id").loc[track]
    frame = int(best["best_frame"])
    labels = MaskStore.open(store).read_labels(frame, frame + 1)[0]
    image = None
    if video is not None:
        with ecoseg.open_video(video) as reader:
            image = reader.read(frame).image
    return thumbnail(image, labels == track, best["bbox"])


def _rows_show(w, store, video) -> bool:
    rows = range(w.gallery.rowCount())
    return all(np.array_equal(_icon_pixels(w, r), _expected(w, store, video, r)) for r in rows)


def test_thumbnails_come_from_the_stores_video_not_the_first_layer(widget, clips):
    w = widget
    a, b = clips
    assert w.gallery.rowCount() > 0
    # the two clips differ under every track, so the test tells one video from the other
    for r in range(w.gallery.rowCount()):
        assert not np.array_equal(
            _expected(w, a.truth, a.video, r), _expected(w, a.truth, b.video, r)
        )
    assert _rows_show(w, a.truth, a.video)
    assert w.video_layer().metadata["ecoseg"]["video"] == str(a.video)
    assert "masks only" not in w.status.text()


def test_without_the_stores_video_thumbnails_show_masks_only_and_name_it(widget, clips, tmp_path):
    w = widget
    a, b = clips
    (mine,) = [
        layer for layer in w.viewer.layers if layer.metadata["ecoseg"].get("video") == str(a.video)
    ]
    w.viewer.layers.remove(mine)  # only the other clip's video is left open
    w.wait()
    assert _rows_show(w, a.truth, None)
    assert w.video_layer() is None
    said = w.status.text()
    assert "thumbnails show the masks only" in said and f"open {a.video}," in said, said

    # the store's video under another name (a copy) is recognised by its sha256
    copy = tmp_path / "copy of a.mp4"
    shutil.copy(a.video, copy)
    w.viewer.open(str(copy), plugin="ecoseg")
    w.wait()
    assert _rows_show(w, a.truth, copy)
    assert w.video_layer().metadata["ecoseg"]["video"] == str(copy)
    assert "masks only" not in w.status.text()
