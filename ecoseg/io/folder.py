"""Folders of numbered images (PNG, JPEG, TIFF) read as a video."""

from __future__ import annotations

import hashlib
import os
import re
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from ecoseg._hashing import cached_digest, update_from_file
from ecoseg.errors import VideoError
from ecoseg.io._common import (
    DEFAULT_FPS,
    IMAGE_SUFFIXES,
    check_fps,
    check_path,
    describe_error,
)
from ecoseg.io.reader import Frame, VideoReader

__all__ = [
    "DEFAULT_FPS",
    "IMAGE_SUFFIXES",
    "ImageFolderReader",
    "VIDEO_SUFFIXES",
    "exif_change",
    "exif_upright",
    "folder_images",
    "unnumbered_note",
    "image_names",
    "images_sha256",
    "legacy_survey",
    "legacy_survey_sha256",
    "missing_frame",
    "natural_key",
    "same_frame_twice",
]

#: File name endings of video files (compared case-insensitively): a folder of images that
#: holds none but holds one of these names it (a folder ``clip.mp4`` holding ``video.mp4``);
#: napari's reader and ``ecoseg info`` take these names for videos. MPEG-TS (``.ts``,
#: ``.m2ts``: camcorders, some dive cameras, recorders) and MXF (professional cameras) too.
VIDEO_SUFFIXES = frozenset(
    {
        *(".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".mj2"),
        *(".mts", ".m2ts", ".ts", ".mxf"),
    }
)


def natural_key(name: str) -> tuple:
    """Sort key that orders the numbers inside file names by value (``f2`` before ``f10``).

    Examples
    --------
    >>> sorted(["f10.png", "f2.png", "f1.png"], key=natural_key)
    ['f1.png', 'f2.png', 'f10.png']
    """
    parts = re.split(r"(\d+)", name)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts), name


def missing_frame(names: Sequence[str]) -> tuple[str, str, str] | None:
    """The first gap in a zero-padded numbered image sequence, or None.

    Names such as ``frame_00017.png`` (one prefix, one suffix, numbers of one fixed width) are
    a frame export; a number the regular step skips means a frame is missing, which would
    shift every later frame's time. Names of other shapes are not checked.

    Returns
    -------
    tuple of str or None
        ``(missing_name, before, after)``: the first missing file name and its neighbours.

    Examples
    --------
    >>> missing_frame(["f_001.png", "f_002.png", "f_004.png"])
    ('f_003.png', 'f_002.png', 'f_004.png')
    >>> missing_frame(["img1.png", "img2.png", "img10.png"]) is None  # not zero padded
    True
    """
    parts = [re.fullmatch(r"(.*?)(\d+)(\.[^.]+)", name) for name in names]
    if len(names) < 3 or any(m is None for m in parts):
        return None
    if len({(m.group(1), m.group(3), len(m.group(2))) for m in parts}) != 1:
        return None
    if not any(len(m.group(2)) > 1 and m.group(2).startswith("0") for m in parts):
        return None  # no zero padding: not recognisably a frame export
    numbers = np.array([int(m.group(2)) for m in parts], dtype=np.int64)
    steps = np.diff(numbers)
    if (steps <= 0).any():
        return None
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    gaps = np.flatnonzero((steps != step) & (steps % step == 0))
    if gaps.size == 0:
        return None
    i = int(gaps[0])
    prefix, width, suffix = parts[i].group(1), len(parts[i].group(2)), parts[i].group(3)
    return f"{prefix}{numbers[i] + step:0{width}d}{suffix}", names[i], names[i + 1]


def same_frame_twice(names: Sequence[str]) -> tuple[str, str] | None:
    """The first two image names that differ only by their ending (``f1.jpg``, ``f1.png``), or
    None: one frame exported twice, in two kinds of image.

    Examples
    --------
    >>> same_frame_twice(["f1.jpg", "f1.PNG", "f2.jpg", "f2.png"])
    ('f1.jpg', 'f1.PNG')
    >>> same_frame_twice(["f1.jpg", "f2.png"]) is None
    True
    """
    seen: dict[str, str] = {}
    for name in names:
        stem = os.path.splitext(name)[0].lower()
        if stem in seen:
            return seen[stem], name
        seen[stem] = name
    return None


