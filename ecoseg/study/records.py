"""The records of a study: :class:`Study` and its :class:`VideoSpec`, frozen and validated.

They are made only by :func:`ecoseg.study.config.load_study` (which also re-exports them), every
setting resolved; the runner and the manifest read them.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecoseg._paths import relpath

__all__ = ["NOT_SETTINGS", "Study", "VideoSpec", "setting_fields"]


@dataclass(frozen=True)
class VideoSpec:
    """One video of a study, validated, with every setting resolved.

    Attributes
    ----------
    name : str
        Unique name (default: the video file's stem); names the store and table rows.
    path : Path
        The video file (or image folder), absolute.
    source : str
        The path as written in the study file (relative to it), for display.
    site, transect, date, notes : str or None
    depth_m : float or None
        Depth below the surface in metres (0 or more).
    calibration : object or None
        A :class:`ecoseg.measure.calibration.Calibration`.
    calibration_spec : float, str or None
        The calibration as written (number of mm per pixel, or a scale-bar/lasers spec).
    prompts : Path or None
        Prompt file (sam2 engine; ``"sam3"``: concepts with exemplar boxes).
    engine : str
        ``"sam2"``, ``"classical"`` or ``"sam3"`` (SAM 3 concept tracking: ``model`` sam3,
        ``concepts`` and/or the prompt file's concepts).
    model : str
    checkpoint : Path or None
    pretrained : bool
    image_size : int or None
        ``None`` for the classical engine (no network; a ``defaults:`` GPU device neither).
    device : str or None
    params : dict
        Engine parameters.
    truth : Path or None
        Ground-truth store; adds an accuracy section to the report. Read with
        ``require_videos=False``, it may not be there, beside a video not there either
        (moved away together): the report then says it is not found.
    species_model : Path or None
        A species model file (``ecoseg classify --save-model``) that names the tracks before
        they are measured (``ecoseg.classify``), so a re-run reproduces the classes.
    concepts : tuple of str
        ``"sam3"``: what to find on every frame by name ("parrotfish").
    detect_every : int
        ``"sam3"``: the concept detector runs on every N-th frame.
    as_video : bool
        ``"sam3"`` on an image folder: track it as a video of frames (``as_video: true``);
        otherwise a folder (or an image) given concepts is a photo survey
        (:func:`ecoseg.engine.survey_rule.is_photo_survey`).
    fast : bool
        ``"sam2"`` and ``"sam3"``: the network in bf16 (:func:`ecoseg.segment`'s ``fast``).
    auto : bool
        ``"sam2"`` without prompts: automatic discovery (``ecoseg segment --auto``; ``params``
        are discovery's settings).
    fps : float or None
        Frame rate of an image folder (``ecoseg segment --fps``); None: the reader's default.
    """

    name: str
    path: Path
    source: str
    site: str | None = None
    transect: str | None = None
    date: str | None = None
    depth_m: float | None = None
    notes: str | None = None
    calibration: Any = None
    calibration_spec: float | str | None = None
    prompts: Path | None = None
    engine: str = "classical"
    model: str = "sam2.1-tiny"
    checkpoint: Path | None = None
    pretrained: bool = True
    image_size: int | None = None
    device: str | None = None
    params: dict = field(default_factory=dict)
    truth: Path | None = None
    species_model: Path | None = None
    concepts: tuple[str, ...] = ()
    detect_every: int = 1
    fast: bool = False
    auto: bool = False
    fps: float | None = None
    as_video: bool = False

    @property
    def survey(self) -> bool:
        """Whether the video is a photo survey (SAM 3 concepts on a folder of images or an
        image, not ``as_video``: :func:`ecoseg.engine.survey_rule.is_photo_survey`)."""
        from ecoseg.engine.survey_rule import is_photo_survey

        return self.engine == "sam3" and is_photo_survey(self.path, self.as_video)

    @property
    def meta(self) -> dict[str, Any]:
        """The metadata columns added to every table row of this video."""
        return {
            "video": self.name,
            "site": self.site,
            "transect": self.transect,
            "date": self.date,
            "depth_m": self.depth_m,
        }


#: The fields of a :class:`VideoSpec` that are not settings of its run, each with why: every
#: other field is one (:func:`setting_fields`), so a field added to it counts by default.
NOT_SETTINGS = {
    "name": "the entry's own name",
    "path": "the video itself",
    "source": "the video's path as written",
    "site": "checked apart: one video is footage of one site",
    "transect": "metadata of the footage",
    "date": "metadata of the footage",
    "depth_m": "metadata of the footage",
    "notes": "metadata of the footage",
    "calibration": "sizes in mm, not what is found and counted",
    "calibration_spec": "sizes in mm, not what is found and counted",
    "device": "where it runs: a CPU and a GPU run are one study",
    "truth": "the accuracy section, not the study's numbers",
}


def setting_fields(spec_type: type = VideoSpec) -> tuple[str, ...]:
    """The fields of ``spec_type`` (a :class:`VideoSpec`) that make a video's masks and names:
    all but :data:`NOT_SETTINGS`. One video listed twice with all of them alike is one entry
    copied, whose numbers would count twice (:func:`ecoseg.study.load_study` refuses it).

    Examples
    --------
    >>> setting_fields()[:4]
    ('prompts', 'engine', 'model', 'checkpoint')
    >>> "site" in setting_fields()
    False
    """
    return tuple(f.name for f in dataclasses.fields(spec_type) if f.name not in NOT_SETTINGS)


@dataclass(frozen=True)
class Study:
    """A validated study file (see :func:`ecoseg.study.load_study`)."""

    path: Path
    name: str
    output: Path
    videos: tuple[VideoSpec, ...]
    title: str | None = None
    description: str | None = None

    @property
    def folder(self) -> Path:
        """The folder holding the study file; relative paths in the study start here."""
        return self.path.parent

    def store_path(self, video: VideoSpec) -> Path:
        """Where the mask store of ``video`` lives."""
        return self.output / "stores" / f"{video.name}.zarr"

    def video(self, name: str) -> VideoSpec:
        """The video called ``name``."""
        for v in self.videos:
            if v.name == name:
                return v
        raise KeyError(name)

    def relative(self, path: str | os.PathLike) -> str:
        """``path`` relative to the study folder (as written, with ``/``), for display."""
        return relpath(path, self.folder)

    def recorded(self, path: str | os.PathLike) -> str:
        """A file of the study as a record in a store names it: relative to the study folder
        (with ``/``) when it lies inside it, so the record still names it when the folder is
        moved or shared (a report's steps run in the study folder); else its absolute path.

        Examples
        --------
        >>> study = Study(path=Path("/field/study.yaml"), name="s", output=Path("/field/out"),
        ...               videos=())
        >>> study.recorded("/field/models/../species.json"), study.recorded("/lab/m.json")
        ('species.json', '/lab/m.json')
        """
        shown = relpath(path, self.folder)
        inside = shown != ".." and not shown.startswith("../") and not Path(shown).is_absolute()
        return shown if inside else Path(os.path.abspath(path)).as_posix()
