"""File > Quit (Ctrl+Q) ends the app the way its close button does (issue 15): the event
loop ends, the reply being written is saved as interrupted, the engine process stops."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.chat.recovery import open_chat_history
from app.config.paths import resolve_paths
from app.config.settings import Settings, save_settings
from app.gui.main import build_app, run_window
from storage.chats import MessageRepository
from storage.records import MessageStatus, Role
from tests.support.chat_window import type_and_send

GIVE_UP_MS = 60_000


def test_ctrl_q_mid_reply_saves_it_and_stops_the_engine(qtbot: QtBot, tiny_model: Path) -> None:
    paths = resolve_paths()
    # Greedy decoding makes the tiny model ramble for thousands of tokens: Ctrl+Q lands
    # while it streams.
    save_settings(
        paths.settings_file,
        Settings(model_path=str(tiny_model), n_ctx=4096, max_tokens=3000, temperature=0.0),
    )
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window, controller, database = build_app(paths, pages=False)
    qtbot.addWidget(window)
    seen: dict[str, object] = {}

    def step() -> None:  # runs inside the app's own event loop, as a user would act
        if controller.session.info is None:
            return  # still loading
        if "sent" not in seen:
            window.activateWindow()
            type_and_send(qtbot, window, "hello world")
            seen["sent"] = True
        elif window.chat_view.reply_text() and window.isActiveWindow():
            seen["streamed"] = window.chat_view.reply_text()
            seen["conversation"] = controller.current_conversation
            poll.stop()
            qtbot.keyClick(window.message_input, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

    def give_up() -> None:
        seen["gave up"] = True
        window.close()

    poll = QTimer(interval=20)
    poll.timeout.connect(step)
    poll.start()
    guard = QTimer(singleShot=True, interval=GIVE_UP_MS)
    guard.timeout.connect(give_up)
    guard.start()
    try:
        assert run_window(app, window, controller, database) == 0
    finally:
        poll.stop()
        guard.stop()
    assert "gave up" not in seen and "streamed" in seen
    assert not window.isVisible()
    assert multiprocessing.active_children() == []  # the engine process was stopped
    reopened, _ = open_chat_history(paths.database)
    try:
        conversation = seen["conversation"]
        assert isinstance(conversation, int)
        reply = MessageRepository(reopened).active_path(conversation)[-1]
    finally:
        reopened.close()
    assert reply.role is Role.ASSISTANT
    assert reply.status == MessageStatus.INTERRUPTED
    assert reply.content.startswith(str(seen["streamed"]))
