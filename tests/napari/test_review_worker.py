"""Review tracks runs its edits in a worker thread: the window stays free meanwhile (the
buttons greyed out, the status line says what runs, a second press refused), the result is
applied when it is done, and a refusal still comes back as one status line."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.sample import sample  # noqa: E402
from ecoseg.store import MaskStore  # noqa: E402


@pytest.fixture
def widget(make_napari_viewer, tmp_path):
    from ecoseg.napari._review import ReviewWidget

    path = shutil.copytree(sample().truth, tmp_path / "truth.zarr")
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="ecoseg")
    w = ReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.wait()  # the gallery is read in a worker thread
    yield w, path
    w.wait()  # never a worker left running into the next test


def test_an_edit_runs_off_the_ui_thread_and_is_applied_when_done(widget, monkeypatch):
    """The store's rewrite ran on the Qt thread: the window froze (minutes on an hour of
    video) with nothing shown. Here the rewrite is held until the test lets it go: the press
    has returned, the widget says it runs and takes no second edit, then the result comes."""
    import ecoseg.species

    w, path = widget
    apply_edits = ecoseg.species.apply_edits
    release, threads = threading.Event(), []

    def held(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        if not threads[-1]:  # on the Qt thread (the old widget) it must not wait
            release.wait(60)
        return apply_edits(*args, **kwargs)

    monkeypatch.setattr(ecoseg.species, "apply_edits", held)
    w.layer.mode = "paint"
    w.select(2)
    w.delete()  # returns at once: the store is rewritten in the worker
    try:
        assert w.status.text() == "Delete: writing truth.zarr and reading its tracks back…", (
            w.status.text()
        )
        greyed = [w.least_button, w.diverse_button, *w.buttons.values()]
        assert not any(b.isEnabled() for b in greyed)
        assert 2 in MaskStore.open(path).object_ids.tolist()  # not yet written
        w.mark_reviewed()  # a script's second edit on the store being rewritten: refused
        assert w.status.text() == "error: an edit is running: wait for it to finish"
        # no stroke meanwhile: the reload would replace it (the brush waits, then comes back)
        assert w.layer.mode == "pan_zoom"
        w.layer.mode = "fill"
        assert w.layer.mode == "pan_zoom" and "painting waits" in w.status.text()
    finally:
        release.set()
    w.wait()
    assert threads == [False]
    assert w.status.text().startswith("edit 1: Delete on track 2"), w.status.text()
    assert 2 not in MaskStore.open(path).object_ids.tolist()
    assert not (np.asarray(w.layer.data) == 2).any()  # the layer reloaded on the Qt thread
    assert 2 not in set(w.table["object_id"]) and w.gallery.rowCount() == len(w.table)
    assert all(b.isEnabled() for b in greyed)
    assert w.layer.mode == "paint"


def test_a_refusal_in_the_worker_is_one_status_line(widget, monkeypatch):
    """A refusal raised in the worker comes back as the status line's one line, the store
    as it was, the buttons usable again, and no traceback in napari's notifications."""
    from napari.utils.notifications import notification_manager

    from ecoseg.species import Review, edit_log

    w, path = widget
    errors = []
    monkeypatch.setattr(notification_manager, "receive_error", lambda *a, **k: errors.append(a))
    w.select(1, 2)
    Review(path).delete(2)  # behind the widget's back: the gallery still lists it
    w.merge()
    w.wait()
    said = w.status.text()
    assert said.startswith("error: ") and "no track 2" in said and "\n" not in said, said
    assert said == " ".join(said.split())  # one line, as before
    assert errors == []
    assert [e["kind"] for e in edit_log(path)] == ["delete"]  # nothing else written
    assert w.buttons["merge"].isEnabled() and w._worker is None


def _held(monkeypatch, module, name, release, threads):
    """``module.name`` held in a worker thread until ``release`` (on the Qt thread it runs at
    once: the old widget); ``threads`` records whether each call ran on the Qt thread."""
    real = getattr(module, name)

    def held(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        if not threads[-1]:
            release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)


def _delete_while(w, monkeypatch, during) -> None:
    """Delete track 2 with the edit held in its worker, ``during()`` meanwhile, then wait for
    the edit to be applied."""
    import ecoseg.species

    release, threads = threading.Event(), []
    _held(monkeypatch, ecoseg.species, "apply_edits", release, threads)
    w.select(2)
    w.delete()
    try:
        during()
    finally:
        release.set()
    w.wait()


