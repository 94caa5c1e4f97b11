"""ecoseg.info.summary: what a store holds, from its attributes and times."""

from __future__ import annotations

import numpy as np
import pytest

from ecoseg._version import __version__
from ecoseg.errors import StoreError
from ecoseg.info import StoreSummary, summary
from ecoseg.store import MaskStore


def test_summary_of_a_truth_store(clip):
    s = summary(clip.truth)
    assert isinstance(s, StoreSummary)
    assert (s.width, s.height, s.frames, s.chunk_frames) == (64, 48, 16, 4)
    assert s.complete
    times = MaskStore.open(clip.truth).read_time()
    assert s.start_s == pytest.approx(times[0]) and s.end_s == pytest.approx(times[-1])
    assert s.duration_s == pytest.approx(16 / 30.0)
    objects = MaskStore.open(clip.truth).object_records().values()
    assert s.objects == len(objects) > 0
    assert sum(s.classes.values()) == s.objects
    assert s.classes == {
        c: sum(o.class_name == c for o in objects) for c in {o.class_name for o in objects}
    }
    assert list(s.classes.values()) == sorted(s.classes.values(), reverse=True)
    assert s.sources == {"truth": s.objects}
    # every class is named with the objects: from the prompt (as the tables say), not unknown
    assert s.class_sources == {"prompt": s.objects}
    assert (s.reviewed, s.edits) == (0, 0)
    assert s.engine == "truth"
    assert s.video == "video.mp4" and len(s.video_sha256) == 64
    assert s.fps == 30.0
    assert s.ecoseg_version == __version__  # the writer's version, not ""
    assert s.calibration == {"mm_per_px": 25.0, "method": "synthetic"}
    text = "\n".join(s.lines())
    assert "16 of 64x48 px, complete" in text
    assert "25 mm/px (synthetic)" in text
    assert s.video_sha256 in text


def test_summary_of_an_interrupted_store(clip, tmp_path):
    src = MaskStore.open(clip.truth)
    path = tmp_path / "run.zarr"
    store = MaskStore.create(
        path,
        height=48,
        width=64,
        chunk_frames=4,
        objects=list(src.object_records().values()),
        provenance={**src.provenance, "engine": "sam2", "model": {"variant": "sam2.1-tiny"}},
    )
    store.append(src.read_labels(0, 10), src.read_time()[:10])
    store.close()  # killed before mark_complete()
    s = summary(path)
    assert not s.complete
    assert s.frames == 10
    assert (s.engine, s.model) == ("sam2", "sam2.1-tiny")
    text = "\n".join(s.lines())
    assert "INCOMPLETE" in text
    assert f"ecoseg segment {src.provenance['video']['path']} -o {path} --resume" in text


def test_an_interrupted_store_of_a_moved_folder_resumes_from_its_video_there(
    clip, tmp_path, monkeypatch
):
    """A folder moved whole (a study's videos and stores on another disk): the store records
    its video's absolute path before the move, and ``ecoseg info`` told the user to resume
    with that path, which is not there. It now names the video where the folder holds it."""
    import shutil

    src = MaskStore.open(clip.truth)
    old = tmp_path / "old"
    shutil.copy(clip.video, (old / "clips").mkdir(parents=True) or old / "clips" / "T1.mp4")
    video = {**src.provenance["video"], "path": str(old / "clips" / "T1.mp4")}
    store = MaskStore.create(
        old / "out" / "T1.zarr",
        height=48,
        width=64,
        chunk_frames=4,
        objects=list(src.object_records().values()),
        provenance={**src.provenance, "engine": "classical", "video": video},
    )
    store.append(src.read_labels(0, 8), src.read_time()[:8])
    store.close()  # killed before mark_complete()
    shutil.move(old, tmp_path / "new")
    monkeypatch.chdir(tmp_path / "new")
    text = "\n".join(summary("out/T1.zarr").lines())
    assert "ecoseg segment clips/T1.mp4 -o out/T1.zarr --resume" in text
    assert str(old) not in text


def test_summary_counts_review_edits(truth):
    from ecoseg.species import Review

    first = int(MaskStore.open(truth).object_ids[0])
    review = Review(truth)
    review.set_class(first, "grouper")
    s = summary(truth)
    assert s.edits == 1
    assert s.reviewed == 1
    assert s.class_sources.get("reviewed") == 1
    assert s.classes["grouper"] == 1
    assert "1 edit, 1 of" in "\n".join(s.lines())


