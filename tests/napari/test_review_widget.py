"""Review tracks widget: gallery, least confident first, click jumps, set class with recent
classes, merge, split, delete, undo; every edit lands in the store."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.errors import StoreError  # noqa: E402
from ecoseg.sample import sample  # noqa: E402
from ecoseg.store import MaskStore  # noqa: E402


@pytest.fixture
def widget(make_napari_viewer, tmp_path):
    from ecoseg.napari._review import ReviewWidget

    folder = tmp_path / "clip"
    folder.mkdir()
    shutil.copytree(sample().truth, folder / "truth.zarr")  # edits write into the store
    shutil.copy(sample().video, folder / "video.mp4")
    viewer = make_napari_viewer()
    viewer.open(str(folder / "truth.zarr"), plugin="ecoseg")
    w = ReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.wait()  # the gallery is read in a worker thread
    return w, folder / "truth.zarr"


def test_gallery_lists_every_track_with_a_thumbnail(widget):
    w, path = widget
    store = MaskStore.open(path)
    assert w.gallery.rowCount() == len(w.table) == len(store.objects)
    icon = w.gallery.item(0, 0).icon()
    assert not icon.isNull()
    w.select(3)
    frame = int(w.table.set_index("object_id").loc[3, "best_frame"])
    assert w.viewer.dims.current_step[0] == frame
    assert w.layer.selected_label == 3


def test_set_class_recent_shortcut_merge_split_undo(widget):
    w, path = widget
    w.select(1)
    w.set_class("bluefish")
    w.wait()
    assert {o["id"]: o["class"] for o in MaskStore.open(path).objects}[1] == "bluefish"
    assert w.recent == ["bluefish"] and len(w._recent_buttons) == 1
    w.select(2)
    w._use_recent(0)  # Ctrl+1
    w.wait()
    objs = {o["id"]: o for o in MaskStore.open(path).objects}
    assert objs[2]["class"] == "bluefish" and objs[2]["class_source"] == "reviewed"

    before = MaskStore.open(path).read_labels()
    w.select(1, 2)
    assert w.selected_ids() in ([1, 2], [2, 1])
    w.merge()
    w.wait()
    assert 2 not in MaskStore.open(path).object_ids.tolist()
    assert w.gallery.rowCount() == len(MaskStore.open(path).objects)
    assert not (np.asarray(w.layer.data) == 2).any()  # the layer is reloaded
    w.undo()
    w.wait()
    assert np.array_equal(MaskStore.open(path).read_labels(), before)
    # what it took back, in the words `ecoseg edit --undo` prints (it said "undo []", then
    # "merge [1, 2]", then "Undo: undid edit 3 (Merge on tracks 1 and 2)")
    said = w.status.text()
    assert said.startswith("edit 4: undid edit 3: merge of track 2 into track 1 (was: "), said

    # a split must cut the track in two: at its first frame it is refused (same rule as the
    # CLI and the Python API), after it the part from the current frame on is a new track
    present = np.flatnonzero((MaskStore.open(path).read_labels() == 1).any(axis=(1, 2)))
    first, last = int(present[0]), int(present[-1])
    before = MaskStore.open(path).read_labels()
    n_edits = len(MaskStore.open(path).attrs["ecoseg"]["edits"])
    middle = (first + last + 1) // 2
    for frame, expect in ((first, "error"), (middle, "new id")):
        w.select(1)
        step = list(w.viewer.dims.current_step)
        step[0] = frame
        w.viewer.dims.current_step = tuple(step)
        w.split()
        w.wait()
        assert expect in w.status.text(), w.status.text()
        if expect == "error":
            assert f"present from frame {first} to frame {last}" in w.status.text()
            assert f": Split here on track 1 at frame {first}: " in w.status.text()  # no --split
            assert np.array_equal(MaskStore.open(path).read_labels(), before)
            assert len(MaskStore.open(path).attrs["ecoseg"]["edits"]) == n_edits
    labels = MaskStore.open(path).read_labels()
    new = int(w.status.text().split("-> new id ")[1])
    assert (labels[middle:] == new).any() and not (labels[middle:] == 1).any()
    assert (labels[:middle] == 1).any() and not (labels[:middle] == new).any()


def test_set_class_on_several_tracks_is_all_or_nothing(widget):
    """Set class went on to track 2 after track 1 was refused (deleted since it was listed),
    and the status line showed only track 2's edit: half the selection named, unsaid."""
    from ecoseg.species import Review, edit_log

    w, path = widget
    w.select(1, 2)
    Review(path).delete(1)  # behind the widget's back: the gallery still lists it
    w.set_class("bluefish")
    w.wait()
    assert w.status.text().startswith("error:") and "no track 1" in w.status.text()
    assert {o["id"]: o["class"] for o in MaskStore.open(path).objects}[2] != "bluefish"
    assert [e["kind"] for e in edit_log(path)] == ["delete"]  # nothing else written
    w.refresh()
    w.wait()
    w.select(2, 3)
    w.set_class("bluefish")  # every result is in the status line
    w.wait()
    said = w.status.text()
    assert (
        said.startswith("edit 2: Set class 'bluefish' on track ") and "; edit 3: Set class" in said
    )
    assert all(f"'bluefish' on track {i}" in said for i in (2, 3)), said