def unnumbered_note(names: Sequence[str]) -> str | None:
    """What a folder read as a video's frames (``names`` in frame order, :func:`image_names`)
    says of images whose names carry no frame number, or None when every name has one (or
    there is one image).

    Such images are read in name order (a photo survey's are photographs, whose names are
    free: it never asks); among numbered ones an unnumbered image (``cover.png``) is read as
    a frame where its name sorts, shifting the frames after it.

    Examples
    --------
    >>> print(unnumbered_note(["other.png", "reef A.png", "reef B.png", "reef C.png"]))
    its images carry no frame numbers (other.png, reef A.png, reef B.png, ...), so they are \
read as frames in name order
    >>> print(unnumbered_note(["cover.png", "f_001.png", "f_002.png"]))
    1 of its 3 images carries no frame number (cover.png), so it is read as a frame where its \
name sorts (frame 0), among the numbered ones; move it out of the folder if it is no frame
    >>> unnumbered_note(["f_001.png", "f_002.png"]) is None
    True
    """
    bare = [(i, n) for i, n in enumerate(names) if not re.search(r"\d", os.path.splitext(n)[0])]
    if not bare or len(names) < 2:
        return None
    shown = ", ".join(n for _, n in bare[:3]) + (", ..." if len(bare) > 3 else "")
    if len(bare) == len(names):
        return (
            f"its images carry no frame numbers ({shown}), so they are read as frames in name order"
        )
    one = len(bare) == 1
    at = ", ".join(str(i) for i, _ in bare[:3]) + (", ..." if len(bare) > 3 else "")
    return (
        f"{len(bare)} of its {len(names)} images carr{'ies' if one else 'y'} no frame number "
        f"({shown}), so {'it is' if one else 'they are'} read as {'a frame' if one else 'frames'} "
        f"where {'its name sorts' if one else 'their names sort'} (frame{'' if one else 's'} "
        f"{at}), among the numbered ones; move {'it' if one else 'them'} out of the folder if "
        f"{'it is no frame' if one else 'they are no frames'}"
    )


def image_names(folder: str | os.PathLike) -> list[str]:
    """The image files of ``folder`` in frame order: the one listing of an image folder.

    Files (not folders) whose names end in one of :data:`IMAGE_SUFFIXES`, hidden files (a
    leading ``.``) left out, in natural order (:func:`natural_key`). The folder reader and the
    photo-survey segmenter both list a folder this way, so they agree on its frames.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("f10.png", "f2.JPG", ".f1.png", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"")
    >>> image_names(d)
    ['f2.JPG', 'f10.png']
    """
    return sorted(
        (
            e.name
            for e in os.scandir(folder)
            if e.is_file()
            and not e.name.startswith(".")
            and os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES
        ),
        key=natural_key,
    )


def folder_images(folder: str | os.PathLike) -> list[str]:
    """:func:`image_names` of ``folder``, refusing a folder without images in one line.

    The one refusal of an image folder with no images, for the folder reader and the photo
    survey alike. Where the folder holds video files the message names them: a folder such as
    ``ecoseg synth -o clip.mp4`` makes (``clip.mp4/video.mp4``) is then given by its video;
    a zarr store (a mask store given where its video belongs) is named as one.

    Raises
    ------
    VideoError
        ``folder`` holds no image file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "clip.mp4"
    >>> d.mkdir()
    >>> _ = (d / "video.mp4").write_bytes(b"")
    >>> try:
    ...     folder_images(d)
    ... except VideoError as e:
    ...     print(str(e).replace(str(d), "clip.mp4"))
    clip.mp4: folder has no images (jpeg/jpg/png/tif/tiff); it holds a video: clip.mp4/video.mp4
    """
    names = image_names(folder)
    if names:
        return names
    if os.path.isfile(os.path.join(folder, "zarr.json")):  # a store given for its video
        raise VideoError(
            f"{folder}: a zarr store (a mask store?), not a video or a folder of images; give "
            "the video (`ecoseg info STORE` names the video a mask store was made from)"
        )
    kinds = "/".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
    videos = sorted(
        (
            e.name
            for e in os.scandir(folder)
            if e.is_file() and os.path.splitext(e.name)[1].lower() in VIDEO_SUFFIXES
        ),
        key=natural_key,
    )
    held = ""
    if videos:
        shown = ", ".join(os.path.join(str(folder), v) for v in videos[:3])
        more = f" and {len(videos) - 3} more" if len(videos) > 3 else ""
        held = f"; it holds {'a video' if len(videos) == 1 else 'videos'}: {shown}{more}"
    raise VideoError(f"{folder}: folder has no images ({kinds}){held}")


