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
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._checks import check_path_arg
from ecoseg._paths import read_file_text
from ecoseg._prompt_values import (
    blank_text,
    check_concept_names,
    check_frame,
    check_object_classes,
    check_points,
    click_labels,
    fit_box,
    float_array,
    is_number,
    shown,
)
from ecoseg.errors import PromptError
from ecoseg.provenance import class_key, one_spelling

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
        points = float_array(self.points, where, "points").reshape(-1, 2)
        labels = click_labels(self.labels, where)
        if len(labels) != len(points):
            raise PromptError(f"{where}: {len(points)} points but {len(labels)} labels")
        box = self.box
        if box is not None:
            box = float_array(box, where, "box").reshape(-1)
            if box.shape != (4,):
                raise PromptError(f"{where}: box must be [x0, y0, x1, y1], got {box.tolist()}")
            if not (box[0] < box[2] and box[1] < box[3]):
                raise PromptError(
                    f"{where}: box {box.tolist()} is empty or inverted (need x0 < x1, y0 < y1)"
                )
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
        names = [c.name for c in self.concepts]
        return f"<Prompts: objects {self.classes()} on frames {self.frames()}, concepts {names}>"

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
            raise PromptError(
                f"{source}: expected an object with an 'objects' list (or a 'concepts' list)"
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
                raise PromptError(f"{source}: objects[{k}] has unknown key(s) {sorted(extra)}")
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
                    raise PromptError(
                        f"{source}: object {oid}: unknown prompt key(s) {sorted(extra)}"
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
    try:
        text = read_file_text(path, "prompt file", kind="JSON", error=PromptError)
    except UnicodeDecodeError:
        raise PromptError(f"{path}: not a text (JSON) file") from None
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


# ---------------------------------------------------------------------------------------
# concepts (SAM 3): what to find by name and by example
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exemplar:
    """A box around one instance (``label`` 1) or around something that is not one (0) on
    ``frame``, in video pixels ``(x0, y0, x1, y1)``."""

    frame: int
    box: tuple[float, float, float, float]
    label: int = 1

    def __post_init__(self):
        if isinstance(self.frame, bool) or not isinstance(self.frame, int | np.integer):
            raise PromptError(f"exemplar frame must be an integer, got {self.frame!r}")
        if int(self.frame) < 0:
            raise PromptError(f"exemplar frame must be >= 0, got {self.frame}")
        box = float_array(self.box, f"exemplar on frame {self.frame}", "box").reshape(-1)
        if box.shape != (4,) or box[2] <= box[0] or box[3] <= box[1]:
            raise PromptError(
                f"exemplar on frame {self.frame}: box must be [x0, y0, x1, y1] with x1 > x0 "
                f"and y1 > y0, got {np.asarray(self.box).tolist()}"
            )
        if not is_number(self.label, "iu") or self.label not in (0, 1):
            raise PromptError(
                f"exemplar on frame {self.frame}: label must be the integer 1 (positive) or 0 "
                f"(negative), got {shown(self.label)}"
            )
        object.__setattr__(self, "frame", int(self.frame))
        object.__setattr__(self, "box", tuple(float(v) for v in box))
        object.__setattr__(self, "label", int(self.label))

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame, "box": list(self.box), "label": self.label}


@dataclass(frozen=True)
class Concept:
    """What SAM 3 should find on every frame: a noun phrase, exemplar boxes, or both.

    Examples
    --------
    >>> c = Concept("parrotfish", (Exemplar(0, (10, 10, 40, 30)),))
    >>> c.name, c.exemplar_frames, c.to_dict()["exemplars"][0]["box"]
    ('parrotfish', [0], [10.0, 10.0, 40.0, 30.0])
    >>> Concept(" ").name
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: a concept needs a name such as "parrotfish", exemplar boxes or \
both; its text is blank (only spaces)
    """

    text: str | None = None
    exemplars: tuple[Exemplar, ...] = ()

    def __post_init__(self):
        # the class names' one spelling: "sea  urchin" is "sea urchin", a decomposed "é" the
        # composed one, as the review and classify tools write them
        text = one_spelling(self.text) if isinstance(self.text, str) else self.text
        if text is not None and not isinstance(text, str):
            raise PromptError(f"concept text must be a string, got {self.text!r}")
        exemplars = tuple(self.exemplars)
        if not text and not exemplars:
            raise PromptError(
                'a concept needs a name such as "parrotfish", exemplar boxes or both; its text '
                f"is {blank_text(self.text) or 'missing'}"
            )
        if not text and not any(e.label == 1 for e in exemplars):
            frames = ", ".join(str(f) for f in sorted({e.frame for e in exemplars}))
            raise PromptError(
                f"a concept without text needs a positive exemplar (label 1): its exemplars "
                f"(frame {frames}) are all negative ('not this', label 0), so it has nothing "
                "to find; add a text or a box around one instance"
            )
        object.__setattr__(self, "text", text or None)
        object.__setattr__(self, "exemplars", exemplars)

    @property
    def name(self) -> str:
        """The class its tracks get: the text, or ``"visual"`` for exemplars alone."""
        return self.text if self.text else "visual"

    @property
    def exemplar_frames(self) -> list[int]:
        return sorted({e.frame for e in self.exemplars})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.text:
            out["text"] = self.text
        if self.exemplars:
            out["exemplars"] = [e.to_dict() for e in self.exemplars]
        return out


def parse_concepts(items, source: str = "prompts") -> tuple[Concept, ...]:
    """The ``"concepts"`` list of a prompt file (a plain name is a text concept).

    Examples
    --------
    >>> [c.name for c in parse_concepts(["sea urchin", {"text": "parrotfish"}])]
    ['sea urchin', 'parrotfish']
    >>> parse_concepts(["wrasse", "  "], "--concepts")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: --concepts: concepts[1] is blank (only spaces); give a name such \
as "parrotfish"
    """
    if not isinstance(items, list):
        raise PromptError(f"{source}: 'concepts' must be a list")
    out = []
    for k, item in enumerate(items):
        where = f"{source}: concepts[{k}]"
        named = isinstance(item, str)
        if named:
            item = {"text": item}
        if not isinstance(item, Mapping):
            raise PromptError(f"{where} must be a name or an object")
        extra = set(item) - {"text", "exemplars"}
        if extra:
            raise PromptError(f"{where} has unknown key(s) {sorted(extra)}")
        raw = item.get("exemplars", [])
        if not isinstance(raw, list):
            raise PromptError(f"{where}: 'exemplars' must be a list")
        blank = blank_text(item.get("text"))
        if blank and not raw:  # say what the text is: an echoed ' ' is hard to read
            boxes = "" if named else " (or exemplar boxes)"
            raise PromptError(f'{where} is {blank}; give a name such as "parrotfish"{boxes}')
        try:
            exemplars = []
            for e in raw:
                if not isinstance(e, Mapping) or "frame" not in e or "box" not in e:
                    raise PromptError('each exemplar needs "frame" and "box"')
                bad = set(e) - {"frame", "box", "label"}
                if bad:
                    raise PromptError(f"exemplar has unknown key(s) {sorted(bad)}")
                exemplars.append(Exemplar(e["frame"], e["box"], e.get("label", 1)))
            out.append(Concept(item.get("text"), tuple(exemplars)))
        except PromptError as exc:
            raise PromptError(f"{where}: {exc}") from None
    try:
        check_concept_names(out)
    except PromptError as exc:
        raise PromptError(f"{source}: {exc}") from None
    return tuple(out)


def validate_concepts(
    concepts, width: int, height: int, n_frames: int | None = None, *, source: str | None = None
) -> tuple[Concept, ...]:
    """Check exemplar frames and boxes against a video (one-line errors naming the file and
    concept); exemplar boxes that reach past the edge are cut to the frame, with a warning.

    Returns
    -------
    tuple of Concept
        The concepts, those with a box cut to the frame replaced by a copy.

    Examples
    --------
    >>> validate_concepts([Concept("wrasse", (Exemplar(0, (90, 0, 99, 9)),))], 64, 48)
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: concept 'wrasse', exemplar on frame 0: box [90.0, 0.0, 99.0, \
9.0] is outside the 64x48 frame
    """
    named = f"{source}: " if source else ""
    out = []
    for c in concepts:
        exemplars = []
        for e in c.exemplars:
            where = f"{named}concept {c.name!r}, exemplar on frame {e.frame}"
            check_frame(e.frame, n_frames, where)
            box = fit_box(e.box, width, height, where)
            exemplars.append(e if box is None else Exemplar(e.frame, tuple(box), e.label))
        if all(a is b for a, b in zip(exemplars, c.exemplars)):
            out.append(c)
        else:
            out.append(Concept(c.text, tuple(exemplars)))
    return tuple(out)


def combine_concepts(
    given, names, source: str | None = None, *, name: str = "concepts"
) -> tuple[Concept, ...]:
    """A prompt file's concepts followed by the ``concepts`` names it lacks.

    A name in both is one concept (the file's, with its exemplars); a name that differs from
    one of the file's only in case or spacing is refused, since its tracks would be counted
    as another species.

    Parameters
    ----------
    given : sequence of Concept
        The prompt file's concepts.
    names : sequence of str
        The ``concepts`` names.
    source : str, optional
        The prompt file, named in the message.
    name : str
        What the messages call ``names``: the argument (``concepts``, as :func:`ecoseg.segment`
        takes it), or ``--concepts`` when the command line checks its option.

    Raises
    ------
    PromptError
        An empty or repeated name, one spelled like the file's but not alike, or ``names`` a
        string (a list of its letters).

    Examples
    --------
    >>> [c.name for c in combine_concepts([Concept("wrasse")], ["wrasse", "sea urchin"])]
    ['wrasse', 'sea urchin']
    >>> combine_concepts([Concept("wrasse")], ["Wrasse"], "p.json", name="--concepts")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: --concepts and p.json: concept 'Wrasse' and the prompt file's \
concept 'wrasse' differ only in case or spacing: their tracks would be counted as two species; \
spell them the same
    """
    if isinstance(names, str | bytes):  # "fish" was the concepts 'f', 'i', 's' and 'h'
        raise PromptError(f"concepts must be a list of names, got {names!r} (concepts=[{names!r}])")
    given = tuple(given)
    named = {c.name for c in given}
    extra = tuple(c for c in parse_concepts(list(names or []), name) if c.name not in named)
    try:
        check_concept_names(extra, named, "the prompt file's concept")
    except PromptError as exc:
        raise PromptError(f"{name} and {source or 'the prompts'}: {exc}") from None
    return given + extra
