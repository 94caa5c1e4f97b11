"""What *Review tracks* runs off the Qt thread, free of Qt: an edit and the gallery's rows.

An edit rewrites the store and then reads its regions table again (a full pass over the
labels: minutes on an hour of video), its masks for the layer, and the gallery's thumbnails
(one frame per track). :func:`run_edits` does all of it in a napari worker thread and returns
an :class:`EditDone`; the widget hands it to the layer, the tracks layer and the gallery on
the Qt thread, with its buttons greyed out meanwhile. :func:`gallery_rows` is the gallery's
part alone (its table, thumbnails and the store's warning): the widget runs it in a worker
too when a layer is chosen, opened or saved to a new store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ecoseg.napari._review_reload import Loaded

__all__ = ["EditDone", "Failed", "Gallery", "caught", "error_line", "gallery_rows", "run_edits"]


@dataclass(frozen=True)
class Gallery:
    """The gallery's rows of a store.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`~ecoseg.napari._gallery.gallery_table`: one row per track.
    thumbs : list of numpy.ndarray
        One RGB thumbnail per row of ``table`` (:func:`~ecoseg.napari._gallery.thumbnail`).
    warning : str or None
        :func:`~ecoseg.napari._check.edit_warning`: what an interrupted ``ecoseg edit`` left.
    """

    table: pd.DataFrame
    thumbs: list[np.ndarray]
    warning: str | None


@dataclass(frozen=True)
class EditDone:
    """What an edit wrote and read back.

    Attributes
    ----------
    entries : list of dict
        The edit-log entries written (:func:`~ecoseg.species.apply_edits`).
    reg : pandas.DataFrame
        The edited store's regions table (for the tracks layer and the gallery).
    gallery : Gallery
        The edited store's gallery rows.
    loaded : Loaded
        The edited store's masks and objects for its layers
        (:func:`~ecoseg.napari._review_reload.read_layer`).
    strokes : tuple of dict
        The hand corrections not saved of each layer given, to paint back over them
        (:func:`~ecoseg.napari._review_reload.relabelled`: the edit applied to their ids).
    """

    entries: list[dict]
    reg: pd.DataFrame
    gallery: Gallery
    loaded: Loaded
    strokes: tuple = ()


def gallery_rows(path, reg: pd.DataFrame | None = None, frames: Any = None) -> Gallery:
    """The gallery of the store at ``path``: its table (from its regions table ``reg`` when
    read already), a thumbnail per track cut from ``frames`` (the video layer's data: frames
    along the first axis; None: the masks alone) and the store's unfinished-edit warning,
    all from the store opened once here (closed after).

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> rows = gallery_rows(sample().truth)
    >>> len(rows.thumbs) == len(rows.table), rows.thumbs[0].shape, rows.warning
    (True, (64, 64, 3), None)
    """
    from ecoseg.measure.regions import regions
    from ecoseg.napari._check import edit_warning
    from ecoseg.napari._gallery import gallery_table, thumbnail
    from ecoseg.store import MaskStore

    # opened once (its regions, its survey flag, its thumbnails' masks, its edit log), closed
    with MaskStore.open(path) as store:
        reg = regions(store) if reg is None else reg
        table = gallery_table(reg, survey=store.provenance_record.is_survey)
        thumbs = []
        for row in table.itertuples(index=False):
            frame = int(row.best_frame)
            labels = store.read_labels(frame, frame + 1)[0]
            image = None
            if frames is not None and frame < frames.shape[0]:
                image = np.asarray(frames[frame])
            thumbs.append(thumbnail(image, labels == row.object_id, row.bbox))
        return Gallery(table, thumbs, edit_warning(store))


def run_edits(
    path, edits: Sequence, frames: Any = None, words: Any = None, layers: Sequence = ()
) -> EditDone:
    """Write ``edits`` to the store at ``path``, all or nothing
    (:func:`~ecoseg.species.apply_edits`, refusals in ``words``: by default the widget's
    buttons', :func:`~ecoseg.napari._review_words.button_words`), then read
    its regions table once, the gallery's rows from it (``frames``: as
    :func:`gallery_rows`) and its masks for its layers
    (:func:`~ecoseg.napari._review_reload.read_layer`), with the hand corrections not saved
    of each of ``layers`` (their :func:`~ecoseg.napari._review_reload.snapshot`; read before
    the edit), one edit's merge, split or delete applied to their ids, to paint back. A
    refusal raises, the store as it was.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from ecoseg.sample import sample
    >>> from ecoseg.species import Edit
    >>> path = shutil.copytree(sample().truth, tempfile.mkdtemp() + "/t.zarr")
    >>> done = run_edits(path, [Edit("delete", (3,))])
    >>> done.entries[0]["kind"], 3 in set(done.gallery.table["object_id"]), done.strokes
    ('delete', False, ())
    """
    from ecoseg.measure.regions import regions
    from ecoseg.napari._review_reload import painted, read_layer, relabelled
    from ecoseg.napari._review_words import button_words
    from ecoseg.species import apply_edits

    strokes = [painted(layer, path) for layer in layers]  # the store's frames as they were
    entries = list(apply_edits(path, edits, words=button_words if words is None else words))
    edit = edits[0] if len(edits) == 1 else None  # several: names only, no masks change
    if edit is not None and entries and entries[0].get("new_id"):  # none: a repeat
        from ecoseg.species._edit_record import with_new_id

        edit = with_new_id(edit, entries[0]["new_id"])
    reg = regions(path)  # read once for the tracks layer and the gallery (a full pass)
    gallery = gallery_rows(path, reg, frames)
    kept = tuple(relabelled(each, edit) for each in strokes)
    return EditDone(entries, reg, gallery, read_layer(path), kept)


@dataclass(frozen=True)
class Failed:
    """A refusal :func:`caught` in the worker: the status line's words (no traceback)."""

    line: str


def caught(func, args: tuple, path, catch: tuple = ()) -> Any:
    """``func(*args)``, or :class:`Failed` with its :func:`error_line` when it raises a
    refusal a user can cause (an :class:`~ecoseg.errors.EcosegError`, an ``OSError``, or one
    of ``catch``): napari would show those as a traceback besides the status line.

    Examples
    --------
    >>> caught(int, ("12",), "T1.zarr")
    12
    >>> caught(open, ("no/such/file",), "T1.zarr")
    Failed(line='no/such/file: No such file or directory')
    """
    from ecoseg.errors import EcosegError

    try:
        return func(*args)
    except (EcosegError, OSError, *catch) as exc:
        return Failed(error_line(exc, path))


def error_line(exc: BaseException, path) -> str:
    """What the status line says of an edit's failure, in one line.

    Examples
    --------
    >>> error_line(PermissionError(13, "Permission denied", "T1.zarr/zarr.json"), "T1.zarr")
    'T1.zarr/zarr.json: Permission denied'
    >>> error_line(ValueError("bad\\n  value"), "T1.zarr")
    'ValueError: bad value'
    """
    from ecoseg.errors import EcosegError

    if isinstance(exc, EcosegError):
        return " ".join(str(exc).split())
    if isinstance(exc, OSError):  # a read-only share, a full disk: one line, not a traceback
        return f"{exc.filename or path}: {exc.strerror or exc}"
    return " ".join(f"{type(exc).__name__}: {exc}".split())
