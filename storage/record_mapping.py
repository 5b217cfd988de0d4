"""Rows to frozen records. Tolerant on purpose: a value this version does not know (say, a
status added by a newer Hearth) yields a DAMAGED record with its content, never an exception."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import fields
from enum import StrEnum
from typing import TypeVar

from storage.models import Conversation, GenerationStats, Message
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


def conversation_record(row: Conversation) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        title=row.title,
        created_at=row.created_at,
        updated_at=row.updated_at,
        pinned=bool(row.pinned),
        system_prompt=row.system_prompt,
        sampling=sampling_from_json(row.sampling_json),
        # An unknown source (a newer Hearth's) is treated as typed: never overwritten.
        title_source=_known(TitleSource, row.title_source) or TitleSource.USER,
    )


def stats_record(row: GenerationStats | None) -> StatsRecord | None:
    if row is None:
        return None
    return StatsRecord(**{name: getattr(row, name) for name in STATS_FIELDS})


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
    if role is None or status is None:
        log.warning("Message %s has unknown role=%r status=%r", row.id, row.role, row.status)
        status = MessageStatus.DAMAGED
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        parent_id=row.parent_id,
        role=role or Role.ASSISTANT,
        content=row.content if row.content is not None else "",
        status=status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        error=row.error,
        stats=stats_record(stats),
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
