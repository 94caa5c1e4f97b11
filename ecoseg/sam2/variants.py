"""The eight SAM 2 / SAM 2.1 variants as plain, frozen dataclasses.

Every hyper-parameter the network needs lives here, read off the official configuration files
(``sam2/configs/sam2/*.yaml`` and ``sam2/configs/sam2.1/*.yaml`` of the ``sam2`` 1.1.0 package)
and the settings its builders add (``build_sam2`` / ``build_sam2_video_predictor`` switch on
dynamic multimask fallback, mask binarisation for the memory encoder and hole filling).
No hydra, no dict-of-dicts: one typed object per component.

Exports
-------
``Variant``
    The whole network: ``trunk`` (:class:`HieraConfig`), ``neck`` (:class:`NeckConfig`),
    ``prompt_encoder`` (:class:`PromptEncoderConfig`), ``mask_decoder``
    (:class:`MaskDecoderConfig`), ``memory_attention`` (:class:`MemoryAttentionConfig`),
    ``memory_encoder`` (:class:`MemoryEncoderConfig`) and the top-level SAM 2 flags (names as in
    the official ``SAM2Base`` so they can be checked side by side).
``VARIANTS``
    ``dict[str, Variant]`` keyed by ``sam2.1-tiny``, ``sam2.1-small``, ``sam2.1-base-plus``,
    ``sam2.1-large``, ``sam2-tiny``, ``sam2-small``, ``sam2-base-plus``, ``sam2-large``.
``get_variant(name, image_size=None)``
    Look a variant up (``ConfigError`` listing the valid names otherwise), optionally at a
    lower input size (see :meth:`Variant.with_image_size`).
``validate_image_size(size)``
    The input-size rule (a positive multiple of 32, at least 64).
``check_image_size(size, *, multiple, minimum, maximum, model, native, examples)``
    The rule and its message for any network's input size (SAM 3's uses it too).

Examples
--------
>>> from ecoseg.sam2.variants import get_variant
>>> v = get_variant("sam2.1-tiny")
>>> v.trunk.embed_dim, v.trunk.stages, v.checkpoint_file
(96, (1, 2, 7, 2), 'sam2.1_hiera_tiny.pt')
>>> v.with_image_size(256).image_embedding_size
16
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field

from ecoseg.errors import ConfigError

__all__ = [
    "HieraConfig",
    "NeckConfig",
    "PromptEncoderConfig",
    "MaskDecoderConfig",
    "MemoryAttentionConfig",
    "MemoryEncoderConfig",
    "Variant",
    "VARIANTS",
    "get_variant",
    "validate_image_size",
    "check_image_size",
    "IMAGE_SIZE_MULTIPLE",
    "MAX_IMAGE_SIZE",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
]

#: RGB mean and standard deviation of the input normalisation (of values scaled to [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: The input size must be a multiple of this: the trunk's stride-4 patch grid is tiled by the
#: 8x8 window position embedding and pooled three times by 2 (4 * 8 = 32; 32 = 4 * 2**3).
IMAGE_SIZE_MULTIPLE = 32
_MIN_IMAGE_SIZE = 64
#: The largest input size: 4x the native 1024 and above a 4K frame's long side (3840), so a
#: larger input only adds memory (which grows with the square of the size) and no detail; an
#: ``image_size`` like 100000 would exhaust any machine's memory before the first frame.
MAX_IMAGE_SIZE = 4096


@dataclass(frozen=True)
class HieraConfig:
    """Hiera trunk (hierarchical ViT with windowed attention and query pooling).

    ``stages`` counts the blocks per stage; between stages the resolution halves (q-pooling)
    and the width and head count double. Blocks listed in ``global_att_blocks`` attend over
    the whole map; the others attend inside windows of ``window_spec[stage]`` tokens a side.
    """

    embed_dim: int
    num_heads: int
    stages: tuple[int, ...] = (2, 3, 16, 3)
    global_att_blocks: tuple[int, ...] = (12, 16, 20)
    window_spec: tuple[int, ...] = (8, 4, 14, 7)
    window_pos_embed_bkg_spatial_size: tuple[int, int] = (14, 14)
    q_pool: int = 3
    q_stride: tuple[int, int] = (2, 2)
    dim_mul: float = 2.0
    head_mul: float = 2.0
    mlp_ratio: float = 4.0
    patch_kernel: int = 7
    patch_stride: int = 4
    patch_padding: int = 3
    layer_norm_eps: float = 1e-6

    @property
    def depth(self) -> int:
        """Total number of blocks."""
        return sum(self.stages)

    @property
    def stage_dims(self) -> tuple[int, ...]:
        """Channel width of each stage, highest resolution first."""
        return tuple(int(self.embed_dim * self.dim_mul**i) for i in range(len(self.stages)))

    @property
    def channel_list(self) -> tuple[int, ...]:
        """Stage widths lowest resolution first (the order the neck lists them)."""
        return self.stage_dims[::-1]


@dataclass(frozen=True)
class NeckConfig:
    """FPN neck: 1x1 lateral convs to ``d_model``, top-down fusion on some levels.

    ``backbone_channel_list`` is lowest resolution first; ``fpn_top_down_levels`` indexes the
    output levels (0 = highest resolution) that receive the upsampled coarser level.
    ``scalp`` drops that many of the coarsest outputs (SAM 2 keeps strides 4, 8 and 16).
    """

    backbone_channel_list: tuple[int, ...]
    d_model: int = 256
    fpn_top_down_levels: tuple[int, ...] = (2, 3)
    fpn_interp_model: str = "nearest"
    fuse_type: str = "sum"
    scalp: int = 1
    pos_temperature: float = 10000.0


@dataclass(frozen=True)
class PromptEncoderConfig:
    """SAM prompt encoder (points, boxes, low-resolution mask input)."""

    embed_dim: int = 256
    mask_in_chans: int = 16
    num_point_embeddings: int = 4


@dataclass(frozen=True)
class MaskDecoderConfig:
    """Two-way-transformer mask decoder and its heads.

    ``dynamic_multimask_via_stability`` (with its delta and threshold) is switched on by the
    official builders for inference: a single-mask request falls back to the best multimask
    output when the single mask is unstable.
    """

    transformer_dim: int = 256
    transformer_depth: int = 2
    transformer_num_heads: int = 8
    transformer_mlp_dim: int = 2048
    attention_downsample_rate: int = 2
    num_multimask_outputs: int = 3
    iou_head_depth: int = 3
    iou_head_hidden_dim: int = 256
    use_high_res_features: bool = True
    iou_prediction_use_sigmoid: bool = True
    pred_obj_scores: bool = True
    pred_obj_scores_mlp: bool = True
    use_multimask_token_for_obj_ptr: bool = True
    dynamic_multimask_via_stability: bool = True
    dynamic_multimask_stability_delta: float = 0.05
    dynamic_multimask_stability_thresh: float = 0.98


@dataclass(frozen=True)
class MemoryAttentionConfig:
    """Memory attention: self-attention (RoPE) + cross-attention to memories (RoPE).

    ``feat_sizes`` is the RoPE grid at the variant's image size (image_size / 16 a side).
    """

    d_model: int = 256
    num_layers: int = 4
    dim_feedforward: int = 2048
    num_heads: int = 1
    downsample_rate: int = 1
    kv_in_dim: int = 64
    rope_theta: float = 10000.0
    feat_sizes: tuple[int, int] = (64, 64)
    rope_k_repeat: bool = True
    activation: str = "relu"
    dropout: float = 0.1
    pos_enc_at_input: bool = True
    pos_enc_at_attn: bool = False
    pos_enc_at_cross_attn_keys: bool = True
    pos_enc_at_cross_attn_queries: bool = False


@dataclass(frozen=True)
class MemoryEncoderConfig:
    """Memory encoder: mask downsampler + pixel-feature fuser (ConvNeXt blocks) + projection."""

    in_dim: int = 256
    out_dim: int = 64
    mask_kernel_size: int = 3
    mask_stride: int = 2
    mask_padding: int = 1
    mask_total_stride: int = 16
    fuser_num_layers: int = 2
    fuser_kernel_size: int = 7
    fuser_padding: int = 3
    fuser_layer_scale_init_value: float = 1e-6
    fuser_use_dwconv: bool = True
    pos_num_feats: int = 64
    pos_temperature: float = 10000.0


@dataclass(frozen=True)
class Variant:
    """One SAM 2 / 2.1 network: every hyper-parameter plus its official checkpoint name.

    Top-level flags carry the official ``SAM2Base`` / ``SAM2VideoPredictor`` argument names.
    """

    name: str
    version: str  # "2.0" or "2.1"
    size: str  # "tiny", "small", "base-plus", "large"
    checkpoint_file: str
    official_config: str  # config name in the official package (for the test oracle)
    trunk: HieraConfig | None  # None: no image encoder (SAM 3's tracker gets SAM 3 features)
    neck: NeckConfig
    prompt_encoder: PromptEncoderConfig = field(default_factory=PromptEncoderConfig)
    mask_decoder: MaskDecoderConfig = field(default_factory=MaskDecoderConfig)
    memory_attention: MemoryAttentionConfig = field(default_factory=MemoryAttentionConfig)
    memory_encoder: MemoryEncoderConfig = field(default_factory=MemoryEncoderConfig)
    image_size: int = 1024
    backbone_stride: int = 16
    num_maskmem: int = 7
    sigmoid_scale_for_mem_enc: float = 20.0
    sigmoid_bias_for_mem_enc: float = -10.0
    binarize_mask_from_pts_for_mem_enc: bool = True  # set by the video predictor builder
    use_mask_input_as_output_without_sam: bool = True
    max_cond_frames_in_attn: int = -1
    directly_add_no_mem_embed: bool = True
    use_high_res_features_in_sam: bool = True
    multimask_output_in_sam: bool = True
    multimask_min_pt_num: int = 0
    multimask_max_pt_num: int = 1
    multimask_output_for_tracking: bool = True
    use_multimask_token_for_obj_ptr: bool = True
    iou_prediction_use_sigmoid: bool = True
    memory_temporal_stride_for_eval: int = 1
    non_overlap_masks_for_mem_enc: bool = False
    use_obj_ptrs_in_encoder: bool = True
    max_obj_ptrs_in_encoder: int = 16
    add_tpos_enc_to_obj_ptrs: bool = True
    proj_tpos_enc_in_obj_ptrs: bool = True
    use_signed_tpos_enc_to_obj_ptrs: bool = True
    only_obj_ptrs_in_the_past_for_eval: bool = True
    pred_obj_scores: bool = True
    pred_obj_scores_mlp: bool = True
    fixed_no_obj_ptr: bool = True
    soft_no_obj_ptr: bool = False
    use_mlp_for_obj_ptr_proj: bool = True
    no_obj_embed_spatial: bool = True
    # video predictor settings (SAM2VideoPredictor and its builder)
    fill_hole_area: int = 8
    non_overlap_masks: bool = False
    clear_non_cond_mem_around_input: bool = False
    add_all_frames_to_correct_as_cond: bool = False

    @property
    def hidden_dim(self) -> int:
        """Width of the image embedding, prompt tokens and object pointers (256)."""
        return self.neck.d_model

    @property
    def mem_dim(self) -> int:
        """Width of the memory features (64)."""
        return self.memory_encoder.out_dim

    @property
    def image_embedding_size(self) -> int:
        """Side of the stride-16 image embedding the decoder sees (64 at 1024)."""
        return self.image_size // self.backbone_stride

    @property
    def low_res_mask_size(self) -> int:
        """Side of the decoder's low-resolution mask logits (image_size / 4)."""
        return self.image_embedding_size * 4

    def with_image_size(self, image_size: int | None) -> Variant:
        """The same variant at another input size (``None`` keeps the current one).

        Sizes that depend on the input (RoPE grid, prompt-encoder grids) follow it, exactly as
        the official model does with ``++model.image_size=...``.

        Examples
        --------
        >>> v = get_variant("sam2-small").with_image_size(512)
        >>> v.image_size, v.memory_attention.feat_sizes
        (512, (32, 32))
        """
        if image_size is None or image_size == self.image_size:
            return self
        size = validate_image_size(image_size)
        side = size // self.backbone_stride
        return dataclasses.replace(
            self,
            image_size=size,
            memory_attention=dataclasses.replace(self.memory_attention, feat_sizes=(side, side)),
        )


