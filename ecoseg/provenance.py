"""Typed provenance and object records: what a mask store keeps in its attributes.

A store's attributes hold JSON: the object table (one entry per object) and a provenance
record (how the masks were made). These frozen dataclasses read and write that JSON:
``from_dict`` followed by ``to_dict`` gives back the same JSON, key for key and in the same
order, so a store rewritten through them keeps its bytes. Keys a record does not know (written
by another tool or a newer ecoseg) are kept in ``extra``; fields that hold their default and
were not in the JSON are left out of it.

Records
-------
:class:`Provenance`
    ecoseg version, created, engine, video (:class:`VideoSource`), model (:class:`ModelInfo`),
    parameters, prompts, calibration, camera motion (:class:`CameraMotion`).
:class:`AnnotatedFrames`
    The video frames an imported annotation covers (``start + k * step``, ``count`` of them),
    e.g. a CVAT task of every 5th frame; absent: every frame is annotated.
:class:`CameraMotion`
    How fast the camera moved while the motion tracker ran, against the animals, and whether
    that was too fast for motion segmentation.
:class:`ObjectRecord`
    id, class name, source (``prompt``, ``concept``, ``discovered``, ``truth``, ``tracker``, ...)
    and, for species work, where the class came from (:data:`CLASS_SOURCES`), its probability
    and whether a person reviewed the object.

Class names are kept in one spelling (:func:`clean_class_name`, in :mod:`ecoseg._class_names`
and named here too: Unicode NFC, one space between words, ``unknown`` in any case is
``unknown``), so ``"Ōtaki"`` typed on a Mac (decomposed) and on Linux (composed) is one species
in every table. That is the one place where ``from_dict``
then ``to_dict`` may change a store's JSON: a name stored in another spelling of the same text
is written back in this one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar

from ecoseg._annotated_frames import AnnotatedFrames, describe_frames
from ecoseg._class_names import (
    case_clashes,
    class_key,
    clean_class_name,
    new_spelling,
    one_spelling,
)
from ecoseg._record_json import (
    as_json_object,
    as_pair,
    as_rate,
    expect_mapping,
    nested,
    read_fields,
    write_fields,
)
from ecoseg.errors import ConfigError, StoreError

__all__ = [
    "CLASS_SOURCES",
    "OBJECT_SOURCES",
    "RUN_ENGINES",
    "AnnotatedFrames",
    "CameraMotion",
    "ModelInfo",
    "ObjectRecord",
    "Provenance",
    "VideoSource",
    "annotated_frames",
    "case_clashes",
    "class_key",
    "clean_class_name",
    "created",
    "describe_frames",
    "new_spelling",
    "one_spelling",
    "source_date_epoch",
    "survey_video",
]

#: Where an object's class came from.
CLASS_SOURCES = ("prompt", "concept", "reviewed", "classified", "rule", "unknown")

#: How an object was found (an object table's ``source``): the sources ecoseg writes, and
#: the ones an entry given from Python may name (a store read keeps whatever it holds).
OBJECT_SOURCES = (
    "prompt",
    "concept",
    "discovered",
    "tracker",
    "truth",
    "imported",
    "napari",
    "unknown",
)

#: The engines of ``ecoseg segment`` as its stores record them (provenance ``engine``).
RUN_ENGINES = ("sam2", "classical", "sam3-concepts")


def created() -> str:
    """The ``created`` time stamp of a record made now (a store's provenance, an export):
    UTC, ISO 8601 to the second; the time ``SOURCE_DATE_EPOCH`` names when it is set, so the
    same inputs give the same bytes.

    Examples
    --------
    >>> stamp = created()
    >>> len(stamp), stamp[10], stamp[-6:]
    (25, 'T', '+00:00')
    """
    epoch = source_date_epoch()
    t = epoch if epoch is not None else time.time()
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


#: The last second a time stamp can name (9999-12-31T23:59:59Z).
_LAST_EPOCH = 253402300799


def source_date_epoch() -> int | None:
    """``$SOURCE_DATE_EPOCH`` (reproducible builds' time stamp: whole seconds since
    1970-01-01 UTC), or ``None`` when it is not set.

    ``ecoseg`` checks it before any command: NumPy reads it with ``int()`` when SciPy loads,
    so a value such as ``2024-03-15`` or an empty one was a ``ValueError`` traceback from
    inside NumPy before this one line.

    Raises
    ------
    ConfigError
        Set but empty, or not a whole number of seconds from 0 to 253402300799 (the year
        9999): one line naming the variable and its value.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"SOURCE_DATE_EPOCH": "1710460800"}):
    ...     source_date_epoch()
    1710460800
    >>> with mock.patch.dict(os.environ, {"SOURCE_DATE_EPOCH": "2024-03-15"}):
    ...     source_date_epoch()
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: SOURCE_DATE_EPOCH='2024-03-15': not a whole number of seconds ...
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return None
    text = epoch.strip()
    if text.isascii() and text.isdigit() and int(text) <= _LAST_EPOCH:
        return int(text)
    raise ConfigError(
        f"SOURCE_DATE_EPOCH={epoch!r}: not a whole number of seconds since 1970-01-01 UTC "
        "(the time stamp of reproducible runs, e.g. 1710460800 for 2024-03-15); set it to one "
        "or unset it"
    )


