from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextOption
from pytestqt.qtbot import QtBot

from ui.chat.message_input import PLACEHOLDER, MessageInput


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


def test_a_pasted_paragraph_with_nowhere_to_break_wraps_anywhere_and_normal_text_by_words(
    qtbot: QtBot,
) -> None:
    """Qt's word wrap of a paragraph with no space in it grows with the square of its length
    (a 400 KB one-line log took 15 s to paste); such a paragraph wraps anywhere instead."""
    box = MessageInput()
    qtbot.addWidget(box)
    box.show()
    qtbot.keyClicks(box, "a normal message")
    assert box.wordWrapMode() == QTextOption.WrapMode.WordWrap
    QGuiApplication.clipboard().setText("x" * 300_000)
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert box.wordWrapMode() == QTextOption.WrapMode.WrapAnywhere
    qtbot.keyClicks(box, "yz")
    assert box.toPlainText() == "a normal message" + "x" * 300_000 + "yz"
    box.selectAll()
    qtbot.keyClick(box, Qt.Key.Key_Delete)
    qtbot.keyClicks(box, "short again")
    assert box.wordWrapMode() == QTextOption.WrapMode.WordWrap
    box.setPlainText("line\n" + "y" * 300_000)  # an edited message brought back
    assert box.wordWrapMode() == QTextOption.WrapMode.WrapAnywhere
