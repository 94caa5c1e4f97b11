"""ecoseg: segment, track and measure organisms in reef and habitat video.

The public API is the names below; they and the subpackages (``ecoseg.sam2``,
``ecoseg.engine``, ``ecoseg.io``, ...) resolve on first touch, so ``import ecoseg`` stays fast
and light (no torch, napari or dask until a name that needs them is used).
``ecoseg.synth``, ``ecoseg.measure`` and ``ecoseg.report`` are packages that can be called as
their main function.

Examples
--------
>>> import ecoseg
>>> ecoseg.__version__  # doctest: +ELLIPSIS
'...'
>>> callable(ecoseg.measure), ecoseg.measure.Calibration is ecoseg.Calibration
(True, True)
"""

from __future__ import annotations

from ecoseg._lazy import attach
from ecoseg._version import __version__

# public name -> "module:attribute" (or "module": the callable package itself)
_LAZY = {
    "open_video": "ecoseg.io.video:open_video",
    "VideoReader": "ecoseg.io.video:VideoReader",
    "Frame": "ecoseg.io.video:Frame",
    "open_masks": "ecoseg.store:open_masks",
    "MaskStore": "ecoseg.store:MaskStore",
    "synth": "ecoseg.synth",
    "load_prompts": "ecoseg.prompts:load_prompts",
    "Prompts": "ecoseg.prompts:Prompts",
    "segment": "ecoseg.engine:segment",
    "measure": "ecoseg.measure",
    "Calibration": "ecoseg.measure.calibration:Calibration",
    "evaluate": "ecoseg.metrics:evaluate",
    "report": "ecoseg.report",
    "export": "ecoseg.formats:export",
    "EcosegError": "ecoseg.errors:EcosegError",
    "classify": "ecoseg.species:classify",
    "Review": "ecoseg.species:Review",
    "ObjectRecord": "ecoseg.provenance:ObjectRecord",
}

# subpackages and modules that resolve on first touch (``ecoseg.sam2.build(...)`` right after
# ``import ecoseg``); one that does not exist in this version is simply absent
SUBMODULES = (
    "batch",
    "engine",
    "errors",
    "formats",
    "info",
    "io",
    "measure",
    "metrics",
    "prompts",
    "provenance",
    "report",
    "sam2",
    "sam3",
    "species",
    "store",
    "study",
    "synth",
)

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = attach(__name__, _LAZY, ["__version__"], SUBMODULES)
