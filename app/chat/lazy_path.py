"""A conversation's shown path that reads message records only when they are looked at.

The chat view renders the newest page and asks for older slices as the user scrolls up;
with this sequence, opening a 10,000-message chat reads (id, parent) pairs plus one page of
records instead of every message's text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import overload

from storage.chats import MessageRepository
from storage.records import MessageRecord


class LazyPath(Sequence[MessageRecord]):
    def __init__(
        self,
        messages: MessageRepository,
        conversation_id: int,
        shown: Callable[[MessageRecord], MessageRecord] | None = None,
    ) -> None:
        """`shown` maps a stored record to what the user saw (a reply the database has not
        stored yet, app.chat.unsaved_replies)."""
        self._messages = messages
        self._shown = shown
        self.ids, self._versions = messages.shown_path(conversation_id)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> MessageRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[MessageRecord]: ...

    def __getitem__(self, index: int | slice) -> MessageRecord | list[MessageRecord]:
        ids = self.ids[index] if isinstance(index, slice) else [self.ids[index]]
        records = [
            replace(r, version=self._versions[r.id][0], version_count=self._versions[r.id][1])
            for r in self._messages.get_many(ids)
        ]
        if self._shown is not None:
            records = [self._shown(r) for r in records]
        return records if isinstance(index, slice) else records[0]
