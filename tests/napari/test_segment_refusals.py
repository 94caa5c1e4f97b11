"""Segment & track refuses a run that cannot start, or would leave out what it was given,
before it clears the masks layer: in one line of its status line that names the widget's
controls (not the command's options), the masks made before kept."""

from __future__ import annotations

import numpy as np
import pytest
from napari_helpers import SAMPLE_FISH, click, random_sam2, wait_done

pytest.importorskip("napari", reason="napari is not installed (pip install -e '.[test]')")

from ecoseg.errors import ConfigError  # noqa: E402


@pytest.fixture
def widget(segment_widget):
    """The Segment & track widget on the sample video (``segment_widget`` in conftest.py)."""
    return segment_widget


def test_errors_show_in_the_widget(widget):
    w = widget
    random_sam2(w, until=3)
    w.run()  # SAM 2 without any click
    assert w.status.text().startswith("error: no prompts")
    assert w._worker is None
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.auto_check.setChecked(True)
    w.run()
    assert w.status.text().startswith("error: discover automatically needs the SAM 2")


def test_prompts_the_engine_would_ignore_are_refused_naming_the_engine_that_uses_them(
    widget, qtbot
):
    """Clicks and boxes with the motion tracker or SAM 3, a *find* text with SAM 2 or the
    motion tracker: the run left them out without a word (the find box was greyed out, so its
    text could not even be cleared). Now refused before the run, as discovery and network
    settings are for an engine without a use for them; the find box stays enabled."""
    w = widget
    points = click(w, SAMPLE_FISH)
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(2)
    w.run()
    assert w._worker is None and "ecoseg masks" not in w.viewer.layers
    assert w.status.text() == (
        'error: 1 click in the "ecoseg clicks" layer is a prompt for the SAM 2 engine, which '
        "the motion tracker ignores: choose the SAM 2 engine, or delete it"
    ), w.status.text()
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.run()
    assert w._worker is None and "which SAM 3 ignores" in w.status.text(), w.status.text()
    points.data = np.zeros((0, 3))
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam2"))
    assert w.find.isEnabled()
    w.find.find_edit.setText("parrotfish")
    w.run()
    assert w._worker is None and w.status.text() == (
        "error: \"find\" 'parrotfish' is for the SAM 3 engine, which SAM 2 ignores: choose the "
        'SAM 3 engine, or clear "find"'
    ), w.status.text()
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.run()
    assert "which the motion tracker ignores" in w.status.text(), w.status.text()
    w.find.find_edit.setText("")  # nothing left to ignore: it runs
    w.run()
    wait_done(qtbot, w)
    assert w.frames_done == 3


def test_library_errors_name_the_widgets_controls_not_the_commands_options(
    widget, tmp_path, monkeypatch
):
    """A library message spells an option ``image_size (--image-size)``; the widget names its
    control (napari_words with the widget's LABELS), or the keyword where it has none."""
    from ecoseg.napari._segment import LABELS
    from ecoseg.sam2.weights import ENV_DIR

    w = widget
    random_sam2(w, until=2)
    click(w, SAMPLE_FISH)
    w.size_spin.setValue(500)  # typed: the spin box steps by 64
    w.run()
    assert w._worker is None
    assert w.status.text() == (
        'error: "input size" must be a multiple of 32 from 64 to 4096 (e.g. 256, 512, 1024), '
        "got 500"
    ), w.status.text()
    form = w.size_spin.parentWidget().layout()  # the label the user reads beside the spin box
    assert form.labelForField(w.size_spin).text() == LABELS["--image-size"] == "input size"

    monkeypatch.setenv(ENV_DIR, str(tmp_path))  # an empty weights cache
    w.size_spin.setValue(128)
    w.random_check.setChecked(False)
    w.run()
    assert w._worker is None
    said = w.status.text()
    assert said.startswith("error: no weights for sam2.1-tiny in the cache") and "--" not in said
    assert said.endswith('or pass a checkpoint file with "checkpoint"'), said


def test_a_gpu_for_the_motion_tracker_is_refused_naming_the_device_control(widget):
    """The widget ran the motion tracker on the CPU with "device" set to cuda and said nothing
    (``segment --device cuda`` refuses it); and the library's message, spelled ``device 'cuda'
    (--device)``, was not rewritten by napari_words (a value after a space, quoted), so it
    would have named the command's flag. Now refused before the run, naming the control."""
    from ecoseg.napari._segment import LABELS

    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.device_combo.setCurrentIndex(w.device_combo.findData("cuda"))
    w.run()
    assert w._worker is None
    assert w.status.text() == (
        "error: \"device\" 'cuda' is for the sam2 and sam3 engines' networks; the classical "
        'motion tracker runs on the CPU: set "device" to auto or cpu'
    ), w.status.text()
    form = w.device_combo.parentWidget().layout()
    assert form.labelForField(w.device_combo).text() == LABELS["--device"] == "device"


