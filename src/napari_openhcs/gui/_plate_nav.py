"""The "Plate" navigator: a plate as a well grid with site, channel, z and time selectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtpy.QtCore import QEvent, Qt
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PLATE_PREFIX = "plate: "
ALL = "all"


class PlateNavigator(QWidget):
    """Open a plate (folder or OME-Zarr); choosing a well loads it lazily as layers."""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from napari_openhcs.gui._session import get_session

        self.viewer = napari_viewer
        self.session = get_session(napari_viewer)
        self.path = QLineEdit(placeholderText="Plate folder or OME-Zarr plate")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        open_button = QPushButton("Open")
        open_button.clicked.connect(lambda: self.open_path(self.path.text()))
        self.path.returnPressed.connect(lambda: self.open_path(self.path.text()))
        self.message = QLabel("No plate open.")
        self.message.setWordWrap(True)
        self.grid = QTableWidget()
        self.grid.cellClicked.connect(self._cell_clicked)
        # ctrl/shift-click chooses several wells (Run plate's "Selected wells only")
        self.grid.setSelectionMode(QTableWidget.SelectionMode.ExtendedSelection)
        self.grid.itemSelectionChanged.connect(self._wells_chosen)
        self._press_modifiers = Qt.KeyboardModifier.NoModifier
        self.grid.viewport().installEventFilter(self)
        self.grid.setMinimumHeight(150)
        self.site = QComboBox()
        self.channel = QComboBox()
        self.z = QComboBox()
        self.timepoint = QComboBox()
        self.site.currentTextChanged.connect(self._site_or_time)
        self.timepoint.currentTextChanged.connect(self._site_or_time)
        self.z.currentTextChanged.connect(self._apply_dims)
        self.channel.currentTextChanged.connect(self._apply_channel)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        row.addWidget(open_button)
        form = QFormLayout()
        form.addRow("site", self.site)
        form.addRow("channel", self.channel)
        form.addRow("z", self.z)
        form.addRow("timepoint", self.timepoint)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.grid, 1)
        layout.addLayout(form)

    # -- opening ---------------------------------------------------------------------
    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a plate")
        if path:
            self.path.setText(path)
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open the plate at ``path``; on failure show why and return ``False``."""
        from napari.utils.notifications import show_error

        from napari_openhcs.errors import OpenHCSError
        from napari_openhcs.plates import open_plate

        path = Path(str(path).strip())
        self.path.setText(str(path))
        try:
            if not path.exists():
                raise FileNotFoundError(f"{path} does not exist")
            index = open_plate(path)
            if not index.wells:
                raise ValueError(f"{path}: the plate has no images")
        except (OpenHCSError, OSError, ValueError) as exc:
            text = f"Not a plate napari-openhcs can read: {exc}"
            self.message.setText(text)
            self.message.setStyleSheet("color: #e66;")
            show_error(text)
            return False
        self.message.setStyleSheet("")
        self.message.setText(
            f"{index.name} ({index.format}): {len(index.wells)} wells, {len(index.sites)} "
            f"site(s), {len(index.channels)} channel(s), {len(index.z)} z, "
            f"{len(index.timepoints)} timepoint(s)"
        )
        self._fill(index)
        self.session.set_plate(str(path), index)
        self.select_well(index.wells[0])
        return True

    def _fill(self, index) -> None:
        self.grid.clear()
        self.grid.setRowCount(index.rows)
        self.grid.setColumnCount(index.columns)
        self.grid.setVerticalHeaderLabels([chr(65 + i) for i in range(index.rows)])
        self.grid.setHorizontalHeaderLabels([str(i + 1) for i in range(index.columns)])
        for i in range(index.columns):
            self.grid.setColumnWidth(i, 34)
        for well in index.wells:
            r, c = _row_col(well)
            item = QTableWidgetItem(well)
            item.setBackground(QBrush(QColor(70, 110, 160)))
            self.grid.setItem(r, c, item)
        for box, values in (
            (self.site, index.sites),
            (self.z, [ALL, *index.z]),
            (self.timepoint, index.timepoints),
        ):
            box.blockSignals(True)
            box.clear()
            box.addItems([str(v) for v in values])
            box.blockSignals(False)
        self.channel.blockSignals(True)
        self.channel.clear()
        self.channel.addItem(ALL)
        for c in index.channels:
            self.channel.addItem(f"{c}: {index.channel_names.get(c) or f'ch{c}'}")
        self.channel.blockSignals(False)

    # -- selection -------------------------------------------------------------------
    def _cell_clicked(self, row: int, column: int) -> None:
        well = f"{chr(65 + row)}{column + 1:02d}"
        item = self.grid.item(row, column)
        extend, self._press_modifiers = self._press_modifiers, Qt.KeyboardModifier.NoModifier
        if item is not None and not item.isSelected() and extend:
            return  # ctrl-click took the well out of the chosen ones
        if self.session.index is not None and well in self.session.index.wells:
            self.select_well(well)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.MouseButtonPress:
            self._press_modifiers = event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
            )
        return super().eventFilter(obj, event)

    def _wells_chosen(self) -> None:
        wells = {i.text() for i in self.grid.selectedItems()}
        if self.session.index is not None:
            self.session.select_wells([w for w in self.session.index.wells if w in wells])

    def select_well(self, well: str) -> None:
        """Show ``well`` (lazily, one image layer per channel) and make it the selection."""
        from napari_openhcs.gui._layers import set_layer
        from napari_openhcs.gui._reader import read_plate_layers

        s = self.session
        for data, kwargs, _kind in read_plate_layers(s.plate_path, well):
            kwargs = dict(kwargs)
            channel_name = kwargs["metadata"]["openhcs"]["channel_name"]
            name = PLATE_PREFIX + channel_name
            kwargs.pop("name")
            kwargs.pop("axis_labels", None)
            if name in self.viewer.layers:
                layer = self.viewer.layers[name]
                layer.data = data
                layer.metadata = kwargs["metadata"]
            else:
                set_layer(self.viewer, name, data, "image", **kwargs)
        r, c = _row_col(well)
        shown = self.grid.item(r, c)
        if shown is None or not shown.isSelected():  # else: one of several chosen wells
            self.grid.blockSignals(True)
            for item in self.grid.selectedItems():
                item.setSelected(False)
            if shown is not None:
                shown.setSelected(True)
            self.grid.blockSignals(False)
            s.select_wells([well])
        s.select(well=well)
        self._apply_dims()
        self._apply_channel()

    def _site_or_time(self, *_args) -> None:
        if self.site.currentText() and self.timepoint.currentText():
            self.session.select(
                site=int(self.site.currentText()), timepoint=int(self.timepoint.currentText())
            )
            self._apply_dims()

    def _apply_dims(self, *_args) -> None:
        idx = self.session.index
        layers = [x for x in self.viewer.layers if x.name.startswith(PLATE_PREFIX)]
        if idx is None or not layers or self.viewer.dims.ndim < 5:
            return
        step = list(self.viewer.dims.current_step)
        off = self.viewer.dims.ndim - 5
        if self.site.currentText():
            step[off] = idx.sites.index(int(self.site.currentText()))
        if self.timepoint.currentText():
            step[off + 1] = idx.timepoints.index(int(self.timepoint.currentText()))
        if self.z.currentText() not in ("", ALL):
            step[off + 2] = idx.z.index(int(self.z.currentText()))
        self.viewer.dims.current_step = tuple(step)

    def _apply_channel(self, *_args) -> None:
        choice = self.channel.currentText()
        for layer in self.viewer.layers:
            meta = layer.metadata.get("openhcs", {}) if layer.name.startswith(PLATE_PREFIX) else {}
            if "channel" in meta:
                layer.visible = choice in ("", ALL) or choice.startswith(f"{meta['channel']}:")


def _row_col(well: str) -> tuple[int, int]:
    letters = well.rstrip("0123456789")
    row = 0
    for ch in letters.upper():
        row = row * 26 + (ord(ch) - 64)
    return row - 1, int(well[len(letters) :]) - 1
