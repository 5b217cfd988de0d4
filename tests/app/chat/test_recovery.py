"""What a start of Hearth does to the chat history the last run left: replies a dead app left
streaming show as interrupted with their text, at the command line (open_chat_history) and in
the window (build_app); a damaged file whose recovery fails still leaves a working history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.chat.recovery import open_chat_history
from app.config.paths import resolve_paths
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageRecord, MessageStatus, Role
from ui.chat.message_html import STATUS_NOTES

REPO_ROOT = Path(__file__).resolve().parents[2]
MakeApp = Callable[..., tuple[Any, Any, Database]]  # tests/app/conftest.py: make_app


def _reply_left_streaming(db_path: Path) -> MessageRecord:
    """A reply with text flushed, and the app gone before it called finish_reply."""
    db, _ = Database.open(db_path)
    chat = ConversationRepository(db).create("A story")
    messages = MessageRepository(db)
    user = messages.add(chat.id, Role.USER, "Tell me a story")
    reply = messages.start_reply(chat.id, user.id)
    messages.update_partial(reply.id, "Once upon")
    db.close()
    return reply


def test_reopen_after_crash_marks_stream_interrupted_and_keeps_text(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "hearth.db"
    reply = _reply_left_streaming(db_path)

    reopened, note = open_chat_history(db_path)
    try:
        assert note is None
        stored = MessageRepository(reopened).get(reply.id)
        assert stored is not None
        assert (stored.content, stored.status) == ("Once upon", MessageStatus.INTERRUPTED)
    finally:
        reopened.close()


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_process_killed_mid_stream_keeps_flushed_text(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "hearth.db"
    script = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from storage.database import Database
        from storage.records import Role
        from storage.chats import ConversationRepository, MessageRepository

        db, _ = Database.open(Path(sys.argv[1]))
        chat = ConversationRepository(db).create()
        messages = MessageRepository(db)
        user = messages.add(chat.id, Role.USER, "hi")
        reply = messages.start_reply(chat.id, user.id)
        messages.update_partial(reply.id, "hello")
        print(reply.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(db_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    reply_id = int(done.stdout.strip())

    db, _ = open_chat_history(db_path)
    try:
        stored = MessageRepository(db).get(reply_id)
        assert stored is not None
        assert (stored.content, stored.status) == ("hello", MessageStatus.INTERRUPTED)
    finally:
        db.close()


def test_the_window_shows_a_reply_left_streaming_as_interrupted(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    reply = _reply_left_streaming(resolve_paths().ensure().database)

    window, _controller, db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    stored = MessageRepository(db).get(reply.id)
    assert stored is not None
    assert (stored.content, stored.status) == ("Once upon", MessageStatus.INTERRUPTED)
    sidebar = window.conversations
    titles = [sidebar.model.item(r).text() for r in range(sidebar.model.rowCount())]
    rect = sidebar.view.visualRect(sidebar.model.index(titles.index("A story"), 0))
    qtbot.mouseClick(sidebar.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    shown = window.chat_view.toPlainText()
    assert "Once upon" in shown and STATUS_NOTES[MessageStatus.INTERRUPTED] in shown


def test_a_failed_recovery_keeps_the_new_history_and_says_where_the_file_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "data" / "hearth.db"
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database" * 100)

    def broken(_damaged: Path, _database: Database) -> None:
        raise RuntimeError("recovery broke")

    monkeypatch.setattr("app.chat.recovery.recover", broken)
    db, note = open_chat_history(db_path)
    try:
        assert note is not None and note.report is None
        assert note.describe().endswith(f"It was set aside at {note.moved_to}.")
        assert note.moved_to.exists()
        chat = ConversationRepository(db).create("fresh")
        assert ConversationRepository(db).list_recent() == [chat]
    finally:
        db.close()
