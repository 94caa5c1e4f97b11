"""Reading, checking and writing SAM 2 checkpoints.

Official checkpoints are ``torch.save({"model": state_dict})`` pickles; they are read with
``torch.load(..., weights_only=True)``, which refuses any pickle that would run code. A bare
state dict and ``.safetensors`` files (see :func:`save_safetensors`) work too. Keys are matched
strictly; on a mismatch the error names the missing, unexpected and wrongly shaped tensors and
the variant the file most likely belongs to (by comparing it with every variant's state-dict
signature, computed on the ``meta`` device without allocating memory).

Exports
-------
``read_state_dict(path) -> dict[str, Tensor]``
``load_checkpoint(model, path) -> model``
``save_safetensors(model_or_state_dict, path, *, metadata=None) -> Path``
``variant_signature(name) -> dict[str, tuple[int, ...]]``
``guess_variant(state_dict) -> (name, score)``
``check_state_dict(state, expected, variant, what, *, other=..., end="")`` (raises on a mismatch)

Examples
--------
>>> import tempfile, torch
>>> from ecoseg.sam2 import build
>>> from ecoseg.sam2.checkpoint import load_checkpoint, save_safetensors
>>> model = build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
>>> path = save_safetensors(model, tempfile.mkdtemp() + "/tiny.safetensors")
>>> load_checkpoint(model, path) is model
True
"""

from __future__ import annotations

import functools
import os
import pickle
import zipfile
from pathlib import Path

import torch
from torch import Tensor

from ecoseg._paths import check_file
from ecoseg.errors import CheckpointError
from ecoseg.sam2._file_damage import unreadable_reason

__all__ = [
    "read_state_dict",
    "load_checkpoint",
    "save_safetensors",
    "variant_signature",
    "guess_variant",
    "mismatch_parts",
    "check_state_dict",
    "unreadable_reason",
]

_SHOW = 5  # how many key names an error message lists per kind