def test_the_gallery_of_a_layer_chosen_is_read_off_the_ui_thread(widget, monkeypatch, tmp_path):
    """Choosing (or opening) a store's layer read its regions table and every thumbnail on
    the Qt thread: napari froze for a full pass over the store's masks. Now the widget says
    it reads, greyed out, and draws the rows when they are read; a read another choice
    overtook is dropped (never the rows of a layer no longer chosen)."""
    from ecoseg.napari import _gallery
    from ecoseg.species import edit_log

    w, path = widget
    other = shutil.copytree(path, tmp_path / "other.zarr")
    w.viewer.open(str(other), plugin="ecoseg")
    w.wait()
    release, threads = threading.Event(), []
    _held(monkeypatch, _gallery, "gallery_table", release, threads)
    w.masks_combo.setCurrentText("other masks")  # returns at once: read in a worker
    try:
        assert w.status.text() == "reading the tracks of other.zarr…", w.status.text()
        assert w.gallery.rowCount() == 0 and not w.buttons["undo"].isEnabled()
        w.undo()  # a script's edit meanwhile: refused
        assert w.status.text() == "error: reading the tracks of other.zarr: wait for it to finish"
        w.masks_combo.setCurrentText("truth masks")  # chosen back before other.zarr is read
        assert w.status.text() == "reading the tracks of truth.zarr…", w.status.text()
    finally:
        release.set()
    w.wait()
    assert threads == [False, False]
    n = len(MaskStore.open(path).objects)
    assert w.status.text().startswith(f"{n} tracks in truth.zarr. ") and w.gallery.rowCount() == n
    assert all(b.isEnabled() for b in w.buttons.values())
    assert edit_log(path) == []  # nothing was written


def test_an_edits_reload_reads_the_store_off_the_ui_thread(widget, monkeypatch):
    """After an edit, the layer's masks were read from the store on the Qt thread (the whole
    of them), and so were the store's frames under the strokes painted before it."""
    from ecoseg.napari import _layers

    w, path = widget
    layer = w.layer
    frame = int(np.flatnonzero((np.asarray(layer.data) == 2).any(axis=(1, 2)))[0])
    ys, xs = np.nonzero(np.asarray(layer.data)[frame] == 0)
    layer.paint((frame, int(ys[0]), int(xs[0])), 2, refresh=False)  # a stroke to keep
    on_qt = []
    real_read = MaskStore.read_labels

    def read_labels(self, *args, **kwargs):
        on_qt.append(("read_labels", threading.current_thread() is threading.main_thread()))
        return real_read(self, *args, **kwargs)

    real_labels = _layers.layer_labels

    def layer_labels(*args, **kwargs):
        on_qt.append(("layer_labels", threading.current_thread() is threading.main_thread()))
        return real_labels(*args, **kwargs)

    monkeypatch.setattr(MaskStore, "read_labels", read_labels)
    monkeypatch.setattr(_layers, "layer_labels", layer_labels)
    w.select(1, 2)
    w.set_class("bluefish")  # named alike, so they can merge
    w.wait()
    w.merge()
    w.wait()
    assert w.status.text().startswith("edit 3: Merge on tracks 1 and 2"), w.status.text()
    assert ("layer_labels", False) in on_qt and ("read_labels", False) in on_qt
    assert [call for call, qt in on_qt if qt] == [], on_qt
    shown = np.asarray(layer.data)
    assert not (shown == 2).any() and shown[frame, ys[0], xs[0]] == 1  # the stroke, merged


@pytest.fixture
def two_stores(widget, tmp_path):
    """The widget on truth.zarr, with a copy (other.zarr) open too."""
    w, path = widget
    other = shutil.copytree(path, tmp_path / "other.zarr")
    w.viewer.open(str(other), plugin="ecoseg")
    w.wait()
    assert w.masks_combo.currentText() == "truth masks"
    return w, path, other


def test_a_layer_closed_while_its_edit_runs_is_said_and_nothing_else_changes(
    two_stores, monkeypatch
):
    """The edit's result went to whichever layer was chosen when it came: the status line
    said the edit as if the layer were reloaded, and the tracks it named were selected in
    the other store's gallery (the next press would edit those)."""
    w, path, other = two_stores

    def close():
        w.viewer.layers.remove(w.viewer.layers["truth masks"])
        assert w.masks_combo.currentText() == "other masks"
        assert w.gallery.rowCount() == 0  # no rows of a store not shown; read after the edit

    _delete_while(w, monkeypatch, close)
    assert w.status.text().startswith(
        "edit 1: Delete on track 2. the layer 'truth masks' was closed while the edit ran: "
        "the edit is in truth.zarr, nothing reloaded. 8 tracks in other.zarr. "
    ), w.status.text()
    assert 2 not in MaskStore.open(path).object_ids.tolist()
    shown = np.asarray(w.viewer.layers["other masks"].data)
    assert np.array_equal(shown, MaskStore.open(other).read_labels())  # as it was
    assert w.gallery.rowCount() == len(MaskStore.open(other).objects)  # listed, once read
    assert w.selected_ids() == [] and w._listed == str(other)


