"""Records to and from their JSON, key for key: the plumbing of :mod:`ecoseg.provenance`.

A record (a frozen dataclass with ``extra``, ``order`` and ``_JSON_KEYS``) is read from its
JSON with :func:`read_fields` and written back with :func:`write_fields`, so ``from_dict``
followed by ``to_dict`` gives back the same JSON, in the same key order, with the keys it
does not know (or cannot read: :data:`KEEP_RAW`) kept as they were. The ``as_*`` converters
read one value each (a pair, a frame rate, a count, frame numbers, a JSON object);
:func:`nested` reads a record inside another.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from ecoseg.errors import StoreError


def expect_mapping(data: Any, what: str) -> Mapping[str, Any]:
    """``data`` if it is a JSON object; else a :class:`~ecoseg.errors.StoreError` naming
    ``what``."""
    if not isinstance(data, Mapping):
        raise StoreError(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def read_fields(cls, data: Mapping[str, Any], convert: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments of the record class ``cls`` from its JSON ``data``: the known
    keys (``cls._JSON_KEYS``, JSON key to attribute), each read by its ``convert`` function
    if it has one (a value it returns :data:`KEEP_RAW` for goes to ``extra`` as it is), the
    unknown keys in ``extra``, and ``order``, the keys as they came.

    Examples
    --------
    >>> from dataclasses import dataclass, field
    >>> @dataclass(frozen=True)
    ... class Box:
    ...     size: tuple | None = None
    ...     extra: dict = field(default_factory=dict)
    ...     order: tuple = ()
    ...     _JSON_KEYS = {"size": "size"}
    >>> read_fields(Box, {"tool": "x", "size": [2, 3]}, {"size": as_pair})
    {'size': (2, 3), 'extra': {'tool': 'x'}, 'order': ('tool', 'size')}
    >>> box = Box(**read_fields(Box, {"size": "2x3"}, {"size": as_pair}))
    >>> box.size, box.extra, write_fields(box, {"size": list})
    (None, {'size': '2x3'}, {'size': '2x3'})
    """
    keys = cls._JSON_KEYS  # json key -> attribute
    known, extra = {}, {}
    for key, value in data.items():
        attr = keys.get(key)
        if attr is None:
            extra[key] = copy.deepcopy(value)
            continue
        read = convert.get(attr)
        value = read(value) if read is not None else copy.deepcopy(value)
        if value is KEEP_RAW:  # not the expected shape: keep it verbatim
            extra[key] = copy.deepcopy(data[key])
        else:
            known[attr] = value
    return {**known, "extra": extra, "order": tuple(data)}


def write_fields(record, write: Mapping[str, Any], first: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON of ``record``: keys in their original order, then new ones; defaults omitted
    (unless in ``order`` or ``first``, the keys written first); each value written by its
    ``write`` function if it has one; ``extra`` keys as they are (:func:`read_fields`)."""
    defaults = {f.name: f.default for f in fields(record)}
    values: dict[str, Any] = {}
    for key, attr in record._JSON_KEYS.items():
        value = getattr(record, attr)
        if key in record.extra:  # kept verbatim (not the expected shape)
            continue
        if key in record.order or key in first or value != defaults[attr]:
            out = write.get(attr)
            values[key] = out(value) if out is not None and value is not None else value
    out: dict[str, Any] = {}
    for key in first:
        out[key] = values.pop(key)
    for key in record.order:
        if key in values:
            out[key] = values.pop(key)
        elif key in record.extra:
            out[key] = copy.deepcopy(record.extra[key])
    out.update(values)
    for key, value in record.extra.items():
        if key not in out:
            out[key] = copy.deepcopy(value)
    return out


class _KeepRaw:
    """What a converter returns for a value not of the expected shape."""


#: returned by a converter of :func:`read_fields` for a value it cannot read: the value is
#: kept verbatim in the record's ``extra`` and written back as it was
KEEP_RAW = _KeepRaw()


def as_pair(value: Any) -> Any:
    """A pair (a list or tuple of two), as a tuple."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return tuple(value)
    return KEEP_RAW


def as_rate(value: Any) -> Any:
    """A frame rate: a finite positive number (a hand-edited ``"30"`` or ``0`` is kept raw)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < math.inf:
        return value
    return KEEP_RAW


def nested(cls):
    """The converter of a record nested in another: ``cls.from_dict`` of a JSON object."""
    return lambda value: cls.from_dict(value) if isinstance(value, Mapping) else KEEP_RAW


def as_json_object(value: Any) -> Any:
    """A JSON object, copied (a dict of its own)."""
    return copy.deepcopy(dict(value)) if isinstance(value, Mapping) else KEEP_RAW


def as_count(value: Any) -> Any:
    """A non-negative integer (a hand-edited ``"5"``, ``-1`` or ``2.5`` is kept raw)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return KEEP_RAW


def as_count_or_none(value: Any) -> Any:
    """:func:`as_count`, or None."""
    return None if value is None else as_count(value)


def as_frames(value: Any) -> Any:
    """Frame numbers (a list of non-negative integers), as a sorted tuple."""
    if isinstance(value, list) and all(as_count(v) is not KEEP_RAW for v in value):
        return tuple(sorted(set(value)))
    return KEEP_RAW
