from __future__ import annotations

from dataclasses import fields
from datetime import UTC, timedelta

import pytest
from sqlalchemy import text

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.errors import RecordNotFoundError
from storage.records import MessageStatus, Role, StatsRecord, TitleSource

STATS = StatsRecord(
    model="gemma-3-270m-Q4_K_M.gguf",
    chat_format="gemma",
    n_ctx=4096,
    n_gpu_layers=-1,
    prompt_tokens=120,
    prompt_tokens_evaluated=17,
    completion_tokens=42,
    ttft_ms=35.5,
    prefill_tps=812.25,
    decode_tps=97.125,
    total_ms=468.75,
    stop_reason="eos",
)


def test_conversations_newest_first_through_their_lifecycle(
    conversations: ConversationRepository, messages: MessageRepository
) -> None:
    first = conversations.create("  First  ")
    second = conversations.create()
    assert first.title == "First" and second.title == "New chat"
    assert first.created_at.tzinfo == UTC
    assert [c.id for c in conversations.list_recent()] == [second.id, first.id]

    messages.add(first.id, Role.USER, "bump")  # activity moves it to the top
    assert [c.id for c in conversations.list_recent()] == [first.id, second.id]

    assert conversations.rename(second.id, "  Plans ").title == "Plans"
    assert conversations.rename(second.id, "   ").title == "Plans"
    assert [c.id for c in conversations.list_recent()] == [first.id, second.id]

    conversations.delete(first.id)
    assert conversations.get(first.id) is None
    assert [c.id for c in conversations.list_recent()] == [second.id]
    assert [c.id for c in conversations.list_deleted()] == [first.id]
    with pytest.raises(RecordNotFoundError):
        conversations.rename(first.id, "nope")

    assert conversations.restore(first.id).id == first.id
    assert conversations.get(first.id) is not None
    assert {c.id for c in conversations.list_recent()} == {first.id, second.id}


def test_purge_removes_only_old_trash_and_cascades(
    db: Database, conversations: ConversationRepository, messages: MessageRepository
) -> None:
    kept = conversations.create("kept")
    trashed = conversations.create("trashed")
    user = messages.add(trashed.id, Role.USER, "q")
    reply = messages.start_reply(trashed.id, user.id)
    messages.finish_reply(reply.id, "a", MessageStatus.COMPLETE, stats=STATS)
    conversations.delete(trashed.id)

    assert conversations.purge_deleted(older_than=timedelta(days=30)) == 0
    assert conversations.purge_deleted() == 1
    assert conversations.list_deleted() == []
    assert conversations.get(kept.id) is not None
    assert messages.get(user.id) is None
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM generation_stats")).scalar() == 0


def test_missing_records(
    conversations: ConversationRepository, messages: MessageRepository
) -> None:
    assert conversations.get(999) is None
    assert messages.get(999) is None
    with pytest.raises(RecordNotFoundError):
        messages.add(999, Role.USER, "x")
    other = conversations.create()
    chat = conversations.create()
    foreign = messages.add(other.id, Role.USER, "elsewhere")
    with pytest.raises(RecordNotFoundError):
        messages.add(chat.id, Role.USER, "x", parent_id=foreign.id)


def test_streaming_reply_then_finish_round_trips_stats(
    conversations: ConversationRepository, messages: MessageRepository
) -> None:
    chat = conversations.create()
    user = messages.add(chat.id, Role.USER, "Hello?")
    reply = messages.start_reply(chat.id, user.id)
    assert (reply.role, reply.status, reply.content) == (
        Role.ASSISTANT,
        MessageStatus.STREAMING,
        "",
    )
    messages.update_partial(reply.id, "Hi")
    assert messages.get(reply.id).content == "Hi"  # type: ignore[union-attr]

    done = messages.finish_reply(reply.id, "Hi there.", MessageStatus.COMPLETE, stats=STATS)
    assert done.stats == STATS
    stored = messages.get(reply.id)
    assert stored is not None
    assert stored.content == "Hi there." and stored.status is MessageStatus.COMPLETE
    assert stored.stats is not None
    for field in fields(StatsRecord):
        assert getattr(stored.stats, field.name) == getattr(STATS, field.name), field.name

    # A late flush from the streaming timer must not clobber the final text.
    messages.update_partial(reply.id, "Hi th")
    assert messages.get(reply.id).content == "Hi there."  # type: ignore[union-attr]


