"""Exceptions a user can cause.

Every error that bad input can produce derives from :class:`EcosegError`. Its message is one
line that names the culprit (file, frame, object); the CLI prints it as ``ecoseg: error: ...``
and exits with status 2, without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations


class EcosegError(Exception):
    """Base class for errors caused by user input or environment (not by bugs)."""


class VideoError(EcosegError):
    """A video file or image folder is missing, unreadable, empty or corrupt."""


class StoreError(EcosegError):
    """A mask store is missing, malformed, of the wrong version, or would be overwritten."""


class PromptError(EcosegError):
    """A prompt file or prompt object is malformed or does not fit the video."""


class CalibrationError(EcosegError):
    """A calibration is missing, non-positive, non-finite or implausible."""


class CheckpointError(EcosegError):
    """A model checkpoint is missing, unsafe, corrupt or does not match the variant."""


class ConfigError(EcosegError):
    """A study file, option or parameter is invalid."""


class Cancelled(EcosegError):
    """A run was cancelled; the store holds what was written and ``resume`` continues it."""

    @classmethod
    def after(cls, store_path, frames: int) -> Cancelled:
        """The error for a run into ``store_path`` cancelled after ``frames`` stored frames,
        in words that fit a Python call and the command alike (``resume=True``,
        ``--resume``).

        Examples
        --------
        >>> str(Cancelled.after("masks.zarr", 12))
        'masks.zarr: cancelled after 12 frames; resume=True (--resume) continues it'
        """
        return cls(
            f"{store_path}: cancelled after {int(frames)} frames; resume=True (--resume) "
            "continues it"
        )


class FormatError(EcosegError):
    """An annotation file (COCO, MOT, CVAT, VIAME, DAVIS, ...) is malformed or does not fit
    the video; the message names the file and the line, element or frame."""


class ClassNameWarning(UserWarning):
    """Class names that differ only in letter case (``parrotfish``, ``Parrotfish``): counted
    as two species, which a person rarely means; the warning names them and the store."""


class CalibrationReplacedWarning(UserWarning):
    """A calibration given to ``measure`` replaces another one stored with the mask store; the
    warning names the store and both (the store keeps only the new one)."""


class InterruptedTablesWarning(UserWarning):
    """``measure`` replaces tables an earlier run into the same folder left when it was stopped
    while renaming them into place (``tables.incomplete`` beside them): not one set, so
    replaced without ``overwrite``; the warning names the folder."""


class EmptyExportWarning(UserWarning):
    """An export of a store with no objects (or objects without masks): the file is still
    written (an empty annotation file is valid); the warning names the store and the file."""


class ShortVideoWarning(UserWarning):
    """A video shorter than the motion tracker's ``min_hits`` (the frames in a row that make a
    track): it cannot report any animal; the warning names the video and its frames."""


class PromptClippedWarning(UserWarning):
    """A prompt box (or exemplar box) reaches past the edge of the frame: it is cut to the
    frame; the warning names the file, object or concept, frame, both boxes and the frame
    size."""
