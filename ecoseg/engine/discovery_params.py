"""Settings of automatic discovery (:mod:`ecoseg.engine.discovery`): :class:`DiscoveryParams`,
validated, with working defaults, and the :class:`ClassRule` records that name discovered
objects by size and colour. :mod:`ecoseg.engine.discovery` offers both names too.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ecoseg._checks import check_field_kinds, field_values, short_repr
from ecoseg._class_names import case_clashes, one_spelling
from ecoseg._prompt_values import blank_text, check_concept_text
from ecoseg.errors import ConfigError, PromptError

__all__ = ["KEY_INTERVAL", "ClassRule", "DiscoveryParams", "check_key_interval"]

#: Frames from one key frame (where discovery looks for new objects) to the next, by default.
KEY_INTERVAL = 15


def check_key_interval(value, name: str = "key_interval") -> None:
    """Refuse a key interval below 1 frame in one line, by ``name``: ``--key-interval`` on the
    command line, ``discovery: key_interval`` in settings (whole numbers are checked as every
    setting's kind is, by ``check_field_kinds``).

    Examples
    --------
    >>> check_key_interval(0, "--key-interval")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: --key-interval must be a positive whole number: the key \
interval, in frames, from one key frame (where new organisms are looked for) to the next \
(default 15), got 0
    """
    if int(value) < 1:
        raise ConfigError(
            f"{name} must be a positive whole number: the key interval, in frames, from one key "
            f"frame (where new organisms are looked for) to the next (default {KEY_INTERVAL}), "
            f"got {value}"
        )


@dataclass(frozen=True)
class ClassRule:
    """A class label for discovered objects of a given size and colour.

    A rule matches when every given condition holds; the first matching rule of
    :attr:`DiscoveryParams.classes` names the object.

    Attributes
    ----------
    name : str
        The class (``"class"`` in dicts), read as a concept's name is: white space at the ends
        dropped, runs of it one space; a blank name, or one with a line break or another
        control character, refused.
    min_area, max_area : float
        Mask area in video pixels on the frame of discovery.
    min_rgb, max_rgb : tuple of float
        Bounds on the mean ``(r, g, b)`` (0-255) of the pixels under the mask.

    Examples
    --------
    >>> rule = ClassRule.from_dict({"class": "fish", "min_area": 50, "min_rgb": [150, 0, 0]})
    >>> rule.matches(80, (200.0, 40.0, 30.0)), rule.matches(80, (90.0, 40.0, 30.0))
    (True, False)
    """

    name: str
    min_area: float = 0.0
    max_area: float = math.inf
    min_rgb: tuple[float, float, float] = (0.0, 0.0, 0.0)
    max_rgb: tuple[float, float, float] = (255.0, 255.0, 255.0)

    def __post_init__(self):
        # read as a concept's name is: one name on one line, in one spelling (" fish " is
        # "fish"), so a rule's class is the class a prompt file or a concept would give
        if not isinstance(self.name, str):
            raise ConfigError(f"class rule: class must be a non-empty string, got {self.name!r}")
        if blank_text(self.name):
            raise ConfigError(
                f'class rule: class is {blank_text(self.name)}; give a name such as "parrotfish"'
            )
        try:
            check_concept_text(self.name, "class rule", kind="class")
        except PromptError as exc:  # a settings file's mistake, as the others here
            raise ConfigError(str(exc)) from None
        object.__setattr__(self, "name", one_spelling(self.name))
        check_field_kinds(self, f"class rule {self.name!r}", error=ConfigError)
        for what in ("min_rgb", "max_rgb"):
            given = getattr(self, what)
            try:
                v = tuple(float(x) for x in given if not isinstance(x, str | bytes | bool))
            except (TypeError, ValueError):
                v = ()
            if len(v) != 3 or len(v) != len(given):
                raise ConfigError(f"class rule {self.name!r}: {what} must be [r, g, b]")
            if not all(0 <= c <= 255 for c in v):  # a mean colour is 0-255: never matched
                raise ConfigError(
                    f"class rule {self.name!r}: {what} must be [r, g, b] of 0-255, got "
                    f"{list(given)}"
                )
            object.__setattr__(self, what, v)
        if any(lo > hi for lo, hi in zip(self.min_rgb, self.max_rgb)):
            raise ConfigError(
                f"class rule {self.name!r}: min_rgb {list(self.min_rgb)} is above max_rgb "
                f"{list(self.max_rgb)} in a channel: the rule would never match"
            )
        if not 0 <= self.min_area <= self.max_area:
            raise ConfigError(
                f"class rule {self.name!r}: need 0 <= min_area <= max_area, got "
                f"{self.min_area}, {self.max_area}"
            )

    def matches(self, area: float, mean_rgb: Sequence[float]) -> bool:
        """Whether an object of ``area`` pixels and mean colour ``mean_rgb`` is of this class."""
        if not self.min_area <= area <= self.max_area:
            return False
        return all(lo <= c <= hi for lo, c, hi in zip(self.min_rgb, mean_rgb, self.max_rgb))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassRule:
        data = dict(data)
        if "class" not in data:
            raise ConfigError(f"class rule {data}: needs a 'class'")
        name = data.pop("class")
        known = {"min_area", "max_area", "min_rgb", "max_rgb"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"class rule {name!r}: unknown key {unknown[0]!r}")
        return cls(name, **data)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"class": self.name}
        if self.min_area > 0:
            out["min_area"] = self.min_area
        if math.isfinite(self.max_area):
            out["max_area"] = self.max_area
        if self.min_rgb != (0.0, 0.0, 0.0):
            out["min_rgb"] = list(self.min_rgb)
        if self.max_rgb != (255.0, 255.0, 255.0):
            out["max_rgb"] = list(self.max_rgb)
        return out


@dataclass(frozen=True)
class DiscoveryParams:
    """Settings of automatic discovery (all have working defaults).

    Attributes
    ----------
    key_interval : int
        The key interval, in frames: new objects are looked for on every this-many-th frame,
        from frame 0 (15; ``--key-interval``).
    generator : bool
        Use the automatic mask generator's proposals (True).
    motion : bool
        Use the motion tracker's detections as box prompts (True).
    points_per_side, points_per_batch, pred_iou_thresh, stability_score_thresh,
    stability_score_offset, box_nms_thresh
        Automatic mask generator settings (16, 64, 0.8, 0.9, 1.0, 0.7; see
        :class:`~ecoseg.sam2.automatic.AutomaticMaskGenerator`).
    min_area_fraction, max_area_fraction : float
        Proposals (from either source) must cover this fraction of the frame
        (0.0005 .. 0.25): not specks, not the sea floor.
    max_overlap : float
        A proposal covered by live tracks (or earlier proposals) over more than this fraction
        of its pixels is not new (0.5).
    score_thresh : float
        Presence score below which a discovered track counts as absent on a frame (0.5).
    end_after : int
        A discovered track absent for this many consecutive frames ends (10).
    max_objects : int
        At most this many live discovered tracks (50).
    mask_size : int
        Long side, in pixels, of the work resolution of proposals (512; never more than the
        video's).
    box_margin : float
        A mask from a motion box is clipped to the box grown by this fraction of its size on
        each side (0.1).
    classes : tuple of ClassRule
        Rules naming discovered objects (first match wins; none: ``"unknown"``).
    motion_params : dict
        :class:`~ecoseg.engine.classical.ClassicalParams` fields for the motion pass.
    """

    key_interval: int = KEY_INTERVAL
    generator: bool = True
    motion: bool = True
    points_per_side: int = 16
    points_per_batch: int = 64
    pred_iou_thresh: float = 0.8
    stability_score_thresh: float = 0.9
    stability_score_offset: float = 1.0
    box_nms_thresh: float = 0.7
    min_area_fraction: float = 0.0005
    max_area_fraction: float = 0.25
    max_overlap: float = 0.5
    score_thresh: float = 0.5
    end_after: int = 10
    max_objects: int = 50
    mask_size: int = 512
    box_margin: float = 0.1
    classes: tuple[ClassRule, ...] = ()
    motion_params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ConfigError(f"discovery: {what}")

        check_field_kinds(self, "discovery", error=ConfigError)  # "0.8" or "false" in a JSON file

        check_key_interval(self.key_interval, "discovery: key_interval")
        need(
            0 <= self.min_area_fraction <= self.max_area_fraction <= 1,
            "need 0 <= min_area_fraction <= max_area_fraction <= 1, got "
            f"{self.min_area_fraction}, {self.max_area_fraction}",
        )
        need(0 <= self.max_overlap <= 1, f"max_overlap must be in [0, 1], got {self.max_overlap}")
        need(0 < self.score_thresh < 1, f"score_thresh must be in (0, 1), got {self.score_thresh}")
        need(int(self.end_after) >= 1, f"end_after must be >= 1, got {self.end_after}")
        need(int(self.max_objects) >= 0, f"max_objects must be >= 0, got {self.max_objects}")
        need(int(self.mask_size) >= 16, f"mask_size must be >= 16, got {self.mask_size}")
        need(self.box_margin >= 0, f"box_margin must be >= 0, got {self.box_margin}")
        if not isinstance(self.classes, list | tuple):
            raise ConfigError(
                'discovery: classes must be a list of class rules ({"class": NAME, ...}), '
                f"got {short_repr(self.classes)}"
            )
        for k, r in enumerate(self.classes):
            if not isinstance(r, ClassRule | dict):
                raise ConfigError(
                    f'discovery: classes[{k}] must be a class rule ({{"class": NAME, ...}}), '
                    f"got {short_repr(r)}"
                )
        rules = tuple(
            r if isinstance(r, ClassRule) else ClassRule.from_dict(r) for r in self.classes
        )
        object.__setattr__(self, "classes", rules)
        for group in case_clashes(r.name for r in rules):  # as a prompt file's classes are
            raise ConfigError(
                f"discovery: class rules {' and '.join(repr(n) for n in group)} differ only "
                "in letter case: their tracks would be counted as two species; spell them "
                "the same"
            )
        if not isinstance(self.motion_params, dict | None):
            raise ConfigError(
                "discovery: motion_params must be an object of motion tracker settings "
                f'({{"threshold": 4.5}}), got {short_repr(self.motion_params)}'
            )
        if not self.generator and not self.motion:  # a run that could find nothing
            raise ConfigError(
                "discovery: generator and motion are both false: no proposal source is left, "
                "so nothing would be found; turn one on"
            )
        object.__setattr__(self, "motion_params", dict(self.motion_params or {}))
        if self.motion:
            from ecoseg.engine.classical import ClassicalParams

            ClassicalParams.from_dict(self.motion_params)  # fails early on bad names
        self.generator_kwargs()  # the generator's own checks, before any work

    def generator_kwargs(self) -> dict[str, Any]:
        """The automatic mask generator's settings, checked (ConfigError naming the field)."""
        from ecoseg.sam2.automatic import point_grid

        point_grid(self.points_per_side)
        kw = {
            k: getattr(self, k)
            for k in (
                "points_per_side",
                "points_per_batch",
                "pred_iou_thresh",
                "stability_score_thresh",
                "stability_score_offset",
                "box_nms_thresh",
            )
        }
        for k in ("pred_iou_thresh", "stability_score_thresh", "box_nms_thresh"):
            if not 0 <= kw[k] <= 1:
                raise ConfigError(f"discovery: {k} must be in [0, 1], got {kw[k]}")
        if int(kw["points_per_batch"]) < 1:
            raise ConfigError(
                f"discovery: points_per_batch must be >= 1, got {kw['points_per_batch']}"
            )
        return kw

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> DiscoveryParams:
        """Build from a dict (e.g. a JSON file), naming any unknown key in a ConfigError.

        Examples
        --------
        >>> DiscoveryParams.from_dict({"key_interval": 5, "classes": [{"class": "fish"}]}).classes
        (ClassRule(name='fish', min_area=0.0, max_area=inf, min_rgb=(0.0, 0.0, 0.0), \
max_rgb=(255.0, 255.0, 255.0)),)
        """
        values = field_values(cls, values, "discovery", error=ConfigError)
        if isinstance(values.get("classes"), list):
            values["classes"] = tuple(values["classes"])
        elif values.get("classes", ()) is None:
            values["classes"] = ()
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of all parameters (for provenance)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["classes"] = [r.to_dict() for r in self.classes]
        out["motion_params"] = dict(self.motion_params)
        return out
