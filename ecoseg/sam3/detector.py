"""SAM 3's concept detector: prompt tokens -> fused image -> queries -> scored boxes and masks.

:class:`ConceptDetector` owns the four detector components under the names of Meta's
checkpoint (``geometry_encoder``, ``transformer.encoder``, ``transformer.decoder``,
``dot_prod_scoring``, ``segmentation_head``; Meta nests them under ``detector.``) and runs
them on the backbone's pyramid (the three finest levels, strides 3.5, 7 and 14 px at 1008 px):

1. prompt tokens = the text tokens followed by the geometry tokens (exemplar boxes and points
   with a CLS token, encoded on the stride-14 level; :mod:`ecoseg.sam3.geometry`);
2. the fusion encoder conditions the stride-14 image tokens on them (:mod:`ecoseg.sam3.fusion`);
3. the decoder turns ``num_queries`` queries into refined boxes and a presence logit, and the
   dot-product head scores each query against the prompt (:mod:`ecoseg.sam3.decoder`);
4. the segmentation head gives each query's mask logits at stride 3.5 and a semantic map
   (:mod:`ecoseg.sam3.segmentation`).

One image encoding serves any number of prompts: image features of batch 1 are broadcast over
a batch of ``B`` prompts (one per concept).

Meta's image model always runs the geometry encoder, so a text-only prompt carries one extra
token (the geometry CLS); transformers' port skips the geometry encoder when no box is given.
``detect(..., geometry=None)`` follows transformers; pass an empty
:class:`~ecoseg.sam3.geometry.GeometryPrompt` for Meta's behaviour (what
:class:`~ecoseg.sam3.predictor.ConceptPredictor` does by default).

Exports
-------
``DetectorConfig``
    The four component configurations plus the scoring MLP width.
``Detections``
    Frozen dataclass of raw outputs for ``B`` prompts: ``logits (B, Q)``,
    ``presence_logits (B, 1)``, ``boxes (B, Q, 4)`` xyxy normalised to [0, 1],
    ``masks (B, Q, h, w)`` logits and ``semantic (B, 1, h, w)`` logits (both ``None`` with
    ``masks=False``), ``queries (B, Q, C)`` and ``pixels (B, C, h, w)`` (the segmentation
    head's pixel embedding); ``scores`` property ``sigmoid(logits) * sigmoid(presence)``;
    ``mask_logits(i, index)`` computes the masks of some queries of prompt ``i`` only.
``DetrTransformer(fusion, decoder)``
    Container with ``encoder`` (:class:`~ecoseg.sam3.fusion.FusionEncoder`) and ``decoder``
    (:class:`~ecoseg.sam3.decoder.ConceptDecoder`), as Meta's ``transformer``.
``ConceptDetector(config)``
    ``forward(fpn, pos, text, text_valid, geometry=None, *, masks=True) -> Detections``.

Examples
--------
>>> import torch
>>> from ecoseg.sam3.decoder import DecoderConfig
>>> from ecoseg.sam3.fusion import FusionEncoderConfig
>>> from ecoseg.sam3.geometry import GeometryEncoderConfig, GeometryPrompt
>>> from ecoseg.sam3.segmentation import SegmentationConfig
>>> cfg = DetectorConfig(GeometryEncoderConfig(32, 1, 4, 64, 2), FusionEncoderConfig(32, 1, 4, 64),
...                      DecoderConfig(32, 1, 6, 4, 64), SegmentationConfig(32, 3, 4), 64)
>>> det = ConceptDetector(cfg).eval()
>>> fpn = [torch.randn(1, 32, s, s) for s in (16, 8, 4)]
>>> text, valid = torch.randn(2, 5, 32), torch.ones(2, 5, dtype=torch.bool)
>>> out = det(fpn, [torch.randn_like(f) for f in fpn], text, valid,
...           GeometryPrompt.from_lists(batch_size=2))
>>> tuple(out.scores.shape), tuple(out.boxes.shape), tuple(out.masks.shape)
((2, 6), (2, 6, 4), (2, 6, 16, 16))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ecoseg.sam3._det_ops import box_cxcywh_to_xyxy
from ecoseg.sam3.decoder import ConceptDecoder, DecoderConfig, DotProductScoring
from ecoseg.sam3.fusion import FusionEncoder, FusionEncoderConfig
from ecoseg.sam3.geometry import GeometryEncoder, GeometryEncoderConfig, GeometryPrompt
from ecoseg.sam3.segmentation import SegmentationConfig, SegmentationHead

__all__ = ["DetectorConfig", "Detections", "DetrTransformer", "ConceptDetector"]


@dataclass(frozen=True)
class DetectorConfig:
    """Shapes of the detector components (defaults: SAM 3 full size)."""

    geometry: GeometryEncoderConfig = field(default_factory=GeometryEncoderConfig)
    fusion: FusionEncoderConfig = field(default_factory=FusionEncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    scoring_dim_feedforward: int = 2048


@dataclass(frozen=True)
class Detections:
    """Raw detector outputs for a batch of prompts (see the module docstring)."""

    logits: Tensor
    presence_logits: Tensor
    boxes: Tensor
    masks: Tensor | None
    semantic: Tensor | None
    queries: Tensor
    pixels: Tensor
    head: SegmentationHead

    @property
    def scores(self) -> Tensor:
        """``sigmoid(logits) * sigmoid(presence_logits)``, ``(B, Q)``."""
        return self.logits.sigmoid() * self.presence_logits.sigmoid()

    def mask_logits(self, i: int, index: Tensor) -> Tensor:
        """Mask logits ``(len(index), h, w)`` of the queries ``index`` of prompt ``i``."""
        if self.masks is not None:
            return self.masks[i, index]
        return self.head.mask_logits(self.queries[i : i + 1, index], self.pixels[i : i + 1])[0]


class DetrTransformer(nn.Module):
    """The fusion encoder and the decoder, as Meta's ``transformer`` holds them."""

    def __init__(self, fusion: FusionEncoderConfig, decoder: DecoderConfig) -> None:
        super().__init__()
        self.encoder = FusionEncoder(fusion)
        self.decoder = ConceptDecoder(decoder)


