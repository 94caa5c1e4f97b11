"""A DAVIS-style folder of indexed PNG masks (pixel value = object id) as the truth of
:func:`ecoseg.metrics.evaluate`, for all frames of a video or some of them, and its *void*
pixels (value 255 of an indexed PNG), which the scores leave out as DAVIS's do
(:class:`VoidPixels`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ecoseg.formats.davis import PNG_ONLY, NotPngWarning, other_images, warn_other_images

__all__ = [
    "NotPngWarning",
    "VoidPixels",
    "check_truth",
    "is_png_folder",
    "png_frames",
    "png_side",
    "truth_from_pngs",
]


def is_png_folder(path: Any) -> bool:
    """Whether ``path`` is a folder of PNG masks (and not a zarr store)."""
    if not isinstance(path, str | Path):
        return False
    folder = Path(path)
    if not folder.is_dir() or (folder / "zarr.json").exists():
        return False
    return any(p.suffix.lower() == ".png" for p in folder.iterdir())


def check_truth(truth: Any) -> None:
    """Refuse a truth path that is neither a mask store nor a folder of PNG masks, in one line.

    A path or URL is opened as a store (read-only, closed again); a store object is left to
    the caller. ``ecoseg report --truth`` checks its truths with this before any work, as
    ``ecoseg evaluate --truth`` refuses them.

    Raises
    ------
    StoreError
        Nothing there (``no such store``), a folder with neither ``zarr.json`` nor PNGs (naming
        the stores or the folders of PNG masks it holds), or anything else that is no mask
        store, named as :meth:`MaskStore.open` names it.

    Examples
    --------
    >>> import tempfile
    >>> check_truth(tempfile.mkdtemp() + "/nope.zarr")
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: .../nope.zarr: no such store
    """
    if not isinstance(truth, str | Path) or is_png_folder(truth):
        return
    from ecoseg.errors import StoreError
    from ecoseg.store import Location, check_opens

    if Path(truth).is_dir() and not (Path(truth) / "zarr.json").exists():
        folder = Path(truth)
        inside = (
            Location(truth).stores_inside_note()
            or _png_folders_note(folder)
            or _other_images_note(folder)
        )
        raise StoreError(f"{truth}: is neither a mask store nor a folder of PNG masks{inside}")
    check_opens(truth)


def _png_folders_note(folder: Path) -> str:
    """``"; it holds folders of PNG masks: A, B (a folder per video, as DAVIS's
    Annotations/480p: give one)"``, or ``""``: the end of the refusal of a folder whose PNG
    masks lie one level down (they are one video's masks, not several videos')."""
    held = sorted(str(sub) for sub in folder.iterdir() if sub.is_dir() and is_png_folder(sub))
    if not held:
        return ""
    shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
    return (
        f"; it holds folders of PNG masks: {shown} (a folder per video, as DAVIS's "
        "Annotations/480p: give one)"
    )


def _other_images_note(folder: Path) -> str:
    """``"; it holds images that are not PNG (00000.jpg, ...): truth masks are read from PNG
    files only"``, or ``""``: the end of the refusal of a folder of masks saved as JPEG."""
    held = other_images(folder)
    if not held:
        return ""
    shown = ", ".join(held[:2]) + (", ..." if len(held) > 2 else "")
    return f"; it holds images that are not PNG ({shown}): truth masks {PNG_ONLY}"


def truth_from_pngs(folder: Any, pred: Any, out: Any, *, void: VoidPixels | None = None) -> Any:
    """A truth store at ``out`` from a DAVIS-style PNG folder of some or all frames of ``pred``.

    Frames are matched by the numbers in the file names (``00000.png`` is frame 0); the
    frame times are the prediction's. A folder may hold a PNG for some frames only (DAVIS-style
    annotation of every k-th frame): the frames without one are empty in the store, and
    :func:`evaluate` scores only the frames that have a PNG (:func:`png_frames`). Void pixels
    are background in the store (:func:`evaluate` leaves them out with :class:`VoidPixels`,
    so the import's ``VoidPixelsWarning`` is not given here). ``void``: the
    :class:`VoidPixels` of ``folder``, given the void pixels the import finds, so that it
    decodes no PNG again.

    Raises
    ------
    FormatError
        A file name holds no frame number, two files give one frame, a PNG is past the last
        frame of ``pred`` or of another size (``".../00000.png: mask size 80x48, but the
        video V of the store S is 64x48"``: :func:`png_side`; each PNG is read once, by the
        import, which refuses it).

    Warns
    -----
    NotPngWarning
        The folder also holds images that are not PNG (a mask saved as JPEG): not read, named.
    """
    from ecoseg._warn import unsaid
    from ecoseg.formats import UnannotatedFramesWarning, VideoInfo, import_annotations
    from ecoseg.formats._values import SizeMismatch, size_differs
    from ecoseg.formats.davis import VoidPixelsWarning, keeping_void
    from ecoseg.store import MaskStore

    png_frames(folder, pred.n_frames)
    warn_other_images(folder, "scored", masks="truth masks")  # (the import's own: unsaid)
    info = VideoInfo.of(pred)
    # evaluate scores the frames with a PNG, listed or not, and leaves the void out (which
    # the import keeps for it; this thread's warnings only: a warnings filter would be every
    # thread's)
    with (
        unsaid(UnannotatedFramesWarning, VoidPixelsWarning, NotPngWarning),
        keeping_void() as found,
    ):
        try:
            import_annotations(folder, "davis", info, out, chunk_frames=pred.chunk_frames)
        except SizeMismatch as exc:  # named as evaluate names the prediction
            raise size_differs(*exc.parts, of=png_side(pred)) from None
    if void is not None:
        void.found(found)
    return MaskStore.open(out)


