"""Driving the chat page as a user does: type and send, read the message bar, click a link
in the chat view."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from pytestqt.qtbot import QtBot


def type_and_send(qtbot: QtBot, window: object, text: str) -> None:
    box = window.message_input  # type: ignore[attr-defined]
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def bar_text(bar: object) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in bar.findChildren(QLabel))  # type: ignore[attr-defined]


def click_link(window: object, url: str) -> None:
    window.chat_view.anchorClicked.emit(QUrl(url))  # type: ignore[attr-defined]