def validate_image_size(size) -> int:
    """Check an input size: a multiple of 32 from 64 to :data:`MAX_IMAGE_SIZE` (4096); return
    it as ``int``.

    Examples
    --------
    >>> validate_image_size(256)
    256
    >>> validate_image_size(250)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: image_size (--image-size) must be a multiple of 32 ...
    >>> validate_image_size(100000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: image_size (--image-size) must be at most 4096 ...
    """
    return check_image_size(
        size,
        multiple=IMAGE_SIZE_MULTIPLE,
        minimum=_MIN_IMAGE_SIZE,
        maximum=MAX_IMAGE_SIZE,
        model="SAM 2",
        native=1024,
        examples=(256, 512, 1024),
    )


def check_image_size(
    size,
    *,
    multiple: int,
    minimum: int,
    maximum: int,
    model: str,
    native: int,
    examples: tuple[int, ...],
) -> int:
    """Check a network's input size: an ``int`` multiple of ``multiple`` from ``minimum`` to
    ``maximum``; return it as ``int``. The one rule and wording of SAM 2's
    :func:`validate_image_size` and SAM 3's
    (:func:`ecoseg.sam3.config.validate_image_size`).

    Parameters
    ----------
    size
        What the user gave (a bool or a float is refused).
    multiple, minimum, maximum : int
        The rule.
    model : str
        The network's name, for the message.
    native : int
        The size the network was trained at, for the message (``maximum`` is 4x it).
    examples : tuple of int
        Good sizes, named in the message.

    Raises
    ------
    ConfigError
        One line giving the rule and ``size``.

    Examples
    --------
    >>> rule = dict(multiple=8, minimum=16, maximum=64, model="Net", native=16, examples=(16, 32))
    >>> check_image_size(24, **rule)
    24
    >>> check_image_size(20, **rule)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: ... must be a multiple of 8 from 16 to 64 (e.g. 16, 32), got 20
    """
    # numpy's integers too (np.int64(512) from a table of settings)
    ok = isinstance(size, numbers.Integral) and not isinstance(size, bool)
    if ok and size > maximum:
        raise ConfigError(
            f"image_size (--image-size) must be at most {maximum} (4x {model}'s native "
            f"{native}, above a 4K frame's width; memory grows with the square of the size), "
            f"got {size}"
        )
    if ok and size >= minimum and size % multiple == 0:
        return int(size)
    named = ", ".join(str(e) for e in examples)
    raise ConfigError(
        f"image_size (--image-size) must be a multiple of {multiple} from "
        f"{minimum} to {maximum} (e.g. {named}), got {size!r}"
    )


