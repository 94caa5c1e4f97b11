"""Conversions between ecoseg data (videos, mask stores) and napari layer data.

Everything here returns or takes plain napari *layer data tuples* ``(data, kwargs, type)`` and
arrays, so it is usable (and tested) without a running viewer. The reader, writer, sample data
and widgets of the plugin are thin shells over these functions.

Every layer made here carries ``metadata["ecoseg"]``, a dict with ``kind`` (``"video"``,
``"masks"`` or ``"tracks"``), ``time_s`` (the real time of every frame, seconds), and for masks
the ``objects`` table, ``calibration``, ``provenance`` and ``store`` it came from.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecoseg._store_video import find_video
from ecoseg.errors import StoreError
from ecoseg.io.folder import VIDEO_SUFFIXES
from ecoseg.provenance import ObjectRecord, Provenance

__all__ = [
    "META_KEY",
    "VIDEO_SUFFIXES",
    "EDITABLE_BYTES",
    "is_store",
    "is_video",
    "labels_to_store",
    "layer_labels",
    "looked_at",
    "layer_grid",
    "lazy_video",
    "object_features",
    "reads_store",
    "spatial_scale",
    "store_layers",
    "tracks_from_regions",
    "update_tracks",
    "video_layer",
]

#: Key of the ecoseg entry in every layer's ``metadata``.
META_KEY = "ecoseg"
#: Mask stores up to this size are read into memory (so they can be painted); larger stay lazy.
EDITABLE_BYTES = 2**30


# ------------------------------------------------------------------------------- recognising
def is_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video file the reader should open.

    Examples
    --------
    >>> is_video("clip.MP4"), is_video("masks.zarr")
    (True, False)
    """
    p = Path(os.fspath(path))
    return p.suffix.lower() in VIDEO_SUFFIXES and not p.is_dir()


def is_store(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a local ecoseg mask store (a zarr v3 folder or ``.zip`` archive).

    Only the group's ``zarr.json`` is read (cheap enough for napari's reader lookup).

    Examples
    --------
    >>> is_store("no/such/masks.zarr")
    False
    """
    import json
    import zipfile

    p = Path(os.fspath(path))
    try:
        if p.is_dir():
            text = (p / "zarr.json").read_text()
        elif p.suffix.lower() == ".zip" and zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as zf:
                text = zf.read("zarr.json").decode()
        else:
            return False
        attrs = json.loads(text).get("attributes", {})
    except (OSError, KeyError, ValueError):
        return False
    meta = attrs.get(META_KEY)
    return isinstance(meta, Mapping) and meta.get("format") == "ecoseg-masks"


# ------------------------------------------------------------------------------- video
class _FrameLoader:
    """Reads one frame per dask block from a shared reader (serialised: readers seek)."""

    def __init__(self, reader):
        self.reader = reader
        self.lock = threading.Lock()
        self.reads = 0  # frames decoded so far (the tests check that opening decodes little)

    def __call__(self, block: np.ndarray) -> np.ndarray:
        index = int(block[0])
        with self.lock:
            self.reads += 1
            image = self.reader.read(index).image
        return image[None]

    def __dask_tokenize__(self):
        return ("ecoseg-frames", str(self.reader.path), id(self))


def lazy_video(reader) -> Any:
    """A lazy (t, y, x, 3) uint8 dask array over an open :class:`~ecoseg.io.video.VideoReader`.

    One block per frame; a frame is decoded only when a block is computed, so opening a video
    of any length decodes nothing.

    Parameters
    ----------
    reader : VideoReader
        Stays open while the array is used (reads are serialised by a lock).

    Returns
    -------
    dask.array.Array

    Examples
    --------
    >>> import ecoseg
    >>> from ecoseg.sample import sample
    >>> frames = lazy_video(ecoseg.open_video(sample().video))
    >>> frames.shape, frames.dtype.name, frames.numblocks[0]
    ((150, 360, 640, 3), 'uint8', 150)
    """
    import dask.array as da

    n, h, w = len(reader), reader.height, reader.width
    loader = _FrameLoader(reader)
    index = da.arange(n, chunks=1, dtype=np.int64)
    frames = index.map_blocks(
        loader,
        new_axis=[1, 2, 3],
        chunks=((1,) * n, (h,), (w,), (3,)),
        dtype=np.uint8,
        meta=np.empty((0, 0, 0, 0), np.uint8),
        name=f"ecoseg-video-{id(loader):x}",
    )
    frames._ecoseg_loader = loader  # noqa: SLF001 - introspection for tests
    return frames


def spatial_scale(calibration: Mapping | None) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Layer ``scale`` and ``units`` for (t, y, x) from a store calibration.

    Examples
    --------
    >>> spatial_scale({"mm_per_px": 2.5})
    ((1.0, 2.5, 2.5), ('pixel', 'mm', 'mm'))
    >>> spatial_scale(None)
    ((1.0, 1.0, 1.0), ('pixel', 'pixel', 'pixel'))
    """
    mm = (calibration or {}).get("mm_per_px")
    if mm:
        return (1.0, float(mm), float(mm)), ("pixel", "mm", "mm")
    return (1.0, 1.0, 1.0), ("pixel", "pixel", "pixel")


