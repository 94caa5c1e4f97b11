"""Export: a mask store written in an annotation format (:func:`export`), frame by frame, under
a partial name beside the output and renamed into place once whole (:mod:`._partials`), so an
export that fails leaves an earlier output as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._checks import check_path_arg, check_switch
from ecoseg._paths import check_out_suffix, check_outside_store, check_text_replaceable
from ecoseg._warn import warn
from ecoseg.errors import EmptyExportWarning, FormatError, StoreError
from ecoseg.formats._annotated import annotated_range, check_annotated, off_grid
from ecoseg.formats._annotation_model import Annotations, Instance
from ecoseg.formats._files import check_output
from ecoseg.formats._partials import (
    FOLDER_FILE,
    check_nothing_to_undo,
    left_to_undo,
    partial_name,
    remove_path,
    remove_stale_partials,
    replace_path,
    replace_together,
)
from ecoseg.formats._registry import check_not_swapped, format_module
from ecoseg.formats._stores import mask_where, store_frames, store_head, store_labels

__all__ = ["export"]


def export(
    store: Any,
    format: str,
    out: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
    polygons: bool = False,
    mot_layout: str | None = None,
    path: str | os.PathLike | None = None,
) -> str:
    """Write a mask store in an annotation format.

    Parameters
    ----------
    store : MaskStore, str or Path
        The mask store.
    format : {"coco", "ytvis", "mot", "mots", "cvat", "viame", "davis"}
    out : str or Path
        Output file (a folder for ``davis``); the third positional argument, or ``out=``.
    overwrite : bool
        Replace an existing file or folder (once the new one is written: an export that
        fails leaves it as it was).
    progress : bool
        Show a progress bar over the frames, each read and written in turn ("reading masks";
        ``davis``: "writing PNGs"; ``cvat``: "writing CVAT", whose writing takes longer than
        the reading).
    polygons : bool
        ``viame`` only: add each object's outline as a ``(poly)`` field.
    mot_layout : {"tracker", "gt"}, optional
        ``mot`` only: the tracker result layout (10 columns, with scores; the default) or the
        ground-truth one (9 columns: each object's class index, its names in a ``labels.txt``
        written beside ``out``, which ``overwrite`` replaces too; scores lost).
    path : str or Path, optional
        Deprecated: the old name of ``out`` (every other function names its output ``out``);
        still taken, with a ``DeprecationWarning``.

    Returns
    -------
    str
        ``out``.

    Raises
    ------
    FormatError
        Unknown format, an existing output without ``overwrite``, an output named as another
        kind of file (``--format davis -o x.json``, ``coco -o ann.csv``), or a store the
        format cannot hold (DAVIS: object ids above 254; a mask on a frame the store says
        nobody annotated).
    StoreError
        The store is missing or malformed, holds no frames (a run stopped before its first:
        :func:`ecoseg.measure.no_frames_reason`), or an interrupted ``ecoseg edit`` left it
        half written (:func:`ecoseg.store.check_finished`); nothing is written.
    TypeError
        ``out`` is not a path (``None``, a list), or is given twice (``out`` and ``path``).

    Warns
    -----
    UnannotatedFramesWarning
        The store annotates some frames only (``provenance["annotated_frames"]``, e.g. a CVAT
        task of every 5th frame) and the format cannot list them (``mot``, ``mots``,
        ``viame``): a reader will take the other frames as frames with no animals. ``cvat``
        writes them as its task frames (``start_frame``, ``stop_frame``, ``frame_filter``),
        ``coco`` and ``ytvis`` list only them, ``davis`` writes a PNG for them only.
    EmptyExportWarning
        The store has no objects (or no masks): the output is written and holds no
        annotations.
    IncompleteStoreWarning
        The store's run did not finish (an interrupted ``ecoseg segment``): the output holds
        the frames written so far (:func:`ecoseg.measure.incomplete_note`, as ``measure`` says).

    Examples
    --------
    >>> import ecoseg, tempfile, os, json
    >>> d = tempfile.mkdtemp()
    >>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=2, size=(64, 48))
    >>> written = ecoseg.export(clip.truth, "coco", out=os.path.join(d, "masks.json"))
    >>> len(json.load(open(written))["images"])
    2
    """
    from ecoseg.measure import IncompleteStoreWarning, incomplete_note, no_frames_reason
    from ecoseg.store import opened_store

    path = _given_out(out, path)
    check_not_swapped(format, path, "export(store, format, out)")
    module = format_module(format)
    check_path_arg(path, "export: out", "a path to the output file (a folder for davis)")
    progress = check_switch(progress, "export: progress")  # "no" showed a bar
    if polygons and module.NAME != "viame":
        raise FormatError(f"polygons=True (--polygons) applies to the viame format, not {format}")
    if mot_layout is not None:
        _check_mot_layout(module, mot_layout, path)
    text = os.fspath(path)
    if not text.strip():  # Path("") is the working folder: it was refused as '.'
        raise FormatError(
            f"export: out {text!r} is empty: name the output file (a folder for davis)"
        )
    if module.NAME != "davis" and text.endswith(("/", os.sep)):  # a file named as the folder
        raise FormatError(  # was written ('-o exports/' wrote the JSON as a file 'exports')
            f"{text}: names a folder, but a {module.NAME} export is one file: name the file "
            f"({text.rstrip('/' + os.sep) or '.'}/masks{module.SUFFIX})"
        )
    # the store before the output (a missing store is named before an output that exists);
    # one opened from a path is closed again
    with opened_store(store) as st:
        # first: an output folder a killed export left aside is put back, and then checked as
        # any output is (replaced only with overwrite)
        remove_stale_partials(Path(path).resolve())
        if mot_layout == "gt":  # then labels.txt's, which tell a gt file's pair left unfinished
            remove_stale_partials((Path(path).parent / module.LABELS).resolve())
        _check_replaceable(Path(path), folder=module.NAME == "davis")  # first: overwrite would
        check_outside_store(path, store, error=FormatError)  # not help there: its zarr.json, a
        check_out_suffix(path, module.SUFFIX, _WHAT[module.SUFFIX] % module.NAME, error=FormatError)
        out = check_output(path, overwrite)  # zip store, davis -o x.json
        labels = _mot_labels(module, mot_layout, out, overwrite)
        head = store_head(st)  # no masks yet: read frame by frame while they are written
        options = _viame_options(st, polygons) if module.NAME == "viame" else {}
        if labels is not None:
            options = {"layout": "gt"}
            names = module.label_names(head)  # refused before anything is written
        if not head.n_frames:  # an empty file reads back as frames with no animals
            raise StoreError(
                f"{st.path}: holds no frames, so there is nothing to export (an empty file "
                f"would read back as a video with no animals): {no_frames_reason(st)}"
            )
        note = incomplete_note(st, "the annotations")
        # written beside the output and swapped in at the end: an export that fails (DAVIS
        # ids above 254, a full disk, a mask off the annotated frames) leaves an earlier
        # output as it was
        full = out.resolve()  # a name to put the partial output beside, also for "-o ."
        part = full.with_name(partial_name(full.name))
        # not over what a failed undo of this process left (its partial files, an earlier gt
        # file aside), in any layout: a later process would put that back over this output
        check_nothing_to_undo(full)
        if part.exists():
            remove_path(part)
        desc = _WRITING.get(module.NAME, "reading masks")
        if hasattr(module, "write_labels"):  # label images: the store's frames as they are
            frames = _CheckedLabels(head, store_labels(st, head, progress=progress, desc=desc))
            write = module.write_labels
        else:
            frames = _Checked(head, store_frames(st, head, progress=progress, desc=desc))
            write = module.write_frames
        # the class names too, so that a failure of either leaves both files as they were
        labels_part = labels.with_name(partial_name(labels.name)) if labels is not None else None
        try:  # frame by frame: memory flat in the frames
            write(head, frames, part, **options)
            check_annotated(head, module.NAME)  # warn: a format that cannot list the frames
            if labels_part is not None:
                labels_part.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
            if labels_part is None:  # a folder: the old one aside until the new one is in
                replace_path(part, full)
            else:  # the file and its class names land together, or neither does
                replace_together([(part, full), (labels_part, labels)])
        except OSError as exc:  # a full disk, no permission: named by the output, not by
            if not _names_partial(exc, part):  # the hidden name it was written under
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), str(out)) from exc
        finally:  # kept where a failed undo left the pair unfinished: they tell the next
            # export to undo it (a new gt file beside the earlier labels.txt)
            if labels_part is None or not left_to_undo(full):
                for left in (part, labels_part):
                    if left is not None and left.exists():
                        remove_path(left)
    if not frames.instances:  # a valid file, but likely not what was meant: say so
        what = "objects" if not head.tracks else "masks"
        warn(
            f"{head.source}: the store has no {what}; {out} holds no annotations",
            EmptyExportWarning,
        )
    if note is not None:  # annotations of part of a video: written, and said so
        warn(note, IncompleteStoreWarning)
    return str(out)


def _given_out(out: Any, path: Any) -> Any:
    """The output :func:`export` was given: ``out``, or the deprecated ``path=`` with a
    DeprecationWarning at the caller's line; both given is a TypeError.

    Examples
    --------
    >>> _given_out("a.json", None)
    'a.json'
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _given_out(None, "a.json"), caught[0].category.__name__
    ('a.json', 'DeprecationWarning')
    >>> _given_out("a.json", "b.json")
    Traceback (most recent call last):
    ...
    TypeError: export: out (a.json) and path (b.json) given; path is the old name of out: give out
    """
    if path is None:
        return out
    if out is not None:
        raise TypeError(
            f"export: out ({out}) and path ({path}) given; path is the old name of out: give out"
        )
    warn(
        "export(path=...) is now export(out=...), as every ecoseg function names its output; "
        "path= will be removed",
        DeprecationWarning,
    )
    return path


class _Checked:
    """A store's frames as an export writes them: refused at the first mask on a frame the
    store says nobody annotated (:func:`~ecoseg.formats._annotated.off_grid`), counted."""

    def __init__(self, head: Annotations, frames: Iterator[tuple[int, Any]]):
        self.head, self.frames, self.instances = head, frames, 0
        kept = annotated_range(head)
        self.kept = kept if kept is None or isinstance(kept, range) else set(kept)

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        for t, frame in self.frames:
            n = self._count(frame)
            if n and self.kept is not None and t not in self.kept:
                raise off_grid(self.head, self._first(t, frame), annotated_range(self.head))
            self.instances += n
            yield t, frame

    def _count(self, items: list[Instance]) -> int:
        return len(items)

    def _first(self, t: int, items: list[Instance]) -> Instance:
        return items[0]


class _CheckedLabels(_Checked):
    """:class:`_Checked` over label frames (:func:`store_labels`): each object id present is
    an instance (store masks never overlap)."""

    def _count(self, lab: np.ndarray) -> int:
        from ecoseg.store import present_ids

        return int(present_ids(lab).size)

    def _first(self, t: int, lab: np.ndarray) -> Instance:
        from ecoseg.store import present_ids

        oid = int(present_ids(lab)[0])
        return Instance(frame=t, track=oid, where=mask_where(t, oid))


#: the bar of formats whose writing takes longer than reading the store (each frame read and
#: written in turn)
# what an export is, by its module's SUFFIX (check_out_suffix: x.json for davis is refused)
_WHAT = {
    "": "a %s export is a folder of PNG masks",
    ".json": "a %s export is a JSON file",
    ".xml": "a %s export is an XML file",
    ".txt": "a %s export is a text table",
    ".csv": "a %s export is a CSV table",
}

_WRITING = {"davis": "writing PNGs", "cvat": "writing CVAT"}


def _names_partial(exc: OSError, part: Path) -> bool:
    """Whether ``exc`` names the partial output ``part`` or a file in it (a DAVIS PNG)."""
    name = exc.filename
    return name is not None and (
        os.fspath(name) == str(part) or os.fspath(name).startswith(str(part) + os.sep)
    )


def _check_mot_layout(module: Any, layout: Any, path: Any) -> None:
    """Refuse ``mot_layout`` given with another format, a layout the mot export does not
    write, and the gt layout's output named as its ``labels.txt``."""
    if module.NAME != "mot":
        raise FormatError(f"mot_layout (--mot-layout) applies to the mot format, not {module.NAME}")
    if layout not in module.LAYOUTS:
        raise FormatError(
            f"mot_layout {layout!r} is not one of {', '.join(module.LAYOUTS)} (--mot-layout)"
        )
    if layout == "gt" and Path(path).name == module.LABELS:
        raise FormatError(
            f"{path}: the gt layout writes its class names to {module.LABELS} beside the "
            f"file; name the file otherwise (gt.txt)"
        )


