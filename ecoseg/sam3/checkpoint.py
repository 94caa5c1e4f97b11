"""Reading SAM 3 checkpoints in Meta's, the transformers and our own format, strictly.

Three layouts of the same weights load into :class:`~ecoseg.sam3.model.SAM3Model`:

- **Meta** ``sam3.pt`` (``{"model": state_dict}`` with ``detector.*`` and ``tracker.*``
  keys), read with ``torch.load(..., weights_only=True)``. Our parameters carry Meta's names
  under other prefixes (:mod:`ecoseg.sam3.keymap`). Two kinds of Meta tensors are not
  parameters of ours and are checked rather than loaded: the ViT's RoPE tables
  (``attn.freqs_cis``, recomputed from the configuration; their shapes must fit it) and the
  class-token row of ``pos_embed`` (SAM 3 never uses the class token).
- **transformers** ``model.safetensors`` of the hub repository (``Sam3VideoModel``:
  ``detector_model.*``, ``tracker_model.*``, ``tracker_neck.*``) or of a ``Sam3Model``
  (detector only, no prefix): split q/k/v projections are concatenated, CLIP's pooled
  projection transposed, the prompt encoder's point embeddings unstacked. That format has no
  point-prompt projections in the geometry encoder; they stay as built and are listed in
  ``model.unloaded_parameters``.
- **ecoseg**: our own state dict (``save_safetensors`` of :mod:`ecoseg.sam2.checkpoint`).

Every key must find its place and every parameter must be filled, with the right shape;
otherwise :class:`~ecoseg.errors.CheckpointError` names the missing, unexpected and misshapen
tensors.

Exports
-------
``detect_format(state) -> "meta" | "transformers-video" | "transformers-image" | "ecoseg"``
``convert_state_dict(state, expected) -> (state_dict, unloaded)``
    ``expected`` is our ``{name: shape}``; raises ``CheckpointError`` on any mismatch.
``expected_shapes(model) -> dict`` (the ``expected`` argument for a model)
``assemble(src, state) -> Tensor`` (one of our tensors from transformers tensors)
``load_checkpoint(model, path) -> model``
``model_signature(config) -> dict[str, tuple[int, ...]]`` (built on the ``meta`` device)

Examples
--------
>>> import tempfile, torch
>>> from ecoseg.sam2.checkpoint import save_safetensors
>>> from ecoseg.sam3 import build
>>> model = build("sam3-reduced", pretrained=False, device="cpu")
>>> path = save_safetensors(model, tempfile.mkdtemp() + "/m.safetensors")
>>> load_checkpoint(model, path) is model
True
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from ecoseg.errors import CheckpointError
from ecoseg.sam2.checkpoint import mismatch_parts, read_state_dict
from ecoseg.sam3.keymap import (
    HF_ALIASES,
    HF_MISSING,
    META_ONLY,
    HfSource,
    hf_source,
    meta_to_ours,
)

__all__ = [
    "assemble",
    "detect_format",
    "convert_state_dict",
    "expected_shapes",
    "load_checkpoint",
    "model_signature",
]


def detect_format(state: dict[str, Tensor]) -> str:
    """Which layout a state dict is in (by its key prefixes).

    Examples
    --------
    >>> detect_format({"detector.backbone.vision_backbone.trunk.pos_embed": None})
    'meta'
    >>> detect_format({"vision.trunk.pos_embed": None})
    'ecoseg'
    """
    keys = list(state)
    if any(k.startswith("detector_model.") or k.startswith("tracker_model.") for k in keys):
        return "transformers-video"
    if any(k.startswith("vision.trunk.") for k in keys):
        return "ecoseg"  # (our detector keys start with "detector." too)
    if any(k.startswith("detector.") for k in keys):
        return "meta"
    if any(k.startswith("vision_encoder.") for k in keys):
        return "transformers-image"
    raise CheckpointError(
        "this is not a SAM 3 checkpoint (no keys of Meta's sam3.pt, the transformers format "
        f"or ecoseg's; first keys: {', '.join(keys[:3])})"
    )


def _rope_shape(key: str, expected: dict[str, tuple[int, ...]]) -> tuple[int, ...] | None:
    """The shape Meta's ``freqs_cis`` of this block has for our configuration."""
    base = meta_to_ours(key.rsplit(".", 1)[0])  # vision.trunk.blocks.N.attn
    qkv = expected.get(f"{base}.qkv.weight")
    meta = expected.get("__vit__")
    if qkv is None or meta is None:
        return None
    heads_dim, grid, window, global_blocks = meta
    block = int(key.split(".blocks.")[1].split(".")[0])
    side = grid if block in global_blocks else window
    return (side * side, heads_dim // 2)


def _from_meta(state, expected):
    out, unexpected, shapes = {}, [], []
    for key, value in state.items():
        if META_ONLY.match(key):
            want = _rope_shape(key, expected)
            if want is not None and tuple(value.shape) != want:
                shapes.append(f"{key} {tuple(value.shape)} vs {want} (RoPE table)")
            continue
        ours = meta_to_ours(key)
        if ours is not None and ours not in expected and ".in_proj_" in ours:
            # Meta's stacked q/k/v input projection; our detector layers keep them apart
            base, kind = ours.rsplit(".in_proj_", 1)
            parts = [f"{base}.{p}_proj.{kind}" for p in "qkv"]
            if all(p in expected for p in parts) and value.shape[0] % 3 == 0:
                out.update(zip(parts, value.chunk(3, dim=0)))
                continue
        if ours is None or ours not in expected:
            unexpected.append(key)
            continue
        if ours == "vision.trunk.pos_embed" and value.shape[1] == expected[ours][1] + 1:
            value = value[:, 1:]  # drop the (unused) class-token row
        out[ours] = value
    return out, unexpected, shapes, []


def assemble(src: HfSource, state: dict[str, Tensor]) -> Tensor:
    """One of our tensors from the transformers tensors ``src`` names (see ``HfSource``).

    Examples
    --------
    >>> import torch
    >>> from ecoseg.sam3.keymap import HfSource
    >>> parts = {k: torch.full((2, 3), float(i)) for i, k in enumerate("qkv")}
    >>> assemble(HfSource("cat", ("q", "k", "v")), parts).shape
    torch.Size([6, 3])
    """
    parts = [state[k] for k in src.keys]
    if src.kind == "cat":
        return torch.cat(parts, dim=0)
    if src.kind == "transpose":
        return parts[0].t()
    if src.kind == "row":
        return parts[0][src.index : src.index + 1]
    return parts[0]


def _from_transformers(state, expected, layout):
    out, used, unloaded, absent = {}, set(), [], []
    for ours in expected:
        if ours.startswith("__"):
            continue
        try:
            src = hf_source(ours, layout)
        except KeyError:
            if HF_MISSING.match(ours):
                unloaded.append(ours)
            else:
                absent.append(ours)
            continue
        if not all(k in state for k in src.keys):
            absent.append(ours)
            continue
        used.update(src.keys)
        out[ours] = assemble(src, state)
    unexpected, shapes = [], []
    for key, value in state.items():
        if key in used:
            continue
        twin = HF_ALIASES.get(key)
        if twin is not None and twin in state:
            if value.shape != state[twin].shape or not torch.equal(value, state[twin]):
                shapes.append(f"{key} differs from {twin} (ecoseg keeps one copy)")
            continue
        unexpected.append(key)
    return out, unexpected, shapes, unloaded, absent


def convert_state_dict(
    state: dict[str, Tensor], expected: dict[str, tuple[int, ...]], *, source: str = "checkpoint"
) -> tuple[dict[str, Tensor], list[str]]:
    """Our state dict from a checkpoint in any of the three layouts, checked strictly.

    Parameters
    ----------
    state : dict
        The checkpoint's tensors.
    expected : dict
        Our parameter names and shapes (``{k: tuple(v.shape) for k, v in
        model.state_dict().items()}``); the optional entry ``"__vit__"`` = ``(head_dim, grid,
        window, global_blocks)`` lets Meta's RoPE tables be checked.
    source : str
        How the checkpoint is named in error messages.

    Returns
    -------
    state_dict : dict
        Our names to tensors.
    unloaded : list of str
        Our parameters the format does not carry (only the transformers format's missing
        point-prompt projections); they are absent from ``state_dict``.

    Raises
    ------
    CheckpointError
        Missing, unexpected or misshapen tensors (up to five of each named).
    """
    try:
        fmt = detect_format(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{source}: {exc}") from None
    unloaded, absent = [], []
    if fmt == "meta":
        out, unexpected, shapes, unloaded = _from_meta(state, expected)
    elif fmt.startswith("transformers"):
        layout = fmt.split("-")[1]
        out, unexpected, shapes, unloaded, absent = _from_transformers(state, expected, layout)
    else:
        out = {k: v for k, v in state.items() if k in expected}
        unexpected = [k for k in state if k not in expected]
        shapes = []
    params = [k for k in expected if not k.startswith("__")]
    missing = [k for k in params if k not in out and k not in unloaded]
    missing = sorted(set(missing) | set(absent), key=params.index)
    shapes += [
        f"{k} {tuple(v.shape)} vs {tuple(expected[k])}"
        for k, v in out.items()
        if tuple(v.shape) != tuple(expected[k])
    ]
    if missing or unexpected or shapes:
        parts = mismatch_parts(missing, unexpected, shapes)
        raise CheckpointError(
            f"{source} ({fmt} layout) does not match the model: " + "; ".join(parts)
        )
    return out, unloaded


def expected_shapes(model) -> dict:
    """``{name: shape}`` of ``model``'s state dict plus the ViT facts RoPE checks need."""
    expected: dict = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    vit = model.config.vision
    expected["__vit__"] = (vit.head_dim, vit.grid_size, vit.window_size, set(vit.global_att_blocks))
    return expected


def load_checkpoint(model, path: str | os.PathLike):
    """Load a SAM 3 checkpoint (any layout) into ``model`` strictly.

    Parameters
    ----------
    model : SAM3Model
    path : path
        ``sam3.pt``, a transformers ``model.safetensors``, or an ecoseg ``.safetensors``.

    Returns
    -------
    SAM3Model
        ``model``; ``model.unloaded_parameters`` lists what the file did not carry.

    Raises
    ------
    CheckpointError
        Unreadable or unsafe file, or a mismatch (see :func:`convert_state_dict`).
    """
    state = read_state_dict(path)
    out, unloaded = convert_state_dict(state, expected_shapes(model), source=f"checkpoint {path}")
    model.load_state_dict(out, strict=not unloaded)
    model.unloaded_parameters = tuple(unloaded)
    model.checkpoint_format = detect_format(state)
    return model


def model_signature(config) -> dict[str, tuple[int, ...]]:
    """Our state-dict names and shapes for ``config``, built on the ``meta`` device.

    Examples
    --------
    >>> from ecoseg.sam3.config import get_config
    >>> model_signature(get_config("sam3"))["vision.trunk.pos_embed"]
    (1, 576, 1024)
    """
    from ecoseg.sam3.model import SAM3Model

    with torch.device("meta"):
        model = SAM3Model(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}
