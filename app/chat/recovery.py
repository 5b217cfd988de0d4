"""What a start of Hearth does to the chat history after the last run ended: storage only opens
the file (setting a damaged one aside); bringing the chats back to a state the user can go on
from is the app's policy, called explicitly where the app starts (app.gui.main.build_app, and
open_chat_history for the command line). Qt-free."""

from __future__ import annotations

import logging
from pathlib import Path

from storage.chats import MessageRepository
from storage.database import Database
from storage.recovery import recover
from storage.recovery_report import RecoveryNote

log = logging.getLogger(__name__)


class ChatRecovery:
    """The start-up steps on one open chat history; each runs on the calling thread."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def mark_interrupted_replies(self) -> int:
        """Anything still 'streaming' was being written when the app last died: it shows as
        interrupted, with the text saved so far. Returns how many replies that was."""
        return MessageRepository(self._database).mark_streaming_interrupted()

    def recover_damaged(self, note: RecoveryNote) -> RecoveryNote:
        """Copy what can be read of the damaged file the note names into the database, now.
        Returns the note with its report; if recovery itself fails, the note as it was (the
        new database works without what recovery would have added, and the damaged file
        stays where the note says)."""
        try:
            report = recover(note.moved_to, self._database)
        except Exception:
            log.exception("Recovering %s failed", note.moved_to)
            return note
        return RecoveryNote(note.moved_to, note.reason, report)


def open_chat_history(path: Path) -> tuple[Database, RecoveryNote | None]:
    """The chat history as a command-line start opens it: replies left streaming marked
    interrupted, then a damaged file's chats recovered before this returns (a command has no
    window to show them arriving in; the GUI recovers in the background instead,
    app.gui.chat.history_recovery). Raises DatabaseError."""
    database, note = Database.open(path)
    try:
        recovery = ChatRecovery(database)
        recovery.mark_interrupted_replies()
        if note is not None:
            note = recovery.recover_damaged(note)
    except BaseException:
        database.close()
        raise
    return database, note