def test_summary_does_not_count_edits_an_undo_took_back(truth):
    """A store whose edits were all undone holds none: ``review`` reads as before them (it
    counted the edits and the undo entries: ``2 edits``), and a later edit is counted again."""
    from ecoseg.species import Review

    before = summary(truth).lines()
    first = int(MaskStore.open(truth).object_ids[0])
    review = Review(truth)
    review.set_class(first, "grouper")
    review.undo()
    assert summary(truth).lines() == before and summary(truth).edits == 0
    review.mark_reviewed(first)
    assert "review       1 edit, 1 of" in "\n".join(summary(truth).lines())


def test_summary_to_dict_keys_are_stable(clip):
    d = summary(clip.truth).to_dict()
    assert list(d)[:5] == ["path", "width", "height", "frames", "complete"]
    assert set(d) >= {"classes", "class_sources", "edits", "video_sha256", "calibration"}


def test_summary_of_something_else_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        summary(tmp_path / "missing.zarr")
    (tmp_path / "notes.txt").write_text("site A")
    with pytest.raises(StoreError):
        summary(tmp_path / "notes.txt")


def test_empty_store(tmp_path):
    MaskStore.create(tmp_path / "e.zarr", height=4, width=5).close()
    s = summary(tmp_path / "e.zarr")
    assert (s.frames, s.objects, s.start_s, s.duration_s) == (0, 0, None, 0.0)
    assert np.isfinite(s.duration_s)


def test_a_frame_rate_stored_as_text_is_unknown(truth):
    """A hand-edited provenance (``"fps": "30"``) crashed the summary with a ValueError."""
    import json

    meta = truth / "zarr.json"
    data = json.loads(meta.read_text())
    data["attributes"]["ecoseg"]["provenance"]["video"]["fps"] = "thirty"
    meta.write_text(json.dumps(data))
    s = summary(truth)
    assert s.fps is None and s.frames == 16


def test_video_notes_show_what_was_done_to_the_footage(truth):
    """A store made from a rotated, anamorphic or joined recording said nothing of it."""
    import json

    meta = truth / "zarr.json"
    data = json.loads(meta.read_text())
    data["attributes"]["ecoseg"]["provenance"]["video"].update(
        start_s=1.5,
        upright_turns=3,
        interlaced=True,
        pixel_aspect=[4, 3],
        timing="reef.ts: timestamps jump back 50.267 s at frame 10 (t=0.333 s; ...)",
        truncated="reef.ts: the file ends before its index does: 21 of 40 frames ...",
    )
    meta.write_text(json.dumps(data))
    s = summary(truth)
    assert s.video_notes == [
        "frame 0 is at 1.5 s of the stream's clock; times count from it",
        "turned upright by its display matrix (3 quarter turns clockwise)",
        "interlaced: read as whole frames, not deinterlaced",
        "pixels are not square (4:3); masks are in the stored pixels",
        "reef.ts: timestamps jump back 50.267 s at frame 10 (t=0.333 s; ...)",
        "reef.ts: the file ends before its index does: 21 of 40 frames ...",
    ]
    text = "\n".join(s.lines())
    assert "    pixels are not square (4:3)" in text
    assert s.to_dict()["video_notes"] == s.video_notes


def test_plain_footage_has_no_video_notes(clip):
    s = summary(clip.truth)
    assert s.video_notes == [] and s.to_dict()["video_notes"] == []


def test_the_calibration_reads_as_ecoseg_prints_one(truth):
    """``ecoseg info`` named how a calibration was measured by its stored key
    (``0.5 mm/px (scale_bar)``), where ``measure`` and the report say ``scale bar``; a
    calibration that measuring refuses read as if it could be used (``5000 mm/px (scale)``)."""
    import json

    from ecoseg.measure.calibration import Calibration

    with MaskStore.open(truth, mode="a") as s:
        Calibration.from_scale_bar((0, 0), (0, 40), 20).save(s)
    assert "calibration  0.5 mm/px (scale bar)" in "\n".join(summary(truth).lines())
    meta = truth / "zarr.json"
    data = json.loads(meta.read_text())
    data["attributes"]["ecoseg"]["calibration"] = {"mm_per_px": 5000, "method": "scale"}
    meta.write_text(json.dumps(data))
    assert "calibration  not usable (calibration mm_per_px=5000 mm/px is outside the " in (
        "\n".join(summary(truth).lines())
    )