def survey_video(record: Mapping[str, Any], names: list[str] | tuple[str, ...]) -> dict:
    """The provenance ``video`` entry of a photo survey (one store frame per photograph, its
    ``time`` the photograph's index): ``record`` (the folder's path, sha256, size ...) with
    its photographs' file ``images`` in frame order, which mark the store as a survey
    (:attr:`VideoSource.photos`), and no frame rate (photographs have no time axis). Its
    ``sha256`` is the folder's as ``open_video`` hashes it (``sha256_of``), which is how a
    survey's folder is checked.

    ``ecoseg segment --concepts`` on images and ``ecoseg import`` of a folder's photographs
    both make their stores' entry here.

    Examples
    --------
    >>> survey_video({"path": "quadrats", "fps": 30.0, "image_folder": True}, ["a.jpg", "b.jpg"])
    {'path': 'quadrats', 'frames': 2, 'images': ['a.jpg', 'b.jpg']}
    """
    entry = {k: v for k, v in record.items() if k not in ("fps", "image_folder")}
    if "sha256" in entry:
        entry.setdefault("sha256_of", "open_video")
    return {**entry, "frames": len(names), "images": [str(n) for n in names]}


# ---------------------------------------------------------------------------- records
@dataclass(frozen=True)
class VideoSource:
    """The video a store was made from.

    Examples
    --------
    >>> v = VideoSource.from_dict({"path": "reef.mp4", "fps": 30.0, "size": [640, 360]})
    >>> v.frame_size, v.to_dict()
    ((640, 360), {'path': 'reef.mp4', 'fps': 30.0, 'size': [640, 360]})
    """

    path: str | None = None
    sha256: str | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    size: tuple[int, int] | None = None
    frames: int | None = None
    codec: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _JSON_KEYS: ClassVar[dict[str, str]] = {
        k: k for k in ("path", "sha256", "fps", "width", "height", "size", "frames", "codec")
    }

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) in pixels from ``size`` or ``width``/``height``, if recorded."""
        made = self.size if self.size is not None else (self.width, self.height)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in made):
            return (made[0], made[1])
        return None

    @property
    def photos(self) -> tuple[str, ...] | None:
        """The image names of a photo survey (``--concepts`` on images: a frame per
        photograph, its ``images`` recorded), None for a video.

        Examples
        --------
        >>> VideoSource.from_dict({"path": "q", "images": ["a.png", "b.png"]}).photos
        ('a.png', 'b.png')
        >>> VideoSource.from_dict({"path": "reef.mp4"}).photos is None
        True
        """
        names = (self.extra or {}).get("images")
        return tuple(str(n) for n in names) if isinstance(names, list) else None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VideoSource:
        """Read the ``video`` entry of a provenance record."""
        convert = {"size": as_pair, "fps": as_rate}
        return cls(**read_fields(cls, expect_mapping(data, "provenance video"), convert))

    def to_dict(self) -> dict[str, Any]:
        """The JSON entry (``size`` as a list)."""
        return write_fields(self, {"size": list})


@dataclass(frozen=True)
class ModelInfo:
    """The network that made the masks.

    Examples
    --------
    >>> m = ModelInfo.from_dict({"variant": "sam2.1-tiny", "image_size": 1024,
    ...                          "checkpoint": {"path": "w.pt", "sha256": "ab12"}})
    >>> m.variant, m.checkpoint_sha256
    ('sam2.1-tiny', 'ab12')
    """

    variant: str | None = None
    image_size: int | None = None
    pretrained: bool | None = None
    checkpoint: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _JSON_KEYS: ClassVar[dict[str, str]] = {
        k: k for k in ("variant", "image_size", "pretrained", "checkpoint")
    }

    @property
    def checkpoint_path(self) -> str | None:
        """Path of the checkpoint file, if one was given."""
        return (self.checkpoint or {}).get("path")

    @property
    def checkpoint_sha256(self) -> str | None:
        """Hex sha256 of the checkpoint file, if one was given."""
        return (self.checkpoint or {}).get("sha256")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInfo:
        """Read the ``model`` entry of a provenance record."""
        convert = {"checkpoint": as_json_object}
        return cls(**read_fields(cls, expect_mapping(data, "provenance model"), convert))

    def to_dict(self) -> dict[str, Any]:
        """The JSON entry."""
        return write_fields(self, {})


def annotated_frames(
    provenance: Provenance, n_frames: int, where: Any = "store"
) -> range | list[int]:
    """The frames a store of ``n_frames`` frames annotates: its ``annotated_frames`` entry
    (less the frames it lists as ``deleted``: a sorted list then), or every frame when it has
    none (every store written before the entry existed).

    Raises
    ------
    StoreError
        The entry is there but malformed (not integers ``start >= 0``, ``step >= 1``,
        ``count >= 0``); the message names ``where``.

    Examples
    --------
    >>> list(annotated_frames(Provenance(), 3))
    [0, 1, 2]
    >>> p = Provenance.from_dict({"annotated_frames": {"start": 1, "step": 2, "count": 2}})
    >>> list(annotated_frames(p, 10))
    [1, 3]
    """
    entry = provenance.annotated_frames
    if entry is None and "annotated_frames" not in provenance.extra:
        return range(n_frames)
    if entry is None or not entry.valid:
        raw = provenance.get("annotated_frames")
        raise StoreError(
            f"{where}: provenance annotated_frames {raw!r} is malformed (needs integers start "
            ">= 0, step >= 1, count >= 0, deleted a list of frames)"
        )
    return entry.kept(n_frames)


@dataclass(frozen=True)
class CameraMotion:
    """How fast the camera moved while the motion tracker ran (``provenance["camera_motion"]``).

    Attributes
    ----------
    camera_speed : float
        Mean camera motion per frame, in video pixels (pans and shake, as the tracker measured
        it to compensate it).
    animal_speed : float or None
        Mean speed of the tracked animals over the scene, video pixels per frame (None: no
        animal was tracked).
    limit : float
        Camera speed (pixels per frame) above which motion segmentation cannot separate the
        animals from the moving scene (a fraction of the frame width; see
        :mod:`ecoseg.engine.classical.motion`).
    too_fast : bool
        ``camera_speed > limit``: the tracker warned.
    frames : int
        Frames measured.
    frame_width : int
        Width of the video in pixels.

    Examples
    --------
    >>> m = CameraMotion.from_dict({"camera_speed": 21.3, "animal_speed": 2.0, "limit": 6.4,
    ...                             "too_fast": True, "frames": 150, "frame_width": 640})
    >>> m.too_fast, m.to_dict()["camera_speed"]
    (True, 21.3)
    >>> print(m.summary())  # doctest: +NORMALIZE_WHITESPACE
    the camera moved 21.3 px per frame (3.3 % of the frame width), 10.7x as fast as the
    tracked animals (2.0 px per frame) and above the motion tracker's limit of 6.4 px per
    frame: motion segmentation cannot separate the animals from the moving scene; the sam2
    engine is the tool for such footage (ecoseg segment --engine sam2 with --prompts or
    --auto)
    """

    camera_speed: float = 0.0
    animal_speed: float | None = None
    limit: float = 0.0
    too_fast: bool = False
    frames: int = 0
    frame_width: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _JSON_KEYS: ClassVar[dict[str, str]] = {
        k: k for k in ("camera_speed", "animal_speed", "limit", "too_fast", "frames", "frame_width")
    }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CameraMotion:
        """Read the ``camera_motion`` entry of a provenance record."""
        return cls(**read_fields(cls, expect_mapping(data, "camera_motion"), {}))

    def to_dict(self) -> dict[str, Any]:
        """The JSON record (all measured values, also when they are 0)."""
        return write_fields(self, {}, first=tuple(self._JSON_KEYS))

    def summary(self) -> str:
        """One sentence: what was measured and, when too fast, what to use instead."""
        share = 100.0 * self.camera_speed / self.frame_width if self.frame_width else 0.0
        moved = f"the camera moved {self.camera_speed:.1f} px per frame ({share:.1f} % of the "
        moved += "frame width)"
        if self.animal_speed:
            moved += (
                f", {self.camera_speed / self.animal_speed:.1f}x as fast as the tracked animals "
                f"({self.animal_speed:.1f} px per frame)"
            )
        if not self.too_fast:
            return f"{moved}; within the motion tracker's limit of {self.limit:.1f} px per frame"
        return (
            f"{moved} and above the motion tracker's limit of {self.limit:.1f} px per frame: "
            "motion segmentation cannot separate the animals from the moving scene; the sam2 "
            "engine is the tool for such footage (ecoseg segment --engine sam2 with --prompts "
            "or --auto)"
        )


@dataclass(frozen=True)
class Provenance:
    """How a store's masks were made (the ``provenance`` attribute).

    Examples
    --------
    >>> p = Provenance.from_dict({"video": {"path": "reef.mp4", "sha256": "ab"},
    ...                           "engine": "classical", "parameters": {"threshold": 5.0},
    ...                           "seed": 3})
    >>> p.engine, p.video.path, p.extra
    ('classical', 'reef.mp4', {'seed': 3})
    >>> p.to_dict() == {"video": {"path": "reef.mp4", "sha256": "ab"}, "engine": "classical",
    ...                 "parameters": {"threshold": 5.0}, "seed": 3}
    True
    >>> p.updated(engine="sam2").engine
    'sam2'
    """

    ecoseg_version: str | None = None
    created: str | None = None
    engine: str | None = None
    video: VideoSource | None = None
    model: ModelInfo | None = None
    parameters: Mapping[str, Any] | None = None
    prompts: Mapping[str, Any] | None = None
    calibration: Mapping[str, Any] | None = None
    camera_motion: CameraMotion | None = None
    annotated_frames: AnnotatedFrames | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _JSON_KEYS: ClassVar[dict[str, str]] = {
        k: k
        for k in (
            "ecoseg_version",
            "created",
            "engine",
            "video",
            "model",
            "parameters",
            "prompts",
            "calibration",
            "camera_motion",
            "annotated_frames",
        )
    }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Provenance:
        """Read a provenance record (``None`` or ``{}``: an empty one)."""
        convert = {
            "video": nested(VideoSource),
            "model": nested(ModelInfo),
            "camera_motion": nested(CameraMotion),
            "annotated_frames": nested(AnnotatedFrames),
            "parameters": as_json_object,
            "prompts": as_json_object,
        }
        return cls(**read_fields(cls, expect_mapping(data or {}, "provenance"), convert))

    def to_dict(self) -> dict[str, Any]:
        """The JSON record."""
        nested = {
            "video": VideoSource.to_dict,
            "model": ModelInfo.to_dict,
            "camera_motion": CameraMotion.to_dict,
            "annotated_frames": AnnotatedFrames.to_dict,
        }
        return write_fields(self, nested)

    @property
    def photos(self) -> tuple[str, ...] | None:
        """The photographs of a photo survey, one per frame (its video's
        :attr:`VideoSource.photos`), None for a video (or no video recorded).

        Examples
        --------
        >>> Provenance.from_dict({"video": {"path": "q", "images": ["a.png"]}}).photos
        ('a.png',)
        >>> Provenance.from_dict({"video": {"path": "reef.mp4"}}).photos is None
        True
        """
        return self.video.photos if self.video is not None else None

    @property
    def is_survey(self) -> bool:
        """Whether the store is a photo survey (one frame per photograph, its ``time`` the
        photograph's index, no time axis): its video records the photographs
        (:func:`survey_video`). The one test of it in the package.

        Examples
        --------
        >>> Provenance.from_dict({"video": {"path": "q", "images": ["a.png"]}}).is_survey
        True
        >>> Provenance.from_dict({"video": {"path": "reef.mp4"}}).is_survey
        False
        >>> Provenance().is_survey  # nothing recorded: a video
        False
        """
        return self.photos is not None

    def get(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key`` (known field or extra), or ``default``."""
        return self.to_dict().get(key, default)

    def __repr__(self) -> str:
        # the dataclass's, with long prompts (an imported truth's: a box per object and frame,
        # megabytes for an hour of video) summarized; ``store.provenance_record`` in a notebook
        parts = []
        for f in fields(self):
            if not f.repr:
                continue
            value = getattr(self, f.name)
            text = repr(value)
            if f.name == "prompts" and isinstance(value, Mapping) and len(text) > 200:
                objects = [o for o in value.get("objects") or [] if isinstance(o, Mapping)]
                clicks = sum(len(o.get("prompts") or []) for o in objects)
                concepts = len(value.get("concepts") or [])
                text = f"<{len(objects)} objects, {clicks} prompts, {concepts} concepts>"
            parts.append(f"{f.name}={text}")
        return f"Provenance({', '.join(parts)})"

    def updated(self, **entries: Any) -> Provenance:
        """A copy with JSON ``entries`` added or replaced (keys keep their place)."""
        return Provenance.from_dict({**self.to_dict(), **entries})


@dataclass(frozen=True)
class ObjectRecord:
    """One entry of a store's object table.

    Parameters
    ----------
    id : int
        Object id, the value of its pixels in ``labels`` (1 .. 2**32 - 1).
    class_name : str
        Class (species) name, ``"unknown"`` if none; stored under the key ``"class"``.
    source : str
        How the object was found: ``"prompt"``, ``"concept"``, ``"discovered"``, ``"truth"``,
        ``"tracker"``, ...
    class_source : str
        Where the class came from, one of :data:`CLASS_SOURCES`.
    class_probability : float or None
        The classifier's probability for ``class_name`` (0..1), if a classifier set it.
    reviewed : bool
        Whether a person reviewed the object.
    extra : mapping
        Other keys of the entry, kept as they are.

    Examples
    --------
    >>> r = ObjectRecord.from_dict({"id": 3, "class": "parrotfish", "source": "prompt"})
    >>> r.class_name, r.reviewed, r.to_dict()
    ('parrotfish', False, {'id': 3, 'class': 'parrotfish', 'source': 'prompt'})
    >>> import dataclasses
    >>> r2 = dataclasses.replace(r, class_source="reviewed", reviewed=True)
    >>> r2.to_dict()["class_source"], ObjectRecord.from_dict(r2.to_dict()) == r2
    ('reviewed', True)
    """

    id: int
    class_name: str = "unknown"
    source: str = "unknown"
    class_source: str = "unknown"
    class_probability: float | None = None
    reviewed: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _JSON_KEYS: ClassVar[dict[str, str]] = {
        "id": "id",
        "class": "class_name",
        "source": "source",
        "class_source": "class_source",
        "class_probability": "class_probability",
        "reviewed": "reviewed",
    }

    def __post_init__(self) -> None:
        where = f"object {self.id!r}"
        if isinstance(self.id, bool) or not isinstance(self.id, int):
            raise StoreError(f"object id must be an integer, got {self.id!r}")
        if self.class_source not in CLASS_SOURCES:
            raise StoreError(
                f"{where}: class_source {self.class_source!r} is not one of "
                f"{', '.join(CLASS_SOURCES)}"
            )
        object.__setattr__(self, "class_name", clean_class_name(self.class_name))
        p = self.class_probability
        if p is not None and (
            isinstance(p, bool) or not isinstance(p, int | float) or not (0 <= p <= 1)
        ):
            raise StoreError(f"{where}: class_probability must be a number in 0..1, got {p!r}")
        if not isinstance(self.reviewed, bool):
            raise StoreError(f"{where}: reviewed must be true or false, got {self.reviewed!r}")

    @property
    def label(self) -> str:
        """Alias of :attr:`class_name` for display."""
        return self.class_name

    @property
    def class_suggestion(self) -> str | None:
        """A model's best guess left below its threshold, or the name a split's new part
        was given only as a suggestion (stored under ``class_suggestion``, kept in
        :attr:`extra`); None if none.

        Examples
        --------
        >>> ObjectRecord.from_dict({"id": 5, "class_suggestion": "wrasse"}).class_suggestion
        'wrasse'
        """
        found = self.extra.get("class_suggestion")
        return None if found is None else str(found)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObjectRecord:
        """Read one object-table entry (``class`` and ``source`` default to ``"unknown"``)."""
        data = expect_mapping(data, "object entry")
        args = read_fields(cls, data, {})
        if "id" not in args:
            raise StoreError(f"object entry {dict(data)!r} has no id")
        oid = args["id"]
        if not isinstance(oid, bool) and hasattr(oid, "__index__"):
            args["id"] = int(oid)
        args["class_name"] = str(args.get("class_name") or "unknown")
        args["source"] = str(args.get("source") or "unknown")
        return cls(**args)

    def to_dict(self) -> dict[str, Any]:
        """The JSON entry: ``id``, ``class``, ``source`` first, then the other keys."""
        return write_fields(self, {}, first=("id", "class", "source"))
