"""The one place a user's device choice becomes a torch device (engine, sam2 and sam3)."""

from __future__ import annotations

import re

from ecoseg._checks import did_you_mean, short_repr
from ecoseg.errors import ConfigError

__all__ = [
    "DEVICES",
    "DEVICE_CHOICES",
    "check_device_name",
    "device_name",
    "resolve_device",
    "unavailable",
]

#: Device names a user may ask for (``cuda:N`` selects one GPU).
DEVICES = ("auto", "cpu", "cuda", "mps")

#: The names of :data:`DEVICES` and ``cuda:N``, as a refusal (and ``--help``) lists them.
DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"

_ONE_GPU = re.compile(r"cuda:\d+")

#: torch's names of the one CPU (any index: torch puts ``cpu:N`` on the CPU) and of the one
#: Apple GPU (``mps:0``): the devices ``cpu`` and ``mps``
_ONE_OF_ONE = re.compile(r"(cpu):\d+|(mps):0+")


def device_name(device):
    """``device`` in the spelling of :data:`DEVICES` when it is text in any case (``"CPU"``,
    ``"CUDA:1"``: torch knows only lower case, so these were unknown devices), torch's
    ``cpu:N`` and ``mps:0`` as ``cpu`` and ``mps`` (the one CPU, the one Apple GPU: what
    torch runs them on); anything else as it is, for the checks to name.

    Examples
    --------
    >>> device_name("CPU"), device_name("Cuda:1"), device_name(None)
    ('cpu', 'cuda:1', None)
    >>> device_name("cpu:0"), device_name("MPS:0"), device_name("mps:1")
    ('cpu', 'mps', 'mps:1')
    """
    if not isinstance(device, str):
        return device
    name = device.lower()
    one = _ONE_OF_ONE.fullmatch(name)
    return (one[1] or one[2]) if one else name


def check_device_name(device, setting: str | None = None):
    """``device`` in the spelling of :data:`DEVICES` (or ``cuda:N``), in any case; the one
    rule of which names are devices, for ``segment``, ``batch``, a study file and ``--device``
    alike (whether this machine has the device is :func:`unavailable`'s question). None is
    None (auto); a ``torch.device`` is taken by its name; torch's ``cpu:N`` and ``mps:0`` are
    ``cpu`` and ``mps`` (:func:`device_name`), as ``ecoseg.segment`` took them before stop 61.

    Parameters
    ----------
    device : str or None
        The name given.
    setting : str, optional
        What a refusal names first (``"device (--device)"``).

    Raises
    ------
    ConfigError
        Any other value, in one line with the names and the closest one (``'gpu'``: cuda).

    Examples
    --------
    >>> check_device_name("CUDA:1"), check_device_name("cpu:0"), check_device_name(None)
    ('cuda:1', 'cpu', None)
    >>> check_device_name("cdua")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: unknown device 'cdua' (did you mean 'cuda'?); use auto, cpu, cuda, cuda:N or mps
    """  # noqa: E501
    if device is None:
        return None
    if type(device).__module__ == "torch":  # a torch.device: "cuda:1"
        device = str(device)
    name = device_name(device)
    if isinstance(name, str) and (name in DEVICES or _ONE_GPU.fullmatch(name)):
        return name
    named = f"{setting}: " if setting else ""
    if not isinstance(name, str):
        raise ConfigError(f"{named}unknown device {short_repr(device)}; use {DEVICE_CHOICES}")
    # a GPU is cuda (which did_you_mean cannot tell: "gpu" is no typo of "cpu"); "cuda1" is cuda:1
    gpu = re.fullmatch(r"(?:gpu|cuda)\W*(\d*)", name)
    if gpu:
        hint = f" (did you mean {'cuda' + (':' + gpu[1] if gpu[1] else '')!r}?)"
    else:
        hint = did_you_mean(name, DEVICES)
    raise ConfigError(f"{named}unknown device {name!r}{hint}; use {DEVICE_CHOICES}")


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
    >>> unavailable("opencl")
    "unknown device 'opencl'; use auto, cpu, cuda, cuda:N or mps"
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

    try:
        dev = torch.device(check_device_name(device))
    except ConfigError as exc:
        return None, str(exc)
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
