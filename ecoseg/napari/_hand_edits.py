"""Hand corrections painted into a Labels layer, so a run never discards them unasked.

napari's paint, fill, erase and polygon tools (and ``Labels.data_setitem``) announce each
stroke with the layer's ``paint`` event; :func:`watch` records the frames each one changed in
the layer's ``metadata["ecoseg"]["hand_edits"]`` (no copy or hash of the masks: a stroke costs
a few integers). The record says what a person made since the masks were last written by a
run or saved: the *Segment & track* widget forgets the frames a run re-tracks, and the ecoseg
writer (``File > Save Selected Layers...``) forgets them all once they are in a store.

*Track* clears the ``ecoseg masks`` layer (or replaces it: another video, another size), and
*Re-track from this frame* re-tracks the frames after the current one: with hand corrections
there that are not saved, the first press is refused in the status line, naming the layer and
the frames and what keeps them (:func:`refusal`); pressing the same button again, with nothing
painted since, discards them (:class:`HandEdits`). Writing into the layer's array directly
(``layer.data[3] = ...`` in the console) is no stroke and is not recorded; napari's undo of a
stroke leaves its frames recorded (the refusal may then ask once too often, never too seldom).
The record is cleared in one place (:func:`forget` for a run, :func:`saved` for the writer).

napari's undo (Ctrl+Z) replays a stroke's old pixels into the layer: over masks a run or a
review edit has replaced since, it would write back what they replaced (the id of a track a
merge took away, a previous run's masks). So whatever replaces a layer's masks starts its undo
history again (:func:`restart_history`): Ctrl+Z never reaches back past a run or a review edit.

Two things keep strokes rather than ask (:func:`strokes`: the pixels a person changed). A
run that reaches a frame painted while it ran (after it cleared the frame) writes its masks
under the strokes (:func:`run_frame`), and the undo history starts again there: Ctrl+Z would
replay the stroke's old pixels, the 0 the run cleared the frame to, over the run's masks.
The *Review tracks* widget writes each edit to the store and reloads the layer from it: the
strokes are painted back over the reloaded frames, a merge, split or delete applied to the ids
painted as to the store's (an undo leaves them as painted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ecoseg.errors import EcosegError
from ecoseg.napari._layers import META_KEY

__all__ = [
    "KEY",
    "HandEdits",
    "forget",
    "painted_frames",
    "record_copy",
    "refusal",
    "restart_history",
    "run_frame",
    "saved",
    "strokes",
    "unsaved",
    "watch",
]

#: The record's key in a layer's ``metadata["ecoseg"]``: ``{"frames": [...], "strokes": n}``.
KEY = "hand_edits"


def painted_frames(item: Iterable[Any]) -> list[int]:
    """The frames (first axis) one stroke changed: napari's undo-history item of a Labels layer
    (the ``paint`` event's value), whose atoms are a mask edit (a ``slice_key`` box) or a
    ``data_setitem`` triple (an index tuple first).

    Examples
    --------
    >>> painted_frames([((np.array([4, 4, 6]), np.array([0, 1, 2])), np.zeros(3), 7)])
    [4, 6]
    """
    frames: set[int] = set()
    for atom in item:
        box = getattr(atom, "slice_key", None)
        if box is not None:
            first = box[0]
            if isinstance(first, slice):
                frames.update(range(int(first.start or 0), int(first.stop)))
            else:
                frames.add(int(first))
            continue
        index = atom[0]
        first = index[0] if isinstance(index, tuple) else index
        frames.update(int(f) for f in np.unique(np.asarray(first)).ravel())
    return sorted(frames)


def _painted(event) -> None:
    layer = event.source
    meta = layer.metadata.setdefault(META_KEY, {})
    record = dict(meta.get(KEY) or {})
    record["frames"] = sorted(set(record.get("frames") or ()) | set(painted_frames(event.value)))
    record["strokes"] = int(record.get("strokes") or 0) + 1
    meta[KEY] = record


def watch(layer) -> None:
    """Record the hand edits of a Labels layer from now on (again on the same layer: once)."""
    layer.events.paint.connect(_painted)


def unsaved(layer, start: int = 0, stop: int | None = None) -> list[int]:
    """The frames in ``start .. stop - 1`` holding hand edits not yet written by a run or saved.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> layer = SimpleNamespace(metadata={"ecoseg": {KEY: {"frames": [2, 7], "strokes": 3}}})
    >>> unsaved(layer), unsaved(layer, 4), unsaved(layer, 0, 7)
    ([2, 7], [7], [2])
    """
    if layer is None:
        return []
    frames = _record(layer).get("frames") or []
    return [int(f) for f in frames if f >= start and (stop is None or f < stop)]


def _record(layer) -> dict:
    """The layer's record of hand edits not saved (:data:`KEY`; empty: none)."""
    return (layer.metadata.get(META_KEY) or {}).get(KEY) or {}


def record_copy(layer) -> dict:
    """The layer's metadata of hand edits alone, copied (its frames a new list): what a
    stand-in for the layer carries into a worker thread while the layer may be painted.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> layer = SimpleNamespace(metadata={"ecoseg": {KEY: {"frames": [2]}, "fps": 10.0}})
    >>> copy = record_copy(layer)
    >>> copy, copy["ecoseg"][KEY]["frames"] is layer.metadata["ecoseg"][KEY]["frames"]
    ({'ecoseg': {'hand_edits': {'frames': [2]}}}, False)
    """
    record = _record(layer)
    return {META_KEY: {KEY: dict(record, frames=list(record.get("frames") or []))}}


def forget(layer, start: int = 0, stop: int | None = None) -> None:
    """Forget the hand edits in ``start .. stop - 1``: a run re-tracks those frames (so the
    layer's undo history starts again too, :func:`restart_history`).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> layer = SimpleNamespace(metadata={"ecoseg": {KEY: {"frames": [2, 7], "strokes": 3}}})
    >>> forget(layer, 3); unsaved(layer)
    [2]
    >>> forget(layer); KEY in layer.metadata["ecoseg"]
    False
    """
    _drop(layer.metadata, start, stop)
    restart_history(layer)


def saved(metadata: Any) -> None:
    """Forget every hand edit of a layer whose masks are now in a store: ``metadata`` is the
    layer's own (what napari passes the writer; anything else is left alone).

    Examples
    --------
    >>> meta = {"ecoseg": {KEY: {"frames": [2, 7], "strokes": 3}, "fps": 10.0}}
    >>> saved(meta); meta
    {'ecoseg': {'fps': 10.0}}
    """
    if isinstance(metadata, dict):
        _drop(metadata)


def _drop(metadata: Any, start: int = 0, stop: int | None = None) -> None:
    """Remove the frames ``start .. stop - 1`` from the record in a layer's ``metadata`` (the
    one place the record is cleared; without frames left it goes)."""
    meta = metadata.get(META_KEY) if isinstance(metadata, dict) else None
    record = meta.get(KEY) if isinstance(meta, dict) else None
    if not record:
        return
    left = [
        f for f in record.get("frames") or () if not (f >= start and (stop is None or f < stop))
    ]
    if left:
        meta[KEY] = dict(record, frames=left)
    else:
        meta.pop(KEY, None)


def restart_history(layer) -> bool:
    """Start a Labels layer's undo (and redo) history again, after its masks were replaced
    by something other than a stroke; returns whether it held anything (a stroke Ctrl+Z
    could have replayed over the new masks). Anything without a history is left alone.

    Examples
    --------
    >>> import napari
    >>> layer = napari.layers.Labels(np.zeros((2, 4, 4), np.uint8))
    >>> layer.paint((1, 1, 1), 5, refresh=False)
    >>> restart_history(layer), restart_history(layer)
    (True, False)
    >>> layer.undo(); int(layer.data[1, 1, 1])  # nothing to undo: the stroke stays
    5
    """
    had = bool(getattr(layer, "_undo_history", None) or getattr(layer, "_redo_history", None))
    reset = getattr(layer, "_reset_history", None)  # napari's own (no public name for it)
    if callable(reset):
        reset()
    return had


def run_frame(layer, index: int, labels: Any) -> bool:
    """Write a run's masks of frame ``index`` into ``layer``, under the strokes painted there
    while the run went (:func:`strokes` against the 0 the run cleared the frame to; they stay
    not saved). Returns whether strokes were kept: the layer's undo history then starts again
    (:func:`restart_history`), as Ctrl+Z would write the stroke's old pixels, that 0, over
    the run's masks under it.

    Examples
    --------
    >>> import napari
    >>> layer = napari.layers.Labels(np.zeros((2, 1, 3), np.uint8))
    >>> watch(layer); layer.brush_size = 1
    >>> layer.paint((1, 0, 0), 7, refresh=False)  # ahead of the run
    >>> run_frame(layer, 1, np.array([[3, 3, 0]])), layer.data[1].tolist()
    (True, [[7, 3, 0]])
    >>> layer.undo(); layer.data[1].tolist()  # nothing to undo: the run's masks stay
    [[7, 3, 0]]
    """
    painted = strokes(layer, index, 0)  # while the run went, before it got here
    if painted is None or not painted[0].any():
        layer.data[index] = labels
        return False
    frame = np.array(labels, dtype=layer.data.dtype)
    frame[painted[0]] = painted[1]
    layer.data[index] = frame
    restart_history(layer)
    return True


def strokes(layer, frame: int, under: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The hand edits not saved on one frame of ``layer``, as the pixels where it differs from
    ``under`` (the masks written there before they were painted: the store's frame, or the 0
    a run cleared it to) and the values painted there; None without any (a lazy layer, which
    cannot be painted, has none). Write them back over what replaces the frame, so a reload
    of a store, or a run reaching the frame, keeps them.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> data = np.array([[[1, 1, 0]], [[2, 9, 0]]], np.uint32)
    >>> layer = SimpleNamespace(data=data, metadata={"ecoseg": {KEY: {"frames": [1]}}})
    >>> strokes(layer, 0, 0) is None
    True
    >>> where, values = strokes(layer, 1, np.array([[2, 2, 0]]))
    >>> where.tolist(), values.tolist()
    ([[False, True, False]], [9])
    """
    if not isinstance(layer.data, np.ndarray) or frame not in unsaved(layer, frame, frame + 1):
        return None
    now = layer.data[frame]
    where = now != np.asarray(under)
    return where, now[where]


def _frames_text(frames: Sequence[int]) -> str:
    """``frame 3``, ``frames 3 and 9``, ``frames 1, 2, 3, 4, 5, 6, 7, 8, ... (12 frames)``."""
    if len(frames) == 1:
        return f"frame {frames[0]}"
    if len(frames) <= 8:
        return f"frames {', '.join(str(f) for f in frames[:-1])} and {frames[-1]}"
    return f"frames {', '.join(str(f) for f in frames[:8])}, ... ({len(frames)} frames)"


def refusal(name: str, frames: Sequence[int], button: str) -> str:
    """The status line refusing a *Track* or *Re-track* that would discard hand edits.

    Examples
    --------
    >>> print(refusal("ecoseg masks", [3, 9], "Track"))
    'ecoseg masks' holds hand corrections on frames 3 and 9 that are not saved, and Track
    would clear them: save the layer (File > Save Selected Layers..., an ecoseg mask store) or
    rename it to keep them, or press Track again to discard them
    >>> refusal("ecoseg masks", [12], "Re-track from this frame").split(": ")[1]
    'save the layer (File > Save Selected Layers..., an ecoseg mask store) to keep them, or ...
    """
    rename = " or rename it" if button == "Track" else ""
    what = "clear them" if button == "Track" else "track them again"
    return (
        f"{name!r} holds hand corrections on {_frames_text(frames)} that are not saved, and "
        f"{button} would {what}: save the layer (File > Save Selected Layers..., an ecoseg mask "
        f"store){rename} to keep them, or press {button} again to discard them"
    )


class HandEdits:
    """The widget's check before a button overwrites a layer's frames (see the module doc)."""

    def __init__(self) -> None:
        self._asked: tuple[Any, ...] | None = None  # (button, layer, strokes) refused last

    def check(self, layer, name: str, button: str, start: int = 0, stop: int | None = None):
        """Raise :class:`~ecoseg.errors.EcosegError` (:func:`refusal`) when ``layer`` holds
        unsaved hand edits in ``start .. stop - 1``, unless this very refusal was the last one
        (the same button, layer and strokes): the second press discards them."""
        frames = unsaved(layer, start, stop)
        if not frames:
            return
        strokes = int(_record(layer).get("strokes") or 0)
        asked = (button, id(layer), strokes, tuple(frames))
        if self._asked == asked:
            self._asked = None
            return
        self._asked = asked
        raise EcosegError(refusal(name, frames, button))
