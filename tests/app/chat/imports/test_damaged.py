"""Hostile or damaged exports of other apps: refused with a message that says where and what,
nothing imported, no loop and no crash (the guards of Hearth's own JSON import)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import app.chat.importer
from app.chat.importer import ChatImportError
from app.chat.imports.sources import UNKNOWN, identify, import_path
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import Role
from tests.support.chat_samples import open_database
from tests.support.foreign_exports import (
    chatgpt_export,
    jan_thread,
    lm_studio_conversation,
    open_webui_export,
    row_counts,
    write_jan_thread,
    write_json,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "data" / "hearth.db")
    # Something already there: a refused import leaves it exactly as it was.
    chat = ConversationRepository(database).create("Already here")
    MessageRepository(database).add(chat.id, Role.USER, "keep me")
    yield database
    database.close()


def _refused(db: Database, path: Path, match: str) -> None:
    with pytest.raises(ChatImportError, match=match):
        import_path(db, path)
    assert row_counts(db) == (1, 1)


def test_identify_tells_the_formats_apart_by_content() -> None:
    thread, lines = jan_thread()
    assert identify(chatgpt_export()) == "ChatGPT"
    assert identify(open_webui_export()) == "Open WebUI"
    assert identify([open_webui_export()[0]["chat"]]) == "Open WebUI"  # the older, bare chat
    assert identify(lm_studio_conversation()) == "LM Studio"
    assert identify(thread) == identify(lines[0]) == "Jan"
    assert identify({"format": "hearth-chat", "version": 2}) == "Hearth"
    for other in ([], {}, [1], {"messages": [{"role": "user"}]}, "text", None):
        assert identify(other) is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"messages": []}', UNKNOWN),
        ("[]", UNKNOWN),
        ('[{"title": "x"}]', UNKNOWN),
        ('"just text"', UNKNOWN),
        ("{}\n{}\n", "The file is not valid JSON (line 2, column 1: Extra data)."),
    ],
)
def test_unknown_content_is_named(db: Database, tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "conversations.json"  # the name does not make it ChatGPT's
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ChatImportError) as caught:
        import_path(db, path)
    assert str(caught.value) == f"conversations.json: {problem}"
    assert row_counts(db) == (1, 1)


def test_a_zip_is_refused_with_what_to_do(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    _refused(db, path, "unpack it and import the conversations.json inside")


def _chatgpt(change: Callable[[Any], None]) -> Any:
    document = chatgpt_export()
    change(document[0]["mapping"])
    return document


def _cycle(mapping: Any) -> None:
    mapping["u1"]["parent"] = "a3"  # u1 → … → a3 → u1


def _missing_parent(mapping: Any) -> None:
    mapping["a3"]["parent"] = "gone"


def _parts_not_a_list(mapping: Any) -> None:
    mapping["a1"]["message"]["content"]["parts"] = "Go north."


def _role_a_number(mapping: Any) -> None:
    mapping["u1"]["message"]["author"]["role"] = 7


def _time_far_future(mapping: Any) -> None:
    mapping["a1"]["message"]["create_time"] = 1e20


def _time_text(mapping: Any) -> None:
    mapping["a1"]["message"]["create_time"] = "yesterday"


def _time_true(mapping: Any) -> None:
    mapping["a1"]["message"]["create_time"] = True


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_cycle, r"Conversation 1 \('Coast trip'\): the messages' parents form a cycle"),
        (_missing_parent, r"message 'a3' answers 'gone', which is not in the chat"),
        (_parts_not_a_list, r"message 'a1'.*\"parts\" must be a list, not text"),
        (_role_a_number, r"message 'u1'.*\"role\" must be text, not a number"),
        (_time_far_future, r"\"create_time\" is not a sane date"),
        (_time_text, r"\"create_time\" is not a date and time \('yesterday'\)"),
        (_time_true, r"\"create_time\" must be a number, not true/false"),
    ],
)
def test_damaged_chatgpt_files_import_nothing(
    db: Database, tmp_path: Path, change: Callable[[Any], None], match: str
) -> None:
    _refused(db, write_json(tmp_path / "c.json", _chatgpt(change)), match)


def test_a_long_chain_closed_into_a_cycle_neither_loops_nor_recurses(
    db: Database, tmp_path: Path
) -> None:
    links = 200_000
    mapping = {
        str(n): {"id": str(n), "parent": str(n - 1 if n else links - 1), "message": None}
        for n in range(links)
    }
    _refused(db, write_json(tmp_path / "c.json", [{"title": "x", "mapping": mapping}]), "cycle")


def test_open_webui_cycle_and_wrong_types(db: Database, tmp_path: Path) -> None:
    document = open_webui_export()
    messages = document[0]["chat"]["history"]["messages"]
    messages["u1"]["parentId"] = "a1"
    _refused(db, write_json(tmp_path / "w.json", document), "cycle")
    document = open_webui_export()
    document[0]["chat"]["history"]["messages"]["a1"]["content"] = ["Blue."]
    _refused(db, write_json(tmp_path / "w.json", document), r'"content" must be null or text')
    document = open_webui_export()
    document[0]["chat"]["history"] = []
    _refused(db, write_json(tmp_path / "w.json", document), r'"history" must be an object')


def test_lm_studio_selected_version_out_of_range(db: Database, tmp_path: Path) -> None:
    document = lm_studio_conversation()
    document["messages"][1]["currentlySelected"] = 5
    _refused(db, write_json(tmp_path / "l.json", document), "it has 2 versions")
    document["messages"][1]["currentlySelected"] = 1
    document["messages"][1]["versions"][1]["type"] = "somethingNew"
    _refused(db, write_json(tmp_path / "l.json", document), "reads singleStep and multiStep")


def test_jan_bad_line_names_the_line(db: Database, tmp_path: Path) -> None:
    thread, lines = jan_thread()
    folder = write_jan_thread(tmp_path / "t", thread, lines)
    with (folder / "messages.jsonl").open("a", encoding="utf-8") as stream:
        stream.write('{"object": "thread.message", "role": "user", "content": [1]}\n')
    _refused(db, folder / "messages.jsonl", r"\"content\" must hold objects, not a number")
    (folder / "messages.jsonl").write_text(json.dumps(lines[0]) + "\n{not json\n", encoding="utf-8")
    _refused(db, folder / "messages.jsonl", "line 2: The file is not valid JSON")


def test_a_folder_without_jan_threads(db: Database, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _refused(db, tmp_path / "empty", "holds no Jan thread")


def test_one_bad_chat_of_many_imports_none(db: Database, tmp_path: Path) -> None:
    document = chatgpt_export()
    document[1]["mapping"]["a"]["parent"] = "nowhere"
    _refused(db, write_json(tmp_path / "c.json", document), r"Conversation 2 \('Sums'\)")


def test_too_large_files_and_messages(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = chatgpt_export()
    huge[0]["mapping"]["a1"]["message"]["content"]["parts"] = ["x" * (10 * 1024 * 1024 + 1)]
    _refused(db, write_json(tmp_path / "c.json", huge), r'"parts" is too long \(10.0 MB')
    monkeypatch.setattr(app.chat.importer, "MAX_FILE_BYTES", 1000)
    _refused(db, write_json(tmp_path / "c.json", chatgpt_export()), "too large to import")
    thread, lines = jan_thread()
    folder = write_jan_thread(tmp_path / "jan" / "threads" / "a", thread, lines * 5)
    monkeypatch.setattr("app.chat.imports.jan.MAX_FILE_BYTES", 3000)
    _refused(db, folder.parent, "too large to import")
