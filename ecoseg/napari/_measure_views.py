"""The views of the *Measurements* widget: its tables, calibration box and counts plot.

:class:`TableModel` shows a measured table (a DataFrame) in the widget's sortable view,
sorting by the raw values (:data:`SORT_ROLE`), not the text shown; :class:`ScaleBox` is the
mm-per-pixel box, which shows a calibration with all its significant digits;
:func:`counts_plot` draws the counts table as the report does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from qtpy.QtCore import QAbstractTableModel, QModelIndex, Qt
from qtpy.QtWidgets import QDoubleSpinBox

from ecoseg.report.figures._counts import (
    class_maxn,
    frame_duration,
    held_steps,
    maxn_marker,
    survey_counts,
)

__all__ = ["SORT_ROLE", "ScaleBox", "TableModel", "counts_plot", "survey_plot"]

#: the role the widget's proxy sorts by: a cell's raw value (numbers as numbers, NaN last)
SORT_ROLE = Qt.UserRole + 1


class TableModel(QAbstractTableModel):
    """A read-only Qt model over a DataFrame; sorts by the raw values."""

    def __init__(self, df: pd.DataFrame | None = None):
        super().__init__()
        self.df = pd.DataFrame() if df is None else df.reset_index(drop=True)

    def set_frame(self, df: pd.DataFrame) -> None:
        self.beginResetModel()
        self.df = df.reset_index(drop=True)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.df)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.df.columns)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        value = self.df.iat[index.row(), index.column()]
        if role == SORT_ROLE:
            if isinstance(value, np.generic):
                value = value.item()
            return "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
        if role == Qt.DisplayRole:
            if isinstance(value, float | np.floating):
                return "" if np.isnan(value) else f"{value:.4g}"
            return str(value)
        if role == Qt.TextAlignmentRole and isinstance(value, int | float | np.number):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 - Qt API
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal:
            return str(self.df.columns[section])
        return str(section)


class ScaleBox(QDoubleSpinBox):
    """The mm-per-pixel box: 12 decimals, shown without trailing zeros (0.28818443804,
    0.000123), so a calibration is shown with all its significant digits, not rounded to a
    few decimals (0.000123 showed as 0.00012: 2.4 % in lengths)."""

    def __init__(self):
        super().__init__()
        self.setDecimals(12)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt API
        text = super().textFromValue(value)
        point = self.locale().decimalPoint()
        if point in text:
            text = text.rstrip("0").rstrip(point)
        return text


def counts_plot(ax, counts: pd.DataFrame | None, maxn: pd.DataFrame | None, photos=None) -> None:
    """Draw the ``counts`` table on ``ax`` as the report does: per class the count over time
    (each frame's count held until the next frame, the last frame's over its frame) with its
    MaxN (``maxn`` table) marked; a photo survey's (``photos``: its photographs, one per
    frame) as bars per photograph (:func:`survey_plot`).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> counts = pd.DataFrame({"frame": [0, 1], "time_s": [0.0, 0.5],
    ...                        "class": ["urchin", "urchin"], "count": [1, 2]})
    >>> maxn = pd.DataFrame({"class": ["urchin"], "maxn": [2], "frame": [1], "time_s": [0.5]})
    >>> counts_plot(ax, counts, maxn)
    >>> [line.get_drawstyle() for line in ax.lines], ax.get_xlabel()
    (['steps-post', 'default'], 'time (s)')
    """
    if photos is not None:  # a photo survey: no time axis, its counts per photograph
        survey_plot(ax, counts, photos, maxn)
    elif counts is not None and len(counts):
        wide = counts.pivot_table(index="time_s", columns="class", values="count", aggfunc="sum")
        frame_s = frame_duration(wide.index)  # the last frame's count held over its frame
        for i, cls in enumerate(wide.columns):
            t, n = held_steps(wide.index, wide[cls], frame_s)
            ax.step(t, n, where="post", label=str(cls), color=f"C{i}")
            if (m := class_maxn(maxn, cls)) is not None:  # as the report marks it
                maxn_marker(ax, m["time_s"], m["maxn"], f"C{i}")
        ax.legend(fontsize=7, ncols=2, frameon=False)
    if photos is None:
        ax.set_xlabel("time (s)")
        ax.set_ylabel("count")
    ax.tick_params(labelsize=7)


def survey_plot(ax, counts: pd.DataFrame | None, photos, maxn: pd.DataFrame | None = None) -> None:
    """Draw a photo survey's ``counts`` table on ``ax`` as the report does: per photograph
    (``photos``, one per frame) a bar per class, each class's MaxN (``maxn`` table) marked
    over its photograph (:func:`~ecoseg.report.figures._counts.survey_counts`, its axis
    :func:`~ecoseg.report.figures._panels.photograph_axis`), classes in the colour cycle.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> counts = pd.DataFrame({"frame": [0, 1], "time_s": [0.0, 1.0],
    ...                        "class": ["urchin", "urchin"], "count": [2, 0]})
    >>> maxn = pd.DataFrame({"class": ["urchin"], "maxn": [2], "frame": [0], "time_s": [0.0]})
    >>> survey_plot(ax, counts, ("q1.png", "q2.png"), maxn)
    >>> ax.get_xlabel(), [t.get_text() for t in ax.get_xticklabels()]
    ('photograph', ['q1.png', 'q2.png'])
    >>> [(line.get_marker(), float(line.get_xdata()[0])) for line in ax.lines]  # MaxN: photo 0
    [('v', 0.0)]
    """
    from matplotlib.patches import Patch

    if counts is None:
        counts = pd.DataFrame(columns=["frame", "time_s", "class", "count"])
    colors = {c: f"C{i}" for i, c in enumerate(sorted(counts["class"].unique()))}
    survey_counts(ax, counts, colors, maxn, None, photos)
    if colors:
        handles = [Patch(color=v, label=str(k)) for k, v in colors.items()]
        ax.legend(handles=handles, fontsize=7, ncols=2, frameon=False)
