"""The one place a user's device choice becomes a torch device (engine, sam2 and sam3)."""

from __future__ import annotations

from ecoseg.errors import ConfigError

__all__ = ["DEVICES", "device_name", "resolve_device", "unavailable"]

#: Device names a user may ask for (``cuda:N`` selects one GPU).
DEVICES = ("auto", "cpu", "cuda", "mps")


def device_name(device):
    """``device`` in the spelling of :data:`DEVICES` when it is text in any case (``"CPU"``,
    ``"CUDA:1"``: torch knows only lower case, so these were unknown devices); anything
    else as it is, for the checks to name.

    Examples
    --------
    >>> device_name("CPU"), device_name("Cuda:1"), device_name(None)
    ('cpu', 'cuda:1', None)
    """
    return device.lower() if isinstance(device, str) else device


def resolve_device(device: str | None = "auto") -> str:
    """The device a run uses: ``"auto"`` (or None) picks CUDA if available, else Apple MPS
    where torch has it, else the CPU; an explicit device is checked.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "mps"} or str, optional
        Also ``"cuda:N"``; in any case (``"CPU"``).

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

    device = device_name(device)
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _has_mps(torch) else "cpu"
    dev, why = _check(device)
    if dev is None:
        raise ConfigError(why)
    if why is not None:
        raise ConfigError(f"device {device!r}: {why}; use auto or cpu")
    return str(dev)


def unavailable(device: str | None) -> str | None:
    """Why this machine cannot run on ``device``, in a few words (``"CUDA is not available
    here"``), or ``None`` when it can: what :func:`resolve_device` refuses, for a caller that
    names the setting in its own terms (a study file's ``device:``). ``None``, ``"auto"`` and
    ``"cpu"`` are always available (torch is not imported for them).

    Examples
    --------
    >>> unavailable("cpu"), unavailable("auto")
    (None, None)
    >>> unavailable("tpu")
    "unknown device 'tpu'; use auto, cpu, cuda, mps"
    """
    device = device_name(device)
    if device is None or device in ("auto", "cpu"):
        return None
    return _check(device)[1]


def _has_mps(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def _check(device: str):
    """``(torch device, None)``; ``(torch device, why it is not here)``; ``(None, why the name
    is unknown)``."""
    import torch

    choices = ", ".join(DEVICES)
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        return None, f"unknown device {device!r}; use {choices}"
    if dev.type not in DEVICES:
        return None, f"unknown device {device!r}; use {choices}"
    if dev.type == "cuda" and not torch.cuda.is_available():
        return dev, "CUDA is not available here"
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        gpus = f"{count} GPU{'s' if count != 1 else ''} (cuda:0" + (
            f" to cuda:{count - 1})" if count > 1 else ")"
        )
        return dev, f"this machine has {gpus}"
    if dev.type == "mps" and not _has_mps(torch):
        return dev, "Apple MPS is not available here"
    return dev, None
