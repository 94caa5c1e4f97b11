"""Reader: videos open lazily with real frame times; stores open as Labels + Tracks in mm."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

import ecoseg  # noqa: E402
from ecoseg.measure import measure  # noqa: E402
from ecoseg.napari._check import missing_video  # noqa: E402
from ecoseg.napari._reader import get_reader  # noqa: E402
from ecoseg.sample import sample  # noqa: E402


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("clip"), seed=3, frames=12, size=(96, 64))


def test_reader_ignores_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "plain.zarr").mkdir()
    assert get_reader(str(tmp_path / "notes.txt")) is None
    assert get_reader(str(tmp_path / "plain.zarr")) is None


def test_video_opens_lazily_with_times(make_napari_viewer, clip):
    viewer = make_napari_viewer()
    layers = viewer.open(str(clip.video), plugin="ecoseg")
    (layer,) = layers
    video = ecoseg.open_video(clip.video)
    assert layer.rgb and layer.data.shape == (12, 64, 96, 3)
    meta = layer.metadata["ecoseg"]
    np.testing.assert_array_equal(meta["time_s"], video.times)
    loader = layer.data._ecoseg_loader
    assert loader.reads <= 2, "opening must not decode the whole video"
    viewer.dims.set_current_step(0, 7)
    np.testing.assert_array_equal(np.asarray(layer.data[7]), video.read(7).image)
    assert loader.reads < 12


def test_store_opens_as_labels_tracks_with_mm_scale(make_napari_viewer):
    truth = sample().truth
    viewer = make_napari_viewer()
    layers = viewer.open(str(truth), plugin="ecoseg")
    kinds = {type(layer).__name__: layer for layer in layers}
    assert set(kinds) == {"Image", "Labels", "Tracks"}
    labels, tracks = kinds["Labels"], kinds["Tracks"]
    ds = ecoseg.open_masks(truth)
    np.testing.assert_array_equal(np.asarray(labels.data[40]), ds.labels[40].values)
    mm = ds.attrs["mm_per_px"]
    for layer in layers:
        assert tuple(layer.scale[-2:]) == (mm, mm)
        assert [str(u) for u in layer.units[-2:]] == ["millimeter", "millimeter"]
    feats = labels.features.set_index("index")
    for oid, cls in zip(ds.object.values, ds.object_class.values):
        assert feats.loc[oid, "class"] == cls
    np.testing.assert_array_equal(labels.metadata["ecoseg"]["time_s"], ds.time.values)
    # one track point per (frame, object) present, at the mask centroid
    regions = measure(truth)["regions"]
    assert len(tracks.data) == len(regions)
    row = regions.iloc[17]
    point = tracks.data[(tracks.data[:, 0] == row.object_id) & (tracks.data[:, 1] == row.frame)][0]
    np.testing.assert_allclose(point[2:], [row.centroid_y_px, row.centroid_x_px])


def _store_that_lost_a_chunk(tmp_path, clip):
    """A store made by the writer (4 frames per chunk) whose labels chunk of frames 4..7 is
    gone; the message a read of those frames must give."""
    from ecoseg.store import MaskStore

    src = MaskStore.open(clip.truth)
    path = tmp_path / "lost.zarr"
    with MaskStore.create(path, height=src.height, width=src.width, chunk_frames=4) as out:
        out.add_objects(list(src.object_records().values()))
        out.append(src.read_labels(), src.read_time())
    return path, (
        f"{path}: 'labels' frames 4..7 cannot be read; the store is damaged "
        "(chunk labels/c/1/0/0 is missing)"
    )


def test_store_that_lost_a_chunk_is_refused(make_napari_viewer, tmp_path, clip):
    path, message = _store_that_lost_a_chunk(tmp_path, clip)
    (path / "labels" / "c" / "1" / "0" / "0").unlink()
    viewer = make_napari_viewer()
    with pytest.raises(Exception) as info:  # napari wraps the reader's error
        viewer.open(str(path), plugin="ecoseg")
    assert message in str(info.value)
    assert not viewer.layers


def test_lazy_labels_layer_refuses_a_chunk_lost_after_opening(
    make_napari_viewer, tmp_path, clip, monkeypatch
):
    # a store over EDITABLE_BYTES stays lazy in napari: frames are read as they are shown
    from ecoseg.errors import StoreError
    from ecoseg.napari import _layers

    monkeypatch.setattr(_layers, "EDITABLE_BYTES", 0)
    path, message = _store_that_lost_a_chunk(tmp_path, clip)
    viewer = make_napari_viewer()
    layers = viewer.open(str(path), plugin="ecoseg")
    (labels,) = [layer for layer in layers if type(layer).__name__ == "Labels"]
    assert not isinstance(labels.data, np.ndarray)  # lazy
    (path / "labels" / "c" / "1" / "0" / "0").unlink()  # lost by a sync tool while open
    assert np.asarray(labels.data[9]).any()
    with pytest.raises(StoreError) as info:
        np.asarray(labels.data[5])
    assert str(info.value) == message


def _join_video_checks() -> None:
    import threading

    from ecoseg.napari._check import THREAD_NAME

    for thread in threading.enumerate():
        if thread.name == THREAD_NAME:
            thread.join(timeout=120)


def _ecoseg_warnings() -> list[str]:
    from napari.utils.notifications import notification_manager

    return [str(n.message) for n in notification_manager.records if "ecoseg:" in str(n.message)]


def test_a_same_sized_clip_beside_a_store_is_named_in_a_warning(make_napari_viewer, tmp_path):
    """A different clip of the same size and length found beside the store: the layers show,
    and a background check warns with both files (was: shown under the masks silently) and
    the video layer's name (was: "the video layer", which of several?); the layer stays (the
    user chose the files; a re-encoded copy shows the same frames under another sha256)."""
    import shutil

    clip = ecoseg.synth(tmp_path / "clip", seed=3, frames=6, size=(64, 48))
    other = ecoseg.synth(tmp_path / "other", seed=4, frames=6, size=(64, 48))
    shutil.copyfile(other.video, clip.video)
    before = len(_ecoseg_warnings())
    viewer = make_napari_viewer()
    layers = viewer.open(str(clip.truth), plugin="ecoseg")
    assert [layer.metadata["ecoseg"]["kind"] for layer in layers][:2] == ["video", "masks"]
    _join_video_checks()
    said = _ecoseg_warnings()[before:]
    assert len(said) == 1, said
    assert str(clip.video) in said[0] and str(clip.truth) in said[0]
    assert "is not the video" in said[0] and "the sha256 differs" in said[0]
    video = layers[0]
    assert video.name == "video"
    assert "the video layer 'video' does not show this store's frames" in said[0]
    assert video in viewer.layers


def test_a_store_whose_video_is_not_found_warns_that_no_open_video_is_checked(
    make_napari_viewer, tmp_path
):
    """A store opened without its video, beside another clip of the same size already open:
    its masks showed over that clip without a word. The reader cannot see the other layers,
    so it warns that the store's video is not found and that no open video is checked."""
    import shutil

    clip = ecoseg.synth(tmp_path / "clip", seed=3, frames=6, size=(64, 48))
    other = ecoseg.synth(tmp_path / "other", seed=4, frames=6, size=(64, 48))
    store = shutil.copytree(clip.truth, tmp_path / "moved" / "T1.zarr")  # moved without video
    viewer = make_napari_viewer()
    viewer.open(str(other.video), plugin="ecoseg")
    before = len(_ecoseg_warnings())
    layers = viewer.open(str(store), plugin="ecoseg")
    _join_video_checks()
    assert [layer.metadata["ecoseg"]["kind"] for layer in layers] == ["masks", "tracks"]
    (said,) = _ecoseg_warnings()[before:]
    made = ecoseg.open_masks(store).attrs["provenance"]["video"]["path"]
    assert said == (  # the recorded path once ('open video.mp4' named it twice), then where
        f"ecoseg: {made}, the video {store} was made from, is not found (not at that path "
        f"from the current folder, nor at {store.parent / made}, nor in a folder moved whole "
        "with the store): its masks open without it, and no video already open in the viewer "
        "is checked against them; open the video to see them on their own footage"
    )
    # a store that records no video (masks drawn by hand): nothing to look for, no warning
    from ecoseg.napari._writer import write_labels

    drawn = tmp_path / "drawn.zarr"
    write_labels(str(drawn), np.asarray(layers[0].data), {"name": "drawn"})
    before = len(_ecoseg_warnings())
    viewer.open(str(drawn), plugin="ecoseg")
    assert _ecoseg_warnings()[before:] == []


