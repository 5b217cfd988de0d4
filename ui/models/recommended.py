"""The Models page's Recommended tab: a short curated list of models, each with its size,
licence and fit on this computer, and one button per row that downloads it (checked against
the Hub's SHA-256) and switches the chat to it; a model already here is one click to use.
GUI thread only; the app's presenter does the work.

Signals: ``getRequested(key)`` (a row's button), ``cancelRequested()`` (Cancel while a
download runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.widgets.link_label import LinkLabel

COLUMNS = ("Model", "Parameters", "Size", "Licence", "Fit on this computer", "")
FIT_COLUMN = COLUMNS.index("Fit on this computer")
BUTTON_COLUMN = len(COLUMNS) - 1
INTRO = (
    "Instruction-tuned models that work well in Hearth, from small to large. One click "
    "downloads a model from Hugging Face, checks it against the SHA-256 Hugging Face "
    "publishes, and switches the chat to it."
)


@dataclass(frozen=True)
class RecommendedRow:
    key: str  # repository/file
    name: str
    parameters: str
    size: str
    licence: str
    licence_url: str
    fit: str  # "fits in RAM", "partial GPU offload", "fits on GPU", "too large"
    fit_details: str  # the estimate's numbers, for the tooltip
    description: str
    repo_id: str
    filename: str
    state: str = "available"  # available | installed | in use


_BUTTON_TEXT = {"available": "Download and use", "installed": "Use", "in use": "In use"}


class RecommendedPanel(QWidget):
    getRequested = Signal(str)
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RecommendedRow] = []
        self._running = False
        self.intro = QLabel(INTRO, self)
        self.intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        # The selected model's line, repository and licence link.
        self.details = LinkLabel(self)  # the licence link in the palette's colour
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        # Only the list's own https licence links (the loader refuses others).
        self.details.setOpenExternalLinks(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(progress_row)
        layout.addWidget(self.status_label)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.table.itemSelectionChanged.connect(self._show_details)
        self.show_progress(None, "", running=False)

    # ---- API for the presenter -------------------------------------------------------------

    def show_rows(self, rows: Sequence[RecommendedRow]) -> None:
        """Replace the list, keeping the selected row selected (else the first)."""
        selected = self.selected_key()
        self._rows = list(rows)
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            texts = (row.name, row.parameters, row.size, row.licence, row.fit)
            hints = (row.description, "", "", row.licence_url, row.fit_details)
            for c, (text, hint) in enumerate(zip(texts, hints, strict=True)):
                item = QTableWidgetItem(text)
                item.setToolTip(hint or text)
                self.table.setItem(r, c, item)
            button = QPushButton(_BUTTON_TEXT.get(row.state, row.state), self.table)
            button.setEnabled(row.state != "in use" and not self._running)
            button.setToolTip(f"{row.repo_id}: {row.filename}")
            button.clicked.connect(lambda _checked=False, key=row.key: self.getRequested.emit(key))
            self.table.setCellWidget(r, BUTTON_COLUMN, button)
        keys = [row.key for row in rows]
        if rows:
            self.table.selectRow(keys.index(selected) if selected in keys else 0)
        self.table.blockSignals(False)
        self._show_details()

    def rows(self) -> list[RecommendedRow]:
        return list(self._rows)

    def button(self, key: str) -> QPushButton | None:
        """The row's Download and use / Use button."""
        keys = [row.key for row in self._rows]
        if key not in keys:
            return None
        widget = self.table.cellWidget(keys.index(key), BUTTON_COLUMN)
        return widget if isinstance(widget, QPushButton) else None

    def fit_text(self, key: str) -> str:
        keys = [row.key for row in self._rows]
        return self.table.item(keys.index(key), FIT_COLUMN).text() if key in keys else ""

    def selected_key(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._rows):
            return ""
        return self._rows[rows[0].row()].key

    def show_progress(self, fraction: float | None, text: str, *, running: bool) -> None:
        """A download's progress (`fraction` None: busy, no number yet) or, not `running`,
        how it ended; the row buttons wait while one runs."""
        self._running = running
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        if fraction is None:
            self.progress.setRange(0, 0 if running else 1000)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))
        for r, row in enumerate(self._rows):
            widget = self.table.cellWidget(r, BUTTON_COLUMN)
            if widget is not None:
                widget.setEnabled(row.state != "in use" and not running)

    def is_running(self) -> bool:
        return self._running

    # ---- internals -------------------------------------------------------------------------

    def _show_details(self) -> None:
        key = self.selected_key()
        row = next((r for r in self._rows if r.key == key), None)
        if row is None:
            self.details.clear()
            return
        self.details.setText(
            f"<b>{escape(row.name)}</b>: {escape(row.description)}<br>"
            f"{escape(row.repo_id)} · {escape(row.filename)} · "
            f'<a href="{escape(row.licence_url, quote=True)}">{escape(row.licence)}</a>'
            f"<br>{escape(row.fit_details)}"
        )
