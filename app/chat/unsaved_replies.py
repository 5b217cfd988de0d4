"""Replies that ended while the database refused writes (a full disk, a file locked by
another program), kept in memory until it accepts them.

The user watched such a reply stream to its end; losing everything after the last flush
because the disk was full for a while would be wrong. The chat keeps the reply as it was
shown (text, status, stats, and its trace: the timings), shows and prompts with that, and
saves it on a timer and before the user's next action. Only if the app ends first does the
row stay as the database last had it: the next start marks it interrupted, with the text
saved before the failure.

Used from the GUI thread only (the chat controller's); no Qt.
"""

from __future__ import annotations

from dataclasses import replace

from storage.chats import MessageRepository
from storage.errors import RecordNotFoundError
from storage.records import MessageRecord, TraceRecord


class UnsavedReplies:
    def __init__(self, messages: MessageRepository) -> None:
        self._messages = messages
        self._kept: dict[int, MessageRecord] = {}  # message id -> the reply as shown
        self._traces: dict[int, TraceRecord] = {}  # message id -> its timings, if any

    def __bool__(self) -> bool:
        return bool(self._kept)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._kept

    def keep(self, record: MessageRecord, trace: TraceRecord | None = None) -> None:
        self._kept[record.id] = record
        if trace is not None:
            self._traces[record.id] = trace

    def save(self) -> list[MessageRecord]:
        """Store every kept reply, oldest first, and return them as stored. Raises
        DatabaseError when the database still refuses; what was not stored stays kept."""
        saved: list[MessageRecord] = []
        for message_id in list(self._kept):
            kept = self._kept[message_id]
            try:
                stored = self._messages.finish_reply(
                    kept.id,
                    kept.content,
                    kept.status,
                    stats=kept.stats,
                    error=kept.error,
                    trace=self._traces.get(message_id),
                )
            except RecordNotFoundError:
                stored = None  # its chat was deleted for good meanwhile: nothing to keep
            del self._kept[message_id]
            self._traces.pop(message_id, None)
            if stored is not None:
                saved.append(stored)
        return saved

    def shown(self, record: MessageRecord) -> MessageRecord:
        """`record` as the user saw it: a kept reply's text, status and stats while they are
        not stored (its place among its versions is the stored one's)."""
        kept = self._kept.get(record.id)
        if kept is None:
            return record
        return replace(kept, version=record.version, version_count=record.version_count)
