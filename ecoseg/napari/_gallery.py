"""The *Review tracks* gallery's rows: one per track of a store, with a thumbnail of it.

:func:`gallery_table` is the table behind the rows (best-scored frame, class, where it came
from, probability, frames present, duration), :func:`thumbnail` the picture in the first
column (the mask outlined on a crop of the video, or on grey without it), :func:`icon` that
picture as a Qt icon and :class:`SortItem` a cell that sorts by its value, not its text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from qtpy.QtCore import Qt
from qtpy.QtGui import QIcon, QImage, QPixmap
from qtpy.QtWidgets import QTableWidgetItem

__all__ = ["COLUMNS", "THUMB", "SortItem", "gallery_table", "icon", "thumbnail"]

#: The gallery's column headers.
COLUMNS = ("track", "id", "class", "source", "p", "frames", "duration s")
#: The thumbnails' side, in pixels.
THUMB = 64


def gallery_table(reg: pd.DataFrame, survey: bool = False) -> pd.DataFrame:
    """One row per track of a store, from its regions table ``reg``: best frame, class,
    source, probability, frames present, duration (NaN where ``survey``, a photo survey's
    instance: it has no time axis; :attr:`ecoseg.provenance.Provenance.is_survey`). The
    caller, who has the store open, reads both.

    Examples
    --------
    >>> from ecoseg.measure.regions import regions
    >>> from ecoseg.sample import sample
    >>> t = gallery_table(regions(sample().truth))
    >>> t.columns.tolist()[:4]
    ['object_id', 'class', 'class_source', 'class_probability']
    >>> bool(gallery_table(regions(sample().truth), survey=True)["duration_s"].isna().all())
    True
    """
    from ecoseg.measure.tracks import track_table

    if not len(reg):
        return pd.DataFrame(
            columns=[
                "object_id",
                "class",
                "class_source",
                "class_probability",
                "frames_present",
                "duration_s",
                "best_frame",
                "bbox",
            ]
        )
    tracks = track_table(reg, survey=survey).set_index("object_id")
    order = reg.sort_values(["object_id", "score", "area_px"], ascending=[True, False, False])
    best = order.groupby("object_id").head(1).set_index("object_id")
    out = pd.DataFrame(
        {
            "object_id": tracks.index.to_numpy(),
            "class": tracks["class"].to_numpy(),
            "class_source": tracks["class_source"].to_numpy(),
            "class_probability": tracks["class_probability"].to_numpy(),
            "frames_present": tracks["frames_present"].to_numpy(),
            "duration_s": tracks["duration_s"].to_numpy(),
            "best_frame": best.loc[tracks.index, "frame"].to_numpy(),
            "bbox": [
                tuple(int(v) for v in best.loc[i, ["bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1"]])
                for i in tracks.index
            ],
        }
    )
    return out


def thumbnail(image: np.ndarray | None, mask: np.ndarray, bbox, size: int = THUMB) -> np.ndarray:
    """A ``size`` x ``size`` RGB crop around ``bbox`` with the mask's outline drawn in.

    Examples
    --------
    >>> m = np.zeros((20, 20), bool); m[5:10, 5:12] = True
    >>> thumbnail(None, m, (5, 5, 12, 10)).shape
    (64, 64, 3)
    """
    from scipy import ndimage

    h, w = mask.shape
    x0, y0, x1, y1 = bbox
    side = max(x1 - x0, y1 - y0) * 1.4 + 4
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    xs = np.clip((cx - side / 2 + (np.arange(size) + 0.5) * side / size).astype(int), 0, w - 1)
    ys = np.clip((cy - side / 2 + (np.arange(size) + 0.5) * side / size).astype(int), 0, h - 1)
    if image is None:
        crop = np.full((size, size, 3), 60, np.uint8)
    else:
        crop = np.asarray(image)[ys[:, None], xs[None, :], :3].astype(np.uint8).copy()
    m = mask[ys[:, None], xs[None, :]]
    edge = m & ~ndimage.binary_erosion(m)
    crop[edge] = (255, 230, 0)
    return crop


def icon(rgb: np.ndarray) -> QIcon:
    """An RGB image (a :func:`thumbnail`) as a Qt icon (its pixels copied)."""
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    return QIcon(QPixmap.fromImage(img))


class SortItem(QTableWidgetItem):
    """A cell that sorts by its raw value (numbers as numbers, NaN first)."""

    def __init__(self, text: str, value: Any):
        super().__init__(text)
        self.value = value
        self.setFlags(self.flags() & ~Qt.ItemIsEditable)

    def __lt__(self, other):
        a, b = self.value, getattr(other, "value", None)
        if isinstance(a, float) and np.isnan(a):
            return not (isinstance(b, float) and np.isnan(b))
        if isinstance(b, float) and np.isnan(b):
            return False
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)
