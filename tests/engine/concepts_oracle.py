"""transformers' ``Sam3VideoModel`` as the oracle of our concept tracking (tests, benchmarks).

Both networks get identical random weights: transformers' model is built at our reduced
configuration (``sam3-reduced``), randomised, *edited to detect* (the presence logit pushed
high, query scores spread so that some queries pass the thresholds and others do not, mask
logits and the tracker's object scores pushed away from zero), saved in its own safetensors
layout and loaded into ours with our strict checkpoint loader.

The oracle runs its own ``propagate_in_video_iterator`` and ``Sam3VideoProcessor``'s
``postprocess_outputs`` unchanged. Two things are given to it from outside, because the port
does not take them: token ids (no vocabulary ships offline; both sides get the same ids) and
exemplar tokens (the port's video model has no exemplar prompts; its own geometry encoder
pools them on the exemplar's frame and they are reused on every frame, as ours does).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sam3"))
import backbone_oracle  # noqa: E402
import det_oracle  # noqa: E402

from ecoseg.sam3.predictor import preprocess  # noqa: E402

VOCAB = 49408


def reduced_config():
    """The configuration the concept tests run: ``sam3-reduced``'s backbone, text encoder and
    tracker with a detector of 1 geometry, 2 fusion and 2 decoder layers, 2048-wide MLPs and
    200 queries (the detector the oracle comparison was tuned and proven on)."""
    import dataclasses

    from ecoseg.sam3.config import get_config
    from ecoseg.sam3.decoder import DecoderConfig
    from ecoseg.sam3.detector import DetectorConfig
    from ecoseg.sam3.fusion import FusionEncoderConfig
    from ecoseg.sam3.geometry import GeometryEncoderConfig

    detector = DetectorConfig(
        geometry=GeometryEncoderConfig(num_layers=1),
        fusion=FusionEncoderConfig(num_layers=2),
        decoder=DecoderConfig(num_layers=2),
    )
    return dataclasses.replace(
        get_config("sam3-reduced"), name="sam3-concepts-test", detector=detector
    )


def tokenize(texts):
    """Deterministic stand-in for the CLIP tokenizer: start, one id per character, end, pad."""
    out = np.zeros((len(texts), 32), np.int64)
    for i, t in enumerate(texts):
        ids = [49406] + [256 + (ord(ch) % 4000) for ch in t][:30] + [49407]
        out[i, : len(ids)] = ids
    return out


def build_oracle(
    seed: int = 11,
    *,
    edit_frame: torch.Tensor | None = None,
    text="parrotfish",
    config=None,
    score_gain: float = 20.0,
):
    """transformers' reduced ``Sam3VideoModel`` (or one of ``config``) with random weights,
    edited to detect on ``edit_frame`` (preprocessed, ``(1, 3, S, S)``) when given
    (``score_gain``: see :func:`edit_to_detect_`)."""
    from transformers.models.sam3 import configuration_sam3 as c3
    from transformers.models.sam3_tracker_video import configuration_sam3_tracker_video as ct
    from transformers.models.sam3_video import configuration_sam3_video as cv
    from transformers.models.sam3_video import modeling_sam3_video as mv

    backbone_oracle.transformers_sam3()
    det_oracle.hf_modeling()  # torchvision stand-in for the geometry encoder's ROI pooling
    cfg = config or reduced_config()
    det = c3.Sam3Config(
        vision_config=backbone_oracle.hf_vit_config(cfg).to_dict(),
        text_config=backbone_oracle.hf_text_config(cfg).to_dict(),
        **det_oracle.hf_detector_kwargs(cfg.detector),
    )
    config = cv.Sam3VideoConfig(
        detector_config=det.to_dict(),
        tracker_config=ct.Sam3TrackerVideoConfig(image_size=cfg.image_size).to_dict(),
    )
    torch.manual_seed(seed)
    hf = backbone_oracle.randomize_(mv.Sam3VideoModel(config).eval(), seed=seed)
    with torch.no_grad():
        hf.tracker_model.shared_image_embedding.positional_embedding.copy_(
            hf.tracker_model.prompt_encoder.shared_embedding.positional_embedding
        )
        if edit_frame is not None:
            edit_to_detect_(hf, edit_frame, torch.as_tensor(tokenize([text])), score_gain)
    return hf


@torch.no_grad()
def edit_to_detect_(
    hf, frame: torch.Tensor, ids, score_gain: float = 20.0, mask_gain: float = 20.0
):
    """Make random weights detect: presence ~1, query scores spread (around 0.9 for the
    reduced detector's 200 queries at ``score_gain`` 20; the micro detector's 20 queries need
    a gain of ~2 to spread), mask logits far from zero and centred on ``frame`` (the pixel
    embedding's mean removed, so masks split the image instead of covering it), tracker
    objects present with decisive masks."""
    d = hf.detector_model
    d.detr_decoder.presence_head.layer3.bias.fill_(8.0)
    d.dot_product_scoring.query_proj.weight.mul_(score_gain)
    d.mask_decoder.mask_embedder.layers[2].weight.mul_(mask_gain)
    seen = {}
    hook = d.mask_decoder.instance_projection.register_forward_hook(
        lambda m, i, o: seen.__setitem__("out", o)
    )
    d(pixel_values=frame, input_ids=ids, attention_mask=(ids != 0).long())
    hook.remove()
    d.mask_decoder.instance_projection.bias.sub_(seen["out"][0].mean((1, 2)))
    t = hf.tracker_model.mask_decoder
    t.pred_obj_score_head.proj_out.bias.fill_(6.0)
    for layer in t.output_hypernetworks_mlps:
        layer.proj_out.weight.mul_(mask_gain)


def load_ours(hf, path, config=None):
    """Our ``SAM3Model`` (of ``config``, default :func:`reduced_config`) loaded strictly from
    the oracle's safetensors."""
    from ecoseg.sam2.checkpoint import save_safetensors
    from ecoseg.sam3.checkpoint import load_checkpoint
    from ecoseg.sam3.model import SAM3Model

    save_safetensors(hf.state_dict(), path)
    torch.manual_seed(0)
    return load_checkpoint(SAM3Model(config or reduced_config()).eval(), path)


def clip(frames: int = 12, size=(96, 64), seed: int = 3, fps: float = 30.0) -> list[np.ndarray]:
    """A short synthetic reef clip (fish enter and leave; a low ``fps`` makes them move
    further from frame to frame)."""
    return [image for image, _ in clip_with_labels(frames, size, seed, fps)]


def clip_with_labels(frames: int = 12, size=(96, 64), seed: int = 3, fps: float = 30.0):
    """:func:`clip` with each frame's true animal labels: ``[(image, labels), ...]``."""
    from ecoseg.synth import make_scene, render

    scene = make_scene(seed=seed, frames=frames, size=size, fps=fps)
    return [render(scene, i) for i in range(frames)]


def micro_config():
    """The smallest SAM 3 that runs every code path (benchmarks of memory over thousands of
    frames on a CPU): 112 px input (an 8-patch grid, one attention window), a 64-wide 2-block
    ViT, a 1-layer 64-wide text encoder, a detector of 1 layer per component with 256-wide MLPs
    and 20 queries; the tracker is SAM 3's at that size."""
    import dataclasses

    from ecoseg.sam3.config import TextConfig, ViTConfig, get_config
    from ecoseg.sam3.decoder import DecoderConfig
    from ecoseg.sam3.detector import DetectorConfig
    from ecoseg.sam3.fusion import FusionEncoderConfig
    from ecoseg.sam3.geometry import GeometryEncoderConfig

    vision = ViTConfig(
        embed_dim=64,
        depth=2,
        num_heads=2,
        image_size=112,
        pretrain_image_size=112,
        window_size=8,
        global_att_blocks=(1,),
    )
    ffn = 256
    detector = DetectorConfig(
        geometry=GeometryEncoderConfig(num_layers=1, dim_feedforward=ffn),
        fusion=FusionEncoderConfig(num_layers=1, dim_feedforward=ffn),
        decoder=DecoderConfig(num_layers=1, num_queries=20, dim_feedforward=ffn),
        scoring_dim_feedforward=ffn,
    )
    base = get_config("sam3-reduced", 112)
    return dataclasses.replace(
        base,
        name="sam3-micro",
        vision=vision,
        text=TextConfig(width=64, heads=2, layers=1, output_dim=64),
        detector=detector,
    )


def pixels(images, size: int = 336) -> torch.Tensor:
    return torch.cat([preprocess(im, size) for im in images])


def run_oracle(hf, images, text: str, exemplar=None, settings: dict | None = None, size: int = 336):
    """The oracle's per-frame outputs: ``{frame: {obj_id: bool mask (H, W)}}``, and ``{obj_id:
    score}``. ``exemplar`` is ``(frame, [x0, y0, x1, y1])`` in pixels."""
    from transformers.models.sam3_video import modeling_sam3_video as mv
    from transformers.models.sam3_video.processing_sam3_video import Sam3VideoProcessor

    for k, v in (settings or {}).items():
        setattr(hf, k, v)
    h, w = images[0].shape[:2]
    px = pixels(images, size)
    session = mv.Sam3VideoInferenceSession(
        video=px, video_height=h, video_width=w, dtype=torch.float32
    )
    pid = session.add_prompt(text)
    ids = torch.as_tensor(tokenize([text]))
    session.prompt_input_ids[pid] = ids
    session.prompt_attention_masks[pid] = (ids != 0).long()
    restore = None
    if exemplar is not None:
        restore = _exemplar_tokens(hf, px, exemplar, (h, w), ids)
    import transformers.models.sam3_video.processing_sam3_video as pv

    if not hasattr(pv, "masks_to_boxes"):  # torchvision's, used for the boxes only
        pv.masks_to_boxes = _masks_to_boxes
    proc = object.__new__(Sam3VideoProcessor)
    out: dict[int, dict[int, np.ndarray]] = {}
    try:
        for o in hf.propagate_in_video_iterator(session):
            r = proc.postprocess_outputs(session, o)
            out[o.frame_idx] = {
                int(i): m.cpu().numpy() for i, m in zip(r["object_ids"], r["masks"])
            }
    finally:
        if restore is not None:
            restore()
    return out


def _masks_to_boxes(masks: torch.Tensor) -> torch.Tensor:
    boxes = torch.zeros(len(masks), 4)
    for i, m in enumerate(masks):
        ys, xs = torch.nonzero(m, as_tuple=True)
        if len(xs):
            boxes[i] = torch.stack([xs.min(), ys.min(), xs.max(), ys.max()]).float()
    return boxes


def _exemplar_tokens(hf, px, exemplar, hw, ids):
    """Make the oracle's detector use exemplar tokens its geometry encoder pools on the
    exemplar's frame (the port's video model itself takes text only)."""
    frame, box = exemplar
    h, w = hw
    x0, y0, x1, y1 = box
    cxcywh = torch.tensor([[[(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]]])
    d = hf.detector_model
    geo = d.geometry_encoder
    original = geo.forward
    with torch.no_grad():
        vision = d.get_vision_features(pixel_values=px[frame : frame + 1])
        cached = {}

        def capture(*a, **k):
            cached["out"] = original(*a, **k)
            return cached["out"]

        geo.forward = capture
        text = d.get_text_features(
            input_ids=ids, attention_mask=(ids != 0).long(), return_dict=True
        )
        d(
            vision_embeds=vision,
            text_embeds=text,
            attention_mask=(ids != 0).long(),
            input_boxes=cxcywh,
            input_boxes_labels=torch.ones(1, 1, dtype=torch.long),
        )
    det_forward = d.forward

    def forward(*a, **k):
        k.setdefault("input_boxes", cxcywh)
        k.setdefault("input_boxes_labels", torch.ones(1, 1, dtype=torch.long))
        return det_forward(*a, **k)

    geo.forward = lambda *a, **k: cached["out"]
    d.forward = forward

    def restore():
        geo.forward = original
        d.forward = det_forward

    return restore


def entering_clip(frames: int, enter: int, size=(96, 64), seed: int = 3) -> list[np.ndarray]:
    """:func:`clip` at 3 frames/s with a large orange fish (an ellipse half the clip's height)
    swimming in from the left edge from frame ``enter`` on: a mid-clip change big enough to
    move the random detector's scores (the scene's own fish are a few pixels long)."""
    w, h = size
    yy, xx = np.mgrid[:h, :w]
    out = []
    for t, image in enumerate(clip(frames, size, seed, fps=3.0)):
        if t >= enter:
            cx = -w / 10 + w / 12 * (t - enter + 1)
            body = ((xx - cx) / (w / 5)) ** 2 + ((yy - h / 2) / (h / 6)) ** 2 <= 1
            image = image.copy()
            image[body] = (250, 120, 40)
        out.append(image)
    return out
