"""Keyboard shortcuts (Help menu, F1; issue 15): every command of the menu bar with its keys,
read from the actions themselves (``rows_from``), so the list cannot drift from what the keys
do. GUI thread only."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("Menu", "Command", "Shortcut", "Alt keys")
# (menu, command, shortcut keys, menu path with Alt keys)
Row = tuple[str, str, str, str]


def _alt_path(menu_text: str, action_text: str) -> str:
    """E.g. "Alt+F, N" for File > &New chat ("" where either has no mnemonic)."""
    keys = []
    for text in (menu_text, action_text):
        stripped = text.replace("&&", "")
        index = stripped.find("&")
        if index < 0 or index + 1 >= len(stripped):
            return ""
        keys.append(stripped[index + 1].upper())
    return f"Alt+{keys[0]}, {keys[1]}"


def rows_from(actions: Sequence[tuple[str, QAction, str]]) -> list[Row]:
    """Rows for (menu title, action, raw menu text) in menu order: the action's text without
    its mnemonic marker, its shortcuts as this platform writes them."""
    rows: list[Row] = []
    for menu, action, menu_text in actions:
        keys = ", ".join(
            k.toString(QKeySequence.SequenceFormat.NativeText)
            for k in action.shortcuts()
            if not k.isEmpty()
        )
        command = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
        rows.append((menu, command.rstrip("…"), keys, _alt_path(menu_text, action.text())))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(620, 560)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter commands")
        self.filter.setClearButtonEnabled(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self._apply_filter)

    def show_rows(self, rows: Sequence[Row]) -> None:
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self._apply_filter(self.filter.text())

    def rows(self) -> list[Row]:
        """What the table lists, row by row (hidden rows included)."""
        return [
            tuple(self.table.item(r, c).text() for c in range(len(COLUMNS)))  # type: ignore[misc]
            for r in range(self.table.rowCount())
        ]

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for r in range(self.table.rowCount()):
            shown = " ".join(self.table.item(r, c).text() for c in range(len(COLUMNS)))
            self.table.setRowHidden(r, bool(needle) and needle not in shown.lower())
