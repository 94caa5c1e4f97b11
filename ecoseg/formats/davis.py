"""DAVIS-style folder of per-frame indexed PNG masks.

Written: ``PATH/00000.png``, ``00001.png``, ... one 8-bit palette PNG per frame (every
annotated frame, empty ones too) whose pixel values are the object ids (0 = background) and
whose palette is the DAVIS / PASCAL VOC one, as the DAVIS 2017 and YouTube-VOS benchmarks ship their
annotations. Object ids must be 1..254: 255 marks *void* pixels in DAVIS, which DAVIS's
evaluation (davis2017-evaluation) and TrackEval's DAVIS reader leave out rather than read as an
object. Classes, scores and times are not part of the format.
A store that annotates some frames only (``provenance["annotated_frames"]``) is written as
PNGs of those frames only, as YouTube-VOS ships every 5th frame's annotation.
Read: ``*.png`` files numbered by the digits in their names (that number is the frame index;
the files' frames are the annotated frames, recorded as such when they are every frame, a
stretch or every N-th frame; frames without a file are empty, with a warning when the files
are no such grid); palette (``P``) or greyscale (``L``) PNGs, RGB PNGs in the
DAVIS palette's colours, or 1-bit PNGs (mode ``1``, as tools save a single object's mask: 0 is
background, 1 is object 1). In a palette PNG (or its colours) 255 is DAVIS's void: those pixels
are left empty, with a :class:`VoidPixelsWarning`; a greyscale PNG's 255 is object 255 (a
0/255 mask, as tools save one object's). Images that are not PNG (a mask saved as JPEG) are
not read, named by a :class:`NotPngWarning`; a folder that holds such images and no PNG (a
video's JPEG frames given as its masks) is refused, saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np

from ecoseg._warn import warn
from ecoseg.errors import FormatError
from ecoseg.formats._annotated import annotated_range, listed_frames, warn_unlisted
from ecoseg.formats._annotation_model import Annotations, Instance, Track, file_annotations
from ecoseg.formats._painting import paint_frame
from ecoseg.formats._rle import encode_masks
from ecoseg.formats._values import size_differs

NAME = "davis"
KIND = "mask"
TIMES = False
SUFFIX = ""
#: what names the frames a file annotates (its frames past the video's end are refused)
LISTS = "PNG masks"
MAX_ID = 254
VOID = 255


class VoidPixelsWarning(UserWarning):
    """DAVIS PNGs with void pixels (value 255 of a palette PNG), imported as background."""


class NotPngWarning(UserWarning):
    """A folder of PNG masks (a DAVIS import, or the truth of :func:`ecoseg.metrics.evaluate`)
    also holds images that are not PNG (a mask saved as JPEG): they are not read, and their
    frames are not imported or scored; the warning names them."""


#: Image files that are no PNG mask (a mask saved as JPEG has its object ids blurred).
OTHER_IMAGES = (".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")

#: Why a folder's images that are not PNG are not read (after what the folder holds, masks).
PNG_ONLY = "are read from PNG files only (JPEG changes the pixel values that are object ids)"


def other_images(folder: Path) -> list[str]:
    """The names of the images in ``folder`` that are not PNG, sorted."""
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() in OTHER_IMAGES)


def warn_other_images(folder: Path | str, done: str, *, masks: str = "masks") -> None:
    """Warn once (:class:`NotPngWarning`) naming the images of a folder of PNG masks that are
    not PNG (``00003.jpg`` among ``00000.png`` ...): they are skipped, their frames not
    ``done`` (``"imported"``, ``"scored"``); until stop 60 an import skipped them without a
    word. ``masks``: what the folder holds, in the message (``"truth masks"``).

    Examples
    --------
    >>> import tempfile, warnings
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("00000.png", "00001.jpg", "00002.JPEG"):
    ...     (d / name).touch()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_other_images(d, "imported")
    >>> print(str(caught[0].message).removeprefix(str(d)))
    : 2 images that are not PNG (00001.jpg, 00002.JPEG), not read: their frames are not \
