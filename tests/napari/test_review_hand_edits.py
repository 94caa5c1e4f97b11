"""Review tracks keeps hand corrections: each edit reloads the store's layer from the store,
and strokes painted into it and not saved are painted back (a merge, split or delete applied
to the ids painted, as to the store's); they stay recorded as not saved."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.sample import sample  # noqa: E402
from ecoseg.store import MaskStore  # noqa: E402


@pytest.fixture
def widget(make_napari_viewer, tmp_path):
    from ecoseg.napari._review import ReviewWidget

    shutil.copytree(sample().truth, tmp_path / "truth.zarr")  # edits write into the store
    viewer = make_napari_viewer()
    viewer.open(str(tmp_path / "truth.zarr"), plugin="ecoseg")
    w = ReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.wait()  # the gallery is read in a worker thread
    return w, tmp_path / "truth.zarr"


def _empty_pixel(labels: np.ndarray, frame: int) -> tuple[int, int]:
    """A background pixel of ``frame`` far from the image edge (a stroke lands there)."""
    ys, xs = np.nonzero(labels[frame, 10:-10, 10:-10] == 0)
    return int(ys[0]) + 10, int(xs[0]) + 10


def test_edits_keep_the_strokes_painted_into_the_layer(widget, tmp_path):
    """Every edit replaced the layer's masks with the store's: the strokes were gone, unsaid."""
    from ecoseg.napari._hand_edits import unsaved

    w, path = widget
    layer = w.layer
    store = MaskStore.open(path).read_labels()
    present = np.flatnonzero((store == 2).any(axis=(1, 2)))
    f_new, f_two = int(present[0]), int(present[-1])
    y1, x1 = _empty_pixel(store, f_new)
    y2, x2 = _empty_pixel(store, f_two)
    layer.paint((f_new, y1, x1), 77, refresh=False)  # a new object, by hand
    layer.paint((f_two, y2, x2), 2)  # track 2, grown by hand
    painted = np.asarray(layer.data).copy()
    assert unsaved(layer) == sorted({f_new, f_two})

    w.select(2)
    w.set_class("bluefish")  # names only: the masks are as they were, strokes and all
    w.wait()
    assert w.status.text().startswith("edit 1: Set class"), w.status.text()
    assert np.array_equal(np.asarray(layer.data), painted)

    w.select(1, 2)
    w.merge()  # track 2 becomes 1: in the store, and where it was painted
    w.wait()
    assert w.status.text().startswith("edit 2: Merge on tracks"), w.status.text()
    now, merged = np.asarray(layer.data), MaskStore.open(path).read_labels()
    assert now[f_new, y1, x1] == 77 and now[f_two, y2, x2] == 1
    assert not (now == 2).any()
    stroke = painted != store  # the brush's pixels
    assert np.array_equal(now[~stroke], merged[~stroke])  # elsewhere the store's masks

    w.undo()  # the store's frames as they were; the strokes stay as painted (and merged)
    w.wait()
    assert np.array_equal(MaskStore.open(path).read_labels(), store)
    now = np.asarray(layer.data)
    assert now[f_new, y1, x1] == 77 and now[f_two, y2, x2] == 1
    assert np.array_equal(now[~stroke], store[~stroke])
    assert unsaved(layer) == sorted({f_new, f_two})  # still not saved anywhere

    w.viewer.layers.selection = {layer}  # saved: the strokes are in the new store
    out = str(tmp_path / "fixed.zarr")
    w.viewer.layers.save(out, selected=True, plugin="ecoseg")
    assert MaskStore.open(out).read_labels(f_new, f_new + 1)[0][y1, x1] == 77
    assert unsaved(layer) == []


def test_a_split_gives_the_strokes_of_the_track_its_new_id(widget):
    w, path = widget
    layer = w.layer
    store = MaskStore.open(path).read_labels()
    present = np.flatnonzero((store == 1).any(axis=(1, 2)))
    first, last = int(present[0]), int(present[-1])
    middle = (first + last + 1) // 2
    y, x = _empty_pixel(store, last)
    layer.paint((last, y, x), 1)  # after the split: part of the new track
    layer.paint((first, *_empty_pixel(store, first)), 1)  # before it: stays track 1
    w.select(1)
    w.viewer.dims.set_current_step(0, middle)
    w.split()
    w.wait()
    assert "new id" in w.status.text(), w.status.text()
    new_id = int(re.search(r"-> new id (\d+)", w.status.text()).group(1))
    now = np.asarray(layer.data)
    assert now[last, y, x] == new_id
    assert now[(first, *_empty_pixel(store, first))] == 1


def test_ctrl_z_after_a_merge_cannot_bring_back_the_merged_away_track(widget):
    """napari's undo (Ctrl+Z) of a stroke painted over track 2 before a merge of 1 and 2 wrote
    track 2's pixels back into the layer: the layer showed a track the store no longer has.
    A review edit that changes the masks starts the layer's undo history again (and says so);
    one that only names a track leaves it (the stroke can still be taken back)."""
    from ecoseg.napari._review_words import HISTORY_NOTE

    w, path = widget
    layer = w.layer
    store = MaskStore.open(path).read_labels()
    frame = int(np.flatnonzero((store == 2).any(axis=(1, 2)))[0])
    ys, xs = np.nonzero(store[frame] == 2)
    layer.paint((frame, int(ys[0]), int(xs[0])), 77)  # over track 2
    w.select(2)
    w.set_class("bluefish")  # names only: napari's undo still takes the stroke back
    w.wait()
    assert HISTORY_NOTE not in w.status.text()
    layer.undo()
    assert np.array_equal(np.asarray(layer.data), store)
    layer.redo()
    assert (np.asarray(layer.data) == 77).any()

    w.select(1, 2)
    w.merge()
    w.wait()
    assert w.status.text().startswith("edit 2: Merge on tracks") and HISTORY_NOTE in w.status.text()
    shown = np.asarray(layer.data).copy()
    assert not (shown == 2).any() and (shown == 77).any()
    layer.undo()  # Ctrl+Z: nothing left to take back
    assert np.array_equal(np.asarray(layer.data), shown)
    layer.paint((frame, int(ys[0]), int(xs[0])), 5)  # a stroke after the edit ...
    layer.undo()  # ... is taken back as ever
    assert np.array_equal(np.asarray(layer.data), shown)

    w.undo()  # the store's masks change back: the history starts again, the layer agrees
    w.wait()
    assert HISTORY_NOTE in w.status.text()
    now, merged_back = np.asarray(layer.data), MaskStore.open(path).read_labels()
    layer.undo()
    assert np.array_equal(np.asarray(layer.data), now)
    assert np.array_equal(now[now != 77], merged_back[now != 77])


def test_a_layer_saved_to_a_new_store_is_reviewed_there(widget, tmp_path):
    """The layer stayed on the store it was read from: an edit went there, and its reload
    dropped the strokes that only the new store holds (saving had forgotten them)."""
    from ecoseg.species import edit_log

    w, path = widget
    layer = w.layer
    y, x = _empty_pixel(MaskStore.open(path).read_labels(), 0)
    layer.paint((0, y, x), 77, refresh=False)
    w.viewer.layers.selection = {layer}
    out = str(tmp_path / "fixed.zarr")
    w.viewer.layers.save(out, selected=True, plugin="ecoseg")
    w.wait()  # the new store's gallery is read in a worker thread
    assert w.store_path == out
    w.select(1)
    w.delete()
    w.wait()
    assert w.status.text().startswith("edit 1: Delete on track"), w.status.text()
    assert edit_log(path) == [] and [e["kind"] for e in edit_log(out)] == ["delete"]
    assert layer.data[0, y, x] == 77 and not (np.asarray(layer.data) == 1).any()
    assert 1 not in w.viewer.layers["truth tracks"].data[:, 0]  # its tracks followed too
