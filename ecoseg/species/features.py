"""Per-track features for the species classifier.

A track is described by one row of numbers (:data:`FEATURE_NAMES`, version
:data:`FEATURE_VERSION`):

- **colour** (CIELAB, perceptual): mean, standard deviation and 10th/90th percentiles of L*,
  a*, b* of the pixels inside the mask (one pixel in from its edge, where the background
  bleeds in), and a chroma-weighted histogram of the hue angle in 8 bins (the accent
  colours of a fish), averaged over up to ``samples`` frames of the track (the largest view
  in each of ``samples`` equal stretches of its life);
- **texture**: mean gradient magnitude of L* inside the mask, and the same over the standard
  deviation of L* (stripes and spots versus flat colour);
- **shape and size** (the regions table, median over the track): area, major and minor
  axis (mm when the store is calibrated, else px), their ratio, eccentricity, solidity,
  isoperimetric ratio; and the most side-on views: the 10th percentile of the axis ratio
  and the 90th of the major axis (a fish seen head-on looks rounder and shorter);
- **motion** (the tracks table): mean and max speed (mm/s or px/s), speed in body lengths
  per second, straightness, frames present;
- the store's mask-pooled network **embeddings** (``emb_0 ...``) where a network made it.

The pure core, :func:`mask_colour_stats`, works on one image and one boolean mask;
:func:`track_features` is the shell that reads a store and its video.

Examples
--------
>>> import numpy as np
>>> img = np.zeros((8, 8, 3), np.uint8); img[2:6, 2:6] = (200, 40, 40)
>>> mask = np.zeros((8, 8), bool); mask[2:6, 2:6] = True
>>> s = mask_colour_stats(img, mask)
>>> len(s) == len(COLOUR_NAMES), bool(s[1] > 40)  # a* (red) is high
(True, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from ecoseg._cancel import stop_if_cancelled
from ecoseg._checks import few_items, positive_int
from ecoseg._warn import warn
from ecoseg.errors import ConfigError, VideoError

__all__ = [
    "COLOUR_NAMES",
    "FEATURE_NAMES",
    "FEATURE_VERSION",
    "GROUP_WEIGHTS",
    "TrackFeatures",
    "feature_group",
    "feature_weights",
    "mask_colour_stats",
    "resolve_video",
    "store_feature_names",
    "track_embeddings",
    "track_features",
]

#: Bump when the features of the same track would change (models record it and refuse others).
FEATURE_VERSION = 1
_HUE_BINS = 8
COLOUR_NAMES: tuple[str, ...] = (
    *(f"{c}_mean" for c in ("L", "a", "b")),
    *(f"{c}_std" for c in ("L", "a", "b")),
    *(f"{c}_p10" for c in ("L", "a", "b")),
    *(f"{c}_p90" for c in ("L", "a", "b")),
    *(f"hue_{k}" for k in range(_HUE_BINS)),
    "grad_L",
    "grad_L_rel",
)
SHAPE_NAMES: tuple[str, ...] = (
    "log_area",
    "log_major_axis",
    "log_minor_axis",
    "axis_ratio",
    "axis_ratio_p10",
    "log_major_axis_p90",
    "eccentricity",
    "solidity",
    "isoperimetric",
)
MOTION_NAMES: tuple[str, ...] = (
    "log_mean_speed",
    "log_max_speed",
    "speed_bl_s",
    "straightness",
    "log_frames_present",
)
FEATURE_NAMES: tuple[str, ...] = (*COLOUR_NAMES, *SHAPE_NAMES, *MOTION_NAMES)
#: Model weight of each group of features (embeddings and anything else weigh 1): the
#: hue-specific colours (a*, b*, hue histogram: one colour morph among a few reviewed tracks
#: must not decide the species), lightness (L* statistics), texture, shape and size, motion.
#: Chosen by cross-validation between training seeds 0-3 and 4-7 of
#: ``benchmarks/classify_bench.py`` (never its test seeds), one group at a time, 15 draws of 3
#: reviewed tracks per species each way on rendered frames: mean accuracy 0.964 where hue 0.3
#: and the rest 1 gave 0.928 (H.264, not searched: 0.933 against 0.921).
GROUP_WEIGHTS: dict[str, float] = {
    "hue": 0.3,
    "lightness": 2.0,
    "texture": 1.0,
    "shape": 0.5,
    "motion": 1.0,
}


def feature_group(name: str) -> str:
    """The group of a feature name (a key of :data:`GROUP_WEIGHTS`, or ``"other"``).

    Examples
    --------
    >>> [feature_group(n) for n in ("a_p10", "L_std", "grad_L", "solidity", "emb_0")]
    ['hue', 'lightness', 'texture', 'shape', 'other']
    """
    if name in COLOUR_NAMES:
        if name[:2] in ("a_", "b_") or name.startswith("hue_"):
            return "hue"
        return "texture" if name.startswith("grad_") else "lightness"
    if name in SHAPE_NAMES:
        return "shape"
    return "motion" if name in MOTION_NAMES else "other"


def feature_weights(names) -> np.ndarray:
    """Model weight of each feature (:data:`GROUP_WEIGHTS` by :func:`feature_group`).

    Examples
    --------
    >>> feature_weights(("L_mean", "a_mean", "hue_3", "log_area", "emb_7")).tolist()
    [2.0, 0.3, 0.3, 0.5, 1.0]
    """
    return np.array([GROUP_WEIGHTS.get(feature_group(n), 1.0) for n in names])


@dataclass(frozen=True, eq=False)
class TrackFeatures:
    """Features of the tracks of one store.

    Attributes
    ----------
    store : str
        Where the store lives.
    ids : ndarray of int64, shape (n,)
        Track ids (present in at least one frame), ascending.
    names : tuple of str
        Feature names, :data:`FEATURE_NAMES` plus ``emb_*`` columns when the store has
        embeddings.
    values : ndarray of float64, shape (n, d)
        One row per track; NaN where a feature is undefined (a one-frame track's speed).
    classes : tuple of str
        Each track's current class in the object table.
    reviewed : ndarray of bool, shape (n,)
        Whether a person reviewed the track (the training labels).
    units : {"mm", "px"}
        Sizes and speeds in mm (calibrated store) or pixels.
    """

    store: str
    ids: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray
    classes: tuple[str, ...]
    reviewed: np.ndarray
    units: str = "px"

    def __repr__(self) -> str:  # not every value of every track (60 lines in a notebook)
        return (
            f"<TrackFeatures {self.store!r}: {len(self.ids)} tracks "
            f"{few_items(np.asarray(self.ids).tolist())} x {len(self.names)} features "
            f"({self.units}), {int(np.count_nonzero(self.reviewed))} reviewed>"
        )

    def frame(self) -> pd.DataFrame:
        """The features as a DataFrame, one row per track (``object_id`` first)."""
        df = pd.DataFrame(self.values, columns=list(self.names))
        df.insert(0, "object_id", self.ids)
        df.insert(1, "class", list(self.classes))
        df.insert(2, "reviewed", self.reviewed)
        return df


# --------------------------------------------------------------------------- pure core
def mask_colour_stats(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Colour and texture statistics (:data:`COLOUR_NAMES`) of ``image`` inside ``mask``.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W, 3)
        RGB frame.
    mask : ndarray of bool, shape (H, W)
        The object's pixels. Its edge pixels are left out when at least 12 pixels remain.

    Returns
    -------
    ndarray of float64, shape (len(COLOUR_NAMES),)
        NaN everywhere for an empty mask.

    Examples
    --------
    >>> img = np.full((6, 6, 3), 128, np.uint8)
    >>> m = np.ones((6, 6), bool)
    >>> float(np.round(mask_colour_stats(img, m)[0]))  # L* of mid grey
    54.0
    """
    from skimage.color import rgb2lab

    mask = np.asarray(mask, bool)
    if not mask.any():
        return np.full(len(COLOUR_NAMES), np.nan)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    y0, x0 = max(0, y0 - 1), max(0, x0 - 1)
    y1, x1 = min(mask.shape[0], y1 + 1), min(mask.shape[1], x1 + 1)
    m = mask[y0:y1, x0:x1]
    inner = ndimage.binary_erosion(m)
    if inner.sum() >= 12:
        m = inner
    crop = np.asarray(image[y0:y1, x0:x1, :3], np.float64) / 255.0
    lab = rgb2lab(crop)
    px = lab[m]
    a, b = px[:, 1], px[:, 2]
    chroma = np.hypot(a, b)
    hue = (np.arctan2(b, a) % (2 * np.pi)) / (2 * np.pi) * _HUE_BINS
    hist = np.bincount(
        np.minimum(hue.astype(np.int64), _HUE_BINS - 1), weights=chroma, minlength=_HUE_BINS
    )
    hist = hist / max(chroma.sum(), 1e-9)
    gy, gx = np.gradient(lab[..., 0])
    grad = float(np.hypot(gx, gy)[m].mean())
    std = px.std(axis=0)
    q10, q90 = np.percentile(px, [10, 90], axis=0)
    return np.concatenate(
        [px.mean(axis=0), std, q10, q90, hist, [grad, grad / max(float(std[0]), 1.0)]]
    )


def _sample_frames(frames: np.ndarray, area: np.ndarray, samples: int) -> np.ndarray:
    """Up to ``samples`` frames: the largest view in each of ``samples`` equal stretches."""
    if len(frames) <= samples:
        return frames
    bins = np.array_split(np.arange(len(frames)), samples)
    return np.array([frames[b[np.argmax(area[b])]] for b in bins], np.int64)


def _shape_motion(reg: pd.DataFrame, tracks: pd.DataFrame, mm: float | None) -> pd.DataFrame:
    """Shape and motion features per track (indexed by object id)."""
    scale = float(mm) if mm else 1.0
    g = reg.groupby("object_id")
    med = g[["area_px", "major_axis_px", "minor_axis_px", "eccentricity", "solidity"]].median()
    perim = g["perimeter_px"].median()
    area = med["area_px"] * scale**2
    major = med["major_axis_px"] * scale
    minor = med["minor_axis_px"] * scale
    out = pd.DataFrame(index=med.index)
    out["log_area"] = np.log(np.maximum(area, 1e-9))
    out["log_major_axis"] = np.log(np.maximum(major, 1e-9))
    out["log_minor_axis"] = np.log(np.maximum(minor, 1e-9))
    out["axis_ratio"] = minor / np.maximum(major, 1e-9)
    # the most side-on views: a fish seen head-on looks rounder and shorter than it is
    ratio = reg["minor_axis_px"] / np.maximum(reg["major_axis_px"], 1e-9)
    out["axis_ratio_p10"] = ratio.groupby(reg["object_id"]).quantile(0.1)
    p90 = reg.groupby("object_id")["major_axis_px"].quantile(0.9) * scale
    out["log_major_axis_p90"] = np.log(np.maximum(p90, 1e-9))
    out["eccentricity"] = med["eccentricity"]
    out["solidity"] = med["solidity"]
    out["isoperimetric"] = 4 * np.pi * med["area_px"] / np.maximum(perim**2, 1e-9)
    t = tracks.set_index("object_id")
    mean_speed = t["mean_speed_px_s"].reindex(out.index) * scale
    max_speed = t["max_speed_px_s"].reindex(out.index) * scale
    out["log_mean_speed"] = np.log1p(mean_speed)
    out["log_max_speed"] = np.log1p(max_speed)
    out["speed_bl_s"] = mean_speed / np.maximum(major, 1e-9)
    out["straightness"] = t["straightness"].reindex(out.index)
    out["log_frames_present"] = np.log(t["frames_present"].reindex(out.index).astype(float))
    return out


# --------------------------------------------------------------------------- store shell
def resolve_video(store, video=None):
    """The video a store was made from: ``video`` if given, else the provenance path (as
    recorded, relative to the store's folder, by name beside the store, or in a folder moved
    whole: :func:`ecoseg._store_video.find_video`). Path or None.

    Examples
    --------
    >>> resolve_video(None, "clip.mp4")
    'clip.mp4'
    """
    if video is not None:
        return video
    from ecoseg._store_video import find_video

    recorded = (store.provenance.get("video") or {}).get("path")
    return find_video(recorded, str(store.path))


def _frame_source(video, store=None, cancel=None) -> tuple[Callable[[np.ndarray], Any], Any]:
    """A function frames -> iterator of (index, image), and something to close; a video file,
    folder or reader is first checked to be the one ``store`` was made from. A set ``cancel``
    stops it before the next frame it reads (of a video: every frame decoded, also those
    between the wanted ones): :class:`~ecoseg.errors.Cancelled`, naming the store."""

    def stop(index: int) -> None:
        stop_if_cancelled(
            cancel,
            f"{getattr(store, 'path', 'the store')}: cancelled while reading its video for the "
            f"track features (frame {index})",
        )

    def each(frames, read):
        for f in frames:
            stop(int(f))
            yield int(f), read(int(f))

    if callable(video):
        return (lambda frames: each(frames, lambda f: np.asarray(video(f)))), None
    if isinstance(video, np.ndarray):
        return (lambda frames: each(frames, lambda f: video[f])), None
    from ecoseg.io.video import check_same_video, open_video

    reader = open_video(video) if isinstance(video, str | os.PathLike) else video
    if store is not None:
        try:
            check_same_video(reader, store.provenance_record.video, store.path)
        except BaseException:
            if reader is not video:
                reader.close()
            raise

    def frames_of(frames: np.ndarray):
        wanted = set(int(f) for f in frames)
        if not wanted:
            return
        last = max(wanted)
        for fr in reader.frames(min(wanted), last + 1):
            stop(fr.index)
            if fr.index in wanted:
                yield fr.index, fr.image

    return frames_of, reader if isinstance(video, str | os.PathLike) else None


def track_embeddings(store, ids: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Mask-pooled network embeddings per track (:mod:`ecoseg.store.embeddings`: the mean over
    the frames the track was present in), when a network made the store; an empty block
    otherwise. A track without one (split off in review) gets NaN (the model's median).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> track_embeddings(ecoseg.store.MaskStore.open(clip.truth), np.array([1]))[0].shape
    (1, 0)
    """
    from ecoseg.store.embeddings import read_embeddings

    table = read_embeddings(store)
    if table is None:
        return np.zeros((len(ids), 0)), ()
    width = table.values.shape[1]
    row = {int(o): k for k, o in enumerate(table.ids.tolist())}
    rows = np.array(
        [table.values[row[int(i)]] if int(i) in row else np.full(width, np.nan) for i in ids],
        np.float64,
    ).reshape(len(ids), width)
    return rows, tuple(f"emb_{k}" for k in range(width))


def store_feature_names(store) -> tuple[str, ...]:
    """The names of the track features of ``store``, known before any is measured:
    :data:`FEATURE_NAMES`, then ``emb_0 ...`` for its network embeddings where a network made
    it (:func:`track_embeddings`), as :func:`track_features` names them (also with no track).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> store_feature_names(ecoseg.store.MaskStore.open(clip.truth)) == FEATURE_NAMES
    True
    """
    from ecoseg.store.embeddings import read_embeddings

    table = read_embeddings(store)
    width = 0 if table is None else int(table.values.shape[1])
    return (*FEATURE_NAMES, *(f"emb_{k}" for k in range(width)))


def track_features(
    store,
    video=None,
    *,
    samples: int = 8,
    regions: pd.DataFrame | None = None,
    progress: bool = False,
    video_option: str = "video=... (--video PATH)",
    calibration: dict | None = None,
    cancel=None,
) -> TrackFeatures:
    """Features of every track in a store.

    Parameters
    ----------
    store : MaskStore, str or Path
        The mask store.
    video : str, Path, VideoReader, ndarray (t, H, W, 3) or callable, optional
        The frames the store was made from (a callable maps a frame index to an RGB image).
        Default: the video named in the store's provenance, looked up as
        :func:`ecoseg._store_video.find_video` does (beside the store, in a folder moved whole).
    samples : int
        Frames per track whose colours are measured.
    regions : pandas.DataFrame, optional
        The store's regions table, if already measured.
    progress : bool
        Show a progress bar.
    video_option : str
        How the caller's user gives the video, named when it is not found (``classify``:
        ``train_videos=... (--train-video PATH)`` for a training store; the ``ecoseg`` command
        names only its option, :func:`ecoseg._cli.cli_words`).
    calibration : dict, optional
        The calibration to measure sizes and speeds with (as stored, ``mm_per_px``), in place
        of the store's (``classify(..., calibration=...)``, which saves it into the store).
    cancel : threading.Event or callable, optional
        Once set, stops before the next chunk of masks measured or video frame decoded:
        :class:`~ecoseg.errors.Cancelled`, naming the store and the frame.

    Returns
    -------
    TrackFeatures

    Raises
    ------
    StoreError
        An interrupted ``ecoseg edit`` left the store half written
        (:func:`ecoseg.store.check_finished`).
    VideoError
        The video cannot be found or read, or is not the one the store was made from (frame
        size, frame count or sha256 differ from the store's provenance).
    Cancelled
        ``cancel`` was set (see ``cancel``).

    Warns
    -----
    IncompleteStoreWarning
        The store's run did not finish: the features are those of the frames it holds.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(96, 64), n_fish=2,
    ...                     n_invertebrates=0)
    >>> f = track_features(clip.truth)
    >>> f.values.shape[1] == len(FEATURE_NAMES), f.classes[0] != "unknown"
    (True, True)
    """
    from ecoseg.measure import IncompleteStoreWarning, incomplete_note
    from ecoseg.store import check_finished, opened_store

    samples = check_samples(samples)
    with opened_store(store) as opened:  # a path: opened and closed here
        check_finished(opened)  # no features (nor classes) from half an edit
        feats = _track_features(
            opened, video, samples, regions, progress, video_option, calibration, cancel
        )
        note = incomplete_note(opened, "the track features")
    if note is not None:  # features of part of a video: made, and said so
        warn(note, IncompleteStoreWarning)
    return feats


def _track_features(
    store,
    video,
    samples: int,
    regions,
    progress: bool,
    video_option: str,
    calibration=None,
    cancel=None,
) -> TrackFeatures:
    from ecoseg.measure.regions import regions as region_rows
    from ecoseg.measure.tracks import track_table

    reg = region_rows(store, calibration=None, cancel=cancel) if regions is None else regions
    cal = (store.calibration if calibration is None else calibration) or {}
    mm = cal.get("mm_per_px")
    ids = np.unique(reg["object_id"].to_numpy(np.int64))
    table = {int(o["id"]): o for o in store.objects}
    classes = tuple(str(table.get(int(i), {}).get("class") or "unknown") for i in ids)
    reviewed = np.array([bool(table.get(int(i), {}).get("reviewed", False)) for i in ids])
    if len(ids) == 0:  # named as a store of tracks is: a model that fits it fits this one
        names = store_feature_names(store)
        units = "mm" if mm else "px"
        return TrackFeatures(
            str(store.path), ids, names, np.zeros((0, len(names))), (), reviewed, units
        )
    shape_motion = _shape_motion(reg, track_table(reg), mm).reindex(ids)

    # colour: sample frames per track, then one pass over those frames
    reg = reg.sort_values(["object_id", "frame"], kind="stable")
    wanted: dict[int, list[int]] = {}
    for oid, sub in reg.groupby("object_id", sort=True):
        for f in _sample_frames(sub["frame"].to_numpy(), sub["area_px"].to_numpy(), samples):
            wanted.setdefault(int(f), []).append(int(oid))
    frames = np.array(sorted(wanted), np.int64)
    source = resolve_video(store, video)
    if source is None:
        recorded = (store.provenance.get("video") or {}).get("path")
        from ecoseg._store_video import video_looked_in

        where = (  # where find_video looked
            f"the video it was made from ({recorded}) is not found: "
            f"{video_looked_in(recorded, str(store.path))}"
            if recorded
            else "the store records no video"
        )
        raise VideoError(f"{store.path}: {where}; give it with {video_option}")
    frames_of, closer = _frame_source(source, store, cancel)
    colour = {int(i): [] for i in ids}
    from ecoseg._progress import progress_bar

    bar = progress_bar(total=len(frames), desc="features", unit="frame", disable=not progress)
    try:
        cache: tuple[int, np.ndarray] | None = None
        step = store.chunk_frames
        for index, image in frames_of(frames):
            start = index - index % step
            if cache is None or cache[0] != start:
                cache = (start, store.read_labels(start, start + step))
            lab = cache[1][index - start]
            image = np.asarray(image)
            if image.shape[:2] != lab.shape:
                raise VideoError(
                    f"{source}: frame {index} is {image.shape[1]}x{image.shape[0]} but the store "
                    f"{store.path} holds {lab.shape[1]}x{lab.shape[0]} masks"
                )
            for oid in wanted[index]:
                colour[oid].append(mask_colour_stats(image, lab == oid))
            bar.update(1)
    finally:
        bar.close()
        if closer is not None:
            closer.close()
    col = _mean_colour(colour, ids)
    values = np.concatenate([col, shape_motion[list(SHAPE_NAMES + MOTION_NAMES)].to_numpy()], 1)
    emb, emb_names = track_embeddings(store, ids)
    values = np.concatenate([values, emb], axis=1).astype(np.float64)
    return TrackFeatures(
        store=str(store.path),
        ids=ids,
        names=(*FEATURE_NAMES, *emb_names),
        values=values,
        classes=classes,
        reviewed=reviewed,
        units="mm" if mm else "px",
    )


def _mean_colour(colour: dict[int, list], ids: np.ndarray) -> np.ndarray:
    """Each track's colour statistics averaged over its samples (``np.nanmean``'s values), NaN
    where it has none (no sample, or only empty masks); without numpy's "Mean of empty slice"
    warning, which only a warnings filter hushes, and a filter is every thread's (a napari
    worker's hid the others' warnings): ``0 / 0`` is held by ``np.errstate``, in this thread."""
    rows = np.full((len(ids), len(COLOUR_NAMES)), np.nan)
    for k, i in enumerate(ids):
        if colour[int(i)]:
            stats = np.array(colour[int(i)])
            count = np.count_nonzero(~np.isnan(stats), axis=0)
            with np.errstate(invalid="ignore"):
                rows[k] = np.nansum(stats, axis=0) / count
    return rows


def check_samples(samples: Any) -> int:
    """``samples`` as a positive int (``2.0`` too, as every count: never text or a bool), or
    ConfigError."""
    return positive_int(samples, "samples", error=ConfigError)
