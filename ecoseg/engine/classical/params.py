"""Parameters of the classical motion tracker (validated, with working defaults)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ecoseg._checks import check_field_kinds, field_values
from ecoseg.errors import ConfigError

__all__ = ["ClassicalParams"]


@dataclass(frozen=True)
class ClassicalParams:
    """Parameters of the classical motion tracker (all have working defaults).

    Sizes and distances are in pixels of the video unless the name says otherwise; the ``None``
    defaults scale with the frame size.

    Attributes
    ----------
    work_width : int
        Approximate width of the downscaled image used for background and motion (256; the
        frame is shrunk by the integer factor ``width // work_width``: 2 for 640 px, 5 for
        1280 px). Larger is more precise on small animals and slower.
    warmup : int
        Frames looked ahead to start the background as their per-pixel median (150, at most
        30 of them sampled); results start after these frames have been read.
    learning_rate : float
        How fast the background follows change on background pixels, per frame (0.05,
        a memory of about 20 frames: light, caustics, algae).
    foreground_rate : float
        The same under animals (0.002): slow, so a passing animal does not leave a trail.
    luma_weight : float
        Weight of brightness against chromaticity differences (0.25): caustics and shade
        change brightness; 1 treats both alike (clear water, grey animals).
    threshold : float
        Noise-normalised distance (in standard deviations) that seeds a detection (5.0).
    threshold_low : float
        Distance down to which a seeded detection grows (2.5).
    min_area : float, optional
        Smallest animal in pixels; default 0.02 % of the frame (at least 16 px).
    split : bool
        Split blobs that look like touching animals (True).
    split_saddle : float
        Split only where the neck between two distance-transform peaks is narrower than this
        fraction of the smaller peak (0.6).
    split_min_fraction : float
        Each part of a split must hold at least this fraction of the blob (0.2), so fins and
        tails are not cut off.
    max_gap : int
        Frames an animal may vanish (occlusion, missed detection) and keep its id (10).
    max_distance : float, optional
        Base gate for linking: how far from its predicted position a track may be continued;
        half the animal's size and its speed times the gap are added. Default 2 % of the frame
        diagonal.
    min_hits : int
        Consecutive detections that make a track (3); results lag ``min_hits - 1`` frames.
    motion : bool
        Compensate camera translation (pans, shake) (True). Off for a fixed camera saves a
        little time.
    motion_support : float
        Fraction of the picture that must move together before a motion counts as the
        camera's (0.15): a lone animal moving over plain sand is not a pan. Scenes with
        less texture than this cannot be motion-compensated.
    still_frames : int
        A track that has not moved for this many frames is folded into the background (75,
        2.5 s at 30 fps: a ghost heals, a fish hovering for a moment is kept); 0 keeps still
        animals until the background absorbs them on its own.
    """

    work_width: int = 256
    warmup: int = 150
    learning_rate: float = 0.05
    foreground_rate: float = 0.002
    luma_weight: float = 0.25
    threshold: float = 5.0
    threshold_low: float = 2.5
    min_area: float | None = None
    split: bool = True
    split_saddle: float = 0.6
    split_min_fraction: float = 0.2
    max_gap: int = 10
    max_distance: float | None = None
    min_hits: int = 3
    motion: bool = True
    motion_support: float = 0.15
    still_frames: int = 75

    def __post_init__(self):
        def need(ok: bool, what: str):
            if not ok:
                raise ConfigError(f"classical engine: {what}")

        # text ("4") or a bool where a number goes: one line, not a TypeError from a comparison
        check_field_kinds(self, "classical engine", error=ConfigError)

        need(int(self.work_width) >= 16, f"work_width must be >= 16, got {self.work_width}")
        need(int(self.warmup) >= 1, f"warmup must be >= 1, got {self.warmup}")
        need(
            0 < self.learning_rate <= 1,
            f"learning_rate must be in (0, 1], got {self.learning_rate}",
        )
        need(
            0 <= self.foreground_rate <= self.learning_rate,
            f"foreground_rate must be in [0, learning_rate], got {self.foreground_rate}",
        )
        need(0 <= self.luma_weight <= 1, f"luma_weight must be in [0, 1], got {self.luma_weight}")
        need(self.threshold > 0, f"threshold must be > 0, got {self.threshold}")
        need(
            0 < self.threshold_low <= self.threshold,
            f"threshold_low must be in (0, threshold], got {self.threshold_low}",
        )
        need(
            self.min_area is None or self.min_area >= 1,
            f"min_area must be >= 1, got {self.min_area}",
        )
        need(0 < self.split_saddle <= 1, f"split_saddle must be in (0, 1], got {self.split_saddle}")
        need(
            0 <= self.split_min_fraction < 0.5,
            f"split_min_fraction must be in [0, 0.5), got {self.split_min_fraction}",
        )
        need(int(self.max_gap) >= 0, f"max_gap must be >= 0, got {self.max_gap}")
        need(
            self.max_distance is None or self.max_distance > 0,
            f"max_distance must be > 0, got {self.max_distance}",
        )
        need(int(self.min_hits) >= 1, f"min_hits must be >= 1, got {self.min_hits}")
        need(
            0 < self.motion_support <= 1,
            f"motion_support must be in (0, 1], got {self.motion_support}",
        )
        need(int(self.still_frames) >= 0, f"still_frames must be >= 0, got {self.still_frames}")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> ClassicalParams:
        """Build from a dict, naming any unknown key in a :class:`ConfigError`."""
        return cls(**field_values(cls, values, "classical engine", error=ConfigError))

    @classmethod
    def coerce(cls, params: ClassicalParams | dict[str, Any] | None) -> ClassicalParams:
        """``params`` as parameters: these, a dict of them, or None for the defaults.

        Examples
        --------
        >>> ClassicalParams.coerce({"threshold": 4.5}).threshold
        4.5
        >>> ClassicalParams.coerce(4.5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        TypeError: classical engine: params must be ClassicalParams, ... got float 4.5
        """
        if params is None:
            return cls()
        if isinstance(params, cls):
            return params
        if isinstance(params, dict):
            return cls.from_dict(params)
        raise TypeError(
            "classical engine: params must be ClassicalParams, a dict of them or None, "
            f"got {type(params).__name__} {params!r:.60}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all parameters (for provenance)."""
        return dataclasses.asdict(self)
