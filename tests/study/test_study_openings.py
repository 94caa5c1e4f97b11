"""How often a study run opens each video: once to probe it (before any work, with every
other video a run segments; the probe also gives the frame size that
``study.checks.check_frames_fit`` checks a calibration or species model against, which opened
the video once more until stop 58), once to segment it and once to draw the report's stills; a
re-run with nothing to redo opens none, and one that only measures again opens each only for
the report."""

from __future__ import annotations

from collections import Counter

import pytest
from study_helpers import EPOCH, write_study

import ecoseg
import ecoseg.io.video as io_video
from ecoseg.study import run_study


@pytest.fixture
def openings(monkeypatch):
    """Counts of (how, video file name) for every video a study probes or opens."""
    counts: Counter = Counter()
    probe, open_ = io_video.probe_video, io_video.open_video

    def probed(path, *args, **kwargs):
        counts["probe", f"{path}"] += 1
        return probe(path, *args, **kwargs)

    def opened(path, *args, **kwargs):
        counts["open", f"{path}"] += 1
        return open_(path, *args, **kwargs)

    monkeypatch.setattr(io_video, "probe_video", probed)
    monkeypatch.setattr(io_video, "open_video", opened)
    return counts


def test_each_video_is_opened_once_a_step_and_not_again_by_a_rerun(tmp_path, openings, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for name, seed in (("a", 3), ("b", 4)):
        ecoseg.synth(tmp_path / name, seed=seed, frames=6, size=(96, 64), n_invertebrates=0)
    path = write_study(tmp_path)
    videos = [str(tmp_path / name / "video.mp4") for name in ("a", "b")]
    run_study(path, progress=False)
    assert openings == Counter(
        {**{("probe", v): 1 for v in videos}, **{("open", v): 2 for v in videos}}
    )

    openings.clear()
    assert run_study(path, progress=False).report_written is False
    assert openings == Counter()

    path.write_text(path.read_text().replace("calibration: 20.0", "calibration: 25.0"))
    run_study(path, progress=False)  # measured again: the report's stills only
    assert openings == Counter({("open", v): 1 for v in videos})
