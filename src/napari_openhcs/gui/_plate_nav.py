"""The "Plate" navigator: a plate as a well grid with site, channel, z and time selectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtpy.QtCore import QEvent, Qt, QTimer
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

from napari_openhcs.wells import grid_position

ALL = "all"
AXES = ("site", "t", "z", "y", "x")


class PlateNavigator(QWidget):
    """Open a plate (folder or OME-Zarr); choosing a well loads it lazily as layers."""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from napari_openhcs.gui._session import get_session, unwrap_viewer

        self.viewer = napari_viewer
        self._real = unwrap_viewer(napari_viewer)  # events and the dims sliders live here
        self.session = get_session(napari_viewer)
        self._shown_well: str | None = None
        self._adopting = False
        self._syncing = False
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
        self._real.layers.events.inserted.connect(self._layer_inserted)
        self._real.dims.events.current_step.connect(self._dims_moved, position="last")
        self.session.selection_changed.connect(self._follow_session)
        if self.session.index is not None:  # another navigator of this window opened it
            self._show_plate(self.session.index)
            self._follow_session()
        else:  # File → Open (or the sample) before the dock: adopt the plate it showed
            self._adopt_layers()

    # -- opening ---------------------------------------------------------------------
    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a plate")
        if path:
            self.path.setText(path)
            self.open_path(path)

    def open_path(self, path: str | Path, well: str | None = None) -> bool:
        """Open the plate at ``path`` (showing ``well``, else its first); on failure clear the
        old plate, show why and return ``False``."""
        from napari.utils.notifications import show_error

        from napari_openhcs.errors import OpenHCSError
        from napari_openhcs.gui._reader import inside_plate_message, plate_above
        from napari_openhcs.plates import open_plate

        path = Path(str(path).strip())
        self.path.setText(str(path))
        try:
            if not path.exists():
                raise FileNotFoundError(f"{path} does not exist")
            parent = plate_above(path)
            if parent is not None:
                raise ValueError(inside_plate_message(path, parent))
            index = open_plate(path)
            if not index.wells:
                raise ValueError(f"{path}: the plate has no images")
        except (OpenHCSError, OSError, ValueError) as exc:
            text = f"Not a plate napari-openhcs can read: {exc}"
            self.message.setText(text)
            self.message.setStyleSheet("color: #e66;")
            self._clear()
            show_error(text)
            return False
        self.message.setStyleSheet("")
        self.message.setText(
            f"{index.name} ({index.format}): {len(index.wells)} wells, {len(index.sites)} "
            f"site(s), {len(index.channels)} channel(s), {len(index.z)} z, "
            f"{len(index.timepoints)} timepoint(s)"
        )
        self._shown_well = None
        self._show_plate(index)
        self.session.set_plate(str(path), index)
        self.select_well(well if well in index.wells else index.wells[0])
        return True

    def _clear(self) -> None:
        """Empty the grid, the selectors, the old plate's layers and the session's plate."""
        self.grid.clear()
        self.grid.setRowCount(0)
        self.grid.setColumnCount(0)
        for box in (self.site, self.channel, self.z, self.timepoint):
            box.blockSignals(True)
            box.clear()
            box.blockSignals(False)
        for layer in self._plate_layers():
            self._real.layers.remove(layer)
        self._shown_well = None
        if self.session.plate_path is not None:
            self.session.clear_plate()

    def _show_plate(self, index) -> None:
        self.grid.clear()
        self.grid.setRowCount(index.rows)
        self.grid.setColumnCount(index.columns)
        self.grid.setVerticalHeaderLabels([chr(65 + i) for i in range(index.rows)])
        self.grid.setHorizontalHeaderLabels([str(i + 1) for i in range(index.columns)])
        for i in range(index.columns):
            self.grid.setColumnWidth(i, 34)
        for well in index.wells:
            r, c = grid_position(well)
            item = QTableWidgetItem(well)
            item.setBackground(QBrush(QColor(70, 110, 160)))
            self.grid.setItem(r, c, item)
        z_first = index.z[0] if len(index.z) > 1 else None
        for box, values, current in (
            (self.site, index.sites, None),
            (self.z, [ALL, *index.z], z_first),
            (self.timepoint, index.timepoints, None),
        ):
            box.blockSignals(True)
            box.clear()
            box.addItems([str(v) for v in values])
            if current is not None:
                box.setCurrentText(str(current))
            box.blockSignals(False)
        self.channel.blockSignals(True)
        self.channel.clear()
        self.channel.addItem(ALL)
        for c in index.channels:
            self.channel.addItem(f"{c}: {index.channel_names.get(c) or f'ch{c}'}")
        self.channel.blockSignals(False)

    # -- layers opened by File → Open ------------------------------------------------
    def _plate_layers(self) -> list:
        from napari_openhcs.gui._reader import plate_layer_meta

        return [x for x in self._real.layers if plate_layer_meta(x) is not None]

    def _layer_inserted(self, event) -> None:
        """A plate layer napari added itself (File → Open, sample data): keep one layer per
        channel (the new one) and show its plate and well in the grid."""
        from napari_openhcs.gui._reader import plate_layer_meta

        layer = event.value
        meta = plate_layer_meta(layer)
        if meta is None or self._adopting:
            return
        for other in self._plate_layers():
            old = plate_layer_meta(other)
            if other is not layer and (
                old["channel"] == meta["channel"] or old["plate"] != meta["plate"]
            ):
                self._real.layers.remove(other)
        QTimer.singleShot(0, self._adopt_layers)

    def _adopt_layers(self) -> None:
        from napari_openhcs.gui._reader import plate_layer_meta

        layers = self._plate_layers()
        if not layers:
            return
        meta = plate_layer_meta(layers[-1])
        if self.session.plate_path is not None and Path(meta["plate"]) == Path(
            self.session.plate_path
        ):
            if meta["well"] != self._shown_well:
                self.select_well(meta["well"])
            else:
                self._after_layers()
            return
        self.open_path(meta["plate"], well=meta["well"])

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
        from napari_openhcs.gui._reader import plate_layer_meta, read_plate_layers

        s = self.session
        by_channel = {plate_layer_meta(x)["channel"]: x for x in self._plate_layers()}
        self._adopting = True
        try:
            for data, kwargs, _kind in read_plate_layers(s.plate_path, well):
                layer = by_channel.get(kwargs["metadata"]["openhcs"]["channel"])
                if layer is not None:
                    layer.data = data
                    layer.metadata = kwargs["metadata"]
                else:
                    self._real.add_image(data, **kwargs)
        finally:
            self._adopting = False
        r, c = grid_position(well)
        shown = self.grid.item(r, c)
        if shown is None or not shown.isSelected():  # else: one of several chosen wells
            self.grid.blockSignals(True)
            for item in self.grid.selectedItems():
                item.setSelected(False)
            if shown is not None:
                shown.setSelected(True)
            self.grid.blockSignals(False)
            s.select_wells([well])
        self._shown_well = well
        s.select(well=well)
        self._after_layers()

    def _after_layers(self) -> None:
        self._label_axes()
        self._apply_dims()
        self._apply_channel()
        self._rename()

    def _label_axes(self) -> None:
        dims = self._real.dims
        if dims.ndim >= len(AXES) and self._plate_layers():
            labels = list(dims.axis_labels)
            labels[dims.ndim - len(AXES) :] = AXES
            dims.axis_labels = tuple(labels)

    def _rename(self) -> None:
        """Layer names say where they are: well, site and channel (``A01 s2 DAPI``)."""
        from napari_openhcs.gui._reader import layer_name, plate_layer_meta

        site = self.site.currentText()
        for layer in self._plate_layers():
            meta = plate_layer_meta(layer)
            name = layer_name(meta["well"], int(site) if site else 1, meta["channel_name"])
            if layer.name != name:
                layer.name = name
        self._number_sliders()

    def _site_or_time(self, *_args) -> None:
        if self.site.currentText() and self.timepoint.currentText():
            self.session.select(
                site=int(self.site.currentText()), timepoint=int(self.timepoint.currentText())
            )
            self._apply_dims()
            self._rename()

    def _offset(self) -> int | None:
        ndim = self._real.dims.ndim
        if self.session.index is None or not self._plate_layers() or ndim < len(AXES):
            return None
        return ndim - len(AXES)

    def _apply_dims(self, *_args) -> None:
        """Move napari's sliders to the navigator's site, timepoint and z (``z: all``: the
        whole stack, rendered in 3D)."""
        idx, off = self.session.index, self._offset()
        if off is None:
            return
        dims = self._real.dims
        step = list(dims.current_step)
        if self.site.currentText():
            step[off] = idx.sites.index(int(self.site.currentText()))
        if self.timepoint.currentText():
            step[off + 1] = idx.timepoints.index(int(self.timepoint.currentText()))
        z = self.z.currentText()
        if z not in ("", ALL):
            step[off + 2] = idx.z.index(int(z))
        self._syncing = True
        try:
            if z == ALL and len(idx.z) > 1:
                dims.ndisplay = 3
            elif dims.ndisplay != 2:
                dims.ndisplay = 2
            dims.current_step = tuple(step)
        finally:
            self._syncing = False
        self._number_sliders()

    def _dims_moved(self, *_args) -> None:
        """napari's sliders moved: the navigator (and so the preview) follows."""
        idx, off = self.session.index, self._offset()
        if self._syncing or off is None:
            return
        step = self._real.dims.current_step
        values = [
            (self.site, idx.sites, step[off]),
            (self.timepoint, idx.timepoints, step[off + 1]),
        ]
        if self.z.currentText() != ALL and self._real.dims.ndisplay == 2:
            values.append((self.z, idx.z, step[off + 2]))
        for box, plate_values, i in values:
            if 0 <= i < len(plate_values) and box.currentText() != str(plate_values[i]):
                box.blockSignals(True)
                box.setCurrentText(str(plate_values[i]))
                box.blockSignals(False)
        if self.site.currentText() and self.timepoint.currentText():
            self.session.select(
                site=int(self.site.currentText()), timepoint=int(self.timepoint.currentText())
            )
        self._rename()

    def _number_sliders(self) -> None:
        """napari numbers slider positions from 0; show the plate's own site, t and z."""
        idx, off = self.session.index, self._offset()
        qt_dims = getattr(getattr(self._real.window, "_qt_viewer", None), "dims", None)
        widgets = getattr(qt_dims, "slider_widgets", None)
        if off is None or not widgets or len(widgets) < off + 3:
            return
        step = self._real.dims.current_step
        for k, values in enumerate((idx.sites, idx.timepoints, idx.z)):
            widget, i = widgets[off + k], step[off + k]
            if 0 <= i < len(values):
                widget.curslice_label.setText(str(values[i]))
                widget.totslice_label.setText(str(values[-1]))

    def _follow_session(self, *_args) -> None:
        """Another panel (the heat map) changed the selection: show that well and site."""
        s = self.session
        if s.index is None or s.plate_path is None:
            return
        if s.well is not None and s.well != self._shown_well and s.well in s.index.wells:
            self.select_well(s.well)
        for box, value in ((self.site, s.site), (self.timepoint, s.timepoint)):
            if value is not None and box.currentText() != str(value):
                box.blockSignals(True)
                box.setCurrentText(str(value))
                box.blockSignals(False)
                self._apply_dims()
                self._rename()

    def _apply_channel(self, *_args) -> None:
        from napari_openhcs.gui._reader import plate_layer_meta

        choice = self.channel.currentText()
        for layer in self._plate_layers():
            meta = plate_layer_meta(layer)
            layer.visible = choice in ("", ALL) or choice.startswith(f"{meta['channel']}:")
