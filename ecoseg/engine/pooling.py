"""Mask-pooled image embeddings: one vector per object and frame, for the species classifier.

The SAM 2 engine averages the frame's stride-16 image features (the neck's output, 256
channels) inside each object's mask; :func:`ecoseg.engine.results.write_results` averages those
over the frames each object is present in and stores the means in the mask store
(:mod:`ecoseg.store.embeddings`, float16), where :mod:`ecoseg.species.features` reads them.

Examples
--------
>>> import torch
>>> feats = torch.arange(8.0).reshape(2, 2, 2)          # C=2 channels on a 2x2 grid
>>> logits = torch.full((1, 1, 8, 8), -1.0); logits[..., :4, :4] = 1.0  # top-left cell
>>> mask_pooled(feats, logits).tolist()
[[0.0, 4.0]]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["mask_pooled"]


def mask_pooled(features: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
    """Mean of ``features`` (C, H, W) inside each mask of ``mask_logits`` (N, 1, h, w).

    The masks (logit > 0) are area-averaged onto the feature grid, so a feature cell counts
    by the share of it the object covers. An empty mask gives a row of NaN.

    Returns
    -------
    Tensor of float32, shape (N, C), on the features' device.
    """
    c, h, w = features.shape
    masks = (mask_logits[:, 0] > 0).float()
    cover = F.adaptive_avg_pool2d(masks[:, None], (h, w))[:, 0]  # (N, H, W)
    weight = cover.flatten(1)
    total = weight.sum(dim=1, keepdim=True)
    pooled = weight @ features.float().reshape(c, h * w).T  # (N, C)
    return torch.where(total > 0, pooled / total.clamp_min(1e-12), torch.nan)
