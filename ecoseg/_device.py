"""The one place a user's device choice becomes a torch device (engine, sam2 and sam3)."""

from __future__ import annotations

from ecoseg.errors import ConfigError

__all__ = ["DEVICES", "resolve_device"]

#: Device names a user may ask for (``cuda:N`` selects one GPU).
DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device: str | None = "auto") -> str:
    """The device a run uses: ``"auto"`` (or None) picks CUDA if available, else Apple MPS
    where torch has it, else the CPU; an explicit device is checked.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "mps"} or str, optional
        Also ``"cuda:N"``.

    Returns
    -------
    str
        The torch device name, e.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` (what the
        store's provenance records).

    Raises
    ------
    ConfigError
        An unknown device, or one this machine does not have.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("auto") in ("cpu", "cuda", "mps")
    True
    """
    import torch

    mps = getattr(torch.backends, "mps", None)
    has_mps = mps is not None and mps.is_available()
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if has_mps else "cpu"
    choices = ", ".join(DEVICES)
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"unknown device {device!r}; use {choices}") from None
    if dev.type not in DEVICES:
        raise ConfigError(f"unknown device {device!r}; use {choices}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: CUDA is not available here; use auto or cpu")
    if dev.type == "mps" and not has_mps:
        raise ConfigError(f"device {device!r}: Apple MPS is not available here; use auto or cpu")
    return str(dev)
