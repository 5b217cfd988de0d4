"""Bringing back a damaged chat history in the background after start-up, so the window opens
at once; the user is told when it starts and how much came back. GUI thread, except the work.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.gui.chat.navigation import ChatNavigation
from app.gui.progress_task import ProgressTask, Report
from storage.chats import ConversationRepository
from storage.database import Database
from storage.errors import DatabaseError
from storage.recovery import recover
from storage.recovery_report import RecoveryNote, RecoveryReport


class HistoryRecovery(QObject):
    """Signals (GUI thread): ``finished(note)``: the RecoveryNote with its report, once the
    chats that came back are listed (or ``None`` if recovery itself failed)."""

    finished = Signal(object)

    def __init__(
        self,
        database: Database,
        note: RecoveryNote,
        chat: ChatNavigation,
        conversations: ConversationRepository,
        show_error: Callable[[str], None],
        on_shutdown: Callable[[Callable[[], None]], None],
        parent: QObject | None = None,
    ) -> None:
        """`chat` is the chat page the recovered chats are shown in, `show_error` tells the
        user (the window's message bar), `on_shutdown` registers what runs when the app
        shuts down (before the engine stops)."""
        super().__init__(parent)
        self._chat = chat
        self._conversations = conversations
        self._show_error = show_error
        self._note = note

        def work(report: Report) -> RecoveryReport:
            return recover(note.moved_to, database, report)

        self._job = ProgressTask(work, (DatabaseError,), name="history-recovery", parent=self)
        self._job.succeeded.connect(self._show_recovered)
        self._job.failed.connect(self._show_failed)
        # Closing the window waits for the recovery: it commits in one transaction, and
        # the next start would find a healthy (empty) file and never recover again.
        on_shutdown(self._job.join)

    def start(self) -> None:
        self._show_error(
            f"The chat history was damaged ({self._note.reason}). It was set aside at "
            f"{self._note.moved_to}; recovering the chats that can still be read…"
        )
        self._job.start()

    def _show_recovered(self, report: RecoveryReport) -> None:
        note = RecoveryNote(self._note.moved_to, self._note.reason, report)
        chat = self._chat
        current = chat.current_conversation
        # The history looked empty at start, so a new chat was opened; if nobody wrote in
        # it, the recovered chats take its place as a healthy start would have shown them.
        if (
            report.conversations
            and current is not None
            and not chat.generating
            and self._conversations.discard_if_empty(current)
        ):
            chat.current_conversation = None
            recent = self._conversations.list_recent()
            if recent:
                chat.open_conversation(recent[0].id)
        chat.refresh_list()
        self._show_error(note.describe())
        self.finished.emit(note)

    def _show_failed(self, message: str) -> None:
        self._show_error(
            f"The chat history was damaged ({self._note.reason}) and its chats could not be "
            f"recovered: {message} The damaged file is kept at {self._note.moved_to}."
        )
        self.finished.emit(None)
