"""``classify(..., cancel=)``: a set cancel stops the track features before their next chunk
of masks or video frame, not at their end; nothing is written (the store's classes, edit log
and calibration, the model file), and the same call again names the tracks as an
uninterrupted call does."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from suite_helpers import fit_species_model

import ecoseg
from ecoseg.errors import Cancelled
from ecoseg.species import classify, edit_log
from ecoseg.store import MaskStore

FRAMES = 30


class Countdown:
    """A ``cancel`` callable that asks to stop from its ``after + 1``-th look on (a user's
    stop button pressed after that many chunks or frames; no timing), counting its looks."""

    def __init__(self, after: int | None):
        self.after, self.looks = after, 0

    def __call__(self) -> bool:
        self.looks += 1
        return self.after is not None and self.looks > self.after


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A motion-tracker store of a synthetic clip (``tracks.zarr``, its video beside it) and
    a species model (``species.json``)."""
    root = tmp_path_factory.mktemp("classify-cancel")
    made = ecoseg.synth(root / "clip", seed=3, frames=FRAMES, size=(160, 96), n_invertebrates=0)
    ecoseg.segment(made.video, out=root / "tracks.zarr", engine="classical",
                   params={"warmup": 5, "min_hits": 2}, progress=False)  # fmt: skip
    fit_species_model(root, frames=FRAMES)
    return root


def _copy(clip, folder):
    shutil.copytree(clip / "tracks.zarr", folder / "tracks.zarr")
    return folder / "tracks.zarr"


def _state(store):
    """What a classification writes into a store: its object table, its calibration and its
    edit log (each entry's times left out)."""
    log = [
        {**{k: v for k, v in e.items() if k not in ("time", "classification")},
         "model": (e.get("classification") or {}).get("model_sha256")}
        for e in edit_log(store)
    ]  # fmt: skip
    with MaskStore.open(store) as s:
        return s.objects, s.calibration, log


@pytest.mark.parametrize(
    ("after", "stopped"),
    [(1, "cancelled while measuring its masks (frame "),
     (None, "cancelled while reading its video for the track features (frame ")],
)  # fmt: skip
def test_a_set_cancel_stops_classify_inside_its_features_and_the_same_call_resumes(
    after, stopped, clip, tmp_path
):
    video = clip / "clip" / "video.mp4"
    options = dict(model=clip / "species.json", videos=[video], calibration=0.5)
    whole = _copy(clip, tmp_path / "whole")
    looks = Countdown(None)
    expected = classify(whole, **options, cancel=looks)
    assert looks.looks > 3  # once a chunk of masks and once a frame decoded
    if after is None:  # in the video's frames: the last chunk of masks measured
        with MaskStore.open(whole) as s:
            after = -(-s.n_frames // ecoseg.measure.regions.read_step(s)) + 1

    store = _copy(clip, tmp_path / "cut")
    before = _state(store)
    stop = Countdown(after)
    with pytest.raises(Cancelled) as info:
        classify(store, **options, cancel=stop)
    assert stop.looks == after + 1 < looks.looks  # stopped at its first look once set
    message = str(info.value)
    assert message.startswith(f"{store}: {stopped}")
    assert message.endswith("; nothing was written, the same call again starts it anew")
    assert _state(store) == before  # its classes, calibration and edit log as they were

    again = classify(store, **options)
    assert _state(store) == _state(whole) and _state(store) != before
    pd.testing.assert_frame_equal(again.drop(columns="store"), expected.drop(columns="store"))


def test_a_cancel_set_while_training_writes_no_model(clip, tmp_path):
    """Trained from reviewed stores (``train=``): stopped in the training store's features,
    no model file is saved."""
    store = _copy(clip, tmp_path)
    save = tmp_path / "model.json"
    train = clip / "clip" / "truth.zarr"
    with pytest.raises(Cancelled) as info:
        classify(store, train=train, save_model=save, videos=[clip / "clip" / "video.mp4"],
                 cancel=Countdown(1))  # fmt: skip
    assert str(info.value).startswith(f"{train}: cancelled while measuring its masks (frame ")
    assert not save.exists() and edit_log(store) == []


def test_frames_given_as_an_array_are_looked_at_once_a_frame(tmp_path):
    """``videos=`` as an array of frames (not a file): stopped at the first frame read."""
    from species_helpers import small_store

    from ecoseg.species import Edit, apply_edits

    store = tmp_path / "m.zarr"
    frames = small_store(store)
    apply_edits(store, [Edit("set_class", (1,), cls="red"), Edit("set_class", (2,), cls="blue")])
    before = _state(store)
    stop = Countdown(1)  # its one chunk of masks measured, then the first frame
    with pytest.raises(Cancelled) as info:
        classify(store, train=store, videos=[frames], train_videos=[frames], cancel=stop)
    assert str(info.value).startswith(
        f"{store}: cancelled while reading its video for the track features (frame "
    )
    assert stop.looks == 2 and _state(store) == before
