"""Concept tracking with exemplars on several frames and with SAM 2-style object prompts in
one run (the smallest SAM 3, ``concepts_oracle.micro_config``, with random weights edited to
detect: plumbing and rules, not accuracy)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("scipy")

import concepts_oracle as co  # noqa: E402

from ecoseg.engine.concept_rules import PROMPTED, ConceptSettings, mask_iou  # noqa: E402
from ecoseg.engine.concept_session import ConceptRun  # noqa: E402
from ecoseg.engine.concept_tracker import ConceptTracker, ConceptVideoTracker  # noqa: E402
from ecoseg.prompts import Concept, Exemplar, Prompts  # noqa: E402

pytestmark = pytest.mark.slow

FRAMES = 6
HW = (64, 96)
# random queries all score alike: keep the best few as tracks; young unmatched tracks go fast
SETTINGS = dict(
    score_threshold=0.0,
    new_track_score=0.0,
    max_objects=3,
    hotstart_delay=2,
    hotstart_unmatched=1,
    hotstart_duplicates=1,
    fill_hole_area=0,
    nms_iou=0.0,
)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    torch.set_grad_enabled(False)
    config = co.micro_config()
    images = co.clip(FRAMES)
    hf = co.build_oracle(edit_frame=co.pixels(images[:1], config.image_size), config=config)
    model = co.load_ours(hf, tmp_path_factory.mktemp("w") / "m.safetensors", config)
    return model, images


def _vision(model, image):
    return model.encode_image(co.pixels([image], model.image_size))


def test_exemplars_on_several_frames_are_pooled_each_on_its_own_frame(net):
    model, images = net
    a = Exemplar(1, (10.0, 8.0, 40.0, 30.0))
    b = Exemplar(3, (50.0, 20.0, 90.0, 60.0), label=0)
    c = Exemplar(3, (5.0, 30.0, 30.0, 60.0))
    trackers = [
        ConceptTracker(model, [Concept("fish", ex)], FRAMES, HW, tokenizer=co.tokenize)
        for ex in ((a, b, c), (a,), (b, c))
    ]
    both, only_a, only_bc = trackers
    assert both.exemplar_frames() == [1, 3]
    both.add_exemplars(1, _vision(model, images[1]))
    assert both.prompt_tokens(0) is None  # frame 3 still to come
    for f in (1, 3):
        vision = _vision(model, images[f])
        for tr in trackers if f == 3 else trackers[1:]:
            tr.add_exemplars(f, vision)
    tokens, valid = both.prompt_tokens(0)
    text = int(co.tokenize(["fish"]).shape[1])
    ta, va = only_a.prompt_tokens(0)
    tb, vb = only_bc.prompt_tokens(0)
    # text, then frame 1's box + CLS, then frame 3's two boxes + CLS, each pooled on its frame
    assert tokens.shape[1] == text + 2 + 3
    assert torch.equal(tokens, torch.cat([ta, tb[:, text:]], 1))
    assert torch.equal(valid, torch.cat([va, vb[:, text:]], 1))
    assert not torch.equal(ta[:, text:], tb[:, text : text + 2])


def test_exemplars_after_the_first_frame_find_tracks_from_frame_0(net):
    model, images = net
    concept = Concept(None, (Exemplar(2, (10, 8, 40, 30)), Exemplar(4, (50, 20, 90, 60))))
    settings = ConceptSettings(**{**SETTINGS, "hotstart_delay": 0})
    run = ConceptRun(model, images, [concept], settings, tokenizer=co.tokenize)
    results = list(run.run())
    assert [r.index for r in results] == list(range(FRAMES))
    assert results[0].labels.any()  # before the first exemplar frame
    assert {o["class"] for o in run.objects.values()} == {"visual"}


def test_prompted_objects_are_tracked_with_the_concepts_and_backwards(net):
    model, images = net
    prompts = Prompts.from_dict(
        {
            "objects": [
                {"id": 7, "class": "wrasse", "prompts": [{"frame": 2, "box": [20, 10, 60, 40]}]},
                {"id": 3, "prompts": [{"frame": 4, "points": [[70, 40]]}]},
            ]
        }
    )
    run = ConceptRun(
        model,
        images,
        [Concept("parrotfish")],
        ConceptSettings(**{**SETTINGS, "hotstart_delay": 0}),
        tokenizer=co.tokenize,
        objects=prompts,
    )
    calls = []
    results = list(run.run(backward_progress=lambda done, total: calls.append((done, total))))
    assert [r.index for r in results] == list(range(FRAMES))
    # frames 0 and 1 come from the backward pass, which reports its progress
    assert calls == [(1, 2), (2, 2)]
    for r in results:
        assert {3, 7} <= set(r.object_ids.tolist()), r.index
    assert run.objects[7] == {"class": "wrasse", "source": "prompt", "class_source": "prompt"}
    assert run.objects[3]["class_source"] == "unknown"
    found = set(run.objects) - {3, 7}
    assert found and min(found) == 8  # concept tracks are numbered above the prompted ones
    assert all(run.objects[i]["class_source"] == "concept" for i in found)
    assert any(set(r.object_ids.tolist()) & found for r in results)

    # with nothing detected, the frames before the first prompted one are exactly SAM 2's
    # backward pass of the prompted objects (SAM 3's tracker), resolved by score; the
    # prompted objects, never confirmed by a detection, are not removed (a concept track
    # would be after one unmatched frame here)
    quiet = ConceptRun(
        model,
        images,
        [Concept("parrotfish")],
        ConceptSettings(**{**SETTINGS, "score_threshold": 1.0}),
        tokenizer=co.tokenize,
        objects=prompts,
    )
    got = {r.index: r for r in quiet.run()}
    assert all(sorted(r.object_ids.tolist()) == [3, 7] for r in got.values())
    tracker = ConceptVideoTracker(model.tracker, FRAMES, HW, model.config.mask_interpolation_size)
    for f in (4, 2):
        feats = model.tracker_features(_vision(model, images[f]))
        tracker.add_prompts(f, prompts.at(f), feats)
    for t in (1, 0):
        out = tracker.track(t, model.tracker_features(_vision(model, images[t])), reverse=True)
        up = torch.nn.functional.interpolate(out.mask_logits, size=HW, mode="bilinear")[:, 0]
        scores = out.scores[:, 0].sigmoid()
        labels = np.zeros(HW, np.uint32)
        for k in torch.argsort(scores, stable=True).tolist():
            labels[(up[k] > 0).numpy()] = out.object_ids[k]
        assert sorted(got[t].object_ids.tolist()) == [3, 7]
        assert np.array_equal(got[t].labels, labels), t
        assert labels.any()


# random-weight detections all overlap each other (IoU about 0.5-0.85): with the default
# match_iou (0.1) every one overlaps the prompted object, so none is free; at 0.75 only the one
# that made the prompt's track does (IoU about 0.87, the rest below 0.67), so the rest are free
@pytest.mark.parametrize("match_iou, some_free", [(0.1, False), (0.75, True)])
def test_a_detection_on_a_prompted_object_starts_no_track(net, match_iou, some_free):
    model, images = net
    settings = ConceptSettings(
        **{**SETTINGS, "max_objects": 4, "hotstart_delay": 0, "match_iou": match_iou}
    )
    vision = _vision(model, images[0])
    plain = ConceptTracker(model, [Concept("parrotfish")], 2, HW, settings, tokenizer=co.tokenize)
    step = plain.step(0, vision)
    lows = step.logits > 0
    k = int(lows.flatten(1).sum(1).argmax())  # the largest new track
    up = torch.nn.functional.interpolate(step.logits[k : k + 1, None], size=HW, mode="bilinear")
    mask = (up[0, 0] > 0).numpy()
    assert mask.any()

    prompted = ConceptTracker(
        model, [Concept("parrotfish")], 2, HW, settings, tokenizer=co.tokenize, first_id=51
    )
    hand = Prompts.from_shapes([(50, 0, None, mask)], {50: "parrotfish"})
    prompted.add_objects(0, hand.at(0), model.tracker_features(vision))
    det_masks, _, _ = prompted.detect(vision)
    step2 = prompted.step(0, vision)
    assert step2.object_ids[0] == 50 and step2.concepts[0] == PROMPTED
    obj = step2.logits[:1] > 0
    # the detection that made track k overlaps the hand-prompted object: no track for it now,
    # nor for any other detection overlapping it; the others start tracks as before
    ious = mask_iou(det_masks > 0, obj)[:, 0]
    assert float(mask_iou(lows[k : k + 1], obj)) >= settings.match_iou
    free = int((ious < settings.match_iou).sum())
    assert (free > 0) == some_free  # the case measured: none free, or some free
    others = step2.logits[1:] > 0
    assert len(others) == min(free, settings.max_objects - 1)
    if some_free:
        assert len(others) > 0
        assert float(mask_iou(others, obj).max()) < settings.match_iou
        assert step2.object_ids[1:] == list(range(51, 51 + len(others)))
    assert len(step.object_ids) == settings.max_objects  # without the prompt: room for all
