"""The whole window with every page, as `hearth gui` builds it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.gui.documents.controller import DocumentsController
from tests.support.app_parts import AppParts
from tests.support.page_waits import wait_read
from tests.support.qt_user import file_drag

MakeApp = Callable[..., AppParts]


def test_every_page_is_there_and_a_file_dropped_on_chat_opens_in_documents(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, tmp_path: Path
) -> None:
    window, _controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4, pages=True)
    tabs = [window.pages.tabText(i) for i in range(window.pages.count())]
    assert tabs == ["Chat", "Documents", "Translate", "Models", "Performance"]
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentIndex() == 2  # Ctrl+3: Translate

    notes = tmp_path / "notes.txt"
    notes.write_text("Paragraph one about kettles.\n\nParagraph two about teapots.\n", "utf-8")
    _enter, drop = file_drag([notes])
    documents = window.findChild(DocumentsController)
    assert documents is not None
    window.dropEvent(drop)
    wait_read(qtbot, documents.page, [notes])
    assert drop.isAccepted()
    assert window.pages.currentWidget() is documents.page