def test_set_class_pressed_again_is_not_logged_again(widget):
    """A second press of Set class with the same name (the track reviewed as that already)
    wrote a second edit-log entry, which a first Undo then took back to no effect."""
    from ecoseg.species import edit_log

    w, path = widget
    for _ in range(2):
        w.select(1)
        w.set_class("bluefish")
        w.wait()
    assert w.status.text() == "truth.zarr: nothing changed (the tracks are so already; not logged)"
    assert [e["kind"] for e in edit_log(path)] == ["set_class"]


def test_diverse_first_orders_the_gallery_like_the_queue(widget):
    from qtpy.QtCore import Qt

    from ecoseg.species.diverse import diverse_queue

    w, path = widget
    w.diverse_first()
    w.wait()
    want = diverse_queue(path, w._video_frame)["object_id"].tolist()
    rows = [int(w.gallery.item(r, 0).data(Qt.UserRole)) for r in range(w.gallery.rowCount())]
    assert rows == want and w.status.text().startswith("diverse first")


def test_least_confident_first_and_errors(widget):
    w, path = widget
    w.least_confident_first()
    w.gallery.clearSelection()
    w.merge()
    w.wait()
    assert w.status.text() == "error: select two tracks to merge"
    w.undo()
    w.wait()
    assert w.status.text().startswith("error:") and ": Undo: nothing to undo" in w.status.text()


def test_a_half_edited_store_is_flagged_until_an_edit_completes_it(
    make_napari_viewer, tmp_path, interrupt_edit
):
    """The gallery of a store an interrupted ``ecoseg edit`` left half written says so in the
    status line; the widget's first edit completes the unfinished ones (Review does) and the
    layer is reloaded with the completed labels."""
    from ecoseg.info.summary import pending_edits
    from ecoseg.measure import measure
    from ecoseg.napari._review import ReviewWidget

    path = shutil.copytree(sample().truth, tmp_path / "truth.zarr")
    interrupt_edit(path)  # --merge 1,2 --delete 3 killed at its first labels chunk
    assert pending_edits(path) == 2
    with pytest.raises(StoreError) as refused:
        measure(path)  # the words measure, evaluate and export refuse it with
    message = str(refused.value)
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="ecoseg")
    w = ReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.wait()  # the gallery is read in a worker thread
    assert message is not None and message in w.status.text()
    assert "any edit here" in w.status.text()
    w.diverse_first()  # no queue (nor track features) from half an edit: the one line
    w.wait()
    assert w.status.text() == f"error: {message}"

    w.select(4)
    w.mark_reviewed()
    w.wait()
    assert pending_edits(path) == 0
    assert "Warning" not in w.status.text() and "unfinished" not in w.status.text()
    store = MaskStore.open(path)
    kinds = [e["kind"] for e in store.attrs["ecoseg"]["edits"]]
    assert kinds[-3:] == ["merge", "delete", "reviewed"]
    assert {2, 3}.isdisjoint(store.object_ids.tolist())
    np.testing.assert_array_equal(np.asarray(w.layer.data), store.read_labels())