def layer_grid(layer: Any | None) -> tuple[tuple[float, ...], tuple[str, ...] | None]:
    """``scale`` and ``units`` of a layer's (t, y, x) axes, to put a new layer on its grid;
    ``(1, 1, 1)`` and None (napari's defaults) without a layer.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> layer_grid(SimpleNamespace(scale=(1.0, 2.5, 2.5), units=("pixel", "mm", "mm")))
    ((1.0, 2.5, 2.5), ('pixel', 'mm', 'mm'))
    >>> layer_grid(None)
    ((1.0, 1.0, 1.0), None)
    """
    if layer is None:
        return (1.0, 1.0, 1.0), None
    return tuple(layer.scale[:3]), tuple(str(u) for u in layer.units[:3])


def video_layer(
    path: str | os.PathLike, *, calibration: Mapping | None = None, fps: float | None = None
) -> tuple:
    """Layer data tuple of a lazy RGB image layer for a video file.

    Parameters
    ----------
    path : str or Path
        Video file (or folder of numbered images).
    calibration : dict, optional
        Store calibration (``{"mm_per_px": ...}``) to scale the layer in mm.
    fps : float, optional
        Frame rate of a folder of images (a store's recorded rate, ``segment --fps``);
        default: the folder reader's.

    Returns
    -------
    tuple
        ``(dask array (t, y, x, 3), kwargs, "image")``; ``kwargs["metadata"]["ecoseg"]`` holds
        ``time_s`` (real PTS time of every frame), ``fps``, ``video`` (path).

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> data, kwargs, kind = video_layer(sample().video)
    >>> kind, kwargs["metadata"]["ecoseg"]["time_s"][:2].tolist()
    ('image', [0.0, 0.03333333333333333])
    """
    from ecoseg.io.video import open_video

    reader = open_video(path, fps=fps)
    scale, units = spatial_scale(calibration)
    kwargs = {
        "name": Path(os.fspath(path)).stem,
        "rgb": True,
        "contrast_limits": (0, 255),
        "scale": scale,
        "units": units,
        "axis_labels": ("t", "y", "x"),
        "metadata": {
            META_KEY: {
                "kind": "video",
                "video": str(reader.path),
                "time_s": np.asarray(reader.times),
                "fps": float(reader.fps),
                "calibration": dict(calibration) if calibration else None,
            }
        },
    }
    return lazy_video(reader), kwargs, "image"


# ------------------------------------------------------------------------------- stores
def object_features(objects: Iterable[ObjectRecord | Mapping[str, Any]]) -> pd.DataFrame:
    """Labels-layer features table: one row per label value, background (0) first.

    Examples
    --------
    >>> object_features([{"id": 3, "class": "urchin", "source": "truth"}])
       index  object_id       class      source
    0      0          0  background  background
    1      3          3      urchin       truth
    """
    rows = [{"index": 0, "object_id": 0, "class": "background", "source": "background"}]
    for o in objects:
        r = o if isinstance(o, ObjectRecord) else ObjectRecord.from_dict(o)
        rows.append({"index": r.id, "object_id": r.id, "class": r.class_name, "source": r.source})
    return pd.DataFrame(rows, columns=["index", "object_id", "class", "source"])


