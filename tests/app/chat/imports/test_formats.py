"""Each other app's export, written to its documented shape, becomes Hearth chats: branches
kept as versions, the branch the app showed shown, what Hearth leaves out counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.chat.imports.sources import import_path
from storage.chats import ConversationRepository
from storage.database import Database
from tests.support.chat_samples import open_database
from tests.support.foreign_exports import (
    T0,
    chatgpt_export,
    jan_thread,
    lm_studio_conversation,
    open_webui_export,
    row_counts,
    shown_branch,
    write_jan_thread,
    write_json,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "data" / "hearth.db")
    yield database
    database.close()


def test_chatgpt_keeps_the_regenerated_answer_as_a_version_and_shows_current_node(
    db: Database, tmp_path: Path
) -> None:
    summary = import_path(db, write_json(tmp_path / "conversations.json", chatgpt_export()))
    assert summary.describe() == (
        "Imported 2 chats from ChatGPT (7 messages; 3 skipped: tool calls, images)"
    )
    trip, sums = summary.conversation_ids
    assert shown_branch(db, trip) == [
        ("user", "Plan a trip to the coast", "1/1"),
        ("assistant", "Go south, \n\nby train.", "2/2"),
        ("user", "Here?", "1/1"),
        ("assistant", "Yes, there.", "1/1"),  # answers the tool output: hangs on "Here?"
    ]
    assert shown_branch(db, sums) == [("user", "What is 2+2?", "1/1"), ("assistant", "4", "1/1")]
    record = ConversationRepository(db).get(trip)
    assert record is not None and record.title == "Coast trip"
    assert record.system_prompt is None  # the hidden system node is ChatGPT's, not the user's
    assert record.created_at.timestamp() == T0


def test_open_webui_shows_current_id_and_drops_the_reasoning_block(
    db: Database, tmp_path: Path
) -> None:
    summary = import_path(db, write_json(tmp_path / "chat-export-1.json", open_webui_export()))
    assert (
        summary.describe() == "Imported 1 chat from Open WebUI (3 messages; 1 skipped: reasoning)"
    )
    (chat,) = summary.conversation_ids
    assert shown_branch(db, chat) == [
        ("user", "Name a colour", "1/1"),
        ("assistant", "Blue.", "1/2"),  # currentId: the first answer, not the newest
    ]
    record = ConversationRepository(db).get(chat)
    assert record is not None
    assert (record.title, record.system_prompt, record.pinned) == (
        "Colours",
        "Answer in one word.",
        True,
    )


def test_lm_studio_versions_become_versions_and_the_selected_one_is_shown(
    db: Database, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "1717000000000.conversation.json", lm_studio_conversation())
    summary = import_path(db, path)
    assert summary.describe() == (
        "Imported 1 chat from LM Studio (5 messages; 2 skipped: images, tool calls)"
    )
    (chat,) = summary.conversation_ids
    assert shown_branch(db, chat) == [
        ("user", "Capital of France?", "1/1"),
        ("assistant", "It is Paris.", "2/2"),
        ("user", "And this one?", "1/1"),
        ("assistant", "Rome.", "1/1"),
    ]
    record = ConversationRepository(db).get(chat)
    assert record is not None and record.system_prompt == "Be brief."


@pytest.mark.parametrize("pick", ["messages.jsonl", "thread.json", "folder", "threads"])
def test_jan_thread_from_either_file_or_its_folder(db: Database, tmp_path: Path, pick: str) -> None:
    thread, lines = jan_thread()
    folder = write_jan_thread(tmp_path / "jan" / "threads" / "jan_1717000000", thread, lines)
    target = {
        "messages.jsonl": folder / "messages.jsonl",
        "thread.json": folder / "thread.json",
        "folder": folder,
        "threads": folder.parent.parent,  # Jan's data folder: every thread in threads/
    }[pick]
    summary = import_path(db, target)
    assert (
        summary.describe() == "Imported 1 chat from Jan (2 messages; 2 skipped: images, reasoning)"
    )
    (chat,) = summary.conversation_ids
    # In time order, although the file lists the newest first.
    assert shown_branch(db, chat) == [("user", "Hello", "1/1"), ("assistant", "Hi!", "1/1")]
    record = ConversationRepository(db).get(chat)
    assert record is not None and record.title == "Jan thread"


def test_a_jan_messages_file_of_one_line_and_without_thread_json(
    db: Database, tmp_path: Path
) -> None:
    _, lines = jan_thread()
    path = tmp_path / "messages.jsonl"
    path.write_text(json.dumps(lines[-1]) + "\n", encoding="utf-8")
    summary = import_path(db, path)
    assert summary.describe() == "Imported 1 chat from Jan (1 message)"
    assert shown_branch(db, summary.conversation_ids[0]) == [("user", "Hello", "1/1")]


def test_a_chat_with_nothing_to_keep_is_counted_not_imported(db: Database, tmp_path: Path) -> None:
    document = chatgpt_export()[1:]
    document[0]["mapping"] = {
        "root": {"id": "root", "message": None, "parent": None, "children": []}
    }
    summary = import_path(db, write_json(tmp_path / "c.json", document))
    assert (
        summary.describe() == "Imported 0 chats from ChatGPT (0 messages; 1 skipped: empty chats)"
    )
    assert row_counts(db) == (0, 0)
