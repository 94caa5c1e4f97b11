"""Lazy public names and submodules for a package, and callable modules.

:func:`attach` gives a package a module ``__getattr__`` / ``__dir__`` that import a name (or
a submodule) on first touch, so ``import ecoseg`` stays light. :func:`make_callable` lets a
module that shares its name with its main function be called like that function:
``ecoseg.synth``, ``ecoseg.measure`` and ``ecoseg.report`` are packages *and* public functions,
and importing any submodule (``import ecoseg.synth.render``) binds the package's name to the
package, so the package forwards calls to the function of the same name.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import types
from collections.abc import Callable, Iterable, Mapping

__all__ = ["CallableModule", "attach", "make_callable"]


def attach(
    package: str,
    names: Mapping[str, str],
    extra: Iterable[str] = (),
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for ``package`` that import its names on demand.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping {public name: "module:attribute" or "module"}
        The lazily imported names; a target without ``:attribute`` is the module itself.
    extra : iterable of str
        Names defined in the package itself (listed by ``dir``).
    submodules : iterable of str
        Submodules of ``package`` that resolve on first touch (``package.name``). One that does
        not exist (yet) is neither listed nor resolved: touching it raises AttributeError.

    Returns
    -------
    __getattr__, __dir__

    Examples
    --------
    >>> __getattr__, __dir__ = attach(__name__, {"sqrt": "math:sqrt", "cmath": "cmath"})
    >>> __getattr__("sqrt")(9.0), __getattr__("cmath").sqrt(-1)
    (3.0, 1j)
    >>> __getattr__("nothing")
    Traceback (most recent call last):
    ...
    AttributeError: module '...' has no attribute 'nothing'
    """
    targets = dict(names)
    modules = {name: f"{package}.{name}" for name in submodules if name not in targets}

    def exists(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            return False

    def __getattr__(name: str):
        if name in targets:
            module, _, attr = targets[name].partition(":")
            value = importlib.import_module(module)
            if attr:
                value = getattr(value, attr)
        elif name in modules and exists(modules[name]):
            value = importlib.import_module(modules[name])
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        present = [name for name, module in modules.items() if exists(module)]
        return sorted({*targets, *extra, *present})

    return __getattr__, __dir__


class CallableModule(types.ModuleType):
    """A module whose calls go to its attribute named by ``__call_target__``.

    ``inspect.signature`` of the module is the function's, so help and tab completion show the
    function's parameters, and ``module.__call__`` is the function itself, so Jupyter's
    ``ecoseg.measure?`` shows its docstring (parameters, examples) as the call docstring.
    """

    def _target(self) -> Callable:
        return getattr(self, self.__dict__["__call_target__"])

    @property
    def __call__(self) -> Callable:  # a call looks __call__ up on the type: this property
        return self._target()

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self._target())

    # the module's docstring with how it is called after its summary line, so that
    # ``help(ecoseg.measure)`` shows the call at its top (it was nowhere near: the signature sat
    # among the package's contents, hundreds of lines down); a data descriptor on the type
    # wins over the module's own ``__doc__``
    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        doc = self.__dict__.get("__doc__")
        target = self.__dict__.get(self.__dict__["__call_target__"])
        if target is None:  # not defined yet (the module is being imported)
            return doc
        first = (inspect.getdoc(target) or "").split("\n\n")[0].replace("\n", " ")
        call = f"Called as {self.__name__}{inspect.signature(target)}\n    {first}".rstrip()
        if not doc:
            return call
        summary, _, rest = doc.partition("\n")
        return f"{summary}\n\n{call}\n{rest}"


def make_callable(module: str, function: str) -> None:
    """Make the module named ``module`` callable: calling it calls its attribute ``function``.

    The attribute is looked up at call time, so this may come before the function's ``def``.

    Parameters
    ----------
    module : str
        The module's ``__name__`` (usually the package itself).
    function : str
        Name of the module attribute the calls go to.

    Examples
    --------
    >>> import types, sys
    >>> demo = types.ModuleType("ecoseg_demo_module")
    >>> demo.ecoseg_demo_module = lambda x: 2 * x
    >>> sys.modules["ecoseg_demo_module"] = demo
    >>> make_callable("ecoseg_demo_module", "ecoseg_demo_module")
    >>> demo(21), demo.__call__ is demo.ecoseg_demo_module
    (42, True)
    >>> del sys.modules["ecoseg_demo_module"]
    """
    mod = sys.modules[module]
    mod.__call_target__ = function
    mod.__class__ = CallableModule