def tracks_from_regions(regions: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """napari Tracks data ``(track_id, t, y, x)`` (pixels) and per-point features.

    Examples
    --------
    >>> df = pd.DataFrame({"object_id": [2, 2], "frame": [0, 1], "class": ["ray", "ray"],
    ...                    "centroid_x_px": [1.0, 2.0], "centroid_y_px": [5.0, 5.0],
    ...                    "area_px": [9, 10]})
    >>> tracks_from_regions(df)[0].tolist()
    [[2.0, 0.0, 5.0, 1.0], [2.0, 1.0, 5.0, 2.0]]
    """
    df = regions.sort_values(["object_id", "frame"], kind="stable")
    data = (
        np.column_stack(
            [
                df["object_id"].to_numpy(np.float64),
                df["frame"].to_numpy(np.float64),
                df["centroid_y_px"].to_numpy(np.float64),
                df["centroid_x_px"].to_numpy(np.float64),
            ]
        )
        if len(df)
        else np.zeros((0, 4))
    )
    keep = [c for c in ("class", "area_px", "area_mm2", "score") if c in df.columns]
    return data, df[keep].reset_index(drop=True)


def update_tracks(layers: Iterable[Any], path: str, regions: pd.DataFrame) -> list:
    """Redraw the Tracks layers :func:`store_layers` made for the store at ``path`` from its
    ``regions`` now (after a review edit: a merged track's points join the kept id, a split's
    take the new one, a deleted track's go); returns those left without any point (a layer
    with none is not drawable: the caller closes them, as :func:`store_layers` omits one).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> df = pd.DataFrame({"object_id": [2], "frame": [0], "class": ["ray"],
    ...                    "centroid_x_px": [1.0], "centroid_y_px": [5.0], "area_px": [9]})
    >>> tracks = SimpleNamespace(metadata={META_KEY: {"kind": "tracks", "store": "T1.zarr"}})
    >>> update_tracks([tracks], "T1.zarr", df), tracks.data.tolist()
    ([], [[2.0, 0.0, 5.0, 1.0]])
    >>> update_tracks([tracks], "T1.zarr", df[:0]) == [tracks]
    True
    """
    mine = [
        layer
        for layer in layers
        if (getattr(layer, "metadata", None) or {}).get(META_KEY, {}).get("kind") == "tracks"
        and str(layer.metadata[META_KEY].get("store")) == str(path)
    ]
    if not len(regions):
        return mine
    data, features = tracks_from_regions(regions)
    for layer in mine:
        layer.data = data
        layer.features = features
    return []


def store_layers(
    path: str | os.PathLike, *, with_video: bool = True, store: Any = None
) -> list[tuple]:
    """Layer data tuples for a mask store: its video (if found), masks and trajectories.

    Parameters
    ----------
    path : str or Path
        An ecoseg mask store.
    with_video : bool
        Also open the video named in the store's provenance when it is found (by its
        recorded path, beside the store, or in a folder moved whole with it); the layers
        then line up in the viewer.
    store : MaskStore, optional
        The store at ``path``, already open (read from, not opened again, left open for the
        caller to close: see :func:`reads_store`). Default: opened here and left open.

    Returns
    -------
    list of tuple
        ``[video image?, labels, tracks?]``. Labels: the masks (in memory up to
        :data:`EDITABLE_BYTES`, so they can be corrected; lazy beyond), ``features`` one row
        per object (id, class, source), scale in mm when the store is calibrated. Tracks: one
        point per (frame, object) at the mask centroid (omitted for a store without objects).

    Raises
    ------
    StoreError
        Not an ecoseg store, or a malformed one.

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> [kind for _, _, kind in store_layers(sample().truth)]
    ['image', 'labels', 'tracks']
    """
    from ecoseg.measure.regions import regions
    from ecoseg.store import MaskStore, open_masks

    if store is None:
        store = MaskStore.open(path)
    ds = open_masks(store)
    cal = store.calibration
    scale, units = spatial_scale(cal)
    times = np.asarray(ds["time"].values, dtype=np.float64)
    labels = layer_labels(ds)
    name = Path(os.fspath(path)).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    common = {"scale": scale, "units": units, "axis_labels": ("t", "y", "x")}
    meta = {
        "kind": "masks",
        "store": str(path),
        "time_s": times,
        "objects": store.objects,
        "calibration": cal,
        "provenance": store.provenance,
    }
    layers = []
    record = store.provenance_record
    recorded = record.video.path if record.video is not None else None
    video = find_video(recorded, path) if with_video else None
    if video is not None:  # an image folder at the rate the store was made at
        folder = record.video.extra.get("image_folder") and Path(video).is_dir()
        fps = record.video.fps if folder else None
        layers.append(video_layer(video, calibration=cal, fps=fps))
    layers.append(
        (
            labels,
            {
                **common,
                "name": f"{stem} masks",
                "features": object_features(store.object_records().values()),
                "metadata": {META_KEY: meta},
                "opacity": 0.6,
            },
            "labels",
        )
    )
    table = regions(store)
    if len(table):
        data, features = tracks_from_regions(table)
        layers.append(
            (
                data,
                {
                    **common,
                    "name": f"{stem} tracks",
                    "features": features,
                    "tail_length": 30,
                    "tail_width": 3,
                    "metadata": {META_KEY: {"kind": "tracks", "store": str(path), "time_s": times}},
                },
                "tracks",
            )
        )
    return layers


def layer_labels(ds) -> Any:
    """A store's labels as a Labels layer holds them: in memory up to :data:`EDITABLE_BYTES`
    (so they can be corrected), beyond that the lazy dask array of ``ds`` (of
    :func:`ecoseg.open_masks`; its store must stay open while the layer reads from it).

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> import ecoseg
    >>> type(layer_labels(ecoseg.open_masks(sample().truth))).__name__
    'ndarray'
    """
    if ds["labels"].nbytes <= EDITABLE_BYTES:
        return np.asarray(ds["labels"].values)
    return ds["labels"].data


def reads_store(layers: Iterable[tuple]) -> bool:
    """Whether a layer of :func:`store_layers` still reads from its store: labels over
    :data:`EDITABLE_BYTES` stay lazy, so their store must stay open; otherwise it can close.

    Examples
    --------
    >>> import dask.array as da
    >>> reads_store([(np.zeros((1, 2, 2), np.uint32), {}, "labels")])
    False
    >>> reads_store([(da.zeros((1, 2, 2), np.uint32), {}, "labels")])
    True
    """
    return any(kind == "labels" and not isinstance(data, np.ndarray) for data, _, kind in layers)


# ------------------------------------------------------------------------------- writing
def _frame_times(n: int, meta: Mapping[str, Any]) -> tuple[np.ndarray, str]:
    times = meta.get("time_s")
    if times is not None and len(times) == n:
        t = np.asarray(times, dtype=np.float64)
        if n < 2 or np.all(np.diff(t) > 0):
            return t, "video"
    fps = meta.get("fps")
    if fps:
        return np.arange(n) / float(fps), "frame index / fps"
    return np.arange(n, dtype=np.float64), "frame index (no video times known)"


def _objects_from(features: Any, ids: set[int], meta: Mapping[str, Any]) -> list[ObjectRecord]:
    """Object records of the label ids: the layer's stored records, edited by its features."""
    known: dict[int, ObjectRecord] = {}
    for o in meta.get("objects") or []:  # the layer's copy of the store's object table
        r = ObjectRecord.from_dict({**o, "source": o.get("source") or "napari"})
        known[r.id] = r
    if features is not None and len(features):
        df = pd.DataFrame(features)
        key = "index" if "index" in df.columns else ("object_id" if "object_id" in df else None)
        if key is not None:
            for _, row in df.iterrows():
                oid = int(row[key])
                if oid <= 0:
                    continue
                r = known.get(oid) or ObjectRecord(oid, source="napari")
                if "class" in df.columns and pd.notna(row["class"]) and str(row["class"]):
                    r = _named(r, str(row["class"]))
                if "source" in df.columns and pd.notna(row["source"]) and str(row["source"]):
                    r = dataclasses.replace(r, source=str(row["source"]))
                known[oid] = r
    return [known.get(oid) or ObjectRecord(oid, source="napari") for oid in sorted(ids)]


def _named(record: ObjectRecord, name: str) -> ObjectRecord:
    """``record`` with the class a person typed in the layer's features table: a new name is
    the person's (reviewed, as ``ecoseg edit --set-class`` marks it), never left credited to a
    model (``classified`` and its probability) for ``classify`` to replace.

    Examples
    --------
    >>> r = ObjectRecord(3, "wrasse", "tracker", class_source="classified", class_probability=0.6)
    >>> n = _named(r, "octopus")
    >>> n.class_name, n.class_source, n.reviewed, n.class_probability
    ('octopus', 'reviewed', True, 1.0)
    >>> _named(r, "wrasse") == r   # the name it had: as it was
    True
    >>> _named(r, "unknown").class_probability is None  # looked at, no name: no probability
    True
    >>> guess = dataclasses.replace(r, class_name="unknown", extra={"class_suggestion": "goby"})
    >>> _named(guess, "goby").extra  # a model's guess is no suggestion once named
    {}
    """
    cleaned = dataclasses.replace(record, class_name=name)
    if cleaned.class_name == record.class_name:
        return record
    sure = None if cleaned.class_name == "unknown" else 1.0  # as ecoseg edit --set-class
    extra = {k: v for k, v in cleaned.extra.items() if k != "class_suggestion"}  # named now
    return dataclasses.replace(
        cleaned, class_source="reviewed", class_probability=sure, reviewed=True, extra=extra
    )


def _calibration_from(meta: Mapping[str, Any], scale: Any, units: Any) -> dict | None:
    cal = meta.get("calibration")
    if cal:
        return dict(cal)
    if scale is None or len(scale) < 2:
        return None
    sy, sx = float(scale[-2]), float(scale[-1])
    unit_names = [str(u) for u in (units or ())][-2:]
    in_mm = unit_names and all(u in ("mm", "millimeter") for u in unit_names)
    if sy == sx and sx != 1.0 and in_mm:
        return {"mm_per_px": sx, "method": "napari layer scale"}
    return None


def looked_at(provenance: Provenance, meta: Mapping[str, Any], masked, n: int) -> Provenance:
    """``provenance`` with the frames a person looked at as ``annotated_frames``, for a masks
    layer that the Segment & track widget filled (its metadata's ``tracked``: the first and
    last frame its runs tracked, or None before any): from the first to the last frame
    tracked or holding a mask (``masked``). The frames outside (before SAM 2's first click,
    after *track until*, after a cancel) were not tracked: empty because nobody looked, so
    they are no counts of 0 (:func:`ecoseg.measure.observed_frames`). A layer the widget did
    not fill (a store opened, masks painted by hand) looked at every frame.

    Examples
    --------
    >>> p = looked_at(Provenance(), {"tracked": [3, 5]}, [4, 6], 10)
    >>> p.annotated_frames.to_dict()
    {'start': 3, 'step': 1, 'count': 4}
    >>> looked_at(Provenance(), {}, [4], 10).annotated_frames is None
    True
    """
    if "tracked" not in meta or provenance.annotated_frames is not None:
        return provenance
    seen = [*(meta.get("tracked") or ()), *masked]
    if not seen or (min(seen), max(seen)) == (0, n - 1):
        return provenance
    first, last = min(seen), max(seen)
    return provenance.updated(
        annotated_frames={"start": int(first), "step": 1, "count": int(last - first + 1)}
    )


def labels_to_store(
    path: str | os.PathLike,
    data: Any,
    *,
    metadata: Mapping[str, Any] | None = None,
    features: Any = None,
    scale: Any = None,
    units: Any = None,
    name: str | None = None,
    chunk_frames: int = 4,
) -> str:
    """Write label data (a napari Labels layer) into a new ecoseg mask store.

    Parameters
    ----------
    path : str or Path
        The store to create (``.zarr`` folder or ``.zip``); never overwritten.
    data : array of int, shape (t, y, x) or (y, x)
        Instance ids, 0 = background (numpy, dask or zarr).
    metadata : dict, optional
        The layer's ``metadata``; its ``"ecoseg"`` entry supplies frame times, objects,
        calibration, provenance and per-frame ``scores`` (``{frame: {id: score}}``).
    features : DataFrame, optional
        The layer's features: ``index`` (label value), ``class``, ``source`` columns.
    scale, units : sequence, optional
        The layer's scale and units; equal y/x scales in mm become the calibration when the
        metadata has none.
    name : str, optional
        Layer name, recorded in the provenance.
    chunk_frames : int
        Frames per store chunk.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    StoreError
        ``path`` exists, or the data is not a 2-d/3-d integer array with ids < 2**32.

    Examples
    --------
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "edited.zarr")
    >>> labels = np.zeros((2, 4, 5), np.uint32); labels[1, 1:3, 1:3] = 7
    >>> p = labels_to_store(out, labels, metadata={"ecoseg": {"time_s": [0.0, 0.5]}})
    >>> import ecoseg; ecoseg.open_masks(p).object.values.tolist()
    [7]
    """
    from ecoseg.store import MaskStore, present_ids

    meta = dict((metadata or {}).get(META_KEY) or {})
    if getattr(data, "ndim", None) == 2:
        data = data[None]
    if getattr(data, "ndim", None) != 3:
        raise StoreError(
            f"{path}: a mask store needs (t, y, x) labels; the layer has "
            f"{getattr(data, 'ndim', '?')} dimensions"
        )
    dtype = np.dtype(getattr(data, "dtype", np.int64))
    if dtype.kind not in "iub":
        raise StoreError(f"{path}: labels must be integers, the layer holds {dtype}")
    n, h, w = (int(s) for s in data.shape)
    if n == 0:
        raise StoreError(f"{path}: the labels layer has no frames")
    step = max(1, int(chunk_frames))

    def frames(start: int) -> np.ndarray:
        block = np.asarray(data[start : start + step])
        if block.size and (block.min() < 0 or block.max() >= 2**32):
            raise StoreError(f"{path}: frames {start}+: label values must be in 0..2**32-1")
        return block.astype(np.uint32, copy=False)

    ids: set[int] = set()
    masked: list[int] = []  # the first and last frame of each block that holds a mask
    for start in range(0, n, step):
        block = frames(start)
        ids.update(int(i) for i in present_ids(block))
        hit = np.flatnonzero(block.reshape(len(block), -1).any(axis=1))
        masked += [start + int(hit[0]), start + int(hit[-1])] if hit.size else []
    times, time_source = _frame_times(n, meta)
    provenance = looked_at(Provenance.from_dict(meta.get("provenance")), meta, masked, n)
    written = datetime.now(UTC).isoformat(timespec="seconds")
    provenance = provenance.updated(
        engine=provenance.get("engine", "napari"),
        napari={"layer": name, "time": time_source, "written": written},
    )
    store = MaskStore.create(
        path,
        height=h,
        width=w,
        chunk_frames=step,
        objects=_objects_from(features, ids, meta),
        provenance=provenance,
        calibration=_calibration_from(meta, scale, units),
        overwrite=False,
    )
    scores = meta.get("scores") or {}
    try:
        for start in range(0, n, step):
            block = frames(start)
            rows = None
            if scores:
                rows = {}
                for k, frame in enumerate(block):
                    known = scores.get(start + k) or {}
                    for oid in present_ids(frame):
                        col = rows.setdefault(int(oid), np.zeros(len(block), np.float32))
                        col[k] = float(known.get(int(oid), 1.0))
            store.append(block, times[start : start + len(block)], scores=rows)
        store.mark_complete()
    finally:
        store.close()
    return str(path)
