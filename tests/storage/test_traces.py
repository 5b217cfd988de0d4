"""A reply's trace (issue 12): stored with the reply, compactly; missing or damaged traces
read as none and never keep the reply from opening; deleting the reply removes it."""

from __future__ import annotations

import logging
import struct

import pytest
from sqlalchemy import text

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.errors import RecordNotFoundError
from storage.records import MessageStatus, Role, TraceRecord
from storage.traces import TraceRepository, pack_token_ms, unpack_token_ms
from tests.support.factories import make_stats

# Values float32 holds exactly, so the round trip compares equal.
TRACE = TraceRecord(
    phases={
        "queue_ms": 1.5,
        "prefill_ms": 120.25,
        "prefill_tokens": 96,
        "cache_miss": "system prompt changed",
        "loaded_model": False,
        "load_ms": None,
    },
    token_ms=(30.5, 12.25, 12.0, 0.0, 250.125),
)


def _reply(conversations: ConversationRepository, messages: MessageRepository) -> int:
    chat = conversations.create("timed")
    question = messages.add(chat.id, Role.USER, "how fast?")
    return messages.start_reply(chat.id, question.id).id


@pytest.fixture
def traces(db: Database) -> TraceRepository:
    return TraceRepository(db)


def test_finishing_a_reply_stores_its_trace_in_the_same_call(
    conversations: ConversationRepository, messages: MessageRepository, traces: TraceRepository
) -> None:
    reply = _reply(conversations, messages)
    assert traces.get(reply) is None  # still streaming: nothing yet

    messages.finish_reply(reply, "fast", MessageStatus.COMPLETE, stats=make_stats(), trace=TRACE)

    assert traces.get(reply) == TRACE
    # Finishing again without a trace (a retry of the save) keeps the one stored.
    messages.finish_reply(reply, "fast", MessageStatus.COMPLETE, stats=make_stats())
    assert traces.get(reply) == TRACE


def test_saving_replaces_a_trace_and_refuses_a_missing_message(
    conversations: ConversationRepository, messages: MessageRepository, traces: TraceRepository
) -> None:
    reply = _reply(conversations, messages)
    traces.save(reply, TRACE)
    newer = TraceRecord({"decode_ms": 4.0}, (1.0, 2.0))
    traces.save(reply, newer)
    assert traces.get(reply) == newer
    with pytest.raises(RecordNotFoundError):
        traces.save(reply + 100, TRACE)


