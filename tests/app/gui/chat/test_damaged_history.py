"""A chat whose rows were damaged on disk (a hand edit, another tool, a bad sector) still
opens: what cannot be read shows as a damaged message, everything else as usual."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.config.paths import resolve_paths
from app.entry import main
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageStatus, Role
from storage.recovery_report import RECOVERED_CHAT_TITLE
from tests.support.app_parts import AppParts
from tests.support.chat_samples import STATS
from tests.support.chat_window import type_and_send
from tests.support.damaged_database import (
    CHATS,
    MESSAGES,
    History,
    copy_file,
    cut_in_half,
    overwrite_header,
    write_history,
)
from ui.chat.message_html import STATUS_NOTES
from ui.main_window import MainWindow

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


# ---- a damaged file: set aside, and its chats brought back ---------------------------------

SHOTS = Path("/tmp/shots/storage")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, History]:
    """One 400-message history for the module; each test damages a copy of it."""
    path = tmp_path_factory.mktemp("history") / "hearth.db"
    return path, write_history(path)


def _error_text(window: MainWindow) -> str:
    return window.error_bar.label.text() if window.error_bar.isVisible() else ""


@pytest.mark.parametrize(
    ("damage", "told", "shot"),
    [
        (overwrite_header, f"Recovered all {MESSAGES} messages in {CHATS} chats", "all"),
        (cut_in_half, f"of {MESSAGES} messages in ", "part"),
    ],
    ids=["header-overwritten", "cut-in-half"],
)
def test_damaged_file_is_recovered_in_the_background_and_the_chats_open(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    written: tuple[Path, History],
    damage: Callable[[Path], None],
    told: str,
    shot: str,
) -> None:
    source, history = written
    database = resolve_paths().ensure().database
    copy_file(source, database)
    damage(database)

    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    qtbot.waitUntil(lambda: "Recovered" in _error_text(window), timeout=60_000)
    message = _error_text(window)
    assert told in message
    assert "the damaged file is kept at " in message
    kept = Path(message.rsplit("the damaged file is kept at ", 1)[1].rstrip("."))
    assert kept.name.startswith("hearth.db.corrupt-") and kept.exists()

    sidebar = window.conversations
    titles = [sidebar.model.item(r).text() for r in range(sidebar.model.rowCount())]
    if damage is overwrite_header:
        assert sorted(titles) == sorted(history.titles.values())  # no empty "New chat" left
    else:
        # Which chats' rows lie in the lost half depends on the file's page layout: those
        # that survive come back under their titles, messages of the others in one chat.
        assert set(titles) <= {*history.titles.values(), RECOVERED_CHAT_TITLE}
        assert f"in {len(titles)} chats" in message
        assert "Chat 3" in titles
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / f"recovered-{shot}.png"))

    row = titles.index("Chat 3")
    rect = sidebar.view.visualRect(sidebar.model.index(row, 0))
    qtbot.mouseClick(sidebar.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    shown = window.chat_view.toPlainText()
    path = MessageRepository(db).active_path(controller.current_conversation)  # type: ignore[arg-type]
    assert path, "the chat opens with its messages"
    for message_record in path:
        assert history.messages[message_record.id] == ("Chat 3", message_record.content)
        assert message_record.content.split(" word")[0] in shown
    if damage is overwrite_header:
        expected = [i for i, (title, _text) in history.messages.items() if title == "Chat 3"]
        assert [m.id for m in path] == expected


def test_export_of_a_damaged_history_says_so_and_exports_what_came_back(
    written: tuple[Path, History], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _history = written
    database = resolve_paths().ensure().database
    copy_file(source, database)
    cut_in_half(database)

    out = tmp_path / "all.json"
    code = main(["export", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured
    assert "hearth: warning: The chat history was damaged" in captured.err
    exported = json.loads(out.read_text())
    chats = len(exported["conversations"])
    assert 0 < chats <= CHATS + 1  # those that survived, and one of messages whose chat did not
    assert f"of {MESSAGES} messages in {chats} chats" in captured.err
    count = sum(len(c["messages"]) for c in exported["conversations"])
    assert f"Exported {chats} chat(s), {count} message(s)" in captured.out
    assert 0 < count < MESSAGES
    # Every exported message was counted: whole ones, and those whose text alone came back.
    told = re.search(rf"Recovered (\d+) of {MESSAGES} messages", captured.err)
    alone = re.search(r"the text alone of (\d+) more", captured.err)
    assert told is not None
    assert int(told[1]) + (int(alone[1]) if alone else 0) == count
    # The next export finds a healthy file, and the same chats.
    assert main(["export", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
