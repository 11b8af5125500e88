"""A plate heat map of one per-well measurement; clicking a well emits it.

The measurement is chosen from every numeric column of the run's per-well profile
(``wells.parquet``, else ``wells.csv``): the counts (``Metadata_Count_Cells``), the medians
of every object feature (``Cells_AreaShape_Area``), the run's aggregates; the box completes
any part of a name typed into it. The whole plate fits the widget (cells shrink with it,
never a scroll bar); a colour bar gives the measurement's range; the selected well keeps
its colour and gets an outline.
"""

from __future__ import annotations

import math
from pathlib import Path

from qtpy.QtCore import QModelIndex, Qt, Signal
from qtpy.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPen, QPixmap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_openhcs import tables
from napari_openhcs.wells import grid_position

#: Columns of the per-well table that say which well it is, not what was measured.
_NOT_MEASURED = ("well", "row", "column", "plate", "status")

#: Smallest cell of the grid (px): a 96-well plate needs about 12·22 × 8·16 px.
CELL_W, CELL_H = 22, 16
OUTLINE = QColor(255, 64, 160)  # magenta: not on the ramp, visible on dark and light cells

# A short perceptual ramp (dark blue → teal → yellow), interpolated linearly.
_RAMP = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def ramp(t: float) -> QColor:
    """The colour of ``t`` in [0, 1]."""
    t = min(max(t, 0.0), 1.0) * (len(_RAMP) - 1)
    i = min(int(t), len(_RAMP) - 2)
    f = t - i
    a, b = _RAMP[i], _RAMP[i + 1]
    return QColor(*(round(a[k] + (b[k] - a[k]) * f) for k in range(3)))


class _OutlineDelegate(QStyledItemDelegate):
    """Paints cells as usual, then an outline around the selected well."""

    def __init__(self, heatmap: PlateHeatMap) -> None:
        super().__init__(heatmap)
        self.heatmap = heatmap

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        option = QStyleOptionViewItem(option)  # no hover or focus tint over the colour
        option.state &= ~(QStyle.StateFlag.State_MouseOver | QStyle.StateFlag.State_HasFocus)
        super().paint(painter, option, index)
        if (index.row(), index.column()) == self.heatmap.selected_cell():
            painter.save()
            painter.setPen(QPen(OUTLINE, 3))
            painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
            painter.restore()


