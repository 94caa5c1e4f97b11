"""A photo survey is cancelled between photographs and resumed as a video run is: ``cancel``
stops it before the next photograph (:class:`Cancelled`, the store kept), ``resume=True``
(``--resume``) continues the store so left, and a re-run with the cached weights that made a
survey's store is taken as the same settings (the store records their sha256).

Before, ``ecoseg.segment(folder, concepts=..., cancel=...)`` and ``resume=True`` were refused
for a survey, and a survey made with cached real weights recorded them while the settings asked
for recorded none: ``batch`` refused the survey's own complete store (*the model settings
differ*)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from suite_helpers import cached_sam3_weights, photo_folder

from ecoseg.errors import Cancelled, StoreError
from ecoseg.store import MaskStore

pytest.importorskip("torch")

NET = {"model": "sam3-reduced", "device": "cpu", "image_size": 112}
#: score 0: random weights find many instances, so the numbering of objects is checked
RUN = {"concepts": ["coral"], "progress": False, "params": {"score_threshold": 0.0}, **NET}


@pytest.fixture
def folder(tmp_path):
    """Three small photographs."""
    return photo_folder(tmp_path / "quadrats", 0, names=("q1.png", "q2.png", "q3.png"))


def _survey(folder, out, **kw):
    import ecoseg

    return ecoseg.segment(folder, out=str(out), **{"pretrained": False, **RUN, **kw})


def _after(n: int):
    """A cancel that is set once ``n`` photographs were searched (asked before each one)."""
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > n

    return cancel


def _content(path):
    with MaskStore.open(path) as store:
        return (
            store.read_labels(),
            store.read_scores(),
            store.objects,
            store.complete,
            store.n_frames,
        )


def test_a_cancelled_survey_keeps_its_photographs_and_resume_finishes_it_exactly(folder, tmp_path):
    full = _content(_survey(folder, tmp_path / "full.zarr"))
    assert full[3] and full[4] == 3 and len(full[2]) > 3  # objects on every photograph

    out = tmp_path / "part.zarr"
    with pytest.raises(
        Cancelled,
        match=r"part\.zarr: cancelled after 1 frames; resume=True \(--resume\) continues it$",
    ):
        _survey(folder, out, cancel=_after(1))
    labels, _, objects, complete, frames = _content(out)
    assert (frames, complete) == (1, False)
    assert np.array_equal(labels, full[0][:1])
    assert objects == [o for o in full[2] if o["id"] in set(np.unique(labels)) - {0}]

    with pytest.raises(StoreError, match=r"already exists.*resume=True \(--resume\) to continue"):
        _survey(folder, out)  # not replaced by a plain run again
    with pytest.raises(StoreError, match=r"cannot resume: the prompts differ"):
        _survey(folder, out, resume=True, concepts=["sponge"])
    assert _content(out)[4] == 1  # refused before any work

    assert _survey(folder, out, resume=True) == str(out)
    labels, scores, objects, complete, frames = _content(out)
    assert complete and frames == 3
    assert np.array_equal(labels, full[0]) and np.array_equal(scores, full[1], equal_nan=True)
    assert objects == full[2]  # numbered on from the first photograph's
    assert _survey(folder, out, resume=True) == str(out)  # complete: left as it is


def test_a_survey_cancelled_by_an_event_before_any_photograph(folder, tmp_path):
    stop = threading.Event()
    stop.set()
    out = tmp_path / "s.zarr"
    with pytest.raises(Cancelled, match="cancelled after 0 frames"):
        _survey(folder, out, cancel=stop)
    assert _content(out)[3:] == (False, 0)  # a valid store, resumed below
    assert _survey(folder, out, resume=True, cancel=threading.Event()) == str(out)
    assert _content(out)[3:] == (True, 3)


def test_resume_of_a_survey_that_is_not_there_makes_it(folder, tmp_path):
    out = _survey(folder, tmp_path / "new.zarr", resume=True)
    assert _content(out)[3:] == (True, 3)


def test_a_survey_with_cached_weights_resumes_with_them_and_not_with_others(
    folder, tmp_path, monkeypatch
):
    path = cached_sam3_weights(tmp_path, monkeypatch)
    out = tmp_path / "s.zarr"
    with pytest.raises(Cancelled):
        _survey(folder, out, pretrained=True, cancel=_after(1))
    with MaskStore.open(out) as store:  # the weights the network held: the cached download
        assert store.provenance["model"]["checkpoint"]["path"] == str(path)
    cached_sam3_weights(tmp_path, monkeypatch, seed=1)  # other weights downloaded since
    with pytest.raises(StoreError, match=r"cannot resume: the model settings differ"):
        _survey(folder, out, pretrained=True, resume=True)
    cached_sam3_weights(tmp_path, monkeypatch, seed=0)  # the same weights again
    assert _survey(folder, out, pretrained=True, resume=True) == str(out)
    assert _content(out)[3:] == (True, 3)
