"""An object's class probability, class source and reviewed flag in CVAT XML, as
``<attribute>`` elements.

CVAT has no field for either, but keeps a shape's ``<attribute name="...">`` where the task's
label declares it, and writes it back in its exports. ecoseg writes both, where the store has
them, on each mask of the object (CVAT has no attributes of a track: an attribute declared
not mutable is repeated on every shape of a track, as CVAT writes it)::

    <mask frame="0" ...>
      <attribute name="score">0.97</attribute>
      <attribute name="object_id">3</attribute>
      <attribute name="class_probability">0.8125</attribute>
      <attribute name="class_source">classified</attribute>
    </mask>

They are declared as text attributes with an empty default, so a mask that CVAT gives the
default (one drawn in CVAT) reads as having none. Read back, an object's masks must agree on
each; a file without them (one CVAT or another tool wrote) gives no class probability and no
class source, as before. The reviewed flag (``<attribute name="reviewed">false</attribute>``)
is written only where the class source does not say it
(:attr:`~ecoseg.formats._annotation_model.Track.reviewed`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Track
from ecoseg.formats._values import class_source, flag, probability

#: the ``<attribute>`` names of an object's class probability, class source, reviewed flag
PROBABILITY, SOURCE, REVIEWED = "class_probability", "class_source", "reviewed"


def declared(tracks) -> tuple[str, ...]:
    """The names of the class attributes some of ``tracks`` has (for the labels to declare).

    Examples
    --------
    >>> declared([Track(1, "cod", 0.5), Track(2, "eel")])
    ('class_probability',)
    """
    return tuple(
        name
        for name, key in (
            (PROBABILITY, "class_probability"),
            (SOURCE, "class_source"),
            (REVIEWED, "reviewed"),
        )
        if any(getattr(t, key) is not None for t in tracks)
    )


def class_attributes(track: Track) -> str:
    """The ``<attribute>`` lines of a track's class probability, class source and reviewed
    flag (what it has of them), indented as a mask's attributes.

    Examples
    --------
    >>> print(class_attributes(Track(3, "cod", 0.8125, "classified")))
    <BLANKLINE>
          <attribute name="class_probability">0.8125</attribute>
          <attribute name="class_source">classified</attribute>
    >>> class_attributes(Track(3, "cod"))
    ''
    """
    out = ""
    if track.class_probability is not None:
        value = float(track.class_probability)
        out += f'\n      <attribute name="{PROBABILITY}">{value!r}</attribute>'
    if track.class_source is not None:
        out += f'\n      <attribute name="{SOURCE}">{escape(track.class_source)}</attribute>'
    if track.reviewed is not None:
        out += f'\n      <attribute name="{REVIEWED}">{str(track.reviewed).lower()}</attribute>'
    return out


class ObjectClasses:
    """Each object's class probability, class source and reviewed flag, read from its shapes'
    attributes
    (:meth:`note`), refusing two values for one object; :meth:`track` makes the
    :class:`Track`.

    Examples
    --------
    >>> shape = ET.fromstring('<mask><attribute name="class_probability">0.5</attribute></mask>')
    >>> other = ET.fromstring('<mask><attribute name="class_probability">0.7</attribute></mask>')
    >>> found = ObjectClasses("a.xml")
    >>> found.note(3, shape, '<track id="0"> <mask frame="0">')
    >>> found.track(3, "cod")
    Track(id=3, class_='cod', class_probability=0.5, class_source=None, reviewed=None)
    >>> found.note(3, other, '<track id="4"> <mask frame="2">')
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.xml: <track id="4"> <mask frame="2">: class_probability 0.7 \
of object 3, but 0.5 at <track id="0"> <mask frame="0">: one class_probability per object
    """

    def __init__(self, path) -> None:
        self.path = path
        self.found: dict[tuple[int, str], tuple[object, str]] = {}

    def note(self, oid: int, shape: ET.Element, where: str) -> None:
        """Note the class attributes of ``shape``, a shape of object ``oid`` (``where``: how
        an error names the shape)."""
        for attr in shape.findall("attribute"):
            name, text = attr.get("name"), (attr.text or "").strip()
            if name not in (PROBABILITY, SOURCE, REVIEWED) or not text:
                continue  # empty: CVAT's default of a mask drawn there
            full = f"{self.path}: {where}"
            if name == PROBABILITY:
                value: object = probability(text, full, PROBABILITY)
            elif name == SOURCE:
                value = class_source(text, full)
            else:
                value = flag(text, full, REVIEWED)
            first = self.found.setdefault((oid, name), (value, where))
            if first[0] != value:
                shown, before = (
                    (f"{value:g}", f"{first[0]:g}")
                    if name == PROBABILITY
                    else (repr(value), repr(first[0]))
                    if name == SOURCE
                    else (str(value).lower(), str(first[0]).lower())
                )
                raise FormatError(
                    f"{full}: {name} {shown} of object {oid}, but {before} at {first[1]}: "
                    f"one {name}{' flag' if name == REVIEWED else ''} per object"
                )

    def track(self, oid: int, label: str) -> Track:
        """The :class:`Track` of object ``oid``, labelled ``label``, with what was noted."""
        p = self.found.get((oid, PROBABILITY), (None,))[0]
        source = self.found.get((oid, SOURCE), (None,))[0]
        reviewed = self.found.get((oid, REVIEWED), (None,))[0]
        return Track(oid, label, p, source, reviewed)  # type: ignore[arg-type]
