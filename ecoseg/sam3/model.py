"""The SAM 3 network: shared backbone, concept detector and SAM 2-style tracker.

:class:`SAM3Model` owns every parameter of SAM 3 under names that follow Meta's checkpoint
(see :mod:`ecoseg.sam3.keymap`):

- ``vision`` -- :class:`~ecoseg.sam3.vision.VisionBackbone` (ViT trunk, the detector's
  pyramid ``convs`` and the tracker's pyramid ``sam2_convs``), run once per image;
- ``text`` -- :class:`~ecoseg.sam3.text.TextEncoder`, run once per concept (its output can be
  reused for every image);
- ``detector`` -- :class:`~ecoseg.sam3.detector.ConceptDetector` (geometry/exemplar encoder,
  fusion encoder, decoder with presence token, dot-product scoring, segmentation head);
- ``tracker`` -- an :class:`ecoseg.sam2.model.SAM2Model` without an image encoder, built from
  SAM 3's tracker settings (:func:`ecoseg.sam3.config.tracker_variant`): SAM 3's tracker *is*
  SAM 2.1's architecture, so ecoseg's SAM 2 prompt encoder, mask decoder, memory attention and
  memory encoder are shared, not copied.

Like :class:`~ecoseg.sam2.model.SAM2Model` it holds no inference state: methods take tensors
and return tensors or small dataclasses.

Exports
-------
``SAM3Model(config)``
    ``config`` is a :class:`~ecoseg.sam3.config.Sam3Config` or a preset name.
``SAM3Model.encode_image(images) -> VisionFeatures``
    Normalised images ``(B, 3, S, S)`` (mean 0.5, std 0.5) to both pyramids.
``SAM3Model.encode_text(ids) -> TextFeatures``
``SAM3Model.tracker_features(features) -> FrameFeatures``
    The tracker's view of a backbone output (stride-14 map, its position encoding and the
    projected 4x / 2x levels), as :class:`ecoseg.sam2.model.FrameFeatures`.

Examples
--------
>>> import torch
>>> m = SAM3Model("sam3-reduced").eval()
>>> with torch.no_grad():
...     f = m.encode_image(torch.zeros(1, 3, 336, 336))
...     t = m.tracker_features(f)
>>> tuple(t.features.shape), [tuple(h.shape[-2:]) for h in t.high_res]
((1, 256, 24, 24), [(96, 96), (48, 48)])
"""

from __future__ import annotations

from torch import Tensor, nn

from ecoseg.sam2.model import FrameFeatures, SAM2Model
from ecoseg.sam3.config import Sam3Config, get_config
from ecoseg.sam3.detector import ConceptDetector
from ecoseg.sam3.text import TextEncoder, TextFeatures
from ecoseg.sam3.vision import VisionBackbone, VisionFeatures

__all__ = ["SAM3Model"]


class SAM3Model(nn.Module):
    """SAM 3: backbone, text encoder, concept detector and tracker (see module docstring)."""

    def __init__(self, config: Sam3Config | str, image_size: int | None = None) -> None:
        super().__init__()
        if isinstance(config, str):
            config = get_config(config, image_size)
        else:
            config = config.with_image_size(image_size)
        if (config.tracker is not None) != config.neck.tracker_neck:
            raise ValueError("the tracker and the tracker pyramid (neck.tracker_neck) go together")
        self.config = config
        self.image_size = config.image_size
        self.vision = VisionBackbone(config.vision, config.neck)
        self.text = TextEncoder(config.text)
        self.detector = ConceptDetector(config.detector)
        self.tracker = SAM2Model(config.tracker) if config.tracker is not None else None
        self.unloaded_parameters: tuple[str, ...] = ()
        self.tokenizer = None  # set by ecoseg.sam3.build when a vocabulary is found

    @property
    def device(self):
        return next(self.parameters()).device

    def encode_image(self, images: Tensor, *, tracker: bool = True) -> VisionFeatures:
        """Both pyramids of normalised images ``(B, 3, S, S)`` (the tracker's if asked)."""
        return self.vision(images, tracker=tracker)

    def encode_text(self, ids: Tensor) -> TextFeatures:
        """Token ids ``(B, 32)`` (0 = padding) to per-token features and the valid mask."""
        return self.text(ids)

    def tracker_features(self, features: VisionFeatures) -> FrameFeatures:
        """The tracker's input from a backbone output: its 1x level plus projected 4x/2x."""
        if self.tracker is None or features.tracker_fpn is None:
            raise ValueError("this model (or this backbone output) has no tracker pyramid")
        fpn, pos = features.tracker_fpn, features.tracker_pos
        high_res = tuple(self.tracker.sam_mask_decoder.project_high_res(fpn))
        return FrameFeatures(fpn[2], pos[2], high_res)
