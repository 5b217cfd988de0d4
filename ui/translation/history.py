"""The history list of the Translate page: a search box over past translations; clicking
one asks for it to be restored; Delete (key or context menu) removes the selected ones with
an Undo bar, and "Clear history…" asks first. GUI thread only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ui.widgets.message_bar import MessageBar

SEARCH_DEBOUNCE_MS = 250
UNDO_VISIBLE_MS = 10_000
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
    (or Enter) on an entry, ``deleteRequested(ids)`` for the selected entries,
    ``clearRequested()`` for "Clear history…" (the controller asks `confirm_clear`), and
    ``undoRequested()`` from the Undo bar that `show_undo` opens."""

    searchChanged = Signal(str)
    entryChosen = Signal(int)
    deleteRequested = Signal(list)
    clearRequested = Signal()
    undoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search past translations")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.list.setAccessibleName("Past translations")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # Qt's own context menu from the list's actions; their shortcuts work on the list.
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.delete_action = QAction("Delete", self.list)
        self.delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.clear_action = QAction("Clear history…", self.list)
        self.list.addActions([self.delete_action, self.clear_action])
        self.undo_bar = MessageBar("Undo", parent=self)
        self.empty_label = QLabel("No translations yet.", self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.undo_bar)
        # Search once typing pauses, not on every key press.
        self._debounce = QTimer(self, interval=SEARCH_DEBOUNCE_MS, singleShot=True)
        self._debounce.timeout.connect(lambda: self.searchChanged.emit(self.search.text()))
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self._search_now)
        self.list.itemClicked.connect(self._on_click)
        self.list.itemActivated.connect(self._choose)
        self.list.itemSelectionChanged.connect(self._update_actions)
        self.delete_action.triggered.connect(self._delete_selected)
        self.clear_action.triggered.connect(self.clearRequested)
        self.undo_bar.actionTriggered.connect(self.undoRequested)
        self._update_actions()

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
        self._update_actions()

    def search_text(self) -> str:
        return self.search.text()

    def selected_ids(self) -> list[int]:
        return [int(item.data(Qt.ItemDataRole.UserRole)) for item in self.list.selectedItems()]

    def show_undo(self, text: str) -> None:
        """ "<text> [Undo]" for a while, after entries were deleted."""
        self.undo_bar.show_message(text, timeout_ms=UNDO_VISIBLE_MS)

    def hide_undo(self) -> None:
        self.undo_bar.hide()

    def confirm_clear(self, count: int) -> bool:
        answer = QMessageBox.question(
            self,
            "Clear the translation history?",
            f"Delete all {count} past translation{'s' if count != 1 else ''}? "
            "This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _search_now(self) -> None:
        self._debounce.stop()
        self.searchChanged.emit(self.search.text())

    def _choose(self, item: QListWidgetItem) -> None:
        self.entryChosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _on_click(self, item: QListWidgetItem) -> None:
        # Ctrl/Shift+click picks several entries (to delete them), not one to restore.
        picking = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        if not QGuiApplication.keyboardModifiers() & picking:
            self._choose(item)

    def _delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.deleteRequested.emit(ids)

    def _update_actions(self) -> None:
        count = len(self.list.selectedItems())
        self.delete_action.setEnabled(count > 0)
        self.delete_action.setText(f"Delete {count} translations" if count > 1 else "Delete")
        self.clear_action.setEnabled(self.list.count() > 0 or bool(self.search.text().strip()))
