"""The history list of the Translate page: a search box over past translations; clicking
one asks for it to be restored. GUI thread only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

SEARCH_DEBOUNCE_MS = 250
_SNIPPET = 70


@dataclass(frozen=True)
class HistoryEntry:
    """What the list shows of one stored translation (the controller fills it in)."""

    id: int
    source_text: str
    translation: str
    languages: str  # e.g. "English → français"
    model: str
    created_at: datetime


def _snippet(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _SNIPPET else line[: _SNIPPET - 1] + "…"


class TranslationHistory(QWidget):
    """Signals: ``searchChanged(text)`` once typing pauses, ``entryChosen(id)`` on a click
    (or Enter) on an entry."""

    searchChanged = Signal(str)
    entryChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search past translations")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.list.setAccessibleName("Past translations")
        self.empty_label = QLabel("No translations yet.", self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_label)
        # Search once typing pauses, not on every key press.
        self._debounce = QTimer(self, interval=SEARCH_DEBOUNCE_MS, singleShot=True)
        self._debounce.timeout.connect(lambda: self.searchChanged.emit(self.search.text()))
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self._search_now)
        self.list.itemClicked.connect(self._choose)
        self.list.itemActivated.connect(self._choose)

    def set_entries(self, entries: Iterable[HistoryEntry]) -> None:
        self.list.clear()
        for entry in entries:
            when = entry.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
            item = QListWidgetItem(
                f"{_snippet(entry.source_text)}\n→ {_snippet(entry.translation)}\n"
                f"{entry.languages} · {entry.model} · {when}"
            )
            item.setData(Qt.ItemDataRole.UserRole, entry.id)
            item.setToolTip(entry.source_text[:500])
            self.list.addItem(item)
        searching = bool(self.search.text().strip())
        self.empty_label.setText("Nothing matches." if searching else "No translations yet.")
        self.empty_label.setVisible(self.list.count() == 0)

    def search_text(self) -> str:
        return self.search.text()

    def _search_now(self) -> None:
        self._debounce.stop()
        self.searchChanged.emit(self.search.text())

    def _choose(self, item: QListWidgetItem) -> None:
        self.entryChosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))
