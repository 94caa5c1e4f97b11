"""Review tracks widget on a photo survey (``--concepts`` on images): every instance listed,
named and merged within its photograph, a merge across photographs refused in the widget's
words, as on the command line."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.store import MaskStore  # noqa: E402


@pytest.fixture
def widget(make_napari_viewer, tmp_path):
    from PIL import Image

    from ecoseg.napari._review import ReviewWidget

    photos = tmp_path / "quadrats"
    photos.mkdir()
    rng = np.random.default_rng(0)
    names = ["q1.png", "q2.png"]
    for name in names:
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(photos / name)
    labels = np.zeros((2, 24, 32), np.uint32)
    labels[0, 2:8, 2:8], labels[0, 12:20, 14:22], labels[1, 4:12, 4:12] = 1, 2, 3
    video = {"path": str(photos), "width": 32, "height": 24, "frames": 2, "images": names}
    objects = [
        (1, "parrotfish", "concept"),
        (2, "parrotfish", "concept"),
        (3, "parrotfish", "concept"),
    ]
    path = tmp_path / "survey.zarr"
    prov = {"video": video, "engine": "sam3-concepts"}
    with MaskStore.create(path, height=24, width=32, objects=objects, provenance=prov) as s:
        s.append(labels, np.arange(2.0))
        s.mark_complete()
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="ecoseg")
    w = ReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.wait()
    return w, path


def test_a_survey_instance_has_no_duration(widget):
    """An instance of one photograph has no duration (NaN in the tracks table): its cell is
    blank, not ``nan`` nor ``0.0`` seconds."""
    w, _ = widget
    col = [w.gallery.horizontalHeaderItem(c).text() for c in range(w.gallery.columnCount())]
    dur = col.index("duration s")
    assert [w.gallery.item(r, dur).text() for r in range(w.gallery.rowCount())] == [""] * 3


def test_a_survey_is_reviewed_within_its_photographs(widget):
    w, path = widget
    assert w.gallery.rowCount() == 3
    w.select(1, 3)  # q1.png and q2.png: two animals
    w.merge()
    w.wait()
    text = w.status.text()
    assert text.startswith("error:") and "track 1 in q1.png, track 3 in q2.png" in text
    assert "--" not in text and [o["id"] for o in MaskStore.open(path).objects] == [1, 2, 3]
    w.select(3)
    w.set_class("sea urchin")
    w.wait()
    w.select(1, 2)  # one animal of q1.png found twice
    w.merge()
    w.wait()
    objects = {o["id"]: o for o in MaskStore.open(path).objects}
    assert sorted(objects) == [1, 3] and objects[3]["class"] == "sea urchin"
    assert objects[3]["reviewed"] and w.gallery.rowCount() == 2


def test_the_gallery_is_read_from_one_open_store_closed_after(widget, opened):
    """The gallery's rows opened the store and left it open (a zip store's file held), and
    the gallery's table opened it again, from a path, only to ask whether it is a photo
    survey. One open store now gives its regions, the survey flag, the thumbnails' masks and
    the edit warning, and is closed after."""
    from ecoseg.napari._review_work import gallery_rows

    _, path = widget
    opened.clear()
    rows = gallery_rows(path)
    assert [p for p, _ in opened] == [str(path)]
    assert opened[0][1].closed
    assert len(rows.table) == 3 and rows.table["duration_s"].isna().all()


def test_the_gallery_table_is_made_from_the_regions_table_and_the_flag(widget, monkeypatch):
    """The table asks no store (its caller has it open): the survey flag is given."""
    from ecoseg.measure.regions import regions
    from ecoseg.napari._gallery import gallery_table

    _, path = widget
    reg = regions(path)

    def refused(cls, *args, **kwargs):
        raise AssertionError("the gallery's table opened a store")

    monkeypatch.setattr(MaskStore, "open", classmethod(refused))
    table = gallery_table(reg, survey=True)
    assert table["object_id"].tolist() == [1, 2, 3] and table["duration_s"].isna().all()
