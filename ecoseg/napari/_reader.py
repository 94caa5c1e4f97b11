"""napari reader: video files and ecoseg mask stores."""

from __future__ import annotations

import os
from collections.abc import Callable

from ecoseg.napari._check import check_edits
from ecoseg.napari._layers import (
    META_KEY,
    is_store,
    is_video,
    reads_store,
    store_layers,
    video_layer,
)

__all__ = ["get_reader", "read_one_store", "read_store", "read_video"]


def get_reader(path: str | list[str]) -> Callable | None:
    """npe2 reader hook: a reader function for ``path``, or None if it is not ours.

    Parameters
    ----------
    path : str or list of str
        A file or folder dropped on / opened in napari (lists: the first one decides).

    Returns
    -------
    callable or None

    Examples
    --------
    >>> get_reader("notes.txt") is None
    True
    """
    first = path[0] if isinstance(path, list | tuple) else path
    if not isinstance(first, str | os.PathLike):
        return None
    first = os.fspath(first).rstrip("/\\")
    if is_store(first):
        return read_store
    if is_video(first):
        return read_video
    return None


def _paths(path) -> list[str]:
    return [os.fspath(p) for p in path] if isinstance(path, list | tuple) else [os.fspath(path)]


def read_video(path: str | list[str]) -> list[tuple]:
    """Lazy image layers for video files (nothing is decoded until a frame is shown).

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> read_video(str(sample().video))[0][0].shape
    (150, 360, 640, 3)
    """
    return [video_layer(p) for p in _paths(path)]


def read_store(path: str | list[str]) -> list[tuple]:
    """Video (when found), Labels and Tracks layers for ecoseg mask stores.

    Each store is opened once (:func:`read_one_store`). A video found for a store is checked
    to be the store's video (size and frame count, then its sha256 in a background thread,
    :func:`ecoseg.napari._check.check_video_later`): the layers show at once, and a napari
    warning names both files and the video layer if it is not (the layer stays: the user
    chose the files, and a re-encoded copy shows the same footage under another sha256). A
    store an interrupted ``ecoseg edit`` left half written opens too, with one napari warning
    naming the unfinished edits and ``ecoseg edit STORE --resume``
    (:func:`ecoseg.napari._check.check_edits`). A store whose recorded video is not found
    opens without it, with one napari warning naming the video and saying that no video
    already open is checked against the masks (:func:`ecoseg.napari._check.missing_video`:
    a reader cannot see the viewer's other layers).

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> [kw["name"] for _, kw, _ in read_store(str(sample().truth))]
    ['video', 'truth masks', 'truth tracks']
    """
    layers = []
    for p in _paths(path):
        found = read_one_store(p.rstrip("/\\"))
        _check_found_video(found)
        _note_missing_video(found)
        layers.extend(found)
    return layers


def read_one_store(path: str) -> list[tuple]:
    """The layers of one store, read through one open store: the layers and the check of
    unfinished edits share it; it is closed after, unless its labels stay lazy (over
    :data:`~ecoseg.napari._layers.EDITABLE_BYTES`: the layer reads frames as they are shown).

    Parameters
    ----------
    path : str
        An ecoseg mask store.

    Returns
    -------
    list of tuple
        As :func:`ecoseg.napari._layers.store_layers`.

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> [kind for _, _, kind in read_one_store(str(sample().truth))]
    ['image', 'labels', 'tracks']
    """
    from ecoseg.store import MaskStore

    store = MaskStore.open(path)
    try:
        found = store_layers(path, store=store)
        check_edits(store)
    except BaseException:
        store.close()
        raise
    if not reads_store(found):
        store.close()
    return found


def _note_missing_video(layers: list[tuple]) -> None:
    """One warning when the store's recorded video was not found (no video layer): the masks
    open alone, and nothing here can check a video already open in the viewer."""
    from ecoseg.napari._check import note_missing_video

    meta = [kw.get("metadata", {}).get(META_KEY, {}) for _, kw, _ in layers]
    masks = next((m for m in meta if m.get("kind") == "masks"), None)
    if masks is not None and not any(m.get("kind") == "video" for m in meta):
        note_missing_video(masks)


def _check_found_video(layers: list[tuple]) -> None:
    from ecoseg.napari._check import check_video_later
    from ecoseg.provenance import VideoSource

    meta = [(kw.get("name"), kw.get("metadata", {}).get(META_KEY, {})) for _, kw, _ in layers]
    video = next(((name, m["video"]) for name, m in meta if m.get("kind") == "video"), None)
    masks = next((m for _, m in meta if m.get("kind") == "masks"), None)
    if video is None or masks is None:
        return
    recorded = (masks.get("provenance") or {}).get("video")
    if isinstance(recorded, dict):
        name, path = video
        made = VideoSource.from_dict(recorded)
        check_video_later(str(path), str(masks["store"]), made, layer=name)