imported; masks are read from PNG files only (JPEG changes the pixel values that are object ids)
    """
    held = other_images(Path(folder))
    if not held:
        return
    if len(held) == 1:
        what = f"{Path(folder) / held[0]}: not a PNG, not read: its frame is not {done}"
    else:
        shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
        what = (
            f"{folder}: {len(held)} images that are not PNG ({shown}), not read: their "
            f"frames are not {done}"
        )
    warn(f"{what}; {masks} {PNG_ONLY}", NotPngWarning)


#: the dict :func:`read` keeps the void pixels it finds in, while :func:`keeping_void` is open
_KEPT_VOID: ContextVar[dict[int, dict] | None] = ContextVar("ecoseg_davis_void", default=None)


@contextmanager
def keeping_void() -> Iterator[dict[int, dict]]:
    """While open, :func:`read` (and so an import of a PNG folder) keeps the void pixels it
    finds in the dict this yields: ``{frame: RLE}`` of the frames that have some, so a caller
    that needs them (:func:`ecoseg.evaluate`'s :class:`~ecoseg.metrics.VoidPixels`) need not
    decode each PNG again.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> png = Image.fromarray(np.array([[0, 1, 255]], np.uint8), mode="P")
    >>> png.putpalette(palette().ravel().tolist())  # an indexed PNG, as DAVIS's
    >>> png.save(d / "00002.png")
    >>> import warnings
    >>> with keeping_void() as void, warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     _ = read(d, width=3, height=1)
    >>> sorted(void), void[2]["size"]
    ([2], [1, 3])
    """
    kept: dict[int, dict] = {}
    token = _KEPT_VOID.set(kept)
    try:
        yield kept
    finally:
        _KEPT_VOID.reset(token)


def write(ann: Annotations, path: Path) -> None:
    """Write one indexed PNG per annotated frame into the folder ``path``."""
    write_frames(ann, ann.frames(), path)


def write_frames(
    head: Annotations, frames: Iterable[tuple[int, list[Instance]]], path: Path
) -> None:
    """Write one indexed PNG per annotated frame of ``frames`` (``(frame, instances)``, every
    frame in order) into the folder ``path``, frame by frame: each frame's instances painted
    (:func:`~ecoseg.formats._painting.paint_frame`) and written by :func:`write_labels`.

    Raises
    ------
    FormatError
        An object id of ``head``'s object table is above 254 (before any PNG is written).
    """
    todo = written_frames(head)
    h, w = head.height, head.width
    labels = ((t, paint_frame(items, h, w)) for t, items in frames if t in todo)
    write_labels(head, labels, path)


def write_labels(head: Annotations, labels: Iterable[tuple[int, np.ndarray]], path: Path) -> None:
    """Write one indexed PNG per annotated frame of ``labels`` (``(frame, label frame)``, the
    pixel values object ids, every frame in order) into the folder ``path``, frame by frame:
    what a store's export writes (its label frames as they are).

    Raises
    ------
    FormatError
        An object id of ``head``'s object table is above 254 (before any PNG is written), or
        a label frame holds one.
    """
    from PIL import Image

    big = [t.id for t in head.tracks if t.id > MAX_ID]
    if big:
        raise FormatError(
            f"{head.source}: object id {big[0]} does not fit an indexed PNG (DAVIS ids are "
            f"1..{MAX_ID}; {VOID} marks void pixels, which DAVIS tools leave out)"
        )
    path.mkdir(parents=True, exist_ok=True)
    pal = palette().ravel().tolist()
    todo = written_frames(head)
    for t, lab in labels:
        if t not in todo:
            continue
        if lab.size and lab.max() > MAX_ID:
            raise FormatError(
                f"{head.source}: frame {t}: object id {int(lab.max())} does not fit an indexed "
                f"PNG (DAVIS ids are 1..{MAX_ID}; {VOID} marks void pixels, which DAVIS tools "
                "leave out)"
            )
        image = Image.fromarray(lab.astype(np.uint8), mode="P")
        image.putpalette(pal)
        image.save(path / f"{t:05d}.png", optimize=True)


def written_frames(head: Annotations) -> range | set[int]:
    """The frames written as PNGs: the annotated frames (every frame when all are)."""
    todo = annotated_range(head) or range(head.n_frames)
    return todo if isinstance(todo, range) else set(todo)


def frame_files(path: Path) -> dict[int, Path]:
    """``{frame: file}`` of the numbered PNGs in a folder."""
    if not path.is_dir():
        raise FormatError(f"{path}: not a folder of PNG masks")
    files: dict[int, Path] = {}
    for p in path.iterdir():
        if p.suffix.lower() != ".png" or p.name.startswith("."):
            continue
        digits = re.findall(r"\d+", p.stem)
        if not digits:
            raise FormatError(f"{p}: no frame number in the file name")
        frame = int(digits[-1])
        if frame in files:
            raise FormatError(f"{p}: frame {frame} also given by {files[frame].name}")
        files[frame] = p
    if not files:
        raise FormatError(_no_png_masks(path))
    return dict(sorted(files.items()))


def _no_png_masks(path: Path) -> str:
    """The refusal of a folder that holds no PNG mask, naming it: what other images it holds
    (JPEGs alone are likely the video's frames, given as its masks), and that DAVIS masks are
    indexed PNGs.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()) / "frames"
    >>> d.mkdir()
    >>> for name in ("00000.jpg", "00001.jpg", "00002.jpg"):
    ...     (d / name).touch()
    >>> print(_no_png_masks(d).removeprefix(str(d)))
    : holds JPEG images only (00000.jpg, 00001.jpg, ...), no PNG masks: DAVIS annotations are \
indexed PNGs, one per frame (are these the video's frames rather than its masks?)
    >>> (d / "00003.tif").touch()
    >>> print(_no_png_masks(d).removeprefix(str(d)))
    : holds images that are not PNG only (00000.jpg, 00001.jpg, ...), no PNG masks: DAVIS \
annotations are indexed PNGs, one per frame
    """
    held = other_images(path)
    if not held:
        return f"{path}: no PNG masks in the folder"
    jpeg = all(Path(name).suffix.lower() in (".jpg", ".jpeg") for name in held)
    shown = ", ".join(held[:2]) + (", ..." if len(held) > 2 else "")
    what = "JPEG images only" if jpeg else "images that are not PNG only"
    guess = " (are these the video's frames rather than its masks?)" if jpeg else ""
    return (
        f"{path}: holds {what} ({shown}), no PNG masks: DAVIS annotations are indexed PNGs, "
        f"one per frame{guess}"
    )


def read_png(path: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Label image (uint8) of one DAVIS PNG, and its void pixels (bool, (H, W); palette value
    255, set to 0 in the labels), or None when it has none (a greyscale or 1-bit PNG never
    has: its 255 is an object)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            if mode in ("P", "L"):
                labels = np.asarray(image, dtype=np.uint8)  # palette indices or grey values
            elif mode == "1":  # 1-bit: one object, as tools save a single object's mask
                labels = np.asarray(image, dtype=bool).astype(np.uint8)
            elif mode in ("RGB", "RGBA"):
                rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
                labels = _from_colours(rgb, path)
            else:
                raise FormatError(f"{path}: PNG mode {mode} is not an indexed mask")
    except (UnidentifiedImageError, OSError) as exc:
        raise FormatError(f"{path}: not a readable PNG ({exc})") from None
    if labels.shape != (height, width):
        found = f"mask size {labels.shape[1]}x{labels.shape[0]}"
        raise size_differs(str(path), found, width, height)
    if mode not in ("L", "1"):  # indexed: DAVIS's void
        is_void = labels == VOID
        if is_void.any():
            return np.where(is_void, 0, labels).astype(np.uint8), is_void
    return labels, None


def _from_colours(rgb: np.ndarray, path: Path) -> np.ndarray:
    pal = palette().astype(np.int64)
    key = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
    pixels = (
        (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    )
    order = np.argsort(key)
    pos = np.searchsorted(key[order], pixels)
    pos = np.clip(pos, 0, 255)
    found = key[order][pos] == pixels
    if not found.all():
        y, x = np.argwhere(~found)[0]
        raise FormatError(f"{path}: pixel ({x}, {y}) has a colour outside the DAVIS palette")
    return order[pos].astype(np.uint8)


def read(path: Path, *, width: int, height: int) -> Annotations:
    """Read a folder of DAVIS PNG masks."""
    files = frame_files(path)
    warn_other_images(path, "imported")
    instances = []
    ids: set[int] = set()
    voids: list[str] = []
    kept = _KEPT_VOID.get()
    for frame, file in files.items():
        labels, void = read_png(file, width, height)
        if void is not None:
            voids.append(file.name)
            if kept is not None:
                kept[frame] = encode_masks(void[None])[0]
        present = np.unique(labels)
        present = present[present != 0]
        if present.size == 0:
            continue
        rles = encode_masks(labels[None] == present[:, None, None])
        for oid, rle in zip(present.tolist(), rles):
            ids.add(oid)
            instances.append(Instance(frame=frame, track=oid, rle=rle, where=file.name))
    if voids:
        warn(
            f"{path}: {len(voids)} PNGs ({voids[0]} first) have void pixels (255, which DAVIS's "
            "evaluation leaves out); they are imported as background",
            VoidPixelsWarning,
        )
    annotated = listed_frames(files)
    if annotated is None:
        warn_unlisted(str(path), files, "PNG masks")
    tracks = [Track(i) for i in sorted(ids)]
    return file_annotations(
        path, width, height, tracks, instances, n_frames=max(files) + 1, annotated=annotated
    )


def palette() -> np.ndarray:
    """The 256-colour palette of DAVIS / PASCAL VOC indexed PNGs, (256, 3) uint8.

    Colour ``i`` spreads the bits of ``i`` over the high bits of red, green and blue.

    Examples
    --------
    >>> palette()[:4].tolist()
    [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
    """
    idx = np.arange(256)
    pal = np.zeros((256, 3), np.uint8)
    for bit in range(8):
        for channel in range(3):
            pal[:, channel] |= (((idx >> (3 * bit + channel)) & 1) << (7 - bit)).astype(np.uint8)
    return pal
