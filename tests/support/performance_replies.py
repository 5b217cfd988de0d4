"""Stored replies for the Performance page's tests: a chat with one finished reply, its
stats and (optionally) its trace's phases, through the real repositories."""

from __future__ import annotations

from collections.abc import Mapping

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageStatus, PhaseValue, Role, StatsRecord, TraceRecord


def store_reply(
    db: Database,
    title: str,
    stats: StatsRecord,
    phases: Mapping[str, PhaseValue] | None = None,
) -> int:
    """A new chat titled `title` with one question and a finished reply; the reply's id."""
    conversations, messages = ConversationRepository(db), MessageRepository(db)
    chat = conversations.create(title)
    question = messages.add(chat.id, Role.USER, "q")
    reply = messages.start_reply(chat.id, question.id)
    trace = TraceRecord(phases, (20.0, 21.0)) if phases is not None else None
    messages.finish_reply(reply.id, "a", MessageStatus.COMPLETE, stats=stats, trace=trace)
    return reply.id