def test_network_settings_for_the_motion_tracker_are_refused_naming_their_controls(widget):
    """With the motion tracker the widget ran with an "input size", a "checkpoint" or "random
    weights" left from SAM 2 (greyed out, so they could not be cleared) and said nothing, while
    ``segment --engine classical --image-size 512`` refuses it. Now refused before the run,
    naming the controls, which stay enabled to be cleared."""
    w = widget
    w.size_spin.setValue(512)  # chosen for SAM 2
    w.random_check.setChecked(True)
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    assert w.size_spin.isEnabled() and w.random_check.isEnabled() and w.checkpoint_edit.isEnabled()
    w.run()
    assert w._worker is None and "ecoseg masks" not in w.viewer.layers
    assert w.status.text() == (
        'error: "input size" 512, "random weights (testing only)" are for the sam2 and sam3 '
        'engines\' networks; the classical motion tracker has none: set "input size" to model '
        'default, untick "random weights (testing only)"'
    ), w.status.text()
    w.size_spin.setValue(0)
    w.random_check.setChecked(False)
    w.checkpoint_edit.setText("tiny.pt")
    w.run()
    assert w._worker is None and w.status.text() == (
        'error: "checkpoint" is for the sam2 and sam3 engines\' networks; the classical motion '
        'tracker has none: clear "checkpoint"'
    ), w.status.text()


def test_the_library_s_device_refusal_is_said_in_the_widget_s_words():
    from ecoseg.engine import check_device
    from ecoseg.napari._check import napari_words
    from ecoseg.napari._segment import LABELS

    with pytest.raises(ConfigError) as info:
        check_device("cuda:1", "classical")
    said = napari_words(str(info.value), LABELS)
    assert said.startswith("\"device\" 'cuda:1' is for the sam2 and sam3 engines"), said
    assert "(--device)" not in said


