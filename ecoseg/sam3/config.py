"""Typed configuration of the SAM 3 network: one frozen dataclass per component.

The numbers of the full-size preset are read off Meta's builder (``sam3/model_builder.py`` of
``facebookresearch/sam3``: ``_create_vit_backbone``, ``_create_vit_neck``,
``_create_text_encoder``, ``build_tracker``) and checked against the defaults of transformers'
``Sam3Config`` / ``Sam3VideoConfig``. Where the two disagree Meta's builder wins, because the
weights were trained with it (the ViT's layer-norm epsilon: Meta ``1e-5``, transformers'
default ``1e-6``; see ``docs/sam3.md``).

Exports
-------
``ViTConfig``
    The perception-encoder ViT backbone (patch embedding, tiled absolute position embedding,
    windowed and global attention blocks with 2-D RoPE).
``FpnConfig``
    The simple feature pyramid (ViTDet style) over the last ViT map, and whether the second
    ("SAM 2") pyramid for the tracker is built.
``TextConfig``
    The CLIP-style causal text transformer and the ``resizer`` to the detector width.
``Sam3Config``
    The whole network: ``vision``, ``neck``, ``text``, ``detector`` (a
    :class:`~ecoseg.sam3.detector.DetectorConfig` of the geometry encoder, fusion encoder,
    decoder, scoring and segmentation head, defined next to those modules) and ``tracker``
    (a :class:`ecoseg.sam2.variants.Variant` carrying SAM 3's tracker settings, or ``None``
    for a detector-only network).
``PRESETS``, ``get_config(name, image_size=None)``
    ``"sam3"`` (full size, 1008 px) and ``"sam3-reduced"`` (256-wide, 4-layer backbone at
    336 px, 2-layer text encoder, detector of 2 layers per component with 512-wide MLPs and
    50 queries; for CPU tests).
``validate_image_size(size, patch_size=14)``
    The input-size rule (a positive multiple of the patch size, at least 8 patches a side).

Examples
--------
>>> from ecoseg.sam3.config import get_config
>>> c = get_config("sam3")
>>> c.vision.embed_dim, c.vision.depth, c.vision.grid_size, c.text.layers
(1024, 32, 72, 24)
>>> get_config("sam3-reduced").vision.embed_dim
256
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ecoseg.errors import ConfigError
from ecoseg.sam2.variants import (
    MaskDecoderConfig,
    MemoryAttentionConfig,
    MemoryEncoderConfig,
    NeckConfig,
    PromptEncoderConfig,
    Variant,
    check_image_size,
)
from ecoseg.sam3.decoder import DecoderConfig
from ecoseg.sam3.detector import DetectorConfig
from ecoseg.sam3.fusion import FusionEncoderConfig
from ecoseg.sam3.geometry import GeometryEncoderConfig

__all__ = [
    "ViTConfig",
    "FpnConfig",
    "TextConfig",
    "Sam3Config",
    "PRESETS",
    "get_config",
    "tracker_variant",
    "validate_image_size",
    "MAX_IMAGE_SIZE",
]

_MIN_PATCHES = 8
#: The largest input size: 4x the native 1008 and above a 4K frame's long side (3840); a
#: larger input only adds memory (which grows with the square of the size) and no detail.
MAX_IMAGE_SIZE = 4032


@dataclass(frozen=True)
class ViTConfig:
    """Perception-encoder ViT (Meta's ``ViT`` in ``sam3/model/vitdet.py``).

    Blocks listed in ``global_att_blocks`` attend over the whole ``grid_size`` x ``grid_size``
    map; the others inside windows of ``window_size`` patches. Every block rotates queries and
    keys with a 2-D axial RoPE; on global blocks the positions are scaled by
    ``window_size / grid_size`` so they span the same range as inside a window (Meta's
    ``use_interp_rope``). The absolute position embedding is learned at
    ``pretrain_image_size`` and tiled (not interpolated) to the input grid; Meta's checkpoint
    stores one extra (class-token) row that the network never uses.
    """

    embed_dim: int = 1024
    depth: int = 32
    num_heads: int = 16
    mlp_ratio: float = 4.625
    patch_size: int = 14
    image_size: int = 1008
    pretrain_image_size: int = 336
    window_size: int = 24
    global_att_blocks: tuple[int, ...] = (7, 15, 23, 31)
    rope_theta: float = 10000.0
    layer_norm_eps: float = 1e-5
    pretrain_use_cls_token: bool = True  # Meta's pos_embed has a class-token row (unused)

    @property
    def grid_size(self) -> int:
        """Patches per side at ``image_size``."""
        return self.image_size // self.patch_size

    @property
    def pretrain_grid_size(self) -> int:
        """Side of the learned position-embedding grid."""
        return self.pretrain_image_size // self.patch_size

    @property
    def mlp_dim(self) -> int:
        """Hidden width of the block MLPs (4736 at full size)."""
        return int(self.embed_dim * self.mlp_ratio)

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads


@dataclass(frozen=True)
class FpnConfig:
    """ViTDet simple feature pyramid (Meta's ``Sam3DualViTDetNeck``).

    One branch per ``scale_factors`` entry (4: two stride-2 transposed convs with a GELU
    between; 2: one; 1: none; 0.5: 2x2 max-pool), each followed by a 1x1 and a 3x3 conv to
    ``d_model``. ``tracker_neck`` adds a second pyramid of the same shape with its own weights
    (Meta's ``sam2_convs``) that feeds the SAM 2-style tracker. The detector drops the
    ``scalp`` coarsest levels.
    """

    d_model: int = 256
    scale_factors: tuple[float, ...] = (4.0, 2.0, 1.0, 0.5)
    tracker_neck: bool = True
    scalp: int = 1
    pos_temperature: float = 10000.0


@dataclass(frozen=True)
class TextConfig:
    """CLIP-style text transformer (Meta's ``VETextEncoder`` / ``TextTransformer``).

    Pre-norm residual blocks under a causal mask, a final layer norm, and ``resizer`` (a
    linear map from ``width`` to ``d_model``) applied to every token. ``output_dim`` is the
    width of CLIP's pooled ``text_projection``, which the checkpoint carries but SAM 3 never
    uses.
    """

    vocab_size: int = 49408
    width: int = 1024
    heads: int = 16
    layers: int = 24
    context_length: int = 32
    mlp_ratio: float = 4.0
    output_dim: int = 512
    d_model: int = 256
    layer_norm_eps: float = 1e-5

    @property
    def mlp_dim(self) -> int:
        return int(self.width * self.mlp_ratio)


def tracker_variant(image_size: int = 1008, patch_size: int = 14, d_model: int = 256) -> Variant:
    """SAM 3's tracker as a SAM 2 :class:`~ecoseg.sam2.variants.Variant` (no image encoder).

    The tracker of SAM 3 is SAM 2.1's architecture (same prompt encoder, mask decoder, memory
    attention and memory encoder, same parameter names) run at SAM 3's input size and stride
    (1008 px, stride 14, so a 72 x 72 feature grid), with Meta's ``build_tracker`` settings:
    up to 4 conditioning frames in attention, no hole filling, non-conditioning memories
    cleared around new inputs. Its image features come from the SAM 3 backbone's second
    pyramid (:class:`FpnConfig` ``tracker_neck``), so ``trunk`` is ``None``.

    Examples
    --------
    >>> v = tracker_variant()
    >>> v.image_embedding_size, v.low_res_mask_size, v.memory_attention.feat_sizes
    (72, 288, (72, 72))
    """
    side = image_size // patch_size
    return Variant(
        name="sam3-tracker",
        version="2.1",
        size="sam3",
        checkpoint_file="sam3.pt",
        official_config="facebookresearch/sam3:sam3/model_builder.py:build_tracker",
        trunk=None,
        neck=NeckConfig(backbone_channel_list=(), d_model=d_model),
        prompt_encoder=PromptEncoderConfig(embed_dim=d_model),
        mask_decoder=MaskDecoderConfig(transformer_dim=d_model, iou_head_hidden_dim=d_model),
        memory_attention=MemoryAttentionConfig(d_model=d_model, feat_sizes=(side, side)),
        memory_encoder=MemoryEncoderConfig(in_dim=d_model),
        image_size=image_size,
        backbone_stride=patch_size,
        max_cond_frames_in_attn=4,
        fill_hole_area=0,
        clear_non_cond_mem_around_input=True,
    )


@dataclass(frozen=True)
class Sam3Config:
    """The whole SAM 3 network.

    ``tracker`` is SAM 3's SAM 2-style tracker (see :func:`tracker_variant`), or ``None`` for
    a detector-only network (then ``neck.tracker_neck`` should be ``False`` too).
    ``mask_interpolation_size`` is the side to which the tracker's memory encoder resizes a
    mask before downsampling it (Meta's ``interpol_size``, 1152 = 16 x 72), used by the video
    engine.
    """

    name: str
    vision: ViTConfig = field(default_factory=ViTConfig)
    neck: FpnConfig = field(default_factory=FpnConfig)
    text: TextConfig = field(default_factory=TextConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: Variant | None = field(default_factory=tracker_variant)
    checkpoint_file: str = "sam3.pt"
    hub_repo: str = "facebook/sam3"
    image_mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    image_std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    mask_interpolation_size: int = 1152

    @property
    def image_size(self) -> int:
        return self.vision.image_size

    @property
    def d_model(self) -> int:
        """Width of the detector and tracker features (256)."""
        return self.neck.d_model

    def with_image_size(self, image_size: int | None) -> Sam3Config:
        """The same network at another input size (``None`` keeps the current one).

        Size-dependent settings follow it: the global-attention RoPE grid, the tracker's
        feature grid and prompt-encoder sizes, and the memory mask size (16 x the grid).

        Examples
        --------
        >>> c = get_config("sam3").with_image_size(504)
        >>> c.vision.grid_size, c.tracker.image_embedding_size, c.mask_interpolation_size
        (36, 36, 576)
        """
        if image_size is None or image_size == self.image_size:
            return self
        size = validate_image_size(image_size, self.vision.patch_size)
        if size // self.vision.patch_size < self.vision.window_size:
            raise ConfigError(
                f"image_size {size} gives a {size // self.vision.patch_size}-patch grid, smaller "
                f"than the {self.vision.window_size}-patch attention window of {self.name}"
            )
        side = size // self.vision.patch_size
        tracker = self.tracker
        if tracker is not None:
            tracker = tracker_variant(size, self.vision.patch_size, self.d_model)
        return dataclasses.replace(
            self,
            vision=dataclasses.replace(self.vision, image_size=size),
            tracker=tracker,
            mask_interpolation_size=16 * side,
        )


def validate_image_size(size, patch_size: int = 14) -> int:
    """Check an input size: a multiple of ``patch_size``, at least 8 patches and at most
    :data:`MAX_IMAGE_SIZE` (4032).

    Examples
    --------
    >>> validate_image_size(336)
    336
    >>> validate_image_size(500)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: image_size (--image-size) must be a multiple of 14 ...
    >>> validate_image_size(100002)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: image_size (--image-size) must be at most 4032 ...
    """
    return check_image_size(
        size,
        multiple=patch_size,
        minimum=_MIN_PATCHES * patch_size,
        maximum=MAX_IMAGE_SIZE,
        model="SAM 3",
        native=1008,
        examples=(336, 672, 1008),
    )


def _reduced() -> Sam3Config:
    # the full model's ratios at a quarter of the width and an eighth of the depth: the
    # pretrain grid equals the window (8 patches) and is tiled 3x to the 24-patch input grid
    vision = ViTConfig(
        embed_dim=256,
        depth=4,
        num_heads=4,
        image_size=336,
        pretrain_image_size=112,
        window_size=8,
        global_att_blocks=(1, 3),
    )
    text = TextConfig(width=256, heads=4, layers=2, output_dim=128)
    # the detector keeps its 256 width (the pyramid's) and 8 heads, with 2 layers per
    # component, MLPs of 512 and 50 queries
    ffn = 512
    detector = DetectorConfig(
        geometry=GeometryEncoderConfig(num_layers=2, dim_feedforward=ffn),
        fusion=FusionEncoderConfig(num_layers=2, dim_feedforward=ffn),
        decoder=DecoderConfig(num_layers=2, num_queries=50, dim_feedforward=ffn),
        scoring_dim_feedforward=ffn,
    )
    return Sam3Config(
        name="sam3-reduced",
        vision=vision,
        text=text,
        detector=detector,
        tracker=tracker_variant(336, 14, 256),
        mask_interpolation_size=16 * 24,
    )


#: The presets by name.
PRESETS: dict[str, Sam3Config] = {"sam3": Sam3Config(name="sam3"), "sam3-reduced": _reduced()}


def get_config(name: str, image_size: int | None = None) -> Sam3Config:
    """Look up a preset by name, optionally at another input size.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the valid ones) or invalid ``image_size``.

    Examples
    --------
    >>> get_config("sam3", 672).vision.grid_size
    48
    >>> get_config("sam2.1-tiny")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: unknown SAM 3 model 'sam2.1-tiny'; valid names: sam3, sam3-reduced
    """
    try:
        config = PRESETS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown SAM 3 model {name!r}; valid names: {', '.join(PRESETS)}"
        ) from None
    return config.with_image_size(image_size)
