"""The times to first token of the replies the chat shows (issue 12), read from their stored
traces once and remembered: the stats under a reply say Enter → first token painted where
the trace has it. Qt-free; GUI thread (the chat controller's)."""

from __future__ import annotations

from app.chat.trace_record import FirstToken, first_token
from storage.errors import DatabaseError
from storage.traces import TraceRepository

# Replies remembered at most; a chat shows a page of messages at a time.
KEPT = 2000


class FirstTokens:
    def __init__(self, traces: TraceRepository | None) -> None:
        self._traces = traces
        self._known: dict[int, FirstToken | None] = {}

    def remember(self, message_id: int, times: FirstToken) -> None:
        """A reply that just ended (its trace may not be stored yet: a full disk)."""
        self._keep(message_id, times)

    def times(self, message_id: int) -> tuple[float | None, float | None] | None:
        """(Enter → first paint, engine's part) in ms, None when no trace was recorded."""
        if message_id not in self._known:
            found = None
            if self._traces is not None:
                try:
                    record = self._traces.get(message_id)
                except DatabaseError:
                    return None  # not remembered: asked again when the database answers
                found = first_token(record.phases) if record is not None else None
            self._keep(message_id, found)
        times = self._known[message_id]
        return None if times is None else (times.shown_ms, times.engine_ms)

    def _keep(self, message_id: int, times: FirstToken | None) -> None:
        if len(self._known) >= KEPT:
            self._known.clear()
        self._known[message_id] = times
