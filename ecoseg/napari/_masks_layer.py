"""The ``ecoseg masks`` Labels layer *Segment & track* paints a run's masks into, and its
record in ``metadata["ecoseg"]``: the video it belongs to (so *Re-track* on another video is
refused), its objects with their classes (which saving the layer keeps in the store's object
table), the scores per frame and the frames a run looked at.

:func:`new_masks_layer` makes it on a video, :func:`object_classes` and :func:`set_objects`
read and write its objects, :func:`timed` records an image folder's frame rate in it and
:func:`meta` is any layer's ecoseg record.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ecoseg.napari._layers import META_KEY, layer_grid, object_features
from ecoseg.napari._rate import retime, video_record

__all__ = ["MASKS", "meta", "new_masks_layer", "object_classes", "set_objects", "timed"]

MASKS = "ecoseg masks"


def meta(layer) -> dict[str, Any]:
    """A layer's ecoseg record (``metadata["ecoseg"]``; empty for another layer or None).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> meta(SimpleNamespace(metadata={"ecoseg": {"kind": "video"}})), meta(None)
    ({'kind': 'video'}, {})
    """
    return (getattr(layer, "metadata", None) or {}).get(META_KEY) or {}


def new_masks_layer(viewer, video):
    """An empty ``ecoseg masks`` Labels layer on ``video``'s frames and grid, recording the
    video it belongs to (its timestamps, rate, calibration and file)."""
    n, h, w = (int(s) for s in video.data.shape[:3])
    vmeta = meta(video)
    record = {
        "kind": "masks",
        "time_s": vmeta.get("time_s"),
        "fps": vmeta.get("fps"),
        "calibration": vmeta.get("calibration"),
        "objects": [],
        "scores": {},
        "provenance": {"video": video_record(vmeta, video.data.shape)},
        "tracked": None,  # the first and last frame tracked (see _layers.looked_at)
    }
    scale, units = layer_grid(video)
    return viewer.add_labels(
        np.zeros((n, h, w), np.uint32),
        name=MASKS,
        scale=scale,
        units=units,
        opacity=0.6,
        features=object_features([]),
        metadata={META_KEY: record},
    )


def timed(layer, video, fps: float) -> None:
    """An image folder tracked at ``fps``: the video layer and the masks layer at that rate,
    and the masks' recorded video says so (as ``segment --fps`` records it)."""
    vmeta = meta(video)
    retime(vmeta, int(video.data.shape[0]), fps)
    record = layer.metadata.setdefault(META_KEY, {})
    record["time_s"], record["fps"] = vmeta["time_s"], vmeta["fps"]
    provenance = dict(record.get("provenance") or {})
    provenance["video"] = video_record(vmeta, video.data.shape)
    record["provenance"] = provenance


def object_classes(layer) -> dict[int, str]:
    """The layer's objects' classes by id.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> object_classes(SimpleNamespace(metadata={"ecoseg": {"objects": [
    ...     {"id": 2, "class": "wrasse"}]}}))
    {2: 'wrasse'}
    """
    return {int(o["id"]): str(o["class"]) for o in meta(layer).get("objects") or []}


def set_objects(layer, classes: dict[int, str], source="prompt", reset=False, records=None):
    """Record objects' classes in the layer (``reset``: only these, and no scores);
    ``records`` adds what the engine said of them (e.g. a concept track's ``class_source``
    and ``class_probability``), which saving the layer keeps in the store's object table."""
    record = layer.metadata.setdefault(META_KEY, {})
    objs = {} if reset else {int(o["id"]): o for o in record.get("objects") or []}
    if reset:
        record["scores"] = {}
    for oid, cls in classes.items():
        extra = dict((records or {}).get(oid) or {})
        objs[int(oid)] = {**extra, "id": int(oid), "class": str(cls), "source": source}
    record["objects"] = [objs[k] for k in sorted(objs)]
    layer.features = object_features(record["objects"])
