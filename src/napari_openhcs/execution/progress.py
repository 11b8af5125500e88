"""A plain-text progress bar for the command line (stderr; no dependency)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """Draws ``[#####     ] 12/96 units  B03 failed`` on one line of stderr.

    On a terminal the line is redrawn in place; otherwise (CI logs) a line is printed at most
    every few seconds and at the end.
    """

    def __init__(
        self, stream=None, width: int = 30, min_interval: float = 2.0, noun: str = "units"
    ):
        self.stream = stream or sys.stderr
        self.noun = noun
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.min_interval = 0.0 if self.tty else min_interval
        self._last = 0.0
        self.failed: list[str] = []

    def __call__(self, event: dict) -> None:
        kind = event.get("kind")
        if kind == "unit_failed":
            label = event.get("well", "?")
            if event.get("site") is not None:
                label += f" site {event['site']}"
            self.failed.append(label)
        if kind == "missing_planes":  # one warning line per well, as the run starts
            self._print(event["message"], force=True, line=True)
            return
        if kind in ("plate_step_started",):
            self._print(f"plate-level step {event.get('step')} ...", force=True)
            return
        if kind not in ("unit_done", "unit_failed", "run_started"):
            return
        done, total = event.get("done", 0), event.get("total", 0)
        self.draw(done, total, force=done == total)

    def draw(self, done: int, total: int, force: bool = False) -> None:
        frac = done / total if total else 1.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + " " * (self.width - filled)
        tail = f"  {len(self.failed)} failed" if self.failed else ""
        self._print(f"[{bar}] {done}/{total} {self.noun}{tail}", force=force)

    def _print(self, text: str, force: bool = False, line: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        if self.tty and not line:
            self.stream.write("\r" + text.ljust(self.width + 30))
            if force:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