def png_frames(folder: Any, n_frames: int, *, why: str = "", of: str = "the video") -> list[int]:
    """The frames a DAVIS-style PNG folder annotates (those with a PNG), in order.

    ``of`` names what a frame past the end is past (``"the video V of the store S"``:
    :func:`png_side`); ``why`` ends its message (``": its run did not finish; ..."`` for a
    store whose run was interrupted).

    Raises
    ------
    FormatError
        A file name holds no frame number, two files give one frame, or a file's frame is
        past the last of ``n_frames``; the message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("00000.png", "00005.png", "00010.png"):
    ...     (d / name).touch()
    >>> png_frames(d, 12)
    [0, 5, 10]
    >>> png_frames(d, 8)
    Traceback (most recent call last):
    ...
    ecoseg.errors.FormatError: .../00010.png: frame 10 is past the end of the video (8 frames, 0..7)
    """
    from ecoseg.errors import FormatError
    from ecoseg.formats.davis import frame_files

    files = frame_files(Path(folder))
    for frame in sorted(files):
        if frame >= n_frames:
            raise FormatError(
                f"{files[frame]}: frame {frame} is past the end of {of} ({n_frames} "
                f"frame{'s' if n_frames != 1 else ''}, 0..{n_frames - 1}){why}"
            )
    return sorted(files)


def png_side(store: Any) -> str:
    """How a refusal of a PNG folder names the store it is compared with: ``"the video V of
    the store S"`` (``"the store S"`` when it records no video).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> png_side(ecoseg.MaskStore.open(clip.truth))  # doctest: +ELLIPSIS
    'the video video.mp4 of the store .../truth.zarr'
    """
    video = store.provenance_record.video
    named = f"the video {video.path} of " if video is not None and video.path else ""
    return f"{named}the store {store.path}"


class VoidPixels:
    """The void pixels (value 255 of an indexed PNG) of a DAVIS-style PNG folder, by frame.

    DAVIS's evaluation (davis2017-evaluation's unsupervised protocol, TrackEval's DAVIS reader)
    leaves them out: a predicted pixel there is neither right nor wrong. :func:`evaluate` sets
    the prediction to background on them (as TrackEval does), so J is the IoU over the other
    pixels and F the boundary F of both masks less the void.

    Calling it with ``(start, stop)`` gives the void of those frames (bool, ``(stop - start,
    H, W)``), or None when they have none; :attr:`counts` holds the void pixels of each frame
    read that has some. Each PNG is decoded when its frame is first asked for, unless
    :meth:`found` was given the void the folder's import found (:func:`truth_from_pngs`):
    then none is decoded.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> png = Image.fromarray(np.array([[0, 1, 255, 255]], np.uint8))
    >>> png.putpalette([0, 0, 0] * 256)  # an indexed PNG, as DAVIS's
    >>> png.save(d / "00001.png")
    >>> void = VoidPixels(d, width=4, height=1)
    >>> void(0, 2).astype(int).tolist(), void.counts
    ([[[0, 0, 0, 0]], [[0, 0, 1, 1]]], {1: 2})
    >>> void(0, 1) is None
    True
    """

    def __init__(self, folder: Any, *, width: int, height: int):
        from ecoseg.formats.davis import frame_files

        self.files = frame_files(Path(folder))
        self.shape = (height, width)
        self.counts: dict[int, int] = {}
        self._clean: set[int] = set()  # frames read that have none: not decoded again
        self._found: dict[int, dict] | None = None  # the import's void, by frame (RLE)

    def found(self, void: dict[int, dict]) -> None:
        """Take the void pixels of the folder's PNGs as its import found them, ``{frame:
        RLE}`` of the frames that have some (:func:`ecoseg.formats.davis.keeping_void`):
        from now on no PNG is decoded again.

        Examples
        --------
        >>> import tempfile, pathlib, numpy as np
        >>> from ecoseg.formats._rle import encode_masks
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> (d / "00000.png").touch()  # not read: the void was found already
        >>> void = VoidPixels(d, width=3, height=1)
        >>> void.found({0: encode_masks(np.array([[[False, True, True]]]))[0]})
        >>> void(0, 1).astype(int).tolist(), void.counts
        ([[[0, 1, 1]]], {0: 2})
        """
        self._found = dict(void)

    def __call__(self, start: int, stop: int) -> np.ndarray | None:
        from ecoseg.formats._rle import decode_rle
        from ecoseg.formats.davis import read_png

        out = None
        for frame in range(start, stop):
            if frame not in self.files or frame in self._clean:
                continue
            if self._found is None:
                _, void = read_png(self.files[frame], self.shape[1], self.shape[0])
            elif frame in self._found:
                void = decode_rle(self._found[frame], *self.shape, str(self.files[frame]))
            else:
                void = None
            if void is None:
                self._clean.add(frame)
                continue
            if out is None:
                out = np.zeros((stop - start, *self.shape), bool)
            out[frame - start] = void
            self.counts[frame] = int(void.sum())
        return out
