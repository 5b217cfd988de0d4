"""Full-text search: FTS5 index kept by triggers, safe queries, diacritics and CJK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from storage import migrate
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageStatus, Role
from storage.search import HIT_END, HIT_START, SearchRepository, match_expression


@pytest.fixture
def search(db: Database) -> SearchRepository:
    return SearchRepository(db)


def add_chat(
    conversations: ConversationRepository, messages: MessageRepository, title: str, *texts: str
) -> list[int]:
    conversation = conversations.create(title)
    ids: list[int] = []
    parent = None
    for n, body in enumerate(texts):
        role = Role.USER if n % 2 == 0 else Role.ASSISTANT
        parent = messages.add(conversation.id, role, body, parent_id=parent).id
        ids.append(parent)
    return ids


def test_words_are_found_with_highlighted_snippets_across_conversations(
    conversations: ConversationRepository, messages: MessageRepository, search: SearchRepository
) -> None:
    soup = add_chat(conversations, messages, "Soup", "How do I make onion soup?", "Slice onions.")
    add_chat(conversations, messages, "Trains", "When does the train to Lyon leave?", "At nine.")
    hits = search.search("make onion")
    assert [h.message_id for h in hits] == [soup[0]]
    hit = hits[0]
    assert hit.conversation_title == "Soup" and hit.role is Role.USER
    assert f"{HIT_START}onion{HIT_END}" in hit.snippet
    # The last word may still be being typed: it matches as a prefix.
    assert {h.message_id for h in search.search("onio")} == set(soup)


def test_diacritics_and_case_are_ignored(
    conversations: ConversationRepository, messages: MessageRepository, search: SearchRepository
) -> None:
    [cv] = add_chat(conversations, messages, "Jobs", "Voici mon Résumé, très détaillé")
    assert [h.message_id for h in search.search("resume")] == [cv]
    assert [h.message_id for h in search.search("TRES DETAILLE")] == [cv]


def test_cjk_text_is_found_by_any_run_of_characters(
    conversations: ConversationRepository, messages: MessageRepository, search: SearchRepository
) -> None:
    [tokyo, kana] = add_chat(
        conversations, messages, "旅行", "東京都の天気は晴れです", "ソウルは서울입니다"
    )
    assert [h.message_id for h in search.search("天気")] == [tokyo]
    assert [h.message_id for h in search.search("京都")] == [tokyo]
    assert [h.message_id for h in search.search("서울")] == [kana]
    assert search.search("都京") == []  # characters must be adjacent and in order
    snippet = search.search("天気")[0].snippet
    assert "\u200b" not in snippet and f"{HIT_START}天気{HIT_END}" in snippet


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "a*b", "NEAR(a b)", "AND OR NOT", "col:value", "^start", "-x", 'say "hi'],
)
def test_fts_syntax_in_a_query_is_plain_text(
    conversations: ConversationRepository,
    messages: MessageRepository,
    search: SearchRepository,
    query: str,
) -> None:
    """FTS5 operators typed in a query are searched for as the text they are: the message
    that holds the query literally is found, and only that one."""
    [literal] = add_chat(conversations, messages, "Syntax", f"the manual says {query} here")
    add_chat(conversations, messages, "Other", "nothing alike in this one")
    assert [h.message_id for h in search.search(query)] == [literal]


@pytest.mark.parametrize("query", ['"', "(((", "*", "^", "-", ":"])
def test_a_query_of_fts_punctuation_alone_finds_nothing(
    conversations: ConversationRepository,
    messages: MessageRepository,
    search: SearchRepository,
    query: str,
) -> None:
    """Punctuation is not indexed (it separates words), so there is nothing to find."""
    add_chat(conversations, messages, "Syntax", f"the manual says {query} here")
    assert search.search(query) == []


_SYNTAX = [*"\"*()^-+:{}[],.\\'\x00\x1f\u200b\u0301 \t\n", "NEAR", "OR", "AND", "NOT"]


@settings(max_examples=300, deadline=None)
@given(
    query=st.lists(st.sampled_from([*_SYNTAX, "a", "ß", "İ", "東京", "🎉", "١"]), max_size=12).map(
        "".join
    )
    | st.text(max_size=24)
)
def test_no_query_of_any_characters_makes_search_fail(
    search_with_text: SearchRepository, query: str
) -> None:
    search_with_text.search(query)  # never raises


@pytest.fixture(scope="module")
def search_with_text(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchRepository]:
    db, _ = Database.open(tmp_path_factory.mktemp("fuzz") / "hearth.db")
    chat = ConversationRepository(db).create("Fuzz")
    MessageRepository(db).add(chat.id, Role.USER, 'NEAR(a b) "q" x* (((p ß İ 東京 🎉 ١٢٣')
    yield SearchRepository(db)
    db.close()


def test_match_expression_quotes_every_term() -> None:
    assert match_expression('say "hi" NEAR(x') == '"say" """hi""" "NEAR(x"*'
    assert match_expression("   ") is None and match_expression('" * (') is None


def test_edits_streaming_and_trash_are_reflected(
    conversations: ConversationRepository, messages: MessageRepository, search: SearchRepository
) -> None:
    [question] = add_chat(conversations, messages, "Live", "tell me about glaciers")
    conversation_id = messages.get(question).conversation_id  # type: ignore[union-attr]
    reply = messages.start_reply(conversation_id, question)
    messages.update_partial(reply.id, "Glaciers are rivers of ice")
    assert {h.message_id for h in search.search("rivers")} == {reply.id}
    messages.finish_reply(reply.id, "Glaciers are slow rivers of ice", MessageStatus.COMPLETE)
    assert {h.message_id for h in search.search("slow rivers")} == {reply.id}
    conversations.delete(conversation_id)
    assert search.search("glaciers") == []  # the trash is not searched
    conversations.restore(conversation_id)
    assert len(search.search("glaciers")) == 2
    conversations.delete(conversation_id)
    conversations.purge_deleted()
    assert search.search("glaciers") == []


def test_upgrading_from_0003_indexes_existing_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0003")
        connection.execute(
            text(
                "INSERT INTO conversations (id, title, created_at, updated_at) "
                "VALUES (1, 'Old', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO messages (id, conversation_id, role, content, status, created_at, "
                "updated_at) VALUES (1, 1, 'user', 'ancient café question', 'complete', "
                "'2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
    engine.dispose()
    db, _ = Database.open(path)
    try:
        [hit] = SearchRepository(db).search("cafe")
        assert hit.message_id == 1 and hit.conversation_title == "Old"
        assert hit.created_at.year == 2025
    finally:
        db.close()
