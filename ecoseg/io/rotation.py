"""Display rotation: phones and some action cameras store footage sideways plus a display
matrix saying how to turn it; players show it upright, and so does ecoseg.

FFmpeg (and PyAV's ``VideoFrame.rotation``) report the matrix as an angle in degrees,
counterclockwise. A frame is shown upright by turning it clockwise by minus that angle, in
quarter turns, as ``ffmpeg``'s own autorotation does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TURN_FILTERS", "turn_image", "upright_turns"]

# FFmpeg filters that turn a picture clockwise by 1, 2 or 3 quarter turns
TURN_FILTERS = {
    0: (),
    1: (("transpose", "clock"),),
    2: (("hflip", ""), ("vflip", "")),
    3: (("transpose", "cclock"),),
}


def upright_turns(rotation: float | None) -> int:
    """Clockwise quarter turns (0..3) that show a frame upright.

    Parameters
    ----------
    rotation : float or None
        The display matrix's rotation in degrees counterclockwise (``VideoFrame.rotation``);
        None or 0 for footage stored upright. Angles are rounded to quarter turns.

    Examples
    --------
    >>> upright_turns(-90), upright_turns(90), upright_turns(180), upright_turns(None)
    (1, 3, 2, 0)
    """
    if not rotation:
        return 0
    return int(round((-float(rotation)) / 90.0)) % 4


def turn_image(image: np.ndarray, turns: int) -> np.ndarray:
    """``image`` (H, W, ...) turned clockwise by ``turns`` quarter turns.

    Examples
    --------
    >>> turn_image(np.array([[1, 2], [3, 4]]), 1).tolist()
    [[3, 1], [4, 2]]
    """
    return np.rot90(image, k=-(int(turns) % 4))