def test_closing_the_last_stores_layer_clears_the_gallery(widget):
    """The rows of a closed store stayed, selectable, with their thumbnails (a reviewer could
    act on tracks no longer shown); now the gallery empties and the status line says why."""
    from ecoseg.napari._review_words import BUTTONS

    w, path = widget
    assert w.gallery.rowCount() == len(MaskStore.open(path).objects) > 0
    w.select(1)
    w.viewer.layers.remove(w.layer)
    assert w.masks_combo.count() == 0 and w.gallery.rowCount() == 0 and w.table.empty
    assert w.selected_ids() == []
    assert w.status.text() == "no mask store open: open one (File > Open) to review its tracks"
    # greyed out: every edit button stood pressable with nothing to act on
    greyed = [w.least_button, w.diverse_button, *w.buttons.values()]
    assert sorted(w.buttons) == sorted(BUTTONS) and not any(b.isEnabled() for b in greyed)
    w.set_class("bluefish")  # nothing selected, nothing written
    w.wait()
    assert w.status.text().startswith("error:")
    assert all(o["class"] != "bluefish" for o in MaskStore.open(path).objects)
    w.viewer.open(str(path), plugin="ecoseg")  # opened again: its rows come back
    w.wait()
    assert w.gallery.rowCount() == len(MaskStore.open(path).objects)
    assert all(b.isEnabled() for b in greyed)


def test_merge_of_two_differently_prompted_tracks_is_refused_as_on_the_command_line(widget):
    """The widget merges with ecoseg edit's rule: two names a person typed with the prompts
    (track 1 damselfish, track 2 parrotfish) are not merged silently; the refusal names the
    widget's buttons, not ecoseg edit's flags (old: "--merge 1,2: ... --set-class
    2=damselfish")."""
    w, path = widget
    before = MaskStore.open(path).objects
    w.select(1, 2)
    w.merge()
    w.wait()
    text = w.status.text()
    assert text.startswith("error:") and "'damselfish' and track 2 'parrotfish'" in text
    assert "both named with their prompts" in text and "--" not in text
    assert ": Merge on tracks 1 and 2: " in text
    assert "(Set class 'damselfish' on track 2 or Set class 'parrotfish' on track 1)" in text
    assert MaskStore.open(path).objects == before
    w.select(2)
    w.set_class("damselfish")
    w.wait()
    w.select(1, 2)
    w.merge()
    w.wait()
    assert MaskStore.open(path).object_ids.tolist()[:2] == [1, 3]


def test_an_edit_keeps_a_large_stores_layer_lazy(make_napari_viewer, tmp_path, monkeypatch):
    """A store over the in-memory limit opens lazily (frames read as shown), but every review
    edit read all its labels into memory: an hour of video is tens of GB."""
    import dask.array as da

    from ecoseg.napari import _layers
    from ecoseg.napari._review import ReviewWidget

    monkeypatch.setattr(_layers, "EDITABLE_BYTES", 0)  # as if the sample were too large
    path = tmp_path / "truth.zarr"
    shutil.copytree(sample().truth, path)
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="ecoseg")
    w = ReviewWidget(viewer)
    w.wait()
    assert isinstance(w.layer.data, da.Array)
    w.select(1)
    w.set_class("bluefish")
    w.wait()
    assert isinstance(w.layer.data, da.Array)
    assert {o["id"]: o["class"] for o in MaskStore.open(path).objects}[1] == "bluefish"
    np.testing.assert_array_equal(
        np.asarray(w.layer.data[5]), MaskStore.open(path).read_labels(5, 6)[0]
    )


def test_a_store_that_cannot_be_written_is_one_line(widget, monkeypatch):
    """An edit on a read-only share or a full disk raised OSError through Qt: a traceback."""
    import ecoseg.species

    w, path = widget

    def denied(store, edits, **kwargs):
        raise PermissionError(13, "Permission denied", str(path / "labels"))

    monkeypatch.setattr(ecoseg.species, "apply_edits", denied)
    w.select(1)
    w.set_class("bluefish")
    w.wait()
    assert w.status.text() == f"error: {path / 'labels'}: Permission denied"


# each message that names an edit, in the widget's words (the Review call's and ecoseg edit's:
# tests/species/test_review.py); the widget makes one edit per call, the words are total
BUTTON_WORDS = [
    (["undo"], "Undo: nothing to undo"),
    (
        ["delete 3", "merge 1 3"],
        "edit 2 of 2 (Merge on tracks 1 and 3): no track 3, deleted by Delete on track 3 earlier",
    ),
    (
        ["merge 1 4"],
        "Merge on tracks 1 and 4: track 1 is 'damselfish' and track 4 'wrasse', both "
        "named with their prompts; name them alike first (Set class 'damselfish' on track 4 or Set "
        "class 'wrasse' on track 1)",
    ),
    (["split 9 2 unchecked"], "Split here on track 9 at frame 2 (an unchecked split): no track 9"),
    (["set_class 9 blue tang"], "Set class 'blue tang' on track 9: no track 9"),
    (["reviewed 9"], "Reviewed on track 9: no track 9"),
]


