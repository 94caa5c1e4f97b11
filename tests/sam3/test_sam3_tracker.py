"""SAM 3's tracker is SAM 2's: ecoseg.sam2's prompt encoder and mask decoder at SAM 3's
settings, fed by our backbone's tracker pyramid, equal transformers' ``Sam3TrackerModel``."""

from __future__ import annotations

import backbone_oracle as oracle
import pytest
import torch

from ecoseg.sam3.config import get_config
from ecoseg.sam3.model import SAM3Model


def _pair():
    modeling, _ = oracle.transformers_sam3()
    from transformers.models.sam3_tracker import configuration_sam3_tracker as ct
    from transformers.models.sam3_tracker import modeling_sam3_tracker as mt

    del modeling
    cfg = get_config("sam3-reduced")
    vision = oracle.hf_vit_config(cfg).to_dict()
    side = cfg.vision.grid_size
    vision["backbone_feature_sizes"] = [[4 * side] * 2, [2 * side] * 2, [side] * 2]
    # three levels, as Meta's tracker sees them (its backbone drops the 0.5x level); with
    # transformers' default four, Sam3TrackerModel adds the no-memory embedding to the 0.5x
    # level and then drops that level (docs/sam3.md)
    vision["scale_factors"] = [4.0, 2.0, 1.0]
    hf_cfg = ct.Sam3TrackerConfig(
        vision_config=vision, prompt_encoder_config={"image_size": cfg.image_size}
    )
    hf_cfg._attn_implementation = "eager"
    hf = oracle.randomize_(mt.Sam3TrackerModel(hf_cfg).eval(), seed=21)
    with torch.no_grad():
        # one Gaussian matrix in SAM 2 (transformers keeps two copies); a present object
        hf.shared_image_embedding.positional_embedding.copy_(
            hf.prompt_encoder.shared_embedding.positional_embedding
        )
        hf.mask_decoder.pred_obj_score_head.proj_out.bias.fill_(4.0)
    state = {}
    for key, value in hf.state_dict().items():
        if key.startswith("vision_encoder.backbone."):
            state["detector_model." + key] = value
        elif key.startswith("vision_encoder.neck."):
            state["tracker_neck." + key[len("vision_encoder.neck.") :]] = value
        else:
            state["tracker_model." + key] = value
    torch.manual_seed(0)
    ours = SAM3Model(cfg).eval()
    used = set()
    for module, prefix in (
        (ours.vision.trunk, "vision.trunk."),
        *((ours.vision.sam2_convs[i], f"vision.sam2_convs.{i}.") for i in range(3)),
        (ours.tracker.sam_prompt_encoder, "tracker.sam_prompt_encoder."),
        (ours.tracker.sam_mask_decoder, "tracker.sam_mask_decoder."),
    ):
        used |= oracle.copy_from_hf(module, prefix, state, "", layout="video")
    with torch.no_grad():
        ours.tracker.no_mem_embed.copy_(state["tracker_model.no_memory_embedding"])
    used |= {"tracker_model.no_memory_embedding"}
    assert set(state) - used == {"tracker_model.shared_image_embedding.positional_embedding"}
    return hf, ours


@torch.no_grad()
def _run(ours, images, points, labels):
    t = ours.tracker_features(ours.encode_image(images))
    feats = ours.tracker.condition_without_memory(t.features, t.pos)
    return ours.tracker.run_heads(feats, t.high_res, points=points, labels=labels, multimask=True)


@pytest.fixture(scope="module")
def pair():
    """``(hf, ours, transformers' output on _prompts())``: the oracle runs once."""
    hf, ours = _pair()
    images, points, labels = _prompts()
    with torch.no_grad():
        ref = hf(
            pixel_values=images,
            input_points=points[:, None],
            input_labels=labels[:, None],
            multimask_output=True,
        )
    return hf, ours, ref


def _prompts():
    gen = torch.Generator().manual_seed(2)
    images = torch.randn(2, 3, 336, 336, generator=gen)
    # a click on each image, and a box (corners labelled 2, 3) with a negative click
    points = torch.tensor([[[120.0, 200.0], [0.0, 0.0], [0.0, 0.0]],
                           [[40.0, 60.0], [300.0, 250.0], [150.0, 100.0]]])  # fmt: skip
    labels = torch.tensor([[1, -1, -1], [2, 3, 0]])
    return images, points, labels


def test_masks_ious_and_object_scores_match_transformers(pair):
    _, ours, ref = pair
    got = _run(ours, *_prompts())
    assert got.object_score_logits.min() > 0  # present: masks are not replaced
    assert oracle.rel_error(ref.pred_masks[:, 0], got.multimask_logits) <= oracle.REL_TOL
    assert oracle.rel_error(ref.iou_scores[:, 0], got.ious) <= oracle.REL_TOL
    assert oracle.rel_error(ref.object_score_logits[:, 0], got.object_score_logits) <= 1e-5


def test_comparison_fails_on_a_perturbed_copy(pair):
    import copy

    _, ours, ref = pair
    perturbed = copy.deepcopy(ours)
    with torch.no_grad():
        perturbed.tracker.sam_mask_decoder.conv_s0.weight.mul_(1.01)
    got = _run(perturbed, *_prompts())
    assert oracle.rel_error(ref.pred_masks[:, 0], got.multimask_logits) > oracle.REL_TOL
