"""ecoseg: segment, track and measure organisms in reef and habitat video.

The public API is the names below; heavy modules (torch, napari, dask) are imported lazily,
so ``import ecoseg`` stays fast and light.

Examples
--------
>>> import ecoseg
>>> ecoseg.__version__  # doctest: +ELLIPSIS
'...'
"""

from __future__ import annotations

import importlib

from ecoseg._version import __version__

# public name -> "module:attribute"
_LAZY = {
    "open_video": "ecoseg.io.video:open_video",
    "VideoReader": "ecoseg.io.video:VideoReader",
    "Frame": "ecoseg.io.video:Frame",
    "open_masks": "ecoseg.store:open_masks",
    "MaskStore": "ecoseg.store:MaskStore",
    "synth": "ecoseg.synth:synth",
    "load_prompts": "ecoseg.prompts:load_prompts",
    "Prompts": "ecoseg.prompts:Prompts",
    "segment": "ecoseg.engine:segment",
    "measure": "ecoseg.measure:measure",
    "Calibration": "ecoseg.measure.calibration:Calibration",
    "evaluate": "ecoseg.metrics:evaluate",
    "report": "ecoseg.report:report",
    "EcosegError": "ecoseg.errors:EcosegError",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    try:
        target = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'ecoseg' has no attribute {name!r}") from None
    module, attr = target.split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