def _edit(text: str):
    from ecoseg.species import Edit

    kind, *rest = text.split(" ")
    if kind == "set_class":
        return Edit(kind, (int(rest[0]),), cls=" ".join(rest[1:]))
    if kind == "split":
        return Edit(kind, (int(rest[0]),), frame=int(rest[1]), unchecked="unchecked" in rest)
    return Edit(kind, tuple(int(i) for i in rest))


@pytest.mark.parametrize(("edits", "said"), BUTTON_WORDS, ids=lambda v: str(v)[:20])
def test_refusals_name_the_widgets_buttons_where_they_are_written(edits, said, tmp_path):
    from ecoseg.errors import ConfigError
    from ecoseg.napari._review_words import button_words
    from ecoseg.species import apply_edits

    path = shutil.copytree(sample().truth, tmp_path / "truth.zarr")
    with pytest.raises(ConfigError) as info:
        apply_edits(path, [_edit(e) for e in edits], words=button_words)
    assert str(info.value).startswith(f"{path}: {said}"), str(info.value)


def test_a_dropped_interrupted_command_is_named_by_the_buttons(widget):
    """The rest of an interrupted command that no longer fits the store is dropped with a
    warning; the widget showed it as ``ecoseg edit`` options (``--merge 1,2``, ``deleted by
    --delete 1``), which a napari user never typed: now each edit is named by its button."""
    from ecoseg.species._edit_log import read_meta, write_meta
    from ecoseg.species.review import DroppedEditsWarning

    w, path = widget
    with MaskStore.open(path, mode="a") as s:
        meta = read_meta(s)
        meta["edit_queue"] = [{"kind": "delete", "ids": [1]}, {"kind": "merge", "ids": [1, 2]}]
        write_meta(s, meta)
    w.select(2)
    with pytest.warns(DroppedEditsWarning) as caught:
        w.mark_reviewed()
        w.wait()
    said = str(caught[0].message)
    assert (
        "dropped (" + f"{path}: edit 2 of 2 (Merge on tracks 1 and 2): no track 1, deleted by "
        "Delete on track 1 earlier in this command (known: "
    ) in said, said
    assert "--" not in said, said
    assert [e.kind for e in caught[0].message.edits] == ["delete", "merge"]
    assert w.status.text().startswith("edit 1: Reviewed on track 2"), w.status.text()


def test_a_reviewers_text_is_never_read_as_a_button(widget):
    """The widget re-worded a refusal by finding Review calls in its text: a species typed as
    ``undo()`` (the button meant) was shown as ``track 1 is 'Undo'``; a name with a tab
    raised out of the button (a traceback, not the status line). The rest of an interrupted
    command that no longer fits is named by the buttons that make its edits: it was named as
    ``ecoseg edit`` options (``--delete 99``), no control of the widget's."""
    from ecoseg.species._edit_log import read_meta, write_meta
    from ecoseg.species.review import DroppedEditsWarning

    w, path = widget
    with MaskStore.open(path, mode="a") as s:
        meta = read_meta(s)
        meta["edit_queue"] = [{"kind": "delete", "ids": [99]}]
        write_meta(s, meta)
    w.select(1)
    w.set_class("blue\ttang")
    w.wait()
    # in the button's words, as the store's refusals are (it read "set_class of track 1: ...")
    assert w.status.text() == (
        f"error: {path}: Set class 'blue\\ttang' on track 1: the class name 'blue\\ttang' has a "
        "control character (newline, tab, NUL, ...); nothing was changed"
    ), w.status.text()
    assert MaskStore.open(path).attrs["ecoseg"]["edit_queue"]  # nothing was done
    with pytest.warns(DroppedEditsWarning, match=r"dropped \(.*: Delete on track 99: no track 99 "):
        w.set_class("undo()")
        w.wait()  # the worker's warning is shown on the Qt thread, as it was
    w.select(2)
    w.set_class("parrotfish")
    w.wait()
    w.select(1, 2)
    w.merge()
    w.wait()
    text = w.status.text()
    assert ": Merge on tracks 1 and 2: track 1 is 'undo()' and track 2 'parrotfish', both " in text
    assert "(Set class 'undo()' on track 2 or Set class 'parrotfish' on track 1)" in text


