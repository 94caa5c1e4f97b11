"""The layers a *Segment & track* user draws prompts in: the ``ecoseg clicks`` Points layer
(a click on an animal, green; a negative click on background, red) and the ``ecoseg boxes``
Shapes layer (a rectangle around an animal), each shape carrying its object id and class.

:func:`add_prompt_layers` makes them on a video's grid, :func:`set_defaults` gives new clicks
and boxes the object id and class typed in the widget, :func:`recolor` keeps each click's
colour its sign, :func:`next_id` is the next free object id and :func:`drawn_prompts` reads
the prompts drawn (video pixels; an ellipse or polygon is refused, not left out).
:func:`check_engine_uses` refuses prompts the chosen engine would ignore (clicks and boxes
but for SAM 2, a *find* text or exemplar boxes but for SAM 3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ecoseg.errors import ConfigError
from ecoseg.napari._from_layers import check_rectangles, prompts_from_layers
from ecoseg.napari._jobs import ENGINE_NAMES
from ecoseg.napari._layers import META_KEY, layer_grid

__all__ = [
    "BOXES",
    "CLICKS",
    "NEGATIVE",
    "POSITIVE",
    "add_prompt_layers",
    "check_boxes",
    "check_engine_uses",
    "drawn_prompts",
    "next_id",
    "recolor",
    "set_defaults",
]

CLICKS = "ecoseg clicks"
BOXES = "ecoseg boxes"
#: The face colours of a click on an animal and of a negative click (RGBA).
POSITIVE = np.array([0.2, 1.0, 0.2, 1.0])
NEGATIVE = np.array([1.0, 0.2, 0.2, 1.0])


def _layer(viewer, name: str):
    return viewer.layers[name] if name in viewer.layers else None


def add_prompt_layers(viewer, video) -> tuple[Any, Any]:
    """The clicks Points layer and the boxes Shapes layer, made on ``video``'s grid when
    missing (the clicks layer then recolours its clicks as they are drawn: :func:`recolor`)."""
    scale, units = layer_grid(video)
    boxes = _layer(viewer, BOXES)
    if boxes is None:
        boxes = viewer.add_shapes(
            ndim=3,
            name=BOXES,
            scale=scale,
            units=units,
            edge_color="yellow",
            face_color="transparent",
            edge_width=2,
            features=pd.DataFrame(
                {"object_id": pd.Series(dtype=int), "class": pd.Series(dtype=str)}
            ),
            metadata={META_KEY: {"kind": "prompts"}},
        )
    points = _layer(viewer, CLICKS)
    if points is None:
        points = viewer.add_points(
            ndim=3,
            name=CLICKS,
            scale=scale,
            units=units,
            size=9,
            border_color="white",
            features=pd.DataFrame(
                {
                    "object_id": pd.Series(dtype=int),
                    "class": pd.Series(dtype=str),
                    "positive": pd.Series(dtype=bool),
                }
            ),
            metadata={META_KEY: {"kind": "prompts"}},
        )
        points.events.data.connect(lambda event=None: recolor(_layer(viewer, CLICKS)))
        points.mode = "add"
    return points, boxes


def set_defaults(viewer, object_id: int, cls: str, negative: bool) -> None:
    """New clicks and boxes get this object id and class (``unknown`` when blank); new
    clicks are negative (background) or not, and coloured so."""
    cls = cls.strip() or "unknown"
    points, boxes = _layer(viewer, CLICKS), _layer(viewer, BOXES)
    if points is not None:
        points.feature_defaults = {"object_id": object_id, "class": cls, "positive": not negative}
        points.current_face_color = list(NEGATIVE if negative else POSITIVE)
    if boxes is not None:
        boxes.feature_defaults = {"object_id": object_id, "class": cls}


def recolor(points) -> None:
    """Colour each click by its sign (an edit of the *positive* column shows)."""
    if points is None or not len(points.data) or "positive" not in points.features:
        return
    pos = points.features["positive"].to_numpy(bool)
    colors = np.where(pos[:, None], POSITIVE, NEGATIVE)
    if not np.array_equal(np.asarray(points.face_color), colors):
        points.face_color = colors


def next_id(viewer, used=()) -> int:
    """The next object id free of ``used`` and of the ids of the clicks and boxes drawn.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> next_id(SimpleNamespace(layers=[]), used={1, 4})
    5
    """
    used = set(used)
    for name in (CLICKS, BOXES):
        layer = _layer(viewer, name)
        if layer is not None and "object_id" in layer.features and len(layer.features):
            used.update(int(i) for i in layer.features["object_id"])
    return max(used, default=0) + 1


def check_boxes(viewer) -> None:
    """Refuse an ellipse, polygon or line drawn in the boxes layer (a box is a rectangle)."""
    boxes = _layer(viewer, BOXES)
    check_rectangles(list(boxes.shape_type) if boxes is not None else [], BOXES)


def drawn_prompts(viewer):
    """The prompts drawn in the clicks and boxes layers (video pixels)."""
    points, boxes = _layer(viewer, CLICKS), _layer(viewer, BOXES)
    pts = np.asarray(points.data) if points is not None else None
    feats = points.features if points is not None else None
    shapes = list(boxes.data) if boxes is not None else []
    kinds = list(boxes.shape_type) if boxes is not None else []
    check_boxes(viewer)
    rects = [s for s, k in zip(shapes, kinds) if k == "rectangle"]
    bfeats = None
    if boxes is not None and len(boxes.features):
        keep = [k == "rectangle" for k in kinds]
        bfeats = boxes.features[keep].reset_index(drop=True)
    return prompts_from_layers(pts, feats, rects, bfeats)


def _many(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 'es' if what.endswith('x') else 's'}"


def check_engine_uses(
    engine: str, *, clicks: int = 0, boxes: int = 0, find: str = "", exemplars: int = 0
) -> None:
    """Refuse prompts the chosen ``engine`` would ignore, as the widget refuses *discover
    automatically* and network settings for an engine that has no use for them: ``clicks``
    and ``boxes`` (how many the ``ecoseg clicks`` and ``ecoseg boxes`` layers hold) are SAM 2
    prompts, the *find* text and ``exemplars`` (boxes of the ``ecoseg exemplars`` layer) SAM
    3's. They were left out without a word (a run of the motion tracker over a parrotfish a
    person had clicked on). One line naming each, the engine that uses it and the remedy.

    Examples
    --------
    >>> check_engine_uses("sam2", clicks=3, boxes=1)
    >>> check_engine_uses("classical", clicks=3, boxes=1)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: 3 clicks and 1 box in the "ecoseg clicks" and "ecoseg boxes" \