def test_finish_with_error_keeps_partial_text(
    conversations: ConversationRepository, messages: MessageRepository
) -> None:
    chat = conversations.create()
    user = messages.add(chat.id, Role.USER, "q")
    reply = messages.start_reply(chat.id, user.id)
    failed = messages.finish_reply(
        reply.id, "partial", MessageStatus.ERROR, error="The model ran out of memory."
    )
    assert failed.status is MessageStatus.ERROR
    assert failed.error == "The model ran out of memory."
    assert failed.stats is None
    with pytest.raises(ValueError):
        messages.finish_reply(reply.id, "x", MessageStatus.STREAMING)


def test_active_path_follows_newest_regeneration(
    conversations: ConversationRepository, messages: MessageRepository
) -> None:
    chat = conversations.create()
    system = messages.add(chat.id, Role.SYSTEM, "Be brief.")
    question = messages.add(chat.id, Role.USER, "Why?", parent_id=system.id)
    old = messages.add(chat.id, Role.ASSISTANT, "Because.", parent_id=question.id)
    follow_up = messages.add(chat.id, Role.USER, "And?", parent_id=old.id)
    regenerated = messages.add(chat.id, Role.ASSISTANT, "Because, briefly.", parent_id=question.id)
    messages.add(conversations.create().id, Role.USER, "other chat")

    path = messages.active_path(chat.id)
    assert [m.id for m in path] == [system.id, question.id, regenerated.id]
    # The superseded branch is kept, just not shown.
    assert messages.get(old.id) is not None and messages.get(follow_up.id) is not None


def test_active_path_of_long_chat_is_linear(
    conversations: ConversationRepository, messages: MessageRepository
) -> None:
    chat = conversations.create()
    parent = None
    for i in range(300):
        parent = messages.add(
            chat.id,
            Role.USER if i % 2 == 0 else Role.ASSISTANT,
            str(i),
            parent_id=parent.id if parent else None,
        )
    path = messages.active_path(chat.id)
    assert [m.content for m in path] == [str(i) for i in range(300)]


def test_unknown_status_or_role_reads_as_damaged(
    db: Database, conversations: ConversationRepository, messages: MessageRepository
) -> None:
    chat = conversations.create()
    bad_status = messages.add(chat.id, Role.USER, "keep me")
    bad_role = messages.add(chat.id, Role.USER, "me too", parent_id=bad_status.id)
    with db.session() as session:
        session.execute(
            text("UPDATE messages SET status = 'bogus' WHERE id = :id"), {"id": bad_status.id}
        )
        session.execute(
            text("UPDATE messages SET role = 'tool' WHERE id = :id"), {"id": bad_role.id}
        )

    first = messages.get(bad_status.id)
    assert first is not None
    assert (first.status, first.role, first.content) == (
        MessageStatus.DAMAGED,
        Role.USER,
        "keep me",
    )
    path = messages.active_path(chat.id)
    assert [(m.status, m.role, m.content) for m in path] == [
        (MessageStatus.DAMAGED, Role.USER, "keep me"),
        (MessageStatus.DAMAGED, Role.ASSISTANT, "me too"),
    ]


def test_session_rolls_back_on_error(db: Database, conversations: ConversationRepository) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(
            text(
                "INSERT INTO conversations (title, created_at, updated_at) "
                "VALUES ('ghost', '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
            )
        )
        raise RuntimeError("boom")
    assert conversations.list_recent() == []


def test_automatic_titles_never_replace_one_the_user_typed(
    conversations: ConversationRepository,
) -> None:
    chat = conversations.create()
    assert chat.title_source is TitleSource.AUTO
    assert conversations.set_automatic_title(chat.id, "first words")
    assert conversations.set_automatic_title(chat.id, "Model title", TitleSource.MODEL)
    assert conversations.get(chat.id).title_source is TitleSource.MODEL  # type: ignore[union-attr]

    assert conversations.rename(chat.id, "Mine").title_source is TitleSource.USER
    assert not conversations.set_automatic_title(chat.id, "Late model title", TitleSource.MODEL)
    assert conversations.get(chat.id).title == "Mine"  # type: ignore[union-attr]
    conversations.delete(chat.id)
    other = conversations.create()
    conversations.delete(other.id)
    assert not conversations.set_automatic_title(other.id, "in the trash")


