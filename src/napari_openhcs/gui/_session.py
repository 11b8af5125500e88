"""State shared by the Plate navigator and the Pipeline dock of one viewer.

The open plate and the selected well/site/timepoint live here, so the preview and the run
panel use what the navigator shows; so do the batch workers, kept warm across the window's
runs. Main thread only.
"""

from __future__ import annotations

import weakref
from typing import Any

from qtpy.QtCore import QObject, Signal

from napari_openhcs.execution.processes import WarmPool

_SESSIONS: dict[int, tuple[weakref.ref, Session]] = {}


class Session(QObject):
    """The plate and selection of one viewer; emits when either changes.

    ``batch_pool`` holds the window's batch workers: started by its first run, kept warm
    for the next ones (resized when the worker count changes), stopped when the window
    closes (``shutdown_workers``).
    """

    plate_changed = Signal()
    selection_changed = Signal()

    def __init__(self, viewer: Any) -> None:
        super().__init__()
        self.viewer = viewer
        self.plate_path: str | None = None
        self.index: Any = None
        self.well: str | None = None
        #: the wells chosen in the navigator (ctrl/shift-click), ``well`` among them.
        self.selected_wells: list[str] = []
        self.site: int | None = None
        self.timepoint: int | None = None
        self.batch_pool = WarmPool()

    def set_plate(self, path: str, index: Any) -> None:
        """Make ``index`` (opened from ``path``) the current plate and select its first well."""
        self.plate_path, self.index = str(path), index
        self.well = index.wells[0] if index.wells else None
        self.selected_wells = [self.well] if self.well else []
        self.site = index.sites[0] if index.sites else None
        self.timepoint = index.timepoints[0] if index.timepoints else None
        self.plate_changed.emit()
        self.selection_changed.emit()

    def clear_plate(self) -> None:
        """Forget the plate (a folder that is not a plate was opened instead)."""
        self.plate_path = self.index = self.well = self.site = self.timepoint = None
        self.plate_changed.emit()
        self.selection_changed.emit()

    def select(self, well: str | None = None, site: int | None = None, timepoint=None) -> None:
        """Change the selected well, site and/or timepoint (``None`` keeps the current one)."""
        changed = False
        for name, value in (("well", well), ("site", site), ("timepoint", timepoint)):
            if value is not None and getattr(self, name) != value:
                setattr(self, name, value)
                changed = True
        if well is not None and well not in self.selected_wells:
            self.selected_wells = [well]
        if changed:
            self.selection_changed.emit()

    def select_wells(self, wells: list[str]) -> None:
        """Make ``wells`` the chosen wells (the current ``well`` stays the one shown)."""
        self.selected_wells = list(wells)

    def shutdown_workers(self) -> None:
        """Stop the batch workers (the next run starts new ones)."""
        self.batch_pool.shutdown()


def unwrap_viewer(viewer: Any) -> Any:
    """The viewer behind napari's plugin proxy (or ``viewer`` itself when it is not a proxy).

    napari hands every dock contributed through the manifest its own ``PublicOnlyProxy`` of
    the viewer, so two docks of one window see two different objects; the wrapped viewer is
    the one they share.
    """
    seen = 0
    while hasattr(type(viewer), "__wrapped__") and seen < 8:
        viewer = viewer.__wrapped__
        seen += 1
    return viewer


def get_session(viewer: Any) -> Session:
    """The session of the window ``viewer`` belongs to (created on first use).

    Docks built by napari's Plugins menu, by ``add_plugin_dock_widget``, by File → Open and
    directly all land here with the same session, whether they were given the viewer or a
    proxy of it.
    """
    real = unwrap_viewer(viewer)
    key = id(real)
    entry = _SESSIONS.get(key)
    if entry is not None and entry[0]() is real:
        return entry[1]
    session = Session(viewer)
    _SESSIONS[key] = (weakref.ref(real), session)
    return session