def _mot_labels(module: Any, layout: str | None, path: Path, overwrite: bool) -> Path | None:
    """The ``labels.txt`` a ``mot_layout="gt"`` export writes beside ``path``, checked as an
    output is (an existing one replaced only with ``overwrite``); None for other layouts."""
    if layout != "gt":
        return None
    labels = path.parent / module.LABELS  # (what a killed gt export left: removed first)
    _check_replaceable(labels, folder=False)  # not a folder or a binary file, even with
    return check_output(labels, overwrite)  # overwrite; an existing one only with it


def _viame_options(store: Any, polygons: bool) -> dict[str, Any]:
    """The keywords of the viame writer beyond the masks and objects: outlines or not and the
    video's frame rate."""
    fps = (store.provenance.get("video") or {}).get("fps")
    return {"polygons": polygons, "fps": fps}


def _check_replaceable(path: Path, folder: bool) -> None:
    """Refuse, even with ``overwrite``, to replace what an export cannot have written: a folder
    or a binary file (a video, a zipped store) by a file format; a file, or a folder holding
    anything but a DAVIS export's PNGs (``00000.png``, ...: a mask store, a video folder, a
    user's ``legend.png``), by ``davis``, naming it. Hidden entries (``.DS_Store``, ``.git``)
    are kept in the new folder (:func:`~ecoseg.formats._partials.replace_path`)."""
    if not path.exists():
        return
    if not folder and path.is_dir():
        raise FormatError(
            f"{path}: is a folder; refusing to replace it even with overwrite "
            "(choose another output path)"
        )
    if not folder:  # every file format is text: not over a video, a zip store
        check_text_replaceable(path, error=FormatError)
    if folder and not path.is_dir():
        raise FormatError(
            f"{path}: exists and is not a folder of PNG masks; refusing to replace it even "
            "with overwrite (choose another output path)"
        )
    if folder:  # replacing it removes the export's own files only: anything else is refused
        other = next(
            (
                p
                for p in sorted(path.iterdir())
                if not p.name.startswith(".") and (p.is_dir() or not FOLDER_FILE.fullmatch(p.name))
            ),
            None,
        )
        if other is not None:
            raise FormatError(
                f"{path}: holds {other.name}{'/' if other.is_dir() else ''}, which a davis "
                "export does not write (it writes 00000.png, 00001.png, ...); refusing to "
                "replace the folder even with overwrite (move it away or choose another "
                "output path)"
            )
