"""SAM prompt encoder: clicks and box corners to sparse tokens, a mask to a dense map.

Points are encoded with random Fourier features of their position (a fixed Gaussian matrix,
stored in the checkpoint) plus a learned embedding per label; a padding point (label -1) is a
learned "not a point" token. A low-resolution mask (image_size / 4 a side) is downscaled x4 by a
small conv net; without one, a learned "no mask" embedding fills the dense map.

Labels: ``1`` foreground click, ``0`` background click, ``2`` box top-left corner, ``3`` box
bottom-right corner, ``-1`` padding. Coordinates are ``(x, y)`` pixels of the *model input*
(``image_size`` x ``image_size``); ``+ 0.5`` moves them to pixel centres before encoding.

Exports
-------
``PositionEmbeddingRandom(num_pos_feats)``
    ``forward((h, w)) -> (2*num_pos_feats, h, w)`` for a grid of pixel centres;
    ``forward_with_coords(coords (B, N, 2), (H, W)) -> (B, N, 2*num_pos_feats)``.
``PromptEncoder(embed_dim, image_embedding_size, input_image_size, mask_in_chans=16)``
    ``forward(points=(coords (B,N,2), labels (B,N)) | None, boxes=(B,4) | None,
    masks=(B,1,4h,4w) | None) -> (sparse (B, N', C), dense (B, C, h, w))``; ``get_dense_pe()
    -> (1, C, h, w)``; ``mask_input_size`` is ``(4h, 4w)``. As in the reference, a padding
    point is appended to ``points`` when ``boxes`` is None.

Examples
--------
>>> import torch
>>> from ecoseg.sam2.prompt_encoder import PromptEncoder
>>> pe = PromptEncoder(256, (16, 16), (256, 256))
>>> sparse, dense = pe((torch.tensor([[[10.0, 20.0]]]), torch.tensor([[1]])), None, None)
>>> tuple(sparse.shape), tuple(dense.shape)
((1, 2, 256), (1, 256, 16, 16))
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ecoseg.sam2.transformer import LayerNorm2d

__all__ = ["PositionEmbeddingRandom", "PromptEncoder"]


class PositionEmbeddingRandom(nn.Module):
    """Random Fourier features of 2-D positions normalised to [0, 1]."""

    def __init__(self, num_pos_feats: int = 64, scale: float | None = None) -> None:
        super().__init__()
        scale = 1.0 if scale is None or scale <= 0 else scale
        self.register_buffer(
            "positional_encoding_gaussian_matrix", scale * torch.randn(2, num_pos_feats)
        )

    def _encode(self, coords: Tensor) -> Tensor:
        """``(..., 2)`` positions in [0, 1] -> ``(..., 2 * num_pos_feats)``."""
        gauss = self.positional_encoding_gaussian_matrix
        proj = (2 * coords - 1).to(gauss.dtype) @ gauss
        proj = 2 * math.pi * proj
        return torch.cat((proj.sin(), proj.cos()), dim=-1)

    def forward(self, size: tuple[int, int]) -> Tensor:
        h, w = size
        device = self.positional_encoding_gaussian_matrix.device
        ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h
        xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w
        grid = torch.stack(
            (xs[None, :].expand(h, w), ys[:, None].expand(h, w)), dim=-1
        )  # (h, w, 2) as (x, y)
        return self._encode(grid).permute(2, 0, 1)

    def forward_with_coords(self, coords: Tensor, image_size: tuple[int, int]) -> Tensor:
        """Encode ``(B, N, 2)`` pixel ``(x, y)`` coordinates of an ``(H, W)`` image."""
        h, w = image_size
        size = torch.tensor([float(w), float(h)], device=coords.device)
        return self._encode(coords.float() / size)


class PromptEncoder(nn.Module):
    """Encodes SAM prompts for the mask decoder (see the module docstring)."""

    def __init__(
        self,
        embed_dim: int,
        image_embedding_size: tuple[int, int],
        input_image_size: tuple[int, int],
        mask_in_chans: int = 16,
        num_point_embeddings: int = 4,
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.image_embedding_size = tuple(image_embedding_size)
        self.input_image_size = tuple(input_image_size)
        self.pe_layer = PositionEmbeddingRandom(embed_dim // 2)
        self.num_point_embeddings = num_point_embeddings
        self.point_embeddings = nn.ModuleList(
            nn.Embedding(1, embed_dim) for _ in range(num_point_embeddings)
        )
        self.not_a_point_embed = nn.Embedding(1, embed_dim)
        self.mask_input_size = (4 * image_embedding_size[0], 4 * image_embedding_size[1])
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, mask_in_chans // 4, kernel_size=2, stride=2),
            LayerNorm2d(mask_in_chans // 4),
            nn.GELU(),
            nn.Conv2d(mask_in_chans // 4, mask_in_chans, kernel_size=2, stride=2),
            LayerNorm2d(mask_in_chans),
            nn.GELU(),
            nn.Conv2d(mask_in_chans, embed_dim, kernel_size=1),
        )
        self.no_mask_embed = nn.Embedding(1, embed_dim)

    def get_dense_pe(self) -> Tensor:
        """Position encoding of the image-embedding grid, ``(1, C, h, w)``."""
        return self.pe_layer(self.image_embedding_size)[None]

    def _embed_points(self, coords: Tensor, labels: Tensor, pad: bool) -> Tensor:
        coords = coords.float() + 0.5
        if pad:
            b = coords.shape[0]
            coords = torch.cat((coords, coords.new_zeros(b, 1, 2)), dim=1)
            labels = torch.cat((labels, labels.new_full((b, 1), -1)), dim=1)
        pe = self.pe_layer.forward_with_coords(coords, self.input_image_size)
        table = torch.cat([e.weight for e in self.point_embeddings], dim=0)  # (K, C)
        known = (labels >= 0) & (labels < self.num_point_embeddings)
        learned = table[labels.clamp(0, self.num_point_embeddings - 1).long()]
        emb = pe + learned * known[..., None].to(learned.dtype)
        not_a_point = self.not_a_point_embed.weight.to(emb.dtype).expand_as(emb)
        return torch.where((labels == -1)[..., None], not_a_point, emb)

    def _embed_boxes(self, boxes: Tensor) -> Tensor:
        corners = boxes.float().reshape(-1, 2, 2) + 0.5
        pe = self.pe_layer.forward_with_coords(corners, self.input_image_size)
        corner_embed = torch.cat(
            (self.point_embeddings[2].weight, self.point_embeddings[3].weight), dim=0
        )
        return pe + corner_embed

    def forward(
        self,
        points: tuple[Tensor, Tensor] | None,
        boxes: Tensor | None,
        masks: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        if points is not None:
            bs = points[0].shape[0]
        elif boxes is not None:
            bs = boxes.shape[0]
        elif masks is not None:
            bs = masks.shape[0]
        else:
            bs = 1
        device = self.no_mask_embed.weight.device
        parts = [torch.empty(bs, 0, self.embed_dim, device=device)]
        if points is not None:
            parts.append(self._embed_points(points[0], points[1], pad=boxes is None))
        if boxes is not None:
            parts.append(self._embed_boxes(boxes))
        sparse = torch.cat(parts, dim=1)
        if masks is not None:
            dense = self.mask_downscaling(masks)
        else:
            h, w = self.image_embedding_size
            dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(bs, -1, h, w)
        return sparse, dense