_TRUNKS = {
    "tiny": HieraConfig(
        embed_dim=96,
        num_heads=1,
        stages=(1, 2, 7, 2),
        global_att_blocks=(5, 7, 9),
        window_pos_embed_bkg_spatial_size=(7, 7),
    ),
    "small": HieraConfig(
        embed_dim=96,
        num_heads=1,
        stages=(1, 2, 11, 2),
        global_att_blocks=(7, 10, 13),
        window_pos_embed_bkg_spatial_size=(7, 7),
    ),
    "base-plus": HieraConfig(embed_dim=112, num_heads=2),
    "large": HieraConfig(
        embed_dim=144,
        num_heads=2,
        stages=(2, 6, 36, 4),
        global_att_blocks=(23, 33, 43),
        window_spec=(8, 4, 16, 8),
        window_pos_embed_bkg_spatial_size=(7, 7),
    ),
}

_FILE_SIZES = {"tiny": "tiny", "small": "small", "base-plus": "base_plus", "large": "large"}
_CONFIG_SIZES = {"tiny": "t", "small": "s", "base-plus": "b+", "large": "l"}


def _make(version: str, size: str) -> Variant:
    trunk = _TRUNKS[size]
    prefix = "sam2.1" if version == "2.1" else "sam2"
    is21 = version == "2.1"
    return Variant(
        name=f"{prefix}-{size}",
        version=version,
        size=size,
        checkpoint_file=f"{prefix}_hiera_{_FILE_SIZES[size]}.pt",
        official_config=f"configs/{prefix}/{prefix}_hiera_{_CONFIG_SIZES[size]}.yaml",
        trunk=trunk,
        neck=NeckConfig(backbone_channel_list=trunk.channel_list),
        # the 2.1 differences: temporal encoding of object pointers (projected, signed) and a
        # learned "no object" embedding added to spatial memories
        add_tpos_enc_to_obj_ptrs=is21,
        proj_tpos_enc_in_obj_ptrs=is21,
        use_signed_tpos_enc_to_obj_ptrs=is21,
        no_obj_embed_spatial=is21,
    )


#: All variants by name.
VARIANTS: dict[str, Variant] = {
    v.name: v for v in (_make(ver, size) for ver in ("2.1", "2.0") for size in _TRUNKS)
}


def get_variant(name: str, image_size: int | None = None) -> Variant:
    """Look up a variant by name, optionally at a lower input size.

    Parameters
    ----------
    name : str
        One of :data:`VARIANTS` (e.g. ``"sam2.1-tiny"``).
    image_size : int, optional
        Input side in pixels (multiple of 32); default: the variant's 1024.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the valid ones) or invalid ``image_size``.

    Examples
    --------
    >>> get_variant("sam2-large").trunk.stages
    (2, 6, 36, 4)
    >>> get_variant("sam3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: unknown SAM 2 variant 'sam3'; valid names: sam2.1-tiny, ...
    """
    try:
        variant = VARIANTS[name]
    except (KeyError, TypeError):
        valid = ", ".join(VARIANTS)
        raise ConfigError(f"unknown SAM 2 variant {name!r}; valid names: {valid}") from None
    return variant.with_image_size(image_size)
