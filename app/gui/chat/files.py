"""The Chat menu's file commands: export one chat or all of them, import, copy as Markdown.

Exports and imports run on a worker thread (a whole history takes a while) with a progress
dialog and Cancel; one at a time. Everything else here runs on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QProgressDialog

from app.chat.importer import ChatImportError, ImportSummary
from app.chat.imports.sources import import_path
from app.gui.chat.export import (
    ExportError,
    ExportSummary,
    conversation_markdown,
    export_chats,
    format_for_path,
)
from app.gui.chat.navigation import ChatNavigation
from app.gui.progress_task import ProgressTask, Report
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.errors import DatabaseError
from ui.main_window import MainWindow

EXPORT_FILTER = "Markdown (*.md);;Hearth JSON (*.json);;Web page (*.html)"
# Any file may be picked: the import recognises the format by its content.
IMPORT_FILTER = (
    "Chat exports: Hearth, ChatGPT, Open WebUI, LM Studio, Jan (*.json *.jsonl);;All files (*)"
)


SHOW_PROGRESS_AFTER_MS = 400  # a quick export finishes without a dialog flashing by


class ChatFilesController(QObject):
    """`job` is the export or import under way (None once its outcome has been shown)."""

    def __init__(
        self,
        window: MainWindow,
        chat: ChatNavigation,
        conversations: ConversationRepository,
        messages: MessageRepository,
        database: Database,
        on_shutdown: Callable[[Callable[[], None]], None],
        parent: QObject | None = None,
    ) -> None:
        """`window` gives the Chat menu's actions, the dialogs' parent, the status and error
        bars and the sidebar; `chat` is the chat page (which chat is open, opening one);
        `on_shutdown` registers what runs when the app shuts down (before the engine stops).
        """
        super().__init__(parent)
        self.window = window
        self.chat = chat
        self.conversations = conversations
        self.messages = messages
        self.database = database
        self.job: ProgressTask | None = None
        self.progress_dialog: QProgressDialog | None = None
        on_shutdown(self._stop_job)
        window.export_chat_action.triggered.connect(self.export_current)
        window.export_all_action.triggered.connect(self.export_all)
        window.import_action.triggered.connect(self.import_chats)
        window.copy_markdown_action.triggered.connect(self.copy_markdown)

    def _pick_save(self, title: str, name: str) -> str:
        """The file to write (suggesting `name`), or "" when the user cancelled."""
        return QFileDialog.getSaveFileName(self.window, title, name, EXPORT_FILTER)[0]

    def _pick_open(self, title: str) -> str:
        return QFileDialog.getOpenFileName(self.window, title, "", IMPORT_FILTER)[0]

    def export_current(self) -> None:
        conversation_id = self.chat.current_conversation
        record = self.conversations.get(conversation_id) if conversation_id else None
        if record is None:
            self.window.show_error("Open a chat first, then export it.")
            return
        path = self._pick_save("Export this chat", f"{_file_name(record.title)}.md")
        if path:
            self._export(Path(path), conversation_id)

    def export_all(self) -> None:
        path = self._pick_save("Export all chats", "hearth-chats.json")
        if path:
            self._export(Path(path), None)

    def import_chats(self) -> None:
        path = self._pick_open("Import chats")
        if not path:
            return
        database = self.database

        def work(report: Report) -> ImportSummary:
            return import_path(database, Path(path), report)

        self._run("Importing chats", work, self._show_imported)

    def _show_imported(self, summary: ImportSummary) -> None:
        self.window.statusBar().showMessage(f"{summary.describe()}.", 10_000)
        if summary.conversation_ids:
            self.chat.open_conversation(summary.conversation_ids[0])
            self.window.conversations.set_conversations(self.conversations.list_recent())
            self.window.conversations.select(summary.conversation_ids[0])

    def copy_markdown(self) -> None:
        conversation_id = self.chat.current_conversation
        record = self.conversations.get(conversation_id) if conversation_id else None
        if record is None:
            return
        path = self.messages.active_path(record.id)
        QGuiApplication.clipboard().setText(conversation_markdown(path, title=record.title))
        self.window.statusBar().showMessage("Chat copied as Markdown.", 5_000)

    def _export(self, path: Path, conversation_id: int | None) -> None:
        database = self.database

        def work(report: Report) -> ExportSummary:
            fmt = format_for_path(path)
            return export_chats(
                database, path, fmt, conversation_id=conversation_id, progress=report
            )

        self._run("Exporting chats", work, self._show_exported)

    def _show_exported(self, summary: ExportSummary) -> None:
        self.window.statusBar().showMessage(
            f"Exported {summary.conversations} chat(s), {summary.messages} messages, to "
            f"{summary.path}.",
            10_000,
        )

    # ---- the worker thread ---------------------------------------------------------------

    def _run(
        self,
        title: str,
        work: Callable[[Report], object],
        done: Callable[..., None],
    ) -> None:
        window = self.window
        if self.job is not None:
            window.show_error("An export or import is still running; wait for it or cancel it.")
            return
        job = ProgressTask(
            work,
            (ExportError, ChatImportError, DatabaseError),
            name=title.lower().replace(" ", "-"),
            parent=self,
        )
        dialog = QProgressDialog(f"{title}…", "Cancel", 0, 0, window)
        dialog.setWindowTitle(title)
        dialog.setMinimumDuration(SHOW_PROGRESS_AFTER_MS)
        dialog.setAutoReset(False)
        dialog.setAutoClose(False)
        dialog.canceled.connect(job.cancel)
        job.progressed.connect(self._show_progress)
        job.succeeded.connect(done)
        job.failed.connect(window.show_error)
        job.cancelled.connect(
            lambda: window.statusBar().showMessage(f"{title} cancelled; nothing changed.", 10_000)
        )
        job.finished.connect(self._job_done)
        self.job, self.progress_dialog = job, dialog
        job.start()

    def _show_progress(self, done: int, total: int) -> None:
        dialog = self.progress_dialog
        if dialog is not None:
            dialog.setMaximum(total)
            dialog.setValue(done)
            if done == total and self.job is not None:
                dialog.setLabelText("Writing…")  # one last step, no longer interrupted

    def _job_done(self) -> None:
        job, dialog = self.job, self.progress_dialog
        self.job = self.progress_dialog = None
        if job is not None:
            job.join()  # it has emitted its last signal: a moment at most
            job.deleteLater()
        if dialog is not None:
            dialog.canceled.disconnect()
            dialog.close()
            dialog.deleteLater()

    def _stop_job(self) -> None:
        """At shutdown: stop at the next step and wait, so no thread outlives the window."""
        if self.job is not None:
            self.job.cancel()
            self.job.join()


def _file_name(title: str) -> str:
    keep = "".join(c if c.isalnum() or c in " -_" else " " for c in title)
    return "-".join(keep.split())[:60] or "chat"
