"""State shared by the Plate navigator and the Pipeline dock of one viewer.

The open plate and the selected well/site/timepoint live here, so the preview and the run
panel use what the navigator shows. Main thread only.
"""

from __future__ import annotations

import weakref
from typing import Any

from qtpy.QtCore import QObject, Signal

_SESSIONS: dict[int, tuple[weakref.ref, Session]] = {}


class Session(QObject):
    """The plate and selection of one viewer; emits when either changes."""

    plate_changed = Signal()
    selection_changed = Signal()

    def __init__(self, viewer: Any) -> None:
        super().__init__()
        self.viewer = viewer
        self.plate_path: str | None = None
        self.index: Any = None
        self.well: str | None = None
        self.site: int | None = None
        self.timepoint: int | None = None

    def set_plate(self, path: str, index: Any) -> None:
        """Make ``index`` (opened from ``path``) the current plate and select its first well."""
        self.plate_path, self.index = str(path), index
        self.well = index.wells[0] if index.wells else None
        self.site = index.sites[0] if index.sites else None
        self.timepoint = index.timepoints[0] if index.timepoints else None
        self.plate_changed.emit()
        self.selection_changed.emit()

    def select(self, well: str | None = None, site: int | None = None, timepoint=None) -> None:
        """Change the selected well, site and/or timepoint (``None`` keeps the current one)."""
        changed = False
        for name, value in (("well", well), ("site", site), ("timepoint", timepoint)):
            if value is not None and getattr(self, name) != value:
                setattr(self, name, value)
                changed = True
        if changed:
            self.selection_changed.emit()


def get_session(viewer: Any) -> Session:
    """The session of ``viewer`` (created on first use)."""
    key = id(viewer)
    entry = _SESSIONS.get(key)
    if entry is not None and entry[0]() is viewer:
        return entry[1]
    session = Session(viewer)
    _SESSIONS[key] = (weakref.ref(viewer), session)
    return session