def test_a_layer_saved_to_another_store_while_its_edit_runs_keeps_its_masks(
    widget, monkeypatch, tmp_path
):
    """A layer saved to a new store while an edit of its old store ran shows the new store:
    the old store's edited masks are never loaded into it, and the status line says so."""
    w, path = widget
    layer = w.layer
    out = tmp_path / "saved" / "truth.zarr"  # the same name in another folder
    out.parent.mkdir()

    def save():
        w.viewer.layers.selection = {layer}
        w.viewer.layers.save(str(out), selected=True, plugin="ecoseg")  # File > Save
        assert w.store_path == str(out)

    _delete_while(w, monkeypatch, save)
    assert w.status.text().startswith(
        f"edit 1: Delete on track 2. the layer 'truth masks' shows {out} now, not {path} "
        "(changed while the edit ran): not reloaded. 8 tracks in truth.zarr. "
    ), w.status.text()
    assert 2 not in MaskStore.open(path).object_ids.tolist()  # the edit is in the old store
    assert 2 in MaskStore.open(out).object_ids.tolist()
    assert np.array_equal(np.asarray(layer.data), MaskStore.open(out).read_labels())
    assert 2 in set(w.table["object_id"]) and w._listed == str(out)
    assert w.layer is layer and w.selected_ids() == []


def _tracks(viewer, path):
    """The Tracks layers of the store at ``path``."""
    return [
        layer
        for layer in viewer.layers
        if (layer.metadata.get("ecoseg") or {}).get("kind") == "tracks"
        and str(layer.metadata["ecoseg"].get("store")) == str(path)
    ]


def test_the_tracks_layer_is_redrawn_when_the_masks_layer_closed_during_the_edit(
    widget, monkeypatch
):
    """The masks layer closed while its edit ran: the store's tracks layer, still open, kept
    the trajectory of the track the edit deleted (nothing of the edit's result was used)."""
    w, path = widget
    (tracks,) = _tracks(w.viewer, path)
    assert 2 in set(tracks.data[:, 0].astype(int))
    _delete_while(w, monkeypatch, lambda: w.viewer.layers.remove(w.viewer.layers["truth masks"]))
    assert w.status.text().startswith(
        "edit 1: Delete on track 2. the layer 'truth masks' was closed while the edit ran: "
        "the edit is in truth.zarr, nothing reloaded"
    ), w.status.text()
    assert tracks in w.viewer.layers and _tracks(w.viewer, path) == [tracks]
    assert 2 not in set(tracks.data[:, 0].astype(int))  # the edit's trajectories
    assert set(tracks.data[:, 0].astype(int)) == set(MaskStore.open(path).object_ids) - {2}


def test_the_store_opened_again_during_the_edit_is_reloaded_after_it(widget, monkeypatch):
    """The store reopened (File > Open) while an edit rewrote it was read then, before the
    edit: its new layer kept the deleted track, unreloaded, and could be painted into."""
    w, path = widget

    def reopen():
        w.viewer.layers.remove(w.viewer.layers["truth masks"])
        w.viewer.open(str(path), plugin="ecoseg")  # read while the edit runs
        again = w.viewer.layers["truth masks"]
        assert (np.asarray(again.data) == 2).any()  # read before the edit was written
        again.mode = "paint"  # no stroke while the edit runs: the reload would replace it
        assert again.mode == "pan_zoom" and "painting waits" in w.status.text()

    _delete_while(w, monkeypatch, reopen)
    again = w.viewer.layers["truth masks"]
    assert w.status.text().startswith(
        "edit 1: Delete on track 2. the layer 'truth masks' was closed while the edit ran: "
        "the edit is in truth.zarr. the layer 'truth masks' showing truth.zarr is reloaded"
    ), w.status.text()
    store = MaskStore.open(path)
    assert np.array_equal(np.asarray(again.data), store.read_labels())
    assert 2 not in set(again.features["object_id"])
    for tracks in _tracks(w.viewer, path):  # the old tracks layer and the one opened again
        assert set(tracks.data[:, 0].astype(int)) == set(store.object_ids)
    assert w.layer is again and set(w.table["object_id"]) == set(store.object_ids)


def test_another_layer_of_the_store_is_reloaded_with_its_strokes(widget, monkeypatch):
    """A second layer of the same store kept the masks of before the edit; now it is
    reloaded with the edit, its own strokes painted back (not the pressed layer's)."""
    w, path = widget
    layer = w.layer
    w.viewer.open(str(path), plugin="ecoseg")
    w.wait()
    second = w.viewer.layers["truth masks [1]"]
    frame = int(np.flatnonzero((np.asarray(second.data) == 2).any(axis=(1, 2)))[0])
    ys, xs = np.nonzero(np.asarray(second.data)[frame] == 0)
    second.paint((frame, int(ys[0]), int(xs[0])), 5, refresh=False)  # a stroke to keep
    w.masks_combo.setCurrentText("truth masks")
    w.wait()
    w.select(2)
    w.delete()
    w.wait()
    assert "the layer 'truth masks [1]' showing truth.zarr is reloaded too" in w.status.text()
    shown, stored = np.asarray(second.data), MaskStore.open(path).read_labels()
    assert not (shown == 2).any() and shown[frame, ys[0], xs[0]] == 5
    differ = shown != stored  # only the stroke (a brush's disc)
    assert (shown[differ] == 5).all() and differ[frame].sum() == differ.sum()
    assert np.array_equal(np.asarray(layer.data), stored)  # not the other layer's stroke
    assert layer.data is not second.data
