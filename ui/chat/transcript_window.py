"""Which slice of a conversation the transcript holds.

A conversation is the shown path it was opened with (a lazy sequence: records are read only
when sliced) followed by the messages added since (the user's prompts, finished replies). The
transcript renders one contiguous range ``[first, end)`` of it, never more than a few pages,
so scrolling through 10,000 messages does not keep 10,000 laid-out messages in memory.

Plain bookkeeping, no Qt: ``ChatView`` asks it what to render and tells it what it did.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.records import MessageRecord, Role


class TranscriptWindow:
    def __init__(self, source: Sequence[MessageRecord] = ()) -> None:
        self.reset(source)

    def reset(self, source: Sequence[MessageRecord]) -> None:
        self._source = source
        self._added: list[MessageRecord] = []
        self._source_ids: list[int] | None = None
        self.first = self.end = len(source)

    @property
    def total(self) -> int:
        return len(self._source) + len(self._added)

    @property
    def attached(self) -> bool:
        """The newest message is rendered (so the end of the document is the chat's end)."""
        return self.end == self.total

    def records(self, start: int, stop: int) -> list[MessageRecord]:
        split = len(self._source)
        older = list(self._source[start : min(stop, split)]) if start < split else []
        return older + self._added[max(0, start - split) : max(0, stop - split)]

    def newest_timed_reply(self, look_back: int = 20) -> int | None:
        """The newest reply the engine wrote (it has stats, hence a timing view) among the
        conversation's last `look_back` messages; None when none."""
        for message in reversed(self.records(max(0, self.total - look_back), self.total)):
            if message.role is Role.ASSISTANT and message.stats is not None:
                return message.id
        return None

    def add(self, message: MessageRecord) -> None:
        """A message the conversation gained after it was opened (a finished reply replaces
        the earlier record with its id, if any)."""
        for n, known in enumerate(self._added):
            if known.id == message.id:
                self._added[n] = message
                return
        self._added.append(message)

    def index_of(self, message_id: int) -> int | None:
        if self._source_ids is None:
            # The app's lazy path knows its ids without reading records.
            ids = getattr(self._source, "ids", None)
            self._source_ids = list(ids) if ids is not None else [m.id for m in self._source]
        for n, known in enumerate(self._added):
            if known.id == message_id:
                return len(self._source_ids) + n
        try:
            return self._source_ids.index(message_id)
        except ValueError:
            return None
