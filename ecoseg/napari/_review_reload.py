"""The reload of a store's Labels layer after each *Review tracks* edit: the layer gets the
store's masks, objects and trajectories again, and the hand corrections painted into it and
not saved (:func:`painted`, read before the edit) are painted back over them
(:func:`reload_layer`), with the edit applied to their ids as to the store's.
"""

from __future__ import annotations

import numpy as np

from ecoseg.napari._hand_edits import strokes as stroke
from ecoseg.napari._hand_edits import unsaved
from ecoseg.napari._layers import META_KEY

__all__ = ["painted", "reload_layer"]


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


def reload_layer(
    viewer, layer, path, strokes=None, edit=None, masks: bool = True, reg=None
) -> bool:
    """Replace ``layer``'s masks with those of the store at ``path``, and ``strokes``
    (:func:`painted`) over them: ids a merge, split or delete changes change there too
    (``edit``). When the store's masks changed (``masks``) the layer's undo history starts
    again (napari's Ctrl+Z would replay strokes' old ids, a merged-away track's, over the new
    masks); returns whether it held strokes that Ctrl+Z can no longer take back. The store's
    Tracks layer is redrawn (:func:`~ecoseg.napari._layers.update_tracks`; from its regions
    table ``reg`` when read already)."""
    from ecoseg.measure.regions import regions
    from ecoseg.napari._hand_edits import restart_history
    from ecoseg.napari._layers import layer_labels, object_features, update_tracks
    from ecoseg.species.edits import relabel
    from ecoseg.store import MaskStore, open_masks

    store = MaskStore.open(path)
    labels = layer_labels(open_masks(store))  # a large store stays lazy, as it opened
    for frame, (where, values) in (strokes or {}).items():
        if isinstance(labels, np.ndarray) and frame < len(labels):
            if edit is not None:  # the strokes' ids as the store's: merged, split, deleted
                values = relabel(values[None], edit, frame)[0]
            labels[frame][where] = values
    layer.data = labels
    layer.features = object_features(store.objects)
    meta = dict(layer.metadata)
    meta[META_KEY] = dict(meta.get(META_KEY) or {}, objects=store.objects)
    layer.metadata = meta
    layer.show_selected_label = False
    # the store's trajectories follow (a merged-away track's points stayed on its old id)
    for empty in update_tracks(viewer.layers, path, regions(store) if reg is None else reg):
        viewer.layers.remove(empty)
    if isinstance(labels, np.ndarray):  # read whole: the store is not read from again
        store.close()
    return restart_history(layer) if masks else False
