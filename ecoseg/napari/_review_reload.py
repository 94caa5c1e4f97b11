"""The reload of a store's Labels layer after each *Review tracks* edit: the layer gets the
store's masks, objects and trajectories again, and the hand corrections painted into it and
not saved (:func:`painted`, read before the edit) are painted back over them, with the edit
applied to their ids as to the store's.

The reading is :func:`painted` (of a :func:`snapshot` of the layer, before the edit) and
:func:`read_layer` (the store's masks and objects, the strokes painted back): free of Qt, they
run in the edit's worker thread; :func:`reload_layer` only hands what they read to the layer,
on the Qt thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from ecoseg.napari._hand_edits import strokes as stroke
from ecoseg.napari._hand_edits import unsaved
from ecoseg.napari._layers import META_KEY

__all__ = ["Loaded", "painted", "read_layer", "reload_layer", "snapshot"]


def snapshot(layer) -> SimpleNamespace:
    """What :func:`painted` reads of a Labels layer, taken on the Qt thread for a worker
    thread: its masks (the array itself, not a copy: its painting tools wait while the edit
    runs) and a copy of its record of hand corrections not saved.

    Examples
    --------
    >>> layer = SimpleNamespace(data=None, metadata={"ecoseg": {"hand_edits": {"frames": [2]}}})
    >>> snapshot(layer).metadata
    {'ecoseg': {'hand_edits': {'frames': [2]}}}
    """
    from ecoseg.napari._hand_edits import KEY

    record = (layer.metadata.get(META_KEY) or {}).get(KEY) or {}
    frames = list(record.get("frames") or [])
    return SimpleNamespace(data=layer.data, metadata={META_KEY: {KEY: dict(record, frames=frames)}})


def painted(layer, store) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The layer's hand corrections not saved, by frame (``where, values``: where it
    differs from the ``store``'s masks), to paint back after the reload (an empty dict: none).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> painted(SimpleNamespace(data=None, metadata={}), "T1.zarr")  # none: the store unread
    {}
    """
    from ecoseg.store import MaskStore

    frames = unsaved(layer) if isinstance(getattr(layer, "data", None), np.ndarray) else []
    if not frames:
        return {}
    out = {}
    with MaskStore.open(store) as opened:
        for frame in frames:
            if frame < opened.n_frames:
                kept = stroke(layer, frame, opened.read_labels(frame, frame + 1)[0])
                if kept is not None and kept[0].any():
                    out[frame] = kept
    return out


@dataclass(frozen=True)
class Loaded:
    """A store's masks and objects as its Labels layer is to hold them (:func:`read_layer`).

    Attributes
    ----------
    labels : numpy.ndarray or dask.array.Array
        The masks, strokes painted back (in memory), or lazy (a large store, kept open).
    objects : list of dict
        The store's object table.
    """

    labels: Any
    objects: list


def read_layer(path, strokes=None, edit=None) -> Loaded:
    """Read the store at ``path`` as its layer is to show it: its masks (in memory, or lazy for
    a large store: :func:`~ecoseg.napari._layers.layer_labels`) with ``strokes``
    (:func:`painted`) over them, the ids a merge, split or delete (``edit``) changes changed
    there too, and its objects. Free of Qt (an edit's worker thread runs it).

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> loaded = read_layer(sample().truth)
    >>> loaded.labels.shape, len(loaded.objects) > 0
    ((150, 360, 640), True)
    """
    from ecoseg.napari._layers import layer_labels
    from ecoseg.species.edits import relabel
    from ecoseg.store import MaskStore, open_masks

    store = MaskStore.open(path)
    labels = layer_labels(open_masks(store))  # a large store stays lazy, as it opened
    for frame, (where, values) in (strokes or {}).items():
        if isinstance(labels, np.ndarray) and frame < len(labels):
            if edit is not None:  # the strokes' ids as the store's: merged, split, deleted
                values = relabel(values[None], edit, frame)[0]
            labels[frame][where] = values
    objects = store.objects
    if isinstance(labels, np.ndarray):  # read whole: the store is not read from again
        store.close()
    return Loaded(labels, objects)


def reload_layer(viewer, layer, path, loaded: Loaded, reg, masks: bool = True) -> bool:
    """Give ``layer`` the masks and objects :func:`read_layer` read from the store at
    ``path`` (the cheap part, on the Qt thread). When the store's masks changed (``masks``)
    the layer's undo history starts again (napari's Ctrl+Z would replay strokes' old ids, a
    merged-away track's, over the new masks); returns whether it held strokes that Ctrl+Z can
    no longer take back. The store's Tracks layer is redrawn from its regions table ``reg``
    (:func:`~ecoseg.napari._layers.update_tracks`)."""
    from ecoseg.napari._hand_edits import restart_history
    from ecoseg.napari._layers import object_features, update_tracks

    layer.data = loaded.labels
    layer.features = object_features(loaded.objects)
    meta = dict(layer.metadata)
    meta[META_KEY] = dict(meta.get(META_KEY) or {}, objects=loaded.objects)
    layer.metadata = meta
    layer.show_selected_label = False
    # the store's trajectories follow (a merged-away track's points stayed on its old id)
    for empty in update_tracks(viewer.layers, path, reg):
        viewer.layers.remove(empty)
    return restart_history(layer) if masks else False
