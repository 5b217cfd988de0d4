"""The glossary editor of the Translate page: required term translations and a
do-not-translate list for the current language pair. GUI thread only.

Plain data in and out (pairs of strings, a list of words): turning it into the app's
Glossary is the controller's job, so the UI stays free of app imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

GLOSSARY_FILTER = "Glossaries (*.json *.csv *.tsv);;All files (*)"
# A translucent red reads as "warning" on light and dark palettes alike, and unlike the
# palette's Highlight it cannot be mistaken for a selection.
_VIOLATION = QColor(220, 60, 40, 70)


class GlossaryEditor(QWidget):
    """Signals: ``changed()`` on any edit, ``loadRequested(path)`` and ``saveRequested(path)``
    after the user picked a file."""

    changed = Signal()
    loadRequested = Signal(str)
    saveRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filling = False
        self.title = QLabel("Glossary", self)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Term", "Required translation"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAccessibleName("Glossary terms")
        self.keep_edit = QPlainTextEdit(self)
        self.keep_edit.setPlaceholderText("Words to keep untranslated, one per line")
        self.keep_edit.setAccessibleName("Do not translate")
        self.add_button = QPushButton("Add term", self)
        self.remove_button = QPushButton("Remove term", self)
        self.load_button = QPushButton("Load…", self)
        self.save_button = QPushButton("Save…", self)

        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.save_button)
        columns = QHBoxLayout()
        terms = QVBoxLayout()
        terms.addWidget(self.table, 1)
        columns.addLayout(terms, 3)
        keep = QVBoxLayout()
        keep.addWidget(QLabel("Do not translate:", self))
        keep.addWidget(self.keep_edit, 1)
        columns.addLayout(keep, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(columns, 1)
        layout.addLayout(buttons)

        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self._remove_selected)
        self.load_button.clicked.connect(self._choose_load)
        self.save_button.clicked.connect(self._choose_save)
        self.table.itemChanged.connect(self._on_edit)
        self.keep_edit.textChanged.connect(self._on_edit)

    # ---- data ---------------------------------------------------------------------------

    def entries(self) -> tuple[list[tuple[str, str]], list[str]]:
        """(term, translation) pairs with both sides filled, and the do-not-translate words.
        A term with an empty translation means "keep as is", as in glossary files."""
        terms: list[tuple[str, str]] = []
        keep: list[str] = []
        for row in range(self.table.rowCount()):
            source, target = (self._cell(row, column) for column in (0, 1))
            if source and target:
                terms.append((source, target))
            elif source:
                keep.append(source)
        keep += [line.strip() for line in self.keep_edit.toPlainText().splitlines()]
        return terms, [word for word in dict.fromkeys(keep) if word]

    def set_entries(self, terms: Sequence[tuple[str, str]], keep: Iterable[str]) -> None:
        self._filling = True
        try:
            self.table.setRowCount(0)
            for source, target in terms:
                self._append(source, target)
            self.keep_edit.setPlainText("\n".join(keep))
        finally:
            self._filling = False

    def set_pair_label(self, text: str) -> None:
        self.title.setText(f"Glossary for {text}")

    def mark_violations(self, terms: Iterable[str]) -> None:
        """Tint the rows whose term the last translation did not respect."""
        flagged = {term.casefold() for term in terms}
        self._filling = True
        try:
            for row in range(self.table.rowCount()):
                bad = self._cell(row, 0).casefold() in flagged
                brush = QBrush(_VIOLATION) if bad else QBrush()
                for column in (0, 1):
                    item = self.table.item(row, column)
                    if item is not None:
                        item.setBackground(brush)
                        item.setToolTip("⚠ Not respected by the last translation" if bad else "")
        finally:
            self._filling = False

    # ---- internals ----------------------------------------------------------------------

    def add_row(self) -> None:
        row = self._append("", "")
        self.table.setCurrentCell(row, 0)
        self.table.editItem(self.table.item(row, 0))

    def _append(self, source: str, target: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate((source, target)):
            self.table.setItem(row, column, QTableWidgetItem(text))
        return row

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""

    def _remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self.changed.emit()

    def _on_edit(self, *_args: object) -> None:
        if not self._filling:
            self.changed.emit()

    def _choose_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a glossary", "", GLOSSARY_FILTER)
        if path:
            self.loadRequested.emit(path)

    def _choose_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the glossary", "glossary.json", GLOSSARY_FILTER
        )
        if path:
            self.saveRequested.emit(path)
