"""Where a chat outgrew the context stays marked in the transcript across restarts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from storage.chats import MessageRepository
from storage.records import MessageStatus, Role
from tests.support.app_parts import AppParts
from tests.support.chat_window import type_and_send
from ui.chat.conversation_list import ID_ROLE

MakeApp = Callable[..., AppParts]
MARKER = "outside the model's view"


def test_the_outside_view_marker_survives_a_restart_and_switching_chats(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(
        tiny_model, n_ctx=256, max_tokens=8, context_policy="drop_oldest"
    )
    for turn in range(4):
        with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
            # A tag per turn: the test finds each user message in the transcript.
            type_and_send(qtbot, window, f"turn{turn}tag " + "hello world " * 25)
        if MARKER in window.chat_view.toPlainText():
            break
    assert MARKER in window.chat_view.toPlainText()
    assert not window.overflow_question.isVisible()  # the standing policy, no question
    cid = controller.current_conversation
    assert cid is not None
    path = MessageRepository(db).active_path(cid)
    left_out = MessageRepository(db).outside_view(cid, [m.id for m in path])
    assert left_out and path[0].id in left_out  # the oldest turn went first

    # Another chat and back: the marker comes from the database, not from memory.
    controller.new_chat()
    assert MARKER not in window.chat_view.toPlainText()
    controller.open_conversation(cid)
    assert MARKER in window.chat_view.toPlainText()

    controller.shutdown()
    db.close()
    window.close()
    window, controller, db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    view = window.conversations.view
    row = next(
        r
        for r in range(view.model().rowCount())
        if window.conversations.model.item(r).data(ID_ROLE) == cid
    )
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert controller.current_conversation == cid
    shown = window.chat_view.toPlainText()
    assert MARKER in shown
    # The marker sits after the messages left out, before the ones the model still saw.
    # (Replies are random tokens; the user messages carry known tags.)
    asked = [m for m in path if m.content.startswith("turn")]
    first_kept = next(m for m in asked if m.id not in left_out)
    last_left = [m for m in asked if m.id in left_out][-1]
    tag = first_kept.content.split()[0]
    assert shown.index(last_left.content.split()[0]) < shown.index(MARKER) < shown.index(tag)


def test_an_empty_reply_among_the_dropped_turns_does_not_split_the_marker(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    """An empty reply is never sent to the model (app.chat.prompt_history); lying between two
    dropped turns it is outside the model's view like them, so the transcript shows one
    marker after all of them, not one on each side of the empty reply (a flaky failure of the
    test above, whenever the random model's reply decoded to nothing)."""
    window, controller, db = make_app(
        tiny_model, n_ctx=256, max_tokens=8, context_policy="drop_oldest"
    )
    messages = MessageRepository(db)
    cid = controller.current_conversation
    assert cid is not None
    first = messages.add(cid, Role.USER, "oldtag0 " + "hello world " * 40)
    empty = messages.start_reply(cid, first.id)
    messages.finish_reply(empty.id, "", MessageStatus.COMPLETE)
    second = messages.add(cid, Role.USER, "oldtag1 " + "hello world " * 40, parent_id=empty.id)
    reply = messages.start_reply(cid, second.id)
    messages.finish_reply(reply.id, "an answer", MessageStatus.COMPLETE)
    controller.open_conversation(cid)

    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "newtag " + "hello world " * 40)
    shown = window.chat_view.toPlainText()
    assert shown.count(MARKER) == 1
    assert shown.index("oldtag1") < shown.index(MARKER) < shown.index("newtag")
    path = messages.active_path(cid)
    assert {first.id, empty.id, second.id} <= messages.outside_view(cid, [m.id for m in path])
