"""The bundled sample clip (``data/sample`` in the source tree, shipped inside the wheel)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecoseg.errors import ConfigError

__all__ = ["SamplePaths", "sample"]


@dataclass(frozen=True)
class SamplePaths:
    """Paths of the bundled sample: the video and its ground-truth mask store."""

    video: Path
    truth: Path


def sample() -> SamplePaths:
    """Locate the bundled synthetic reef sample.

    Returns
    -------
    SamplePaths

    Examples
    --------
    >>> s = sample()
    >>> s.video.name, s.truth.name
    ('video.mp4', 'truth.zarr')
    """
    here = Path(__file__).resolve().parent
    for folder in (here / "_sample", here.parent / "data" / "sample"):
        video, truth = folder / "video.mp4", folder / "truth.zarr"
        if video.is_file() and truth.is_dir():
            return SamplePaths(video, truth)
    raise ConfigError(
        "the bundled sample is missing from this installation; "
        "regenerate it with `ecoseg synth` (see data/README.md)"
    )