class PlateHeatMap(QWidget):
    """Wells coloured by a chosen column of ``wells.csv``."""

    well_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.measure = QComboBox()
        self.measure.setToolTip(
            "Per-well measurement shown on the plate: any numeric column of wells.csv "
            "(counts, feature medians); type part of a name to find it"
        )
        self.measure.setEditable(True)
        self.measure.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.measure.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.measure.completer().setCompletionMode(
            self.measure.completer().CompletionMode.PopupCompletion
        )
        self.measure.currentIndexChanged.connect(self._paint)
        self.table = QTableWidget()
        self.table.cellClicked.connect(self._clicked)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setItemDelegate(_OutlineDelegate(self))
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for header in (self.table.horizontalHeader(), self.table.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(1)
        self.legend_min = QLabel()
        self.legend_max = QLabel()
        self.legend_bar = QLabel()
        self.legend_bar.setToolTip("Colour scale of the measurement: low (left) to high (right)")
        self.selection = QLabel()
        # a line's height with room for descenders (underscores): no jump on click, no clipping
        self.selection.setMinimumHeight(self.selection.fontMetrics().lineSpacing() + 4)
        legend = QHBoxLayout()
        legend.addWidget(self.legend_min)
        legend.addWidget(self.legend_bar, 1)
        legend.addWidget(self.legend_max)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.measure)
        layout.addWidget(self.table)
        layout.addLayout(legend)
        layout.addWidget(self.selection)
        self.rows: dict[str, dict] = {}
        self.shape = (8, 12)
        self.selected: str | None = None
        self._fit()

    @property
    def feature(self) -> str:
        """The measurement shown (the chosen item, not text half typed into the box)."""
        return self.measure.itemText(self.measure.currentIndex())

    def features(self) -> list[str]:
        """Every measurement the box offers, in the table's order."""
        return [self.measure.itemText(i) for i in range(self.measure.count())]

    def choose(self, feature: str) -> None:
        """Colour the plate by ``feature`` (one of :meth:`features`).

        Raises
        ------
        KeyError
            If the run's table has no such numeric column.
        """
        i = self.measure.findText(feature, Qt.MatchFlag.MatchExactly)
        if i < 0:
            raise KeyError(f"no numeric per-well measurement {feature!r}")
        self.measure.setCurrentIndex(i)

    def load(self, out: str | Path, shape: tuple[int, int]) -> bool:
        """Show the per-well table of the run folder ``out`` (``wells.parquet``, typed, else
        ``wells.csv``); returns whether there was one."""
        folder = Path(out)
        for name, read in (("wells.parquet", tables.read_table), ("wells.csv", tables.read_csv)):
            if (folder / name).exists():
                self.set_data(read(folder / name).to_pylist(), shape)
                return True
        return False

    def selected_cell(self) -> tuple[int, int] | None:
        return grid_position(self.selected) if self.selected else None

    def set_selected(self, well: str | None) -> None:
        """Outline ``well`` (the navigator's well); its colour stays visible."""
        if well != self.selected:
            self.selected = well
            self._describe_selection()
            self.table.viewport().update()

    def _describe_selection(self) -> None:
        v = self.values().get(self.selected) if self.selected else None
        key = self.feature
        self.selection.setText(f"{self.selected}: {key} = {v:.4g}" if v is not None else "")

    def _fit(self) -> None:
        """Size the grid so that every well shows (no scrolling) and cells fill the width."""
        nrows, ncols = self.shape
        self.table.verticalHeader().setDefaultSectionSize(CELL_H)
        v_header = self.table.verticalHeader().sizeHint().width()
        h_header = self.table.horizontalHeader().sizeHint().height()
        frame = 2 * self.table.frameWidth()
        self.table.setMinimumSize(
            v_header + ncols * CELL_W + frame, h_header + nrows * CELL_H + frame
        )

    def set_data(self, rows: list[dict], shape: tuple[int, int]) -> None:
        """``rows`` as read from ``wells.csv`` (one dict per well), plate ``(rows, columns)``.

        The box offers every column with a number in some well; the measurement shown
        stays when the new table has it (a re-run), else the first is shown.
        """
        self.rows = {r["well"]: r for r in rows if r.get("well")}
        self.shape = shape
        numeric = []
        for key in rows[0] if rows else []:
            if key in _NOT_MEASURED:
                continue
            if any(_number(r.get(key)) is not None for r in rows):
                numeric.append(key)
        before = self.feature
        self.measure.blockSignals(True)
        self.measure.clear()
        self.measure.addItems(numeric)
        if before in numeric:
            self.measure.setCurrentIndex(numeric.index(before))
        self.measure.blockSignals(False)
        self._paint()

    def values(self) -> dict[str, float]:
        """The chosen measurement per well (wells without a number left out)."""
        key = self.feature
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
        self._fit()
        values = self.values()
        lo = hi = None
        if values:
            lo, hi = min(values.values()), max(values.values())
            for well, v in values.items():
                r, c = grid_position(well)
                item = QTableWidgetItem()
                item.setToolTip(f"{well}: {self.feature} = {v}")
                item.setBackground(QBrush(ramp(0.5 if hi == lo else (v - lo) / (hi - lo))))
                self.table.setItem(r, c, item)
        self._paint_legend(lo, hi)
        self._describe_selection()

    def _paint_legend(self, lo: float | None, hi: float | None) -> None:
        self.legend_min.setText("" if lo is None else f"{lo:.3g}")
        self.legend_max.setText("" if hi is None else f"{hi:.3g}")
        self.legend_bar.setVisible(lo is not None)
        pixmap = QPixmap(160, 12)
        painter = QPainter(pixmap)
        gradient = QLinearGradient(0, 0, 160, 0)
        for i, rgb in enumerate(_RAMP):
            gradient.setColorAt(i / (len(_RAMP) - 1), QColor(*rgb))
        painter.fillRect(pixmap.rect(), gradient)
        painter.end()
        self.legend_bar.setPixmap(pixmap)
        self.legend_bar.setScaledContents(True)

    def _clicked(self, row: int, column: int) -> None:
        well = f"{chr(65 + row)}{column + 1:02d}"
        if well in self.rows:
            self.set_selected(well)
            self.well_clicked.emit(well)


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None  # a flag (a plate map's control column), not a measurement
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v