@pytest.mark.parametrize(
    "trace",
    [
        TraceRecord({}, (1.0, float("nan"))),
        TraceRecord({}, (float("inf"),)),
        TraceRecord({}, (-1.0,)),
        TraceRecord({}, (1e39,)),  # beyond float32
        TraceRecord({"prefill_ms": float("nan")}),
        TraceRecord({"batches": [1, 2]}),  # type: ignore[dict-item]
    ],
    ids=["nan", "inf", "negative", "too-large", "nan-phase", "list-phase"],
)
def test_a_trace_that_could_not_be_read_back_is_refused(
    conversations: ConversationRepository,
    messages: MessageRepository,
    traces: TraceRepository,
    trace: TraceRecord,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reply = _reply(conversations, messages)
    with pytest.raises(ValueError):
        traces.save(reply, trace)
    # Finishing the reply with it still finishes the reply: only the trace is left out.
    with caplog.at_level(logging.WARNING, logger="storage.chats"):
        record = messages.finish_reply(reply, "done", MessageStatus.COMPLETE, trace=trace)
    assert record.status is MessageStatus.COMPLETE
    assert messages.get(reply).content == "done"  # type: ignore[union-attr]
    assert traces.get(reply) is None
    assert "Not storing the trace" in caplog.text


def test_stored_size_is_at_most_8_bytes_per_token(
    db: Database,
    conversations: ConversationRepository,
    messages: MessageRepository,
    traces: TraceRepository,
) -> None:
    n = 1000
    reply = _reply(conversations, messages)
    traces.save(reply, TraceRecord(dict(TRACE.phases), tuple(10.0 + i / 7 for i in range(n))))
    with db.session() as session:
        blob, phases = session.execute(
            text("SELECT length(token_ms), length(phases_json) FROM message_traces")
        ).one()
    assert blob == 4 * n
    assert (blob + phases) / n <= 8
    # float32 keeps ~7 significant digits: microseconds at these latencies.
    stored = traces.get(reply)
    assert stored is not None
    assert stored.token_ms == pytest.approx([10.0 + i / 7 for i in range(n)], rel=1e-6)


def test_packing_is_little_endian_float32() -> None:
    assert pack_token_ms([1.0, 0.5]) == struct.pack("<2f", 1.0, 0.5)
    assert unpack_token_ms(struct.pack("<2f", 2.0, 0.25)) == (2.0, 0.25)


def test_replies_from_before_traces_and_other_messages_have_none(
    conversations: ConversationRepository, messages: MessageRepository, traces: TraceRepository
) -> None:
    reply = _reply(conversations, messages)
    messages.finish_reply(reply, "old", MessageStatus.COMPLETE, stats=make_stats())
    question = messages.get(reply).parent_id  # type: ignore[union-attr]
    assert traces.get(reply) is None
    assert traces.get(question) is None  # type: ignore[arg-type]
    assert traces.get(reply + 100) is None


_F = struct.Struct("<f")

DAMAGE = {
    "blob-length": ("token_ms", b"\x00\x00\x80?\x00"),
    "blob-nan": ("token_ms", _F.pack(1.0) + _F.pack(float("nan"))),
    "blob-inf": ("token_ms", _F.pack(float("inf"))),
    "blob-negative": ("token_ms", _F.pack(-3.0)),
    "blob-as-text": ("token_ms", "not bytes"),
    "blob-as-number": ("token_ms", 8),
    "json-garbage": ("phases_json", "{queue_ms: 1"),
    "json-array": ("phases_json", "[1, 2]"),
    "json-nested": ("phases_json", '{"batches": {"1": 2}}'),
    "json-nan": ("phases_json", '{"prefill_ms": NaN}'),
    "json-overflow": ("phases_json", '{"prefill_ms": 1e999}'),
    "json-deep": ("phases_json", "[" * 100_000),
    "json-as-blob": ("phases_json", b'{"queue_ms": 1}'),
    "format-unknown": ("format", 2),
    "format-text": ("format", "one"),
}


@pytest.mark.parametrize(("column", "value"), DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_trace_reads_as_none_and_the_reply_still_opens(
    db: Database,
    conversations: ConversationRepository,
    messages: MessageRepository,
    traces: TraceRepository,
    column: str,
    value: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reply = _reply(conversations, messages)
    messages.finish_reply(reply, "answer", MessageStatus.COMPLETE, stats=make_stats(), trace=TRACE)
    # SQLite keeps what it is given whatever the column's type, as a damaged or hand-edited
    # file may.
    with db.session() as session:
        session.execute(text(f"UPDATE message_traces SET {column} = :v"), {"v": value})

    with caplog.at_level(logging.WARNING, logger="storage.traces"):
        assert traces.get(reply) is None
    assert "unreadable" in caplog.text
    shown = messages.active_path(messages.get(reply).conversation_id)  # type: ignore[union-attr]
    assert [m.content for m in shown] == ["how fast?", "answer"]
    assert shown[1].stats == make_stats()


def test_deleting_a_reply_or_purging_its_chat_removes_its_trace(
    db: Database,
    conversations: ConversationRepository,
    messages: MessageRepository,
    traces: TraceRepository,
) -> None:
    def stored() -> int:
        with db.session() as session:
            return int(session.execute(text("SELECT count(*) FROM message_traces")).scalar_one())

    # A reply stopped before its first token is discarded: its trace goes with it.
    empty = _reply(conversations, messages)
    traces.save(empty, TRACE)
    assert messages.discard_reply(empty)
    assert stored() == 0

    reply = _reply(conversations, messages)
    messages.finish_reply(reply, "kept", MessageStatus.COMPLETE, trace=TRACE)
    chat = messages.get(reply).conversation_id  # type: ignore[union-attr]
    conversations.delete(chat)  # the trash keeps the trace, so undo brings it back
    conversations.restore(chat)
    assert traces.get(reply) == TRACE
    conversations.delete(chat)
    assert conversations.purge_deleted() == 1
    assert stored() == 0
