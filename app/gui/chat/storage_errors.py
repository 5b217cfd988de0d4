"""What the chat presenter does when the database refuses a write (disk full, locked).

A mixin of ChatController (app/gui/chat/controller.py): the replies kept in memory until
they can be stored, and the error shown meanwhile."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from PySide6.QtCore import QTimer, Signal

from app.chat.unsaved_replies import UnsavedReplies
from app.gui.chat.turn import Turn
from storage.chats import MessageRepository
from storage.errors import DatabaseError, RecordNotFoundError
from storage.records import MessageRecord, MessageStatus, StatsRecord, TraceRecord
from ui.main_window import MainWindow

SAVED_AGAIN_MS = 4000  # how long "saved again" stays where the storage error was

_Slot = TypeVar("_Slot", bound=Callable[..., None])


def reports_storage_errors(slot: _Slot) -> _Slot:
    """A storage failure (disk full, database locked by another program) is told to the user
    in the window; what they typed stays in the input, and a reply keeps streaming in memory
    so the next flush can still save it. Every such action first saves the replies the
    database refused before, so they are stored ahead of whatever the action writes."""

    @functools.wraps(slot)
    def wrapper(self: StorageErrors, *args: object) -> object:
        self._save_unsaved()
        try:
            return slot(self, *args)
        except DatabaseError as exc:
            self._report_storage_error(exc)
            return None

    return wrapper  # type: ignore[return-value]


class StorageErrors:
    """Part of ChatController: the attributes below are set in its __init__."""

    window: MainWindow
    messages: MessageRepository
    replyFinished: Signal
    _unsaved: UnsavedReplies
    _save_timer: QTimer
    _storage_error: str | None

    def _finish_reply(
        self,
        turn: Turn,
        content: str,
        status: MessageStatus,
        *,
        stats: StatsRecord | None = None,
        error: str | None = None,
        trace: TraceRecord | None = None,
    ) -> MessageRecord:
        """Store how the reply ended, with its timings (`trace`). When the database refuses
        (disk full), the reply and its trace are kept in memory as shown and saved once
        writing works again (app.chat.unsaved_replies)."""
        try:
            stored = self.messages.finish_reply(
                turn.message_id, content, status, stats=stats, error=error, trace=trace
            )
            self._storage_recovered()
            return stored
        except RecordNotFoundError:
            raise
        except DatabaseError as exc:
            if turn.reply is None:
                raise
            shown = replace(turn.reply, content=content, status=status, stats=stats, error=error)
            self._unsaved.keep(shown, trace)
            self._save_timer.start()
            self._report_storage_error(exc)
            return shown

    def _save_unsaved(self) -> None:
        """Offer the replies the database refused to it again (timer, and before every
        action that touches storage)."""
        if not self._unsaved:
            return
        try:
            saved = self._unsaved.save()
        except DatabaseError:
            return  # still refused: kept, and the timer tries again
        self._save_timer.stop()
        self._storage_recovered()
        for record in saved:
            if record.status is MessageStatus.COMPLETE:
                self.replyFinished.emit(record.id)

    def _report_storage_error(self, exc: DatabaseError) -> None:
        text = f"Your chats could not be saved: {exc}"
        if self._unsaved:
            text += (
                " The reply stays on screen and is saved as soon as writing works again; "
                "keep Hearth open until then."
            )
        self._storage_error = text
        self.window.show_error(text)

    def _storage_recovered(self) -> None:
        """A write worked again: the storage error goes, unless a reply is still unsaved."""
        if self._storage_error is None or self._unsaved:
            return
        bar = self.window.error_bar
        if bar.isVisible() and bar.label.text() == self._storage_error:
            # Said where the error was (the status bar has no room beside the stats), and
            # gone by itself.
            bar.show_message("Your chats are saved again.", timeout_ms=SAVED_AGAIN_MS)
        self._storage_error = None