def images_sha256(files: Sequence[str | os.PathLike]) -> str:
    """The fingerprint of an image folder: one sha256 over its files' names, sizes and bytes.

    This is what :meth:`ImageFolderReader.sha256` returns and what a store made from an image
    folder records, by ``segment`` and by a concept photo survey alike, so renaming,
    reordering, adding, removing or editing a frame changes it.

    Parameters
    ----------
    files : sequence of path
        The images in frame order (:func:`image_names`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.png").write_bytes(b"reef")
    >>> _ = (d / "b.png").write_bytes(b"fish")
    >>> images_sha256([d / "a.png", d / "b.png"]) == images_sha256([d / "b.png", d / "a.png"])
    False
    """
    h = hashlib.sha256()
    for f in files:
        name = os.path.basename(f).encode("utf-8", "surrogateescape")
        h.update(len(name).to_bytes(8, "little") + name)
        h.update(os.path.getsize(f).to_bytes(8, "little"))
        update_from_file(h, f)
    return h.hexdigest()


def legacy_survey(recorded) -> bool:
    """Whether a recorded video (a :class:`~ecoseg.provenance.VideoSource`) is a photo survey
    stored before one fingerprint: image names recorded without ``sha256_of``, its sha256
    that of :func:`legacy_survey_sha256` (names and bytes only).

    Examples
    --------
    >>> from ecoseg.provenance import VideoSource
    >>> legacy_survey(VideoSource(path="q", extra={"images": ["a.png"]}))
    True
    >>> legacy_survey(VideoSource(path="q", extra={"images": ["a.png"], "sha256_of": "x"}))
    False
    """
    extra = recorded.extra or {}
    return isinstance(extra.get("images"), list) and "sha256_of" not in extra


def legacy_survey_sha256(files: Sequence[str | os.PathLike]) -> str:
    """The sha256 that concept photo surveys recorded before ecoseg 28 (names and bytes only).

    Kept so that a store made then can still be checked exactly against its images; new
    stores record :func:`images_sha256` (or, for one image, the file's sha256).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.png").write_bytes(b"reef")
    >>> legacy_survey_sha256([d / "a.png"]) == images_sha256([d / "a.png"])
    False
    """
    h = hashlib.sha256()
    for f in files:
        h.update(os.path.basename(f).encode())
        update_from_file(h, f)
    return h.hexdigest()


#: EXIF orientation values (TIFF tag 274) whose upright picture is turned a quarter turn
QUARTER_TURNED = frozenset({5, 6, 7, 8})


def orientation(img) -> int:
    """The EXIF orientation of an open PIL image (1, upright as stored, when it has none)."""
    try:
        value = int(img.getexif().get(0x0112, 1))
    except Exception:  # a damaged EXIF block: the picture as stored
        return 1
    return value if 1 <= value <= 8 else 1


def load_rgb8(path: str) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB, upright (16-bit and float images rescaled).

    Upright: a camera that stores a photo sideways with an EXIF orientation tag (phones,
    many action and still cameras) has it turned as every image viewer shows it, as video
    files with a display matrix are (:mod:`ecoseg.io.rotation`).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> path = tempfile.mkdtemp() + "/upright.jpg"
    >>> img = Image.fromarray(np.zeros((40, 60, 3), np.uint8))
    >>> exif = img.getexif()
    >>> exif[0x0112] = 6  # stored sideways: turn a quarter clockwise to view
    >>> img.save(path, exif=exif)
    >>> load_rgb8(path).shape, image_size(path)
    ((60, 40, 3), (40, 60))
    """
    from PIL import Image, ImageOps

    with Image.open(path) as opened:
        img = ImageOps.exif_transpose(opened) if orientation(opened) != 1 else opened
        if img.mode == "RGB":
            return np.array(img)
        if img.mode in ("1", "L", "P", "PA", "LA", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
            return np.array(img.convert("RGB"))
        a = np.asarray(img)
    if a.dtype.kind == "f":
        a = np.clip(np.nan_to_num(a), 0.0, 1.0) * 255.0 + 0.5
    elif a.dtype.itemsize > 1:
        a = np.clip(a, 0, 65535) >> 8
    a = a.astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a[:, :, :3])


def image_size(path: str) -> tuple[int, int]:
    """(width, height) of an image as viewers show it (EXIF orientation applied)."""
    return _viewed(path)[0]


def _viewed(path: str) -> tuple[tuple[int, int], int]:
    """(width, height) as viewers show an image, and its EXIF orientation (1: none)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            w, h = img.size
            tag = orientation(img)
            return ((h, w) if tag in QUARTER_TURNED else (w, h)), tag
    except Exception as e:  # PIL raises many kinds for damaged files
        raise VideoError(f"{path}: not a readable image ({describe_error(e)})") from None


