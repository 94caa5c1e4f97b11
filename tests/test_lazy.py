"""``import ecoseg`` is light, and its names and submodules resolve on first touch."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from suite_helpers import child_env

import ecoseg
from ecoseg._lazy import attach, make_callable

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "napari", "dask", "av", "zarr", "pandas", "matplotlib")


def _python(code: str) -> str:
    env = child_env()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_ecoseg_imports_no_heavy_package():
    out = _python(
        "import sys, json, ecoseg\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(json.loads(out.splitlines()[-1]))
    assert "ecoseg" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_every_submodule_resolves_after_import_ecoseg():
    present = [
        name for name in ecoseg.SUBMODULES if importlib.util.find_spec(f"ecoseg.{name}") is not None
    ]
    assert {"sam2", "engine", "measure", "io", "store", "metrics", "report", "prompts"} <= set(
        present
    )
    code = (
        "import json, types, ecoseg\n"
        f"names = {present!r}\n"
        "print(json.dumps({n: getattr(ecoseg, n).__name__ for n in names}))"
    )
    resolved = json.loads(_python(code).splitlines()[-1])
    assert resolved == {name: f"ecoseg.{name}" for name in present}


def test_missing_submodule_is_an_attribute_error():
    """A submodule ``ecoseg.SUBMODULES`` lists that has no file (yet) is neither listed nor
    resolved. Every listed one is there now, so a listed name without a file stands in (a
    loop over the absent ones checked nothing)."""
    getattr_, dir_ = attach("ecoseg", {}, submodules=[*ecoseg.SUBMODULES, "not_written_yet"])
    assert "sam2" in dir_() and "not_written_yet" not in dir_()
    with pytest.raises(AttributeError, match="not_written_yet"):
        getattr_("not_written_yet")
    with pytest.raises(AttributeError, match="no_such_thing"):
        ecoseg.no_such_thing  # noqa: B018


def test_sam2_build_right_after_import_ecoseg():
    out = _python(
        "import ecoseg\n"
        "m = ecoseg.sam2.build('sam2.1-tiny', pretrained=False)\n"
        "print(type(m).__module__, sum(p.numel() for p in m.parameters()) > 10**6)"
    )
    assert out.split() == ["ecoseg.sam2.model", "True"]


@pytest.mark.parametrize("name", ["synth", "measure", "report"])
def test_callable_package_whichever_is_imported_first(name):
    # the package and its function share the name: the lazy name is the (callable) package,
    # and importing a submodule first gives the same object
    code = (
        "import importlib, inspect, ecoseg\n"
        f"first = ecoseg.{name}\n"
        f"importlib.import_module('ecoseg.{name}')\n"
        f"fn = getattr(first, {name!r})\n"
        f"print(first is ecoseg.{name}, callable(first), inspect.isfunction(fn),"
        " list(inspect.signature(first).parameters) == list(inspect.signature(fn).parameters))"
    )
    assert _python(code).split() == ["True", "True", "True", "True"]


def test_synth_callable_through_the_package(tmp_path):
    import ecoseg.synth.rendering  # binds the name ecoseg.synth to the package
    from ecoseg.synth import synth

    assert callable(ecoseg.synth) and ecoseg.synth is not synth
    result = ecoseg.synth(tmp_path, frames=2, size=(32, 32), n_fish=1, n_invertebrates=0)
    assert result.frames == 2 and result.video.is_file()


def test_attach_and_make_callable_on_a_scratch_module(monkeypatch):
    import types

    mod = types.ModuleType("ecoseg_scratch")
    monkeypatch.setitem(sys.modules, "ecoseg_scratch", mod)
    mod.__getattr__, mod.__dir__ = attach(
        "ecoseg_scratch", {"sqrt": "math:sqrt", "json": "json"}, submodules=["nope"]
    )
    assert mod.sqrt(4.0) == 2.0 and mod.json is json
    assert "sqrt" in mod.__dict__  # cached after the first touch
    assert dir(mod) == ["json", "sqrt"]
    with pytest.raises(AttributeError):
        mod.nope  # noqa: B018
    mod.ecoseg_scratch = lambda x, y=1: x + y
    make_callable("ecoseg_scratch", "ecoseg_scratch")
    assert mod(1, y=2) == 3


@pytest.mark.parametrize("name", ["measure", "report", "synth"])
def test_a_callable_package_shows_its_function_doc_as_the_call_doc(name):
    # Jupyter's `ecoseg.measure?` showed the package doc and "Call signature: (*args, **kwargs)"
    # without the function's parameters: IPython reads the call doc from module.__call__
    package = getattr(ecoseg, name)
    function = getattr(package, name)
    assert package.__call__ is function
    assert "Parameters\n----------" in inspect.getdoc(package.__call__)


@pytest.mark.parametrize("name", ["measure", "report", "synth"])
def test_help_of_a_callable_package_shows_the_call_at_its_top(name):
    # help(ecoseg.measure) showed the package's contents, the call's signature hundreds of
    # lines down (among its functions) or not at all
    import pydoc

    package = getattr(ecoseg, name)
    top = pydoc.render_doc(package, renderer=pydoc.plaintext).splitlines()[:8]
    call = f"Called as ecoseg.{name}{inspect.signature(getattr(package, name))}"
    assert call in [line.strip() for line in top], top
    assert package.__doc__.startswith(package.__dict__["__doc__"].partition("\n")[0])


def test_a_scratch_callable_module_without_a_doc_shows_the_call():
    import types

    mod = types.ModuleType("ecoseg_scratch_doc")
    mod.ecoseg_scratch_doc = lambda x: x
    sys.modules["ecoseg_scratch_doc"] = mod
    try:
        make_callable("ecoseg_scratch_doc", "ecoseg_scratch_doc")
        assert mod.__doc__ == "Called as ecoseg_scratch_doc(x)"
    finally:
        del sys.modules["ecoseg_scratch_doc"]
