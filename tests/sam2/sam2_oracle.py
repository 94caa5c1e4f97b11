"""Oracle helpers: the official ``sam2`` package and ours on identical, strengthened weights.

Plain functions (no fixtures) shared by the SAM 2 tests of the image side and the video side;
``tests/sam2/conftest.py`` wraps them in fixtures. Everything that needs the official package
skips cleanly (``pytest.importorskip``) when it is not installed.

``make_pair(name, image_size=256) -> OraclePair(official, ours, variant, state_dict)``
    The official ``SAM2VideoPredictor`` (``build_sam2_video_predictor`` with
    ``++model.image_size=...``) and our :class:`~ecoseg.sam2.model.SAM2Model`, both in eval
    mode on the CPU, holding the same *strengthened* random weights (see :func:`strengthen`),
    loaded with ``strict=True`` into both.
``official_image_predictor(official_model)``
    The official ``SAM2ImagePredictor`` around an official model at any image size.
``strengthen(state_dict, seed=0)``
    Random default weights make a weak oracle (the object-score head says "no object", mask
    logits are within +-0.05 and Hiera's position embeddings are zero). This edits the state
    dict that both models then load: random position embeddings, a strongly positive
    object-score bias, and a x``LOGIT_GAIN`` gain on the mask hypernetworks' last layer so
    mask logits reach magnitudes of ~10-100.
``mask_agreement(reference, candidate) -> dict``
    Worst case over masks of ``iou`` (masks thresholded at 0), ``same_sign`` fraction,
    ``max_abs`` logit difference, plus the logit ``scale`` and the smallest ``foreground``
    and ``background`` fractions. ``agrees(stats)`` applies issue 5's tolerances (IoU >=
    0.995, same sign >= 99.9 %) and max abs diff <= 1e-3 of the logit scale.
``carries_signal(stats)``
    Whether the compared masks mean something: logits far from zero and no reference mask
    empty or full (two empty masks have IoU 1, so ``agrees`` alone proves nothing of them).
``feature_agreement(reference, candidate) -> float``
    max |difference| / max |reference| (issue 5 asks <= 1e-4).
``reef_image(h=180, w=240, seed=0)``
    A smooth non-square uint8 RGB test image.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from typing import NamedTuple

import numpy as np
import pytest
import torch

ORACLE_IMAGE_SIZE = 256
#: gain on the mask hypernetwork's last layer: random-weight logits of ~0.05 become ~10
LOGIT_GAIN = 200.0
OBJECT_SCORE_BIAS = 20.0

IOU_MIN = 0.995
SAME_SIGN_MIN = 0.999
LOGIT_REL_TOL = 1e-3
FEATURE_REL_TOL = 1e-4


class OraclePair(NamedTuple):
    official: torch.nn.Module
    ours: torch.nn.Module
    variant: object
    state_dict: dict


def strengthen(state_dict: dict, seed: int = 0) -> dict:
    """Edit random weights in place so the oracle comparison is not trivially satisfied."""
    g = torch.Generator().manual_seed(seed)
    for key in ("image_encoder.trunk.pos_embed", "image_encoder.trunk.pos_embed_window"):
        t = state_dict[key]
        state_dict[key] = torch.randn(t.shape, generator=g) * 0.5
    bias = "sam_mask_decoder.pred_obj_score_head.layers.2.bias"
    if bias in state_dict:
        state_dict[bias] = torch.full_like(state_dict[bias], OBJECT_SCORE_BIAS)
    i = 0
    while f"sam_mask_decoder.output_hypernetworks_mlps.{i}.layers.2.weight" in state_dict:
        for part in ("weight", "bias"):
            key = f"sam_mask_decoder.output_hypernetworks_mlps.{i}.layers.2.{part}"
            state_dict[key] = state_dict[key] * LOGIT_GAIN
        i += 1
    return state_dict


def build_official(config: str, image_size: int):
    """The official video-predictor model (random weights) at ``image_size``, eval, CPU."""
    build_sam = pytest.importorskip("sam2.build_sam")
    return build_sam.build_sam2_video_predictor(
        config, None, device="cpu", hydra_overrides_extra=[f"++model.image_size={image_size}"]
    )


def make_pair(name: str, image_size: int = ORACLE_IMAGE_SIZE) -> OraclePair:
    from ecoseg import sam2
    from ecoseg.sam2.variants import get_variant

    variant = get_variant(name, image_size)
    torch.manual_seed(0)
    official = build_official(variant.official_config, image_size)
    state = strengthen({k: v.clone() for k, v in official.state_dict().items()})
    official.load_state_dict(state, strict=True)
    ours = sam2.build(name, pretrained=False, image_size=image_size, device="cpu")
    ours.load_state_dict(state, strict=True)
    return OraclePair(official.eval(), ours.eval(), variant, state)


# --------------------------------------------------------------------------- official predictor
def _torchvision_stand_in() -> dict[str, types.ModuleType]:
    """Modules standing in for the three torchvision transforms the official predictor uses.

    Only used when torchvision cannot be imported (it is not a dependency of ecoseg). They
    implement torchvision's documented tensor semantics (read from torchvision 0.28):
    ``ToTensor`` = HWC uint8 -> CHW float32 / 255; ``Resize((s, s))`` on a float tensor =
    ``interpolate(bilinear, align_corners=False, antialias=True)``; ``Normalize`` =
    ``(x - mean) / std``. Everything else in the official predictor runs unchanged.
    """
    import torch.nn.functional as F

    class ToTensor:
        def __call__(self, pic):
            arr = np.asarray(pic)
            return torch.from_numpy(arr.transpose(2, 0, 1).copy()).to(torch.float32).div(255)

    class Resize(torch.nn.Module):
        def __init__(self, size):
            super().__init__()
            self.size = [int(size[0]), int(size[1])]

        def forward(self, img: torch.Tensor) -> torch.Tensor:
            x = F.interpolate(
                img.unsqueeze(0),
                size=self.size,
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
            return x.squeeze(0)

    class Normalize(torch.nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.mean = [float(m) for m in mean]
            self.std = [float(s) for s in std]

        def forward(self, img: torch.Tensor) -> torch.Tensor:
            mean = torch.tensor(self.mean, dtype=img.dtype, device=img.device).view(-1, 1, 1)
            std = torch.tensor(self.std, dtype=img.dtype, device=img.device).view(-1, 1, 1)
            return (img - mean) / std

    tv = types.ModuleType("torchvision")
    transforms = types.ModuleType("torchvision.transforms")
    transforms.ToTensor, transforms.Resize, transforms.Normalize = ToTensor, Resize, Normalize
    tv.transforms = transforms
    return {"torchvision": tv, "torchvision.transforms": transforms}


def _official_predictor_class():
    name = "sam2.sam2_image_predictor"
    if name in sys.modules:
        return sys.modules[name].SAM2ImagePredictor
    try:
        import torchvision  # noqa: F401

        return importlib.import_module(name).SAM2ImagePredictor
    except Exception:  # torchvision absent or broken: use the documented stand-in
        pass
    stand_in = _torchvision_stand_in()
    saved = {k: sys.modules.get(k) for k in stand_in}
    sys.modules.update(stand_in)
    try:
        sys.modules.pop("sam2.utils.transforms", None)
        return importlib.import_module(name).SAM2ImagePredictor
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def official_image_predictor(official_model):
    """The official ``SAM2ImagePredictor`` for ``official_model`` at its own image size."""
    cls = _official_predictor_class()
    with warnings.catch_warnings():  # its transforms use the deprecated torch.jit.script
        warnings.simplefilter("ignore", DeprecationWarning)
        predictor = cls(official_model)
    s = official_model.image_size
    predictor._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
    return predictor


# --------------------------------------------------------------------------- comparisons
def mask_agreement(reference, candidate) -> dict:
    """Agreement of two stacks of mask logits ``(..., H, W)`` (worst case over masks)."""
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32))
    cand = torch.as_tensor(np.asarray(candidate, dtype=np.float32))
    assert ref.shape == cand.shape, (ref.shape, cand.shape)
    ref = ref.reshape(-1, *ref.shape[-2:])
    cand = cand.reshape(-1, *cand.shape[-2:])
    a, b = ref > 0, cand > 0
    inter = (a & b).flatten(1).sum(1).double()
    union = (a | b).flatten(1).sum(1).double()
    iou = torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
    same = (a == b).flatten(1).double().mean(1)
    diff = (ref - cand).abs()
    return {
        "iou": float(iou.min()),
        "same_sign": float(same.min()),
        "max_abs": float(diff.max()),
        "scale": float(ref.abs().max()),
        "foreground": float(a.flatten(1).double().mean(1).min()),
        "background": float((~a).flatten(1).double().mean(1).min()),
    }


def agrees(stats: dict) -> bool:
    """Issue-5 tolerances (+ a logit tolerance relative to the logit scale)."""
    return (
        stats["iou"] >= IOU_MIN
        and stats["same_sign"] >= SAME_SIGN_MIN
        and stats["max_abs"] <= LOGIT_REL_TOL * max(stats["scale"], 1.0)
    )


def carries_signal(stats: dict) -> bool:
    """Logits beyond +-10 and every reference mask more than 0.5 % foreground and background."""
    return stats["scale"] > 10 and stats["foreground"] > 0.005 and stats["background"] > 0.005


def feature_agreement(reference: torch.Tensor, candidate: torch.Tensor) -> float:
    """max |reference - candidate| / max |reference|."""
    assert reference.shape == candidate.shape, (reference.shape, candidate.shape)
    scale = float(reference.abs().max())
    return float((reference.float() - candidate.float()).abs().max()) / max(scale, 1e-12)


def reef_image(h: int = 180, w: int = 240, seed: int = 0) -> np.ndarray:
    """A smooth, non-square RGB test image (uint8) with a few bright blobs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    img[..., 2] = 120 + 60 * np.sin(xx / 37.0) * np.cos(yy / 23.0)  # blue water
    img[..., 1] = 90 + 30 * np.cos(xx / 19.0 + yy / 41.0)
    for _ in range(5):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        r = rng.uniform(0.06, 0.15) * min(h, w)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(60, 160, size=3)
    img += rng.normal(0, 4, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)
