"""A reply's trace (records.TraceRecord) in the database, and back.

Where it lives: table message_traces, one row per reply, keyed by the message id with a
cascading foreign key (storage.models.MessageTrace). Not columns on messages: history pages
read whole message rows, and the FTS triggers and the recovery code work on that table; a
trace of a few KB is read only when its timing view opens. Not columns on generation_stats:
that table mirrors StatsRecord field for field and is joined into every history read too.
Deleting a reply (discard_reply) or purging a chat from the trash drops the trace through the
cascade; a chat in the trash keeps it until then, so restoring the chat restores its timings.

How it is stored, per row: `format` (TRACE_FORMAT), `phases_json` (compact JSON object of
scalars) and `token_ms`, the per-token latencies packed as little-endian float32: 4 bytes a
token, ~7 significant digits (microseconds up to ~100 s), against 8 allowed (issue 12).

Traces do not travel with exported chats (app/gui/chat/export.py) nor come in with imported
ones: they describe this machine's engine and would mix another machine's speeds into the
Performance page. Recovery from a damaged file copies them like stats (storage.recovery).

Reading never raises on what it finds: a row that is damaged (a blob whose length is not a
multiple of 4, a NaN, infinite or negative latency, JSON that is not an object of scalars, a
format this version does not know, a value of the wrong SQLite type) reads as no trace and
is logged, so the view says "no timing recorded". Writing refuses what it could not read back
(ValueError).
"""

from __future__ import annotations

import json
import logging
import math
import sys
from array import array
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from storage.errors import RecordNotFoundError
from storage.models import Message, MessageTrace
from storage.records import PhaseValue, TraceRecord

if TYPE_CHECKING:
    from storage.database import Database

log = logging.getLogger(__name__)

#: The layout this version writes and the only one it reads.
TRACE_FORMAT = 1
_ITEM = "f"  # float32
_ITEM_SIZE = array(_ITEM).itemsize
_SCALARS = (str, int, float, bool, type(None))


class DamagedTraceError(ValueError):
    """What a stored trace cannot be read as, in words for the log."""


def _valid_latencies(values: Iterable[float]) -> bool:
    # NaN fails both comparisons, so one pass rejects NaN, infinities and negatives.
    return all(0.0 <= value < math.inf for value in values)


def pack_token_ms(token_ms: Iterable[float]) -> bytes:
    """Latencies in ms as little-endian float32; ValueError for one that is not finite and
    >= 0, or too large for float32."""
    packed = array(_ITEM, token_ms)
    if not _valid_latencies(packed):  # after packing: a value float32 cannot hold is inf
        raise ValueError("token latencies must be finite, non-negative and fit a float32")
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack_token_ms(blob: object) -> tuple[float, ...]:
    if not isinstance(blob, bytes):
        raise DamagedTraceError(f"token latencies are {type(blob).__name__}, not bytes")
    if len(blob) % _ITEM_SIZE:
        raise DamagedTraceError(f"token latencies are {len(blob)} bytes, not whole float32s")
    values = array(_ITEM)
    values.frombytes(blob)
    if sys.byteorder == "big":
        values.byteswap()
    if not _valid_latencies(values):
        raise DamagedTraceError("a token latency is NaN, infinite or negative")
    return tuple(values)


def _clean_phases(phases: object) -> dict[str, PhaseValue]:
    if not isinstance(phases, Mapping):
        raise DamagedTraceError(f"phases are {type(phases).__name__}, not an object")
    for key, value in phases.items():
        if not isinstance(key, str) or not isinstance(value, _SCALARS):
            raise DamagedTraceError(f"phase {key!r} is {type(value).__name__}, not a scalar")
        if isinstance(value, float) and not math.isfinite(value):
            raise DamagedTraceError(f"phase {key!r} is {value}")
    return dict(phases)


def _reject_constant(name: str) -> float:
    raise DamagedTraceError(f"phases hold {name}")


def phases_to_json(phases: Mapping[str, PhaseValue]) -> str:
    try:
        clean = _clean_phases(phases)
    except DamagedTraceError as error:
        raise ValueError(str(error)) from None
    return json.dumps(clean, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def phases_from_json(text: object) -> dict[str, PhaseValue]:
    if not isinstance(text, str):
        raise DamagedTraceError(f"phases are stored as {type(text).__name__}, not text")
    try:
        # 1e999 parses as inf, which _clean_phases refuses; NaN and Infinity never get there.
        loaded = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise DamagedTraceError(f"phases are not JSON ({error})") from None
    return _clean_phases(loaded)


def trace_row(message_id: int, trace: TraceRecord) -> MessageTrace:
    """The row storing `trace`; ValueError when it holds something it could not be read back
    as (a NaN latency, a phase that is not a scalar)."""
    return MessageTrace(
        message_id=message_id,
        format=TRACE_FORMAT,
        phases_json=phases_to_json(trace.phases),
        token_ms=pack_token_ms(trace.token_ms),
    )


def readable_trace(row: MessageTrace | None) -> TraceRecord | None:
    """The stored trace, or None when there is none or it is damaged (logged)."""
    if row is None:
        return None
    try:
        if isinstance(row.format, bool) or row.format != TRACE_FORMAT:
            raise DamagedTraceError(f"format {row.format!r} is not {TRACE_FORMAT}")
        return TraceRecord(phases_from_json(row.phases_json), unpack_token_ms(row.token_ms))
    except DamagedTraceError as error:
        log.warning("The trace of message %s is unreadable: %s", row.message_id, error)
        return None


class TraceRepository:
    """Traces on their own, for the timing view; finishing a reply stores its trace in the
    same transaction (MessageRepository.finish_reply's `trace`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, message_id: int, trace: TraceRecord) -> None:
        """Store or replace the trace of a message; RecordNotFoundError when there is no
        such message, ValueError when the trace could not be read back."""
        row = trace_row(message_id, trace)  # refuses a bad trace before touching the file
        with self._db.session() as session:
            if session.get(Message, message_id) is None:
                raise RecordNotFoundError(f"Message {message_id} does not exist.")
            session.merge(row)

    def get(self, message_id: int) -> TraceRecord | None:
        """The trace of a message; None when it has none (a reply from before traces, a
        user message) or it is damaged."""
        with self._db.session() as session:
            return readable_trace(session.get(MessageTrace, message_id))
