"""A file's images matched to an image folder's files by name (a photo survey's photographs).

COCO ``images[].file_name``, CVAT for images ``<image name=...>`` and YouTube-VIS
``videos[].file_names`` name the images they annotate; onto a ``--video`` folder of images, an
image goes on the folder's file of its name (a folder in the name left out: CVAT's
``task/quadrat_01.jpg``), whatever its id or position: annotation tools list a folder's
photographs in their own order. :func:`folder_frames` is the one place that matching is done.

Names are matched exactly first. A name that no file has exactly but one file has in another
letter case (``IMG_0912.jpg`` for the folder's ``IMG_0912.JPG``: Windows and macOS disks, and
tools that lower-case extensions, do not keep the case) is that file. A folder's reader
refuses two files spelled alike (``North.png`` beside ``north.png``:
:func:`ecoseg.io.folder.same_frame_twice`), so one file alone has each spelling; where names
given in Python (a :class:`~ecoseg.formats.VideoInfo`'s ``images``) have two, such a name is
refused, naming both spellings, since which photograph it is cannot be told.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from ecoseg.errors import FormatError

__all__ = ["folder_frames", "image_name"]


def image_name(name: object) -> str:
    """The file name of an image as a file names it, its folders left out (``/`` or ``\\``).

    Examples
    --------
    >>> image_name("task/quadrat_01.jpg"), image_name("C:\\\\survey\\\\q2.JPG")
    ('quadrat_01.jpg', 'q2.JPG')
    """
    return PurePosixPath(str(name).replace("\\", "/")).name


def folder_frames(
    images: Sequence[tuple[str, object]], folder: Sequence[str] | None, path: object
) -> list[int] | None:
    """The frame of each image of a file: the position in ``folder`` (an image folder's file
    names, in frame order) of the file its name names (:func:`image_name`; exactly, else in
    another letter case where one file alone has it), or None where no image's name is the
    folder's (a file of a video's frames: placed by its frame numbers).

    Parameters
    ----------
    images : sequence of (str, object)
        Each image of the file: how the refusals name it (``"image id 7"``) and its name as
        the file gives it.
    folder : sequence of str or None
        The folder's file names (None or empty: a video file, no names to match).
    path : str or Path
        The file, named by the refusals.

    Raises
    ------
    FormatError
        Where the file's images are the folder's: an image whose name is not in the folder,
        two images of one photograph, or a name that differs only in letter case from two of
        the folder's files; one line naming the file and the image.

    Examples
    --------
    >>> folder_frames([("image id 1", "b.jpg"), ("image id 2", "task/A.JPG")],
    ...               ("a.jpg", "b.jpg"), "f.json")
    [1, 0]
    >>> folder_frames([("image id 1", "frame_000000.png")], ("a.jpg",), "f.json") is None
    True
    >>> folder_frames([("image id 1", "b.jpg"), ("image id 2", "c.jpg")], ("a.jpg", "b.jpg"),
    ...               "f.json")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: f.json: image id 2: 'c.jpg' is not an image of the video's folder \
(the file's other images are, and are matched to them by name)
    """
    if not folder:
        return None
    exact = {name: k for k, name in enumerate(folder)}
    folded: dict[str, list[int]] = {}
    for k, name in enumerate(folder):
        folded.setdefault(name.casefold(), []).append(k)
    names = [image_name(name) for _, name in images]
    if not any(n in exact or n.casefold() in folded for n in names):
        return None
    frames: list[int] = []
    owner: dict[int, int] = {}  # frame: the position in ``images`` of the image on it
    for j, ((what, given), name) in enumerate(zip(images, names)):
        where = f"{path}: {what}: '{given}'"
        if name in exact:
            frame = exact[name]
        elif len(folded.get(name.casefold(), ())) == 1:
            frame = folded[name.casefold()][0]
        elif name.casefold() in folded:
            both = " and ".join(f"'{folder[k]}'" for k in folded[name.casefold()])
            raise FormatError(
                f"{where} differs only in letter case from the folder's {both}: which "
                "photograph it is cannot be told (rename the folder's files apart)"
            )
        else:
            raise FormatError(
                f"{where} is not an image of the video's folder (the file's other images "
                "are, and are matched to them by name)"
            )
        if frame in owner:
            photo = "" if folder[frame] == name else f", '{folder[frame]}'"
            raise FormatError(f"{where} (frame {frame}{photo}) is also {images[owner[frame]][0]}")
        owner[frame] = j
        frames.append(frame)
    return frames
