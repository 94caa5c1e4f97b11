"""The animals' species: sizes, shapes, speeds and colours, and the fish geometry.

Examples
--------
>>> sorted(FISH_CLASSES)
['damselfish', 'parrotfish', 'surgeonfish', 'wrasse']
>>> INVERTEBRATE_CLASSES["sea_star"].kind
'invertebrate'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FISH_CLASSES", "INVERTEBRATE_CLASSES", "Species"]


@dataclass(frozen=True)
class Species:
    """What every individual of a class is drawn from (ranges are uniform)."""

    kind: str  # "fish" or "invertebrate"
    length_mm: tuple[float, float]  # total length (fish) or diameter (invertebrates)
    aspect: tuple[float, float]  # body height / length (fish)
    speed_bl: tuple[float, float]  # cruising speed, body lengths per second
    palettes: tuple  # choices of (body, accent, extra) RGB colours, 0-255
    notch: float  # depth of the tail fork, fraction of the length
    weight: float  # how common, when classes are drawn at random


FISH_CLASSES: dict[str, Species] = {
    "parrotfish": Species(
        "fish",
        (240, 330),
        (0.36, 0.41),
        (0.6, 1.0),
        (
            ((45, 165, 135), (235, 125, 165), (250, 200, 90)),
            ((70, 140, 200), (240, 150, 170), (230, 210, 120)),
        ),
        0.0,
        0.15,
    ),
    "surgeonfish": Species(
        "fish",
        (170, 240),
        (0.50, 0.56),
        (0.8, 1.3),
        (
            ((40, 55, 150), (245, 210, 40), (15, 15, 30)),
            ((95, 80, 105), (250, 235, 210), (20, 20, 25)),
        ),
        0.11,
        0.2,
    ),
    "wrasse": Species(
        "fish",
        (110, 175),
        (0.24, 0.29),
        (1.2, 2.0),
        (
            ((200, 205, 60), (25, 35, 80), (60, 160, 230)),
            ((90, 185, 215), (20, 30, 55), (240, 220, 90)),
        ),
        0.0,
        0.3,
    ),
    "damselfish": Species(
        "fish",
        (60, 90),
        (0.55, 0.62),
        (1.2, 2.0),
        (
            ((236, 236, 230), (18, 18, 22), (60, 60, 70)),
            ((240, 240, 236), (25, 25, 30), (80, 80, 90)),
        ),
        0.12,
        0.35,
    ),
}
INVERTEBRATE_CLASSES: dict[str, Species] = {
    "sea_urchin": Species(
        "invertebrate",
        (80, 110),
        (1.0, 1.0),
        (0.004, 0.012),
        (((55, 30, 62), (25, 20, 35), (125, 90, 140)),),
        0.0,
        0.5,
    ),
    "sea_star": Species(
        "invertebrate",
        (110, 160),
        (1.0, 1.0),
        (0.01, 0.025),
        (
            ((215, 85, 40), (245, 160, 90), (150, 45, 25)),
            ((60, 90, 190), (150, 180, 240), (30, 45, 110)),
        ),
        0.0,
        0.5,
    ),
}

# fish geometry, in units of the total length L: the body ellipse is centred on the organism's
# position, nose at +BODY_HALF; the tail hinges at TAIL_BASE and reaches TAIL_LEN further back
BODY_HALF = 0.39
TAIL_BASE = -0.31
TAIL_LEN = 0.30
TAIL_BEAT = 0.28  # radians, amplitude of the tail stroke
MIN_SCALE = 0.35  # shortest apparent length (fish seen head-on) as a fraction of the length

HAZE = np.array([40, 120, 135], np.float32)  # colour distant animals fade towards
