"""Prompts: which object to segment, given as clicks, boxes or masks on chosen frames.

A prompt file is JSON in video pixel coordinates (x to the right, y down)::

    {"objects": [
        {"id": 1, "class": "parrotfish",
         "prompts": [{"frame": 0, "points": [[120, 80]], "labels": [1],
                      "box": [100, 60, 160, 110]}]}
    ]}

``labels`` are the integers 1 for a positive click (on the object) and 0 for a negative click
(not on it); without ``labels`` every click is positive. Ids and frames are integers,
coordinates numbers (JSON ``true``/``false``, text, NaN and infinity are refused).
Each frame prompt needs at least one point or a box. Several prompts for one object on later
frames are corrections. Objects may share a class, but not in two letter cases
(``"Parrotfish"``, ``"parrotfish"``: two species in every table). ``load_prompts`` checks the
structure; ``Prompts.validate`` checks the prompts against a video's size and length, before
any model is loaded, and cuts boxes that reach past the frame's edge to the frame.

A ``"concepts"`` list (SAM 3: what to find by name or by exemplar boxes) may stand beside
``"objects"`` or alone; its records (:class:`Concept`, :class:`Exemplar`) and functions
(:func:`parse_concepts`, :func:`validate_concepts`, :func:`combine_concepts`) live in
:mod:`ecoseg._prompt_concepts` and are offered here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._checks import check_path_arg, few_items
from ecoseg._paths import read_file_text
from ecoseg._prompt_concepts import (
    Concept,
    Exemplar,
    combine_concepts,
    parse_concepts,
    validate_concepts,
)
from ecoseg._prompt_values import (
    check_box,
    check_concept_names,
    check_frame,
    check_object_classes,
    check_points,
    click_labels,
    fit_box,
    float_array,
)
from ecoseg.errors import PromptError
from ecoseg.provenance import class_key

#: How two class or concept names are compared (:func:`ecoseg.provenance.class_key`; the name
#: this module offered it under).
name_key = class_key

__all__ = [
    "Concept",
    "Exemplar",
    "FramePrompt",
    "ObjectPrompts",
    "Prompts",
    "check_concept_names",
    "combine_concepts",
    "load_prompts",
    "name_key",
]


@dataclass(frozen=True, eq=False)
class FramePrompt:
    """Prompts for one object on one frame.

    Attributes
    ----------
    frame : int
        Frame index.
    points : ndarray of float64, shape (K, 2)
        Click positions ``(x, y)`` in video pixels (K may be 0).
    labels : ndarray of int64, shape (K,)
        1 for positive, 0 for negative clicks.
    box : ndarray of float64, shape (4,), optional
        ``(x0, y0, x1, y1)`` in video pixels, ``x0 < x1`` and ``y0 < y1``.
    mask : ndarray of bool, shape (H, W), optional
        A mask prompt at video resolution (Python API only, not in JSON files).
    """

    frame: int
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), dtype=np.int64))
    box: np.ndarray | None = None
    mask: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        where = f"frame {self.frame}"
        if isinstance(self.frame, bool) or not isinstance(self.frame, int | np.integer):
            raise PromptError(f"frame index must be an integer, got {self.frame!r}")
        if self.frame < 0:
            raise PromptError(f"frame index must be >= 0, got {self.frame}")
        points = float_array(self.points, where, "points")
        if points.size and (points.ndim != 2 or points.shape[1] != 2):  # read flat, it was
            raise PromptError(f"{where}: points must be [[x, y], ...], got {points.tolist()}")
        points = points.reshape(-1, 2)
        labels = click_labels(self.labels, where)
        if len(labels) != len(points):
            raise PromptError(f"{where}: {len(points)} points but {len(labels)} labels")
        box = self.box
        if box is not None:
            box = check_box(box, where)
        mask = self.mask
        if mask is not None:
            mask = np.asarray(mask).astype(bool)
            if mask.ndim != 2:
                raise PromptError(f"{where}: mask must be 2-d (H, W), got shape {mask.shape}")
            if not mask.any():
                raise PromptError(f"{where}: mask prompt is empty")
        if len(points) == 0 and box is None and mask is None:
            raise PromptError(f"{where}: a prompt needs at least one point, a box or a mask")
        object.__setattr__(self, "frame", int(self.frame))
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "mask", mask)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (masks are not serialised)."""
        out: dict[str, Any] = {"frame": self.frame}
        if len(self.points):
            out["points"] = self.points.tolist()
            out["labels"] = self.labels.tolist()
        if self.box is not None:
            out["box"] = self.box.tolist()
        return out


