"""The SAM 2 / SAM 2.1 network as typed, tensor-in/tensor-out building blocks.

:class:`SAM2Model` owns the five components of SAM 2 (image encoder, prompt encoder, mask
decoder, memory attention, memory encoder) and the top-level parameters, named exactly as in
the official checkpoints so that their state dicts load strictly. It holds no inference state:
every method takes tensors and returns tensors (or small frozen dataclasses of tensors). The
video engine (:mod:`ecoseg.engine.propagation`) decides which memories a frame attends to and
keeps them; this module only computes.

The steps of SAM 2 on a video frame, as methods:

1. :meth:`SAM2Model.encode_image` -- images to :class:`FrameFeatures` (stride-16 features, their
   position encoding, and the projected stride-4/8 features for the decoder).
2. :meth:`SAM2Model.condition_without_memory` (a prompted frame seen like an image, SAM style)
   or :meth:`SAM2Model.condition_on_memory` (memory attention over stored spatial memories
   with their temporal slots, and object pointers with their temporal encoding).
3. :meth:`SAM2Model.run_heads` -- prompt encoder + mask decoder on the (conditioned) features for
   a batch of objects, with clicks/box corners and/or a mask input: :class:`HeadOutput` (mask
   logits at ``image_size / 4``, IoU estimates, object pointer, object-score logit, with the
   "no object" rules applied). :meth:`SAM2Model.mask_as_output` is the mask-prompt path.
4. :meth:`SAM2Model.encode_memory` -- a predicted mask and the frame features to a new spatial
   memory.

Exports
-------
SAM2Model
    ``SAM2Model(variant, image_size=None)``; ``variant`` is a
    :class:`~ecoseg.sam2.variants.Variant` or a variant name.
FrameFeatures, HeadOutput
    Typed results of :meth:`SAM2Model.encode_image` and :meth:`SAM2Model.run_heads`.
NO_OBJ_SCORE
    The mask logit (-1024) written where the object-score head says the object is absent.
upsample_logits
    Bilinear resize of mask logits (``align_corners=False``), as used for every resize of
    predicted logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.mask_decoder import MaskDecoder
from ecoseg.sam2.memory import (
    MemoryAttention,
    MemoryEncoder,
    sine_encoding_1d,
    sine_position_encoding_2d,
)
from ecoseg.sam2.neck import ImageEncoder
from ecoseg.sam2.prompt_encoder import PromptEncoder
from ecoseg.sam2.transformer import MLP
from ecoseg.sam2.variants import Variant, get_variant

__all__ = ["NO_OBJ_SCORE", "FrameFeatures", "HeadOutput", "SAM2Model", "upsample_logits"]

#: Mask logit of every pixel of an object predicted absent (sigmoid is 0).
NO_OBJ_SCORE = -1024.0


def upsample_logits(logits: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize (B, C, h, w) mask logits to ``size`` = (H, W), bilinear, ``align_corners=False``.

    Examples
    --------
    >>> upsample_logits(torch.zeros(2, 1, 4, 4), (8, 6)).shape
    torch.Size([2, 1, 8, 6])
    """
    if tuple(logits.shape[-2:]) == tuple(size):
        return logits
    return F.interpolate(logits.float(), size=size, mode="bilinear", align_corners=False)


