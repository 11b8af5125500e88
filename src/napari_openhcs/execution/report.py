"""What a plate run did: ``RunReport``, returned by ``run_plate``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from napari_openhcs.vocabulary import FINISHED_STATUSES, WellStatus


@dataclass
class RunReport:
    """What a run did. ``exit_code`` follows the CLI's rules (0, 1, 130)."""

    out: Path
    plate_path: Path
    wells: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
    cancelled: bool = False
    executor: dict = field(default_factory=dict)
    measurements: Path | None = None
    already_done: int = 0  # wells an earlier run finished, when there was nothing left to do
    earlier: set[str] = field(default_factory=set)  # wells kept as an earlier run finished them
    allow_missing: bool = False  # wells with missing image planes do not make the run fail

    @property
    def failed(self) -> list[str]:
        return sorted(w for w, info in self.wells.items() if info["status"] == WellStatus.FAILED)

    @property
    def finished(self) -> list[str]:
        return sorted(w for w, info in self.wells.items() if info["status"] in FINISHED_STATUSES)

    @property
    def incomplete(self) -> list[str]:
        """Wells with sites not computed because image planes are missing."""
        return sorted(w for w, info in self.wells.items() if info.get("missing"))

    @property
    def exit_code(self) -> int:
        if self.cancelled:
            return 130
        return 1 if self.failed or (self.incomplete and not self.allow_missing) else 0

    def to_dict(self) -> dict:
        return {
            "out": str(self.out),
            "plate": str(self.plate_path),
            "wells": self.wells,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
            "failed": self.failed,
            "missing": {w: self.wells[w]["missing"] for w in self.incomplete},
            "executor": self.executor,
            "measurements": str(self.measurements) if self.measurements else None,
            "exit_code": self.exit_code,
            "finished_earlier": sorted(self.earlier),
        }
