"""The Qt pieces of the *Measurements* widget's tables and calibration box.

:class:`TableModel` shows a measured table (a DataFrame) in the widget's sortable view,
sorting by the raw values (:data:`SORT_ROLE`), not the text shown; :class:`ScaleBox` is the
mm-per-pixel box, which shows a calibration with all its significant digits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from qtpy.QtCore import QAbstractTableModel, QModelIndex, Qt
from qtpy.QtWidgets import QDoubleSpinBox

__all__ = ["SORT_ROLE", "ScaleBox", "TableModel"]

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