class ConceptDetector(nn.Module):
    """The concept detector of SAM 3 (see the module docstring)."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__()
        config = config or DetectorConfig()
        self.config = config
        self.geometry_encoder = GeometryEncoder(config.geometry)
        self.transformer = DetrTransformer(config.fusion, config.decoder)
        self.dot_prod_scoring = DotProductScoring(
            config.decoder.d_model, config.scoring_dim_feedforward
        )
        self.segmentation_head = SegmentationHead(config.segmentation)

    def encode_prompt(
        self,
        feature: Tensor,
        pos: Tensor,
        text: Tensor,
        text_valid: Tensor,
        geometry: GeometryPrompt | None,
    ) -> tuple[Tensor, Tensor]:
        """Text tokens followed by geometry tokens, ``(B, L, C)`` and their validity."""
        if geometry is None:
            return text, text_valid
        tokens, valid = self.geometry_encoder(geometry, feature, pos)
        b = max(text.shape[0], tokens.shape[0])
        text, text_valid = text.expand(b, -1, -1), text_valid.expand(b, -1)
        tokens, valid = tokens.expand(b, -1, -1), valid.expand(b, -1)
        return torch.cat((text, tokens.to(text.dtype)), 1), torch.cat((text_valid, valid), 1)

    def forward(
        self,
        fpn: list[Tensor],
        pos: list[Tensor],
        text: Tensor,
        text_valid: Tensor,
        geometry: GeometryPrompt | None = None,
        *,
        masks: bool = True,
    ) -> Detections:
        """Detect the prompted concept(s) on one image (or a batch of ``B`` images).

        Parameters
        ----------
        fpn, pos : list of Tensor
            The backbone's pyramid levels at strides 3.5, 7 and 14 px (finest first; a coarser
            level, if given, is ignored) and their position encodings, batch 1 or ``B``.
        text : Tensor
            ``(B, L, C)`` text tokens at the detector width (or batch 1 with ``geometry`` of
            batch ``B``).
        text_valid : Tensor
            ``(B, L)`` bool, False for padding.
        geometry : GeometryPrompt, optional
            Exemplar boxes / points (normalised), batch ``B`` or 1.
        masks : bool
            Compute every query's mask and the semantic map; with ``False`` only the pixel
            embedding is kept, for :meth:`Detections.mask_logits` of the queries one keeps.
        """
        fpn, pos = list(fpn[:3]), list(pos[:3])
        prompt, valid = self.encode_prompt(fpn[-1], pos[-1], text, text_valid, geometry)
        return self.decode(fpn, pos, prompt, valid, masks=masks)

    def decode(
        self,
        fpn: list[Tensor],
        pos: list[Tensor],
        prompt: Tensor,
        valid: Tensor,
        *,
        masks: bool = True,
    ) -> Detections:
        """Detect with prompt tokens already encoded (:meth:`encode_prompt`), e.g. exemplar
        tokens pooled on another frame and reused on every frame of a video."""
        fpn, pos = list(fpn[:3]), list(pos[:3])
        b = prompt.shape[0]
        feature = fpn[-1].expand(b, -1, -1, -1)
        memory, memory_pos = self.transformer.encoder(
            feature, pos[-1].expand_as(feature), prompt, valid
        )
        out = self.transformer.decoder(memory, memory_pos, tuple(feature.shape[-2:]), prompt, valid)
        queries = out.queries[-1]
        logits = self.dot_prod_scoring(queries, prompt, valid)
        head = self.segmentation_head
        pixels = head.pixel_embedding(fpn, memory, prompt, valid)
        return Detections(
            logits=logits,
            presence_logits=out.presence_logits[-1],
            boxes=box_cxcywh_to_xyxy(out.boxes[-1]),
            masks=head.mask_logits(queries, pixels) if masks else None,
            semantic=head.semantic_seg_head(pixels) if masks else None,
            queries=queries,
            pixels=pixels,
            head=head,
        )
