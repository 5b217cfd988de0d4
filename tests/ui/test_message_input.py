from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ui.message_input import PLACEHOLDER, MessageInput


def make_input(qtbot: QtBot) -> MessageInput:
    box = MessageInput()
    qtbot.addWidget(box)
    box.show()
    box.setFocus()
    return box


def test_enter_sends_text_and_keeps_it_until_the_app_clears(qtbot: QtBot) -> None:
    box = make_input(qtbot)
    qtbot.keyClicks(box, "hello there")
    with qtbot.waitSignal(box.sendRequested) as blocker:
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert blocker.args == ["hello there"]
    assert box.toPlainText() == "hello there"


def test_keypad_enter_sends(qtbot: QtBot) -> None:
    box = make_input(qtbot)
    qtbot.keyClicks(box, "hi")
    with qtbot.waitSignal(box.sendRequested):
        qtbot.keyClick(box, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)


def test_shift_enter_inserts_newline(qtbot: QtBot) -> None:
    box = make_input(qtbot)
    sent: list[str] = []
    box.sendRequested.connect(sent.append)
    qtbot.keyClicks(box, "line one")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "line two")
    assert box.toPlainText() == "line one\nline two"
    assert sent == []
    with qtbot.waitSignal(box.sendRequested) as blocker:
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert blocker.args == ["line one\nline two"]


def test_blank_text_is_not_sent(qtbot: QtBot) -> None:
    box = make_input(qtbot)
    with qtbot.assertNotEmitted(box.sendRequested):
        qtbot.keyClick(box, Qt.Key.Key_Return)
        qtbot.keyClicks(box, "   ")
        qtbot.keyClick(box, Qt.Key.Key_Return)


def test_escape_requests_stop(qtbot: QtBot) -> None:
    box = make_input(qtbot)
    with qtbot.waitSignal(box.stopRequested):
        qtbot.keyClick(box, Qt.Key.Key_Escape)


def test_placeholder() -> None:
    assert PLACEHOLDER == "Message Hearth… (Enter to send, Shift+Enter for a new line)"