@dataclass(frozen=True)
class FrameFeatures:
    """Image features of a batch of frames (one row per frame or per object).

    Attributes
    ----------
    features : Tensor, shape (B, C, H, W)
        Stride-16 features (``C`` = hidden dim, 256).
    pos : Tensor, shape (B, C, H, W)
        Their sine position encoding.
    high_res : tuple of Tensor
        Stride-4 and stride-8 features already projected for the mask decoder
        (``conv_s0``: (B, C/8, 4H, 4W), ``conv_s1``: (B, C/4, 2H, 2W)); empty when the
        decoder does not use them.
    """

    features: Tensor
    pos: Tensor
    high_res: tuple[Tensor, ...]

    @property
    def batch_size(self) -> int:
        return self.features.shape[0]

    def expand(self, n: int) -> FrameFeatures:
        """The features of a single frame repeated (as a view) for ``n`` objects."""
        if self.batch_size != 1:
            raise ValueError(f"can only expand the features of one frame, not {self.batch_size}")
        return FrameFeatures(
            self.features.expand(n, -1, -1, -1),
            self.pos.expand(n, -1, -1, -1),
            tuple(h.expand(n, -1, -1, -1) for h in self.high_res),
        )

    def select(self, index: int | slice) -> FrameFeatures:
        """Rows ``index`` (kept 4-d)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return FrameFeatures(
            self.features[index], self.pos[index], tuple(h[index] for h in self.high_res)
        )

    def to(self, device=None, dtype=None) -> FrameFeatures:
        return FrameFeatures(
            self.features.to(device=device, dtype=dtype),
            self.pos.to(device=device, dtype=dtype),
            tuple(h.to(device=device, dtype=dtype) for h in self.high_res),
        )


@dataclass(frozen=True)
class HeadOutput:
    """What the SAM heads predict for a batch of objects on one frame.

    Attributes
    ----------
    multimask_logits : Tensor, shape (B, M, h, w)
        All returned mask logits (M = 3 with multimask output, else 1), at ``image_size / 4``;
        :data:`NO_OBJ_SCORE` where the object is predicted absent.
    ious : Tensor, shape (B, M)
        Predicted IoU of each mask.
    mask_logits : Tensor, shape (B, 1, h, w)
        The chosen mask (the highest predicted IoU with multimask output).
    obj_ptr : Tensor, shape (B, C)
        Object pointer (the "no object" pointer mixed in where absent).
    object_score_logits : Tensor, shape (B, 1)
        Object presence logit (> 0: present).
    """

    multimask_logits: Tensor
    ious: Tensor
    mask_logits: Tensor
    obj_ptr: Tensor
    object_score_logits: Tensor


class SAM2Model(nn.Module):
    """SAM 2 / 2.1 network (see the module docstring).

    Parameters
    ----------
    variant : Variant or str
        Variant config or name (e.g. ``"sam2.1-tiny"``).
    image_size : int, optional
        Lower input size (multiple of 32), e.g. 256 for fast CPU work.

    Examples
    --------
    >>> m = SAM2Model("sam2.1-tiny", image_size=128).eval()
    >>> with torch.no_grad():
    ...     f = m.encode_image(torch.zeros(1, 3, 128, 128))
    ...     out = m.run_heads(m.condition_without_memory(f.features, f.pos), f.high_res,
    ...                       points=torch.tensor([[[64.0, 64.0]]]), labels=torch.tensor([[1]]))
    >>> tuple(out.mask_logits.shape), tuple(out.obj_ptr.shape)
    ((1, 1, 32, 32), (1, 256))
    """

    def __init__(self, variant: Variant | str, image_size: int | None = None):
        super().__init__()
        if isinstance(variant, str):
            variant = get_variant(variant, image_size)
        else:
            variant = variant.with_image_size(image_size)
        v = variant
        _check_supported(v)
        self.variant = v
        self.image_size = v.image_size
        self.hidden_dim = v.hidden_dim
        self.mem_dim = v.mem_dim
        self.num_maskmem = v.num_maskmem
        embed = v.image_embedding_size

        # a variant without a trunk (SAM 3's tracker) takes its image features from elsewhere
        self.image_encoder = ImageEncoder(v.trunk, v.neck) if v.trunk is not None else None
        self.sam_prompt_encoder = PromptEncoder(
            v.prompt_encoder.embed_dim,
            (embed, embed),
            (v.image_size, v.image_size),
            mask_in_chans=v.prompt_encoder.mask_in_chans,
        )
        self.sam_mask_decoder = MaskDecoder(v.mask_decoder)
        self.memory_attention = MemoryAttention.from_config(v.memory_attention)
        self.memory_encoder = MemoryEncoder.from_config(v.memory_encoder)

        # temporal encoding of the memory slots (slot 0 = conditioning frame, ...)
        self.maskmem_tpos_enc = nn.Parameter(torch.zeros(v.num_maskmem, 1, 1, self.mem_dim))
        # the "no memory" token of frames seen without memory
        self.no_mem_embed = nn.Parameter(torch.zeros(1, 1, self.hidden_dim))
        self.no_mem_pos_enc = nn.Parameter(torch.zeros(1, 1, self.hidden_dim))
        if v.pred_obj_scores and v.use_obj_ptrs_in_encoder:
            self.no_obj_ptr = nn.Parameter(torch.zeros(1, self.hidden_dim))
        else:
            self.no_obj_ptr = None
        if v.no_obj_embed_spatial:
            self.no_obj_embed_spatial = nn.Parameter(torch.zeros(1, self.mem_dim))
        else:
            self.no_obj_embed_spatial = None
        # turns a mask prompt (image size) into a low-res mask input to produce a pointer
        self.mask_downsample = nn.Conv2d(1, 1, kernel_size=4, stride=4)
        if v.use_mlp_for_obj_ptr_proj:
            self.obj_ptr_proj = MLP(self.hidden_dim, self.hidden_dim, self.hidden_dim, 3)
        else:
            self.obj_ptr_proj = nn.Linear(self.hidden_dim, self.hidden_dim)
        if v.proj_tpos_enc_in_obj_ptrs:
            self.obj_ptr_tpos_proj = nn.Linear(self.hidden_dim, self.mem_dim)
        else:
            self.obj_ptr_tpos_proj = nn.Identity()
        for p in (self.maskmem_tpos_enc, self.no_mem_embed, self.no_mem_pos_enc):
            nn.init.trunc_normal_(p, std=0.02)
        for p in (self.no_obj_ptr, self.no_obj_embed_spatial):
            if p is not None:
                nn.init.trunc_normal_(p, std=0.02)
        self._mem_pos_cache: dict[tuple, Tensor] = {}

    # ------------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def low_res_size(self) -> int:
        """Side of the decoder's mask logits (``image_size / 4``)."""
        return self.variant.low_res_mask_size

    # ------------------------------------------------------------------------------------
    # 1. image
    def encode_image(self, images: Tensor) -> FrameFeatures:
        """Run the image encoder on normalised images.

        Parameters
        ----------
        images : Tensor, shape (B, 3, image_size, image_size)
            RGB in [0, 1], normalised with the ImageNet mean and std.

        Returns
        -------
        FrameFeatures
        """
        if self.image_encoder is None:
            raise ValueError(f"{self.variant.name} has no image encoder of its own")
        out = self.image_encoder(images)
        high_res = tuple(self.sam_mask_decoder.project_high_res(out.backbone_fpn))
        return FrameFeatures(out.backbone_fpn[-1], out.vision_pos_enc[-1], high_res)

    # ------------------------------------------------------------------------------------
    # 2. memory conditioning
    def condition_without_memory(self, features: Tensor, pos: Tensor) -> Tensor:
        """Features of a frame seen without memory (a prompted frame before any tracking).

        Parameters
        ----------
        features, pos : Tensor, shape (B, C, H, W)

        Returns
        -------
        Tensor, shape (B, C, H, W)
        """
        if self.variant.directly_add_no_mem_embed:
            return features + self.no_mem_embed.view(1, -1, 1, 1)
        b, c, h, w = features.shape
        memory = self.no_mem_embed.expand(b, 1, c)
        memory_pos = self.no_mem_pos_enc.expand(b, 1, c)
        out = self.memory_attention(
            features.flatten(2).transpose(1, 2), pos.flatten(2).transpose(1, 2), memory, memory_pos
        )
        return out.transpose(1, 2).reshape(b, c, h, w)

    def memory_position_encoding(self, height: int, width: int, device=None) -> Tensor:
        """Spatial position encoding of memories, (mem_dim, height, width) (cached)."""
        key = (height, width, str(device))
        if key not in self._mem_pos_cache:
            self._mem_pos_cache[key] = sine_position_encoding_2d(
                height,
                width,
                self.mem_dim,
                temperature=self.variant.memory_encoder.pos_temperature,
                device=device,
            )
        return self._mem_pos_cache[key]

    def pointer_position_encoding(self, offsets: Tensor, num_frames: int) -> Tensor:
        """Temporal encoding of object pointers ``offsets`` frames away, (..., mem_dim).

        ``offsets`` are frame distances (signed in 2.1: positive for pointers from frames
        already passed in the tracking direction). They are normalised by the pointer window
        (``min(num_frames, max_obj_ptrs_in_encoder) - 1``). SAM 2.0 uses no temporal encoding
        (zeros).
        """
        v = self.variant
        shape = (*offsets.shape, self.mem_dim)
        if not v.add_tpos_enc_to_obj_ptrs:
            return offsets.new_zeros(shape, dtype=torch.float32)
        t_max = min(num_frames, v.max_obj_ptrs_in_encoder) - 1
        dim = self.hidden_dim if v.proj_tpos_enc_in_obj_ptrs else self.mem_dim
        enc = sine_encoding_1d(offsets.to(torch.float32) / max(t_max, 1), dim)
        return self.obj_ptr_tpos_proj(enc)

    def condition_on_memory(
        self,
        features: Tensor,
        pos: Tensor,
        memories: Tensor,
        memory_slots: Tensor,
        pointers: Tensor,
        pointer_offsets: Tensor,
        num_frames: int,
    ) -> Tensor:
        """Memory attention: condition frame features on spatial memories and pointers.

        Parameters
        ----------
        features, pos : Tensor, shape (B, C, H, W)
            The frame's stride-16 features and their position encoding (one row per object).
        memories : Tensor, shape (B, M, mem_dim, H, W)
            Spatial memories (any float dtype; stored memories are bfloat16).
        memory_slots : Tensor of int, shape (B, M) or (M,)
            Temporal slot of each memory: 0 for conditioning frames, ``num_maskmem - k`` for
            the memory of the frame ``k`` steps back (1 <= k < num_maskmem).
        pointers : Tensor, shape (B, P, C)
            Object pointers (P may be 0).
        pointer_offsets : Tensor, shape (B, P) or (P,)
            Frame distance of each pointer (see :meth:`pointer_position_encoding`).
        num_frames : int
            Video length (sets the pointer-distance normalisation).

        Returns
        -------
        Tensor, shape (B, C, H, W)
        """
        b, c, h, w = features.shape
        n_mem = memories.shape[1]
        if n_mem == 0:
            raise ValueError("condition_on_memory needs at least one spatial memory")
        dt = features.dtype
        # spatial memories: (B, M*H*W, mem_dim) with position = sine + slot encoding
        mem = memories.to(dt).permute(0, 1, 3, 4, 2).reshape(b, n_mem * h * w, self.mem_dim)
        slots = torch.as_tensor(memory_slots, device=features.device).long()
        slots = slots.expand(b, n_mem)
        tpos = self.maskmem_tpos_enc.view(self.num_maskmem, self.mem_dim)[
            self.num_maskmem - slots - 1
        ]  # (B, M, mem_dim)
        spatial_pos = self.memory_position_encoding(h, w, features.device)
        spatial_pos = spatial_pos.permute(1, 2, 0).reshape(1, 1, h * w, self.mem_dim)
        mem_pos = (spatial_pos + tpos[:, :, None, :]).reshape(b, n_mem * h * w, self.mem_dim)
        # object pointers, each split into C / mem_dim tokens sharing its temporal encoding
        n_ptr = pointers.shape[1]
        n_ptr_tokens = 0
        if n_ptr:
            split = c // self.mem_dim
            offsets = torch.as_tensor(pointer_offsets, device=features.device).expand(b, n_ptr)
            ptr_pos = self.pointer_position_encoding(offsets, num_frames).to(dt)
            ptr = pointers.to(dt).reshape(b, n_ptr * split, self.mem_dim)
            ptr_pos = ptr_pos.repeat_interleave(split, dim=1)
            mem = torch.cat((mem, ptr), dim=1)
            mem_pos = torch.cat((mem_pos, ptr_pos), dim=1)
            n_ptr_tokens = n_ptr * split
        out = self.memory_attention(
            features.flatten(2).transpose(1, 2),
            pos.flatten(2).transpose(1, 2),
            mem,
            mem_pos.to(dt),
            num_obj_ptr_tokens=n_ptr_tokens,
        )
        return out.transpose(1, 2).reshape(b, c, h, w)

    # ------------------------------------------------------------------------------------
    # 3. SAM heads
    def use_multimask(self, is_init_cond_frame: bool, num_points: int) -> bool:
        """Whether the heads output three masks (official rule; a box counts as two points)."""
        v = self.variant
        return (
            v.multimask_output_in_sam
            and (is_init_cond_frame or v.multimask_output_for_tracking)
            and v.multimask_min_pt_num <= num_points <= v.multimask_max_pt_num
        )

    def run_heads(
        self,
        features: Tensor,
        high_res: tuple[Tensor, ...],
        *,
        points: Tensor | None = None,
        labels: Tensor | None = None,
        mask_input: Tensor | None = None,
        multimask: bool = False,
    ) -> HeadOutput:
        """Prompt encoder + mask decoder for a batch of objects.

        Parameters
        ----------
        features : Tensor, shape (B, C, H, W)
            Conditioned stride-16 features (one row per object).
        high_res : tuple of Tensor
            Projected high-resolution features (:attr:`FrameFeatures.high_res`), B rows.
        points : Tensor, shape (B, P, 2), optional
            ``(x, y)`` in model input pixels (``image_size`` scale); box corners are points
            with labels 2 (top-left) and 3 (bottom-right) placed first.
        labels : Tensor of int, shape (B, P), optional
            1 positive, 0 negative, 2/3 box corners, -1 padding.
        mask_input : Tensor, shape (B, 1, h, w), optional
            Mask logits prompt; resized (bilinear, antialiased) to ``image_size / 4`` if needed.
        multimask : bool
            Output three masks and choose the one with the highest predicted IoU.

        Returns
        -------
        HeadOutput
        """
        b = features.shape[0]
        device = features.device
        if points is None:
            points = torch.zeros(b, 1, 2, device=device)
            labels = -torch.ones(b, 1, dtype=torch.int32, device=device)
        elif labels is None:
            raise ValueError("points need labels")
        dense_mask = None
        if mask_input is not None:
            size = tuple(self.sam_prompt_encoder.mask_input_size)
            if tuple(mask_input.shape[-2:]) != size:
                dense_mask = F.interpolate(
                    mask_input.float(),
                    size=size,
                    mode="bilinear",
                    align_corners=False,
                    antialias=True,
                )
            else:
                dense_mask = mask_input
        sparse, dense = self.sam_prompt_encoder((points, labels), None, dense_mask)
        dec = self.sam_mask_decoder(
            features,
            self.sam_prompt_encoder.get_dense_pe(),
            sparse,
            dense,
            multimask_output=multimask,
            repeat_image=False,
            high_res_features=list(high_res) if high_res else None,
        )
        masks, ious, tokens = dec.masks, dec.iou_pred, dec.sam_tokens
        score = dec.object_score_logits
        v = self.variant
        present = score > 0  # (B, 1)
        if v.pred_obj_scores:
            masks = torch.where(present[:, :, None, None], masks, NO_OBJ_SCORE)
        masks = masks.float()
        token = tokens[:, 0]
        if multimask:
            best = ious.argmax(dim=-1)
            rows = torch.arange(b, device=device)
            chosen = masks[rows, best][:, None]
            if tokens.shape[1] > 1:
                token = tokens[rows, best]
        else:
            chosen = masks
        obj_ptr = self.obj_ptr_proj(token)
        if v.pred_obj_scores:
            lam = score.sigmoid() if v.soft_no_obj_ptr else present.to(obj_ptr.dtype)
            if v.fixed_no_obj_ptr:
                obj_ptr = lam * obj_ptr
            obj_ptr = obj_ptr + (1 - lam) * self.no_obj_ptr
        return HeadOutput(masks, ious, chosen, obj_ptr, score)

    def mask_as_output(
        self, features: Tensor, high_res: tuple[Tensor, ...], masks: Tensor
    ) -> HeadOutput:
        """A mask prompt taken as the prediction (``use_mask_input_as_output_without_sam``).

        The mask becomes logits of +-10, downsampled (bilinear, antialiased) to the mask
        decoder's output size (``image_size / 4`` for SAM 2, 4 x the feature grid for SAM 3's
        tracker); the object pointer comes from the heads run on the raw (not
        memory-conditioned) features with the mask as mask input; the object is present where
        the mask is not empty.

        Parameters
        ----------
        features : Tensor, shape (B, C, H, W)
            Raw stride-16 features.
        high_res : tuple of Tensor
        masks : Tensor, shape (B, 1, image_size, image_size)
            Binary masks (0/1 floats or bool) at model input size.

        Returns
        -------
        HeadOutput
        """
        scale, bias = 20.0, -10.0
        m = masks.float()
        high = m * scale + bias
        low = F.interpolate(
            high,
            size=tuple(self.sam_prompt_encoder.mask_input_size),
            mode="bilinear",
            align_corners=False,
            antialias=True,
        )
        ious = m.new_ones(m.shape[0], 1)
        heads = self.run_heads(features, high_res, mask_input=self.mask_downsample(m))
        present = (m.flatten(1) > 0).any(dim=1, keepdim=True).float()
        score = scale * present + bias
        obj_ptr = heads.obj_ptr
        v = self.variant
        if v.pred_obj_scores:
            if v.fixed_no_obj_ptr:
                obj_ptr = present * obj_ptr
            obj_ptr = obj_ptr + (1 - present) * self.no_obj_ptr
        return HeadOutput(low, ious, low, obj_ptr, score)

    # ------------------------------------------------------------------------------------
    # 4. memory encoder
    def encode_memory(
        self,
        features: Tensor,
        mask_logits: Tensor,
        object_score_logits: Tensor,
        *,
        binarize: bool = False,
    ) -> Tensor:
        """Encode a new spatial memory from a frame's features and its predicted mask.

        Parameters
        ----------
        features : Tensor, shape (B, C, H, W)
            Raw (not memory-conditioned) stride-16 features.
        mask_logits : Tensor, shape (B, 1, image_size, image_size)
            Predicted mask logits at model input size (see :func:`upsample_logits`).
        object_score_logits : Tensor, shape (B, 1)
        binarize : bool
            Encode the thresholded mask instead of its sigmoid (frames that received clicks,
            when the variant's ``binarize_mask_from_pts_for_mem_enc`` is set).

        Returns
        -------
        Tensor, shape (B, mem_dim, H, W)
        """
        v = self.variant
        if binarize and v.binarize_mask_from_pts_for_mem_enc:
            mask = (mask_logits > 0).to(features.dtype)
        else:
            mask = torch.sigmoid(mask_logits).to(features.dtype)
        if v.sigmoid_scale_for_mem_enc != 1.0:
            mask = mask * v.sigmoid_scale_for_mem_enc
        if v.sigmoid_bias_for_mem_enc != 0.0:
            mask = mask + v.sigmoid_bias_for_mem_enc
        memory, _ = self.memory_encoder(features, mask)
        if self.no_obj_embed_spatial is not None:
            absent = (object_score_logits <= 0).to(memory.dtype)  # (B, 1)
            memory = memory + absent[:, :, None, None] * self.no_obj_embed_spatial[..., None, None]
        return memory

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "SAM2Model has no single forward; use encode_image / run_heads / "
            "condition_on_memory / encode_memory, or ecoseg.engine.propagate for videos"
        )


def _check_supported(v: Variant) -> None:
    """Reject settings this implementation does not cover (none of the official variants)."""
    if not v.use_high_res_features_in_sam:
        raise ValueError("variants without high-resolution decoder features are not supported")
    if not v.use_obj_ptrs_in_encoder:
        raise ValueError("variants without object pointers are not supported")
    if v.num_maskmem < 1:
        raise ValueError("variants without memory are not supported")
    if v.hidden_dim % v.mem_dim:
        raise ValueError("hidden_dim must be a multiple of mem_dim")
