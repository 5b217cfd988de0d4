"""Deleting a chat from the sidebar and taking it back with Ctrl+Z, wherever the focus is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.gui.chat.controller import ChatController
from storage.chats import ConversationRepository
from storage.database import Database
from tests.support.app_parts import AppParts
from tests.support.chat_window import type_and_send
from ui.main_window import MainWindow

MakeApp = Callable[..., AppParts]
CTRL = Qt.KeyboardModifier.ControlModifier


def _chat_then_delete_it(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> tuple[MainWindow, ChatController, Database, int]:
    """A chat with one exchange, deleted with the Delete key in the sidebar; its id."""
    window, controller, db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "keep me")
    doomed = controller.current_conversation
    assert doomed is not None
    view = window.conversations.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    return window, controller, db, doomed


def test_ctrl_z_in_the_empty_message_box_undoes_the_delete(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db, doomed = _chat_then_delete_it(qtbot, make_app, tiny_model)
    conversations = ConversationRepository(db)
    assert conversations.get(doomed) is None and window.undo_bar.isVisible()

    box = window.message_input
    qtbot.mouseClick(box.viewport(), Qt.MouseButton.LeftButton)  # back to typing
    assert box.hasFocus()
    qtbot.keyClick(box, Qt.Key.Key_Z, CTRL)
    assert conversations.get(doomed) is not None
    assert controller.current_conversation == doomed
    assert "keep me" in window.chat_view.toPlainText()
    assert not window.undo_bar.isVisible()


def test_ctrl_z_undoes_typing_first_then_the_delete(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db, doomed = _chat_then_delete_it(qtbot, make_app, tiny_model)
    box = window.message_input
    box.setFocus()
    qtbot.keyClicks(box, "oops")
    qtbot.keyClick(box, Qt.Key.Key_Z, CTRL)  # the text box's own undo comes first
    assert box.toPlainText() == ""
    assert ConversationRepository(db).get(doomed) is None
    qtbot.keyClick(box, Qt.Key.Key_Z, CTRL)  # nothing left to undo there: the delete
    assert ConversationRepository(db).get(doomed) is not None
    assert controller.current_conversation == doomed
