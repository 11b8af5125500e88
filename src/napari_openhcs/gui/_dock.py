"""The "Pipeline" dock: function browser, step list, step form, preview, save/load, run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from napari_openhcs.atomic import write_text
from napari_openhcs.gui._browser import FunctionBrowser
from napari_openhcs.gui._step_form import StepForm, StepModel, gives_labels


def with_suffix(path: str | Path, suffix: str) -> Path:
    """``path`` with ``suffix`` added when its name has none (``nuclei`` -> ``nuclei.json``)."""
    path = Path(path)
    return path if path.suffix else path.with_name(path.name + suffix)


class PipelineDock(QWidget):
    """Build, preview, save and run a pipeline on the plate the Plate navigator opened."""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from napari_openhcs.gui._preview_worker import PreviewController
        from napari_openhcs.gui._run_panel import RunPanel
        from napari_openhcs.gui._session import get_session

        self.viewer = napari_viewer
        self.session = get_session(napari_viewer)
        self.steps: list[StepModel] = []
        self.errors: dict[str, str] = {}
        self.pipeline_name = "pipeline"

        self.counts: dict[str, int] = {}
        self._claimed = False

        self.browser = FunctionBrowser()
        self.browser.add_requested.connect(self._add_from_browser)
        self.step_list = QListWidget()
        self.step_list.setMaximumHeight(110)
        self.step_list.currentRowChanged.connect(self._select_row)
        self.step_list.itemChanged.connect(self._item_changed)
        buttons = QHBoxLayout()
        self.up_button = QPushButton("Up")
        self.down_button = QPushButton("Down")
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove every step (asks first)")
        self.up_button.clicked.connect(lambda: self.move_step(self.current_row(), -1))
        self.down_button.clicked.connect(lambda: self.move_step(self.current_row(), 1))
        self.remove_button.clicked.connect(lambda: self.remove_step(self.current_row()))
        self.clear_button.clicked.connect(self._clear_asked)
        for b in (self.up_button, self.down_button, self.remove_button, self.clear_button):
            buttons.addWidget(b)
        self.form = StepForm()
        self.form.changed.connect(self._form_changed)
        scroll = self.form_scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)

        self.preview_box = QCheckBox("Live preview on the selected site")
        self.preview = PreviewController(napari_viewer, self.session, self.pipeline_dict)
        self.preview.step_status.connect(self._step_status)
        self.preview.preview_done.connect(self._count_objects)
        self.preview_box.toggled.connect(self.preview.set_enabled)
        self.session.selection_changed.connect(self.preview.request)
        files = QHBoxLayout()
        for text, slot in (
            ("Save…", self._save_dialog),
            ("Load…", self._load_dialog),
            ("Export script…", self._export_dialog),
        ):
            b = QPushButton(text)
            b.clicked.connect(slot)
            files.addWidget(b)
        self.run_panel = RunPanel(napari_viewer, self.session, self.pipeline)

        # Three tabs, so that each gets the dock's height: the functions to add, the steps
        # with the selected one's parameters, and the run with its table and heat map.
        steps_box = QWidget()
        sl = QVBoxLayout(steps_box)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.step_list)
        sl.addLayout(buttons)
        sl.addWidget(scroll, 1)
        sl.addLayout(files)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.browser, "Functions")
        self.tabs.addTab(steps_box, "Steps")
        self.tabs.addTab(self.run_panel, "Run")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.preview_box)
        self.session.plate_changed.connect(lambda: self._select_row(self.current_row()))
        app = QApplication.instance()
        if app is not None:  # stop the preview process and any run when napari quits
            app.aboutToQuit.connect(self.shutdown)
        # The window's batch workers go with the window (its docks are deleted with it).
        session = self.session
        self.destroyed.connect(lambda *_: session.shutdown_workers())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._claimed:
            self._claimed = True
            QTimer.singleShot(0, self.claim_height)

    def claim_height(self, share: float = 0.56) -> None:
        """Take ``share`` of the height of the dock column this dock is in (the Plate dock
        keeps the rest, at least its minimum), so a step's parameters fit without scrolling.

        The window gives a dock added below another only its minimum height otherwise.
        """
        from qtpy.QtWidgets import QDockWidget, QMainWindow

        dock = self.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        win = dock.parentWidget() if dock is not None else None
        if not isinstance(win, QMainWindow) or dock.isFloating():
            return
        area = win.dockWidgetArea(dock)
        column = [
            d
            for d in win.findChildren(QDockWidget)
            if d is not dock
            and d.isVisible()
            and not d.isFloating()
            and win.dockWidgetArea(d) == area
            and abs(d.x() - dock.x()) < 8
        ]
        if not column:
            return
        total = dock.height() + sum(d.height() for d in column)
        rest = max(sum(d.minimumSizeHint().height() for d in column), round(total * (1 - share)))
        mine = max(total - rest, dock.minimumSizeHint().height())
        sizes = [max(d.minimumSizeHint().height(), rest // len(column)) for d in column]
        win.resizeDocks([*column, dock], [*sizes, mine], Qt.Orientation.Vertical)

    def shutdown(self) -> None:
        """Stop the preview worker process, a running plate run and the batch workers."""
        self.preview.close()
        self.run_panel.close_executor()

    # -- the model -------------------------------------------------------------------
    def pipeline(self):
        """The dock's steps as a ``Pipeline``."""
        from napari_openhcs.pipeline import Pipeline

        return Pipeline([m.to_step() for m in self.steps], name=self.pipeline_name)

    def pipeline_dict(self) -> dict | None:
        """The pipeline as its JSON dict, or ``None`` if a step is invalid."""
        from napari_openhcs.pipeline.jsonio import pipeline_to_dict

        try:
            return pipeline_to_dict(self.pipeline())
        except Exception as exc:  # noqa: BLE001 - shown on the form
            self.form.show_error(str(exc))
            return None

    def current_row(self) -> int:
        return self.step_list.currentRow()

    def add_step(self, ref: str, **kwargs: Any) -> StepModel:
        """Append a step running ``ref`` (with ``kwargs``) and select it."""
        name = ref.rsplit(".", 1)[-1]
        taken = {m.name for m in self.steps}
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name}_{n}", n + 1
        model = StepModel(ref=ref, kwargs=dict(kwargs), name=unique)
        self.steps.append(model)
        self._rebuild_list(len(self.steps) - 1)
        self._changed()
        return model

    def _add_from_browser(self, ref: str) -> None:
        self.add_step(ref)
        self.tabs.setCurrentIndex(1)  # its parameters

    def remove_step(self, row: int) -> None:
        if 0 <= row < len(self.steps):
            gone = self.steps.pop(row)
            self.preview.forget(gone.name)
            self.counts.pop(gone.name, None)
            self.errors.pop(gone.name, None)
            self._rebuild_list(min(row, len(self.steps) - 1))
            self._changed()

    def move_step(self, row: int, delta: int) -> None:
        new = row + delta
        if 0 <= row < len(self.steps) and 0 <= new < len(self.steps):
            self.steps[row], self.steps[new] = self.steps[new], self.steps[row]
            self._rebuild_list(new)
            self._changed()

    def set_steps(self, pipeline) -> None:
        """Replace every step by those of ``pipeline``."""
        self.pipeline_name = pipeline.name
        self.steps = [StepModel.from_step(s) for s in pipeline.steps]
        self.errors.clear()
        self._rebuild_list(0 if self.steps else -1)
        self._changed()

    def clear(self) -> None:
        """Remove every step (and its preview layers)."""
        from napari_openhcs.pipeline import Pipeline

        for m in self.steps:
            self.preview.forget(m.name)
        self.counts.clear()
        self.set_steps(Pipeline([], name="pipeline"))

    def _clear_asked(self) -> None:
        if not self.steps:
            return
        answer = QMessageBox.question(
            self,
            "Clear the pipeline",
            f"Remove all {len(self.steps)} step(s)? Save first to keep them.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.clear()

    # -- files -----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        from napari_openhcs.pipeline import save_pipeline

        return save_pipeline(self.pipeline(), with_suffix(path, ".json"))

    def load(self, path: str | Path) -> None:
        from napari_openhcs.pipeline import load_pipeline

        self.set_steps(load_pipeline(Path(path)))

    def export_script(self, path: str | Path) -> Path:
        from napari_openhcs.pipeline.export import pipeline_to_script

        path = with_suffix(path, ".py")
        write_text(path, pipeline_to_script(self.pipeline(), source="the napari dock"))
        return path

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save pipeline", "", "Pipeline (*.json)")
        if path:
            self._guard(self.save, path)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load pipeline", "", "Pipeline (*.json)")
        if path:
            self._guard(self.load, path)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export script", "", "Python (*.py)")
        if path:
            self._guard(self.export_script, path)

    def _guard(self, func, *args) -> None:
        from napari.utils.notifications import show_error

        try:
            func(*args)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(f"{type(exc).__name__}: {exc}")

    # -- list and form ---------------------------------------------------------------
    def _rebuild_list(self, select: int) -> None:
        self.step_list.blockSignals(True)
        self.step_list.clear()
        for m in self.steps:
            item = QListWidgetItem(self._label(m))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if m.enabled else Qt.CheckState.Unchecked)
            self.step_list.addItem(item)
        self.step_list.blockSignals(False)
        self.step_list.setCurrentRow(select)
        self._select_row(select)

    def _label(self, m: StepModel) -> str:
        error = self.errors.get(m.name)
        funcs = " → ".join(r.rsplit(".", 1)[-1] for r, _k in m.calls())
        count = self.counts.get(m.name)
        objects = f"  · {count} object{'s' if count != 1 else ''}" if count is not None else ""
        return f"{m.name}  ({funcs}){objects}" + ("  ⚠ " + error if error else "")

    def _refresh_labels(self) -> None:
        self.step_list.blockSignals(True)
        for i, m in enumerate(self.steps):
            item = self.step_list.item(i)
            item.setText(self._label(m))
            item.setToolTip(self.errors.get(m.name, ""))
            item.setCheckState(Qt.CheckState.Checked if m.enabled else Qt.CheckState.Unchecked)
        self.step_list.blockSignals(False)

    def _select_row(self, row: int) -> None:
        model = self.steps[row] if 0 <= row < len(self.steps) else None
        idx = self.session.index
        values = (
            {
                c: getattr(idx, "timepoints" if c == "timepoint" else c + "s" if c != "z" else "z")
                for c in ("site", "channel", "z", "timepoint")
            }
            if idx is not None
            else {}
        )
        before = [m for m in self.steps[: max(row, 0)] if m.enabled]
        earlier = [(m.name, m.scope) for m in before]
        objects = [m.name for m in before if m.scope != "plate" and gives_labels(m)]
        names = dict(getattr(idx, "channel_names", None) or {})
        self.form.set_step(model, values, earlier, names, objects)
        self.form.show_error(self.errors.get(model.name) if model else None)

    def _item_changed(self, item: QListWidgetItem) -> None:
        row = self.step_list.row(item)
        enabled = item.checkState() == Qt.CheckState.Checked
        if 0 <= row < len(self.steps) and self.steps[row].enabled != enabled:
            self.steps[row].enabled = enabled
            if row == self.current_row() and self.form.settings is not None:
                self.form.settings["enabled"].value = enabled
            self._changed()

    def _form_changed(self) -> None:
        self._refresh_labels()
        self._changed()

    def _changed(self) -> None:
        self.preview.request()

    def _step_status(self, step: str, message: object) -> None:
        if message:
            self.errors[step] = str(message)
        else:
            self.errors.pop(step, None)
        self._refresh_labels()
        row = self.current_row()
        if 0 <= row < len(self.steps) and self.steps[row].name == step:
            self.form.show_error(self.errors.get(step))

    def _count_objects(self, results: list[dict]) -> None:
        """Objects each labels step found on the previewed site (all its channels)."""
        import numpy as np

        counts: dict[str, int] = {}
        for e in results:
            if e.get("array") is not None and e.get("kind") == "labels":
                found = np.unique(e["array"])
                counts[e["step"]] = counts.get(e["step"], 0) + int(np.count_nonzero(found))
        self.counts = counts
        self._refresh_labels()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)
