"""Conversation and message storage for the app layer. Every method runs its own short
session and returns frozen records, so callers never hold ORM objects or sessions."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.errors import RecordNotFoundError
from storage.message_versions import MessageVersions, with_version
from storage.models import Conversation, GenerationStats, Message, utc_now
from storage.record_mapping import (
    context_json,
    conversation_record,
    message_record,
    outside_ids,
    stats_row,
)
from storage.records import (
    ConversationRecord,
    MessageRecord,
    MessageStatus,
    Role,
    StatsRecord,
    TitleSource,
    TraceRecord,
)
from storage.sampling_values import clean_sampling, sampling_to_json
from storage.traces import trace_row

if TYPE_CHECKING:
    from storage.database import Database

log = logging.getLogger(__name__)

DEFAULT_TITLE = "New chat"


def _live_conversation(session: Session, conversation_id: int) -> Conversation:
    row = session.get(Conversation, conversation_id)
    if row is None or row.deleted_at is not None:
        raise RecordNotFoundError(f"Conversation {conversation_id} does not exist.")
    return row


def _touch(session: Session, conversation_id: int) -> None:
    session.execute(
        update(Conversation).where(Conversation.id == conversation_id).values(updated_at=utc_now())
    )


class ConversationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self, title: str = DEFAULT_TITLE, title_source: TitleSource = TitleSource.AUTO
    ) -> ConversationRecord:
        now = utc_now()
        with self._db.session() as session:
            row = Conversation(
                title=title.strip() or DEFAULT_TITLE,
                title_source=TitleSource(title_source).value,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return conversation_record(row)

    def get(self, conversation_id: int) -> ConversationRecord | None:
        """None when missing or in the trash."""
        with self._db.session() as session:
            row = session.get(Conversation, conversation_id)
            if row is None or row.deleted_at is not None:
                return None
            return conversation_record(row)

    def list_recent(self) -> list[ConversationRecord]:
        """Conversations not in the trash: pinned ones first, then by last activity."""
        query = (
            select(Conversation)
            .where(Conversation.deleted_at.is_(None))
            .order_by(
                Conversation.pinned.desc(), Conversation.updated_at.desc(), Conversation.id.desc()
            )
        )
        with self._db.session() as session:
            return [conversation_record(row) for row in session.scalars(query)]

    def list_deleted(self) -> list[ConversationRecord]:
        """The trash, most recently deleted first."""
        query = (
            select(Conversation)
            .where(Conversation.deleted_at.is_not(None))
            .order_by(Conversation.deleted_at.desc(), Conversation.id.desc())
        )
        with self._db.session() as session:
            return [conversation_record(row) for row in session.scalars(query)]

    def rename(self, conversation_id: int, title: str) -> ConversationRecord:
        """The user's own title: automatic titles never replace it. Blank titles keep the old
        one. Renaming is not activity: the order stays."""
        with self._db.session() as session:
            row = _live_conversation(session, conversation_id)
            if title.strip():
                row.title = title.strip()
                row.title_source = TitleSource.USER.value
            return conversation_record(row)

    def set_automatic_title(
        self, conversation_id: int, title: str, source: TitleSource = TitleSource.AUTO
    ) -> bool:
        """Set a title Hearth chose, unless the user typed one; True when it was set.

        One conditional UPDATE, so a rename that lands while a title is being generated
        always wins, whichever comes first."""
        if not title.strip() or source is TitleSource.USER:
            return False
        with self._db.session() as session:
            changed = session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.deleted_at.is_(None),
                    Conversation.title_source != TitleSource.USER.value,
                )
                .values(title=title.strip(), title_source=TitleSource(source).value)
            ).rowcount
        return changed == 1

    def set_sampling(
        self, conversation_id: int, values: dict[str, float | int] | None
    ) -> ConversationRecord:
        """This chat's own sampling values; None or {} goes back to the model's defaults."""
        clean = clean_sampling(values or {})
        with self._db.session() as session:
            row = _live_conversation(session, conversation_id)
            row.sampling_json = sampling_to_json(clean) if clean else None
            return conversation_record(row)

    def set_pinned(self, conversation_id: int, pinned: bool) -> ConversationRecord:
        with self._db.session() as session:
            row = _live_conversation(session, conversation_id)
            row.pinned = pinned
            return conversation_record(row)

    def set_system_prompt(self, conversation_id: int, prompt: str | None) -> ConversationRecord:
        """A blank prompt clears it (the model's default behaviour)."""
        with self._db.session() as session:
            row = _live_conversation(session, conversation_id)
            row.system_prompt = prompt.strip() if prompt and prompt.strip() else None
            return conversation_record(row)

    def delete(self, conversation_id: int) -> None:
        """Move to the trash; restore() undoes it until purge_deleted()."""
        with self._db.session() as session:
            row = session.get(Conversation, conversation_id)
            if row is None:
                raise RecordNotFoundError(f"Conversation {conversation_id} does not exist.")
            if row.deleted_at is None:
                row.deleted_at = utc_now()

    def restore(self, conversation_id: int) -> ConversationRecord:
        with self._db.session() as session:
            row = session.get(Conversation, conversation_id)
            if row is None:
                raise RecordNotFoundError(f"Conversation {conversation_id} does not exist.")
            row.deleted_at = None
            return conversation_record(row)

    def purge_deleted(self, older_than: timedelta | None = None) -> int:
        """Really delete trashed conversations (messages and stats cascade); returns the count."""
        statement = delete(Conversation).where(Conversation.deleted_at.is_not(None))
        if older_than is not None:
            statement = statement.where(Conversation.deleted_at <= utc_now() - older_than)
        with self._db.session() as session:
            return session.execute(statement).rowcount

    def discard_if_empty(self, conversation_id: int) -> bool:
        """Delete for good a conversation without messages (a new chat nobody wrote in);
        returns whether it was deleted."""
        holds_messages = select(Message.id).where(Message.conversation_id == conversation_id)
        statement = delete(Conversation).where(
            Conversation.id == conversation_id, ~holds_messages.exists()
        )
        with self._db.session() as session:
            return bool(session.execute(statement).rowcount)


class MessageRepository(MessageVersions):
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        conversation_id: int,
        role: Role,
        content: str,
        *,
        parent_id: int | None = None,
        status: MessageStatus = MessageStatus.COMPLETE,
    ) -> MessageRecord:
        """Append a message (also marks the conversation as active)."""
        now = utc_now()
        with self._db.session() as session:
            _live_conversation(session, conversation_id)
            if parent_id is not None:
                parent = session.get(Message, parent_id)
                if parent is None or parent.conversation_id != conversation_id:
                    raise RecordNotFoundError(
                        f"Message {parent_id} is not in conversation {conversation_id}."
                    )
            row = Message(
                conversation_id=conversation_id,
                parent_id=parent_id,
                role=Role(role).value,
                content=content,
                status=MessageStatus(status).value,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            # A new version (an edit, a regeneration) is the one shown from now on.
            if parent_id is not None:
                session.execute(
                    update(Message).where(Message.id == parent_id).values(active_child_id=row.id)
                )
            else:
                session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id)
                    .values(active_root_id=row.id)
                )
            _touch(session, conversation_id)
            return message_record(row)

    def start_reply(self, conversation_id: int, parent_id: int) -> MessageRecord:
        """The empty assistant row that streamed text is flushed into."""
        return self.add(
            conversation_id,
            Role.ASSISTANT,
            "",
            parent_id=parent_id,
            status=MessageStatus.STREAMING,
        )

    def update_partial(self, message_id: int, content: str) -> None:
        """Save the text so far (called about once a second while streaming): one UPDATE.

        Only touches a row still streaming, so a late flush cannot overwrite a finished reply.
        """
        with self._db.session() as session:
            session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == MessageStatus.STREAMING.value)
                .values(content=content, updated_at=utc_now())
            )

    def finish_reply(
        self,
        message_id: int,
        content: str,
        status: MessageStatus,
        *,
        stats: StatsRecord | None = None,
        error: str | None = None,
        trace: TraceRecord | None = None,
    ) -> MessageRecord:
        """Store how a reply ended, with its stats and its trace (storage.traces) in the same
        transaction. A trace that could not be read back is left out (logged): the reply
        matters more than its timings."""
        if status in (MessageStatus.STREAMING, MessageStatus.DAMAGED):
            raise ValueError(f"a finished reply cannot have status {status}")
        with self._db.session() as session:
            row = session.get(Message, message_id)
            if row is None:
                raise RecordNotFoundError(f"Message {message_id} does not exist.")
            row.content = content
            row.status = MessageStatus(status).value
            row.error = error
            row.updated_at = utc_now()
            # merge: finishing twice (a retry) replaces the stats rather than failing.
            stats_orm = (
                session.merge(stats_row(message_id, stats))
                if stats is not None
                else session.get(GenerationStats, message_id)
            )
            if trace is not None:
                try:
                    session.merge(trace_row(message_id, trace))
                except ValueError as exc:
                    log.warning("Not storing the trace of message %s: %s", message_id, exc)
            _touch(session, row.conversation_id)
            session.flush()
            return with_version(session, message_record(row, stats_orm))

    def discard_reply(self, message_id: int) -> bool:
        """Delete a reply that never got any text (stopped before its first token) and has
        no replies of its own; the version shown under its parent goes back to the newest
        one left. Returns False (and keeps the row) when it is not such a reply."""
        with self._db.session() as session:
            row = session.get(Message, message_id)
            if row is None or row.role != Role.ASSISTANT.value or row.content:
                return False
            if session.scalar(select(Message.id).where(Message.parent_id == message_id)):
                return False
            if row.parent_id is not None:
                session.execute(
                    update(Message)
                    .where(Message.id == row.parent_id, Message.active_child_id == message_id)
                    .values(active_child_id=None)
                )
            # Core DELETE: its stats row (if any) goes by the foreign key's cascade.
            session.execute(delete(Message).where(Message.id == message_id))
            return True

    def get(self, message_id: int) -> MessageRecord | None:
        query = (
            select(Message, GenerationStats)
            .outerjoin(GenerationStats, GenerationStats.message_id == Message.id)
            .where(Message.id == message_id)
        )
        with self._db.session() as session:
            found = session.execute(query).first()
            if found is None:
                return None
            return with_version(session, message_record(found[0], found[1]))

    def get_many(self, message_ids: Sequence[int]) -> list[MessageRecord]:
        """Records for `message_ids`, in that order (missing ids are skipped)."""
        found: dict[int, MessageRecord] = {}
        with self._db.session() as session:
            for start in range(0, len(message_ids), 500):  # SQLite's bound-parameter limit
                chunk = message_ids[start : start + 500]
                query = (
                    select(Message, GenerationStats)
                    .outerjoin(GenerationStats, GenerationStats.message_id == Message.id)
                    .where(Message.id.in_(chunk))
                )
                for m, stats in session.execute(query):
                    found[m.id] = message_record(m, stats)
        return [found[i] for i in message_ids if i in found]

    def set_outside_view(self, message_id: int, outside: Collection[int]) -> None:
        """Remember which messages were left out of the model's view for this reply."""
        context = context_json(outside)
        with self._db.session() as session:
            session.execute(
                update(Message).where(Message.id == message_id).values(context_json=context)
            )

    def outside_views(self, conversation_id: int) -> dict[int, frozenset[int]]:
        """Every reply of the chat that had to leave messages out → those messages."""
        query = select(Message.id, Message.context_json).where(
            Message.conversation_id == conversation_id, Message.context_json.is_not(None)
        )
        with self._db.session() as session:
            found = {i: outside_ids(context) for i, context in session.execute(query)}
        return {i: ids for i, ids in found.items() if ids}

    def outside_view(self, conversation_id: int, shown_ids: Collection[int]) -> frozenset[int]:
        """Messages the model did not see when it wrote the newest reply among `shown_ids`
        that had to leave some out: the transcript marks them (empty when none did)."""
        shown = shown_ids if isinstance(shown_ids, set | frozenset) else set(shown_ids)
        query = (
            select(Message.id, Message.context_json)
            .where(Message.conversation_id == conversation_id, Message.context_json.is_not(None))
            .order_by(Message.id.desc())
        )
        with self._db.session() as session:
            for message_id, context in session.execute(query):
                if message_id in shown:
                    return outside_ids(context)
        return frozenset()

    def mark_streaming_interrupted(self) -> int:
        """Replies left 'streaming' by a crash become 'interrupted'; returns how many."""
        with self._db.session() as session:
            return session.execute(
                update(Message)
                .where(Message.status == MessageStatus.STREAMING.value)
                .values(status=MessageStatus.INTERRUPTED.value, updated_at=utc_now())
            ).rowcount
