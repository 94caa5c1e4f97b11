"""Tests for ecoseg/engine/settings.py: which recorded settings differ, and how to say it."""

from __future__ import annotations

import json

import pytest

from ecoseg.engine.classical import ClassicalParams
from ecoseg.engine.settings import (
    changed_settings,
    describe_change,
    parameter_defaults,
    requested_settings,
    settings_change,
)
from ecoseg.provenance import Provenance
from ecoseg.store import MaskStore

NETWORK = dict(pretrained=False, image_size=64, device="cpu", progress=False)


def test_describe_change_names_what_differs():
    a = {"detect_every": 1, "nms_iou": 0.1, "score_threshold": 0.5}
    assert describe_change(a, {**a, "detect_every": 4}) == "detect_every: 1 in the store, 4 now"
    prompts = {"concepts": [{"text": "wrasse"}], "objects": [{"id": 2, "class": "a"}]}
    other = {"concepts": [{"text": "Wrasse"}], "objects": [{"id": 2, "class": "b"}]}
    assert describe_change(prompts, other) == (
        "concepts: ['wrasse'] in the store, ['Wrasse'] now; prompts of object 2"
    )
    boxes = {"concepts": [{"text": "wrasse", "exemplars": [{"frame": 1}]}], "objects": []}
    assert describe_change(prompts | {"objects": []}, boxes) == "exemplars of concept 'wrasse'"
    # a prompt record without the key: none of them, as before (not "not recorded")
    assert describe_change({"objects": []}, boxes) == "concepts: [] in the store, ['wrasse'] now"
    three = {**boxes, "objects": [{"id": 3}]}
    assert describe_change({"concepts": boxes["concepts"]}, three) == "prompts of object 3"
    many = {k: k for k in "abcde"}
    assert describe_change(many, {}).endswith("; 2 more")


def test_a_recorded_none_is_not_called_unrecorded():
    """min_area recorded as None (its default: scaled with the frame) was named 'not recorded
    in the store', the words for a parameter the store lacks."""
    assert describe_change({"min_area": None}, {"min_area": 50}) == (
        "min_area: None in the store, 50 now"
    )
    assert describe_change({}, {"min_area": 50}) == "min_area: not recorded in the store, 50 now"


def test_a_parameter_a_store_does_not_record_is_compared_with_its_default():
    """A parameter added after a store was made counted as a change even at its default."""
    now = ClassicalParams().to_dict()
    older = {k: v for k, v in now.items() if k not in ("still_frames", "motion_support")}
    made = Provenance.from_dict({"engine": "classical", "parameters": older})
    assert (
        settings_change(made, Provenance.from_dict({"engine": "classical", "parameters": now}))
        == ""
    )
    other = {**now, "still_frames": 10}
    assert changed_settings(
        made, Provenance.from_dict({"engine": "classical", "parameters": other})
    ) == (
        "parameters",
        "still_frames: not recorded in the store, 10 now",
    )
    # SAM 2 with prompts records no defaults: bf16 asked for of a store without it is a change
    fp32 = Provenance.from_dict({"engine": "sam2", "parameters": {"device": "cpu"}})
    bf16 = Provenance.from_dict({"engine": "sam2", "parameters": {"fast": True}})
    # said "fast: not recorded in the store, True now" of an fp32 store: fast is recorded only
    # when bf16 ran, so its absence is fp32
    assert changed_settings(fp32, bf16)[1] == "fast: False in the store, True now"
    assert changed_settings(bf16, fp32)[1] == "fast: True in the store, False now"
    # discovery and concept settings likewise
    for engine, extra in (("sam2", {"auto": True}), ("sam3-concepts", {})):
        every = parameter_defaults(engine, bool(extra))
        key = sorted(every)[0]
        lacks = {k: v for k, v in every.items() if k != key}
        made = Provenance.from_dict({"engine": engine, "parameters": lacks, **extra})
        wanted = Provenance.from_dict({"engine": engine, "parameters": every, **extra})
        assert settings_change(made, wanted) == ""


