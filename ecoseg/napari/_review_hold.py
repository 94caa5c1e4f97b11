"""No stroke is painted into a store's layers while a *Review tracks* edit rewrites the store.

The layers are reloaded from the store after the edit: a stroke painted meanwhile would be
lost, unasked. :class:`PaintingHold` puts their paint, fill, erase and polygon tools in pan &
zoom until the edit is done (a tool chosen meanwhile goes back to pan & zoom, and the status
line says why), then gives each layer the tool it had. napari's own ``editable`` is not used:
it would also drop the layer's undo history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["PAINTING", "PaintingHold"]

#: The Labels layer's tools that paint (held while an edit rewrites the store).
PAINTING = frozenset({"paint", "fill", "erase", "polygon"})


class PaintingHold:
    """The painting tools of the layers of a store being rewritten, held in pan & zoom.

    Parameters
    ----------
    say : callable
        Shows one status line (the widget's); called when a painting tool is chosen while
        the hold lasts.

    Attributes
    ----------
    path : str or None
        The store being rewritten (None: nothing is held).

    Examples
    --------
    >>> import numpy as np, napari
    >>> layer = napari.layers.Labels(np.zeros((2, 4, 4), np.uint32))
    >>> layer.mode = "paint"
    >>> said = []
    >>> hold = PaintingHold(said.append)
    >>> hold.hold("T1.zarr", [layer], "delete: writing T1.zarr…")
    >>> layer.mode = "fill"  # chosen while the edit runs: back to pan & zoom, and said
    >>> str(layer.mode), said
    ('pan_zoom', ['delete: writing T1.zarr… (painting waits until it is done)'])
    >>> hold.release([layer])
    >>> str(layer.mode), hold.path
    ('paint', None)
    """

    def __init__(self, say: Callable[[str], None]):
        self.path: str | None = None
        self._said = ""
        self._say = say
        #: the layers held, and the tool each had
        self._held: list[tuple] = []

    def hold(self, path, layers: Iterable, running: str) -> None:
        """Hold the painting tools of ``layers`` (those of the store at ``path``) while the
        edit runs; ``running``: what the status line says meanwhile."""
        self.path, self._said = str(path), running
        for layer in layers:
            self.add(layer)

    def add(self, layer) -> None:
        """Hold ``layer`` too (the store opened again while its edit runs)."""
        if any(held is layer for held, _ in self._held):
            return
        self._held.append((layer, str(layer.mode)))
        if str(layer.mode) in PAINTING:
            layer.mode = "pan_zoom"
        layer.events.mode.connect(self._no_painting)

    def _no_painting(self, event=None) -> None:
        if self.path is None:
            return
        for layer, _ in self._held:
            if str(layer.mode) in PAINTING:
                layer.mode = "pan_zoom"
                self._say(f"{self._said} (painting waits until it is done)")

    def release(self, layers: Iterable) -> None:
        """Give back the painting tools held: each layer still among ``layers`` (the
        viewer's) and left in pan & zoom gets the tool it had."""
        self.path = None
        held, self._held = self._held, []
        open_now = list(layers)
        for layer, mode in held:
            layer.events.mode.disconnect(self._no_painting)
            shown = any(layer is one for one in open_now)
            if shown and str(layer.mode) == "pan_zoom" and mode != "pan_zoom":
                layer.mode = mode
