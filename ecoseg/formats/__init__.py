"""Annotation formats: export a mask store to, and import one from, the files other tools use.

======== ===================================== ======= ================================
name     what                                  kind    file
======== ===================================== ======= ================================
coco     COCO instance segmentation JSON       masks   one ``.json`` (image = frame)
ytvis    YouTube-VIS / OVIS video JSON         masks   one ``.json`` (annotation = track)
mot      MOTChallenge 2D boxes                 boxes   one ``.txt``
mots     MOTS (MOTSChallenge / KITTI MOTS)     masks   one ``.txt`` (RLE per line)
cvat     CVAT for video 1.1 XML                masks   one ``.xml`` (track per mask)
viame    VIAME / DIVE CSV                      boxes   one ``.csv`` (optional polygons)
davis    DAVIS folder of indexed PNGs          masks   a folder, one PNG per frame
======== ===================================== ======= ================================

``cvat`` also reads CVAT for images 1.1 files (each shape an object of its own: identity is
not known).

:func:`export` writes a store in a format; :func:`read_annotations` reads a file against a
video (checking size and frames); :func:`import_annotations` turns it into a store (a truth
store for :func:`ecoseg.evaluate`); :func:`to_prompts` turns it into SAM 2 prompts with the
annotation's classes. See ``docs/formats.md`` for what each format keeps and loses.
This package reads and writes stores and files only (no torch, no engine).

This module names the public API; each part lives in a private module of its own:
``_registry`` (the formats by name), ``_export`` (writing a store), ``_partials`` (an export's
partial output), ``_importing`` (reading a file against a video, and importing it as a store),
``_to_prompts`` (annotations as prompts); the shared pieces are named by ``_common``.

Examples
--------
>>> import ecoseg, tempfile, os
>>> d = tempfile.mkdtemp()
>>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=3, size=(64, 48))
>>> path = export(clip.truth, "mot", os.path.join(d, "boxes.txt"))
>>> ann = read_annotations(path, "mot", clip.video)
>>> ann.n_frames, len(ann.tracks) > 0
(3, True)
"""

from __future__ import annotations

from ecoseg.errors import EmptyExportWarning
from ecoseg.formats._annotated import UnannotatedFramesWarning
from ecoseg.formats._annotation_model import Annotations, Instance, Track
from ecoseg.formats._export import export
from ecoseg.formats._importing import (
    VideoInfo,
    annotated_frames,
    import_annotations,
    read_annotations,
)
from ecoseg.formats._left_out import ShapesLeftOutWarning
from ecoseg.formats._painting import BoxesCutWarning
from ecoseg.formats._partials import (  # noqa: F401
    host_tag,
    partial_name,
    remove_stale_partials,
)
from ecoseg.formats._registry import FORMATS, format_module
from ecoseg.formats._stores import (  # noqa: F401
    mask_where,
    read_store,
    store_frames,
    store_head,
    store_labels,
    write_store,
)
from ecoseg.formats._to_prompts import prompts_from_file, to_prompts

__all__ = [
    "FORMATS",
    "Annotations",
    "BoxesCutWarning",
    "EmptyExportWarning",
    "Instance",
    "ShapesLeftOutWarning",
    "Track",
    "UnannotatedFramesWarning",
    "VideoInfo",
    "export",
    "read_annotations",
    "import_annotations",
    "annotated_frames",
    "to_prompts",
    "prompts_from_file",
    "format_module",
]
