"""Reading the unsent text ahead while the user types (issue 13, the window's side): in the real
window with a tiny model, what the chat sends the engine (protocol.WarmRequest.typing) as keys
are typed into the real input: throttled reads of the current text, nothing for blank text,
while a reply is written or after Send, a new chat's with no key, and none for a chat left."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.chat.state_keys import chat_state_key
from app.gui.chat.controller import ChatController
from app.gui.chat.warming import PASTE_CHARS
from inference.protocol import Request, WarmRequest
from tests.support.app_parts import MakeApp
from tests.support.chat_window import type_and_send
from tests.support.engine_requests import generated, record_requests

REPLY_MS = 30_000


def _warms(sent: list[Request]) -> list[WarmRequest]:
    return [r for r in sent if isinstance(r, WarmRequest)]


def _typed(sent: list[Request]) -> list[str]:
    return [r.typing for r in _warms(sent) if r.typing]


def _settled(qtbot: QtBot, controller: ChatController) -> None:
    """Until no warm is due: whatever the typing so far sends has been sent."""
    warming = controller.warming
    qtbot.waitUntil(lambda: not warming.typing_pending and not warming.pending, timeout=REPLY_MS)


def _chat_with_a_reply(qtbot: QtBot, window: object, controller: ChatController, text: str) -> int:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # type: ignore[arg-type]
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        type_and_send(qtbot, window, text)
    conversation = controller.current_conversation
    assert conversation is not None
    _settled(qtbot, controller)  # the reply's end reads nothing: the box is empty
    return conversation


def test_typing_sends_throttled_reads_of_the_current_text(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    conversation = _chat_with_a_reply(qtbot, window, controller, "hello world")
    sent = record_requests(controller, monkeypatch)
    box = window.message_input
    # A typist who never pauses as long as the interval: a debounce would read nothing
    # until the typing stops; the throttle reads while it goes on.
    typed = 0
    while not _typed(sent):
        qtbot.keyClicks(box, "word ")
        typed += 1
        qtbot.wait(20)
        assert typed < 1000, "no read while typing"
    qtbot.keyClicks(box, "and more  ")
    qtbot.waitUntil(lambda: box.toPlainText() in _typed(sent), timeout=REPLY_MS)
    _settled(qtbot, controller)
    warms = _warms(sent)
    reads = _typed(sent)
    # Each read is the text as it stood (as it will be sent: not stripped), and a new one
    # only when it changed.
    assert reads[0] == "word " * len(reads[0].split())
    assert len(reads[0]) < len(box.toPlainText())  # read while still typing
    assert reads[-1] == box.toPlainText() == "word " * typed + "and more  "
    assert len(set(reads)) == len(reads) == len(warms)
    # The chat's own key and the messages its next turn is built from, before the turn.
    assert all(r.state_key == chat_state_key(conversation) for r in warms)
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    (turn,) = generated(sent)
    assert all(r.messages == turn.messages[:-1] for r in warms)
    assert turn.messages[-1].content == reads[-1]  # read as it is sent


def test_blank_text_sends_nothing(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    _chat_with_a_reply(qtbot, window, controller, "hello world")
    sent = record_requests(controller, monkeypatch)
    box = window.message_input
    qtbot.keyClicks(box, "   ")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # a new line
    qtbot.keyClicks(box, "\t ")
    assert controller.warming.typing_pending
    _settled(qtbot, controller)
    assert _warms(sent) == []
    # Text again, then blank again: only the text is read.
    qtbot.keyClicks(box, "x")
    text = box.toPlainText()  # read as it will be sent, blanks and all
    qtbot.waitUntil(lambda: _typed(sent) == [text], timeout=REPLY_MS)
    qtbot.keyClick(box, Qt.Key.Key_Backspace)
    assert controller.warming.typing_pending
    _settled(qtbot, controller)
    assert [r.typing for r in _warms(sent)] == [text]


def test_nothing_is_sent_after_send_or_while_the_reply_is_written(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Greedy decoding makes the tiny model ramble for ~3,000 tokens after "hello world" (as
    # in test_speed_plot.py): over a second of streaming, against a 250 ms throttle.
    window, controller, _db = make_app(tiny_model, n_ctx=4096, max_tokens=3000, temperature=0.0)
    sent = record_requests(controller, monkeypatch)
    busy_warms: list[WarmRequest] = []
    warming = controller.warming
    warming.sent.connect(
        lambda _id, _chat: busy_warms.extend(_warms(sent)[-1:] if controller.generating else [])
    )
    box = window.message_input
    with qtbot.waitSignal(controller.replyFinished, timeout=60_000):
        qtbot.keyClicks(box, "hello world")
        assert warming.typing_pending
        qtbot.keyClick(box, Qt.Key.Key_Return)  # Send before the read was due
        assert not warming.typing_pending
        qtbot.waitUntil(lambda: bool(window.chat_view.reply_text()), timeout=REPLY_MS)
        qtbot.keyClicks(box, "next question")  # typed while the reply streams
        assert warming.typing_pending
        qtbot.waitUntil(lambda: not warming.typing_pending, timeout=REPLY_MS)
        assert controller.generating  # the read came due while the reply was written
    assert busy_warms == []
    # Nothing was read before Send, nor while the reply was written: the reply's end
    # reads what was typed meanwhile.
    (turn,) = generated(sent)
    assert sent.index(turn) == 0
    qtbot.waitUntil(lambda: _typed(sent) == ["next question"], timeout=REPLY_MS)
    (warm,) = _warms(sent)
    assert warm.messages[-1].role == "assistant"
    assert warm.messages[:-1] == turn.messages


def test_a_new_chat_sends_its_text_with_no_key(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    sent = record_requests(controller, monkeypatch)
    with qtbot.waitSignal(controller.warming.sent, timeout=REPLY_MS) as warm:
        qtbot.keyClicks(window.message_input, "  first words")
    assert warm.args[1] == controller.current_conversation
    (request,) = _warms(sent)
    assert request.state_key == "" and request.typing == "  first words"
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        qtbot.keyClick(window.message_input, Qt.Key.Key_Return)
    (turn,) = generated(sent)
    assert request.messages == turn.messages[:-1]  # a system prompt, if the app adds one

    # No chat at all (every one deleted): the same, for a chat not stored yet.
    view = window.conversations.view
    for _chat in range(5):
        if controller.current_conversation is None:
            break
        view.setFocus()
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert controller.current_conversation is None
    with qtbot.waitSignal(controller.warming.sent, timeout=REPLY_MS) as warm:
        qtbot.keyClicks(window.message_input, "again")
    assert warm.args[1] is None
    latest = _warms(sent)[-1]
    assert latest.state_key == "" and latest.typing == "again"
    assert latest.messages == request.messages


def test_switching_chats_drops_the_due_read_and_the_opening_warm_carries_the_text(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    first = _chat_with_a_reply(qtbot, window, controller, "first chat")
    second = _chat_with_a_reply(qtbot, window, controller, "second chat")
    controller.open_conversation(first)
    _settled(qtbot, controller)
    sent = record_requests(controller, monkeypatch)
    qtbot.keyClicks(window.message_input, "a draft")
    assert controller.warming.typing_pending
    with qtbot.waitSignal(controller.warming.sent, timeout=REPLY_MS) as warm:
        controller.open_conversation(second)
        assert not controller.warming.typing_pending  # the first chat's read is dropped
    assert warm.args[1] == second
    _settled(qtbot, controller)
    # One warm: the second chat's opening, carrying the draft (the box keeps it).
    (request,) = _warms(sent)
    assert request.state_key == chat_state_key(second) and request.typing == "a draft"
    # Typing on as the chat opens: still one warm for both.
    controller.open_conversation(first)
    qtbot.keyClicks(window.message_input, "!")
    _settled(qtbot, controller)
    assert [(r.state_key, r.typing) for r in _warms(sent)] == [
        (chat_state_key(second), "a draft"),
        (chat_state_key(first), "a draft!"),
    ]


def test_editing_a_message_reads_the_edit_after_the_messages_before_it(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    conversation = _chat_with_a_reply(qtbot, window, controller, "one")
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        type_and_send(qtbot, window, "two")
    _settled(qtbot, controller)
    sent = record_requests(controller, monkeypatch)
    path = controller.messages.active_path(conversation)
    controller.begin_edit(path[2].id)  # "two"
    box = window.message_input
    qtbot.keyClick(box, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, "!")
    qtbot.waitUntil(lambda: _typed(sent) == ["two!"], timeout=REPLY_MS)
    (warm,) = _warms(sent)
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    (turn,) = generated(sent)
    assert warm.messages == turn.messages[:-1]
    assert [m.content for m in warm.messages if m.role == "user"] == ["one"]


def test_pasted_text_is_read_at_once(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paste adds many characters in one change: it is read then, while the hand moves to
    Enter, not TYPING_INTERVAL_MS later; a key typed after it waits for the throttle."""
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    _chat_with_a_reply(qtbot, window, controller, "hello world")
    sent = record_requests(controller, monkeypatch)
    box = window.message_input
    pasted = "a question pasted from somewhere else"
    assert len(pasted) >= PASTE_CHARS
    box.insertPlainText(pasted)
    assert _typed(sent) == [pasted]  # sent within the change itself, no timer
    assert not controller.warming.typing_pending
    qtbot.keyClicks(box, "?")
    assert controller.warming.typing_pending
    _settled(qtbot, controller)
    assert _typed(sent) == [pasted, pasted + "?"]
