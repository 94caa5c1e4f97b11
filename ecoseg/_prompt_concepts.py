"""Concept prompts (SAM 3): what to find on every frame by name, by example boxes, or both.

A prompt file's ``"concepts"`` list holds names (``"parrotfish"``) or objects with a
``"text"`` and ``"exemplars"``, boxes in video pixels around an instance (``"label"`` 1, the
default) or around something that is not one (0)::

    {"concepts": ["sea urchin",
                  {"text": "parrotfish",
                   "exemplars": [{"frame": 0, "box": [100, 60, 160, 110], "label": 1}]}]}

:func:`parse_concepts` reads the list into :class:`Concept` records (with their
:class:`Exemplar` boxes), :func:`validate_concepts` checks them against a video, and
:func:`combine_concepts` adds the names given beside a prompt file (``--concepts``).
:mod:`ecoseg.prompts` offers every name here; import them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecoseg._prompt_values import (
    blank_text,
    check_box,
    check_concept_names,
    check_concept_text,
    check_frame,
    exemplar_label,
    fit_box,
)
from ecoseg.errors import PromptError
from ecoseg.provenance import one_spelling

__all__ = ["Concept", "Exemplar", "combine_concepts", "parse_concepts", "validate_concepts"]


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
        box = check_box(self.box, f"exemplar on frame {self.frame}")
        label = exemplar_label(self.label, f"exemplar on frame {self.frame}")
        object.__setattr__(self, "frame", int(self.frame))
        object.__setattr__(self, "box", tuple(float(v) for v in box))
        object.__setattr__(self, "label", label)

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
        check_concept_text(self.text)  # before its spaces are folded: a line break among them
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
            raise PromptError(
                f"{where} has unknown key(s) {sorted(extra)} (a concept takes 'text' and "
                "'exemplars')"
            )
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
                    raise PromptError(
                        f"exemplar has unknown key(s) {sorted(bad)} (an exemplar takes "
                        "'frame', 'box' and 'label')"
                    )
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