def test_a_chat_keeps_its_own_sampling_values_clean(
    conversations: ConversationRepository, db: Database
) -> None:
    chat = conversations.create()
    assert chat.sampling == {}
    mine = {"temperature": 0.2, "top_k": 12, "seed": 7, "max_tokens": 64.0, "bogus": 1}
    saved = conversations.set_sampling(chat.id, mine)  # type: ignore[arg-type]
    assert saved.sampling == {"temperature": 0.2, "top_k": 12, "seed": 7, "max_tokens": 64}
    assert conversations.get(chat.id).sampling == saved.sampling  # type: ignore[union-attr]
    with db.session() as session:  # a hand-damaged value loses the numbers, not the chat
        session.execute(text("UPDATE conversations SET sampling_json = '{oops'"))
    assert conversations.get(chat.id).sampling == {}  # type: ignore[union-attr]
    with db.session() as session:  # values llama.cpp could not use never reach it
        session.execute(
            text("UPDATE conversations SET sampling_json = :value"),
            {
                "value": '{"temperature": 1e300, "top_k": -5, "seed": 99999999999, '
                '"max_tokens": 0, "top_p": 0.5}'
            },
        )
    assert conversations.get(chat.id).sampling == {"top_p": 0.5}  # type: ignore[union-attr]
    assert conversations.set_sampling(chat.id, None).sampling == {}


def test_the_newest_trimmed_reply_on_the_shown_branch_names_what_was_left_out(
    conversations: ConversationRepository, messages: MessageRepository, db: Database
) -> None:
    chat = conversations.create()
    q1 = messages.add(chat.id, Role.USER, "one")
    a1 = messages.add(chat.id, Role.ASSISTANT, "1", parent_id=q1.id)
    q2 = messages.add(chat.id, Role.USER, "two", parent_id=a1.id)
    a2 = messages.add(chat.id, Role.ASSISTANT, "2", parent_id=q2.id)
    messages.set_outside_view(a2.id, [-1, q1.id])  # -1: the system prompt, no row
    shown = [q1.id, a1.id, q2.id, a2.id]
    assert messages.outside_view(chat.id, shown) == {q1.id}
    # Another version of the reply, not trimmed, is on a branch of its own.
    again = messages.add(chat.id, Role.ASSISTANT, "2 again", parent_id=q2.id)
    assert messages.outside_view(chat.id, [q1.id, a1.id, q2.id, again.id]) == frozenset()
    assert messages.outside_view(chat.id, shown) == {q1.id}
    with db.session() as session:
        session.execute(text("UPDATE messages SET context_json = '[1' WHERE id = :i"), {"i": a2.id})
    assert messages.outside_view(chat.id, shown) == frozenset()


def test_a_reply_stopped_before_its_first_token_is_discarded_and_the_older_version_shows(
    conversations: ConversationRepository, messages: MessageRepository
) -> None:
    chat = conversations.create()
    question = messages.add(chat.id, Role.USER, "q")
    answer = messages.start_reply(chat.id, question.id)
    messages.finish_reply(answer.id, "an answer", MessageStatus.COMPLETE, stats=STATS)
    retry = messages.start_reply(chat.id, question.id)  # Regenerate, then stopped at once
    assert [m.id for m in messages.active_path(chat.id)] == [question.id, retry.id]
    assert messages.discard_reply(retry.id)
    assert messages.get(retry.id) is None
    path = messages.active_path(chat.id)
    assert [m.id for m in path] == [question.id, answer.id]
    assert (path[-1].version, path[-1].version_count) == (1, 1)
    # Never a reply with text, nor a user's message.
    assert not messages.discard_reply(answer.id) and not messages.discard_reply(question.id)
    assert messages.get(answer.id) is not None and messages.get(question.id) is not None
