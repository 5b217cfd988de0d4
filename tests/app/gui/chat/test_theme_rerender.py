"""A theme chosen in the Settings dialog (Ctrl+,) recolours the messages already on screen at
once (issue 15): code blocks were rendered with the old palette's colours until the chat was
opened again. The real window: the view stays where the user was reading, and a reply being
streamed keeps its text and goes on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox
from pytestqt.qtbot import QtBot

from app.config.settings import Settings
from app.gui.appearance import Appearance, is_dark
from app.gui.settings_dialog import SettingsPresenter
from storage.records import Role
from tests.support.app_parts import MakeApp
from tests.support.factories import make_message
from ui.chat.view import ChatView
from ui.main_window import MainWindow

CODE = "```python\ndef area(r):\n    return 3 * r * r\n```"
# Pygments' keyword colour in the light ("default") and the dark ("monokai") code style.
LIGHT_KEYWORD, DARK_KEYWORD = "#008000", "#66d9ef"
REPLY_ID = 10_000


@pytest.fixture(autouse=True)
def restore_appearance(qapp: QApplication) -> Iterator[None]:
    """The theme is the whole application's: later tests get the desktop's back."""
    appearance = Appearance(qapp)
    yield
    appearance.apply(Settings(theme="light"))
    appearance.apply(Settings())


def keyword_colours(view: ChatView) -> Counter[str]:
    """How many `def`/`return` keywords the document shows in each colour."""
    colours: Counter[str] = Counter()
    block = view.document().begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.text() in ("def", "return"):
                colours[fragment.charFormat().foreground().color().name()] += 1
            fragments += 1
        block = block.next()
    return colours


def top_line(view: ChatView) -> str:
    return view.cursorForPosition(view.viewport().rect().topLeft()).block().text()


def choose_theme(qtbot: QtBot, window: MainWindow, theme: str) -> None:
    """Ctrl+, then the Theme box, as the user does."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.message_input, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    presenter = window.findChild(SettingsPresenter)
    assert presenter is not None
    box: QComboBox = presenter.dialog.theme_box
    qtbot.waitUntil(box.isVisible)
    index = box.findData(theme)
    box.setCurrentIndex(index)
    box.activated.emit(index)
    presenter.dialog.close()


def test_a_theme_change_recolours_the_shown_messages_and_the_streaming_reply_at_once(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, qapp: QApplication
) -> None:
    window, _controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    window.resize(1100, 750)
    view = window.chat_view
    messages = [
        make_message(i, Role.USER, f"question {i}")
        if i % 2
        else make_message(i, Role.ASSISTANT, f"answer {i}\n\n{CODE}")
        for i in range(1, 41)
    ]
    view.set_messages(messages)
    view.begin_reply(REPLY_ID)
    view.append_delta(f"Here it is:\n\n{CODE}\n\nAnd now the")
    assert view.scroll_to_message(21)  # the user reads in the middle of the chat
    reading = top_line(view)
    value = view.verticalScrollBar().value()
    shown_keywords = 2 * (20 + 1)  # each answer's code and the reply's
    assert keyword_colours(view) == {LIGHT_KEYWORD: shown_keywords}

    choose_theme(qtbot, window, "dark")
    assert is_dark(qapp.palette())
    # Qt posts the palette change to each widget: the next turn of the event loop.
    qtbot.waitUntil(lambda: keyword_colours(view) == {DARK_KEYWORD: shown_keywords})
    qtbot.waitUntil(lambda: top_line(view) == reading)  # still reading the same place
    assert abs(view.verticalScrollBar().value() - value) <= 2
    assert not view.follows_end()
    assert view.reply_text() == f"Here it is:\n\n{CODE}\n\nAnd now the"

    # The reply goes on and ends in the new colours; light again recolours everything back.
    view.append_delta(f" end.\n\n{CODE}\n\n")
    final = make_message(REPLY_ID, Role.ASSISTANT, view.reply_text())
    view.finish_reply(final)
    assert "And now the end." in view.message_text(REPLY_ID)
    assert keyword_colours(view) == {DARK_KEYWORD: shown_keywords + 2}
    choose_theme(qtbot, window, "light")
    qtbot.waitUntil(lambda: keyword_colours(view) == {LIGHT_KEYWORD: shown_keywords + 2})
    assert view.message_text(REPLY_ID).count("def area(r):") == 2
