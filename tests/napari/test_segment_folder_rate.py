"""Segment & track on a folder of numbered images: its frame rate field (as ``segment --fps``).

A folder was tracked at the reader's default 30 fps whatever the rate of the images, and the
masks recorded no rate, so a store saved from the widget reopened at 30 fps.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

import ecoseg  # noqa: E402

N = 30


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder of numbered PNGs: the frames of a synthetic clip with moving animals."""
    from PIL import Image

    root = tmp_path_factory.mktemp("rate")
    clip = ecoseg.synth(root / "clip", seed=3, frames=N, size=(160, 96))
    out = root / "frames"
    out.mkdir()
    with ecoseg.open_video(clip.video) as reader:
        for frame in reader:
            Image.fromarray(frame.image).save(out / f"frame_{frame.index:04d}.png")
    return out


@pytest.fixture
def widget(make_napari_viewer, qtbot):
    from ecoseg.napari._segment import SegmentWidget

    w = SegmentWidget(make_napari_viewer())
    yield w
    if w._worker is not None:
        w.cancel()
        qtbot.waitUntil(lambda: w._worker is None, timeout=60_000)


def _track(w, qtbot, fps):
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.run()
    assert w.status.text() == f"tracking with the motion tracker (image folder at {fps} fps)…"
    qtbot.waitUntil(lambda: w._worker is None, timeout=120_000)
    assert w.status.text().startswith("done"), w.status.text()
    return w.viewer.layers["ecoseg masks"]


def _save(layer, path):
    from ecoseg.napari._writer import write_labels

    data, state, _ = layer.as_layer_data_tuple()
    write_labels(str(path), data, state)
    return path


def test_a_folder_tracked_at_fps_10_gives_store_times_i_over_10(widget, qtbot, folder, tmp_path):
    from ecoseg.napari._reader import get_reader
    from ecoseg.store import MaskStore

    w = widget
    video = w.open_folder(str(folder))
    assert w.video_layer() is video and video.data.shape[:3] == (N, 96, 160)
    assert w.fps_edit.isEnabled() and w.fps_edit.text() == "30"  # the folder reader's default
    w.fps_edit.setText("10")
    masks = _track(w, qtbot, 10)
    assert w._job.fps == 10.0  # the engine read the folder at 10 fps
    assert np.asarray(masks.data).any()
    np.testing.assert_allclose(video.metadata["ecoseg"]["time_s"], np.arange(N) / 10)
    t = int(w.viewer.dims.current_step[0])
    assert w.time_label.text() == f"frame {t} of {N} · {t / 10:.3f} s"  # was t / 30

    store = _save(masks, tmp_path / "widget.zarr")
    np.testing.assert_allclose(ecoseg.open_masks(store).time.values, np.arange(N) / 10)
    made = MaskStore.open(store).provenance_record.video
    assert (made.path, made.fps, made.extra.get("image_folder")) == (str(folder), 10.0, True)
    assert made.frame_size == (160, 96) and made.frames == N
    # the saved store opens again with its images at the rate it was tracked at
    layers = get_reader(str(store))(str(store))
    times = {kind: kwargs["metadata"]["ecoseg"]["time_s"] for _, kwargs, kind in layers}
    np.testing.assert_allclose(times["image"], np.arange(N) / 10)


def test_a_folder_store_made_at_10_fps_is_tracked_at_10_fps(widget, qtbot, folder, tmp_path):
    """A folder shown from a ``segment --fps 10`` store: Track ran it at 30 fps."""
    from ecoseg.store import MaskStore

    made_by_cli = tmp_path / "cli.zarr"
    ecoseg.segment(str(folder), out=made_by_cli, fps=10, progress=False)
    w = widget
    w.viewer.open(str(made_by_cli), plugin="ecoseg")
    assert w.fps_edit.isEnabled() and w.fps_edit.text() == "10"
    masks = _track(w, qtbot, 10)
    assert w._job.fps == 10.0
    store = _save(masks, tmp_path / "widget.zarr")
    cli, ours = (MaskStore.open(p).provenance_record.video for p in (made_by_cli, store))
    assert (ours.fps, ours.extra.get("image_folder")) == (cli.fps, True) == (10.0, True)
    np.testing.assert_allclose(
        ecoseg.open_masks(store).time.values, ecoseg.open_masks(made_by_cli).time.values
    )


@pytest.mark.parametrize("typed", ["0", "-10", "ten", "nan"])
def test_a_rate_that_is_not_above_0_is_refused_in_one_line(widget, folder, typed):
    w = widget
    video = w.open_folder(str(folder))
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.fps_edit.setText(typed)
    w.run()
    said = f"error: {folder}: bad fps {typed!r} for an image folder; expected a number > 0"
    assert w.status.text() == said
    assert w._worker is None and "ecoseg masks" not in w.viewer.layers
    w._apply_fps()  # leaving the field says the same, and the layer keeps its times
    assert w.status.text() == said
    np.testing.assert_allclose(video.metadata["ecoseg"]["time_s"], np.arange(N) / 30)