def read_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a checkpoint's state dict (``.pt``/``.pth`` safely, or ``.safetensors``).

    Parameters
    ----------
    path : path
        ``{"model": state_dict}`` or bare state-dict pickle (read with ``weights_only=True``),
        or a ``.safetensors`` file.

    Raises
    ------
    CheckpointError
        Missing file, a pickle that is not plain weights (would execute code), a corrupt file,
        or content that is not a mapping of names to tensors.

    Examples
    --------
    >>> import tempfile, torch
    >>> p = tempfile.mkdtemp() + "/w.pt"
    >>> torch.save({"model": {"a": torch.zeros(2)}}, p)
    >>> read_state_dict(p)
    {'a': tensor([0., 0.])}
    """
    p = check_file(path, "checkpoint file", error=CheckpointError)
    if why := unreadable_reason(p):
        raise CheckpointError(f"{p}: {why}")
    if p.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            obj = load_file(os.fspath(p), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"{p} is not a readable safetensors file ({exc})") from None
    else:
        try:
            obj = torch.load(os.fspath(p), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise CheckpointError(
                f"{p} is not a plain-weights checkpoint: it is corrupt, or loading it would run "
                f"code or build objects other than tensors, which is refused for safety "
                f"({_pickle_reason(exc)})"
            ) from None
        except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise CheckpointError(f"{p} is not a readable checkpoint ({reason})") from None
        except Exception as exc:  # a damaged or foreign file trips the safe unpickler anywhere
            # only the kind of failure: its text is the unpickler's internals (a bare number
            # for a KeyError), which says nothing to a user
            raise CheckpointError(
                f"{p} is not a readable checkpoint: not a torch file, or a damaged one "
                f"(loading failed with {type(exc).__name__})"
            ) from None
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError(f"{p} holds no state dict (expected {{'model': {{name: tensor}}}})")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, Tensor)]
    if bad:
        raise CheckpointError(
            f"{p} is not a state dict: {len(bad)} entries are not tensors (e.g. {bad[0]!r})"
        )
    return obj


def _pickle_reason(exc: Exception) -> str:
    """The informative line of a ``weights_only`` refusal (e.g. the blocked global)."""
    lines = [" ".join(line.split()) for line in str(exc).splitlines()]
    for line in lines:
        if "GLOBAL" in line or line.startswith("Unsupported"):
            return line[:200]
    return (lines[0] if lines else type(exc).__name__)[:200]


@functools.cache
def _signature(name: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    from ecoseg.sam2.model import SAM2Model
    from ecoseg.sam2.variants import get_variant

    with torch.device("meta"):
        model = SAM2Model(get_variant(name))
    return tuple((k, tuple(v.shape)) for k, v in model.state_dict().items())


def variant_signature(name: str) -> dict[str, tuple[int, ...]]:
    """State-dict key -> tensor shape of a variant (built on the ``meta`` device, cached).

    Examples
    --------
    >>> variant_signature("sam2.1-tiny")["image_encoder.trunk.pos_embed"]
    (1, 96, 7, 7)
    """
    return dict(_signature(name))


def guess_variant(state_dict: dict[str, Tensor]) -> tuple[str | None, float]:
    """The variant whose (key, shape) signature best overlaps ``state_dict``, and the overlap.

    The score is the Jaccard index of the two sets of ``(key, shape)`` pairs (1 = identical).
    Returns ``(None, 0.0)`` when nothing overlaps.

    Examples
    --------
    >>> import torch
    >>> sd = {k: torch.empty(s, device="meta") for k, s in variant_signature("sam2-large").items()}
    >>> guess_variant(sd)
    ('sam2-large', 1.0)
    """
    from ecoseg.sam2.variants import VARIANTS

    have = {(k, tuple(v.shape)) for k, v in state_dict.items()}
    best, best_score = None, 0.0
    for name in VARIANTS:
        sig = set(_signature(name))
        score = len(have & sig) / max(len(have | sig), 1)
        if score > best_score:
            best, best_score = name, score
    return best, best_score


def mismatch_parts(missing: list[str], unexpected: list[str], shapes: list[str]) -> list[str]:
    """How a checkpoint fails to match a model, one phrase per kind of mismatch, each naming
    at most five keys (SAM 2 and SAM 3 loaders).

    Examples
    --------
    >>> mismatch_parts(["a", "b"], [], ["c (1,) vs (2,)"])
    ['2 missing keys (a, b)', '1 shape mismatches (file vs model: c (1,) vs (2,))']
    >>> mismatch_parts([f"k{i}" for i in range(7)], [], [])
    ['7 missing keys (k0, k1, k2, k3, k4, ... (+2 more))']
    """

    def listing(keys: list[str]) -> str:
        shown = ", ".join(keys[:_SHOW])
        return shown + (f", ... (+{len(keys) - _SHOW} more)" if len(keys) > _SHOW else "")

    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys ({listing(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys ({listing(unexpected)})")
    if shapes:
        parts.append(f"{len(shapes)} shape mismatches (file vs model: {listing(shapes)})")
    return parts


def check_state_dict(
    state: dict[str, Tensor],
    expected: dict[str, tuple[int, ...]],
    variant: str,
    what: str,
    *,
    other: str = "pass --model {guess}",
    end: str = "",
) -> None:
    """Raise one line, ``what`` first, when ``state``'s keys or shapes differ from ``expected``
    (``variant``'s :func:`variant_signature`): the mismatches and the variant the file most
    likely belongs to (``other`` says what to do then, ``{guess}`` filled in), then ``end``.

    Examples
    --------
    >>> import torch
    >>> check_state_dict({"a": torch.zeros(2)}, {"a": (2,)}, "y", "x does not match y")
    >>> try:
    ...     check_state_dict({"a": torch.zeros(3)}, {"a": (2,)}, "y", "x does not match y")
    ... except CheckpointError as exc:
    ...     print(str(exc).split("; ")[0])
    x does not match y: 1 shape mismatches (file vs model: a (3,) vs (2,))
    """
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {shape}"
        for k, shape in expected.items()
        if k in state and tuple(state[k].shape) != tuple(shape)
    ]
    if not (missing or unexpected or shapes):
        return
    guess, score = guess_variant(state)
    if guess is not None and score >= 0.5 and guess != variant:
        hint = f"; it looks like a {guess} checkpoint ({other.format(guess=guess)})"
    elif guess == variant:
        hint = f"; closest variant is {guess} itself (a modified or truncated file?)"
    else:
        hint = "; it does not look like any SAM 2 / 2.1 checkpoint"
    parts = "; ".join(mismatch_parts(missing, unexpected, shapes))
    raise CheckpointError(f"{what}: {parts}{hint}{end}")


def load_checkpoint(model, path: str | os.PathLike):
    """Load a checkpoint into ``model`` with strict key and shape matching.

    Parameters
    ----------
    model : SAM2Model
        The model to fill (any device; tensors are copied in place).
    path : path
        Checkpoint file, see :func:`read_state_dict`.

    Returns
    -------
    SAM2Model
        ``model`` itself.

    Raises
    ------
    CheckpointError
        Unreadable or unsafe file, or keys/shapes that do not match the model; the message
        names up to five missing and five unexpected keys, shape mismatches, and the variant
        the file most likely belongs to.
    """
    state = read_state_dict(path)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    variant = getattr(getattr(model, "variant", None), "name", type(model).__name__)
    check_state_dict(state, expected, variant, f"checkpoint {path} does not match {variant}")
    model.load_state_dict(state, strict=True)
    return model


def save_safetensors(model_or_state_dict, path: str | os.PathLike, *, metadata=None) -> Path:
    """Write a model's weights (or a state dict) as ``.safetensors``.

    Converting an official ``.pt`` once gives a file that loads without unpickling::

        save_safetensors(read_state_dict("sam2.1_hiera_tiny.pt"), "sam2.1_hiera_tiny.safetensors")

    Parameters
    ----------
    model_or_state_dict : torch.nn.Module or dict
    path : path
        Output file (should end in ``.safetensors``).
    metadata : dict of str, optional
        Extra string metadata; the variant name is added when the model has one.

    Returns
    -------
    pathlib.Path
    """
    from safetensors.torch import save_file

    if isinstance(model_or_state_dict, torch.nn.Module):
        state = model_or_state_dict.state_dict()
        variant = getattr(getattr(model_or_state_dict, "variant", None), "name", None)
    else:
        state = dict(model_or_state_dict)
        variant = None
    meta = {"format": "pt"}
    if variant:
        meta["variant"] = variant
    meta.update({str(k): str(v) for k, v in (metadata or {}).items()})
    # safetensors wants contiguous tensors that share no storage
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, os.fspath(out), metadata=meta)
    return out
