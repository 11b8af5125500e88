"""A plate heat map of one per-well measurement; clicking a well emits it."""

from __future__ import annotations

import math

from qtpy.QtCore import Signal
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import QComboBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

# A short perceptual ramp (dark blue → teal → yellow), interpolated linearly.
_RAMP = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def ramp(t: float) -> QColor:
    """The colour of ``t`` in [0, 1]."""
    t = min(max(t, 0.0), 1.0) * (len(_RAMP) - 1)
    i = min(int(t), len(_RAMP) - 2)
    f = t - i
    a, b = _RAMP[i], _RAMP[i + 1]
    return QColor(*(round(a[k] + (b[k] - a[k]) * f) for k in range(3)))


def _row_col(well: str) -> tuple[int, int]:
    letters = well.rstrip("0123456789")
    row = 0
    for ch in letters.upper():
        row = row * 26 + (ord(ch) - 64)
    return row - 1, int(well[len(letters) :]) - 1


class PlateHeatMap(QWidget):
    """Wells coloured by a chosen column of ``wells.csv``."""

    well_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.measure = QComboBox()
        self.measure.setToolTip("Per-well measurement shown on the plate")
        self.measure.currentTextChanged.connect(self._paint)
        self.table = QTableWidget()
        self.table.cellClicked.connect(self._clicked)
        self.table.setMinimumHeight(120)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.measure)
        layout.addWidget(self.table)
        self.rows: dict[str, dict] = {}
        self.shape = (8, 12)

    def set_data(self, rows: list[dict], shape: tuple[int, int]) -> None:
        """``rows`` as read from ``wells.csv`` (one dict per well), plate ``(rows, columns)``."""
        self.rows = {r["well"]: r for r in rows if r.get("well")}
        self.shape = shape
        numeric = []
        for key in rows[0] if rows else []:
            if key in ("well", "row", "column", "plate", "status"):
                continue
            if any(_number(r.get(key)) is not None for r in rows):
                numeric.append(key)
        self.measure.blockSignals(True)
        self.measure.clear()
        self.measure.addItems(numeric)
        self.measure.blockSignals(False)
        self._paint()

    def values(self) -> dict[str, float]:
        """The chosen measurement per well (wells without a number left out)."""
        key = self.measure.currentText()
        out = {}
        for well, r in self.rows.items():
            v = _number(r.get(key))
            if v is not None:
                out[well] = v
        return out

    def _paint(self, *_args) -> None:
        nrows, ncols = self.shape
        self.table.clear()
        self.table.setRowCount(nrows)
        self.table.setColumnCount(ncols)
        self.table.setVerticalHeaderLabels([chr(65 + i) for i in range(nrows)])
        self.table.setHorizontalHeaderLabels([str(i + 1) for i in range(ncols)])
        for i in range(ncols):
            self.table.setColumnWidth(i, 34)
        values = self.values()
        if values:
            lo, hi = min(values.values()), max(values.values())
            for well, v in values.items():
                r, c = _row_col(well)
                item = QTableWidgetItem(f"{v:.3g}")
                item.setToolTip(f"{well}: {self.measure.currentText()} = {v}")
                color = ramp(0.5 if hi == lo else (v - lo) / (hi - lo))
                item.setBackground(QBrush(color))
                item.setForeground(QBrush(QColor("black" if color.lightness() > 128 else "white")))
                self.table.setItem(r, c, item)

    def _clicked(self, row: int, column: int) -> None:
        well = f"{chr(65 + row)}{column + 1:02d}"
        if well in self.rows:
            self.well_clicked.emit(well)


def _number(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v
