"""The bundled sample clip (``data/sample`` in the source tree, shipped inside the wheel)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SAMPLE_TRUTH", "SAMPLE_VIDEO", "SamplePaths", "sample"]

#: the names of the sample clip and its ground truth on any machine, which a store's record,
#: the commands and ``open_video`` take (:mod:`ecoseg._bundled`)
SAMPLE_VIDEO = "ecoseg:sample/video.mp4"
SAMPLE_TRUTH = "ecoseg:sample/truth.zarr"


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

    Raises
    ------
    ConfigError
        The installation lacks it.

    Examples
    --------
    >>> s = sample()
    >>> s.video.name, s.truth.name
    ('video.mp4', 'truth.zarr')
    """
    from ecoseg._bundled import bundled_file

    return SamplePaths(bundled_file(SAMPLE_VIDEO), bundled_file(SAMPLE_TRUTH))
