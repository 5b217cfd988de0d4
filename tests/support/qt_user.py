"""What a user's hands do, for pytest-qt tests: drag files in, click a link in rich text,
answer a dialog, pick a menu item."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMenu,
    QMessageBox,
    QTextBrowser,
    QWidget,
)
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


def when_shown(
    find: Callable[[], QWidget | None], act: Callable[[QWidget], None], tries: int = 250
) -> None:
    """Run `act` on the widget `find` returns as soon as it is up: for a modal dialog or a
    popup menu, whose own event loop blocks the code that opened it."""

    def poll(left: int) -> None:
        widget = find()
        if widget is not None and widget.isVisible():
            act(widget)
        elif left > 0:
            QTimer.singleShot(20, lambda: poll(left - 1))

    QTimer.singleShot(0, lambda: poll(tries))


def answer_message_box(qtbot: QtBot, button_text: str, seen: list[str] | None = None) -> None:
    """Click the button labelled `button_text` of the next QMessageBox; its text and
    informative text go to `seen`."""

    def click(widget: QWidget) -> None:
        assert isinstance(widget, QMessageBox), widget
        if seen is not None:
            seen.append(f"{widget.text()}\n{widget.informativeText()}")
        button = next(b for b in widget.buttons() if b.text() == button_text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    when_shown(QApplication.activeModalWidget, click)


def choose_menu_item(qtbot: QtBot, text: str, then: Callable[[], None] | None = None) -> None:
    """Pick the item `text` of the next popup menu with the keyboard; `then` runs first, for
    what the item opens (a dialog)."""

    def pick(widget: QWidget) -> None:
        assert isinstance(widget, QMenu), widget
        action = next(a for a in widget.actions() if a.text() == text)
        if then is not None:
            then()
        widget.setActiveAction(action)
        qtbot.keyClick(widget, Qt.Key.Key_Return)

    when_shown(QApplication.activePopupWidget, pick)


def answer_file_dialog(monkeypatch: pytest.MonkeyPatch, function: str, path: str | Path) -> None:
    """From now on (until set again) QFileDialog.`function` ("getOpenFileName",
    "getSaveFileName") answers `path` at once, as if the user had picked it, instead of
    showing a modal dialog."""
    monkeypatch.setattr(QFileDialog, function, staticmethod(lambda *_a, **_k: (str(path), "")))
