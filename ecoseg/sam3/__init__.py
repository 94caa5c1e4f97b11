"""SAM 3 (Meta, 2025) concept segmentation network in plain torch.

Our own implementation of SAM 3's architecture: the perception-encoder ViT backbone with its
feature pyramids, the CLIP-style text encoder and BPE tokenizer, the geometry/exemplar
encoder, the fusion encoder, the DETR-style decoder with its presence token, the segmentation
head, and the SAM 2-style tracker (shared with :mod:`ecoseg.sam2`). It reads Meta's
``sam3.pt`` and the transformers-format safetensors strictly and is proven equal to
transformers' port by oracle tests on identical random weights. Importing ``ecoseg.sam3``
does not import torch.

Exports
-------
``build(name="sam3", checkpoint=None, *, pretrained=True, image_size=None, device=None,
config=None) -> SAM3Model``
``SAM3Model``, ``ConceptPredictor``, ``Sam3Config``, ``PRESETS``, ``get_config``, ``Tokenizer``,
``load_tokenizer`` (the vocabulary downloaded with the weights), ``load_checkpoint``,
``weights`` (the gated-weights cache, as a submodule)

Examples
--------
>>> from ecoseg import sam3
>>> sorted(sam3.PRESETS)
['sam3', 'sam3-reduced']
>>> m = sam3.build("sam3-reduced", pretrained=False, device="cpu")
>>> m.image_size, m.training
(336, False)
"""

from __future__ import annotations

import os

from ecoseg._lazy import attach

_LAZY = {
    "SAM3Model": "ecoseg.sam3.model:SAM3Model",
    "Sam3Config": "ecoseg.sam3.config:Sam3Config",
    "PRESETS": "ecoseg.sam3.config:PRESETS",
    "get_config": "ecoseg.sam3.config:get_config",
    "Tokenizer": "ecoseg.sam3.tokenizer:Tokenizer",
    "ConceptPredictor": "ecoseg.sam3.predictor:ConceptPredictor",
    "load_checkpoint": "ecoseg.sam3.checkpoint:load_checkpoint",
    "load_tokenizer": "ecoseg.sam3.weights:load_tokenizer",
}

__all__ = ["build", *_LAZY]

__getattr__, __dir__ = attach(__name__, _LAZY, ["build"])


def build(
    name: str = "sam3",
    checkpoint: str | os.PathLike | None = None,
    *,
    pretrained: bool = True,
    image_size: int | None = None,
    device=None,
    config=None,
):
    """Build a SAM 3 model, with weights, in eval mode.

    Parameters
    ----------
    name : str
        Preset name (``"sam3"``, or ``"sam3-reduced"`` for CPU tests); ignored when
        ``config`` is given.
    checkpoint : path, optional
        Meta's ``sam3.pt``, the hub's transformers ``model.safetensors`` or an ecoseg
        ``.safetensors``. Default: ``sam3.pt`` in the weights cache (``ecoseg weights download
        sam3``).
    pretrained : bool
        Load weights. ``False`` gives random weights, reproducible under
        :func:`torch.manual_seed` (tests, benchmarks).
    image_size : int, optional
        Another input size (a multiple of 14, e.g. 504 or 672): faster, coarser. Default:
        the configuration's (1008 for ``"sam3"``).
    device : str or torch.device, optional
        Default: ``"cuda"`` when available, else ``"cpu"``.
    config : Sam3Config, optional
        A custom (e.g. reduced) configuration instead of a preset.

    Returns
    -------
    SAM3Model
        In eval mode; ``model.checkpoint_info`` holds the weights file's path, layout and
        sha256 (``None`` for random weights); ``model.tokenizer`` is the vocabulary found next
        to the checkpoint or in the weights cache (``None`` when there is none).

    Raises
    ------
    ConfigError
        Unknown preset, invalid ``image_size`` or unavailable device.
    CheckpointError
        Weights missing from the cache (the message says how to get them), unreadable,
        unsafe, or not matching the configuration; cached weights whose tokenizer vocabulary
        is missing or unreadable (refused before the checkpoint is read, naming the file).

    Examples
    --------
    >>> import torch
    >>> from ecoseg import sam3
    >>> _ = torch.manual_seed(0)
    >>> m = sam3.build("sam3-reduced", pretrained=False, device="cpu")
    >>> type(m).__name__, m.checkpoint_info
    ('SAM3Model', None)
    """
    import torch

    from ecoseg._device import resolve_device
    from ecoseg.errors import CheckpointError, ConfigError
    from ecoseg.sam3.config import Sam3Config, get_config

    if config is not None and not isinstance(config, Sam3Config):  # build(config="sam3")
        raise ConfigError(
            f"config: expected a Sam3Config, got a {type(config).__name__} {config!r:.60}; a "
            "preset goes by name (build('sam3-reduced'))"
        )
    cfg = config.with_image_size(image_size) if config is not None else get_config(name, image_size)
    dev = torch.device(resolve_device(device))
    path = tokenizer = None
    if checkpoint is not None:
        if not isinstance(checkpoint, (str, os.PathLike)):  # e.g. a state dict already loaded
            raise CheckpointError(
                "checkpoint: expected the path of a checkpoint file (Meta's sam3.pt or the "
                f"hub's model.safetensors), got a {type(checkpoint).__name__}"
            )
        path = os.fspath(checkpoint)
    elif pretrained:
        from ecoseg.sam3 import weights

        # the checkpoint and its vocabulary, both checked before either is read
        path = os.fspath(weights.cached_weights(cfg.name))
        tokenizer = weights.load_tokenizer(cfg.name)  # unreadable: one line naming the file

    from ecoseg.sam3.checkpoint import load_checkpoint
    from ecoseg.sam3.model import SAM3Model

    model = SAM3Model(cfg)
    model.checkpoint_info = None
    model.tokenizer = _find_tokenizer(cfg.name, path) if tokenizer is None else tokenizer
    if path is not None:
        from ecoseg._hashing import cached_sha256_file

        try:
            load_checkpoint(model, path)
        except CheckpointError as exc:
            if checkpoint is None:  # the cached download itself
                raise CheckpointError(
                    f"{exc}; the cached download is damaged: delete {path} and run `ecoseg "
                    f"weights download {cfg.name}` again"
                ) from None
            from ecoseg.sam3.weights import CHECKPOINT_HINT

            raise CheckpointError(f"{exc}; {CHECKPOINT_HINT}") from None
        model.checkpoint_info = {
            "path": path,
            "format": model.checkpoint_format,
            "sha256": cached_sha256_file(path),  # read once, as for the run's record
        }
    return model.to(dev).eval()


def _find_tokenizer(name: str, checkpoint: str | None):
    """The tokenizer whose vocabulary sits next to the checkpoint or in ``name``'s cache. For
    a checkpoint, the first place holding vocabulary files must be able to read them (else one
    line naming the file: a broken vocabulary beside it was passed over without a word); for
    random weights an unreadable one is passed over."""
    from pathlib import Path

    from ecoseg.errors import CheckpointError
    from ecoseg.sam3 import weights
    from ecoseg.sam3.tokenizer import Tokenizer, find_vocabulary

    beside = checkpoint is not None and Path(checkpoint).is_file()
    places = [Path(checkpoint).parent] if beside else []
    if name in weights.entries():
        places.append(weights.tokenizer_path(name))
    for i, place in enumerate(places):
        if checkpoint is not None and find_vocabulary(place):
            cached = i == len(places) - 1 and name in weights.entries()
            fix = f"delete it and run `ecoseg weights download {name}`" if cached else "replace it"
            return weights.read_vocabulary(place, then=fix)
        try:
            return Tokenizer.from_file(place)
        except (CheckpointError, ValueError, OSError):
            continue
    return None
