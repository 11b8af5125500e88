"""Live preview: re-run the pipeline on the selected site in its own worker process.

A change restarts a debounce timer; when it fires, the pipeline goes to a one-worker
``ProcessPool`` (separate from the batch pool) from a ``thread_worker``, so the event loop
never waits. A change while a preview runs cancels it (the busy worker is killed) and the
newest pipeline runs next. Results update one layer per step output in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QObject, QTimer, Signal

PREVIEW_PREFIX = "preview: "
TARGET = "napari_openhcs.execution.preview:run_preview"


def _call(pool, args):
    from napari_openhcs.execution.processes import Cancelled

    try:
        return pool.call(TARGET, *args)
    except Cancelled:
        return None


class PreviewController(QObject):
    """Debounced, cancellable previews for one viewer.

    Parameters
    ----------
    viewer : napari.Viewer
    session : Session
        Gives the plate and the selected well/site/timepoint.
    get_pipeline : callable
        Returns the current pipeline as a JSON dict (or ``None`` when there is nothing to run).
    debounce_ms : int
        Quiet time after the last change before a preview starts.
    """

    #: step name -> error message (``None`` clears it); emitted per step after each preview.
    step_status = Signal(str, object)
    #: emitted after a preview's layers are set, with its results.
    preview_done = Signal(object)

    def __init__(
        self, viewer: Any, session: Any, get_pipeline: Callable, debounce_ms: int = 250
    ) -> None:
        super().__init__()
        self.viewer, self.session, self.get_pipeline = viewer, session, get_pipeline
        self.enabled = False
        self._pool = None
        self._worker = None
        self._pending = False
        self._launched_at = 0.0
        #: (latency from launch to layers set, summed step compute seconds) per preview.
        self.timings: list[tuple[float, float]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._launch)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        if self.enabled:
            self._ensure_pool()
            self.request()
        else:
            self._timer.stop()
            self._pending = False
            if self._pool is not None and self.running:
                self._pool.cancel()

    def request(self) -> None:
        """Something changed: preview again after the debounce (if preview is on)."""
        if self.enabled:
            self._timer.start()

    def _ensure_pool(self):
        if self._pool is None:
            from napari_openhcs.execution.processes import ProcessPool

            self._pool = ProcessPool(1)
            self._pool.start()
        return self._pool

    def _launch(self) -> None:
        if not self.enabled:
            return
        if self.running:  # stale: kill it; the newest pipeline runs when it has stopped
            self._pending = True
            self._pool.cancel()
            return
        s = self.session
        pipe = self.get_pipeline()
        if s.plate_path is None or s.well is None or not pipe or not pipe.get("steps"):
            return
        from napari.qt.threading import create_worker

        args = (s.plate_path, pipe, s.well, s.site, s.timepoint)
        self._launched_at = time.perf_counter()
        worker = create_worker(_call, self._ensure_pool(), args, _start_thread=False)
        worker.returned.connect(self._on_result)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        worker.start()

    def _on_finished(self) -> None:
        self._worker = None
        if self._pending:
            self._pending = False
            self._launch()

    def _on_error(self, exc: BaseException) -> None:
        from napari.utils.notifications import show_error

        if not self._pending:
            show_error(f"Preview failed: {exc}")

    def _on_result(self, results: list[dict] | None) -> None:
        if results is None or self._pending or not self.enabled:
            return  # cancelled or stale
        from napari_openhcs.gui._layers import set_layer

        errors: dict[str, object] = {}
        pixel = getattr(self.session.index, "pixel_size", None) or (1.0, 1.0)
        for entry in results:
            step = entry["step"]
            if entry["error"] is not None:
                errors[step] = entry["error"]
                continue
            errors.setdefault(step, None)
            set_layer(
                self.viewer,
                PREVIEW_PREFIX + entry["name"],
                entry["array"],
                "labels" if entry["kind"] in ("labels", "mask") else "image",
                scale=(*[1.0] * (entry["array"].ndim - 2), float(pixel[0]), float(pixel[1])),
            )
        latency = time.perf_counter() - self._launched_at
        compute = sum({e["step"]: e["seconds"] for e in results}.values())
        self.timings.append((latency, compute))
        for step, message in errors.items():
            self.step_status.emit(step, message)
        self.preview_done.emit(results)

    def close(self) -> None:
        """Stop the timer and the preview worker process."""
        self.enabled = False
        self._timer.stop()
        if self._pool is not None:
            self._pool.cancel()
            self._pool.shutdown()
            self._pool = None
