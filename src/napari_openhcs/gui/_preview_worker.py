"""Live preview: re-run the pipeline on the selected site in its own worker process.

A change restarts a debounce timer; when it fires, the pipeline goes to a one-worker
``ProcessPool`` (separate from the batch pool) from a ``thread_worker``, so the event loop
never waits. A change while a preview runs cancels it (the busy worker is killed) and the
newest pipeline runs next. Results update one layer per step output in place.

Each step shows the channels it works on (a step grouped on channel 1 shows channel 1 only);
labels carry the objects' measurements as the layer's ``features`` (hovering an object shows
its values); the last step's layers are visible and the earlier ones hidden (until the last
step changes, a user's choice of what to show is kept). When a step fails, the layers of the steps after
it are kept but marked stale (name suffix, dimmed), and a removed step's layers go.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QObject, QTimer, Signal

from napari_openhcs.errors import Cancelled

PREVIEW_PREFIX = "preview: "
STALE = " (stale)"
STALE_OPACITY = 0.35
TARGET = "napari_openhcs.execution.preview:run_preview"


def _call(pool, args):
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
        #: step name -> {channel: layer} of the preview layers this controller made.
        self.layers: dict[str, dict] = {}
        self._last_step: str | None = None
        self._pipeline: dict | None = None
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

        self._pipeline = pipe
        args = (s.plate_path, pipe, s.well, s.site, s.timepoint)
        self._launched_at = time.perf_counter()
        worker = create_worker(
            _call, self._ensure_pool(), args, _start_thread=False, _ignore_errors=True
        )
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
        errors: dict[str, object] = {}
        steps = [d for d in (self._pipeline or {}).get("steps", []) if d.get("enabled", True)]
        order = [d.get("name") for d in steps]
        wanted = {d.get("name"): _channels_worked_on(d) for d in steps}
        last = order[-1] if order else None
        if last != self._last_step:  # a new last step: show it, hide the others
            self._last_step = last
            for step, layers in self.layers.items():
                for layer in layers.values():
                    layer.visible = step == last
        shown: set[tuple[str, object]] = set()
        for entry in results:
            step = entry["step"]
            if entry["error"] is not None:
                errors[step] = entry["error"]
                continue
            errors.setdefault(step, None)
            only = wanted.get(step)
            if only is not None and entry["channel"] not in only:
                continue  # passed through this step unchanged
            self._show(entry, visible=step == last)
            shown.add((step, entry["channel"]))
        for step in list(self.layers):
            if step not in wanted:
                self.forget(step)
                continue
            for channel, layer in list(self.layers[step].items()):
                if (step, channel) in shown:
                    continue
                if errors.get(step) is not None:
                    continue  # the failing step keeps its last good result; its error shows
                if _after_error(step, order, errors):
                    _mark_stale(layer)
                else:  # no longer computed (channel not worked on now)
                    self._drop(step, channel)
        latency = time.perf_counter() - self._launched_at
        compute = sum({e["step"]: e["seconds"] for e in results}.values())
        self.timings.append((latency, compute))
        for step, message in errors.items():
            self.step_status.emit(step, message)
        self.preview_done.emit(results)

    def _show(self, entry: dict, visible: bool) -> None:
        from napari_openhcs.gui._layers import set_layer

        step, channel = entry["step"], entry["channel"]
        name = PREVIEW_PREFIX + self._layer_name(entry)
        layer = self.layers.get(step, {}).get(channel)
        if layer is not None and layer in self.viewer.layers:
            if layer.name != name:
                layer.name = name  # fresh again: no stale suffix
            layer.opacity = 1.0
        pixel = getattr(self.session.index, "pixel_size", None) or (1.0, 1.0)
        array = entry["array"]
        new = layer is None or layer not in self.viewer.layers
        kind = "labels" if entry["kind"] in ("labels", "mask") else "image"
        layer = set_layer(
            self.viewer,
            name,
            array,
            kind,
            scale=(*[1.0] * (array.ndim - 2), float(pixel[0]), float(pixel[1])),
        )
        if new:
            layer.visible = visible
        if kind == "labels":
            _set_features(layer, entry.get("features"), entry.get("compartment"))
        self.layers.setdefault(step, {})[channel] = layer

    def _layer_name(self, entry: dict) -> str:
        """``step`` or ``step [DAPI]`` (the channel's name) when the step shows several;
        a plate step's ``[channel 1, timepoint 1]`` becomes ``[DAPI]`` on a one-timepoint
        plate."""
        name, channel = entry["name"], entry["channel"]
        if channel is None or " [" not in name:
            return name
        index = self.session.index
        label = (getattr(index, "channel_names", None) or {}).get(channel) or f"ch {channel}"
        if " [ch " in name:
            return f"{entry['step']} [{label}]"
        inner = name[name.index(" [") + 2 : -1].replace(f"channel {channel}", label)
        if len(getattr(index, "timepoints", ()) or ()) == 1:
            inner = ", ".join(p for p in inner.split(", ") if not p.startswith("timepoint "))
        return f"{entry['step']} [{inner}]"

    def _drop(self, step: str, channel) -> None:
        layer = self.layers.get(step, {}).pop(channel, None)
        if layer is not None and layer in self.viewer.layers:
            self.viewer.layers.remove(layer)

    def forget(self, step: str) -> None:
        """Remove the preview layers of ``step`` (it was removed from the pipeline)."""
        for channel in list(self.layers.get(step, {})):
            self._drop(step, channel)
        self.layers.pop(step, None)

    def close(self) -> None:
        """Stop the timer and the preview worker process."""
        self.enabled = False
        self._timer.stop()
        if self._pool is not None:
            self._pool.cancel()
            self._pool.shutdown()
            self._pool = None


def _channels_worked_on(step: dict) -> set | None:
    """The channels a step (JSON dict) changes, or ``None`` for all of them."""
    func = step.get("func")
    if isinstance(func, dict) and isinstance(func.get("groups"), dict):
        func = func["groups"]
    if step.get("group_by") == "channel" and isinstance(func, dict):
        channels = set()
        for key in func:
            try:
                channels.add(int(key))
            except (TypeError, ValueError):
                channels.add(key)
        return channels
    return None


def _set_features(layer, features: dict | None, compartment: str | None) -> None:
    """The objects' measurements as the Labels layer's ``features`` (an ``index`` column of
    label values), so napari's status bar shows a hovered object's values; none clears them."""
    layer.features = features or {}
    meta = dict(layer.metadata)
    meta.setdefault("openhcs", {})
    meta["openhcs"] = {**meta["openhcs"], "compartment": compartment}
    layer.metadata = meta


def _after_error(step: str, order: list, errors: dict) -> bool:
    failed = [order.index(s) for s, e in errors.items() if e is not None and s in order]
    return bool(failed) and step in order and order.index(step) > min(failed)


def _mark_stale(layer) -> None:
    if not layer.name.endswith(STALE):
        layer.name = layer.name + STALE
    layer.opacity = STALE_OPACITY
