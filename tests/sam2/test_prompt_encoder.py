"""Prompt encoder: point labels, padding, boxes, masks and the dense position encoding."""

from __future__ import annotations

import math

import pytest
import torch

from ecoseg.sam2.prompt_encoder import PositionEmbeddingRandom, PromptEncoder


@pytest.fixture
def encoder():
    torch.manual_seed(0)
    return PromptEncoder(32, (4, 4), (64, 64), mask_in_chans=16).eval()


def test_random_fourier_features():
    torch.manual_seed(0)
    pe = PositionEmbeddingRandom(8)
    g = pe.positional_encoding_gaussian_matrix
    xy = torch.tensor([[[0.25, 0.75]]])
    ang = 2 * math.pi * ((2 * xy - 1) @ g)
    torch.testing.assert_close(pe._encode(xy), torch.cat((ang.sin(), ang.cos()), -1))
    # pixel coordinates of an (H, W) = (10, 40) image: x is divided by W, y by H
    torch.testing.assert_close(
        pe.forward_with_coords(torch.tensor([[[10.0, 7.5]]]), (10, 40)), pe._encode(xy)
    )
    dense = pe((2, 3))
    assert dense.shape == (16, 2, 3)
    centre = torch.tensor([[(2 + 0.5) / 3, (1 + 0.5) / 2]])  # pixel (row 1, col 2)
    torch.testing.assert_close(dense[:, 1, 2], pe._encode(centre)[0])


def test_point_labels_and_padding(encoder):
    coords = torch.tensor([[[10.0, 20.0], [30.0, 40.0], [5.0, 5.0]]])
    labels = torch.tensor([[1, 0, -1]])
    sparse, dense = encoder((coords, labels), None, None)
    assert sparse.shape == (1, 4, 32)  # a padding point is appended without a box
    pe = encoder.pe_layer.forward_with_coords(coords + 0.5, (64, 64))
    torch.testing.assert_close(sparse[0, 0], pe[0, 0] + encoder.point_embeddings[1].weight[0])
    torch.testing.assert_close(sparse[0, 1], pe[0, 1] + encoder.point_embeddings[0].weight[0])
    torch.testing.assert_close(sparse[0, 2], encoder.not_a_point_embed.weight[0])
    torch.testing.assert_close(sparse[0, 3], encoder.not_a_point_embed.weight[0])
    no_mask = encoder.no_mask_embed.weight[0][:, None, None].expand(32, 4, 4)
    torch.testing.assert_close(dense[0], no_mask)


def test_box_equals_corner_points(encoder):
    box = torch.tensor([[8.0, 12.0, 40.0, 50.0]])
    from_box, _ = encoder(None, box, None)
    corners = box.view(1, 2, 2)
    from_points, _ = encoder((corners, torch.tensor([[2, 3]])), None, None)
    assert from_box.shape == (1, 2, 32)
    torch.testing.assert_close(from_box, from_points[:, :2])
    # with a box, points are not padded
    both, _ = encoder((torch.tensor([[[1.0, 2.0]]]), torch.tensor([[1]])), box, None)
    assert both.shape == (1, 3, 32)


def test_mask_input(encoder):
    masks = torch.randn(2, 1, 16, 16)
    sparse, dense = encoder(None, None, masks)
    assert sparse.shape == (2, 0, 32) and dense.shape == (2, 32, 4, 4)
    assert encoder.mask_input_size == (16, 16)
    assert encoder.get_dense_pe().shape == (1, 32, 4, 4)


def test_state_dict_names(encoder):
    keys = set(encoder.state_dict())
    assert "pe_layer.positional_encoding_gaussian_matrix" in keys
    assert {f"point_embeddings.{i}.weight" for i in range(4)} <= keys
    assert {f"mask_downscaling.{i}.weight" for i in (0, 1, 3, 4, 6)} <= keys