def test_a_run_that_cannot_start_keeps_the_masks_made_before(widget, qtbot, tmp_path, monkeypatch):
    """Track cleared the layer, then the run failed at once (no weights in the cache, a
    checkpoint path with a typo, a SAM 3 checkpoint with no vocabulary, an input size the
    model refuses): the motion tracker's masks were gone. Such a run is refused first, in the
    status line, and the masks stay; the SAM 3 checkpoint is not read."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(10)  # the motion tracker finds the first fish by then
    w.run()
    qtbot.waitUntil(lambda: w._worker is None, timeout=120_000)
    masks = w.viewer.layers["ecoseg masks"]
    made = np.asarray(masks.data).copy()
    assert made.any()

    random_sam2(w, until=4)
    click(w, SAMPLE_FISH)
    w.random_check.setChecked(False)
    missing = tmp_path / "sam2.1_hiera_tiny.pt"
    w.checkpoint_edit.setText(str(missing))  # a typo: not there
    w.run()
    assert w._worker is None
    assert w.status.text() == f"error: {missing}: checkpoint file not found", w.status.text()
    assert np.array_equal(np.asarray(masks.data), made)

    w.viewer.layers.remove("ecoseg clicks")  # SAM 3 would ignore the click: refused
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.find.find_edit.setText("parrotfish")
    w.size_spin.setValue(336)
    alone = tmp_path / "sam3.pt"
    alone.write_bytes(b"\x80\x02not read")  # the vocabulary is refused before it is read
    w.checkpoint_edit.setText(str(alone))
    w.run()
    assert w._worker is None
    assert w.status.text().startswith(f"error: {alone}: no tokenizer vocabulary beside it")
    assert np.array_equal(np.asarray(masks.data), made)

    w.checkpoint_edit.setText("")
    w.random_check.setChecked(True)
    w.size_spin.setValue(112)  # under SAM 3's attention window
    w.run()
    assert w._worker is None and "smaller than the 24-patch attention window" in w.status.text()
    assert np.array_equal(np.asarray(masks.data), made)


def test_shapes_other_than_rectangles_are_refused_not_left_out(widget):
    """An ellipse drawn round an animal in the boxes or exemplar layer is refused naming the
    layer (it was dropped unsaid: SAM 2 ran on the other prompts or said "no prompts")."""
    w = widget
    random_sam2(w, until=2)
    _, boxes = w.add_prompt_layers()
    ellipse = np.array([[0, 140, 300], [0, 140, 360], [0, 180, 360], [0, 180, 300]], float)
    boxes.add_ellipses(ellipse)
    want = "'ecoseg boxes': shape 1 is an ellipse; prompts are rectangles"
    w.masks_layer()  # something to re-track from
    for go in (w.run, w.retrack):
        go()
        assert w.status.text().startswith(f"error: {want}"), w.status.text()
        assert w._worker is None
    w.auto_check.setChecked(True)  # with discovery too
    w.run()
    assert w.status.text().startswith(f"error: {want}") and w._worker is None
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("sam3"))
    w.viewer.layers.remove("ecoseg boxes")  # SAM 3 would ignore the boxes: refused
    w.auto_check.setChecked(False)
    w.find.find_edit.setText("parrotfish")
    w.find.add_exemplar_layer().add_ellipses(ellipse)
    w.run()
    assert w.status.text().startswith("error: 'ecoseg exemplars': shape 1 is an ellipse")
    assert w._worker is None


def test_track_until_before_the_first_click_is_refused(widget):
    """Track until frame 3 with the only click on frame 8 tracks nothing: refused in one line,
    the masks layer kept (it ran, said "done: 0 frames tracked" and had cleared the layer)."""
    w = widget
    random_sam2(w, until=3)
    click(w, (8, *SAMPLE_FISH[1:]))
    masks = w.masks_layer()
    masks.data[0, :2, :2] = 5  # a mask painted before
    w.run()
    assert w.status.text() == (
        "error: nothing to track: track until is frame 3, before frame 8 where tracking "
        "starts (its first click or box, or the current frame)"
    )
    assert w._worker is None and masks.data[0, 0, 0] == 5
    masks.data[5, :2, :2] = 5
    w.viewer.dims.set_current_step(0, 5)
    w.retrack()  # from frame 5 (its masks) on: also after "track until"
    assert "before frame 5 where tracking starts" in w.status.text() and w._worker is None


@pytest.mark.parametrize(
    ("job", "segment_kwargs"),
    [
        ({"model": "sam2.1-tyni"}, {"engine": "sam2", "model": "sam2.1-tyni"}),
        (
            {"engine": "sam3", "model": "sam3-large", "concepts": ("coral",)},
            {"model": "sam3-large", "concepts": ["coral"]},
        ),
    ],
    ids=["sam2", "sam3"],
)
def test_run_job_refuses_an_unknown_model_before_it_opens_the_video(tmp_path, job, segment_kwargs):
    """``run_job`` (the Python API of the widget's runs) opened the video and read the prompts
    first and found an unknown model only when the network was built: a missing video was
    named instead. Its settings are checked first now, as ``ecoseg.segment`` checks the model
    before it reads the video, in the same words."""
    import ecoseg
    from ecoseg.napari._jobs import Job, run_job

    missing = str(tmp_path / "missing.mp4")
    with pytest.raises(ConfigError) as segment_said:
        ecoseg.segment(missing, out=str(tmp_path / "out.zarr"), **segment_kwargs)
    with pytest.raises(ConfigError) as said:
        next(run_job(Job(missing, **job)))
    assert str(said.value) == str(segment_said.value)
    assert str(said.value).startswith("unknown SAM"), str(said.value)


def test_run_job_refuses_a_network_setting_for_the_motion_tracker_as_the_widget_does(tmp_path):
    """``run_job`` ran the motion tracker given an input size (which it has no network for)
    without a word, where the widget's check before *Track* refused it: now refused by the run
    too, in the same words, before the video is opened."""
    from ecoseg.napari._jobs import Job, check_job, run_job

    job = Job(str(tmp_path / "missing.mp4"), engine="classical", image_size=512)
    with pytest.raises(ConfigError) as widget_said:
        check_job(job, 10)
    with pytest.raises(ConfigError) as said:
        next(run_job(job))
    assert str(said.value) == str(widget_said.value)
    assert str(said.value).startswith("image_size=512 (--image-size) is for"), str(said.value)


def test_track_and_retrack_check_the_settings_once_per_click(widget, qtbot, monkeypatch):
    """*Track* checked the job's settings twice, before it cleared the layer (``check_job``)
    and again in the run (``run_job``); a ``run_job`` caller that does not check first is
    still refused (above). *Re-track* checked the job of the chosen engine, then ran SAM 2."""
    from ecoseg.napari import _jobs, _segment

    checked = []
    check = _jobs.check_settings

    def counted(job):
        checked.append(job.engine)
        check(job)

    def no_run(job, checked=False):  # re-track's check, not its network
        yield from ()

    monkeypatch.setattr(_jobs, "check_settings", counted)
    w = widget
    w.engine_combo.setCurrentIndex(w.engine_combo.findData("classical"))
    w.until_spin.setValue(2)
    w.run()
    wait_done(qtbot, w)
    assert checked == ["classical"]
    random_sam2(w, until=3)
    click(w, SAMPLE_FISH)
    w.viewer.dims.set_current_step(0, int(SAMPLE_FISH[0]))  # the click's frame
    monkeypatch.setattr(_segment, "run_job", no_run)
    checked.clear()
    w.retrack()
    wait_done(qtbot, w)
    assert checked == ["sam2"]
