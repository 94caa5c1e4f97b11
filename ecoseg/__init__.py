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

from ecoseg._lazy import attach
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
    "classify": "ecoseg.species:classify",
    "Review": "ecoseg.species:Review",
}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = attach(__name__, _LAZY, ["__version__"])
