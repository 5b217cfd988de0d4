"""A person at the real Hearth window, in a process of its own that may be killed at any moment
(tests/support/app_kills.py kills it). Run: python -m tests.support.app_driver --log FILE ...

The window is the one `hearth` opens (app.gui.main.build_app with every page, run by
run_window), on the data folder HEARTH_HOME names. Once the model is loaded the driver
- with --check-reply ID: looks at that reply as this start shows it (its stored status, and
  whether the chat on screen says it was interrupted);
- with --send TEXT: starts a new chat (Ctrl+N) and types TEXT and Enter, then logs every piece
  of text that reaches the window, with the time it arrived;
- with --finish: waits for the reply's end and closes the window (else it waits to be killed);
  without --send it closes the window once the checks are logged.

The log is JSON lines, each written with one unbuffered write() so whatever was logged before
a SIGKILL is in the file. Times are time.monotonic(), one clock for every process here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.config.paths import resolve_paths
from app.gui.chat.controller import ChatController
from app.gui.main import build_app, run_window
from storage.chats import MessageRepository
from storage.database import Database
from storage.records import MessageStatus
from ui.chat.message_html import STATUS_NOTES
from ui.main_window import MainWindow


class Driver:
    def __init__(
        self,
        args: argparse.Namespace,
        window: MainWindow,
        controller: ChatController,
        database: Database,
    ) -> None:
        self.args = args
        self.window = window
        self.controller = controller
        self.messages = MessageRepository(database)
        self.log_fd = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.reply_id: int | None = None
        self._ready = False  # the load was seen (the signal may come twice: a switch)

    def log(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "t": time.monotonic(), **fields}) + "\n"
        os.write(self.log_fd, line.encode())

    def begin(self) -> None:
        self.log("started", pid=os.getpid())
        session = self.controller.session
        if session.info is not None:
            self.on_loaded()
        else:
            session.loaded.connect(lambda _info: self.on_loaded())

    def on_loaded(self) -> None:
        if self._ready:
            return
        self._ready = True
        self.log("loaded", engine_pid=self.controller.client.pid)
        if self.args.check_reply is not None:
            self.check_reply(self.args.check_reply)
        if self.args.send is None:
            self.window.close()
            return
        self.controller.client.deltaReceived.connect(self.on_delta)
        self.controller.replyFinished.connect(self.on_finished)
        QTest.keyClick(self.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClicks(self.window.message_input, self.args.send)
        QTest.keyClick(self.window.message_input, Qt.Key.Key_Return)
        conversation = self.controller.current_conversation
        assert conversation is not None
        self.reply_id = self.messages.active_path(conversation)[-1].id
        self.log("sent", reply=self.reply_id, engine_pid=self.controller.client.pid)

    def check_reply(self, reply_id: int) -> None:
        """What this start shows of a reply the last run left: the window opens the most
        recent chat, which is the one that reply was written in."""
        stored = self.messages.get(reply_id)
        shown = self.window.chat_view.toPlainText()
        self.log(
            "previous",
            reply=reply_id,
            status=None if stored is None else stored.status.value,
            stored_chars=None if stored is None else len(stored.content),
            shown_interrupted=STATUS_NOTES[MessageStatus.INTERRUPTED] in shown,
        )

    def on_delta(self, _request_id: int, text: str, _tokens: int) -> None:
        self.log("delta", text=text)

    def on_finished(self, message_id: int) -> None:
        if message_id != self.reply_id:
            return
        self.log("finished", reply=message_id)
        if self.args.finish:
            self.window.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log", required=True)
    parser.add_argument("--check-reply", type=int)
    parser.add_argument("--send")
    parser.add_argument("--finish", action="store_true")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window, controller, database = build_app(resolve_paths())
    driver = Driver(args, window, controller, database)
    # After run_window has shown the window and started the controller (the model load).
    return run_window(
        app,  # type: ignore[arg-type]
        window,
        controller,
        database,
        after_show=lambda: QTimer.singleShot(0, driver.begin),
    )


if __name__ == "__main__":
    sys.exit(main())
