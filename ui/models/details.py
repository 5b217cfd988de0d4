"""The model details dialog: the full GGUF metadata (read from the header; nothing is loaded),
filterable by key. GUI thread only."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# (key, type, shown value, full value)
MetadataEntry = tuple[str, str, str, str]


class ModelDetailsDialog(QDialog):
    def __init__(
        self,
        title: str,
        summary: str,
        entries: Sequence[MetadataEntry],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Details: {title}")
        self.resize(860, 600)
        self.summary = QLabel(summary, self)
        self.summary.setWordWrap(True)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter keys, e.g. context or tokenizer")
        self.filter_edit.setClearButtonEnabled(True)
        self.table = QTableWidget(len(entries), 3, self)
        self.table.setHorizontalHeaderLabels(["Key", "Type", "Value"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for row, (key, kind, value, full) in enumerate(entries):
            value_item = QTableWidgetItem(value.replace("\n", "⏎"))
            value_item.setToolTip(full[:4000])
            self.table.setItem(row, 0, QTableWidgetItem(key))
            self.table.setItem(row, 1, QTableWidgetItem(kind))
            self.table.setItem(row, 2, value_item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.filter_edit.textChanged.connect(self._filter)

    def visible_keys(self) -> list[str]:
        return [
            self.table.item(r, 0).text()
            for r in range(self.table.rowCount())
            if not self.table.isRowHidden(r)
        ]

    def _filter(self, text: str) -> None:
        wanted = text.strip().casefold()
        for row in range(self.table.rowCount()):
            key = self.table.item(row, 0).text().casefold()
            self.table.setRowHidden(row, bool(wanted) and wanted not in key)
