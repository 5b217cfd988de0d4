"""The Chat menu's export, import and copy, driven through the menu actions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.chat_files_controller import ChatFilesController
from storage.repositories import ConversationRepository
from tests.app.conftest import AppParts
from tests.app.test_chat_controller import _bar_text, type_and_send

MakeApp = Callable[..., AppParts]


def files_controller(controller: object) -> ChatFilesController:
    return controller.findChild(ChatFilesController)  # type: ignore[attr-defined]


def test_export_import_and_copy_from_the_chat_menu(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, tmp_path: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "remember the *pistachio* cake")
    files = files_controller(controller)

    markdown = tmp_path / "one.md"
    files.pick_save = lambda _title, _name: str(markdown)
    window.export_chat_action.trigger()
    assert "remember the *pistachio* cake" in markdown.read_text(encoding="utf-8")

    everything = tmp_path / "all.json"
    files.pick_save = lambda _title, _name: str(everything)
    window.export_all_action.trigger()
    assert json.loads(everything.read_text(encoding="utf-8"))["format"] == "hearth-chat"

    before = len(ConversationRepository(db).list_recent())
    files.pick_open = lambda _title: str(everything)
    window.import_action.trigger()
    assert len(ConversationRepository(db).list_recent()) == before + 1
    assert "pistachio" in window.chat_view.toPlainText()  # the imported copy is open

    window.copy_markdown_action.trigger()
    assert "pistachio" in QGuiApplication.clipboard().text()


def test_bad_files_and_unwritable_targets_are_explained(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, tmp_path: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "hello")
    files = files_controller(controller)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    files.pick_open = lambda _title: str(bad)
    window.import_action.trigger()
    assert "bad.json" in _bar_text(window.error_bar)
    files.pick_save = lambda _title, _name: str(tmp_path / "missing" / "x.md")
    window.export_chat_action.trigger()
    assert "missing" in _bar_text(window.error_bar)
    assert len(ConversationRepository(db).list_recent()) == 1
