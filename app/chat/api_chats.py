"""API conversations kept as chats (issue 14): when the user asks for it (the API server
dialog's "Keep API conversations as chats"), each /v1/chat/completions request the window's
server answered is stored with its reply as a new chat, so it can be read, searched and
continued in the window like any other.

A kept chat is marked as from the API in its title ("API · " and the first user message's
first words), kept as a title the user chose (TitleSource.USER), so an automatic title never
removes the mark. The request's system messages become the chat's system prompt; its user and
assistant messages the chat's messages in order; the reply its last message, with the stats
the engine measured. Tool, function and other roles are left out (the chat has no place for
them). Qt-free: one short transaction, any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from inference.protocol import ChatMessage, Done, ErrorKind
from storage.bulk_import import NewConversation, NewMessage, insert_conversations
from storage.database import Database
from storage.models import utc_now
from storage.records import MessageStatus, Role, StatsRecord, TitleSource

API_MARK = "API · "
TITLE_CHARS = 48  # of the first user message, as the chat's own first-words titles


def api_chat_title(messages: Sequence[ChatMessage]) -> str:
    """ "API · " and the first words of the first user message (its first line)."""
    first = next((m.content for m in messages if m.role == Role.USER and m.content.strip()), "")
    line = " ".join(first.strip().splitlines()[0].split()) if first.strip() else ""
    if len(line) > TITLE_CHARS:
        line = line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
    return API_MARK + (line or "a request without a user message")


def keep_api_chat(db: Database, messages: Sequence[ChatMessage], done: Done) -> int:
    """Store the request's `messages` and the reply `done` as a new chat; returns its id.
    A reply its client stopped (it went away) is kept as interrupted. Raises DatabaseError."""
    now = utc_now()
    system = "\n\n".join(m.content for m in messages if m.role == Role.SYSTEM and m.content)
    chain: list[NewMessage] = []
    for message in messages:
        if message.role in (Role.USER, Role.ASSISTANT):
            chain.append(_message(len(chain), message.role, message.content, now))
    stopped = done.stats.stop_reason == ErrorKind.CANCELLED
    chain.append(
        _message(
            len(chain),
            Role.ASSISTANT,
            done.text,
            now,
            status=MessageStatus.INTERRUPTED if stopped else MessageStatus.COMPLETE,
            stats=StatsRecord(**asdict(done.stats)),
        )
    )
    conversation = NewConversation(
        title=api_chat_title(messages),
        created_at=now,
        updated_at=now,
        messages=chain,
        system_prompt=system or None,
        title_source=TitleSource.USER,
    )
    [conversation_id] = insert_conversations(db, [conversation])
    return conversation_id


def _message(
    index: int,
    role: str,
    content: str,
    now: datetime,
    *,
    status: MessageStatus = MessageStatus.COMPLETE,
    stats: StatsRecord | None = None,
) -> NewMessage:
    return NewMessage(
        key=index + 1,
        parent_key=index if index else None,
        role=str(role),
        content=content,
        status=str(status),
        created_at=now,
        updated_at=now,
        stats=stats,
    )