def test_a_photo_survey_has_no_time_span(tmp_path):
    """A photo survey's ``time`` is each image's index: it said ``time  3 s (0.000 to 2.000 s)``
    of three photographs; it says there is no time axis, and ``--json`` has ``photos``."""
    video = {"path": "quadrats", "images": ["q1.png", "q2.png", "q10.png"], "frames": 3}
    store = MaskStore.create(
        tmp_path / "survey.zarr",
        height=4,
        width=6,
        chunk_frames=4,
        provenance={"engine": "sam3-concepts", "video": video},
    )
    store.append(np.zeros((3, 4, 6), np.uint32), np.arange(3.0))
    store.close()
    s = summary(tmp_path / "survey.zarr")
    assert s.photos and s.to_dict()["photos"]
    assert s.lines()[2] == (
        "  time         none: a photo survey, one frame per photograph (time_s is its index), "
        "4 per chunk"
    )
    video = StoreSummary("m.zarr", 6, 4, 3, True, 0.1, 0.0, 0.07, 4, 0)  # a video's: as before
    assert video.lines()[2] == "  time         0.1 s (0.000 to 0.070 s), 4 frames per chunk"


def _store_made_with(clip, path, **provenance):
    src = MaskStore.open(clip.truth)
    store = MaskStore.create(
        path,
        height=48,
        width=64,
        chunk_frames=4,
        objects=list(src.object_records().values()),
        provenance={**src.provenance, **provenance},
    )
    store.append(src.read_labels(0, 4), src.read_time()[:4])
    store.mark_complete()
    store.close()
    return path


def test_summary_says_the_settings_the_masks_were_made_with(clip, tmp_path):
    """``segment --fast --auto --forward-only`` and ``--params '{"threshold": 4.5}'``: info's
    `made by` line said only the engine, model and device, so a bf16 run, a discovery run or a
    motion tracker run at another threshold read like a default one."""
    network = _store_made_with(
        clip,
        tmp_path / "sam2.zarr",
        engine="sam2",
        model={"variant": "sam2.1-tiny", "image_size": 64, "pretrained": True},
        parameters={"device": "cpu", "fast": True, "key_interval": 4},
        auto=True,
        backward=False,
    )
    s = summary(network)
    assert s.settings == [
        "bf16 (--fast)",
        "automatic discovery (--auto, every 4 frames)",
        "frames before the first prompt left empty (--forward-only)",
    ]
    assert "  settings     bf16 (--fast); automatic discovery" in "\n".join(s.lines())
    assert s.camera is None and s.to_dict()["settings"] == s.settings
    plain = _store_made_with(
        clip,
        tmp_path / "plain.zarr",
        engine="sam2",
        model={"variant": "sam2.1-tiny"},
        parameters={"device": "cpu"},
        backward=True,
    )
    assert summary(plain).settings == []
    assert not any(x.startswith("  settings") for x in summary(plain).lines())


def test_summary_says_the_motion_trackers_parameters_and_camera(clip, tmp_path):
    """A motion tracker run records its parameters and the camera's motion (the warning of a
    camera too fast for it); info showed neither."""
    import ecoseg

    out = ecoseg.segment(
        clip.video, out=tmp_path / "m.zarr", engine="classical", params={"threshold": 4.5}
    )
    s = summary(out)
    assert s.settings == ["motion tracker parameters threshold 4.5 (others at their defaults)"]
    assert s.camera.startswith("moved 0.0 px per frame, within the motion tracker's limit")
    fast = {"camera_speed": 12.6, "animal_speed": 7.9, "limit": 3.2, "too_fast": True}
    fast |= {"frames": 40, "frame_width": 320}
    panned = _store_made_with(
        clip, tmp_path / "pan.zarr", engine="classical", parameters={}, camera_motion=fast
    )
    line = [x for x in summary(panned).lines() if x.startswith("  camera")]
    assert line == [
        "  camera       the camera moved 12.6 px per frame (3.9 % of the frame width), 1.6x as "
        "fast as the tracked animals (7.9 px per frame) and above the motion tracker's limit "
        "of 3.2 px per frame: motion segmentation cannot separate the animals from the moving "
        "scene; the sam2 engine is the tool for such footage (ecoseg segment --engine sam2 "
        "with --prompts or --auto)"
    ]
    assert summary(panned).settings == []