def test_leaving_the_field_retimes_the_folder_and_video_files_ignore_it(widget, folder):
    w = widget
    w.viewer.open_sample("ecoseg", "reef_video")
    assert not w.fps_edit.isEnabled() and w.fps_edit.text() == ""
    assert "timed by its own timestamps" in w.fps_edit.placeholderText()
    w.fps_edit.setText("10")  # typed anyway: a video file keeps its own times
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))  # needs no weights
    assert w._make_job().fps is None
    sample_video = w.video_layer()
    folder_video = w.open_folder(str(folder))
    assert w.fps_edit.isEnabled() and w.fps_edit.text() == "30"
    w.fps_edit.setText("2.5")
    w._apply_fps()
    assert w.status.text() == f"{folder_video.name}: image folder timed at 2.5 fps"
    np.testing.assert_allclose(folder_video.metadata["ecoseg"]["time_s"], np.arange(N) / 2.5)
    w.video_combo.setCurrentText(sample_video.name)
    assert not w.fps_edit.isEnabled() and w.fps_edit.text() == ""
    w.video_combo.setCurrentText(folder_video.name)
    assert w.fps_edit.text() == "2.5"  # the folder's rate, as it is now timed


def test_the_greyed_out_field_says_why_in_the_words_of_segment_fps(widget, tmp_path):
    """A single photograph was called a video file ("a video file is timed by its own
    timestamps"), which ``segment --fps`` does not say of it: both now say what it is."""
    from napari.layers import Layer
    from PIL import Image

    from ecoseg.napari._layers import video_layer

    w = widget
    w.viewer.open_sample("ecoseg", "reef_video")
    said = "image folders only: this is a video file, timed by its own timestamps"
    assert w.fps_edit.placeholderText() == said
    photo = tmp_path / "reef.jpg"
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(photo)
    layer = w.viewer.add_layer(Layer.create(*video_layer(photo)))
    w.video_combo.setCurrentText(layer.name)
    assert not w.fps_edit.isEnabled()
    said = "image folders only: this is a single image (a photograph), which has no time axis"
    assert w.fps_edit.placeholderText() == said


def test_a_folder_without_images_is_refused_in_one_line(widget, tmp_path):
    w = widget
    assert w.open_folder(str(tmp_path)) is None
    assert w.status.text().startswith(f"error: {tmp_path}")
    assert "\n" not in w.status.text() and len(w.viewer.layers) == 0


@pytest.fixture(scope="module")
def unnumbered(tmp_path_factory, folder):
    """The frames of ``folder`` under names that carry no frame numbers (read in name order)."""
    out = tmp_path_factory.mktemp("unnumbered")
    for i, png in enumerate(sorted(folder.iterdir())[:6]):
        (out / f"reef {'abcdef'[i]}.png").write_bytes(png.read_bytes())
    return out


def test_a_folder_of_unnumbered_images_is_said_to_be_read_in_name_order_once(
    widget, qtbot, unnumbered, folder, monkeypatch, tmp_path
):
    """``ecoseg segment`` and ``ecoseg.segment`` warn that such a folder is read in name order
    (``as_reader``); the widget opened the folder itself and said nothing."""
    from napari.utils import notifications

    from ecoseg.io import VideoWarning
    from ecoseg.io.folder import image_names, unnumbered_note
    from ecoseg.napari._jobs import Job, run_job

    shown = []
    monkeypatch.setattr(notifications, "show_warning", shown.append)
    w = widget
    w.open_folder(str(unnumbered))
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.run()
    qtbot.waitUntil(lambda: w._worker is None, timeout=120_000)
    with pytest.warns(VideoWarning, match="name order") as said:  # what segment says of it
        ecoseg.segment(str(unnumbered), out=tmp_path / "m.zarr", engine="classical", progress=False)
    notes = [str(x.message) for x in said if "name order" in str(x.message)]
    assert notes == [f"{unnumbered}: {unnumbered_note(image_names(unnumbered))}"]
    assert "carry no frame numbers (reef a.png, reef b.png, reef c.png, ...)" in notes[0]
    assert shown == [f"ecoseg: {notes[0]}"]  # once, in segment's words
    assert w.status.text().startswith("done: 6 frames")
    assert w.status.text().endswith("(warning: see the notice)")
    # a numbered folder is said nothing
    job = Job(str(folder), engine="classical", stop=2)
    list(run_job(job))
    assert job.notices == []
