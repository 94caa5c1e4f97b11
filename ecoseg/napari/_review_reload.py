"""The reload of a store's Labels layers after each *Review tracks* edit: every layer that
shows the store when the edit is done gets the store's masks and objects again (the one the
edit was pressed on, another opened before, or one opened while it ran, read then from a store
half rewritten), its tracks layer its trajectories, and the hand corrections painted into a
layer and not saved (:func:`painted`, read before the edit) are painted back over them, with
the edit applied to their ids as to the store's.

The reading is :func:`painted` (of a :func:`snapshot` of each layer, before the edit),
:func:`read_layer` (the store's masks and objects) and :func:`relabelled` (the strokes' ids
after the edit): free of Qt, they run in the edit's worker thread; :func:`reload_layer` and
:func:`redraw_tracks` only hand what they read to the layers, on the Qt thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from ecoseg.napari._hand_edits import strokes as stroke
from ecoseg.napari._hand_edits import unsaved
from ecoseg.napari._layers import META_KEY

__all__ = [
    "Loaded",
    "paint_strokes",
    "painted",
    "read_layer",
    "redraw_tracks",
    "relabelled",
    "reload_layer",
    "snapshot",
]


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
    from ecoseg.napari._hand_edits import record_copy

    return SimpleNamespace(data=layer.data, metadata=record_copy(layer))


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


def relabelled(strokes: dict, edit=None) -> dict:
    """``strokes`` (:func:`painted`) with the ids a merge, split or delete (``edit``) changes
    changed, as the store's are (a merged-away track's pixels take the kept id, a split
    track's from the split frame the new id, a deleted track's none).

    Examples
    --------
    >>> from ecoseg.species import Edit
    >>> where = np.array([[True, True]])
    >>> strokes = {4: (where, np.array([5, 7], np.uint32))}
    >>> relabelled(strokes, Edit("merge", (3, 5)))[4][1].tolist()
    [3, 7]
    >>> relabelled(strokes) is strokes
    True
    """
    from ecoseg.species.edits import relabel

    if edit is None:
        return strokes
    return {
        frame: (where, relabel(values[None], edit, frame)[0])
        for frame, (where, values) in strokes.items()
    }


def paint_strokes(labels, strokes: dict) -> None:
    """Paint ``strokes`` (:func:`relabelled`) into ``labels`` in place (an array in memory; a
    lazy one, read-only, is left as it is).

    Examples
    --------
    >>> labels = np.zeros((2, 1, 2), np.uint32)
    >>> paint_strokes(labels, {1: (np.array([[False, True]]), np.array([9], np.uint32))})
    >>> labels[1].tolist()
    [[0, 9]]
    """
    if not isinstance(labels, np.ndarray):
        return
    for frame, (where, values) in strokes.items():
        if frame < len(labels):
            labels[frame][where] = values


def read_layer(path, strokes=None, edit=None) -> Loaded:
    """Read the store at ``path`` as its layer is to show it: its masks (in memory, or lazy for
    a large store: :func:`~ecoseg.napari._layers.layer_labels`) with ``strokes``
    (:func:`painted`) over them, the ids a merge, split or delete (``edit``) changes changed
    there too (:func:`relabelled`), and its objects. Free of Qt (an edit's worker thread runs
    it).

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> loaded = read_layer(sample().truth)
    >>> loaded.labels.shape, len(loaded.objects) > 0
    ((150, 360, 640), True)
    """
    from ecoseg.napari._layers import layer_labels
    from ecoseg.store import MaskStore, open_masks

    store = MaskStore.open(path)
    labels = layer_labels(open_masks(store))  # a large store stays lazy, as it opened
    paint_strokes(labels, relabelled(strokes or {}, edit))
    objects = store.objects
    if isinstance(labels, np.ndarray):  # read whole: the store is not read from again
        store.close()
    return Loaded(labels, objects)


def reload_layer(
    layer, loaded: Loaded, strokes=None, copy: bool = False, masks: bool = True
) -> bool:
    """Give ``layer`` the masks and objects :func:`read_layer` read from the store (the cheap
    part, on the Qt thread), with its own ``strokes`` (:func:`relabelled`) painted back;
    ``copy``: into a copy of the masks (another layer of the store takes them as they are).
    When the store's masks changed (``masks``) the layer's undo history starts again (napari's
    Ctrl+Z would replay strokes' old ids, a merged-away track's, over the new masks); returns
    whether it held strokes that Ctrl+Z can no longer take back."""
    from ecoseg.napari._hand_edits import restart_history
    from ecoseg.napari._layers import object_features

    labels = loaded.labels
    if copy and isinstance(labels, np.ndarray):
        labels = labels.copy()
    paint_strokes(labels, strokes or {})
    layer.data = labels
    layer.features = object_features(loaded.objects)
    meta = dict(layer.metadata)
    meta[META_KEY] = dict(meta.get(META_KEY) or {}, objects=loaded.objects)
    layer.metadata = meta
    layer.show_selected_label = False
    return restart_history(layer) if masks else False


def redraw_tracks(viewer, path, reg) -> None:
    """Redraw the store's Tracks layers from its regions table ``reg``
    (:func:`~ecoseg.napari._layers.update_tracks`: a merged-away track's points join the kept
    id), closing one left without any point; whichever masks layer is open, or none."""
    from ecoseg.napari._layers import update_tracks

    for empty in update_tracks(viewer.layers, path, reg):
        viewer.layers.remove(empty)
