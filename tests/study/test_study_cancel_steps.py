"""``run_study(..., cancel=event)`` set inside one video's classify or measure step: the step
stops before its next chunk of masks or video frame (not at its end), writes nothing (the
store's classes and edit log, the video's tables and manifest entry as they were), and
:class:`Cancelled` names the video's entry, the step and the store; the same call again ends
as an uninterrupted study."""

from __future__ import annotations

import shutil
import threading

import pandas as pd
import pytest
from study_helpers import EPOCH, species_study

import ecoseg.measure.regions
import ecoseg.species.features
from ecoseg.errors import Cancelled
from ecoseg.species import edit_log
from ecoseg.store import MaskStore
from ecoseg.study import run_study

VIDEOS = ("reef-a", "reef-b")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The study's clips and model (``made / "clips"``), and the study run once on a copy of
    them without interruption (``made / "full"``)."""
    root = tmp_path_factory.mktemp("cancel-steps")
    species_study(root / "clips")
    shutil.copytree(root / "clips", root / "full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        run_study(root / "full" / "study.yaml", progress=False, report=False)
    return root


def _setting_on_colour(stop, calls: list):
    """``mask_colour_stats`` that sets ``stop`` at its first call: a user's stop button
    pressed while the species model's track features read the video."""
    real = ecoseg.species.features.mask_colour_stats

    def colour(*args, **kwargs):
        calls.append(1)
        stop.set()
        return real(*args, **kwargs)

    return colour


def _setting_after_a_chunk(stop, video: str):
    """``iter_stats`` that sets ``stop`` once the first chunk of ``video``'s masks is
    measured: pressed while that store is measured."""
    real = ecoseg.measure.regions.iter_stats

    def iter_stats(store, **kwargs):
        for chunk in real(store, **kwargs):
            if str(store.path).endswith(f"{video}.zarr"):
                stop.set()
            yield chunk

    return iter_stats


def _log_without_times(store) -> list:
    """The store's edit log with each entry's time (and its classification's) left out."""
    out = []
    for entry in edit_log(store):
        entry = {k: v for k, v in entry.items() if k != "time"}
        if "classification" in entry:
            entry["classification"] = {
                k: v for k, v in entry["classification"].items() if k != "time"
            }
        out.append(entry)
    return out


def _resumes_as_uninterrupted(study, full) -> None:
    result = run_study(study, progress=False, report=False)
    assert result.segmented == []
    out = study.parent / "out"
    for video in VIDEOS:
        a, b = full / "stores" / f"{video}.zarr", out / "stores" / f"{video}.zarr"
        with MaskStore.open(a) as whole, MaskStore.open(b) as resumed:
            assert resumed.objects == whole.objects
        assert _log_without_times(b) == _log_without_times(a)
    made = sorted(p.relative_to(out) for p in (out / "tables").rglob("*.parquet"))
    assert made == sorted(p.relative_to(full) for p in (full / "tables").rglob("*.parquet"))
    for name in made:
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), pd.read_parquet(full / name))


def test_a_cancel_set_during_classify_stops_it_inside_and_writes_nothing(
    made, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    shutil.copytree(made / "clips", tmp_path / "s")
    study = tmp_path / "s" / "study.yaml"
    stop, calls = threading.Event(), []
    with monkeypatch.context() as mp:
        mp.setattr(ecoseg.species.features, "mask_colour_stats", _setting_on_colour(stop, calls))
        with pytest.raises(Cancelled) as info:
            run_study(study, progress=False, report=False, cancel=stop)
    store = tmp_path / "s" / "out" / "stores" / "reef-a.zarr"
    message = str(info.value)
    assert message.startswith(f"{study}: line 9: videos[0] (reef-a): classify: {store}: ")
    assert "cancelled while reading its video for the track features (frame " in message
    assert message.endswith("; the same run_study call (ecoseg study) again continues the study")
    assert len(calls) < 3  # stopped at the next frame decoded, not at the end of the video
    assert edit_log(store) == []  # no classification logged
    with MaskStore.open(store) as s:
        assert {o.get("class_source") for o in s.objects} <= {"unknown", None}
    assert not (tmp_path / "s" / "out" / "tables").exists()  # nothing measured

    _resumes_as_uninterrupted(study, made / "full" / "out")


def test_a_cancel_set_during_measure_stops_it_inside_and_writes_nothing(
    made, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    shutil.copytree(made / "clips", tmp_path / "s")
    study = tmp_path / "s" / "study.yaml"
    stop = threading.Event()
    with monkeypatch.context() as mp:
        mp.setattr(ecoseg.measure.regions, "iter_stats", _setting_after_a_chunk(stop, "reef-b"))
        with pytest.raises(Cancelled) as info:
            run_study(study, progress=False, report=False, cancel=stop)
    store = tmp_path / "s" / "out" / "stores" / "reef-b.zarr"
    with MaskStore.open(store) as s:
        step = ecoseg.measure.regions.read_step(s)
        n = s.n_frames
    assert str(info.value) == (
        f"{study}: line 16: videos[1] (reef-b): measure: {store}: cancelled while measuring "
        f"its masks (frame {step} of {n}); the same run_study call (ecoseg study) again "
        "continues the study"
    )
    assert step < n  # stopped before the next chunk, not at the end
    per_video = tmp_path / "s" / "out" / "tables" / "videos"
    assert sorted(p.name for p in per_video.iterdir()) == ["reef-a"]  # reef-b: none, no folder
    assert not list((tmp_path / "s" / "out" / "tables").glob("*.parquet"))

    _resumes_as_uninterrupted(study, made / "full" / "out")
