"""Opening the docks as a user does (Plugins menu), shared by the GUI tests.

Import as ``from docks import docks_on, ...`` (pytest puts this folder on ``sys.path``).
"""

from __future__ import annotations

PREVIEW_TIMEOUT = 90_000


def docks_on(make_napari_viewer, plate, size=None):
    """A viewer with the Plate and Pipeline docks opened through the Plugins-menu path
    (``add_plugin_dock_widget``, each dock with its own proxy of the viewer), ``plate`` open;
    yields (viewer, dock, nav) and stops the dock's preview process and run executor after.

    ``size`` (width, height) resizes and shows the window first, as on a screen.
    """
    viewer = make_napari_viewer(show=size is not None)
    if size is not None:
        viewer.window._qt_window.resize(*size)
    _, nav = viewer.window.add_plugin_dock_widget("napari-openhcs", "Plate")
    _, dock = viewer.window.add_plugin_dock_widget("napari-openhcs", "Pipeline")
    assert dock.session is nav.session
    if plate is not None:
        assert nav.open_path(plate)
    yield viewer, dock, nav
    dock.preview.close()
    dock.run_panel.close_executor()


def add_through_browser(qtbot, dock, ref):
    """Search for the function by name, select it and press "Add step"."""
    from qtpy.QtCore import Qt

    dock.tabs.setCurrentWidget(dock.browser)
    short = ref.rsplit(".", 1)[-1]
    dock.browser.search.setText(short)
    assert ref in dock.browser.visible_refs()
    dock.browser.select(ref)
    assert dock.browser.add_button.isEnabled()
    qtbot.mouseClick(dock.browser.add_button, Qt.MouseButton.LeftButton)
    return dock.steps[-1]


def wait_preview(qtbot, dock, timeout=PREVIEW_TIMEOUT):
    with qtbot.waitSignal(dock.preview.preview_done, timeout=timeout) as blocker:
        pass
    return blocker.args[0]
