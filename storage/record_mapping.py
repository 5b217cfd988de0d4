"""Rows to frozen records. Tolerant on purpose: a value this version does not know (say, a
status added by a newer Hearth) or cannot read (a timestamp that is not one, bytes where text
belongs, stats that are not numbers) yields a DAMAGED record with whatever text it has, never
an exception that would hide the conversation."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import fields
from enum import StrEnum
from typing import TypeVar

from storage.models import UNREADABLE_TIME, Conversation, GenerationStats, Message
from storage.records import (
    ConversationRecord,
    MessageRecord,
    MessageStatus,
    Role,
    StatsRecord,
    TitleSource,
)
from storage.sampling_values import sampling_from_json

log = logging.getLogger(__name__)

E = TypeVar("E", bound=StrEnum)

STATS_FIELDS = tuple(f.name for f in fields(StatsRecord))
_STATS_KINDS: dict[str, tuple[type, ...]] = {
    f.name: {"int": (int,), "float": (int, float), "str": (str,)}[str(f.type)]
    for f in fields(StatsRecord)
}


def _text(value: object) -> tuple[str, bool]:
    """A text column's value and whether it was really text (SQLite stores whatever it is
    given: a blob or a number can sit in a TEXT column of a damaged file)."""
    if isinstance(value, str):
        return value, True
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace"), False
    return ("" if value is None else str(value)), False


def conversation_record(row: Conversation) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        title=_text(row.title)[0],
        created_at=row.created_at,
        updated_at=row.updated_at,
        pinned=bool(row.pinned),
        system_prompt=row.system_prompt,
        sampling=sampling_from_json(row.sampling_json),
        # An unknown source (a newer Hearth's) is treated as typed: never overwritten.
        title_source=_known(TitleSource, row.title_source) or TitleSource.USER,
    )


def readable_stats(row: GenerationStats | None) -> tuple[StatsRecord | None, bool]:
    """The stats and whether they were readable: a value of the wrong kind drops them all
    rather than reaching the view as, say, text where a number is formatted."""
    if row is None:
        return None, True
    values = {name: getattr(row, name) for name in STATS_FIELDS}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, _STATS_KINDS[name]):
            log.warning("Stats of message %s have an unreadable %s", row.message_id, name)
            return None, False
    return StatsRecord(**values), True


def stats_row(message_id: int, stats: StatsRecord) -> GenerationStats:
    return GenerationStats(
        message_id=message_id, **{name: getattr(stats, name) for name in STATS_FIELDS}
    )


def _known(kind: type[E], value: object) -> E | None:
    try:
        return kind(value)
    except ValueError:
        return None


def message_record(row: Message, stats: GenerationStats | None = None) -> MessageRecord:
    role = _known(Role, row.role)
    status = _known(MessageStatus, row.status)
    content, content_ok = _text(row.content)
    error = None if row.error is None else _text(row.error)[0]
    record_stats, stats_ok = readable_stats(stats)
    times_ok = UNREADABLE_TIME not in (row.created_at, row.updated_at)
    if role is None or status is None or not (content_ok and stats_ok and times_ok):
        log.warning("Message %s is damaged (role=%r status=%r)", row.id, row.role, row.status)
        status = MessageStatus.DAMAGED
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        parent_id=row.parent_id,
        role=role or Role.ASSISTANT,
        content=content,
        status=status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        error=error,
        stats=record_stats,
    )


def context_json(outside: Collection[int]) -> str | None:
    """A reply's context_json: the ids of the messages the model could not see for it."""
    ids = sorted({i for i in outside if i > 0})  # the system prompt (-1) has no row
    return json.dumps({"outside_view": ids}) if ids else None


def outside_ids(context: str | None) -> frozenset[int]:
    """The ids in a reply's context_json; a damaged value marks nothing rather than failing."""
    if not context:
        return frozenset()
    try:
        ids = json.loads(context).get("outside_view", [])
        return frozenset(i for i in ids if isinstance(i, int) and not isinstance(i, bool))
    except (ValueError, AttributeError, TypeError):
        return frozenset()
