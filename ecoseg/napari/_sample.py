"""napari sample data: the bundled reef clip with its ground truth."""

from __future__ import annotations

from ecoseg.napari._layers import store_layers, video_layer

__all__ = ["reef_sample", "reef_video"]


def reef_sample() -> list[tuple]:
    """The bundled clip with its ground-truth masks and trajectories (mm scale).

    Examples
    --------
    >>> [kind for _, _, kind in reef_sample()]
    ['image', 'labels', 'tracks']
    """
    from ecoseg.sample import sample

    paths = sample()
    layers = store_layers(paths.truth, with_video=False)
    cal = layers[0][1]["metadata"]["ecoseg"]["calibration"]
    data, kwargs, kind = video_layer(paths.video, calibration=cal)
    kwargs["name"] = "reef sample"
    layers[0][1]["name"] = "truth masks"
    if len(layers) > 1:
        layers[1][1]["name"] = "truth tracks"
    return [(data, kwargs, kind), *layers]


def reef_video() -> list[tuple]:
    """The bundled clip alone, to segment and track it yourself.

    Examples
    --------
    >>> reef_video()[0][1]["name"]
    'reef sample'
    """
    from ecoseg.sample import sample
    from ecoseg.store import MaskStore

    paths = sample()
    cal = MaskStore.open(paths.truth).calibration  # the clip's known scale (mm per pixel)
    data, kwargs, kind = video_layer(paths.video, calibration=cal)
    kwargs["name"] = "reef sample"
    return [(data, kwargs, kind)]
