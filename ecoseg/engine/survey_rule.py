"""The one rule that says whether a source given SAM 3 concepts is a photo survey or a video.

Every entry point (``ecoseg segment``, prompt files, :func:`ecoseg.segment`, ``ecoseg batch``,
studies, the napari widget, the settings a store is compared with) asks
:func:`is_photo_survey`; :func:`ecoseg.engine.concepts.check_survey` refuses what a survey
cannot use. A module of its own so that the settings (``engine/settings.py``) and the survey
runner (``engine/concepts.py``) both use it without importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ecoseg.errors import ConfigError

__all__ = ["is_photo_survey"]


def is_photo_survey(source: Any, as_video: bool = False) -> bool:
    """Whether ``source`` given SAM 3 concepts is a photo survey: THE rule every entry point
    (``ecoseg segment``, prompt files, :func:`ecoseg.segment`, ``ecoseg batch``, studies, the
    napari widget) follows.

    A local folder (of images) or a single image file is a survey: each photograph is
    detected on its own, nothing is tracked from one to the next (docs/concepts.md). A video
    file, a URL or an open reader is a video. ``as_video=True`` (``--as-video``) makes a
    folder a video of frames whose instances are tracked from frame to frame. A path that is
    not there (a study's video moved away) is a folder's if its name has no suffix.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> is_photo_survey(folder), is_photo_survey(folder, as_video=True)
    (True, False)
    >>> is_photo_survey("quadrat.JPG"), is_photo_survey("transect.mp4")
    (True, False)
    >>> is_photo_survey("moved/quadrats")  # not there: a folder's name
    True
    """
    from ecoseg.io.folder import IMAGE_SUFFIXES

    if not isinstance(as_video, bool):
        raise ConfigError(f"as_video (--as-video) must be True or False, got {as_video!r}")
    if as_video or not isinstance(source, str | os.PathLike) or "://" in str(source):
        return False
    path = Path(source)
    if not path.exists():  # moved away (a study's store kept): a name without a suffix is a
        return not path.suffix or path.suffix.lower() in IMAGE_SUFFIXES  # folder's
    return path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES
