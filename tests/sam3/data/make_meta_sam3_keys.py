"""Regenerate ``meta_sam3_keys.json.gz``: every state-dict key, shape and dtype of Meta's SAM 3.

Meta's ``sam3`` package (github.com/facebookresearch/sam3) wants Python >= 3.12, a CUDA
torchvision, timm, triton, decord and a hub download at build time, none of which this project
installs. Its model code is only *read* here: the script puts a checkout on ``sys.path``,
answers the imports it cannot satisfy with inert stand-ins (modules whose attributes are
dummies; timm's ``Mlp`` as ``fc1``/``fc2`` linears, which is timm's parameter layout; no
drop-path), keeps tensors Meta's builder places on ``"cuda"`` on the ``meta`` device, and runs
``build_sam3_video_model(load_from_HF=False)`` -- the model whose ``load_state_dict(strict=True)``
reads the published ``sam3.pt`` -- entirely on the ``meta`` device (no memory, no weights).

Usage::

    # SRC: a checkout of facebookresearch/sam3
    python tests/sam3/data/make_meta_sam3_keys.py SRC \
        tests/sam3/data/meta_sam3_keys.json.gz

The file in this folder was made from commit 99d02f2 of that repository (1465 tensors).
"""

from __future__ import annotations

import gzip
import importlib.abc
import importlib.machinery
import json
import sys
import types

import torch
from torch import nn

_STUBBED = {
    "decord", "cv2", "pycocotools", "skimage", "matplotlib", "av", "hydra", "omegaconf",
    "submitit", "fvcore", "tensordict", "iopath", "psutil", "torchvision", "triton",
}  # fmt: skip


class _Any:
    """Stands in for any attribute or call result of a stubbed module."""

    def __getattr__(self, name):
        return _Any()

    def __call__(self, *args, **kwargs):
        return _Any()


class _AnyModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name[:1].isupper():  # classes may be subclassed at import time
            return type(name, (object,), {"__init__": lambda self, *a, **k: None})
        return _Any()


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in _STUBBED and name not in sys.modules:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _AnyModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


class _Mlp(nn.Module):  # timm.layers.Mlp's parameters: fc1, fc2
    def __init__(self, in_features, hidden_features=None, out_features=None, act_layer=nn.GELU,
                 drop=0.0, **kwargs):  # fmt: skip
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features or in_features)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features or in_features, out_features or in_features)


class _DropPath(nn.Identity):
    def __init__(self, *args, **kwargs):
        super().__init__()


def _module(name: str, **attrs) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module


def _on_meta_not_cuda(factory):
    def wrapped(*args, **kwargs):
        if str(kwargs.get("device", "")).startswith("cuda"):
            kwargs["device"] = "meta"
        return factory(*args, **kwargs)

    return wrapped


def main(source: str, out: str) -> int:
    timm_layers = {"Mlp": _Mlp, "DropPath": _DropPath, "trunc_normal_": lambda t, *a, **k: t}
    _module("timm")
    _module("timm.layers", **timm_layers)
    _module("timm.models")
    _module("timm.models.layers", **timm_layers)
    _module("pkg_resources", resource_filename=lambda *a: None)
    _module("ftfy", fix_text=lambda s: s)
    _module("einops", rearrange=None, repeat=None)
    sys.meta_path.insert(0, _StubFinder())
    sys.path.insert(0, source)

    import sam3.model.position_encoding as position_encoding

    init = position_encoding.PositionEmbeddingSine.__init__

    def no_precompute(self, *args, precompute_resolution=None, **kwargs):
        init(self, *args, **kwargs)  # the precomputed cache is not state (and wants CUDA)

    position_encoding.PositionEmbeddingSine.__init__ = no_precompute
    import sam3.model_builder as builder

    builder.SimpleTokenizer = lambda *a, **k: None  # needs the BPE file; holds no tensors
    linspace = torch.linspace
    torch.linspace = lambda *a, **k: linspace(*a, **{**k, "device": "cpu"})  # .item() on it
    for name in ("arange", "zeros", "ones", "empty", "tensor", "full"):
        setattr(torch, name, _on_meta_not_cuda(getattr(torch, name)))
    with torch.device("meta"):
        model = builder.build_sam3_video_model(load_from_HF=False, device="meta")
    keys = {
        k: [list(v.shape), str(v.dtype).removeprefix("torch.")]
        for k, v in model.state_dict().items()
    }
    with gzip.open(out, "wt") as f:
        json.dump(keys, f, indent=0, sort_keys=True)
    print(len(keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
