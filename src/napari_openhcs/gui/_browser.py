"""The function browser: search the registry, filter it, read a function's doc, add it."""

from __future__ import annotations

import html

from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

ALL = "all"


def describe(info) -> str:
    """HTML shown for one function: where it comes from, its doc and its parameters."""
    rows = "".join(
        f"<li><b>{html.escape(p.name)}</b> ({html.escape(p.annotation)}"
        f", default {html.escape(repr(p.default))}) {html.escape(p.doc)}</li>"
        for p in info.params
    )
    state = (
        ""
        if info.available
        else f"<p style='color:#d66'>Unavailable: {html.escape(info.reason)}</p>"
    )
    return (
        f"<b>{html.escape(info.ref)}</b><br>{html.escape(info.library)} · "
        f"{html.escape(info.memory_type)} · {html.escape(info.contract)} · "
        f"{html.escape(info.category)} → {html.escape(info.output_kind)}{state}"
        f"<p>{html.escape(info.doc or '(no documentation)')}</p><ul>{rows}</ul>"
    )


class FunctionBrowser(QWidget):
    """Lists registered functions; ``add_requested(ref)`` when the user adds one."""

    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from napari_openhcs.registry import list_functions

        self.infos = {i.ref: i for i in list_functions()}
        self.search = QLineEdit(placeholderText="Search functions (name or doc)")
        self.library = QComboBox()
        self.memory_type = QComboBox()
        self.category = QComboBox()
        for box, attr in (
            (self.library, "library"),
            (self.memory_type, "memory_type"),
            (self.category, "category"),
        ):
            box.addItem(ALL)
            box.addItems(sorted({getattr(i, attr) for i in self.infos.values()}))
            box.setToolTip(f"Filter by {attr.replace('_', ' ')}")
            box.currentTextChanged.connect(self.refresh)
        self.search.textChanged.connect(self.refresh)
        self.list = QListWidget()
        self.doc = QTextBrowser()
        self.doc.setMaximumHeight(160)
        self.add_button = QPushButton("Add step")
        self.add_button.clicked.connect(self._add_current)
        self.list.currentItemChanged.connect(self._show_current)
        self.list.itemDoubleClicked.connect(lambda _item: self._add_current())

        filters = QHBoxLayout()
        for w in (self.library, self.memory_type, self.category):
            filters.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.list)
        layout.addWidget(self.doc)
        layout.addWidget(self.add_button)
        self.refresh()

    def visible_refs(self) -> list[str]:
        """References listed now (after search and filters)."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def refresh(self) -> None:
        """Re-apply the search text and filters."""
        words = self.search.text().lower().split()
        want = {
            "library": self.library.currentText(),
            "memory_type": self.memory_type.currentText(),
            "category": self.category.currentText(),
        }
        self.list.clear()
        grey = QBrush(QColor(128, 128, 128))
        for ref, info in self.infos.items():
            if any(v != ALL and getattr(info, k) != v for k, v in want.items()):
                continue
            text = f"{ref} {info.doc}".lower()
            if not all(w in text for w in words):
                continue
            item = QListWidgetItem(ref)
            item.setData(Qt.ItemDataRole.UserRole, ref)
            item.setToolTip(info.doc if info.available else f"Unavailable: {info.reason}")
            if not info.available:
                item.setForeground(grey)
            self.list.addItem(item)

    def select(self, ref: str) -> None:
        """Make ``ref`` the current item (it must be listed)."""
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == ref:
                self.list.setCurrentRow(i)
                return
        raise KeyError(f"{ref} is not listed (search or filters hide it)")

    def _current_ref(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _show_current(self, *_args) -> None:
        ref = self._current_ref()
        if ref is None:
            self.doc.clear()
            self.add_button.setEnabled(False)
            return
        info = self.infos[ref]
        self.doc.setHtml(describe(info))
        self.add_button.setEnabled(info.available)
        self.add_button.setToolTip("" if info.available else info.reason)

    def _add_current(self) -> None:
        ref = self._current_ref()
        if ref is not None and self.infos[ref].available:
            self.add_requested.emit(ref)
