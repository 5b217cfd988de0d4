"""The trash: deleted chats, to restore or delete for good. GUI thread only.

Signals: ``restoreRequested(conversation_id)``, ``emptyRequested()`` (after the user
confirmed). The app controller fills it with ``set_items``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storage.records import ConversationRecord

_ID = Qt.ItemDataRole.UserRole


class TrashDialog(QDialog):
    restoreRequested = Signal(int)
    emptyRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trash")
        self.resize(480, 420)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.items = QListWidget(self)
        self.items.setAccessibleName("Deleted chats")
        self.restore_button = QPushButton("Restore", self)
        self.empty_button = QPushButton("Empty trash…", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.empty_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.items, 1)
        layout.addWidget(buttons)
        self.restore_button.clicked.connect(self._restore)
        self.items.itemActivated.connect(lambda _item: self._restore())
        self.empty_button.clicked.connect(self._empty)

    def set_items(self, deleted: Sequence[ConversationRecord]) -> None:
        self.items.clear()
        for record in deleted:
            item = QListWidgetItem(f"{record.title}  ·  last active {record.updated_at:%Y-%m-%d}")
            item.setData(_ID, record.id)
            self.items.addItem(item)
        if deleted:
            self.items.setCurrentRow(0)
            self.hint.setText("Deleted chats stay here until you empty the trash.")
        else:
            self.hint.setText("The trash is empty.")
        self.restore_button.setEnabled(bool(deleted))
        self.empty_button.setEnabled(bool(deleted))

    def _restore(self) -> None:
        item = self.items.currentItem()
        if item is not None:
            self.restoreRequested.emit(int(item.data(_ID)))

    def _empty(self) -> None:
        if self.items.count() and self._ask_to_empty(self.items.count()):
            self.emptyRequested.emit()

    def _ask_to_empty(self, count: int) -> bool:
        answer = QMessageBox.question(
            self,
            "Empty the trash?",
            f"Delete {count} chat{'s' if count != 1 else ''} for good? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes
