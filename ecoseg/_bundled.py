"""The files ecoseg ships, by the names that mean them on any machine: ``ecoseg:NAME`` is
``data/NAME`` of a source checkout, ``ecoseg/_NAME`` inside the wheel (pyproject's
``force-include``): ``ecoseg:sample/video.mp4`` and ``ecoseg:sample/truth.zarr``, the bundled
sample clip and its ground truth; ``ecoseg:species_model.json``, the shipped species model.

A record names a shipped file so (:func:`bundled_name`, the one rule of whether a path is a
shipped file), not by its path inside this machine's installation, and a command or function
that takes such a file takes the name (:func:`local_path`, the one resolver), so a report's
steps run on any machine with ecoseg.

Public names in a private module: other ecoseg modules import them, users do not.
"""

from __future__ import annotations

import os
from pathlib import Path

from ecoseg.errors import ConfigError

__all__ = ["BUNDLED", "PREFIX", "bundled_file", "bundled_name", "local_path"]

#: how the name of a shipped file begins
PREFIX = "ecoseg:"

#: the shipped files, by name, and what regenerates one an installation lacks
BUNDLED = {
    "sample/video.mp4": "regenerate it with `python data/make_sample.py` (see data/README.md)",
    "sample/truth.zarr": "regenerate it with `python data/make_sample.py` (see data/README.md)",
    "species_model.json": "regenerate it with `python data/make_species_model.py`",
}


def _places(name: str) -> tuple[Path, Path]:
    """Where the shipped file ``name`` lies: inside the wheel, in a source checkout."""
    package = Path(__file__).resolve().parent
    first, *rest = name.split("/")
    return package.joinpath(f"_{first}", *rest), package.parent.joinpath("data", *name.split("/"))


def bundled_file(name: str) -> Path:
    """The file (or folder) of the shipped file named ``name`` (``ecoseg:NAME``) here.

    Raises
    ------
    ConfigError
        Not the name of a shipped file, or this installation lacks it.

    Examples
    --------
    >>> bundled_file("ecoseg:sample/video.mp4").name
    'video.mp4'
    >>> bundled_file("ecoseg:sample.mp4")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ecoseg:sample.mp4: not a file ecoseg ships (ecoseg:sample/...
    """
    key = name[len(PREFIX) :] if name.startswith(PREFIX) else name
    if key not in BUNDLED:
        known = ", ".join(PREFIX + n for n in BUNDLED)
        raise ConfigError(f"{name}: not a file ecoseg ships ({known})")
    for path in _places(key):
        if path.exists():
            return path
    raise ConfigError(f"{PREFIX}{key}: missing from this installation; {BUNDLED[key]}")


def local_path(path: str | os.PathLike) -> str | os.PathLike:
    """``path`` as a file of this machine: the name of a shipped file (``ecoseg:NAME``) as
    its file here (:func:`bundled_file`), any other path as it is.

    Examples
    --------
    >>> local_path("reef.mp4")
    'reef.mp4'
    >>> local_path("ecoseg:species_model.json") == bundled_file("ecoseg:species_model.json")
    True
    """
    if isinstance(path, str) and path.startswith(PREFIX):
        return bundled_file(path)
    return path


def bundled_name(path: str | os.PathLike | None) -> str | None:
    """The name (``ecoseg:NAME``) of the shipped file ``path`` is, by whatever path (or by its
    name), on this machine; None for any other file, a URL or a path not resolvable.

    Examples
    --------
    >>> bundled_name(bundled_file("ecoseg:sample/video.mp4"))
    'ecoseg:sample/video.mp4'
    >>> bundled_name("ecoseg:species_model.json"), bundled_name("reef.mp4")
    ('ecoseg:species_model.json', None)
    """
    if path is None or "://" in os.fspath(path):
        return None
    try:
        here = Path(local_path(path)).resolve()
        for name in BUNDLED:
            if here in (p.resolve() for p in _places(name) if p.exists()):
                return PREFIX + name
    except (ConfigError, OSError, RuntimeError, TypeError, ValueError):
        return None
    return None
