"""The sidebar of conversations. GUI thread only.

Shows the records it is given, newest first as given; renames and deletes are requests for
the app to carry out (it then calls ``set_conversations`` with the new state).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storage.records import ConversationRecord

ID_ROLE = Qt.ItemDataRole.UserRole + 1
TITLE_ROLE = Qt.ItemDataRole.UserRole + 2  # the stored title, to undo a refused rename
PINNED_ROLE = Qt.ItemDataRole.UserRole + 3


class _ConversationView(QListView):
    """QListView whose Delete key asks to delete the current conversation."""

    deletePressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # An open rename editor gets its own keys; this only sees keys for the list itself.
        if event.key() == Qt.Key.Key_Delete and self.currentIndex().isValid():
            self.deletePressed.emit()
            return
        super().keyPressEvent(event)


class ConversationList(QWidget):
    """ "New chat" button over the list. Signals (GUI thread):

    - ``conversationSelected(id)``: the user picked a conversation (not for ``select``).
    - ``newRequested()``, ``renameRequested(id, title)``, ``deleteRequested(id)``.
    - ``pinRequested(id, pinned)``, ``systemPromptRequested(id)``, ``samplingRequested(id)``,
      ``trashRequested()``.
    """

    conversationSelected = Signal(int)
    newRequested = Signal()
    renameRequested = Signal(int, str)
    deleteRequested = Signal(int)
    pinRequested = Signal(int, bool)
    systemPromptRequested = Signal(int)
    samplingRequested = Signal(int)
    trashRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.new_button = QPushButton("New chat", self)
        self.new_button.setToolTip("Start a new chat (Ctrl+N)")
        self.model = QStandardItemModel(self)
        self.view = _ConversationView(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Conversations")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setUniformItemSizes(True)  # titles are one line: cheap layout for long lists
        # Long titles end in "…" instead of growing a horizontal scroll bar.
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setWordWrap(False)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.trash_button = QPushButton("Trash", self)
        self.trash_button.setToolTip("Deleted chats: restore them or empty the trash")
        layout.addWidget(self.new_button)
        layout.addWidget(self.view)
        layout.addWidget(self.trash_button)

        self._updating = False  # True while the model is filled from code, not by the user
        self.new_button.clicked.connect(self.newRequested)
        self.trash_button.clicked.connect(self.trashRequested)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.model.itemChanged.connect(self._on_item_changed)
        self.view.customContextMenuRequested.connect(self._show_context_menu)
        self.view.deletePressed.connect(self._delete_current)

    # ---- API -------------------------------------------------------------------------

    def set_conversations(self, items: Sequence[ConversationRecord]) -> None:
        """Show ``items`` in the given order, keeping the selection when it still exists."""
        keep = self.current_id()
        self._updating = True
        try:
            self.model.clear()
            for record in items:
                item = QStandardItem(record.title)
                item.setData(record.id, ID_ROLE)
                item.setData(record.title, TITLE_ROLE)
                item.setData(record.pinned, PINNED_ROLE)
                pinned = "\npinned to the top" if record.pinned else ""
                item.setToolTip(
                    f"{record.title}\nlast active {record.updated_at:%Y-%m-%d %H:%M}{pinned}"
                )
                if record.pinned:  # bold, not a prefix: the text is what rename edits
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                item.setEditable(True)
                self.model.appendRow(item)
        finally:
            self._updating = False
        self.select(keep)

    def select(self, conversation_id: int | None) -> None:
        """Highlight a conversation (or none) without emitting ``conversationSelected``."""
        self._updating = True
        try:
            row = self._row_of(conversation_id)
            if row is None:
                self.view.selectionModel().clear()
                self.view.setCurrentIndex(QModelIndex())
            else:
                self.view.setCurrentIndex(self.model.index(row, 0))
        finally:
            self._updating = False

    def current_id(self) -> int | None:
        index = self.view.currentIndex()
        return int(index.data(ID_ROLE)) if index.isValid() else None

    def title_of(self, conversation_id: int) -> str | None:
        row = self._row_of(conversation_id)
        return None if row is None else self.model.item(row).text()

    def rename_current(self) -> None:
        """Open the in-place editor on the current conversation (F2 does the same)."""
        if self.view.currentIndex().isValid():
            self.view.edit(self.view.currentIndex())

    # ---- internals -------------------------------------------------------------------

    def _row_of(self, conversation_id: int | None) -> int | None:
        if conversation_id is None:
            return None
        for row in range(self.model.rowCount()):
            if self.model.item(row).data(ID_ROLE) == conversation_id:
                return row
        return None

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._updating and current.isValid():
            self.conversationSelected.emit(int(current.data(ID_ROLE)))

    def _on_item_changed(self, item: QStandardItem) -> None:
        if self._updating:
            return
        conversation_id = int(item.data(ID_ROLE))
        title = item.text().strip()
        old_title = str(item.data(TITLE_ROLE))
        if not title or title == old_title:
            # An empty title is refused: put the old one back (no request to the app).
            self._updating = True
            item.setText(old_title)
            self._updating = False
            return
        self.renameRequested.emit(conversation_id, title)

    def _delete_current(self) -> None:
        conversation_id = self.current_id()
        if conversation_id is not None:
            self.deleteRequested.emit(conversation_id)

    def _show_context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        self.view.setCurrentIndex(index)
        menu = self.build_context_menu(int(index.data(ID_ROLE)))
        menu.exec(self.view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def build_context_menu(self, conversation_id: int) -> QMenu:
        """The menu for one conversation (separate so tests can trigger it)."""
        menu = QMenu(self)
        row = self._row_of(conversation_id)
        pinned = bool(row is not None and self.model.item(row).data(PINNED_ROLE))
        pin = menu.addAction("Unpin" if pinned else "Pin to top")
        pin.triggered.connect(lambda: self.pinRequested.emit(conversation_id, not pinned))
        prompt = menu.addAction("System prompt…")
        prompt.triggered.connect(lambda: self.systemPromptRequested.emit(conversation_id))
        sampling = menu.addAction("Sampling…")
        sampling.triggered.connect(lambda: self.samplingRequested.emit(conversation_id))
        menu.addSeparator()
        rename = menu.addAction("Rename")
        rename.setShortcut(Qt.Key.Key_F2)
        rename.triggered.connect(self.rename_current)
        delete = menu.addAction("Delete")
        delete.setShortcut(Qt.Key.Key_Delete)
        delete.triggered.connect(lambda: self.deleteRequested.emit(conversation_id))
        return menu
