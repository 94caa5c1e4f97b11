"""Engines that turn a video into tracked instance masks in a mask store.

Two engines share one writer:

- ``"sam2"``: the SAM 2-compatible network (:mod:`ecoseg.sam2`) propagating prompted objects
  (:func:`ecoseg.engine.session.propagate`); needs prompts and model weights.
- ``"classical"``: the motion tracker (:mod:`ecoseg.engine.classical`); needs neither.

:func:`segment` (:mod:`ecoseg.engine.run`) validates every input (video, prompts, output store)
before it loads a model or starts work, streams per-frame results into the store and records
provenance; the checks of a run's settings against its engine are in
:mod:`ecoseg.engine.checks`. This package re-exports both.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecoseg._device import resolve_device
from ecoseg.engine.checks import (
    ENGINES,
    check_concept_run,
    check_device,
    check_fast,
    check_image_size,
    check_model_checkpoint,
    check_network_settings,
    check_new_store,
    check_params,
    check_weights_source,
    choose_engine,
    params_dict,
)
from ecoseg.engine.results import FrameResult, labels_from_logits, write_results
from ecoseg.engine.run import segment
from ecoseg.engine.settings import DEFAULT_MODEL
from ecoseg.errors import Cancelled

__all__ = [
    "Cancelled",
    "check_concept_run",
    "check_fast",
    "check_network_settings",
    "check_new_store",
    "check_device",
    "check_image_size",
    "check_model_checkpoint",
    "check_params",
    "check_weights_source",
    "choose_engine",
    "params_dict",
    "FrameResult",
    "labels_from_logits",
    "write_results",
    "propagate",
    "resolve_device",
    "segment",
    "DEFAULT_MODEL",
    "ENGINES",
]


def propagate(model, video, prompts, **kwargs) -> Iterator[FrameResult]:
    """Propagate prompted objects through a video with a SAM 2 model.

    See :func:`ecoseg.engine.session.propagate` (imported lazily: it needs torch).
    """
    from ecoseg.engine import session

    return session.propagate(model, video, prompts, **kwargs)
