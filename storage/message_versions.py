"""A chat's message tree and its versions: edits and regenerations add siblings under one
parent, and the chat shows one chosen version of each. MessageRepository takes these queries
(the shown path, choosing another version) from MessageVersions; `with_version` gives any
record its place among its versions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Conversation, GenerationStats, Message
from storage.record_mapping import message_record
from storage.records import MessageRecord
from storage.tree import active_branch, shown_branch

if TYPE_CHECKING:
    from storage.database import Database


class MessageVersions:
    """The version queries of MessageRepository (a base class: it runs them on `_db`)."""

    _db: Database

    def active_path(self, conversation_id: int) -> list[MessageRecord]:
        """The conversation as shown: from the root, always the newest version of each reply.

        One query for all of the conversation's rows; the tree is walked in Python.
        """
        query = (
            select(Message, GenerationStats)
            .outerjoin(GenerationStats, GenerationStats.message_id == Message.id)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id)
        )
        with self._db.session() as session:
            records = [message_record(m, s) for m, s in session.execute(query)]
            chosen = chosen_versions(session, conversation_id)
        return active_branch(records, chosen)

    def shown_path(self, conversation_id: int) -> tuple[list[int], dict[int, tuple[int, int]]]:
        """Ids of the shown path and every message's (version, version count), reading only
        ids and links: a 10,000-message chat costs milliseconds; the records themselves
        are read a page at a time (get_many)."""
        table = Message.__table__.c
        query = (
            select(table.id, table.parent_id)
            .where(table.conversation_id == conversation_id)
            .order_by(table.id)
        )
        with self._db.session() as session:
            # Core rows, not the ORM's per-row loading: 10,000 pairs in ~6 ms instead of ~50.
            pairs = [(i, p) for i, p in session.connection().execute(query).all()]
            chosen = chosen_versions(session, conversation_id)
        return shown_branch(pairs, chosen)

    def select_version(self, message_id: int, step: int) -> int | None:
        """Show the version `step` places away (-1 older, +1 newer) from `message_id`;
        returns the id now shown, or None when there is no such version."""
        with self._db.session() as session:
            row = session.get(Message, message_id)
            if row is None:
                return None
            siblings = sibling_ids(session, row.conversation_id, row.parent_id)
            place = siblings.index(message_id) + step
            if not 0 <= place < len(siblings):
                return None
            target = siblings[place]
            if row.parent_id is None:
                session.execute(
                    update(Conversation)
                    .where(Conversation.id == row.conversation_id)
                    .values(active_root_id=target)
                )
            else:
                session.execute(
                    update(Message)
                    .where(Message.id == row.parent_id)
                    .values(active_child_id=target)
                )
            return target


def chosen_versions(session: Session, conversation_id: int) -> dict[int | None, int]:
    """parent id (None for the first message) → the version the user chose to see."""
    chosen: dict[int | None, int] = {
        parent: child
        for parent, child in session.execute(
            select(Message.id, Message.active_child_id).where(
                Message.conversation_id == conversation_id, Message.active_child_id.is_not(None)
            )
        )
    }
    root = session.scalar(
        select(Conversation.active_root_id).where(Conversation.id == conversation_id)
    )
    if root is not None:
        chosen[None] = root
    return chosen


def with_version(session: Session, record: MessageRecord) -> MessageRecord:
    """The record with its place among its versions (siblings under the same parent)."""
    siblings = sibling_ids(session, record.conversation_id, record.parent_id)
    if record.id not in siblings:
        return record
    return replace(record, version=siblings.index(record.id) + 1, version_count=len(siblings))


def sibling_ids(session: Session, conversation_id: int, parent_id: int | None) -> list[int]:
    """The versions under one parent (the first messages when parent_id is None), oldest first."""
    parent = Message.parent_id
    return list(
        session.scalars(
            select(Message.id)
            .where(
                Message.conversation_id == conversation_id,
                parent.is_(None) if parent_id is None else parent == parent_id,
            )
            .order_by(Message.id)
        )
    )
