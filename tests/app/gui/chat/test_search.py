"""Ctrl+F search across chats, driven as a user would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from storage.chats import ConversationRepository, MessageRepository
from storage.records import Role
from tests.support.app_parts import AppParts

MakeApp = Callable[..., AppParts]


def test_ctrl_f_finds_a_message_in_another_chat_and_enter_jumps_to_it(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    conversations, messages = ConversationRepository(db), MessageRepository(db)
    target = conversations.create("Holiday plans")
    parent = None
    for n in range(60):  # long enough that the hit is far above the bottom
        role = Role.USER if n % 2 == 0 else Role.ASSISTANT
        body = "We could visit the Café Müller in Zürich" if n == 3 else f"filler line {n}\n" * 5
        parent = messages.add(target.id, role, body, parent_id=parent).id
        if n == 3:
            wanted = parent
    other = conversations.create("Other")
    messages.add(other.id, Role.USER, "unrelated")
    controller.open_conversation(other.id)

    qtbot.keyClick(window.message_input, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    dialog = window.search_dialog
    assert dialog.isVisible()
    qtbot.waitUntil(dialog.query.hasFocus, timeout=5_000)
    qtbot.keyClicks(dialog.query, "cafe muller")
    qtbot.waitUntil(lambda: dialog.results.count() == 1, timeout=5_000)
    shown = dialog.results.item(0).text()
    assert "Holiday plans" in shown and "<b>Café</b> <b>Müller</b>" in shown
    assert dialog.status.text() == "1 message found"

    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert controller.current_conversation == target.id
    view = window.chat_view
    # The hit is brought to the top, not selected: a whole message in the selection colour
    # looked like something had gone wrong (and a click anywhere lost it anyway).
    assert not view.textCursor().hasSelection()
    top = view.cursorForPosition(view.viewport().rect().topLeft()).position()
    assert "Café Müller" in view.message_text(wanted)
    assert view.message_text(wanted) in view.toPlainText()[top:]
    assert not window.chat_view.is_at_bottom()  # scrolled up to the hit
    assert wanted > 0


def test_hostile_queries_show_no_error_and_no_match(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, _controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    dialog = window.search_dialog
    dialog.open_search()
    for query in ['"', "NEAR(", "*", "a) OR (b"]:
        dialog.query.setText(query)
        qtbot.waitUntil(lambda: dialog.status.text() != "", timeout=5_000)
        assert dialog.status.text() == "No message matches."
        dialog.query.clear()
        qtbot.waitUntil(lambda: dialog.status.text() == "", timeout=5_000)


def test_fts_syntax_typed_into_the_search_finds_the_text_it_spells(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    """What the user types is words to find, never query syntax: quotes, stars, NEAR,
    unbalanced parentheses and a pasted NUL find the message holding those words."""
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    chat = ConversationRepository(db).create("Syntax")
    MessageRepository(db).add(chat.id, Role.USER, 'She said "NEAR(the lake" * twice (((odd, or not')
    controller.open_conversation(chat.id)
    qtbot.keyClick(window.message_input, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    dialog = window.search_dialog
    qtbot.waitUntil(dialog.query.hasFocus, timeout=5_000)
    for query in ['"NEAR(the lake"', "said * twice", "(((odd", 'lake" OR', "said NEAR(the lake)"]:
        dialog.query.selectAll()
        qtbot.keyClicks(dialog.query, query)
        qtbot.waitUntil(lambda: dialog.status.text() != "", timeout=5_000)
        assert dialog.status.text() == "1 message found", query
        assert "Search failed" not in dialog.status.text()
        dialog.query.clear()
        qtbot.waitUntil(lambda: dialog.status.text() == "", timeout=5_000)
    QGuiApplication.clipboard().setText("twice\x00odd")  # pasted from a binary file
    qtbot.keyClick(dialog.query, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.status.text() != "", timeout=5_000)
    assert dialog.status.text() == "1 message found"
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    assert controller.current_conversation == chat.id and not dialog.isVisible()
