"""A chat whose rows were damaged on disk (a hand edit, another tool, a bad sector) still
opens: what cannot be read shows as a damaged message, everything else as usual."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.paths import resolve_paths
from storage.database import Database
from storage.records import MessageStatus, Role
from storage.repositories import ConversationRepository, MessageRepository
from tests.app.chat_samples import STATS
from tests.app.conftest import AppParts
from tests.app.test_chat_controller import type_and_send
from ui.chat.message_html import STATUS_NOTES

MakeApp = Callable[..., AppParts]
DAMAGED_NOTE = STATUS_NOTES[MessageStatus.DAMAGED]

# Each damage is written straight into SQLite, bypassing the app, as a broken file would be.
DAMAGE = {
    "a date that is not one": "UPDATE messages SET created_at = 'yesterday' WHERE id = :id",
    "a number for a date": "UPDATE messages SET updated_at = 12345 WHERE id = :id",
    "bytes for text": "UPDATE messages SET content = X'FF6279746573FE' WHERE id = :id",
    "an unknown status": "UPDATE messages SET status = 'thinking' WHERE id = :id",
    "stats that are not numbers": (
        "UPDATE generation_stats SET ttft_ms = 'fast', n_ctx = 'big' WHERE message_id = :id"
    ),
}


def _damaged_history() -> list[int]:
    """Before the app starts: a healthy chat and one with a damaged reply per kind of damage.
    Returns the damaged replies' ids."""
    paths = resolve_paths().ensure()
    db, _note = Database.open(paths.database)
    conversations, messages = ConversationRepository(db), MessageRepository(db)
    chat = conversations.create("Damaged on disk")
    conversations.rename(chat.id, "Damaged on disk")
    damaged: list[int] = []
    parent = None
    for n in range(len(DAMAGE)):
        question = messages.add(chat.id, Role.USER, f"question {n}", parent_id=parent)
        reply = messages.start_reply(chat.id, question.id)
        messages.finish_reply(reply.id, f"answer {n}", MessageStatus.COMPLETE, stats=STATS)
        damaged.append(reply.id)
        parent = reply.id
    healthy = conversations.create("Healthy")
    messages.add(healthy.id, Role.USER, "all is well")
    with db.session() as session:
        # The search index's trigger would refuse bytes; a broken file has no such guard.
        session.execute(text("DROP TRIGGER messages_index_update"))
        for reply_id, sql in zip(damaged, DAMAGE.values(), strict=True):
            session.execute(text(sql), {"id": reply_id})
    with db.session() as session:
        session.execute(
            text("UPDATE conversations SET created_at = 'not a date' WHERE id = :id"),
            {"id": chat.id},
        )
    db.close()
    return damaged


def test_damaged_rows_show_as_damaged_messages_and_the_chat_still_opens_and_goes_on(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    damaged = _damaged_history()
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    sidebar = window.conversations
    titles = [sidebar.model.item(r).text() for r in range(sidebar.model.rowCount())]
    assert sorted(titles) == ["Damaged on disk", "Healthy"]  # neither chat is hidden

    row = titles.index("Damaged on disk")
    rect = sidebar.view.visualRect(sidebar.model.index(row, 0))
    qtbot.mouseClick(sidebar.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    shown = window.chat_view.toPlainText()
    assert shown.count(DAMAGED_NOTE) == len(DAMAGE)
    for n in range(len(DAMAGE)):
        assert f"question {n}" in shown
    for n in (0, 1, 3, 4):  # the replies whose text itself was fine
        assert f"answer {n}" in shown
    assert "bytes" in shown  # what could be read of the bytes
    path = MessageRepository(db).active_path(controller.current_conversation)  # type: ignore[arg-type]
    assert [m.id for m in path if m.status is MessageStatus.DAMAGED] == damaged
    assert path[-1].stats is None  # unreadable stats are dropped, never shown as numbers

    # The chat goes on: damaged messages are left out of what the model is sent.
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000) as finished:
        type_and_send(qtbot, window, "still there?")
    reply = MessageRepository(db).get(finished.args[0])
    assert reply is not None and reply.status is MessageStatus.COMPLETE
    assert "still there?" in window.chat_view.toPlainText()
