"""SAM 2 / SAM 2.1-compatible segmentation network in plain torch.

Our own implementation of the architecture of Ravi et al. (2024), reading the official
checkpoints of all eight variants (strict key match) and proven equal to the official ``sam2``
package by oracle tests on identical random weights. Heavy modules load lazily: importing
``ecoseg.sam2`` does not import torch.

Exports
-------
``build(name, checkpoint=None, *, pretrained=True, image_size=None, device=None) -> SAM2Model``
    A model in eval mode (see :func:`build`).
``ImagePredictor``
    Prompted single-image segmentation (:mod:`ecoseg.sam2.predictor`).
``VARIANTS``, ``get_variant``, ``Variant``
    The variants (:mod:`ecoseg.sam2.variants`).
``load_checkpoint``, ``read_state_dict``, ``save_safetensors``
    Checkpoint I/O (:mod:`ecoseg.sam2.checkpoint`).
``SAM2Model``
    The network (:mod:`ecoseg.sam2.model`).
``weights``
    The checkpoint manifest and cache (:mod:`ecoseg.sam2.weights`), as a submodule.

Examples
--------
>>> from ecoseg import sam2
>>> sorted(sam2.VARIANTS)[:2]
['sam2-base-plus', 'sam2-large']
>>> model = sam2.build("sam2.1-tiny", pretrained=False, image_size=128, device="cpu")
>>> model.image_size, model.training
(128, False)
"""

from __future__ import annotations

import os

from ecoseg._device import resolve_device
from ecoseg._lazy import attach

_LAZY = {
    "VARIANTS": "ecoseg.sam2.variants:VARIANTS",
    "Variant": "ecoseg.sam2.variants:Variant",
    "get_variant": "ecoseg.sam2.variants:get_variant",
    "ImagePredictor": "ecoseg.sam2.predictor:ImagePredictor",
    "AutomaticMaskGenerator": "ecoseg.sam2.automatic:AutomaticMaskGenerator",
    "load_checkpoint": "ecoseg.sam2.checkpoint:load_checkpoint",
    "read_state_dict": "ecoseg.sam2.checkpoint:read_state_dict",
    "save_safetensors": "ecoseg.sam2.checkpoint:save_safetensors",
    "SAM2Model": "ecoseg.sam2.model:SAM2Model",
}

__all__ = ["build", *_LAZY]


__getattr__, __dir__ = attach(__name__, _LAZY, ["build"])


def build(
    name: str,
    checkpoint: str | os.PathLike | None = None,
    *,
    pretrained: bool = True,
    image_size: int | None = None,
    device=None,
):
    """Build a SAM 2 / 2.1 model, with weights, in eval mode.

    Parameters
    ----------
    name : str
        Variant name, one of :data:`VARIANTS` (e.g. ``"sam2.1-tiny"``).
    checkpoint : path, optional
        Official ``.pt`` (``{"model": state_dict}``) or ``.safetensors`` file. Default: the
        variant's file in the weights cache (``ecoseg weights download NAME``).
    pretrained : bool
        Load weights (from ``checkpoint`` or the cache). ``False`` gives random weights,
        reproducible under :func:`torch.manual_seed` (tests, benchmarks).
    image_size : int, optional
        Lower input size (multiple of 32, e.g. 256 or 512) for fast work; size-dependent
        position encodings follow it as in the official model. Default: 1024.
    device : str or torch.device, optional
        Default: ``"cuda"`` when available, else ``"cpu"``.

    Returns
    -------
    SAM2Model

    Raises
    ------
    ConfigError
        Unknown variant, invalid ``image_size`` or unavailable device.
    CheckpointError
        Weights missing from the cache (the message says how to download them), unreadable,
        unsafe, or not matching the variant.

    Examples
    --------
    >>> import torch
    >>> from ecoseg import sam2
    >>> _ = torch.manual_seed(0)
    >>> m = sam2.build("sam2-small", pretrained=False, image_size=256, device="cpu")
    >>> type(m).__name__, m.image_size
    ('SAM2Model', 256)
    """
    import torch

    from ecoseg.sam2 import weights
    from ecoseg.sam2.variants import get_variant

    variant = get_variant(name)
    get_variant(name, image_size)  # validate the size before any heavy work
    dev = torch.device(resolve_device(device))
    path = None
    if checkpoint is not None:
        path = os.fspath(checkpoint)
    elif pretrained:
        path = os.fspath(weights.cached_weights(name))

    from ecoseg.sam2.checkpoint import load_checkpoint
    from ecoseg.sam2.model import SAM2Model

    model = SAM2Model(variant, image_size=image_size)
    if path is not None:
        load_checkpoint(model, path)
    return model.to(dev).eval()