layers are prompts for the SAM 2 engine, which the motion tracker ignores: choose the SAM 2 \
engine, or delete them
    >>> check_engine_uses("sam2", find="parrotfish", exemplars=2)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: "find" 'parrotfish' and 2 boxes in the "ecoseg exemplars" layer \
are for the SAM 3 engine, which SAM 2 ignores: choose the SAM 3 engine, or clear "find" and \
delete the exemplar boxes
    """
    engine_name = ENGINE_NAMES.get(engine, engine)
    said = []
    if engine != "sam2" and (clicks or boxes):
        held = [_many(clicks, "click")] if clicks else []
        held += [_many(boxes, "box")] if boxes else []
        names = [f'"{CLICKS}"'] if clicks else []
        names += [f'"{BOXES}"'] if boxes else []
        where = f"the {' and '.join(names)} layer{'s' if len(names) > 1 else ''}"
        said.append(
            f"{' and '.join(held)} in {where} "
            f"{'is a prompt' if clicks + boxes == 1 else 'are prompts'} for the SAM 2 engine, "
            f"which {engine_name} ignores: choose the SAM 2 engine, or delete "
            f"{'it' if clicks + boxes == 1 else 'them'}"
        )
    text = " ".join(str(find).split())
    if engine != "sam3" and (text or exemplars):
        held = [f'"find" {text!r}'] if text else []
        held += [f'{_many(exemplars, "box")} in the "ecoseg exemplars" layer'] if exemplars else []
        undo = ['clear "find"'] if text else []
        undo += ["delete the exemplar boxes"] if exemplars else []
        verb = "are" if len(held) > 1 or exemplars > 1 else "is"
        said.append(
            f"{' and '.join(held)} {verb} for the SAM 3 engine, which {engine_name} ignores: "
            f"choose the SAM 3 engine, or {' and '.join(undo)}"
        )
    if said:
        raise ConfigError("; ".join(said))
