"""Lazy public names for a package: heavy modules load on first use of a name."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping


def attach(
    package: str, names: Mapping[str, str], extra: Iterable[str] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for ``package`` that import its names on demand.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping {public name: "module:attribute"}
        The lazily imported names.
    extra : iterable of str
        Names defined in the package itself (listed by ``dir``).

    Returns
    -------
    __getattr__, __dir__

    Examples
    --------
    >>> __getattr__, __dir__ = attach(__name__, {"sqrt": "math:sqrt"})
    >>> __getattr__("sqrt")(9.0)
    3.0
    """
    public = sorted({*names, *extra})

    def __getattr__(name: str):
        try:
            module, attr = names[name].split(":")
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attr)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return list(public)

    return __getattr__, __dir__