def exif_upright(files: Sequence[str | os.PathLike]) -> dict | None:
    """The first of ``files`` with an EXIF orientation tag, as a store's provenance records a
    folder read upright (``{"image": name, "orientation": tag}``), or None if none has one.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp()
    >>> img = Image.fromarray(np.zeros((4, 6, 3), np.uint8))
    >>> img.save(d + "/0.jpg")
    >>> exif = img.getexif()
    >>> exif[0x0112] = 8
    >>> img.save(d + "/1.jpg", exif=exif)
    >>> exif_upright([d + "/0.jpg", d + "/1.jpg"])
    {'image': '1.jpg', 'orientation': 8}
    """
    for f in files:
        tag = _viewed(str(f))[1]
        if tag != 1:
            return {"image": os.path.basename(f), "orientation": tag}
    return None


#: How each EXIF orientation turns the stored picture to show it, for messages.
_TURNS = {
    2: "mirrored",
    3: "turned half a turn",
    4: "mirrored upside down",
    5: "mirrored and turned a quarter",
    6: "turned a quarter clockwise",
    7: "mirrored and turned a quarter",
    8: "turned a quarter counterclockwise",
}


def exif_change(recorded, upright: dict | None, size: tuple[int, int] | None) -> str | None:
    """Why a store made before ecoseg read EXIF-oriented images upright does not fit its
    folder any more, or None.

    Image folders are read upright (EXIF orientation applied) and the provenance of a store
    made from such a folder says so (``exif_upright``); a store without it holds the images
    as stored, sideways (or upside down) to what the folder now reads, although the files and
    so the folder's sha256 are the same.

    Parameters
    ----------
    recorded : VideoSource or None
        The video the store records (``store.provenance_record.video``).
    upright : dict or None
        The folder's ``exif_upright`` (:attr:`ImageFolderReader.exif_upright`): the first image
        with an orientation tag and its tag; None when no image carries one.
    size : (int, int) or None
        The folder's (width, height) as read now.

    Examples
    --------
    >>> from ecoseg.provenance import VideoSource
    >>> made = VideoSource(path="dive", size=(60, 40), extra={"image_folder": True})
    >>> print(exif_change(made, {"image": "0.jpg", "orientation": 6}, (40, 60)))
    ... # doctest: +NORMALIZE_WHITESPACE
    its images carry an EXIF orientation (0.jpg: turned a quarter clockwise to view) and the
    store was made before ecoseg read such images upright: it holds them as stored, 60x40 px,
    and the folder now reads 40x60 px upright; re-segment the folder into a new store, or use
    this store without the folder (its masks and tables are of the images as stored)
    """
    if upright is None or recorded is None or "exif_upright" in (recorded.extra or {}):
        return None
    turn = _TURNS.get(upright.get("orientation"), "turned")
    made, now = recorded.frame_size, size
    sizes = ""
    if made is not None and now is not None:
        sizes = (
            f": it holds them as stored, {made[0]}x{made[1]} px, and the folder now reads "
            f"{now[0]}x{now[1]} px upright"
        )
    return (
        f"its images carry an EXIF orientation ({upright.get('image')}: {turn} to view) and the "
        f"store was made before ecoseg read such images upright{sizes}; re-segment the folder "
        "into a new store, or use this store without the folder (its masks and tables are of "
        "the images as stored)"
    )


