"""The function browser: search the registry, filter it, read a function's doc, add it."""

from __future__ import annotations

import html
import re

from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from napari_openhcs.registry import list_functions

ALL = "all"

#: how a library is named to the people who use it.
LIBRARY_NAMES = {
    "skimage": "scikit-image",
    "pyclesperanto": "pyclesperanto (GPU)",
    "napari_openhcs": "napari-openhcs",
    "torch": "PyTorch",
    "thirdparty_demo": "demo plugin",
}

#: what each part of the summary line means (its tooltip).
SUMMARY_TIP = (
    "library · array type · contract · category → output\n"
    "library: the package the function comes from\n"
    "array type: what it computes on (numpy: CPU; cupy, torch, pyclesperanto: GPU)\n"
    "contract: slice = one 2-D plane at a time; stack = the whole stack at once\n"
    "category: the kind of operation\n"
    "output: what it returns (image, labels, mask, ...)"
)

FILTERS = (("library", "Library"), ("memory_type", "Runs on"), ("category", "Kind"))


def library_name(library: str) -> str:
    """How a library is named to the people who use it ("scikit-image")."""
    return LIBRARY_NAMES.get(library, library)


def title(info) -> str:
    """A readable name: the function's words, cased as its docstring writes them
    ("Sobel", "Gaussian"), or the docstring's summary when it is that short."""
    short = info.ref.rsplit(".", 1)[-1]
    words = [w for w in short.split("_") if w]
    summary = (info.doc or "").split(". ")[0].strip().rstrip(".")
    doc_words = re.findall(r"[A-Za-z][\w-]*", summary)
    lower = {w.lower() for w in doc_words}
    if 0 < len(doc_words) <= 4 and all(w.lower() in lower for w in words):
        text = " ".join(doc_words)
    else:
        cased = {w.lower(): w for w in doc_words if w[0].isupper()}
        text = " ".join(cased.get(w.lower(), w) for w in words)
    return text[:1].upper() + text[1:] if text else info.ref


def readable_doc(text: str) -> str:
    """A parameter's doc as the registry keeps it (its first sentence, at most 200
    characters) without a dangling half-word or an unclosed "(e.g"."""
    text = (text or "").strip()
    cut = False
    if text.count("(") > text.count(")"):  # the sentence was split inside "(e.g. ...)"
        text, cut = text[: text.rfind("(")].rstrip(), True
    if len(text) >= 160 and not text.endswith((".", ")", "!", "?")) and " " in text:
        text, cut = text.rsplit(" ", 1)[0].rstrip(",;:"), True
    return text + ("…" if cut else "")


def summary(info) -> str:
    """One line on a function: library, memory type, contract, category and output."""
    return (
        f"{library_name(info.library)} · {info.memory_type} · {info.contract} · "
        f"{info.category} → {info.output_kind}"
    )


def describe(info) -> str:
    """HTML shown for one function: its title, reference, doc and parameters."""
    rows = "".join(
        f"<li><b>{html.escape(p.name)}</b> ({html.escape(p.annotation)}"
        f", default {html.escape(repr(p.default))}) {html.escape(readable_doc(p.doc))}</li>"
        for p in info.params
    )
    state = (
        ""
        if info.available
        else f"<p style='color:#d66'>Unavailable: {html.escape(info.reason)}</p>"
    )
    return (
        f"<b>{html.escape(title(info))}</b> · {html.escape(library_name(info.library))}<br>"
        f"<span style='color:gray'>{html.escape(info.ref)}</span>{state}"
        f"<p>{html.escape(info.doc or '(no documentation)')}</p><ul>{rows}</ul>"
    )


class FunctionBrowser(QWidget):
    """Lists registered functions; ``add_requested(ref)`` when the user adds one."""

    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.infos = {i.ref: i for i in list_functions()}
        self.search = QLineEdit(placeholderText="Search functions (name or doc)")
        filters = QGridLayout()
        self.filter_labels: dict[str, QLabel] = {}
        for col, (attr, label) in enumerate(FILTERS):
            box = QComboBox()
            box.addItem(ALL)
            for value in sorted({getattr(i, attr) for i in self.infos.values()}):
                box.addItem(library_name(value) if attr == "library" else value, value)
            box.setToolTip(f"Show only functions of this {label.lower()}")
            box.currentTextChanged.connect(self.refresh)
            text = QLabel(label)
            text.setBuddy(box)
            filters.addWidget(text, 0, col)
            filters.addWidget(box, 1, col)
            self.filter_labels[attr] = text
            setattr(self, attr, box)
        self.search.textChanged.connect(self.refresh)
        self.list = QListWidget()
        self.summary = QLabel()
        self.summary.setToolTip(SUMMARY_TIP)
        self.summary.setWordWrap(True)
        self.doc = QTextBrowser()
        self.doc.setMinimumHeight(200)  # a function's doc and its parameters, readable
        self.add_button = QPushButton("Add step")
        self.add_button.clicked.connect(self._add_current)
        self.list.currentItemChanged.connect(self._show_current)
        self.list.itemDoubleClicked.connect(lambda _item: self._add_current())

        reading = QWidget()
        rl = QVBoxLayout(reading)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.summary)
        rl.addWidget(self.doc, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(reading)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        layout.addWidget(self.add_button)
        self.refresh()

    def visible_refs(self) -> list[str]:
        """References listed now (after search and filters)."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def refresh(self) -> None:
        """Re-apply the search text and filters."""
        words = self.search.text().lower().split()
        want = {attr: getattr(self, attr).currentData() for attr, _label in FILTERS}
        self.list.clear()
        grey = QBrush(QColor(128, 128, 128))
        for ref, info in self.infos.items():
            if any(v is not None and getattr(info, k) != v for k, v in want.items()):
                continue
            name = title(info)
            text = f"{ref} {name} {info.doc}".lower()
            if not all(w in text for w in words):
                continue
            item = QListWidgetItem(f"{name} · {library_name(info.library)}\n    {ref}")
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
            self.summary.clear()
            self.add_button.setEnabled(False)
            return
        info = self.infos[ref]
        self.summary.setText(summary(info))
        self.doc.setHtml(describe(info))
        self.add_button.setEnabled(info.available)
        self.add_button.setToolTip("" if info.available else info.reason)

    def _add_current(self) -> None:
        ref = self._current_ref()
        if ref is not None and self.infos[ref].available:
            self.add_requested.emit(ref)
