"""Which of the viewer's layers *Review tracks* works with: a store's masks, their video.

The widget lists the Labels layers that show a mask store (:func:`store_layers`), reloads
every one that shows the store an edit rewrote (:func:`showing`), cuts its thumbnails from the
open video layer that shows the masks' own video (:func:`video_layer`, among the
:func:`fitting_videos`), and points the store's tracks layer at the store a layer was saved to
(:func:`repoint_tracks`). All of them read the layers' ecoseg metadata only (what the reader,
the writer and *Segment & track* record there), never the store.
"""

from __future__ import annotations

from collections.abc import Iterable

from ecoseg.napari._layers import META_KEY

__all__ = ["fitting_videos", "repoint_tracks", "showing", "store_layers", "video_layer"]


def _meta(layer) -> dict:
    return layer.metadata.get(META_KEY) or {}


def store_layers(layers: Iterable) -> list:
    """The Labels layers among ``layers`` that show a mask store, in layer order.

    Examples
    --------
    >>> import numpy as np, napari
    >>> masks = napari.layers.Labels(np.zeros((2, 4, 4), np.uint32), name="m",
    ...                              metadata={"ecoseg": {"store": "T1.zarr"}})
    >>> painted = napari.layers.Labels(np.zeros((2, 4, 4), np.uint32), name="p")
    >>> [layer.name for layer in store_layers([painted, masks])]
    ['m']
    """
    import napari

    return [
        layer
        for layer in layers
        if isinstance(layer, napari.layers.Labels) and _meta(layer).get("store")
    ]


def showing(layers: Iterable, path, first=None) -> list:
    """The Labels layers among ``layers`` that show the store at ``path``, ``first`` first
    (the layer the gallery lists), the others in layer order.

    Examples
    --------
    >>> import numpy as np, napari
    >>> a, b, c = (napari.layers.Labels(np.zeros((2, 4, 4), np.uint32), name=n,
    ...            metadata={"ecoseg": {"store": s}}) for n, s in zip("abc", ["T", "U", "T"]))
    >>> [layer.name for layer in showing([a, b, c], "T", first=c)]
    ['c', 'a']
    """
    shown = [layer for layer in store_layers(layers) if str(_meta(layer)["store"]) == str(path)]
    return sorted(shown, key=lambda layer: layer is not first)


def fitting_videos(layers: Iterable, masks) -> list[tuple[str, str]]:
    """``(name, file)`` of the video layers among ``layers`` whose frames fit the ``masks``
    layer, in layer order: RGB image layers of a file (ecoseg's reader records it; napari's
    own readers leave it in the layer's source), with the masks' frame size and at least
    their frame count.

    Examples
    --------
    >>> import numpy as np, napari
    >>> masks = napari.layers.Labels(np.zeros((2, 4, 4), np.uint32))
    >>> video = napari.layers.Image(np.zeros((3, 4, 4, 3), np.uint8), rgb=True, name="v",
    ...                             metadata={"ecoseg": {"kind": "video", "video": "v.mp4"}})
    >>> small = napari.layers.Image(np.zeros((3, 2, 2, 3), np.uint8), rgb=True, name="s",
    ...                             metadata={"ecoseg": {"kind": "video", "video": "s.mp4"}})
    >>> fitting_videos([small, video], masks)
    [('v', 'v.mp4')]
    """
    import napari

    n, h, w = (int(s) for s in masks.data.shape[-3:])
    out = []
    for layer in layers:
        if not (isinstance(layer, napari.layers.Image) and layer.rgb and layer.ndim == 3):
            continue
        shape = tuple(int(s) for s in layer.data.shape)
        if shape[1:3] != (h, w) or shape[0] < n:
            continue
        meta = _meta(layer)
        path = meta.get("video") if meta.get("kind") == "video" else None
        path = path or getattr(getattr(layer, "source", None), "path", None)
        if path:
            out.append((layer.name, str(path)))
    return out


def video_layer(layers, masks):
    """The video layer among ``layers`` (a viewer's layer list) that shows the video the
    ``masks`` layer was made on, or None (:func:`ecoseg.napari._check.matching_video`: by
    path, or by sha256; the first one, in layer order).

    Examples
    --------
    >>> import numpy as np, napari
    >>> masks = napari.layers.Labels(np.zeros((2, 4, 4), np.uint32))  # drawn: no video known
    >>> video = napari.layers.Image(np.zeros((3, 4, 4, 3), np.uint8), rgb=True, name="v",
    ...                             metadata={"ecoseg": {"kind": "video", "video": "v.mp4"}})
    >>> video_layer([video], masks) is video, video_layer([], masks)  # the one video, or none
    (True, None)
    """
    from ecoseg.napari._check import matching_video

    layers = list(layers)
    name = matching_video(_meta(masks), fitting_videos(layers, masks))
    return next((layer for layer in layers if layer.name == name), None)


def repoint_tracks(layers: Iterable, listed, path) -> None:
    """The tracks layer among ``layers`` of the store at ``listed`` shows the store at
    ``path`` from now on (the masks layer was saved there).

    Examples
    --------
    >>> import numpy as np, napari
    >>> tracks = napari.layers.Tracks(np.zeros((1, 4)),
    ...                               metadata={"ecoseg": {"kind": "tracks", "store": "T"}})
    >>> repoint_tracks([tracks], "T", "U")
    >>> tracks.metadata["ecoseg"]["store"]
    'U'
    """
    if listed is None:
        return
    for layer in layers:
        meta = _meta(layer)
        if meta.get("kind") == "tracks" and str(meta.get("store")) == str(listed):
            meta["store"] = path
