"""Per-object trajectory summaries (the ``tracks`` table), derived from the regions table.

Motion is measured on the object's centroid between consecutive frames *in which the object
is present*; a gap (occlusion, missed frames) is bridged by the straight line between the
centroids on either side. Speeds use the true frame times (``time_s``), so variable frame
rate video gives correct speeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecoseg.measure.counts import require_columns

__all__ = ["MOTION_COLUMNS", "TRACK_UNITS", "TRACK_MM_COLUMNS", "track_table"]

#: Pixel-unit columns of the tracks table and their units.
TRACK_UNITS: dict[str, str] = {
    "object_id": "id",
    "class": "",
    "class_source": "",
    "class_probability": "1",
    "first_frame": "index",
    "last_frame": "index",
    "first_time_s": "s",
    "last_time_s": "s",
    "duration_s": "s",
    "frames_present": "frames",
    "path_length_px": "px",
    "net_displacement_px": "px",
    "mean_speed_px_s": "px/s",
    "max_speed_px_s": "px/s",
    "straightness": "1",
    "mean_area_px": "px^2",
}

#: Calibrated columns: name -> (pixel column, power of mm_per_px, unit).
TRACK_MM_COLUMNS: dict[str, tuple[str, int, str]] = {
    "path_length_mm": ("path_length_px", 1, "mm"),
    "net_displacement_mm": ("net_displacement_px", 1, "mm"),
    "mean_speed_mm_s": ("mean_speed_px_s", 1, "mm/s"),
    "max_speed_mm_s": ("max_speed_px_s", 1, "mm/s"),
    "mean_area_mm2": ("mean_area_px", 2, "mm^2"),
}


#: The columns that hold a frame's time: a photograph's index in a photo survey, where they
#: are in the unit ``index`` (:func:`ecoseg.measure.measure`; they said ``s``).
TIME_COLUMNS = ("time_s", "first_time_s", "last_time_s")

#: The columns that need a time axis: NaN in a photo survey's tracks (:func:`track_table`).
MOTION_COLUMNS = (
    "duration_s",
    "path_length_px",
    "net_displacement_px",
    "mean_speed_px_s",
    "max_speed_px_s",
    "straightness",
)


def track_table(regions: pd.DataFrame, *, calibration=None, survey: bool = False) -> pd.DataFrame:
    """Summarise each object's trajectory from a regions table.

    Parameters
    ----------
    regions : pandas.DataFrame
        A regions table: needs ``object_id``, ``frame``, ``time_s``, ``centroid_x_px``,
        ``centroid_y_px``, ``area_px`` (and ``class`` if present).
    calibration : Calibration, float, str or dict, optional
        Adds mm columns; default: ``regions.attrs["calibration"]`` if any.
    survey : bool
        The regions are of a photo survey (frames are photographs, ``time_s`` their
        indices): an object has no duration, path or speed, so :data:`MOTION_COLUMNS` (and
        their mm versions) are NaN, not 0 "seconds" and 0 px.

    Returns
    -------
    pandas.DataFrame
        One row per object, sorted by id:

        - ``class``, ``class_source`` and ``class_probability`` (from the regions table, or
          ``unknown`` / NaN without those columns);
        - ``first_frame``, ``last_frame``, ``first_time_s``, ``last_time_s``;
          ``duration_s`` = last - first time (0 for an object seen in one frame);
        - ``frames_present``: frames with at least one pixel of the object;
        - ``path_length_px``: sum of centroid steps between consecutive present frames;
        - ``net_displacement_px``: first to last centroid;
        - ``mean_speed_px_s`` = path length / duration (NaN when duration is 0);
        - ``max_speed_px_s``: largest step length / step time (NaN for one frame);
        - ``straightness`` = net displacement / path length (NaN when the path is 0);
        - ``mean_area_px``: mean area over the present frames;
        - mm versions when calibrated. ``attrs["units"]`` gives every unit.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"object_id": [1, 1, 1], "frame": [0, 1, 2],
    ...                     "time_s": [0.0, 0.5, 1.0], "centroid_x_px": [0.0, 3.0, 6.0],
    ...                     "centroid_y_px": [0.0, 4.0, 8.0], "area_px": [10, 10, 10]})
    >>> t = track_table(reg)
    >>> t[["path_length_px", "mean_speed_px_s", "straightness"]].to_dict("records")
    [{'path_length_px': 10.0, 'mean_speed_px_s': 10.0, 'straightness': 1.0}]
    """
    from ecoseg.measure.calibration import as_calibration

    need = ("object_id", "frame", "time_s", "centroid_x_px", "centroid_y_px", "area_px")
    require_columns(regions, need, "track_table: regions")
    if calibration is None:
        calibration = regions.attrs.get("calibration")
    cal = as_calibration(calibration)

    # rows by object then frame (stable); only the columns used are reordered, not a copy of
    # the whole table, which is most of what measuring a long video holds
    oid = regions["object_id"].to_numpy(np.int64)
    frame = regions["frame"].to_numpy(np.int64)
    order = np.lexsort((frame, oid))
    oid, frame = oid[order], frame[order]
    t = regions["time_s"].to_numpy(np.float64)[order]
    x = regions["centroid_x_px"].to_numpy(np.float64)[order]
    y = regions["centroid_y_px"].to_numpy(np.float64)[order]
    area = regions["area_px"].to_numpy(np.float64)[order]
    same = (np.diff(oid) == 0) & (np.diff(frame) == 0)
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise ValueError(f"object {oid[i]} has two rows for frame {frame[i]}")

    starts = np.flatnonzero(np.r_[True, oid[1:] != oid[:-1]]) if len(oid) else np.zeros(0, int)
    ends = np.append(starts[1:], len(oid)) - 1 if len(starts) else starts
    # steps between consecutive rows of the same object
    step_ok = np.zeros(len(oid), dtype=bool)
    step_ok[1:] = oid[1:] == oid[:-1]
    step = np.zeros(len(oid))
    step[1:] = np.hypot(np.diff(x), np.diff(y))
    step[~step_ok] = 0.0
    dt = np.zeros(len(oid))
    dt[1:] = np.diff(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(step_ok & (dt > 0), step / dt, np.nan)
    group = np.cumsum(np.r_[True, oid[1:] != oid[:-1]]) - 1 if len(oid) else oid
    n_obj = len(starts)
    path = np.bincount(group, weights=step, minlength=n_obj).astype(np.float64)  # also of 0 rows
    max_speed = np.full(n_obj, np.nan)
    has_step = step_ok & np.isfinite(speed)
    if has_step.any():
        max_speed_s = pd.Series(speed[has_step]).groupby(group[has_step]).max()
        max_speed[max_speed_s.index.to_numpy()] = max_speed_s.to_numpy()
    duration = t[ends] - t[starts]
    net = np.hypot(x[ends] - x[starts], y[ends] - y[starts])
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_speed = np.where(duration > 0, path / duration, np.nan)
        straightness = np.where(path > 0, net / path, np.nan)
    frames_present = ends - starts + 1
    mean_area = np.bincount(group, weights=area, minlength=n_obj) / np.maximum(frames_present, 1)

    out = pd.DataFrame(
        {
            "object_id": oid[starts],
            "class": (
                pd.array(regions["class"].iloc[order[starts]].to_numpy(), dtype=str)
                if "class" in regions.columns
                else pd.array(["unknown"] * n_obj, dtype=str)
            ),
            "class_source": pd.array(
                (
                    regions["class_source"].iloc[order[starts]].tolist()
                    if "class_source" in regions.columns
                    else ["unknown"] * n_obj
                ),
                dtype=str,
            ),
            "class_probability": (
                regions["class_probability"].to_numpy(np.float64)[order[starts]]
                if "class_probability" in regions.columns
                else np.full(n_obj, np.nan)
            ),
            "first_frame": frame[starts],
            "last_frame": frame[ends],
            "first_time_s": t[starts],
            "last_time_s": t[ends],
            "duration_s": duration,
            "frames_present": frames_present.astype(np.int64),
            "path_length_px": path,
            "net_displacement_px": net,
            "mean_speed_px_s": mean_speed,
            "max_speed_px_s": max_speed,
            "straightness": straightness,
            "mean_area_px": mean_area,
        }
    )
    if survey:
        out[list(MOTION_COLUMNS)] = np.nan
    units = dict(TRACK_UNITS)
    if cal is not None:
        for name, (src, power, unit) in TRACK_MM_COLUMNS.items():
            out[name] = out[src] * cal.mm_per_px**power
            units[name] = unit
    out.attrs.update({k: v for k, v in regions.attrs.items() if k not in ("units", "table")})
    out.attrs["table"] = "tracks"
    out.attrs["units"] = units
    out.attrs["calibration"] = cal.to_dict() if cal is not None else None
    return out
