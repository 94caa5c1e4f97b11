"""The report shows the motion tracker's moving-camera warning from the store's provenance."""

from __future__ import annotations

import warnings

from ecoseg.engine.classical import segment_classical
from ecoseg.engine.classical.motion import FastCameraWarning
from ecoseg.io.video import open_video
from ecoseg.report import report
from ecoseg.store import MaskStore
from ecoseg.synth import synth


def _tracked(tmp_path, camera):
    clip = synth(tmp_path / camera, seed=1, frames=30, size=(320, 180), camera=camera)
    path = tmp_path / f"{camera}.zarr"
    store = MaskStore.create(
        path, height=180, width=320, provenance={"engine": "classical", "video": {"path": "v"}}
    )
    with warnings.catch_warnings(), open_video(clip.video) as video:
        warnings.simplefilter("ignore", FastCameraWarning)
        segment_classical(video, store)
    store.close()
    return path


def test_report_warns_about_a_fast_camera_and_only_then(tmp_path):
    fast = _tracked(tmp_path, "fast-pan")
    still = _tracked(tmp_path, "static")
    page = report({"fast": fast, "still": still}, tmp_path / "r.html").read_text()
    assert page.count('class="warn camera-warning"') == 1
    assert "fast: the camera moved" in page and "sam2 engine is the tool" in page
    assert "still: the camera moved" not in page
    assert "camera 0.0 px/frame" in page  # the static video's figure, in its engine cell
