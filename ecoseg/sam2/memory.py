"""SAM 2 memory: the memory encoder and the memory attention with rotary position encoding.

SAM 2 tracks an object through a video by remembering what it saw. After each frame the
**memory encoder** fuses the frame's stride-16 image features with the predicted mask (as
probabilities) into a small spatial memory (64 channels). Before decoding the next frame the
**memory attention** lets the frame's features attend to the stored memories (spatial
memories of the conditioning frames and of the most recent frames, plus object-pointer tokens)
through a stack of pre-norm transformer layers whose self- and cross-attention rotate queries
and keys with a 2-d axial rotary position encoding (RoPE).

Module and parameter names follow the official checkpoints (``memory_encoder.*``,
``memory_attention.*``) so that their state dicts load strictly.

Exports
-------
MemoryEncoder, MaskDownsampler, Fuser, CXBlock
    The memory encoder and its parts.
MemoryAttention, MemoryAttentionLayer, RoPEAttention
    The memory attention and its parts.
rope_angles, apply_rope
    Axial 2-d rotary position encoding (as cos/sin tables) and its application.
sine_position_encoding_2d, sine_encoding_1d
    The sine position encodings used for memories and for object-pointer distances.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ecoseg.sam2.neck import sine_position_encoding
from ecoseg.sam2.variants import MemoryAttentionConfig, MemoryEncoderConfig

__all__ = [
    "CXBlock",
    "Fuser",
    "MaskDownsampler",
    "MemoryAttention",
    "MemoryAttentionLayer",
    "MemoryEncoder",
    "RoPEAttention",
    "apply_rope",
    "rope_angles",
    "sine_encoding_1d",
    "sine_position_encoding_2d",
]


# ---------------------------------------------------------------------------------------
# position encodings
# ---------------------------------------------------------------------------------------
def _inverse_frequencies(n: int, temperature: float, device=None) -> Tensor:
    """``temperature ** (2 * (i // 2) / n)`` for ``i < n`` (pairs share a frequency)."""
    i = torch.arange(n, dtype=torch.float32, device=device)
    return temperature ** (2 * (i // 2) / n)


def sine_position_encoding_2d(
    height: int,
    width: int,
    dim: int,
    *,
    temperature: float = 10000.0,
    device: torch.device | str | None = None,
) -> Tensor:
    """The memories' position encoding: :func:`ecoseg.sam2.neck.sine_position_encoding` of a
    ``height`` x ``width`` grid without its batch axis, shape ``(dim, height, width)``.

    Examples
    --------
    >>> sine_position_encoding_2d(4, 6, 8).shape
    torch.Size([8, 4, 6])
    """
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    return sine_position_encoding(height, width, dim, temperature, device=device)[0]


def sine_encoding_1d(positions: Tensor, dim: int, temperature: float = 10000.0) -> Tensor:
    """1-d sine encoding of (fractional) positions: ``[sin(p / f_i)..., cos(p / f_i)...]``.

    Parameters
    ----------
    positions : Tensor, shape (...)
    dim : int
        Output channels (even).
    temperature : float

    Returns
    -------
    Tensor of float32, shape (..., dim)

    Examples
    --------
    >>> sine_encoding_1d(torch.tensor([0.0, 0.5]), 4).shape
    torch.Size([2, 4])
    """
    inv = _inverse_frequencies(dim // 2, temperature, positions.device)
    p = positions.to(torch.float32)[..., None] / inv
    return torch.cat((p.sin(), p.cos()), dim=-1)


def rope_angles(
    head_dim: int,
    width: int,
    height: int,
    *,
    theta: float = 10000.0,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor]:
    """Cos/sin tables of the axial 2-d rotary encoding of a row-major ``height x width`` grid.

    Channel pairs ``(2j, 2j+1)`` of a head are rotated by an angle that depends on the
    token's column for the first ``head_dim / 4`` pairs and on its row for the others.

    Parameters
    ----------
    head_dim : int
        Channels per attention head (a multiple of 4).
    width, height : int
        Grid size; tokens are numbered row by row.
    theta : float
        Frequency base.
    device : torch.device or str, optional

    Returns
    -------
    cos, sin : Tensor of float32, shape (width * height, head_dim / 2)

    Examples
    --------
    >>> cos, sin = rope_angles(16, 3, 2)
    >>> cos.shape
    torch.Size([6, 8])
    """
    if head_dim % 4:
        raise ValueError(f"head_dim must be a multiple of 4, got {head_dim}")
    freqs = 1.0 / (
        theta ** (torch.arange(0, head_dim, 4, device=device)[: head_dim // 4].float() / head_dim)
    )
    t = torch.arange(width * height, dtype=torch.float32, device=device)
    tx = t % width
    ty = torch.div(t, width, rounding_mode="floor")
    angles = torch.cat((torch.outer(tx, freqs), torch.outer(ty, freqs)), dim=-1)
    return angles.cos(), angles.sin()


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor, *, inplace: bool = False) -> Tensor:
    """Rotate channel pairs of ``x`` (..., N, D) by the angles of ``cos``/``sin`` (N', D/2).

    ``N`` must be a multiple of ``N'``: the table is repeated along the token axis (keys of
    several memory frames share the spatial encoding). Computed in float32 as one complex
    multiplication per pair (``(a + ib)(cos + i sin)``: the same two products and one sum per
    channel as the written-out rotation), returned in the dtype of ``x``. With ``inplace``,
    a float32 ``x`` whose token and channel axes can be split without a copy (any slice of a
    freshly projected tensor) is rotated in place and returned (nothing is allocated).

    Examples
    --------
    >>> cos, sin = rope_angles(8, 2, 2)
    >>> x = torch.randn(1, 1, 8, 8)
    >>> apply_rope(x, cos, sin).shape
    torch.Size([1, 1, 8, 8])
    >>> y = x.clone()
    >>> z = apply_rope(y, cos, sin, inplace=True)
    >>> z is y, torch.equal(z, apply_rope(x, cos, sin))
    (True, True)
    """
    n = x.shape[-2]
    if n == 0:
        return x
    reps = n // cos.shape[0]
    if reps * cos.shape[0] != n:
        raise ValueError(f"{n} tokens are not a multiple of the {cos.shape[0]}-token RoPE grid")
    # (..., reps, N', D/2) complex: the table broadcasts over the repeats (no repeated copy)
    rot = torch.complex(cos.float(), sin.float())
    shape = (*x.shape[:-2], reps, cos.shape[0], -1, 2)
    if inplace and x.dtype == torch.float32 and not (torch.is_grad_enabled() and x.requires_grad):
        try:
            xc = torch.view_as_complex(x.view(shape))
        except RuntimeError:  # strides that do not split: rotate a copy
            pass
        else:
            xc.mul_(rot)
            return x
    xc = torch.view_as_complex(x.float().reshape(shape).contiguous())
    return torch.view_as_real(xc * rot).reshape(x.shape).to(x.dtype)


# ---------------------------------------------------------------------------------------
# memory attention
# ---------------------------------------------------------------------------------------
class RoPEAttention(nn.Module):
    """Multi-head attention with axial rotary position encoding on queries and keys.

    Parameters
    ----------
    embedding_dim : int
        Query (and output) channels.
    num_heads : int
    kv_in_dim : int, optional
        Key/value input channels (default ``embedding_dim``).
    rope_theta : float
    rope_k_repeat : bool
        Keys may hold several grids of the query's size (cross-attention to memories).
    """

    def __init__(
        self,
        embedding_dim: int,
        num_heads: int,
        *,
        kv_in_dim: int | None = None,
        rope_theta: float = 10000.0,
        rope_k_repeat: bool = False,
    ):
        super().__init__()
        kv_in_dim = embedding_dim if kv_in_dim is None else kv_in_dim
        if embedding_dim % num_heads:
            raise ValueError("num_heads must divide embedding_dim")
        self.num_heads = num_heads
        self.rope_theta = rope_theta
        self.rope_k_repeat = rope_k_repeat
        self.q_proj = nn.Linear(embedding_dim, embedding_dim)
        self.k_proj = nn.Linear(kv_in_dim, embedding_dim)
        self.v_proj = nn.Linear(kv_in_dim, embedding_dim)
        self.out_proj = nn.Linear(embedding_dim, embedding_dim)
        self._rope_cache: dict[tuple, tuple[Tensor, Tensor]] = {}

    def _rope(self, n_tokens: int, head_dim: int, device) -> tuple[Tensor, Tensor]:
        side = math.isqrt(n_tokens)
        if side * side != n_tokens:
            raise ValueError(f"RoPE needs a square token grid, got {n_tokens} tokens")
        key = (side, head_dim, str(device))
        if key not in self._rope_cache:
            self._rope_cache[key] = rope_angles(
                head_dim, side, side, theta=self.rope_theta, device=device
            )
        return self._rope_cache[key]

    def _heads(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, num_k_exclude_rope: int = 0) -> Tensor:
        """Attend ``q`` (B, Nq, C) to ``k``/``v`` (B, Nk, Ckv).

        The last ``num_k_exclude_rope`` keys (object pointers) are not rotated.
        """
        q = self._heads(self.q_proj(q))  # q may have one row shared by a batch of keys
        k = self._heads(self.k_proj(k))
        v = self._heads(self.v_proj(v))
        cos, sin = self._rope(q.shape[-2], q.shape[-1], q.device)
        n_rope = k.shape[-2] - num_k_exclude_rope
        if n_rope != q.shape[-2] and not self.rope_k_repeat:
            raise ValueError("keys differ in length from queries but rope_k_repeat is off")
        # q and k are fresh projections: rotated in place (pointer keys left as they are)
        q = apply_rope(q, cos, sin, inplace=True)
        if num_k_exclude_rope:
            head = k[:, :, :n_rope]
            rotated = apply_rope(head, cos, sin, inplace=True)
            if rotated is not head:
                k = torch.cat((rotated, k[:, :, n_rope:]), dim=2)
        else:
            k = apply_rope(k, cos, sin, inplace=True)
        if q.shape[0] != k.shape[0]:
            q = q.expand(k.shape[0], -1, -1, -1)
        out = F.scaled_dot_product_attention(q, k, v)
        b, h, n, d = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * d))


class MemoryAttentionLayer(nn.Module):
    """Pre-norm layer: RoPE self-attention, RoPE cross-attention to memories, ReLU MLP.

    Positional encodings: none on the self-attention, none on the cross-attention queries,
    added to the cross-attention keys (as in all official SAM 2 / 2.1 configurations).
    """

    def __init__(
        self,
        d_model: int = 256,
        kv_dim: int = 64,
        dim_feedforward: int = 2048,
        num_heads: int = 1,
        rope_theta: float = 10000.0,
    ):
        super().__init__()
        self.self_attn = RoPEAttention(d_model, num_heads, rope_theta=rope_theta)
        self.cross_attn_image = RoPEAttention(
            d_model, num_heads, kv_in_dim=kv_dim, rope_theta=rope_theta, rope_k_repeat=True
        )
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)

    def forward(
        self, x: Tensor, memory: Tensor, memory_pos: Tensor, num_k_exclude_rope: int = 0
    ) -> Tensor:
        """One layer; ``x`` may have one row for a batch of memories (the same image tokens
        for every object): then the self-attention runs once and its result is shared."""
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h)
        h = self.norm2(x)
        if x.shape[0] != memory.shape[0]:
            x = x.expand(memory.shape[0], -1, -1)
        x = x + self.cross_attn_image(
            h, memory + memory_pos, memory, num_k_exclude_rope=num_k_exclude_rope
        )
        h = self.norm3(x)
        return x + self.linear2(F.relu(self.linear1(h)))


class MemoryAttention(nn.Module):
    """Condition a frame's image features on memories.

    Parameters
    ----------
    d_model : int
        Image feature channels.
    kv_dim : int
        Memory channels.
    num_layers, dim_feedforward, num_heads : int
    rope_theta : float

    Examples
    --------
    >>> att = MemoryAttention(d_model=32, kv_dim=8, num_layers=1, dim_feedforward=16)
    >>> x, pos = torch.randn(2, 16, 32), torch.randn(2, 16, 32)
    >>> mem, mem_pos = torch.randn(2, 2 * 16 + 4, 8), torch.randn(2, 2 * 16 + 4, 8)
    >>> att(x, pos, mem, mem_pos, num_obj_ptr_tokens=4).shape
    torch.Size([2, 16, 32])
    """

    def __init__(
        self,
        d_model: int = 256,
        kv_dim: int = 64,
        num_layers: int = 4,
        dim_feedforward: int = 2048,
        num_heads: int = 1,
        rope_theta: float = 10000.0,
    ):
        super().__init__()
        self.d_model = d_model
        self.layers = nn.ModuleList(
            MemoryAttentionLayer(d_model, kv_dim, dim_feedforward, num_heads, rope_theta)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    @classmethod
    def from_config(cls, config: MemoryAttentionConfig) -> MemoryAttention:
        """Build from a variant's :class:`~ecoseg.sam2.variants.MemoryAttentionConfig`."""
        _check_memory_attention(config)
        return cls(
            d_model=config.d_model,
            kv_dim=config.kv_in_dim,
            num_layers=config.num_layers,
            dim_feedforward=config.dim_feedforward,
            num_heads=config.num_heads,
            rope_theta=config.rope_theta,
        )

    def forward(
        self,
        x: Tensor,
        pos: Tensor,
        memory: Tensor,
        memory_pos: Tensor,
        num_obj_ptr_tokens: int = 0,
    ) -> Tensor:
        """Attend image tokens to memory tokens.

        Parameters
        ----------
        x, pos : Tensor, shape (B, N, d_model)
            Image tokens of a square grid (row-major) and their position encoding.
        memory, memory_pos : Tensor, shape (B, M, kv_dim)
            Memory tokens: spatial memories (each a grid of N tokens) followed by
            ``num_obj_ptr_tokens`` object-pointer tokens, and their position encodings.
        num_obj_ptr_tokens : int

        Returns
        -------
        Tensor, shape (B, N, d_model)
        """
        if x.shape[0] != memory.shape[0]:
            raise ValueError("image tokens and memories must have the same batch size")
        if x.shape[0] > 1 and x.stride(0) == 0 and pos.stride(0) == 0:
            # one frame's tokens expanded over objects: the work before the first
            # cross-attention (self-attention, norms, query projection) is the same for every
            # object, so it runs on one row
            x, pos = x[:1], pos[:1]
        out = x + 0.1 * pos
        for layer in self.layers:
            out = layer(out, memory, memory_pos, num_k_exclude_rope=num_obj_ptr_tokens)
        return self.norm(out)


def _check_memory_attention(config: MemoryAttentionConfig) -> None:
    """The layer layout this module implements (all official SAM 2 / 2.1 variants)."""
    expected = dict(
        activation="relu",
        downsample_rate=1,
        pos_enc_at_input=True,
        pos_enc_at_attn=False,
        pos_enc_at_cross_attn_keys=True,
        pos_enc_at_cross_attn_queries=False,
        rope_k_repeat=True,
    )
    for name, value in expected.items():
        if getattr(config, name) != value:
            raise ValueError(f"memory attention {name}={getattr(config, name)!r} is not supported")


# ---------------------------------------------------------------------------------------
# memory encoder
# ---------------------------------------------------------------------------------------
class _LayerNorm2d(nn.Module):
    """LayerNorm over the channels of a (B, C, H, W) tensor (mean/variance written out)."""

    def __init__(self, num_channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class MaskDownsampler(nn.Module):
    """Downsample a mask by ``total_stride`` with strided convolutions, then project.

    Each stage (conv, channel LayerNorm, GELU) halves the size (``stride`` 2) and multiplies the
    channels by ``stride**2``; a final 1x1 convolution maps to ``embed_dim`` channels.
    """

    def __init__(
        self,
        embed_dim: int = 256,
        kernel_size: int = 3,
        stride: int = 2,
        padding: int = 1,
        total_stride: int = 16,
    ):
        super().__init__()
        n = round(math.log(total_stride, stride))
        if stride**n != total_stride:
            raise ValueError(f"total_stride {total_stride} is not a power of stride {stride}")
        layers: list[nn.Module] = []
        cin = 1
        for _ in range(n):
            cout = cin * stride**2
            layers += [
                nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding),
                _LayerNorm2d(cout),
                nn.GELU(),
            ]
            cin = cout
        layers.append(nn.Conv2d(cin, embed_dim, kernel_size=1))
        self.encoder = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.encoder(x)


class CXBlock(nn.Module):
    """ConvNeXt block: depthwise 7x7 conv, LayerNorm, MLP (x4), layer scale, residual."""

    def __init__(self, dim: int = 256, kernel_size: int = 7, padding: int = 3):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size, padding=padding, groups=dim)
        self.norm = _LayerNorm2d(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm(self.dwconv(x)).permute(0, 2, 3, 1)
        h = self.pwconv2(F.gelu(self.pwconv1(h)))
        return x + (self.gamma * h).permute(0, 3, 1, 2)


class Fuser(nn.Module):
    """A stack of :class:`CXBlock`."""

    def __init__(self, dim: int = 256, num_layers: int = 2):
        super().__init__()
        self.layers = nn.ModuleList(CXBlock(dim) for _ in range(num_layers))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class MemoryEncoder(nn.Module):
    """Fuse image features and a mask into a spatial memory.

    Parameters
    ----------
    in_dim : int
        Image feature channels (stride-16 features of the image encoder).
    out_dim : int
        Memory channels.
    mask_stride : int
        Ratio of the mask size to the feature size (16).
    fuser_layers : int

    Examples
    --------
    >>> enc = MemoryEncoder(in_dim=32, out_dim=8, fuser_layers=1)
    >>> feats, pos = enc(torch.randn(2, 32, 4, 4), torch.rand(2, 1, 64, 64))
    >>> feats.shape, pos.shape
    (torch.Size([2, 8, 4, 4]), torch.Size([2, 8, 4, 4]))
    """

    def __init__(
        self, in_dim: int = 256, out_dim: int = 64, mask_stride: int = 16, fuser_layers: int = 2
    ):
        super().__init__()
        self.out_dim = out_dim
        self.pos_temperature = 10000.0
        self.mask_downsampler = MaskDownsampler(embed_dim=in_dim, total_stride=mask_stride)
        self.pix_feat_proj = nn.Conv2d(in_dim, in_dim, kernel_size=1)
        self.fuser = Fuser(in_dim, fuser_layers)
        self.out_proj = nn.Conv2d(in_dim, out_dim, kernel_size=1) if out_dim != in_dim else None

    @classmethod
    def from_config(cls, config: MemoryEncoderConfig) -> MemoryEncoder:
        """Build from a variant's :class:`~ecoseg.sam2.variants.MemoryEncoderConfig`."""
        fixed = dict(
            mask_kernel_size=3,
            mask_stride=2,
            mask_padding=1,
            fuser_kernel_size=7,
            fuser_padding=3,
            fuser_use_dwconv=True,
        )
        for name, value in fixed.items():
            if getattr(config, name) != value:
                raise ValueError(f"memory encoder {name}={getattr(config, name)} is not supported")
        if config.pos_num_feats != config.out_dim:
            raise ValueError("memory position encoding must have out_dim channels")
        enc = cls(
            in_dim=config.in_dim,
            out_dim=config.out_dim,
            mask_stride=config.mask_total_stride,
            fuser_layers=config.fuser_num_layers,
        )
        enc.pos_temperature = config.pos_temperature
        return enc

    def forward(self, features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Encode a memory.

        Parameters
        ----------
        features : Tensor, shape (B, in_dim, H, W)
        mask : Tensor, shape (B, 1, H * mask_stride, W * mask_stride)
            The mask as it enters the encoder (already squashed/scaled by the caller).

        Returns
        -------
        memory : Tensor, shape (B, out_dim, H, W)
        pos : Tensor, shape (B, out_dim, H, W)
            Sine position encoding of the memory grid.
        """
        features = features.to(mask.device)
        if features.shape[0] > 1 and features.stride(0) == 0:
            features = features[:1]  # one frame's features expanded over objects: project once
        x = self.pix_feat_proj(features) + self.mask_downsampler(mask)
        x = self.fuser(x)
        if self.out_proj is not None:
            x = self.out_proj(x)
        pos = sine_position_encoding_2d(
            x.shape[-2], x.shape[-1], x.shape[1], temperature=self.pos_temperature, device=x.device
        )
        return x, pos.to(x.dtype)[None].expand(x.shape[0], -1, -1, -1)
