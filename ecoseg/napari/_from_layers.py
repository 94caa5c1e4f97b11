"""Prompts and SAM 3 concepts from the Segment & track widget's layers, free of Qt.

The widget's clicks (Points) and boxes (Shapes) become :class:`~ecoseg.prompts.Prompts`
(:func:`prompts_from_layers`; re-tracking from a corrected frame, :func:`correction_prompts`),
its *find* names and exemplar rectangles :class:`~ecoseg.prompts.Concept` records
(:func:`split_names`, :func:`concepts_from_layers`), which a :class:`~ecoseg.napari._jobs.Job`
runs. Layer data is in ``(t, y, x)`` video pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ecoseg.errors import PromptError

__all__ = [
    "FIND_REMEDY",
    "check_rectangles",
    "concepts_from_layers",
    "correction_prompts",
    "prompts_from_layers",
    "require_concepts",
    "split_names",
]

#: How to give SAM 3 something to find in the widget (its *Find* box's words).
FIND_REMEDY = "type a name in Find or draw an exemplar box"


def _column(features: Any, name: str, n: int, default: Any) -> list[Any]:
    if features is not None and name in getattr(features, "columns", ()):
        return list(features[name])
    return [default] * n


def prompts_from_layers(
    points: np.ndarray | None = None,
    point_features: Any = None,
    boxes: Sequence[np.ndarray] = (),
    box_features: Any = None,
    classes: Mapping[int, str] | None = None,
):
    """Prompts from napari Points (clicks) and Shapes (boxes) data in (t, y, x) pixels.

    Parameters
    ----------
    points : array (K, 3)
        Click positions ``(t, y, x)`` in video pixels (layer data coordinates).
    point_features : DataFrame, optional
        Per click: ``object_id`` (default 1), ``positive`` (default True), ``class``.
    boxes : sequence of array (4, 3)
        Rectangles (corner vertices ``(t, y, x)``).
    box_features : DataFrame, optional
        Per box: ``object_id``, ``class``.
    classes : dict {id: class}, optional
        Class names overriding the layers' ``class`` features.

    Returns
    -------
    Prompts

    Raises
    ------
    PromptError
        No clicks or boxes, or two boxes for one object on one frame.

    Examples
    --------
    >>> import pandas as pd
    >>> p = prompts_from_layers(np.array([[0, 20, 30], [0, 5, 5]]),
    ...                         pd.DataFrame({"object_id": [1, 1], "positive": [True, False]}))
    >>> p.objects[0].prompts[0].to_dict()
    {'frame': 0, 'points': [[30.0, 20.0], [5.0, 5.0]], 'labels': [1, 0]}
    """
    from ecoseg.prompts import FramePrompt, ObjectPrompts, Prompts

    per: dict[tuple[int, int], dict[str, Any]] = {}
    names: dict[int, str] = {}
    pts = np.zeros((0, 3)) if points is None else np.asarray(points, dtype=np.float64)
    if pts.size and (pts.ndim != 2 or pts.shape[1] != 3):
        raise PromptError(f"clicks must be (t, y, x) points on the video, got shape {pts.shape}")
    pts = pts.reshape(-1, 3)
    ids = _column(point_features, "object_id", len(pts), 1)
    pos = _column(point_features, "positive", len(pts), True)
    cls = _column(point_features, "class", len(pts), "")
    for (t, y, x), oid, good, c in zip(pts, ids, pos, cls):
        entry = per.setdefault((int(oid), int(round(t))), {"points": [], "labels": []})
        entry["points"].append([float(x), float(y)])
        entry["labels"].append(1 if bool(good) else 0)
        if c and str(c) != "nan":
            names.setdefault(int(oid), str(c))
    box_ids = _column(box_features, "object_id", len(boxes), 1)
    box_cls = _column(box_features, "class", len(boxes), "")
    for verts, oid, c in zip(boxes, box_ids, box_cls):
        v = np.asarray(verts, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != 3:
            raise PromptError(f"boxes must be drawn on the video's (t, y, x) axes, got {v.shape}")
        t = int(round(v[0, 0]))
        entry = per.setdefault((int(oid), t), {"points": [], "labels": []})
        if "box" in entry:
            raise PromptError(f"object {int(oid)}, frame {t}: more than one box")
        entry["box"] = [v[:, 2].min(), v[:, 1].min(), v[:, 2].max(), v[:, 1].max()]
        if c and str(c) != "nan":
            names.setdefault(int(oid), str(c))
    if not per:
        raise PromptError("no prompts: click on an object (Points layer) or draw a box first")
    names.update({int(k): str(v) for k, v in (classes or {}).items()})
    objects = []
    for oid in sorted({k[0] for k in per}):
        frames = [
            FramePrompt(frame=t, box=e.get("box"), points=e["points"], labels=e["labels"])
            for (o, t), e in sorted(per.items())
            if o == oid
        ]
        objects.append(ObjectPrompts(id=oid, class_=names.get(oid) or "unknown", prompts=frames))
    return Prompts(tuple(objects))


def correction_prompts(labels: np.ndarray, frame: int, prompts=None, classes=None):
    """Prompts to re-track from ``frame``: each object's mask on it, plus clicks from it on.

    The masks of ``labels`` (the corrected frame) become mask prompts; clicks and boxes of
    ``prompts`` on ``frame`` refine them, later ones are kept, earlier ones dropped.

    Parameters
    ----------
    labels : array (H, W)
        The label image of ``frame``.
    frame : int
    prompts : Prompts, optional
    classes : dict {id: class}, optional

    Returns
    -------
    Prompts

    Raises
    ------
    PromptError
        Nothing to track from ``frame``.

    Examples
    --------
    >>> lab = np.zeros((8, 8), np.uint32); lab[2:5, 2:5] = 4
    >>> p = correction_prompts(lab, 3, classes={4: "urchin"})
    >>> p.objects[0].id, p.objects[0].class_, p.objects[0].prompts[0].frame
    (4, 'urchin', 3)
    """
    from ecoseg.prompts import FramePrompt, ObjectPrompts, Prompts
    from ecoseg.store import present_ids

    classes = dict(classes or {})
    later: dict[int, list] = {}
    if prompts is not None:
        for o in prompts.objects:
            classes.setdefault(o.id, o.class_)
            later[o.id] = [p for p in o.prompts if p.frame >= frame]
    present = [int(i) for i in present_ids(labels)]
    objects = []
    for oid in sorted(set(present) | {k for k, v in later.items() if v}):
        frames = {p.frame: p for p in later.get(oid, [])}
        if oid in present:
            here = frames.get(frame)
            frames[frame] = FramePrompt(
                frame=frame,
                points=here.points if here is not None else np.zeros((0, 2)),
                labels=here.labels if here is not None else np.zeros(0, np.int64),
                box=here.box if here is not None else None,
                mask=np.asarray(labels) == oid,
            )
        objects.append(
            ObjectPrompts(
                id=oid, class_=classes.get(oid) or "unknown", prompts=tuple(frames.values())
            )
        )
    if not objects:
        raise PromptError(f"frame {frame}: no masks or prompts to track from")
    return Prompts(tuple(objects))


def check_rectangles(kinds: Sequence[str], layer: str) -> None:
    """Refuse shapes other than rectangles in a prompt layer: a box prompt is a rectangle,
    and an ellipse or polygon drawn round an animal would otherwise be left out unsaid.

    Raises
    ------
    PromptError
        One line naming the layer and the shapes to redraw.

    Examples
    --------
    >>> check_rectangles(["rectangle"], "ecoseg boxes")
    >>> check_rectangles(["rectangle", "ellipse"], "ecoseg boxes")
    Traceback (most recent call last):
    ecoseg.errors.PromptError: 'ecoseg boxes': shape 2 is an ellipse; prompts are rectangles: ...
    """
    other = [(i, k) for i, k in enumerate(kinds, 1) if k != "rectangle"]
    if other:
        which = ", ".join(f"{i} is {'an' if k[0] in 'aeiou' else 'a'} {k}" for i, k in other)
        them = "it" if len(other) == 1 else "them"
        raise PromptError(
            f"'{layer}': shape {which}; prompts are rectangles: redraw {them} with the "
            f"rectangle tool (or delete {them})"
        )


def split_names(text: str) -> list[str]:
    """Concept names typed in one box: separated by commas, semicolons or new lines.

    Examples
    --------
    >>> split_names(" parrotfish, sea urchin;parrotfish ")
    ['parrotfish', 'sea urchin']
    """
    import re

    out: list[str] = []
    for name in re.split(r"[,;\n]", text or ""):
        name = " ".join(name.split())
        if name and name not in out:
            out.append(name)
    return out


def require_concepts(model: str, concepts: Sequence, remedy: str = FIND_REMEDY) -> None:
    """Refuse a SAM 3 run with nothing to find, in the engine's words (``model M needs
    concepts``, :meth:`~ecoseg.engine.checks.ConceptRequest.require_concepts`) and the
    widget's remedy.

    Examples
    --------
    >>> require_concepts("sam3", [])
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: model sam3 needs concepts: type a name in Find or draw an \
exemplar box
    """
    from ecoseg.engine.checks import ConceptRequest

    ConceptRequest(model, None, tuple(concepts), ()).require_concepts(remedy)


def concepts_from_layers(
    names: Sequence[str] = (),
    boxes: Sequence[np.ndarray] = (),
    box_features: Any = None,
    model: str = "sam3",
):
    """SAM 3 concepts from typed names and exemplar rectangles in (t, y, x) pixels.

    Parameters
    ----------
    names : sequence of str
        Concepts to find by name.
    boxes : sequence of array (4, 3)
        Exemplar rectangles (corner vertices ``(t, y, x)``), on any frame.
    box_features : DataFrame, optional
        Per box: ``concept`` (a name; empty: an exemplar-only concept, class ``"visual"``;
        default the first name) and ``positive`` (default True; False: "not this").
    model : str, optional
        The SAM 3 model, as nothing to find is refused (:func:`require_concepts`).

    Returns
    -------
    tuple of Concept
        The named concepts in order (with their exemplars), then a ``"visual"`` concept if
        unnamed exemplars were drawn; a name that only exemplars carry is added after the
        typed ones.

    Raises
    ------
    ConfigError
        Nothing to find.
    PromptError
        A box not drawn on the video's axes, names alike but spelled
        otherwise ("Parrotfish", "parrotfish"), or "not this" boxes alone without a name.

    Examples
    --------
    >>> import pandas as pd
    >>> box = np.array([[3, 10, 20], [3, 10, 60], [3, 40, 60], [3, 40, 20]])
    >>> c = concepts_from_layers(["parrotfish"], [box],
    ...                          pd.DataFrame({"concept": ["parrotfish"], "positive": [False]}))
    >>> c[0].to_dict()
    {'text': 'parrotfish', 'exemplars': [{'frame': 3, 'box': [20.0, 10.0, 60.0, 40.0], 'label': 0}]}
    """
    from ecoseg.prompts import Concept, Exemplar, check_concept_names

    order = list(dict.fromkeys(str(n).strip() for n in names if str(n).strip()))
    default = order[0] if order else ""
    per: dict[str, list] = {n: [] for n in order}
    concept = _column(box_features, "concept", len(boxes), default)
    positive = _column(box_features, "positive", len(boxes), True)
    for verts, name, good in zip(boxes, concept, positive):
        v = np.asarray(verts, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != 3:
            raise PromptError(
                f"exemplar boxes must be drawn on the video's (t, y, x) axes, got {v.shape}"
            )
        name = "" if name is None or str(name) == "nan" else str(name).strip()
        box = (v[:, 2].min(), v[:, 1].min(), v[:, 2].max(), v[:, 1].max())
        good = True if good is None or str(good) == "nan" else bool(good)
        per.setdefault(name, []).append(Exemplar(int(round(v[0, 0])), box, 1 if good else 0))
    unnamed = per.pop("", [])
    out = [Concept(n, tuple(e)) for n, e in per.items()]
    if unnamed:
        out.append(Concept(None, tuple(unnamed)))
    require_concepts(model, out)
    check_concept_names(out)  # "Parrotfish, parrotfish": one species, typed once
    return tuple(out)
