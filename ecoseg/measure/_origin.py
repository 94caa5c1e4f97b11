"""Which store, and which state of it, the tables of :func:`ecoseg.measure` were made of:
recorded in every table's ``attrs`` (and ``tables.json``) so that :func:`ecoseg.report` can
refuse tables of another store, or of this store as it was before a change
(:func:`ecoseg.report._tables_store.check_tables_store`).

- ``store_location`` (:func:`absolute_location`): the store's path made absolute where measure
  ran (a URL as it is), so the tables name it from any folder, unlike ``store`` (the path as
  given, shown in messages), which is relative to the folder measure ran in;
- ``store_from_tables`` (:func:`path_from`): with ``out``, the store's path relative to the
  tables folder, so a store and its tables moved or copied together still go together;
- ``store_fingerprint`` (:func:`store_fingerprint`): what the tables are made of, as one hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ecoseg._paths import as_local_path

__all__ = [
    "FINGERPRINT_RECIPE",
    "absolute_location",
    "is_fingerprint",
    "path_from",
    "store_fingerprint",
]

#: Said before the hash (``"1:…"``): a fingerprint of another recipe (a later ecoseg's, or an
#: older one's) is not compared, so a change of recipe never refuses tables that are the store's.
FINGERPRINT_RECIPE = "1"


def store_fingerprint(store, calibration: dict | None) -> str:
    """A hash of what the tables of the open ``store`` are made of, as the store keeps it,
    measured with ``calibration`` (the calibration's dict, or None: in pixels).

    The hash is of the store's own records, not of its masks: the provenance of its run
    (engine, model, parameters, video, prompts, the time it was made: a store segmented or
    imported again has another), its object table (every track's class, its source and
    review: ``ecoseg classify`` and napari's review change it), its edit log (every ``ecoseg
    edit``: set a class, merge, split, delete, undo; each entry is numbered and timed), its
    number of frames and whether its run finished (a resumed run adds frames), and the
    calibration (the tables' sizes, speeds and cover in mm). These are small (the store's
    attributes, read when it opens), so fingerprinting costs nothing where hashing the
    labels would read every frame again, and every way ecoseg changes the masks logs an edit
    or makes a new run. What it cannot see: labels rewritten by hand through zarr, without
    ecoseg. An edit then undone counts as a change (the log grew), so its tables are made
    again though their numbers would be the same.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> from ecoseg.species import Edit, apply_edits
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> with ecoseg.MaskStore.open(clip.truth) as s:
    ...     before = store_fingerprint(s, s.calibration)
    >>> before[:2], len(before)
    ('1:', 66)
    >>> _ = apply_edits(clip.truth, [Edit("set_class", (1,), cls="wrasse")])
    >>> with ecoseg.MaskStore.open(clip.truth) as s:
    ...     store_fingerprint(s, s.calibration) == before
    False
    """
    from ecoseg.store import ATTRS_KEY

    meta = store.attrs.get(ATTRS_KEY, {})
    made_of = {
        "provenance": meta.get("provenance"),
        "objects": meta.get("objects"),
        "edits": meta.get("edits", []),
        "frames": store.n_frames,
        "complete": bool(store.complete),
        "calibration": calibration,
    }
    text = json.dumps(made_of, sort_keys=True, separators=(",", ":"), default=str)
    return f"{FINGERPRINT_RECIPE}:{hashlib.sha256(text.encode()).hexdigest()}"


def absolute_location(store) -> str | None:
    """Where the open ``store`` is, whatever folder the tables are read from: a local path
    made absolute (as it was given, links kept), a URL as it is; None for a store opened
    from a zarr ``Store`` object.

    Examples
    --------
    >>> from ecoseg.store import MaskStore
    >>> absolute_location(MaskStore.create("memory://doc-origin", height=2, width=2,
    ...                                 overwrite=True))
    'memory://doc-origin'
    """
    if not isinstance(store.location, str | os.PathLike):
        return None
    local = as_local_path(store.location)
    return store.path if local is None else os.path.abspath(local)


def path_from(folder: str | os.PathLike, location: str | None) -> str | None:
    """The store at ``location`` (:func:`absolute_location`) as a path relative to ``folder``
    (links resolved in both; ``/`` between parts), or None for a URL, an object, or a store
    on another drive.

    Examples
    --------
    >>> import os, tempfile
    >>> d = os.path.realpath(tempfile.mkdtemp())
    >>> path_from(f"{d}/out/tables", f"{d}/a.zarr")
    '../../a.zarr'
    >>> path_from(f"{d}/tables", "s3://bucket/a.zarr") is None
    True
    """
    if location is None or as_local_path(location) is None:
        return None
    try:
        relative = os.path.relpath(os.path.realpath(location), os.path.realpath(folder))
    except ValueError:  # another drive (Windows)
        return None
    return relative.replace(os.sep, "/")


def is_fingerprint(value: Any) -> bool:
    """Whether ``value`` is a fingerprint of this ecoseg's recipe (:data:`FINGERPRINT_RECIPE`).

    Examples
    --------
    >>> is_fingerprint("1:ab"), is_fingerprint("0:ab"), is_fingerprint(None)
    (True, False, False)
    """
    return isinstance(value, str) and value.startswith(f"{FINGERPRINT_RECIPE}:")
