"""Inserting whole conversation trees at once (chat import): all of them in one transaction,
so a failure halfway leaves the database exactly as it was.

The caller (app/chat/importer.py) validates untrusted input first; this module still refuses
trees that would break the database's own rules (a parent that is missing or forms a cycle).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from storage.errors import TreeShapeError
from storage.models import Conversation, Message
from storage.record_mapping import context_json, stats_row
from storage.records import MessageStatus, StatsRecord, TitleSource
from storage.sampling_values import clean_sampling, sampling_to_json

if TYPE_CHECKING:
    from storage.database import Database


@dataclass(frozen=True)
class NewMessage:
    """One message to insert. `key` and `parent_key` are the caller's ids (the ids in an
    export file); the database hands out new ones. Role and status are stored as given:
    values this version does not know load as DAMAGED, like rows from a newer Hearth."""

    key: int
    parent_key: int | None
    role: str
    content: str
    status: str
    created_at: datetime
    updated_at: datetime
    error: str | None = None
    stats: StatsRecord | None = None
    # Keys of the messages this reply's model could not see (the context was full).
    outside_keys: Sequence[int] = ()


@dataclass(frozen=True)
class NewConversation:
    title: str
    created_at: datetime
    updated_at: datetime
    messages: Sequence[NewMessage]
    pinned: bool = False
    system_prompt: str | None = None
    sampling: dict[str, float | int] = field(default_factory=dict)
    title_source: TitleSource = TitleSource.USER
    # Keys of the branch to show, from the first message on; empty: the newest versions.
    shown_keys: Sequence[int] = field(default_factory=tuple)


def insertion_order(messages: Sequence[NewMessage]) -> list[NewMessage]:
    """Parents before children; among messages ready at the same time, the smaller key first,
    so sibling versions keep their order (the newest version is the highest new id).

    Raises TreeShapeError for duplicate keys, unknown parents and cycles.
    """
    by_key: dict[int, NewMessage] = {}
    for message in messages:
        if message.key in by_key:
            raise TreeShapeError(f"message id {message.key} appears twice")
        by_key[message.key] = message
    children: dict[int | None, list[int]] = {}
    for message in messages:
        if message.parent_key is not None and message.parent_key not in by_key:
            raise TreeShapeError(
                f"message {message.key} names parent {message.parent_key}, "
                "which is not in the same conversation"
            )
        children.setdefault(message.parent_key, []).append(message.key)
    ready = list(children.get(None, []))
    heapq.heapify(ready)
    ordered: list[NewMessage] = []
    while ready:
        key = heapq.heappop(ready)
        ordered.append(by_key[key])
        for child in children.get(key, []):
            heapq.heappush(ready, child)
    if len(ordered) != len(messages):
        stuck = sorted(set(by_key) - {m.key for m in ordered})
        raise TreeShapeError(f"the parents of messages {stuck[:5]} form a cycle")
    return ordered


def insert_conversations(db: Database, conversations: Sequence[NewConversation]) -> list[int]:
    """Insert every conversation with all its messages and stats; returns the new
    conversation ids. One transaction: on any error nothing is inserted."""
    # Validate every tree before touching the database at all.
    orders = [insertion_order(c.messages) for c in conversations]
    with db.session() as session:
        return [
            _insert_one(session, c, order) for c, order in zip(conversations, orders, strict=True)
        ]


def _insert_one(session: Session, source: NewConversation, order: list[NewMessage]) -> int:
    sampling = clean_sampling(source.sampling)
    conversation = Conversation(
        title=source.title,
        created_at=source.created_at,
        updated_at=source.updated_at,
        pinned=source.pinned,
        system_prompt=source.system_prompt,
        sampling_json=sampling_to_json(sampling) if sampling else None,
        title_source=TitleSource(source.title_source).value,
    )
    session.add(conversation)
    session.flush()
    new_ids: dict[int, int] = {}
    rows: dict[int, Message] = {}
    for message in order:
        # Nothing is generating an imported reply; a half-written one was interrupted.
        status = message.status
        if status == MessageStatus.STREAMING.value:
            status = MessageStatus.INTERRUPTED.value
        row = Message(
            conversation_id=conversation.id,
            parent_id=None if message.parent_key is None else new_ids[message.parent_key],
            role=message.role,
            content=message.content,
            status=status,
            error=message.error,
            created_at=message.created_at,
            updated_at=message.updated_at,
        )
        session.add(row)
        session.flush()
        new_ids[message.key] = row.id
        rows[message.key] = row
        if message.stats is not None:
            session.add(stats_row(row.id, message.stats))
    for message in order:
        # Keys outside this conversation cannot be marked; they are dropped, not refused.
        outside = [new_ids[k] for k in message.outside_keys if k in new_ids]
        rows[message.key].context_json = context_json(outside)
    _choose_shown_branch(conversation, rows, source.shown_keys, new_ids)
    session.flush()
    return conversation.id


def _choose_shown_branch(
    conversation: Conversation,
    rows: dict[int, Message],
    shown_keys: Sequence[int],
    new_ids: dict[int, int],
) -> None:
    """Remember the versions the user had chosen. A key that is not a child of the previous
    one ends the walk; from there on the newest versions are shown, as for a fresh chat."""
    parent: int | None = None
    for key in shown_keys:
        if key not in rows or rows[key].parent_id != (None if parent is None else new_ids[parent]):
            return
        if parent is None:
            conversation.active_root_id = new_ids[key]
        else:
            rows[parent].active_child_id = new_ids[key]
        parent = key
