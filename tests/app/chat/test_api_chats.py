"""API conversations kept as chats (issue 14, app/chat/api_chats.py): a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.chat.api_chats import API_MARK, api_chat_title, keep_api_chat
from inference.protocol import ChatMessage, Done, ErrorKind, GenerationStats
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageStatus, Role, TitleSource


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database, _note = Database.open(tmp_path / "hearth.db")
    yield database
    database.close()


def _done(text: str, stop_reason: str = "stop") -> Done:
    stats = GenerationStats(
        "tiny", "chatml", 1024, 0, 12, 12, 3, 5.0, 100.0, 50.0, 80.0, stop_reason
    )
    return Done(1, text, stats)


def test_a_request_and_its_reply_become_a_chat_marked_as_from_the_api(db: Database) -> None:
    messages = (
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "What is the capital\nof France?"),
        ChatMessage("assistant", "Paris."),
        ChatMessage("tool", "{}"),  # no place for it in a chat
        ChatMessage("user", "And of Italy?"),
    )
    conversation_id = keep_api_chat(db, messages, _done("Rome."))

    conversation = ConversationRepository(db).get(conversation_id)
    assert conversation is not None
    assert conversation.title == "API · What is the capital"
    assert conversation.title_source == TitleSource.USER  # never replaced by an automatic one
    assert conversation.system_prompt == "Be brief."
    path = MessageRepository(db).active_path(conversation_id)
    assert [(m.role, m.content) for m in path] == [
        (Role.USER, "What is the capital\nof France?"),
        (Role.ASSISTANT, "Paris."),
        (Role.USER, "And of Italy?"),
        (Role.ASSISTANT, "Rome."),
    ]
    reply = path[-1]
    assert reply.status == MessageStatus.COMPLETE
    assert reply.stats is not None and reply.stats.completion_tokens == 3


def test_a_reply_its_client_stopped_is_kept_interrupted(db: Database) -> None:
    conversation_id = keep_api_chat(
        db, (ChatMessage("user", "Hi"),), _done("Hel", stop_reason=ErrorKind.CANCELLED)
    )
    [_user, reply] = MessageRepository(db).active_path(conversation_id)
    assert reply.status == MessageStatus.INTERRUPTED and reply.content == "Hel"


def test_titles_are_short_and_never_empty() -> None:
    long = ChatMessage("user", "word " * 40)
    title = api_chat_title((long,))
    assert title.startswith(API_MARK) and title.endswith("…")
    assert len(title) <= len(API_MARK) + 49
    assert api_chat_title((ChatMessage("system", "x"),)) == API_MARK + (
        "a request without a user message"
    )
