"""The Chat menu's export, import and copy, driven through the menu actions."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

import app.gui.chat.files as files_module
from app.gui.chat.files import ChatFilesController
from storage.chats import ConversationRepository
from tests.support.app_parts import AppParts
from tests.support.chat_window import bar_text, type_and_send
from tests.support.foreign_exports import chatgpt_export, write_json
from tests.support.long_chat import insert_long_conversation
from tests.support.qt_user import answer_file_dialog

MakeApp = Callable[..., AppParts]


def files_controller(controller: object) -> ChatFilesController:
    return controller.window.findChild(ChatFilesController)  # type: ignore[attr-defined]


def wait_job_done(qtbot: QtBot, files: ChatFilesController) -> None:
    """Wait until the export or import under way, on its worker thread, has ended and its
    outcome is shown (the controller holds no job any more)."""
    qtbot.waitUntil(lambda: files.job is None, timeout=60_000)


def run_job(qtbot: QtBot, files: ChatFilesController, action: QAction) -> None:
    """Choose the menu item and wait until the export or import it starts has ended and its
    outcome is shown."""
    action.trigger()
    assert files.job is not None  # started at once; it ends on its worker thread
    wait_job_done(qtbot, files)


def test_export_import_and_copy_from_the_chat_menu(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "remember the *pistachio* cake")
    files = files_controller(controller)

    markdown = tmp_path / "one.md"
    answer_file_dialog(monkeypatch, "getSaveFileName", str(markdown))
    run_job(qtbot, files, window.export_chat_action)
    assert "remember the *pistachio* cake" in markdown.read_text(encoding="utf-8")

    everything = tmp_path / "all.json"
    answer_file_dialog(monkeypatch, "getSaveFileName", str(everything))
    run_job(qtbot, files, window.export_all_action)
    assert json.loads(everything.read_text(encoding="utf-8"))["format"] == "hearth-chat"

    before = len(ConversationRepository(db).list_recent())
    answer_file_dialog(monkeypatch, "getOpenFileName", str(everything))
    run_job(qtbot, files, window.import_action)
    assert len(ConversationRepository(db).list_recent()) == before + 1
    assert "pistachio" in window.chat_view.toPlainText()  # the imported copy is open

    window.copy_markdown_action.trigger()
    assert "pistachio" in QGuiApplication.clipboard().text()


def test_the_window_imports_a_chatgpt_export_recognised_by_its_content(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    files = files_controller(controller)
    export = write_json(tmp_path / "conversations.json", chatgpt_export())
    answer_file_dialog(monkeypatch, "getOpenFileName", str(export))
    run_job(qtbot, files, window.import_action)
    assert window.statusBar().currentMessage() == (
        "Imported 2 chats from ChatGPT (7 messages; 3 skipped: tool calls, images)."
    )
    assert {c.title for c in ConversationRepository(db).list_recent()} >= {"Coast trip", "Sums"}
    shown = window.chat_view.toPlainText()  # the first imported chat is open, its shown branch
    assert "Go south" in shown and "Yes, there." in shown and "Go north" not in shown


def test_bad_files_and_unwritable_targets_are_explained(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "hello")
    files = files_controller(controller)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    answer_file_dialog(monkeypatch, "getOpenFileName", str(bad))
    run_job(qtbot, files, window.import_action)
    assert "bad.json" in bar_text(window.error_bar)
    answer_file_dialog(monkeypatch, "getSaveFileName", str(tmp_path / "missing" / "x.md"))
    run_job(qtbot, files, window.export_chat_action)
    assert "missing" in bar_text(window.error_bar)
    assert len(ConversationRepository(db).list_recent()) == 1


def test_export_into_a_folder_without_write_permission_says_so_and_keeps_the_chat(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    unwritable_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "a chat worth keeping")
    window.message_input.setPlainText("a draft not sent yet")
    files = files_controller(controller)
    target = unwritable_folder / "chats.html"
    answer_file_dialog(monkeypatch, "getSaveFileName", str(target))
    run_job(qtbot, files, window.export_all_action)
    assert f"the folder {unwritable_folder} is not writable" in bar_text(window.error_bar)
    assert not target.exists()
    assert "a chat worth keeping" in window.chat_view.toPlainText()
    assert window.message_input.toPlainText() == "a draft not sent yet"
    [chat] = ConversationRepository(db).list_recent()
    assert chat.id == controller.current_conversation


def _held_at_first_step(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> tuple[threading.Event, threading.Event]:
    """Keep the next job's worker thread at its first progress step until released, so the
    test can click Cancel while it is surely still running (no race, no sleep). `name`: the
    work function the controller calls (export_chats or import_path); once released, later
    jobs run through unheld."""
    reached, release = threading.Event(), threading.Event()
    original = getattr(files_module, name)

    def held(*args: Any, **kwargs: Any) -> Any:  # runs on the worker thread
        key = "progress" if "progress" in kwargs else None
        report = kwargs[key] if key else args[-1]

        def hold(done: int, total: int) -> None:
            report(done, total)
            if done == 1 and not release.is_set():
                reached.set()
                release.wait(30)

        if key:
            kwargs[key] = hold
        else:
            args = (*args[:-1], hold)
        return original(*args, **kwargs)

    monkeypatch.setattr(files_module, name, held)
    return reached, release


def _click_cancel(qtbot: QtBot, files: ChatFilesController) -> None:
    dialog = files.progress_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=10_000)  # shown once the job takes a moment
    button = dialog.findChild(QPushButton)
    assert button is not None and button.text() == "Cancel"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_exporting_every_chat_runs_off_the_gui_thread_and_cancel_keeps_the_old_file(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    for n in range(30):
        insert_long_conversation(db, 40, title=f"Chat {n}")
    files = files_controller(controller)
    target = tmp_path / "all.json"
    target.write_text("the previous export", encoding="utf-8")
    answer_file_dialog(monkeypatch, "getSaveFileName", str(target))
    reached, release = _held_at_first_step(monkeypatch, "export_chats")
    window.export_all_action.trigger()
    qtbot.waitUntil(reached.is_set, timeout=10_000)
    assert files.job is not None  # the GUI thread is free while the export runs
    _click_cancel(qtbot, files)
    release.set()
    wait_job_done(qtbot, files)
    assert target.read_text(encoding="utf-8") == "the previous export"
    assert "cancelled" in window.statusBar().currentMessage()

    run_job(qtbot, files, window.export_all_action)  # without Cancel: the same result as ever
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert len(exported["conversations"]) == 31
    assert "Exported 31 chat(s)" in window.statusBar().currentMessage()


def test_a_big_import_runs_off_the_gui_thread_and_cancel_imports_nothing(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    for n in range(20):
        insert_long_conversation(db, 40, title=f"Chat {n}")
    files = files_controller(controller)
    export = tmp_path / "all.json"
    answer_file_dialog(monkeypatch, "getSaveFileName", str(export))
    run_job(qtbot, files, window.export_all_action)
    before = len(ConversationRepository(db).list_recent())

    answer_file_dialog(monkeypatch, "getOpenFileName", str(export))
    reached, release = _held_at_first_step(monkeypatch, "import_path")
    window.import_action.trigger()
    qtbot.waitUntil(reached.is_set, timeout=10_000)
    _click_cancel(qtbot, files)
    release.set()
    wait_job_done(qtbot, files)
    assert len(ConversationRepository(db).list_recent()) == before  # nothing half-imported

    run_job(qtbot, files, window.import_action)
    assert len(ConversationRepository(db).list_recent()) == 2 * before
    assert (
        f"Imported {before} chats from Hearth (800 messages)" in window.statusBar().currentMessage()
    )
