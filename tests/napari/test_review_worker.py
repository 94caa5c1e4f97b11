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