def test_the_stores_tracks_layer_follows_each_edit(widget):
    """The reader's Tracks layer kept drawing a merged-away track after the masks layer was
    reloaded: it disagreed with the store and the masks beside it. (And the tracks chosen
    stay chosen through an edit: naming two alike and merging them took choosing them again.)"""
    from ecoseg.measure.regions import regions
    from ecoseg.napari._layers import tracks_from_regions

    w, path = widget
    tracks = next(layer for layer in w.viewer.layers if type(layer).__name__ == "Tracks")

    def drawn():
        return sorted({int(i) for i in np.asarray(tracks.data)[:, 0]})

    ids = drawn()
    assert 2 in ids
    w.select(1, 2)
    w.set_class("bluefish")  # named alike: they can merge
    w.wait()
    one = np.asarray(tracks.data)[:, 0] == 1
    assert set(tracks.features.loc[one, "class"]) == {"bluefish"}
    w.merge()
    w.wait()
    assert w.status.text().startswith("edit 3: Merge on tracks"), w.status.text()
    assert 2 not in drawn() and 1 in drawn()
    want, _ = tracks_from_regions(regions(MaskStore.open(path)))
    assert np.array_equal(np.asarray(tracks.data), want)
    w.undo()
    w.wait()
    assert drawn() == ids


def test_one_undo_takes_back_set_class_on_several_tracks(widget):
    """Set class on three tracks is one command, and one Undo takes it back whole (Undo took
    back one of its three log entries: the other two tracks kept the class a reviewer meant
    to take back)."""
    from ecoseg.species import Review, edit_log

    w, path = widget
    classes = {o["id"]: o["class"] for o in MaskStore.open(path).objects}
    w.select(1)
    w.set_class("bluefish")  # a press of its own: the group's Undo leaves it
    w.wait()
    w.select(2, 3, 4)
    w.set_class("damselfish")
    w.wait()
    w.undo()
    w.wait()
    now = {o["id"]: o["class"] for o in MaskStore.open(path).objects}
    assert now == {**classes, 1: "bluefish"}
    assert [e["kind"] for e in edit_log(path)] == ["set_class"] * 4 + ["undo"] * 3
    said = w.status.text()
    assert all(f"set class of track {i} to damselfish (was: " in said for i in (2, 3, 4)), said
    w.undo()  # the next press takes back the one before
    w.wait()
    assert {o["id"]: o["class"] for o in MaskStore.open(path).objects} == classes
    # an edit made elsewhere since the press comes first: Undo takes back that one alone
    w.select(2, 3)
    w.mark_reviewed()
    w.wait()
    Review(path).delete(5)
    w.undo()
    w.wait()
    assert 5 in MaskStore.open(path).object_ids.tolist()
    assert all(o["reviewed"] for o in MaskStore.open(path).objects if o["id"] in (2, 3))


def test_an_edit_reads_the_regions_table_once(widget, monkeypatch):
    """Each edit read the whole store's regions twice (the tracks layer, then the gallery):
    on an hour of video a pass is minutes."""
    import importlib

    regions_module = importlib.import_module("ecoseg.measure.regions")  # not the function
    w, path = widget
    passes = []
    real = regions_module.regions

    def counted(*args, **kwargs):
        passes.append(args[0] if args else kwargs.get("store"))
        return real(*args, **kwargs)

    monkeypatch.setattr(regions_module, "regions", counted)
    w.select(1, 2)
    w.set_class("bluefish")
    w.wait()
    assert len(passes) == 1, (passes, w.status.text())
    w.merge()
    w.wait()
    assert len(passes) == 2, (passes, w.status.text())
    assert not (np.asarray(w.layer.data) == 2).any() and w.gallery.rowCount() == len(w.table)
    tracks = next(layer for layer in w.viewer.layers if layer.name == "truth tracks")
    assert 2 not in set(np.asarray(tracks.data)[:, 0].astype(int))  # redrawn from that pass
