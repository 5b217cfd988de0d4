"""What a user's hands do, for pytest-qt tests: drag files in, click a link in rich text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextCursor
from PySide6.QtWidgets import QTextBrowser
from pytestqt.qtbot import QtBot

_KEEP: list[QMimeData] = []  # the events hold a raw pointer: keep their data alive


def file_drag(
    paths: Sequence[str | Path], at: QPoint | None = None
) -> tuple[QDragEnterEvent, QDropEvent]:
    """The drag-enter and drop events a file manager's drag of `paths` delivers."""
    mime = QMimeData()
    _KEEP.append(mime)
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = at or QPoint(10, 10)
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    return (
        QDragEnterEvent(point, action, mime, button, none),
        QDropEvent(QPointF(point), action, mime, button, none),
    )


def click_link(qtbot: QtBot, browser: QTextBrowser, label: str) -> None:
    """Click the anchor whose text contains `label`, with the mouse, where it is drawn."""
    document = browser.document()
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().isAnchor() and label in fragment.text():
                cursor = QTextCursor(document)
                cursor.setPosition(fragment.position() + 1)
                point = browser.cursorRect(cursor).center()
                qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=point)
                return
            it += 1
        block = block.next()
    raise AssertionError(f"no link {label!r}")
