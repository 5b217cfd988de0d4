"""`hearth import FILE` recognises another app's export by its content."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.paths import resolve_paths
from app.entry import main
from tests.support.chat_samples import open_database
from tests.support.foreign_exports import chatgpt_export, row_counts, shown_branch, write_json


def test_cli_imports_a_chatgpt_export_and_says_what_was_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_json(tmp_path / "export.json", chatgpt_export())
    assert main(["import", str(path)]) == 0
    assert capsys.readouterr().out == (
        "Imported 2 chats from ChatGPT (7 messages; 3 skipped: tool calls, images): "
        f"{path}\nConversation ids: 1, 2\n"
    )
    database = open_database(resolve_paths().database)
    try:
        assert shown_branch(database, 2) == [
            ("user", "What is 2+2?", "1/1"),
            ("assistant", "4", "1/1"),
        ]
    finally:
        database.close()


def test_cli_refuses_unknown_content_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_json(tmp_path / "notes.json", {"notes": ["a"]})
    assert main(["import", str(path)]) == 1
    assert capsys.readouterr().err == (
        "hearth: error: notes.json: This file is not a Hearth, ChatGPT, Open WebUI, "
        "LM Studio or Jan export.\n"
    )
    database = open_database(resolve_paths().database)
    try:
        assert row_counts(database) == (0, 0)
    finally:
        database.close()