@pytest.mark.parametrize(
    "options",
    [
        {"engine": "classical", "params": {"min_hits": 2}},
        {"engine": "sam2", "prompts": "p.json", "backward": False},
        {"engine": "sam2", "auto": True, "params": {"points_per_side": 4}},
        {"model": "sam3-reduced", "concepts": ["wrasse"], "detect_every": 2},
    ],
    ids=["classical", "sam2", "auto", "sam3"],
)
def test_requested_settings_are_what_segment_records(tmp_path, options):
    """``requested_settings`` (batch's view of a run) is a twin of what ``segment`` records:
    every entry compared, exactly (not only through the comparison, which now takes a
    parameter a store lacks at its default and would hide a twin that adds one)."""
    import ecoseg

    clip = ecoseg.synth(tmp_path / "c", frames=3, size=(96, 64), seed=3)
    point = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[30, 20]]}]}]}
    (tmp_path / "p.json").write_text(json.dumps(point))
    if "prompts" in options:
        options = {**options, "prompts": tmp_path / "p.json"}
    network = {"progress": False} if options.get("engine") == "classical" else NETWORK
    if "concepts" in options:
        network = {**NETWORK, "image_size": 112}  # SAM 3's: a multiple of 14
    out = ecoseg.segment(clip.video, out=tmp_path / "m.zarr", **options, **network)
    with MaskStore.open(out) as store:
        recorded = store.provenance
    recorded["parameters"].pop("device", None)
    wanted = requested_settings({**options, **network}, clip.video).to_dict()
    keys = ("engine", "parameters", "prompts", "model", "auto", "backward")
    assert {k: recorded[k] for k in keys if k in recorded} == wanted


def test_a_cut_box_is_unsaid_in_its_thread_only(tmp_path):
    """``requested_settings`` cuts a prompt box to the store's frame without the
    PromptClippedWarning its run gave. It hid that with ``warnings.catch_warnings()`` and a
    filter, which are the process's: run from a batch or napari worker thread, it hid every
    thread's PromptClippedWarning meanwhile (and then put back the filters it found). Now only
    its own thread's, and Python's filters stay as they were."""
    from suite_helpers import warned_while_held

    import ecoseg.prompts
    from ecoseg.errors import PromptClippedWarning

    box = {"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [50, 10, 90, 30]}]}]}
    (tmp_path / "p.json").write_text(json.dumps(box))
    made = Provenance.from_dict({"engine": "classical", "video": {"width": 64, "height": 48}})
    options = {"engine": "classical", "prompts": tmp_path / "p.json"}
    got = warned_while_held(
        lambda: requested_settings(options, None, made),
        ecoseg.prompts.Prompts,
        "validate",
        PromptClippedWarning,
    )
    assert got["filters_kept"] and got["heard"]
    assert got["others"] == []  # its own cut still unsaid
    assert got["result"].prompts["objects"][0]["prompts"][0]["box"] == [50, 10, 64, 30]


def test_a_change_of_direction_is_said_in_the_options_words():
    """``segment --resume --forward-only`` of a store tracked backwards said "the backward
    tracking setting differs ... (True in the store, False now)"."""
    back = Provenance.from_dict({"engine": "sam2", "backward": True})
    forward = Provenance.from_dict({"engine": "sam2", "backward": False})
    assert changed_settings(back, forward) == (
        "backward tracking setting",
        "the store tracked the frames before the first prompt backwards, --forward-only now",
    )
    assert changed_settings(forward, back)[1] == (
        "the store left the frames before the first prompt empty (--forward-only), not now"
    )


def test_random_weights_record_their_seed_and_an_older_store_still_matches():
    """Random weights are recorded with their seed; a store made before they were seeded (no
    seed recorded: weights no run can draw again) is no change, another seed is."""
    from ecoseg.engine.settings import RANDOM_WEIGHTS_SEED, model_record

    now = model_record("sam2.1-tiny", None, False, 64)
    assert now["seed"] == RANDOM_WEIGHTS_SEED
    assert "seed" not in model_record("sam2.1-tiny", None, True, 64)
    run = Provenance.from_dict({"engine": "sam2", "model": now})
    older = {k: v for k, v in now.items() if k != "seed"}
    assert settings_change(Provenance.from_dict({"engine": "sam2", "model": older}), run) == ""
    other = Provenance.from_dict({"engine": "sam2", "model": {**now, "seed": 5}})
    assert changed_settings(other, run) == ("model settings", "seed: 5 in the store, 0 now")
