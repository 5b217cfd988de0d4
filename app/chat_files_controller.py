"""The Chat menu's file commands: export one chat or all of them, import, copy as Markdown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog

from app.chat_controller import ChatController
from app.chat_export import ExportError, conversation_markdown, export_chats, format_for_path
from app.chat_import import ChatImportError, import_file
from storage.database import Database, DatabaseError

EXPORT_FILTER = "Markdown (*.md);;Hearth JSON (*.json);;Web page (*.html)"


class ChatFilesController(QObject):
    def __init__(self, chat: ChatController, database: Database) -> None:
        super().__init__(chat)
        self.chat = chat
        self.database = database
        window = chat.window
        #: File pickers: (title, suggested name) -> path or "". Tests replace them.
        self.pick_save: Callable[[str, str], str] = lambda title, name: QFileDialog.getSaveFileName(
            window, title, name, EXPORT_FILTER
        )[0]
        self.pick_open: Callable[[str], str] = lambda title: QFileDialog.getOpenFileName(
            window, title, "", "Hearth JSON (*.json)"
        )[0]
        window.export_chat_action.triggered.connect(self.export_current)
        window.export_all_action.triggered.connect(self.export_all)
        window.import_action.triggered.connect(self.import_chats)
        window.copy_markdown_action.triggered.connect(self.copy_markdown)

    def export_current(self) -> None:
        conversation_id = self.chat.current_conversation
        record = self.chat.conversations.get(conversation_id) if conversation_id else None
        if record is None:
            self.chat.window.show_error("Open a chat first, then export it.")
            return
        path = self.pick_save("Export this chat", f"{_file_name(record.title)}.md")
        if path:
            self._export(Path(path), conversation_id)

    def export_all(self) -> None:
        path = self.pick_save("Export all chats", "hearth-chats.json")
        if path:
            self._export(Path(path), None)

    def import_chats(self) -> None:
        path = self.pick_open("Import chats")
        if not path:
            return
        try:
            with _busy():
                summary = import_file(self.database, Path(path))
        except (ChatImportError, DatabaseError) as exc:
            self.chat.window.show_error(str(exc))
            return
        chats = len(summary.conversation_ids)
        self.chat.window.statusBar().showMessage(
            f"Imported {chats} chat{'s' if chats != 1 else ''} ({summary.messages} messages).",
            10_000,
        )
        if summary.conversation_ids:
            self.chat.open_conversation(summary.conversation_ids[0])
            self.chat.window.conversations.set_conversations(self.chat.conversations.list_recent())
            self.chat.window.conversations.select(summary.conversation_ids[0])

    def copy_markdown(self) -> None:
        conversation_id = self.chat.current_conversation
        record = self.chat.conversations.get(conversation_id) if conversation_id else None
        if record is None:
            return
        path = self.chat.messages.active_path(record.id)
        QGuiApplication.clipboard().setText(conversation_markdown(path, title=record.title))
        self.chat.window.statusBar().showMessage("Chat copied as Markdown.", 5_000)

    def _export(self, path: Path, conversation_id: int | None) -> None:
        try:
            with _busy():
                summary = export_chats(
                    self.database, path, format_for_path(path), conversation_id=conversation_id
                )
        except (ExportError, DatabaseError) as exc:
            self.chat.window.show_error(str(exc))
            return
        self.chat.window.statusBar().showMessage(
            f"Exported {summary.conversations} chat(s), {summary.messages} messages, to {path}.",
            10_000,
        )


def _file_name(title: str) -> str:
    keep = "".join(c if c.isalnum() or c in " -_" else " " for c in title)
    return "-".join(keep.split())[:60] or "chat"


class _busy:
    """A wait cursor while a blocking export/import runs (a whole history takes a moment)."""

    def __enter__(self) -> None:
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def __exit__(self, *_: object) -> None:
        QApplication.restoreOverrideCursor()
