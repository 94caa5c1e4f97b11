"""Resolving a user's device choice for the networks (shared by ecoseg.sam2 and ecoseg.sam3)."""

from __future__ import annotations

__all__ = ["resolve_device"]


def resolve_device(device=None):
    """``torch.device`` for ``device`` (default: CUDA when available, else CPU).

    Raises
    ------
    ConfigError
        An unknown device name, or CUDA requested where it is not available.

    Examples
    --------
    >>> str(resolve_device("cpu"))
    'cpu'
    """
    import torch

    from ecoseg.errors import ConfigError

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"unknown device {device!r} (use 'cpu' or 'cuda')") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available here")
    return dev
