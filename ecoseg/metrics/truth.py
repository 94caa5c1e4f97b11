"""A DAVIS-style folder of indexed PNG masks (pixel value = object id) as the truth of
:func:`ecoseg.metrics.evaluate`, for all frames of a video or some of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["is_png_folder", "png_frames", "truth_from_pngs"]


def is_png_folder(path: Any) -> bool:
    """Whether ``path`` is a folder of PNG masks (and not a zarr store)."""
    if not isinstance(path, str | Path):
        return False
    folder = Path(path)
    if not folder.is_dir() or (folder / "zarr.json").exists():
        return False
    return any(p.suffix.lower() == ".png" for p in folder.iterdir())


def truth_from_pngs(folder: Any, pred: Any, out: Any) -> Any:
    """A truth store at ``out`` from a DAVIS-style PNG folder of some or all frames of ``pred``.

    Frames are matched by the numbers in the file names (``00000.png`` is frame 0); the
    frame times are the prediction's. A folder may hold a PNG for some frames only (DAVIS-style
    annotation of every k-th frame): the frames without one are empty in the store, and
    :func:`evaluate` scores only the frames that have a PNG (:func:`png_frames`).

    Raises
    ------
    FormatError
        A file name holds no frame number, two files give one frame, a PNG is past the last
        frame of ``pred`` or of another size.
    """
    import warnings

    from ecoseg.formats import UnannotatedFramesWarning, VideoInfo, import_annotations
    from ecoseg.store import MaskStore

    png_frames(folder, pred.n_frames)
    with warnings.catch_warnings():  # evaluate scores the frames with a PNG, listed or not
        warnings.simplefilter("ignore", UnannotatedFramesWarning)
        import_annotations(folder, "davis", VideoInfo.of(pred), out, chunk_frames=pred.chunk_frames)
    return MaskStore.open(out)


def png_frames(folder: Any, n_frames: int, *, why: str = "") -> list[int]:
    """The frames a DAVIS-style PNG folder annotates (those with a PNG), in order.

    ``why`` ends the message of a frame past the end (``": its run did not finish; ..."``
    for a store whose run was interrupted).

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
                f"{files[frame]}: frame {frame} is past the end of the video ({n_frames} "
                f"frames, 0..{n_frames - 1}){why}"
            )
    return sorted(files)