@dataclass(frozen=True, eq=False)
class ObjectPrompts:
    """All prompts of one object.

    Attributes
    ----------
    id : int
        Positive object id (the value of the object in the label images).
    class_ : str
        Class name (``"class"`` in JSON), e.g. ``"parrotfish"``.
    prompts : tuple of FramePrompt
        Sorted by frame; at most one prompt per frame.
    """

    id: int
    class_: str = "unknown"
    prompts: tuple[FramePrompt, ...] = ()

    def __post_init__(self):
        if isinstance(self.id, bool) or not isinstance(self.id, int | np.integer):
            raise PromptError(f"object id must be an integer, got {self.id!r}")
        if not 0 < int(self.id) < 2**32:
            raise PromptError(f"object id must be in 1..2**32-1, got {self.id}")
        if not isinstance(self.class_, str) or not self.class_.strip():
            raise PromptError(f"object {self.id}: class must be a non-empty string")
        prompts = tuple(sorted(self.prompts, key=lambda p: p.frame))
        if not prompts:
            raise PromptError(f"object {self.id}: has no prompts")
        frames = [p.frame for p in prompts]
        if len(set(frames)) != len(frames):
            dup = next(f for f in frames if frames.count(f) > 1)
            raise PromptError(f"object {self.id}: more than one prompt on frame {dup}")
        object.__setattr__(self, "id", int(self.id))
        object.__setattr__(self, "prompts", prompts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {
            "id": self.id,
            "class": self.class_,
            "prompts": [p.to_dict() for p in self.prompts],
        }


@dataclass(frozen=True, eq=False)
class Prompts:
    """The prompts of all objects of one video.

    Examples
    --------
    >>> p = Prompts.from_dict({"objects": [{"id": 1, "class": "wrasse",
    ...     "prompts": [{"frame": 0, "points": [[10, 12]], "labels": [1]}]}]})
    >>> p.frames()
    [0]
    >>> [(oid, fp.points.tolist()) for oid, fp in p.at(0)]
    [(1, [[10.0, 12.0]])]
    >>> p
    <Prompts: objects {1: 'wrasse'} on frames [0], concepts []>
    """

    objects: tuple[ObjectPrompts, ...] = ()
    concepts: tuple[Concept, ...] = ()

    def __repr__(self) -> str:  # not the arrays of every click: a wall in a notebook
        # nor every object and frame of an imported truth (thousands of each): the first few
        objects, frames = few_items(self.classes()), few_items(self.frames())
        names = few_items([c.name for c in self.concepts])
        return f"<Prompts: objects {objects} on frames {frames}, concepts {names}>"

    def __post_init__(self):
        object.__setattr__(self, "concepts", tuple(self.concepts))
        objects = tuple(self.objects)
        ids = [o.id for o in objects]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise PromptError(f"duplicate object id {dup}")
        check_object_classes(objects)
        if self.concepts:  # a clicked animal's class and a concept name one species alike
            check_concept_names(self.concepts)
            for o in objects:
                check_concept_names(self.concepts, [o.class_], f"object {o.id}'s class")
        object.__setattr__(self, "objects", objects)

    def __len__(self) -> int:
        return len(self.objects)

    @property
    def object_ids(self) -> list[int]:
        """Object ids in file order."""
        return [o.id for o in self.objects]

    def classes(self) -> dict[int, str]:
        """Mapping object id -> class name."""
        return {o.id: o.class_ for o in self.objects}

    def frames(self) -> list[int]:
        """Sorted frame indices that carry at least one prompt."""
        return sorted({p.frame for o in self.objects for p in o.prompts})

    def at(self, frame: int) -> list[tuple[int, FramePrompt]]:
        """``(object_id, FramePrompt)`` pairs on ``frame``, in object order."""
        return [(o.id, p) for o in self.objects for p in o.prompts if p.frame == frame]

    def validate(
        self, width: int, height: int, n_frames: int | None = None, *, source: str | None = None
    ) -> Prompts:
        """Check every prompt against a video of ``width`` x ``height`` and ``n_frames``.

        A box (or exemplar box) that reaches past the edge of the frame is cut to the frame,
        with a :class:`~ecoseg.errors.PromptClippedWarning`; one wholly outside it, a point
        outside it and a frame past the end are refused.

        Parameters
        ----------
        width, height : int
            The frame size in pixels.
        n_frames : int, optional
            The number of frames.
        source : str, optional
            The prompt file, named in errors and warnings.

        Returns
        -------
        Prompts
            These prompts, or a copy with the boxes cut to the frame.

        Raises
        ------
        PromptError
            Naming the file, object (or concept) and frame of the first prompt outside the
            video, and the frame size.

        Examples
        --------
        >>> import warnings
        >>> p = Prompts.single(0, box=[50, 10, 90, 30])
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     p.validate(64, 48).at(0)[0][1].box.tolist()
        [50.0, 10.0, 64.0, 30.0]
        >>> print(caught[0].message)
        object 1, frame 0: box [50.0, 10.0, 90.0, 30.0] reaches past the edge of the 64x48 \
frame; cut to [50.0, 10.0, 64.0, 30.0]
        """
        named = f"{source}: " if source else ""
        objects, cut = [], False
        for o in self.objects:
            frame_prompts = []
            for p in o.prompts:
                where = f"{named}object {o.id}, frame {p.frame}"
                check_frame(p.frame, n_frames, where)
                check_points(p.points, width, height, where)
                click_labels(p.labels, where)  # set in place after the FramePrompt was made
                if p.mask is not None and p.mask.shape != (height, width):
                    raise PromptError(
                        f"{where}: mask shape {p.mask.shape} differs from the frame "
                        f"({height}, {width})"
                    )
                if p.box is not None:
                    box = fit_box(p.box, width, height, where)
                    if box is not None:
                        p = FramePrompt(p.frame, p.points, p.labels, box, p.mask)
                        cut = True
                frame_prompts.append(p)
            objects.append(ObjectPrompts(o.id, o.class_, tuple(frame_prompts)))
        concepts = validate_concepts(self.concepts, width, height, n_frames, source=source)
        if not cut and all(a is b for a, b in zip(concepts, self.concepts)):
            return self
        return Prompts(tuple(objects), concepts)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "prompts") -> Prompts:
        """Build from the JSON structure (see module docstring).

        Examples
        --------
        >>> Prompts.from_dict(
        ...     {"objects": [{"id": 2, "prompts": [{"frame": 4, "box": [0, 0, 8, 8]}]}]}
        ... )
        <Prompts: objects {2: 'unknown'} on frames [4], concepts []>
        """
        if not isinstance(data, Mapping) or not ({"objects", "concepts"} & set(data)):
            # a misspelt key ("concept", "object") is the likely mistake: name it
            others = sorted(map(str, set(data) - {"version"})) if isinstance(data, Mapping) else []
            named = f"; unknown key(s) {others}" if others else ""
            raise PromptError(
                f"{source}: expected an object with an 'objects' list (or a 'concepts' list){named}"
            )
        unknown = set(data) - {"objects", "concepts", "version"}
        if unknown:
            raise PromptError(f"{source}: unknown key(s) {sorted(unknown)}")
        concepts = parse_concepts(data.get("concepts", []), source)
        items = data.get("objects", [])
        if not isinstance(items, list):
            raise PromptError(f"{source}: 'objects' must be a list")
        objects = []
        for k, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise PromptError(f"{source}: objects[{k}] must be an object")
            extra = set(item) - {"id", "class", "prompts"}
            if extra:
                raise PromptError(
                    f"{source}: objects[{k}] has unknown key(s) {sorted(extra)} (an object "
                    "takes 'id', 'class' and 'prompts')"
                )
            if "id" not in item:
                raise PromptError(f"{source}: objects[{k}] has no 'id'")
            oid = item["id"]
            frame_prompts = []
            raw_prompts = item.get("prompts", [])
            if not isinstance(raw_prompts, list):
                raise PromptError(f"{source}: object {oid}: 'prompts' must be a list")
            for fp in raw_prompts:
                if not isinstance(fp, Mapping) or "frame" not in fp:
                    raise PromptError(f"{source}: object {oid}: each prompt needs a 'frame'")
                extra = set(fp) - {"frame", "points", "labels", "box"}
                if extra:
                    known = "a prompt takes 'frame', 'points', 'labels' and 'box'"
                    if "mask" in extra or "masks" in extra:  # masks come from annotation files
                        known += (
                            "; mask prompts come from another tool's masks: "
                            "--prompts-from FILE --format davis|coco|mots, or "
                            "FramePrompt(mask=...) in Python"
                        )
                    raise PromptError(
                        f"{source}: object {oid}: unknown prompt key(s) {sorted(extra)} ({known})"
                    )
                points = fp.get("points", [])
                labels = fp.get("labels", [1] * len(points))  # clicks default to positive
                try:
                    frame_prompts.append(
                        FramePrompt(
                            frame=fp["frame"], points=points, labels=labels, box=fp.get("box")
                        )
                    )
                except PromptError as exc:
                    raise PromptError(f"{source}: object {oid}: {exc}") from None
            try:
                objects.append(
                    ObjectPrompts(
                        id=oid, class_=item.get("class", "unknown"), prompts=tuple(frame_prompts)
                    )
                )
            except PromptError as exc:
                raise PromptError(f"{source}: {exc}") from None
        try:
            return cls(tuple(objects), concepts)
        except PromptError as exc:
            raise PromptError(f"{source}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (the prompt file format).

        Examples
        --------
        >>> Prompts.single(3, points=[[5, 7]], class_="wrasse").to_dict()
        {'objects': [{'id': 1, 'class': 'wrasse',
                      'prompts': [{'frame': 3, 'points': [[5.0, 7.0]], 'labels': [1]}]}]}
        """
        out: dict[str, Any] = {"objects": [o.to_dict() for o in self.objects]}
        if self.concepts:
            out["concepts"] = [c.to_dict() for c in self.concepts]
        return out

    def save(self, path: str | Path) -> None:
        """Write the prompt file as JSON (:func:`load_prompts` reads it).

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "prompts.json")
        >>> Prompts.single(0, box=[10, 10, 40, 30], class_="wrasse").save(path)
        >>> load_prompts(path)
        <Prompts: objects {1: 'wrasse'} on frames [0], concepts []>
        """
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_shapes(
        cls,
        shapes: Iterable[tuple[int, int, Iterable[float] | None, np.ndarray | None]],
        classes: Mapping[int, str] | None = None,
    ) -> Prompts:
        """Prompts from annotated boxes or masks (another tool's annotations).

        Parameters
        ----------
        shapes : iterable of (object_id, frame, box, mask)
            ``box`` is ``(x0, y0, x1, y1)`` in video pixels or None; ``mask`` a boolean
            (H, W) array or None; at least one of them per shape, one shape per object and
            frame.
        classes : mapping {object_id: class}, optional
            Each object's class (e.g. the annotation's species); default ``"unknown"``.

        Returns
        -------
        Prompts
            Objects in id order, each with a box or mask prompt on each of its frames.

        Raises
        ------
        PromptError
            A shape with neither box nor mask, an empty box or mask, or two shapes of one
            object on one frame (naming the object and frame).

        Examples
        --------
        >>> p = Prompts.from_shapes([(7, 3, (10, 20, 30, 40), None)], {7: "wrasse"})
        >>> p.classes(), p.frames(), p.at(3)[0][1].box.tolist()
        ({7: 'wrasse'}, [3], [10.0, 20.0, 30.0, 40.0])
        """
        classes = dict(classes or {})
        per_object: dict[int, list[FramePrompt]] = {}
        for oid, frame, box, mask in shapes:
            try:
                fp = FramePrompt(frame=frame, box=box, mask=mask)
            except PromptError as exc:
                raise PromptError(f"object {oid}: {exc}") from None
            per_object.setdefault(int(oid), []).append(fp)
        return cls(
            tuple(
                ObjectPrompts(id=oid, class_=classes.get(oid, "unknown"), prompts=tuple(fps))
                for oid, fps in sorted(per_object.items())
            )
        )

    @classmethod
    def single(
        cls,
        frame: int = 0,
        *,
        points: Iterable[Iterable[float]] = (),
        labels: Iterable[int] | None = None,
        box: Iterable[float] | None = None,
        id: int = 1,
        class_: str = "unknown",
    ) -> Prompts:
        """Prompts for a single object on one frame (convenience for notebooks and tests).

        Examples
        --------
        >>> Prompts.single(0, points=[[5, 5]]).object_ids
        [1]
        """
        points = [list(p) for p in points]
        labels = [1] * len(points) if labels is None else list(labels)
        fp = FramePrompt(frame=frame, points=points, labels=labels, box=box)
        return cls((ObjectPrompts(id=id, class_=class_, prompts=(fp,)),))


def load_prompts(path: str | Path) -> Prompts:
    """Read and check a prompt file (JSON).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Prompts

    Raises
    ------
    PromptError
        If the file is missing, not valid JSON or not of the prompt schema; the message names
        the file and the offending object/frame.
    TypeError
        ``path`` is not a path (a dict of prompts: :meth:`Prompts.from_dict`).
    """
    hint = " (a dict of prompts: Prompts.from_dict(data))" if isinstance(path, Mapping) else ""
    check_path_arg(path, "load_prompts: path", "a prompt file (JSON)", hint=hint)
    # a folder of prompt files is refused as a folder (--prompts-dir takes one)
    path = Path(path)
    text = read_file_text(path, "prompt file", kind="JSON", error=PromptError)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PromptError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise PromptError(f"{path}: {exc}") from None
    return Prompts.from_dict(data, source=str(path))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a prompt file")
