"""napari writer: a Labels layer into a new ecoseg mask store (never overwrites)."""

from __future__ import annotations

from typing import Any

from ecoseg.errors import StoreError
from ecoseg.napari._check import napari_remedy
from ecoseg.napari._hand_edits import saved
from ecoseg.napari._layers import META_KEY, labels_to_store

__all__ = ["changed", "write_labels"]


def write_labels(path: str, data: Any, attributes: dict) -> list[str]:
    """npe2 single-layer writer: save a Labels layer as an ecoseg mask store.

    Parameters
    ----------
    path : str
        Target ``.zarr`` folder or ``.zip`` file; an existing path is refused
        (:class:`~ecoseg.errors.StoreError`: "...: already exists; save under a new name").
    data : array (t, y, x) or (y, x)
        The layer data.
    attributes : dict
        The layer state (``metadata``, ``features``, ``scale``, ``units``, ``name``). Its
        ``metadata["ecoseg"]`` record of hand edits not yet saved is removed once they are
        (napari passes the layer's own metadata: :func:`ecoseg.napari._hand_edits.saved`),
        and its ``store`` becomes ``path``: the layer now shows that store (its strokes are
        there, not in the store it was read from), so *Review tracks* edits it, reloads the
        layer from it and *Measurements* checks it.

    Returns
    -------
    list of str
        The path written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "m.zarr")
    >>> write_labels(out, np.ones((1, 3, 3), np.uint8), {"name": "masks"}) == [out]
    True
    """
    from ecoseg._paths import check_out_parent

    check_out_parent(path, "", error=StoreError)  # a folder on the way that is a file
    try:
        labels_to_store(
            path,
            data,
            metadata=attributes.get("metadata"),
            features=attributes.get("features"),
            scale=attributes.get("scale"),
            units=attributes.get("units"),
            name=attributes.get("name"),
        )
    except StoreError as exc:  # napari's save dialog has no --overwrite: a new name does it
        raise StoreError(napari_remedy(str(exc), "save under a new name")) from None
    metadata = attributes.get("metadata")
    saved(metadata)  # napari passes the layer's own: its strokes are stored
    if isinstance(metadata, dict):  # ... in this store, which the layer follows from now on
        metadata.setdefault(META_KEY, {})["store"] = str(path)
        changed(metadata)
    return [path]


def changed(metadata: dict) -> None:
    """Tell the viewer's widgets that the layer whose ``metadata`` this is (napari passes
    the layer's own dict to a writer) changed it in place: its ``metadata`` event, which
    napari does not send for a change inside the dict (*Review tracks* lists a layer from the
    moment it is saved to a store). Nothing without an open viewer.

    Examples
    --------
    >>> changed({"ecoseg": {"store": "m.zarr"}})  # no viewer holds it: nothing to tell
    """
    import sys

    napari = sys.modules.get("napari")  # a writer napari called: napari is imported
    viewer = napari.current_viewer() if napari is not None else None
    for layer in [] if viewer is None else list(viewer.layers):
        if layer.metadata is metadata:
            layer.events.metadata(value=metadata)
