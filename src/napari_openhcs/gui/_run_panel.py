"""Run the pipeline over the plate from a ``thread_worker`` driving the process executor.

The workers are the session's warm pool: the window's runs share them, so only the first run
waits for workers to start. A cancelled run stops them (busy ones are killed at once).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from napari_openhcs.execution.capacity import AUTO
from napari_openhcs.execution.executors import ProcessExecutor
from napari_openhcs.gui._heatmap import PlateHeatMap
from napari_openhcs.vocabulary import WellStatus

#: how the table words a well's status from ``run_plate`` (others are shown as they are).
STATUS_WORDS = {WellStatus.PENDING: "queued", WellStatus.SKIPPED: "skipped (finished earlier)"}


def dock_words(message: str) -> str:
    """An engine message with its command-line advice put in the dock's words."""
    return message.replace(
        "pass --overwrite to redo every well", "tick “Redo finished wells” to redo them"
    ).replace("choose another --out", "choose another output folder")


class RunPanel(QGroupBox):
    """Run button, progress, per-well status, cancel, output layers and the heat map."""

    #: progress events, re-emitted from the worker thread (queued to the main thread).
    progress_event = Signal(dict)
    #: emitted on the main thread when a run ends, with its report (or ``None``).
    run_finished = Signal(object)

    def __init__(self, viewer: Any, session: Any, get_pipeline: Callable) -> None:
        super().__init__("Run plate")
        self.viewer, self.session, self.get_pipeline = viewer, session, get_pipeline
        self.executor = None
        self._cancelled = False
        self._auto = False
        self.worker = None
        self.report = None
        self.out = QLineEdit(placeholderText="Output folder (default: a new temporary folder)")
        self.selected_only = QCheckBox("Selected wells only")
        self.selected_only.setToolTip(
            "Run only the wells chosen in the Plate panel (ctrl- or shift-click for several)"
        )
        self.redo = QCheckBox("Redo finished wells")
        self.redo.setToolTip(
            "Run again the wells an earlier run into this output folder finished "
            "(otherwise they are skipped and the run resumes)"
        )
        self.workers = QSpinBox(minimum=0, maximum=64, value=0, prefix="workers: ")
        self.workers.setSpecialValueText("workers: auto")  # 0: chosen by run_plate
        self.workers.setToolTip(
            "Worker processes; auto: as many as the cores, the memory and the wells to run allow"
        )
        self.run_button = QPushButton("Run plate")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.status = QTableWidget(0, 3)
        self.status.setHorizontalHeaderLabels(["well", "status", "error"])
        self.status.setMaximumHeight(120)
        self.status.horizontalHeader().setStretchLastSection(True)
        self.heatmap = PlateHeatMap()
        self.heatmap.well_clicked.connect(self.open_output_well)
        session.selection_changed.connect(self._follow_selection)
        self._output_well: str | None = None
        self._output_plate: str | None = None  # the raw plate the shown outputs come from
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_event.connect(self._on_event)
        choices = QHBoxLayout()
        choices.addWidget(self.selected_only)
        choices.addWidget(self.redo)
        row = QHBoxLayout()
        row.addWidget(self.workers)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.out)
        layout.addLayout(choices)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.heatmap, 1)
        self._rows: dict[str, int] = {}

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self) -> None:
        """Compile and run the pipeline over the plate (or the selected well)."""
        from napari.qt.threading import create_worker
        from napari.utils.notifications import show_error

        s = self.session
        if self.running:
            return
        if s.plate_path is None:
            show_error("Open a plate in the Plate panel first.")
            return
        try:
            pipeline = self.get_pipeline()
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(f"The pipeline is not valid: {exc}")
            return
        out = self.out.text().strip() or tempfile.mkdtemp(prefix="openhcs-run-")
        self.out.setText(out)
        wells = None
        if self.selected_only.isChecked():
            wells = list(s.selected_wells) or ([s.well] if s.well else None)
        self._reset_table(wells or list(s.index.wells))
        self.progress.setValue(0)
        workers = self.workers.value() or None  # None: auto
        self.executor = ProcessExecutor(workers, pool=s.batch_pool.get(workers))
        self._auto = workers is None
        self._cancelled = False
        self.worker = create_worker(
            self._run,
            s.plate_path,
            pipeline,
            out,
            wells,
            self.redo.isChecked(),
            _start_thread=False,
            _ignore_errors=True,  # _on_errored shows them; not raised again in the event loop
        )
        self.worker.returned.connect(self._on_returned)
        self.worker.errored.connect(self._on_errored)
        self.worker.finished.connect(self._on_finished)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker.start()

    def _run(self, plate, pipeline, out, wells, overwrite):
        from napari_openhcs.execution.run import run_plate

        return run_plate(
            plate,
            pipeline,
            out,
            executor=self.executor,
            workers=AUTO if self._auto else None,
            wells=wells,
            overwrite=overwrite,
            progress=self.progress_event.emit,
        )

    def cancel(self) -> None:
        """Stop the run: its workers are stopped; finished wells are kept."""
        if self.executor is not None:
            self._cancelled = True
            self.executor.cancel()

    def close_executor(self) -> None:
        """Stop a running run and the session's batch workers (napari quits)."""
        self.cancel()
        if self.executor is not None:
            self.executor.shutdown()
            self.executor = None
        self.session.shutdown_workers()

    # -- main thread -----------------------------------------------------------------
    def _reset_table(self, wells: list[str]) -> None:
        self.status.setRowCount(len(wells))
        self._rows = {}
        for i, w in enumerate(wells):
            self._rows[w] = i
            self.status.setItem(i, 0, QTableWidgetItem(w))
            self.status.setItem(i, 1, QTableWidgetItem("starting"))
            self.status.setItem(i, 2, QTableWidgetItem(""))

    def _set_status(self, well: str, status: str, error: str = "") -> None:
        row = self._rows.get(well)
        if row is not None:
            self.status.setItem(row, 1, QTableWidgetItem(status))
            item = QTableWidgetItem(error or "")
            item.setToolTip(error or "")
            self.status.setItem(row, 2, item)

    def _on_event(self, event: dict) -> None:
        kind, well = event.get("kind"), event.get("well")
        if kind == "run_started":  # which wells run now and which an earlier run finished
            for w, status in (event.get("wells") or {}).items():
                self._set_status(w, STATUS_WORDS.get(status, status))
        elif kind == "unit_started":
            self._set_status(well, "running")
        elif kind == "unit_done":
            self._set_status(well, "done")
        elif kind == "unit_failed":
            self._set_status(well, "failed", event.get("error") or "")
        elif kind == "missing_planes":  # sites not computed: said in the table as the run starts
            self._set_status(well, "image planes missing", event.get("message") or "")
        total = event.get("total") or 0
        if total and kind in ("unit_done", "unit_failed"):
            self.progress.setValue(round(100 * (event.get("done", 0)) / total))

    def _on_returned(self, report) -> None:
        from napari.utils.notifications import show_error, show_info

        self.report = report
        earlier = report.earlier
        for well, info in report.wells.items():
            status = STATUS_WORDS.get(info["status"], info["status"])
            if well in earlier:
                status = STATUS_WORDS["skipped"]
            if report.cancelled and info["status"] == WellStatus.PENDING:
                status = "not run"
            self._set_status(well, status, info.get("error") or "")
        skipped = sorted(earlier)
        if skipped:
            show_info(
                f"{len(skipped)} well(s) finished by an earlier run into this folder were "
                "skipped; tick “Redo finished wells” to run them again."
            )
        incomplete = report.incomplete
        for well in incomplete:
            info = report.wells[well]
            planes = ", ".join(info["missing"])
            status = (
                "missing"
                if info["status"] == WellStatus.MISSING
                else f"{info['status']}, planes missing"
            )
            self._set_status(well, status, f"image planes missing: {planes}")
        if incomplete:
            from napari.utils.notifications import show_warning

            show_warning(
                f"{len(incomplete)} well(s) lack image planes; their sites were not computed "
                f"(named in run.json and wells.csv): {', '.join(incomplete[:8])}"
            )
        if report.cancelled:
            show_info(f"Run cancelled; {len(report.finished)} well(s) finished are kept.")
        elif report.failed:
            details = "; ".join(f"{w}: {report.wells[w].get('error')}" for w in report.failed[:5])
            show_error(f"{len(report.failed)} well(s) failed: {details}")
        else:
            self.progress.setValue(100)
        self._load_outputs(report)

    def _on_errored(self, exc: BaseException) -> None:
        from napari.utils.notifications import show_error

        show_error(f"Run stopped: {type(exc).__name__}: {dock_words(str(exc))}")

    def _on_finished(self) -> None:
        self.worker = None
        if self.executor is not None:
            self.executor.shutdown()  # the warm workers stay, unless the run was cancelled
            self.executor = None
        if self._cancelled:
            self.session.shutdown_workers()
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.run_finished.emit(self.report)

    def _load_outputs(self, report) -> None:
        self._output_plate, self._output_well = self.session.plate_path, None
        idx = self.session.index
        self.heatmap.load(report.out, (idx.rows, idx.columns))
        if report.finished:
            well = self.session.well if self.session.well in report.finished else None
            self.open_output_well(well or report.finished[0])

    def open_output_well(self, well: str) -> None:
        """Show ``well`` of the run's output plate (images and labels) on the raw layers' axes,
        and move the navigator and the raw layers to that well (the site stays)."""
        from napari.utils.notifications import show_error

        from napari_openhcs.gui._launch import add_output_well
        from napari_openhcs.gui._layers import show_output_well

        if self.report is None:
            return
        try:
            if self.session.index is not None:
                show_output_well(self.viewer, Path(self.report.out), well, self.session.index)
            else:
                add_output_well(self.viewer, Path(self.report.out), well)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(f"Cannot open the output of {well}: {exc}")
        self._output_well = well
        if self.session.index is not None and well in self.session.index.wells:
            self.session.select(well=well)

    def _follow_selection(self) -> None:
        """The navigator chose another well: outline it on the heat map, show its outputs."""
        s = self.session
        self.heatmap.set_selected(s.well)
        finished = self.report.finished if self.report is not None else []
        if (
            s.well in finished
            and s.well != self._output_well
            and s.plate_path == self._output_plate
        ):
            self.open_output_well(s.well)
