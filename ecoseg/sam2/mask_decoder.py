"""SAM 2 mask decoder: two-way transformer, upscaling with high-resolution skips, and heads.

Output tokens (an object-score token when ``pred_obj_scores``, an IoU token, and
``1 + num_multimask_outputs`` mask tokens) are prepended to the prompt tokens and run through
the :class:`~ecoseg.sam2.transformer.TwoWayTransformer` with the image embedding. The image side
is upscaled x4 by two transposed convolutions, adding the stride-8 and stride-4 features
(``conv_s1`` / ``conv_s0`` projections of the neck's finer levels). Each mask token goes through
its own hypernetwork MLP and is dotted with the upscaled map to give mask logits. Token 0 is the
single-mask output, tokens 1..3 the multimask outputs.

Exports
-------
``MaskDecoderOutput``
    NamedTuple ``(masks (B, M, 4h, 4w) logits, iou_pred (B, M), sam_tokens (B, T, C),
    object_score_logits (B, 1))`` with ``M = 3`` for multimask output and ``1`` otherwise;
    ``sam_tokens`` are the mask-token outputs to build object pointers from (the three
    multimask tokens when multimask output and ``use_multimask_token_for_obj_ptr``, else the
    single-mask token). Without ``pred_obj_scores`` the object score is a constant 10.
``MaskDecoder(config: MaskDecoderConfig)``
    ``forward(image_embeddings (B|1, C, h, w), image_pe (1, C, h, w),
    sparse_prompt_embeddings (B, N, C), dense_prompt_embeddings (B, C, h, w),
    multimask_output: bool, repeat_image: bool, high_res_features=None) -> MaskDecoderOutput``.
    ``high_res_features`` is ``[feat_s0 (B, C/8, 4h, 4w), feat_s1 (B, C/4, 2h, 2w)]``, already
    projected: use :meth:`MaskDecoder.project_high_res` on the neck's stride-4 and stride-8
    levels once per image. When a single mask is requested outside training, and
    ``dynamic_multimask_via_stability`` is set, an unstable single mask is replaced by the
    multimask output with the highest predicted IoU.
``mask_stability_scores(logits (..., H, W), delta) -> (...)``
    IoU between the masks thresholded at ``+delta`` and ``-delta``.

Examples
--------
>>> import torch
>>> from ecoseg.sam2.mask_decoder import MaskDecoder
>>> from ecoseg.sam2.variants import MaskDecoderConfig
>>> dec = MaskDecoder(MaskDecoderConfig(use_high_res_features=False))
>>> out = dec(torch.zeros(1, 256, 8, 8), torch.zeros(1, 256, 8, 8), torch.zeros(1, 2, 256),
...           torch.zeros(1, 256, 8, 8), multimask_output=True, repeat_image=False)
>>> tuple(out.masks.shape), tuple(out.iou_pred.shape), tuple(out.sam_tokens.shape)
((1, 3, 32, 32), (1, 3), (1, 3, 256))
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.transformer import MLP, LayerNorm2d, TwoWayTransformer
from ecoseg.sam2.variants import MaskDecoderConfig

__all__ = ["MaskDecoder", "MaskDecoderOutput", "mask_stability_scores"]


class MaskDecoderOutput(NamedTuple):
    """What the mask decoder returns (see the module docstring)."""

    masks: Tensor
    iou_pred: Tensor
    sam_tokens: Tensor
    object_score_logits: Tensor


def mask_stability_scores(logits: Tensor, delta: float) -> Tensor:
    """IoU of ``logits > delta`` and ``logits > -delta`` over the last two axes (1 if empty).

    Examples
    --------
    >>> import torch
    >>> float(mask_stability_scores(torch.tensor([[1.0, 0.01], [-1.0, -1.0]]), 0.05))
    0.5
    """
    flat = logits.flatten(-2)
    inner = (flat > delta).sum(-1).float()
    outer = (flat > -delta).sum(-1).float()
    return torch.where(outer > 0, inner / outer.clamp(min=1), torch.ones_like(outer))


def _stacked_mlp(mlps: nn.ModuleList, x: Tensor) -> Tensor:
    """Apply ``mlps[i]`` to ``x[:, i]`` for all i at once: ``(B, T, C) -> (B, T, C_out)``."""
    n_layers = len(mlps[0].layers)
    for j in range(n_layers):
        w = torch.stack([m.layers[j].weight for m in mlps])  # (T, out, in)
        b = torch.stack([m.layers[j].bias for m in mlps])  # (T, out)
        x = torch.einsum("bti,toi->bto", x, w) + b
        if j < n_layers - 1:
            x = F.relu(x)
    return x


class MaskDecoder(nn.Module):
    """SAM 2 mask decoder built from a :class:`~ecoseg.sam2.variants.MaskDecoderConfig`."""

    def __init__(self, config: MaskDecoderConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.transformer_dim
        self.transformer_dim = dim
        self.transformer = TwoWayTransformer(
            depth=config.transformer_depth,
            embedding_dim=dim,
            num_heads=config.transformer_num_heads,
            mlp_dim=config.transformer_mlp_dim,
            attention_downsample_rate=config.attention_downsample_rate,
        )
        self.num_multimask_outputs = config.num_multimask_outputs
        self.num_mask_tokens = config.num_multimask_outputs + 1
        self.iou_token = nn.Embedding(1, dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, dim)
        self.pred_obj_scores = config.pred_obj_scores
        if self.pred_obj_scores:
            self.obj_score_token = nn.Embedding(1, dim)
        self.use_multimask_token_for_obj_ptr = config.use_multimask_token_for_obj_ptr
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(dim, dim // 4, kernel_size=2, stride=2),
            LayerNorm2d(dim // 4),
            nn.GELU(),
            nn.ConvTranspose2d(dim // 4, dim // 8, kernel_size=2, stride=2),
            nn.GELU(),
        )
        self.use_high_res_features = config.use_high_res_features
        if self.use_high_res_features:
            self.conv_s0 = nn.Conv2d(dim, dim // 8, kernel_size=1)
            self.conv_s1 = nn.Conv2d(dim, dim // 4, kernel_size=1)
        self.output_hypernetworks_mlps = nn.ModuleList(
            MLP(dim, dim, dim // 8, 3) for _ in range(self.num_mask_tokens)
        )
        self.iou_prediction_head = MLP(
            dim,
            config.iou_head_hidden_dim,
            self.num_mask_tokens,
            config.iou_head_depth,
            sigmoid_output=config.iou_prediction_use_sigmoid,
        )
        if self.pred_obj_scores:
            if config.pred_obj_scores_mlp:
                self.pred_obj_score_head = MLP(dim, dim, 1, 3)
            else:
                self.pred_obj_score_head = nn.Linear(dim, 1)
        self.dynamic_multimask_via_stability = config.dynamic_multimask_via_stability
        self.dynamic_multimask_stability_delta = config.dynamic_multimask_stability_delta
        self.dynamic_multimask_stability_thresh = config.dynamic_multimask_stability_thresh

    def project_high_res(self, features: list[Tensor]) -> list[Tensor]:
        """Project the neck's stride-4 and stride-8 levels for the decoder's skip connections.

        ``features`` is ``backbone_fpn`` (highest resolution first); returns ``[conv_s0(f0),
        conv_s1(f1)]``, or ``[]`` when the decoder does not use high-resolution features.
        """
        if not self.use_high_res_features:
            return []
        return [self.conv_s0(features[0]), self.conv_s1(features[1])]

    def forward(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
        multimask_output: bool,
        repeat_image: bool,
        high_res_features: list[Tensor] | None = None,
    ) -> MaskDecoderOutput:
        masks, iou_pred, mask_tokens_out, object_score_logits = self.predict_masks(
            image_embeddings,
            image_pe,
            sparse_prompt_embeddings,
            dense_prompt_embeddings,
            repeat_image,
            high_res_features,
        )
        if multimask_output:
            masks, iou_pred = masks[:, 1:], iou_pred[:, 1:]
        elif self.dynamic_multimask_via_stability and not self.training:
            masks, iou_pred = self._dynamic_single_mask(masks, iou_pred)
        else:
            masks, iou_pred = masks[:, 0:1], iou_pred[:, 0:1]
        if multimask_output and self.use_multimask_token_for_obj_ptr:
            sam_tokens = mask_tokens_out[:, 1:]
        else:
            # the single-mask token is the object-memory token (it is what training tracks on)
            sam_tokens = mask_tokens_out[:, 0:1]
        return MaskDecoderOutput(masks, iou_pred, sam_tokens, object_score_logits)

    def predict_masks(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
        repeat_image: bool,
        high_res_features: list[Tensor] | None = None,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """All mask tokens' outputs: ``(masks (B, 4, ...), iou (B, 4), tokens (B, 4, C), obj)``."""
        head = [self.iou_token.weight, self.mask_tokens.weight]
        if self.pred_obj_scores:
            head.insert(0, self.obj_score_token.weight)
        first = 1 if self.pred_obj_scores else 0
        b = sparse_prompt_embeddings.shape[0]
        output_tokens = torch.cat(head, dim=0)[None].expand(b, -1, -1)
        tokens = torch.cat(
            (output_tokens.to(sparse_prompt_embeddings.dtype), sparse_prompt_embeddings), dim=1
        )

        if repeat_image:
            src = torch.repeat_interleave(image_embeddings, b, dim=0)
        else:
            if image_embeddings.shape[0] != b:
                raise ValueError(
                    f"{image_embeddings.shape[0]} image embeddings for {b} prompt sets; "
                    "pass repeat_image=True to share one image"
                )
            src = image_embeddings
        src = src + dense_prompt_embeddings
        pos_src = image_pe.expand(b, -1, -1, -1)
        _, c, h, w = src.shape

        hs, keys = self.transformer(src, pos_src, tokens)
        iou_token_out = hs[:, first]
        mask_tokens_out = hs[:, first + 1 : first + 1 + self.num_mask_tokens]

        src = keys.transpose(1, 2).reshape(b, c, h, w)
        if self.use_high_res_features:
            if not high_res_features:
                raise ValueError("this decoder needs high_res_features (see project_high_res)")
            dc1, ln1, act1, dc2, act2 = self.output_upscaling
            feat_s0, feat_s1 = high_res_features
            up = act1(ln1(dc1(src) + feat_s1))
            up = act2(dc2(up) + feat_s0)
        else:
            up = self.output_upscaling(src)

        hyper_in = _stacked_mlp(self.output_hypernetworks_mlps, mask_tokens_out)  # (B, 4, C/8)
        _, cu, hu, wu = up.shape
        masks = (hyper_in @ up.reshape(b, cu, hu * wu)).reshape(b, -1, hu, wu)

        iou_pred = self.iou_prediction_head(iou_token_out)
        if self.pred_obj_scores:
            object_score_logits = self.pred_obj_score_head(hs[:, 0])
        else:
            object_score_logits = iou_pred.new_full((b, 1), 10.0)
        return masks, iou_pred, mask_tokens_out, object_score_logits

    def _dynamic_single_mask(self, masks: Tensor, iou_pred: Tensor) -> tuple[Tensor, Tensor]:
        """Single-mask output, or the best multimask output where it is unstable."""
        multi_masks, multi_iou = masks[:, 1:], iou_pred[:, 1:]
        best = multi_iou.argmax(dim=-1)
        rows = torch.arange(masks.shape[0], device=masks.device)
        best_masks = multi_masks[rows, best][:, None]
        best_iou = multi_iou[rows, best][:, None]
        single_masks, single_iou = masks[:, 0:1], iou_pred[:, 0:1]
        stable = mask_stability_scores(single_masks, self.dynamic_multimask_stability_delta)
        stable = stable >= self.dynamic_multimask_stability_thresh  # (B, 1)
        out_masks = torch.where(stable[..., None, None], single_masks, best_masks)
        out_iou = torch.where(stable, single_iou, best_iou)
        return out_masks, out_iou