class ImageFolderReader(VideoReader):
    """A folder of numbered images (PNG, JPEG, TIFF) read as a video.

    Files are ordered by the numbers in their names (natural sort: ``img2`` before ``img10``);
    frame ``i`` is at ``i / fps`` seconds (``fps``: :data:`DEFAULT_FPS` when not given: images
    carry no time). Use :func:`open_video` to make one. Its :meth:`record` says
    ``"image_folder": True``, so a store's provenance tells a rate that was chosen from one a
    video file measured.

    Examples
    --------
    >>> from ecoseg.io import open_video
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp()
    >>> for i in (1, 2, 10):
    ...     Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(f"{d}/img{i}.png")
    >>> from pathlib import Path
    >>> video = open_video(d, fps=2)
    >>> [Path(f).name for f in video.files], video.duration
    (['img1.png', 'img2.png', 'img10.png'], 1.5)
    """

    def __init__(self, path, *, size=None, crop=None, fps: float | None = None) -> None:
        p = str(check_path(path))
        fps = DEFAULT_FPS if fps is None else check_fps(fps, p)
        names = folder_images(p)
        twice = same_frame_twice(names)
        if twice is not None:
            raise VideoError(
                f"{os.path.join(p, twice[1])}: the same frame as {twice[0]} (one name, two kinds "
                "of image: a frame export made twice?); each would be read as a frame of its "
                "own, doubling the frames and their times; keep one kind in the folder"
            )
        gap = missing_frame(names)
        if gap is not None:
            raise VideoError(
                f"{os.path.join(p, gap[0])}: frame missing from the numbered sequence (between "
                f"{gap[1]} and {gap[2]}); later frames would get wrong times"
            )
        self.files = [os.path.join(p, name) for name in names]
        #: images without frame numbers, read in name order, in words (None: all numbered);
        #: a run that reads the folder as a video's frames warns with it (:func:`as_reader`)
        note = unnumbered_note(names)
        self.order_note = f"{p}: {note}" if note is not None else None
        source, tag = _viewed(self.files[0])
        #: the first image with an EXIF orientation tag and its tag (None if none has one):
        #: the folder is read upright, and a store's provenance says so
        self.exif_upright = {"image": names[0], "orientation": tag} if tag != 1 else None
        for name, f in zip(names[1:], self.files[1:]):
            s, tag = _viewed(f)
            if tag != 1 and self.exif_upright is None:
                self.exif_upright = {"image": name, "orientation": tag}
            if s != source:
                turned = (
                    " (as viewed: EXIF orientation turns one of them; portrait and landscape "
                    "shots mixed?)"
                    if s == source[::-1]
                    else ""
                )
                raise VideoError(
                    f"{f}: image is {s[0]}x{s[1]} but the folder's first image "
                    f"({names[0]}) is {source[0]}x{source[1]}{turned}; all images must have one "
                    "size"
                )
        n = len(self.files)
        super().__init__(p, np.arange(n) / fps, fps, source, crop, size, n / fps)
        self._workers = max(1, min(4, os.cpu_count() or 1))

    def record(self) -> dict:
        """:meth:`VideoReader.record` with ``"image_folder": True``: the frame rate is the one
        the folder was opened with, not one measured from the source; and ``exif_upright``
        when images carry an EXIF orientation (read upright: :func:`exif_change`)."""
        extra = {} if self.exif_upright is None else {"exif_upright": dict(self.exif_upright)}
        return {**super().record(), "image_folder": True, **extra}

    def _sha256(self) -> str:
        files = self.files
        return cached_digest("images", files, lambda: images_sha256(files))

    def _load(self, index: int) -> Frame:
        f = self.files[index]
        try:
            image = load_rgb8(f)
        except Exception as e:  # PIL raises many kinds for damaged files
            t = self._times[index]
            raise VideoError(
                f"{f}: cannot decode frame {index} (t={t:.3f} s): {describe_error(e)}"
            ) from None
        if image.shape[1::-1] != self._source_size:
            sw, sh = self._source_size
            raise VideoError(f"{f}: image is {image.shape[1]}x{image.shape[0]}, expected {sw}x{sh}")
        if self._crop is not None:
            x0, y0, x1, y1 = self._crop
            image = image[y0:y1, x0:x1]
        if self._size is not None and image.shape[1::-1] != self._size:
            from PIL import Image

            # BOX = area averaging when shrinking (as FFmpeg's "area" for video files);
            # PIL's BILINEAR is antialiased too (its kernel widens with the scale factor).
            shrink = self._size[0] <= image.shape[1] and self._size[1] <= image.shape[0]
            resample = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
            image = np.array(Image.fromarray(image).resize(self._size, resample))
        return Frame(index, float(self._times[index]), image)

    def _read(self, index: int) -> Frame:
        return self._load(index)

    def _iter_indices(self, indices: range) -> Iterator[Frame]:
        if len(indices) <= 1 or self._workers == 1:
            for i in indices:
                yield self._load(i)
            return
        window = 2 * self._workers
        with ThreadPoolExecutor(self._workers, thread_name_prefix="ecoseg-images") as pool:
            pending: deque[Future] = deque()
            todo = iter(indices)
            try:
                for i in todo:
                    pending.append(pool.submit(self._load, i))
                    if len(pending) >= window:
                        break
                while pending:
                    frame = pending.popleft().result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending.append(pool.submit(self._load, nxt))
                    yield frame
            finally:
                for fut in pending:
                    fut.cancel()
