"""Tests for ecoseg/engine/settings.py: which recorded settings differ, and how to say it."""

from __future__ import annotations

from ecoseg.engine.settings import describe_change


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
    many = {k: k for k in "abcde"}
    assert describe_change(many, {}).endswith("; 2 more")
