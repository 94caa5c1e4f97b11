"""Concept tracking rules (pure functions and bookkeeping) and concept prompts."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from ecoseg.engine.concept_rules import (
    Association,
    ConceptSettings,
    TrackBook,
    associate,
    mask_iou,
    nms_keep,
    output_masks,
    pixel_non_overlap,
    recent_occlusion_suppression,
    shrink_suppression,
)
from ecoseg.errors import ConfigError, PromptError
from ecoseg.prompts import Concept, Exemplar, Prompts, load_prompts


def _box_mask(h, w, y0, y1, x0, x1, fg=5.0):
    m = torch.full((h, w), -5.0)
    m[y0:y1, x0:x1] = fg
    return m


def test_settings_defaults_are_sam3s_and_checked():
    s = ConceptSettings()
    assert (s.score_threshold, s.nms_iou, s.match_iou, s.track_match_iou) == (0.5, 0.1, 0.1, 0.5)
    assert (s.new_track_score, s.recondition_every, s.hotstart_delay) == (0.7, 16, 15)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.match_iou = 0.3
    with pytest.raises(ConfigError):
        ConceptSettings(detect_every=0)
    with pytest.raises(ConfigError):
        ConceptSettings(hotstart_delay=4, hotstart_unmatched=8)
    assert ConceptSettings().to_dict()["new_track_score"] == 0.7
    # detect_every given twice (a settings file and --detect-every) must agree
    assert ConceptSettings.from_params({"detect_every": 3}, detect_every=3).detect_every == 3
    with pytest.raises(ConfigError, match="detect_every 3 differs from detect_every=1"):
        ConceptSettings.from_params({"detect_every": 3}, detect_every=1)


def test_mask_iou_matches_a_direct_count():
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(4, 9, 7, generator=gen) > 0.5
    b = torch.rand(3, 9, 7, generator=gen) > 0.5
    got = mask_iou(a, b)
    for i in range(4):
        for j in range(3):
            inter = (a[i] & b[j]).sum().item()
            union = (a[i] | b[j]).sum().item()
            assert got[i, j].item() == pytest.approx(inter / union)


def test_nms_drops_overlapping_lower_scores_only():
    m = torch.stack(
        [
            _box_mask(8, 8, 0, 4, 0, 4),
            _box_mask(8, 8, 0, 4, 1, 4),
            _box_mask(8, 8, 4, 8, 4, 8),
            _box_mask(8, 8, 4, 8, 0, 2),
        ]
    )
    scores = torch.tensor([0.6, 0.9, 0.8, 0.4])
    assert nms_keep(scores, m, 0.5, 0.1).tolist() == [False, True, True, False]
    assert nms_keep(scores, m, 0.5, 0.0).tolist() == [True, True, True, False]


def test_association_new_matched_unmatched_empty_and_concepts():
    s = ConceptSettings()
    dets = torch.stack(
        [
            _box_mask(10, 10, 0, 4, 0, 4),
            _box_mask(10, 10, 6, 10, 6, 10),
            _box_mask(10, 10, 0, 4, 0, 4),
        ]
    )
    tracks = torch.stack(
        [_box_mask(10, 10, 0, 4, 0, 4), _box_mask(10, 10, 4, 6, 0, 2), torch.full((10, 10), -1.0)]
    )
    a = associate(
        dets,
        torch.tensor([0.9, 0.75, 0.6]),
        torch.tensor([0, 0, 1]),
        tracks,
        [5, 6, 7],
        torch.tensor([0, 0, 0]),
        s,
    )
    assert a.new == [1]  # det 2 is another concept but scores below new_track_score
    assert a.unmatched == [6] and a.empty == [7]
    assert a.matches == {0: [5], 1: [], 2: []}
    assert a.recondition == {5: 0}
    # a detection of another concept never matches: it starts its own track
    a = associate(
        dets[2:], torch.tensor([0.95]), torch.tensor([1]), tracks[:1], [5], torch.tensor([0]), s
    )
    assert a.new == [0] and a.unmatched == [5]


def test_hotstart_removes_young_unmatched_and_duplicate_tracks_only():
    s = ConceptSettings(hotstart_delay=4, hotstart_unmatched=2, hotstart_duplicates=2)
    book = TrackBook()
    old = book.start(0, [0], [0.9])
    book.update(0, Association([0], [], [], {}, {}), old, s)
    young = book.start(3, [0, 0], [0.8, 0.8])
    book.update(3, Association([0, 1], [], [], {}, {}), young, s)
    removed, _ = book.update(4, Association([], [young[0]], [], {0: [old[0], young[1]]}, {}), [], s)
    assert removed == set()
    removed, _ = book.update(
        5, Association([], [young[0], old[0]], [], {0: [old[0], young[1]]}, {}), [], s
    )
    assert removed == {young[0], young[1]}  # unmatched twice / duplicate twice while young
    for _ in range(3):
        removed, _ = book.update(9, Association([], [old[0]], [], {}, {}), [], s)
    assert old[0] not in book.removed  # started before the hot-start window
    assert book.keep_alive[old[0]] < s.keep_alive_init


def test_occlusion_nonoverlap_and_shrink_rules():
    m = torch.ones(3, 4, 4, dtype=torch.bool)
    m[2] = False
    m[2, 0, 0] = True
    sup = recent_occlusion_suppression(m, torch.tensor([2, 5, -1]), torch.tensor([0, 0, 0]), 0.7)
    assert sup.tolist() == [False, True, False]
    # other concepts never suppress each other
    sup = recent_occlusion_suppression(m, torch.tensor([2, 5, -1]), torch.tensor([0, 1, 0]), 0.7)
    assert not sup.any()
    x = torch.tensor([[[1.0, 3.0]], [[2.0, -1.0]]])
    assert (pixel_non_overlap(x) > 0).sum(0).max() <= 1
    logits = torch.stack([_box_mask(4, 4, 0, 4, 0, 4, 1.0), _box_mask(4, 4, 0, 4, 0, 3, 2.0)])[
        :, None
    ]
    out = shrink_suppression(logits, torch.tensor([0, 0]), 0.3)
    assert out[0].max() <= -10 and torch.equal(out[1], logits[1])
    kept = shrink_suppression(logits, torch.tensor([0, 1]), 0.3)
    assert torch.equal(kept, logits)


def test_output_masks_give_shared_pixels_to_the_higher_tracker_score():
    logits = torch.stack([_box_mask(4, 4, 0, 4, 0, 4), _box_mask(4, 4, 0, 2, 0, 2)])
    masks = output_masks(logits, torch.tensor([0.6, 0.9]), torch.tensor([0, 0]), (8, 8))
    assert masks.shape == (2, 8, 8)
    assert not (masks[0] & masks[1]).any()
    assert masks[1].sum() > 0 and masks[0].sum() == 64 - masks[1].sum()
    both = output_masks(logits, torch.tensor([0.6, 0.9]), torch.tensor([0, 1]), (8, 8))
    assert both[0].sum() == 64  # another concept: no exclusion within the concept rule


# ------------------------------------------------------------------------------ prompts
def test_prompt_file_with_concepts_round_trips(tmp_path):
    data = {
        "concepts": [
            {"text": "parrotfish", "exemplars": [{"frame": 3, "box": [1, 2, 30, 20], "label": 1}]},
            "sea urchin",
        ],
        "objects": [{"id": 1, "class": "wrasse", "prompts": [{"frame": 0, "points": [[5, 5]]}]}],
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    p = load_prompts(path)
    assert [c.name for c in p.concepts] == ["parrotfish", "sea urchin"]
    assert p.concepts[0].exemplars == (Exemplar(3, (1.0, 2.0, 30.0, 20.0), 1),)
    assert p.object_ids == [1]
    again = Prompts.from_dict(p.to_dict())
    assert again.concepts == p.concepts
    only = Prompts.from_dict({"concepts": [{"exemplars": [{"frame": 0, "box": [0, 0, 4, 4]}]}]})
    assert only.concepts[0].name == "visual" and len(only) == 0


def test_old_prompt_files_stay_valid_and_have_no_concepts():
    p = Prompts.from_dict({"objects": [{"id": 2, "prompts": [{"frame": 1, "box": [0, 0, 4, 4]}]}]})
    assert p.concepts == () and "concepts" not in p.to_dict()


@pytest.mark.parametrize(
    "concepts, needle",
    [
        ([{"text": ""}], r"concepts\[0\] is empty"),
        ([{"text": "a", "exemplars": [{"frame": 0, "box": [5, 5, 1, 1]}]}], "empty or inverted"),
        ([{"text": "a", "exemplars": [{"frame": 0, "box": [0, 0, 1, 1], "label": 2}]}], "label"),
        ([{"text": "a", "colour": 1}], "unknown key"),
        (["a", "a"], "given twice"),
        ([{"text": "a", "exemplars": [{"box": [0, 0, 1, 1]}]}], "frame"),
    ],
)
def test_bad_concepts_say_why(concepts, needle):
    with pytest.raises(PromptError, match=needle):
        Prompts.from_dict({"concepts": concepts}, source="p.json")


def test_exemplars_are_validated_against_the_video():
    p = Prompts.from_dict(
        {"concepts": [{"text": "a", "exemplars": [{"frame": 9, "box": [0, 0, 4, 4]}]}]}
    )
    with pytest.raises(PromptError, match="out of range"):
        p.validate(10, 10, 5)
    p = Prompts.from_dict(
        {"concepts": [{"text": "a", "exemplars": [{"frame": 0, "box": [20, 0, 30, 4]}]}]}
    )
    with pytest.raises(PromptError, match="outside"):
        p.validate(10, 10, 5)
    assert Concept("fish").exemplar_frames == []


def test_concept_run_refuses_an_exemplar_outside_the_video():
    from ecoseg.engine.concept_session import ConceptRun

    c = Concept("fish", (Exemplar(7, (0, 0, 2, 2)),))
    with pytest.raises(PromptError, match="outside the video"):
        ConceptRun(None, [np.zeros((4, 4, 3), np.uint8)] * 3, [c])


def test_settings_from_params_names_an_unknown_setting_in_one_line():
    s = ConceptSettings.from_params({"hotstart_delay": 0}, detect_every=3)
    assert (s.hotstart_delay, s.detect_every) == (0, 3)
    with pytest.raises(ConfigError, match="concept tracking parameters: .*'no_such'"):
        ConceptSettings.from_params({"no_such": 1})
    # text where a number goes was a TypeError from a comparison on the first frame
    with pytest.raises(ConfigError, match="score_threshold must be a number, got '0.5'"):
        ConceptSettings.from_params({"score_threshold": "0.5"})
    with pytest.raises(ConfigError, match="hotstart_delay must be a whole number, got 1.5"):
        ConceptSettings.from_params({"hotstart_delay": 1.5})