def test_the_stores_own_video_gives_no_warning(make_napari_viewer, tmp_path):
    clip = ecoseg.synth(tmp_path / "clip", seed=3, frames=6, size=(64, 48))
    before = len(_ecoseg_warnings())
    viewer = make_napari_viewer()
    viewer.open(str(clip.truth), plugin="ecoseg")
    _join_video_checks()
    assert _ecoseg_warnings()[before:] == []


def refusal(path) -> str:
    """The one line ``ecoseg.measure`` refuses a half-written store with."""
    from ecoseg.errors import StoreError

    with pytest.raises(StoreError) as refused:
        measure(path)
    return str(refused.value)


def _half_edited(tmp_path, clip, interrupt_edit):
    """A copy of the clip's truth that an ``ecoseg edit`` killed mid-write left half written,
    and the message ``ecoseg measure`` refuses it with."""
    import shutil

    path = shutil.copytree(clip.truth, tmp_path / "edited.zarr")
    interrupt_edit(path)
    return path, refusal(path)


def test_a_half_edited_store_opens_with_one_warning(
    make_napari_viewer, tmp_path, clip, interrupt_edit
):
    """A store an interrupted ``ecoseg edit`` left half written: the layers show (looking is
    harmless) with one warning in measure's words (was: shown as if final, silently); once
    the edit is completed, opening it says nothing."""
    from ecoseg.cli import main

    path, message = _half_edited(tmp_path, clip, interrupt_edit)
    assert "unfinished" in message and f"ecoseg edit {path} --resume" in message
    viewer = make_napari_viewer()
    before = len(_ecoseg_warnings())
    layers = viewer.open(str(path), plugin="ecoseg")
    _join_video_checks()
    assert [layer.metadata["ecoseg"]["kind"] for layer in layers] == ["masks", "tracks"]
    missing = f"ecoseg: {missing_video(layers[0].metadata['ecoseg'])}"  # its video stayed behind
    assert _ecoseg_warnings()[before:] == [f"ecoseg: {message}", missing]

    assert main(["edit", str(path), "--resume"]) == 0
    before = len(_ecoseg_warnings())
    viewer.open(str(path), plugin="ecoseg")
    _join_video_checks()
    assert _ecoseg_warnings()[before:] == [missing]


def test_a_folder_store_shows_its_images_at_the_rate_it_was_made_at(tmp_path):
    """``segment FOLDER --fps 10`` times frame i at i/10 s; the reader showed the folder's
    images at the reader's default 30 fps beside masks at 10 fps."""
    from PIL import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.full((48, 64, 3), 40 * i, np.uint8)).save(folder / f"f_{i:04d}.png")
    store = tmp_path / "m.zarr"
    ecoseg.segment(str(folder), out=store, fps=10, progress=False)
    layers = get_reader(str(store))(str(store))
    kinds = {kind: kwargs["metadata"]["ecoseg"] for _, kwargs, kind in layers}
    np.testing.assert_allclose(kinds["image"]["time_s"], [0.0, 0.1, 0.2, 0.3])
    assert kinds["image"]["fps"] == 10.0
    np.testing.assert_allclose(kinds["labels"]["time_s"], kinds["image"]["time_s"])
