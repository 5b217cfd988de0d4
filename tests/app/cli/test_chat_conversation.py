"""`hearth chat --conversation ID` (issue 13): a stored chat continued from the command line,
the turn stored, and the next command's engine restoring the chat's kept KV state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import GuiParts, main
from app.config.paths import resolve_paths
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageStatus, Role
from tests.support.kept_states import HISTORY


class _NoGui:
    def __call__(self, *args: object) -> int:
        raise AssertionError("the chat command never opens the window")


def _stored_chat() -> int:
    database, _ = Database.open(resolve_paths().ensure().database)
    try:
        conversation = ConversationRepository(database).create("resume me")
        messages = MessageRepository(database)
        asked = messages.add(conversation.id, Role.USER, HISTORY)
        messages.add(conversation.id, Role.ASSISTANT, "the mat was good", parent_id=asked.id)
        return conversation.id
    finally:
        database.close()


def _turn(chat_id: int, text: str, model: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    argv = ["chat", "--conversation", str(chat_id), text, "--model", str(model)]
    argv += ["--max-tokens", "8", "--seed", "1", "--temperature", "0", "--json"]
    gui = GuiParts(open_window=_NoGui(), export_chats=_NoGui())  # type: ignore[arg-type]
    assert main(argv, gui=gui) == 0
    return dict(json.loads(capsys.readouterr().out.splitlines()[-1]))


def test_a_stored_chat_continues_and_the_next_process_restores_it(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chat_id = _stored_chat()
    first = _turn(chat_id, "go on", tiny_model, capsys)
    assert first["conversation_id"] == chat_id
    assert first["prompt_tokens_evaluated"] == first["prompt_tokens"]  # read in full

    second = _turn(chat_id, "and the dog", tiny_model, capsys)
    timeline = second["timeline"]
    assert timeline["kept_state"] == "restored"
    assert timeline["tokens_restored"] > first["prompt_tokens"]
    assert second["prompt_tokens_evaluated"] <= 24

    database, _ = Database.open(resolve_paths().database)
    try:
        path = MessageRepository(database).active_path(chat_id)
    finally:
        database.close()
    assert [m.content for m in path[2:5:2]] == ["go on", "and the dog"]
    assert [m.id for m in path[3::2]] == [first["message_id"], second["message_id"]]
    assert all(m.status is MessageStatus.COMPLETE and m.stats for m in path[3::2])


def test_an_unknown_conversation_is_one_error_line(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["chat", "--conversation", "999", "hi", "--model", str(tiny_model)]
    gui = GuiParts(open_window=_NoGui(), export_chats=_NoGui())  # type: ignore[arg-type]
    assert main(argv, gui=gui) != 0
    assert "no conversation 999" in capsys.readouterr().err
