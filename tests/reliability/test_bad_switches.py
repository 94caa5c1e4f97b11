"""A switch given as text from a notebook (``overwrite="no"``, ``resume="False"``): text is
true to ``if``, so ``overwrite="no"`` replaced an existing output, ``resume="False"`` resumed
and ``auto="no"`` ran discovery. One line naming the argument, nothing replaced; numpy's
bools are switches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reliability_helpers import assert_names, file_tree

import ecoseg
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input


def _output(call, clip, tmp_path):
    """An output ``call`` may replace, made: (its path, the call given ``overwrite``)."""
    if call in ("segment", "MaskStore.create"):
        store = ecoseg.segment(clip.video, out=tmp_path / "m.zarr", progress=False)
        if call == "segment":
            return store, lambda o: ecoseg.segment(
                clip.video, out=store, progress=False, overwrite=o
            )
        return store, lambda o: MaskStore.create(store, height=8, width=8, overwrite=o)
    if call == "measure":
        ecoseg.measure(clip.truth, tmp_path / "tables")
        return tmp_path / "tables", lambda o: ecoseg.measure(
            clip.truth, tmp_path / "tables", overwrite=o
        )
    if call == "export":
        ecoseg.export(clip.truth, "coco", tmp_path / "c.json")
        return tmp_path / "c.json", lambda o: ecoseg.export(
            clip.truth, "coco", tmp_path / "c.json", overwrite=o
        )
    ecoseg.report(clip.truth, tmp_path / "r.html")
    return tmp_path / "r.html", lambda o: ecoseg.report(
        clip.truth, tmp_path / "r.html", overwrite=o
    )


@pytest.mark.parametrize(
    "call, value",
    [
        ("segment", "no"),
        ("measure", "False"),
        ("export", "no"),
        ("report", "no"),
        ("MaskStore.create", "False"),
    ],
)
def test_overwrite_given_as_text_replaces_nothing(clip, tmp_path, call, value):
    path, run = _output(call, clip, tmp_path)
    path = Path(path)
    before = file_tree(path)
    with pytest.raises(TypeError) as exc:
        run(value)
    assert_names(exc, "overwrite must be True or False", repr(value))
    assert file_tree(path) == before


def test_synth_overwrite_given_as_text_replaces_nothing(tmp_path):
    clip = ecoseg.synth(tmp_path / "c", frames=3, size=(32, 24))
    before = file_tree(tmp_path / "c")
    with pytest.raises(TypeError) as exc:
        ecoseg.synth(tmp_path / "c", frames=3, size=(32, 24), seed=5, overwrite="no")
    assert_names(exc, "overwrite must be True or False, got 'no'")
    assert file_tree(clip.truth.parent) == before


@pytest.mark.parametrize("switch", ["resume", "auto", "backward", "fast", "pretrained"])
def test_segment_names_a_switch_given_as_text(clip, tmp_path, no_model, switch):
    # resume="False" resumed; auto="no" ran discovery (and asked for SAM 2 weights)
    with pytest.raises(TypeError) as exc:
        ecoseg.segment(clip.video, out=tmp_path / "m.zarr", progress=False, **{switch: "no"})
    assert_names(exc, f"{switch} must be True or False, got 'no'")
    assert not (tmp_path / "m.zarr").exists()


def test_numpy_bools_are_switches(clip, tmp_path):
    out = tmp_path / "m.zarr"
    ecoseg.segment(clip.video, out=out, progress=False, overwrite=np.False_)
    ecoseg.segment(clip.video, out=out, progress=False, overwrite=np.True_, resume=np.False_)
    assert ecoseg.open_masks(out).sizes["t"] == ecoseg.open_masks(clip.truth).sizes["t"]


@pytest.mark.parametrize(
    "call",
    [
        lambda clip, out, p: ecoseg.measure(clip.truth, progress=p),
        lambda clip, out, p: ecoseg.evaluate(clip.truth, clip.truth, progress=p),
        lambda clip, out, p: ecoseg.export(clip.truth, "coco", out / "c.json", progress=p),
        lambda clip, out, p: ecoseg.synth(out / "s", frames=2, size=(32, 24), progress=p),
        lambda clip, out, p: ecoseg.report(clip.truth, out / "r.html", progress=p),
    ],
    ids=["measure", "evaluate", "export", "synth", "report"],
)
def test_progress_given_as_text_is_refused(clip, tmp_path, call):
    # progress="no" showed a bar (text is true to `if`), as segment's did before
    with pytest.raises(TypeError) as exc:
        call(clip, tmp_path, "no")
    assert_names(exc, "progress must be True or False, got 'no'")
    assert list(tmp_path.iterdir()) == []
